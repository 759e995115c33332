//! Arguments of `shipdeck tmp …` (issue 9).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct TmpArgs {
    #[command(subcommand)]
    pub command: TmpCommand,
}

#[derive(Debug, Subcommand)]
pub enum TmpCommand {
    /// Show what would be deleted.
    Plan,
    /// Delete what the plan lists.
    Clean {
        #[arg(long)]
        dry_run: bool,
    },
}
