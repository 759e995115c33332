//! SOPS + age secrets (issue 7).

pub mod cipher;
pub mod config;
pub mod demo;
pub mod formats;
pub mod keys;
pub mod meta;
pub mod ops;
pub mod sopsfile;
pub mod tree;
pub mod yaml;

use serde::Deserialize;

/// The inventory's `secrets` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// Folders (relative to the inventory file) that hold SOPS-encrypted files.
    #[serde(default)]
    pub paths: Vec<String>,
    /// A data key older than this many days is shown as stale.
    #[serde(default = "default_rotation_days")]
    pub rotation_days: u32,
    /// An age identity file (relative to the inventory file), tried with the usual
    /// `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE` and `~/.config/sops/age/keys.txt`.
    #[serde(default)]
    pub age_key_file: Option<String>,
}

fn default_rotation_days() -> u32 {
    90
}

/// Everything that can go wrong with secrets. Messages name files, paths and lines, never values.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error(
        "MAC mismatch: the file's content does not match its MAC (edited outside sops, or tampered with)"
    )]
    MacMismatch,
    #[error(
        "cannot decrypt the value at `{0}`: authentication failed (tampered ciphertext or wrong key)"
    )]
    Authentication(String),
    #[error("none of the age identities can decrypt this file's data key (recipients: {0})")]
    NoIdentity(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    InFile {
        path: std::path::PathBuf,
        source: Box<SecretsError>,
    },
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
