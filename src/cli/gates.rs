//! Arguments of `shipdeck gates` (issue 6).

use clap::Args;

#[derive(Debug, Args)]
pub struct GatesArgs {
    pub app: String,
    #[arg(long)]
    pub env: String,
    /// Commit to check instead of the one the env's tag names.
    #[arg(long)]
    pub sha: Option<String>,
}
