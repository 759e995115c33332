//! The inventory's `secrets:` section: where the SOPS files are and which age key opens them.
//! (The `.sops.yaml` creation rules are a different file, modelled in `services::secrets::config`.)

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
