//! Arguments of `shipdeck backups` (issue 21).

use clap::Args;

/// Exit status of `shipdeck backups`, shown in its `--help`.
pub const BACKUPS_EXIT: &str = "\
Exit status: 0 when every env's newest backup is younger than backups.max_age, 1 when one is
stale (too old, or no backup at all), 2 for bad input (no `backups:` in the inventory, a key
variable that is not set), 4 when the store cannot be read for an env (and none is stale).";

#[derive(Debug, Args)]
#[command(after_help = BACKUPS_EXIT)]
pub struct BackupsArgs {}
