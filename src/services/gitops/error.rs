//! The engine's error enum; `kind()` tells the caller which exit code or UI state it means.

use std::path::PathBuf;

/// Everything that can go wrong in the GitOps engine.
#[derive(Debug, thiserror::Error)]
pub enum GitopsError {
    #[error("invalid tag `{tag}`: {why}")]
    InvalidTag { tag: String, why: &'static str },
    #[error("{0}")]
    Inventory(#[from] crate::inventory::InventoryError),
    /// The file exists but has no place for the tag (missing image entry or key path).
    #[error("{file}: {what}")]
    NotFound { file: String, what: String },
    /// The file is not YAML this engine can edit safely.
    #[error("{file}: {what}")]
    Unparsable { file: String, what: String },
    /// A request that makes no sense (no previous tag, promote into itself, ...).
    #[error("{0}")]
    Bad(String),
    /// Someone else changed the environment between reading and pushing.
    #[error("{env} was changed by {by} at {at} to {to}; review and retry")]
    Conflict {
        env: String,
        by: String,
        at: String,
        to: String,
    },
    /// The remote kept moving: every attempt was rejected as non-fast-forward.
    #[error("the remote kept changing; gave up after {attempts} push attempts; retry")]
    Contended { attempts: u32 },
    /// The remote refused the push (hook, protection): its words, verbatim.
    #[error("the remote refused the push: {0}")]
    Refused(String),
    /// Fetch/push/auth failed talking to the remote.
    #[error("git remote {url_shown}: {message}", url_shown = crate::redact::url(url))]
    Remote { url: String, message: String },
    /// The remote did not let the fetch or push finish in the op's time.
    #[error(
        "the GitOps remote {url_shown} did not answer within {secs} s while {doing} (a retry \
         fetches first, so it cannot write twice)"
    , url_shown = crate::redact::url(url))]
    Deadline {
        url: String,
        secs: u64,
        doing: &'static str,
    },
    /// The clone's lock stayed taken for the op's whole time.
    #[error(
        "the working clone {path} stayed locked by another shipdeck operation{} for {secs} s; \
         it may still be waiting on the remote: retry when it ends",
        holder.map_or_else(String::new, |pid| format!(" (PID {pid})"))
    )]
    Busy {
        path: PathBuf,
        secs: u64,
        holder: Option<u32>,
    },
    #[error("writes are disabled (read_only in the inventory)")]
    ReadOnly,
    #[error("cancelled")]
    Cancelled,
    #[error("working clone {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// Results of the engine.
pub type Result<T, E = GitopsError> = std::result::Result<T, E>;

/// How a caller should treat an error (headless exit code, UI dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Exit 2: fix the input (tag, names, repo file shape).
    BadInput,
    /// Exit 3: someone else changed it; review and retry.
    Conflict,
    /// Exit 4: the remote failed or refused.
    Remote,
    /// Exit 5: writes disabled.
    Refused,
    /// Exit 1: a local failure.
    Failed,
}

impl GitopsError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            GitopsError::InvalidTag { .. }
            | GitopsError::Inventory(_)
            | GitopsError::NotFound { .. }
            | GitopsError::Unparsable { .. }
            | GitopsError::Bad(_) => ErrorKind::BadInput,
            GitopsError::Conflict { .. } | GitopsError::Contended { .. } => ErrorKind::Conflict,
            GitopsError::Refused(_)
            | GitopsError::Remote { .. }
            | GitopsError::Deadline { .. }
            | GitopsError::Busy { .. } => ErrorKind::Remote,
            GitopsError::ReadOnly => ErrorKind::Refused,
            GitopsError::Cancelled | GitopsError::Io { .. } | GitopsError::Git(_) => {
                ErrorKind::Failed
            }
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GitopsError::Io {
            path: path.into(),
            source,
        }
    }
}
