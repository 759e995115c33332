//! Arguments of `shipdeck events APP --env E` (issue 17 item 4, headless).

use clap::Args;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose Rollout, ReplicaSets, Pods, AnalysisRuns and Argo CD Application
    /// the events are about.
    #[arg(long)]
    pub env: String,
}
