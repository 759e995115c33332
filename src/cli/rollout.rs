//! Arguments of `shipdeck rollout …` (issue 5).

use clap::{Args, Subcommand};

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
}
