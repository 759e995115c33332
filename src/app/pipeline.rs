//! What the cockpit holds of the seed's other checkpoints: each app × env's artifacts read
//! (for the tag git says it runs) and every env's newest backup. A read that failed says why
//! instead of showing an older answer as current (unreachable is not "missing").
//! (Migration Jobs are watched: they live in `State::live`, beside the rollouts.)

use std::collections::HashMap;

use crate::services::s3::{BackupRead, PrefixSummary};

/// How often the backups are read again (they change daily; a stale one is news for hours).
pub const BACKUPS_EVERY_MS: u64 = 5 * 60 * 1000;

/// The artifacts read of one app × env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactsEntry {
    /// The tag read for (the env's tag in git when asked).
    pub tag: String,
    /// `None`: the read is out.
    pub result: Option<Result<PrefixSummary, String>>,
}

/// The checkpoints' reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineView {
    /// The inventory has `artifacts:` / `backups:` / `migrations:`.
    pub artifacts_configured: bool,
    pub backups_configured: bool,
    pub migrations_configured: bool,
    /// Envs a tag enters only once its migration succeeded in `migrations_must_pass_in`.
    pub migrations_required_for: Vec<String>,
    pub migrations_must_pass_in: String,
    /// Apps whose migrations are watched (`None`: all).
    pub migration_apps: Option<Vec<String>>,
    /// Envs a tag enters only with its artifacts.
    pub artifacts_required_in: Vec<String>,
    pub artifacts: HashMap<(String, String), ArtifactsEntry>,
    /// `None`: not read yet; `Some(Err)`: the store could not be asked at all.
    pub backups: Option<Result<Vec<BackupRead>, String>>,
    /// Failed migration Jobs (`namespace/name`) → their last log lines (`None`: reading).
    pub migration_logs: HashMap<String, Option<Result<Vec<String>, String>>>,
}

impl PipelineView {
    pub fn from_inventory(inv: &crate::inventory::Inventory) -> Self {
        PipelineView {
            artifacts_configured: inv.artifacts.is_some(),
            backups_configured: inv.backups.is_some(),
            migrations_configured: inv.migrations.is_some(),
            migration_apps: inv.migrations.as_ref().and_then(|m| m.apps.clone()),
            migrations_required_for: inv
                .migrations
                .as_ref()
                .map(|m| m.required_for.clone())
                .unwrap_or_default(),
            migrations_must_pass_in: inv
                .migrations
                .as_ref()
                .map(|m| m.must_pass_in().to_owned())
                .unwrap_or_default(),
            artifacts_required_in: inv
                .artifacts
                .as_ref()
                .map(|a| a.required_in.clone())
                .unwrap_or_default(),
            ..PipelineView::default()
        }
    }

    /// Whether `app`'s migration Jobs are watched.
    pub fn migrates(&self, app: &str) -> bool {
        self.migrations_configured
            && self
                .migration_apps
                .as_ref()
                .is_none_or(|a| a.iter().any(|x| x == app))
    }

    pub fn artifacts_of(&self, app: &str, env: &str) -> Option<&ArtifactsEntry> {
        self.artifacts.get(&(app.to_owned(), env.to_owned()))
    }

    /// The env's backup read, if the backups were read and cover it.
    pub fn backup_of(&self, env: &str) -> Option<Result<&BackupRead, &str>> {
        match self.backups.as_ref()? {
            Ok(reads) => reads.iter().find(|b| b.env == env).map(Ok),
            Err(e) => Some(Err(e.as_str())),
        }
    }
}
