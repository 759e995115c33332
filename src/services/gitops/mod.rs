//! The GitOps engine: which image tag each app × environment runs according to git, who set it
//! and when, and release / promote / rollback as single-line commits pushed without force.
//!
//! Everything here is plain sync code (git2, filesystem): the UI runs it in `spawn_blocking`.
//! The working clone is a bare repository per remote under the data dir; edits never check
//! out files: one blob is rewritten and the trees along its path rebuilt on top of the fetched
//! commit, which keeps an action fast on repositories with thousands of files.

// "GitOps" is the field's name, not an identifier to put in backticks.
#![allow(clippy::doc_markdown)]

mod auth;
mod edit;
mod engine;
mod error;
mod history;
mod message;
mod repo;
mod tag;

pub use edit::{TagSpot, read_tag, set_tag};
pub use engine::{GitopsEngine, Preview, Trace};
pub use error::{ErrorKind, GitopsError, Result};
pub use tag::{needs_quotes, validate_tag};

use serde::Serialize;

/// The three kinds of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Release,
    Promote,
    Rollback,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Release => "release",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A commit as the panels show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    /// Full hex id.
    pub sha: String,
    /// First 7 characters, for display.
    pub short: String,
    pub author: String,
    pub author_email: String,
    /// RFC 3339 UTC author time.
    pub time: String,
    /// Seconds since the epoch (for "3h ago" rendering).
    pub unix: i64,
    pub subject: String,
}

/// What git says one app × environment runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvTag {
    pub app: String,
    pub env: String,
    /// Path of the file in the GitOps repo.
    pub file: String,
    /// The tag (or `sha256:` digest); `None` when the file or entry is missing, see `problem`.
    pub tag: Option<String>,
    /// The commit that last changed the tag (`None` if it never changed in the history).
    pub changed: Option<CommitInfo>,
    /// Why `tag` is missing, in words naming the file.
    pub problem: Option<String>,
}

/// One change of an environment's tag (newest first in a history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagChange {
    pub tag: String,
    /// The tag before this commit (`None` when the entry first appeared).
    pub previous: Option<String>,
    pub commit: CommitInfo,
    /// The `Shipdeck-Action` trailer (`release`, `promote`, `rollback`) when shipdeck made it.
    pub action: Option<String>,
}

/// A tag the release picker can offer, with where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownTag {
    pub tag: String,
    /// Environments running it now.
    pub current_in: Vec<String>,
    /// Newest time it was set anywhere (RFC 3339), for sorting.
    pub last_seen: String,
    pub last_seen_unix: i64,
    /// Oldest time it was set anywhere: builds reach git in the order they were made, so a tag
    /// that first appeared before another is the older build (a downgrade warning).
    pub first_seen_unix: i64,
    /// Environments where a rollback took this tag out.
    pub rolled_back_in: Vec<String>,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub action: Action,
    pub app: String,
    /// The environment whose tag changes.
    pub env: String,
    /// New tag. `None`: rollback → previous distinct tag; promote → the source env's tag.
    pub tag: Option<String>,
    /// Promote only: the source env (default: the target's `promote_from`).
    pub source_env: Option<String>,
    /// The tag the user saw in `env` when deciding; if git has moved on since, the change stops
    /// with a conflict instead of overwriting. `None`: whatever is there at the first attempt.
    pub expected_from: Option<String>,
    pub actor: String,
    /// Gate summary for the commit trailer, when the caller checked them.
    pub gates: Option<String>,
    /// Why (override reason, incident link).
    pub reason: Option<String>,
    /// What a promote brings (`12 commits, 5 PRs`), for the commit trailer, when GitHub said.
    pub changes: Option<String>,
    /// The failed analysis an automatic rollback answers (`run: metric = value`).
    pub analysis: Option<String>,
}

impl ChangeRequest {
    /// A request with only the essentials filled; the actor is the local one (`ops` sets the
    /// resolved actor).
    pub fn new(action: Action, app: &str, env: &str, tag: Option<&str>) -> Self {
        ChangeRequest {
            action,
            app: app.to_owned(),
            env: env.to_owned(),
            tag: tag.map(str::to_owned),
            source_env: None,
            expected_from: None,
            actor: crate::ops::Actor::local(None).name,
            gates: None,
            reason: None,
            changes: None,
            analysis: None,
        }
    }
}

/// What happened (also the headless `--output json` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeOutcome {
    pub action: Action,
    pub app: String,
    pub env: String,
    pub from: Option<String>,
    pub to: String,
    /// The new commit on the remote (`None` when the env was already at the tag).
    pub commit: Option<String>,
    pub pushed: bool,
    /// Push attempts (0 when nothing needed pushing).
    pub attempts: u32,
    pub duration_ms: u64,
    /// A one-line result for the Activity panel.
    pub message: String,
}

/// The folder of the working clone a GitOps remote uses (`GITOPS_REPO_DIR`, else under the
/// data dir), whether or not it exists yet. `remote_url` is the inventory's, relative paths
/// already resolved (`Inventory::gitops_url`).
pub fn working_dir(remote_url: &str, paths: &crate::paths::Paths) -> std::path::PathBuf {
    std::env::var_os("GITOPS_REPO_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || repo::clone_dir_for(&paths.data_dir, remote_url),
            std::path::PathBuf::from,
        )
}
