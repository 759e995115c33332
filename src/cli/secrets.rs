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
    List {
        /// Files or folders (default: the inventory's secret paths).
        files: Vec<PathBuf>,
    },
    /// Set one value (read from a hidden prompt, or stdin with --value-stdin).
    Set {
        /// The SOPS file to change.
        file: PathBuf,
        /// `stringData.DB_PASSWORD`, or sops's `["stringData"]["DB_PASSWORD"]`.
        key_path: String,
        /// Read the value from stdin (one trailing newline is dropped).
        #[arg(long)]
        value_stdin: bool,
    },
    /// New data keys for these files (like `sops rotate -i`).
    Rotate {
        /// Files or folders (default: every file under the inventory's secret paths).
        files: Vec<PathBuf>,
    },
    /// Give one more age recipient access (same data key, like `sops updatekeys`).
    ///
    /// The recipient is also added to the `.sops.yaml` creation rule that matches each file,
    /// so a later `sops updatekeys` keeps it; the report says when that could not be done.
    AddRecipient {
        /// `age1…`
        recipient: String,
        /// Files or folders (default: every file under the inventory's secret paths).
        files: Vec<PathBuf>,
    },
    /// Take an age recipient's access away and rotate the data keys.
    ///
    /// The recipient is also taken out of the `.sops.yaml` creation rule that matches each
    /// file, so a later `sops updatekeys` does not give it back.
    RemoveRecipient {
        /// `age1…`
        recipient: String,
        /// Files or folders (default: every file under the inventory's secret paths).
        files: Vec<PathBuf>,
        /// Only drop the recipient (does NOT revoke: old copies still open with its key).
        #[arg(long)]
        no_rotate: bool,
        /// Remove it even when it is the last recipient whose identity you hold.
        #[arg(long)]
        force: bool,
    },
    /// Apply the recipients of `.sops.yaml` creation rules to the files.
    Updatekeys {
        /// Files or folders (default: every file under the inventory's secret paths).
        files: Vec<PathBuf>,
        /// Also rotate the data key of files that lose a recipient.
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write the identity here (mode 0600) instead of stdout, as `age-keygen -o` does.
    #[arg(
        short = 'o',
        long = "out",
        value_name = "FILE",
        conflicts_with = "file"
    )]
    pub out: Option<PathBuf>,
    /// Same as `--out FILE`.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}
