//! Arguments of `shipdeck rollout …` (issue 5).

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose Rollout to act on.
    #[arg(long)]
    pub env: String,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Show the rollout as `kubectl argo rollouts get rollout` would.
    Get {
        #[command(flatten)]
        target: Target,
        /// Keep printing on every change (with --output json: one JSON object per line).
        #[arg(long, short = 'w')]
        watch: bool,
    },
    /// Resume a paused canary to its next step (as `kubectl argo rollouts promote`).
    Promote(Target),
    /// Skip the remaining steps and analysis: the canary becomes stable now.
    PromoteFull(Target),
    /// Abort the canary: traffic back on stable (git still names the new tag).
    Abort(Target),
    /// Start an aborted canary's steps over.
    Retry(Target),
    /// Pause the rollout where it is.
    Pause(Target),
    /// Restart every pod of the rollout (sets spec.restartAt).
    Restart(Target),
    /// Wait (by watch) until the rollout reaches a state: exit 0 when it does, 1 when it ends
    /// in another terminal state (Healthy or Degraded), 124 when --timeout (default 10m) passes.
    Wait {
        #[command(flatten)]
        target: Target,
        /// The state to wait for.
        #[arg(long, value_enum)]
        until: WaitFor,
    },
}

/// What `rollout wait` waits for (the status as `kubectl argo rollouts get rollout` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitFor {
    /// Status Healthy.
    Healthy,
    /// Status Paused (a pause step, a person's pause, inconclusive analysis).
    Paused,
    /// Status Degraded (aborted, failed, or past its progress deadline).
    Degraded,
    /// The canary is the stable revision (fully promoted), the spec observed.
    Promoted,
}
