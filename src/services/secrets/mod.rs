//! SOPS + age secrets (issue 7).

pub mod cipher;
pub mod config;
pub mod config_edit;
pub mod demo;
pub mod formats;
pub mod keys;
pub mod meta;
pub mod ops;
pub mod sopsfile;
pub mod tree;
pub mod yaml;

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

impl SecretsError {
    /// The file (or config) is malformed or tampered with: bad input, which retrying the
    /// same bytes cannot fix (exit 2).
    pub fn is_malformed(&self) -> bool {
        match self {
            SecretsError::InFile { source, .. } => source.is_malformed(),
            SecretsError::Config(_)
            | SecretsError::Unsupported(_)
            | SecretsError::Format(_)
            | SecretsError::MacMismatch => true,
            _ => false,
        }
    }
}

pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
