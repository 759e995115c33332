//! Tidy `tmp/` by pattern and age (issue 9).
//!
//! Two steps, so people see what would go before anything goes:
//! - [`plan`] walks the root (never following symlinks, never leaving its filesystem unless
//!   allowed) and lists the candidates with their size, age and the rule that matched;
//! - [`apply`] deletes (or moves to the trash) only the planned entries that are unchanged since
//!   planning, then removes the folders it emptied, and writes an audit journal entry.
//!
//! A root that could hurt (`/`, the home folder or one of its ancestors, a system folder, a path
//! whose `..` escapes the inventory's folder, a symlink) is refused before anything is read.

mod apply;
pub mod demo;
mod guard;
mod plan;
mod rules;
mod walk;

use std::path::PathBuf;

use serde::Deserialize;

pub use apply::{ApplyReport, Changed, Failed, apply};
pub use guard::resolve_root;
pub use plan::{
    Candidate, CleanMode, EntryKind, Identity, Kept, Plan, PlanOptions, PlannedDir, RuleTotal,
    Skipped, SortKey, TrashBatch, format_age, format_bytes, plan, plan_at,
};

/// The folder inside the root that trash mode moves entries into; never walked by the plan.
pub const TRASH_DIR: &str = ".trash";

/// The inventory's `tmp` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpConfig {
    /// The folder to tidy, relative to the inventory file.
    pub root: String,
    /// Files no rule matches are kept this many days; without it they are always kept.
    #[serde(default)]
    pub default_keep_days: Option<u32>,
    /// Rules, first match wins. A pattern without `/` matches the file name anywhere below
    /// the root; with `/` it matches the path relative to the root (`*` never crosses `/`,
    /// `**` does).
    #[serde(default)]
    pub rules: Vec<TmpRule>,
    /// Glob patterns that are never deleted (files, or whole folders when a folder matches).
    #[serde(default)]
    pub never_delete: Vec<String>,
    /// Move entries into `<root>/.trash/<UTC timestamp>/` instead of deleting them.
    #[serde(default)]
    pub trash: Option<TrashConfig>,
    /// Walk into folders mounted from other filesystems (default: stay on the root's).
    #[serde(default)]
    pub cross_filesystems: bool,
}

/// One retention rule. It needs `keep_days`, `keep_latest`, or both:
/// - `keep_days` only: entries older than that many days go;
/// - `keep_latest` only: the N newest matching entries stay whatever their age, the rest go;
/// - both: the N newest stay, and so does anything younger than `keep_days`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpRule {
    pub pattern: String,
    #[serde(default)]
    pub keep_days: Option<u32>,
    #[serde(default)]
    pub keep_latest: Option<u32>,
}

/// Trash mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrashConfig {
    /// Trash batches older than this many days are deleted for good by the next clean.
    #[serde(default = "default_purge_days")]
    pub purge_after_days: u32,
}

impl Default for TrashConfig {
    fn default() -> Self {
        TrashConfig {
            purge_after_days: default_purge_days(),
        }
    }
}

fn default_purge_days() -> u32 {
    7
}

/// What can go wrong while planning or applying a cleanup.
#[derive(Debug, thiserror::Error)]
pub enum TmpError {
    #[error("the inventory has no `tmp:` section; add one with at least `root:`")]
    NotConfigured,
    #[error("refusing to tidy {path}: {why}")]
    DangerousRoot { path: PathBuf, why: String },
    #[error("tmp root {0} does not exist")]
    RootMissing(PathBuf),
    #[error("tmp root {0} is not a folder")]
    RootNotDir(PathBuf),
    #[error("bad glob `{pattern}` in tmp.{place}: {source}")]
    Pattern {
        pattern: String,
        place: &'static str,
        #[source]
        source: globset::Error,
    },
    #[error(
        "tmp rule `{0}` has neither keep_days nor keep_latest; give it one (or put the pattern in never_delete)"
    )]
    RuleWithoutRetention(String),
    #[error("tmp root {0} was replaced since planning (different folder at that path); plan again")]
    RootChanged(PathBuf),
    #[error("{path}: {why}; nothing was moved")]
    TrashUnsafe { path: PathBuf, why: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

/// Result of the tmp cleanup service.
pub type Result<T> = std::result::Result<T, TmpError>;
