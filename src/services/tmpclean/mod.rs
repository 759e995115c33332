//! Tidy `tmp/` by pattern and age (issue 9). Not built yet.

use serde::Deserialize;

/// The inventory's `tmp` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpConfig {
    /// The folder to tidy, relative to the inventory file.
    pub root: String,
    /// Files no rule matches are kept this many days.
    #[serde(default)]
    pub default_keep_days: Option<u32>,
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<TmpRule>,
    /// Glob patterns that are never deleted.
    #[serde(default)]
    pub never_delete: Vec<String>,
}

/// One retention rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpRule {
    pub pattern: String,
    #[serde(default)]
    pub keep_days: Option<u32>,
    #[serde(default)]
    pub keep_latest: Option<u32>,
}
