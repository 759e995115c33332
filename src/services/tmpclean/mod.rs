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

pub use apply::{ApplyReport, Changed, Failed, apply};
pub use guard::resolve_root;
pub use plan::{
    Candidate, CleanMode, EntryKind, Identity, Kept, Plan, PlanOptions, PlannedDir, RuleTotal,
    Skipped, SortKey, TrashBatch, format_age, format_bytes, plan,
};

/// The folder inside the root that trash mode moves entries into; never walked by the plan.
pub const TRASH_DIR: &str = ".trash";

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
