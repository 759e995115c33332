//! Arguments of `shipdeck rollout …` (issue 5).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Debug, Clone, Args)]
pub struct Target {
    pub app: String,
    #[arg(long)]
    pub env: String,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Show the rollout as `kubectl argo rollouts get rollout` would.
    Get {
        #[command(flatten)]
        target: Target,
        #[arg(long, short = 'w')]
        watch: bool,
    },
    Promote(Target),
    PromoteFull(Target),
    Abort(Target),
    Retry(Target),
    Pause(Target),
    Restart(Target),
}
