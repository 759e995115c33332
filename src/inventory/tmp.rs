//! The inventory's `tmp:` section: which folder `services::tmpclean` tidies, and by which rules.

use serde::Deserialize;

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
