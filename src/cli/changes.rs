//! Arguments of `shipdeck changes` (issue 16): what one environment's tag would bring to another.

use clap::{ArgGroup, Args};

/// Exit status of `shipdeck changes`, shown in its `--help`.
pub const CHANGES_EXIT: &str = "\
Exit status: 0 when the changes are listed (a downgrade too), 2 for bad input (unknown app
or env, a tag that names no commit, no `github:` in the inventory), 4 when GitHub or the
GitOps remote cannot be read (unreachable, an error answer, rate limited: the reset is named).";

#[derive(Debug, Args)]
#[command(
    after_help = CHANGES_EXIT,
    group(ArgGroup::new("envs").required(true).multiple(true).args(["from", "to"]))
)]
pub struct ChangesArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment promoted into: the base of the comparison (e.g. prod). Default: the
    /// environment whose `promote_from` is --to.
    #[arg(long, value_name = "ENV")]
    pub from: Option<String>,
    /// The environment whose tag would go there: the head of the comparison (e.g. stg).
    /// Default: the `promote_from` of --from.
    #[arg(long, value_name = "ENV")]
    pub to: Option<String>,
}
