//! Arguments of `shipdeck tmp …` (issue 9).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct TmpArgs {
    #[command(subcommand)]
    pub command: TmpCommand,
}

#[derive(Debug, Subcommand)]
pub enum TmpCommand {
    /// Show what would be deleted: size, age, the rule that matched, per-rule totals.
    Plan,
    /// Delete (or move to the trash) what the plan lists, after confirmation (`--yes`).
    Clean {
        /// Plan and print only; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}
