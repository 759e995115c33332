//! Arguments of `shipdeck gates` (issue 6).

use clap::Args;

/// Exit status of `shipdeck gates`, shown in its `--help`.
pub const GATES_EXIT: &str = "\
Exit status: 0 when every required gate passed (or was neutral/skipped), 5 when not
(failed, running or missing), 2 for bad input (unknown app/env, tag that names no commit,
no `github:` in the inventory), 4 when GitHub cannot be read (unreachable, unknown commit,
rate limited for longer than a minute).";

#[derive(Debug, Args)]
#[command(after_help = GATES_EXIT)]
pub struct GatesArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose gates to show (the checks it requires).
    #[arg(long)]
    pub env: String,
    /// Commit to check (full or short SHA) instead of the one the env's tag names.
    #[arg(long, conflicts_with = "tag")]
    pub sha: Option<String>,
    /// Image tag to check (mapped to its commit: a SHA tag, or the inventory's `tag_sha_regex`).
    #[arg(long)]
    pub tag: Option<String>,
}
