//! SOPS + age secrets (issue 7). Not built yet.

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
}

fn default_rotation_days() -> u32 {
    90
}
