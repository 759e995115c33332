//! Arguments of `shipdeck secrets …` and `shipdeck keygen` (issue 7).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Every secret file with its recipients and age.
    List,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write the identity here (mode 0600) instead of stdout.
    #[arg(short = 'o', long = "out")]
    pub output: Option<PathBuf>,
}
