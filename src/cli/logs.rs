//! Arguments of `shipdeck logs APP --env E --canary|--stable` (issue 17).

use clap::Args;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose Rollout's pods to read.
    #[arg(long)]
    pub env: String,
    /// The canary's pods (the ReplicaSet of status.currentPodHash).
    #[arg(long, conflicts_with = "stable", required_unless_present = "stable")]
    pub canary: bool,
    /// The stable pods (the ReplicaSet of status.stableRS).
    #[arg(long)]
    pub stable: bool,
    /// Keep reading as lines come; a replaced pod's successor is followed too.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only the last N lines of each pod to start with.
    #[arg(long, value_name = "N")]
    pub tail: Option<i64>,
    /// The container, for pods with several.
    #[arg(long, short = 'c')]
    pub container: Option<String>,
}
