//! GitHub team → Feishu chat member sync: [`MemberSync::plan`] reads everything and writes
//! nothing; [`MemberSync::apply`] performs a reviewed plan in batches of ≤ 50, one chat at a
//! time and one call at a time (concurrent adds to one chat fail with 232019).
//!
//! Who is removed: only members the sync *manages*, i.e. Feishu users it can tie to a GitHub
//! login (a mapping file entry, or a member of a synced team), who are no longer in any team
//! feeding the chat; never anyone on the protected list; and only with `prune` on. Everyone
//! else in the chat (people without GitHub, bots, guests) is left alone.

mod apply;
mod plan;
mod settings;

use std::path::Path;
use std::sync::Arc;

use crate::inventory::{FeishuConfig, GithubConfig};
use crate::services::TaskCtl;

use super::api::{ApiStats, FeishuApi};
use super::github::GithubTeams;
use super::{Credentials, FeishuError, Result};

pub use apply::{ChatResult, SyncSummary};
pub use plan::{ChatPlan, PlannedMember, SyncPlan, Unmatched};
pub use settings::{SyncChat, SyncSettings};

/// Feishu's per-call limit for batch_get_id and member add/remove.
pub const BATCH: usize = 50;

/// The member sync. Cheap to clone; one per inventory.
#[derive(Debug, Clone)]
pub struct MemberSync {
    settings: Arc<SyncSettings>,
    api: Arc<FeishuApi>,
    github: GithubTeams,
}

impl MemberSync {
    /// The sync the inventory's `feishu:` and `github:` sections describe (a mapping file
    /// resolved against `base_dir`, the inventory's folder), with the GitHub token found the
    /// usual way (`services::github::resolve_token`): what the cockpit and `feishu sync` both run.
    pub async fn from_config(
        cfg: &FeishuConfig,
        github: Option<&GithubConfig>,
        base_dir: &Path,
        creds: &Credentials,
    ) -> Result<Self> {
        let (token_env, api) = match github {
            Some(g) => (
                g.token_env.as_deref(),
                g.api_url.as_deref().unwrap_or("https://api.github.com"),
            ),
            None => (None, "https://api.github.com"),
        };
        let github_token = crate::services::github::resolve_token(token_env, api).await;
        Self::new(SyncSettings::from_config(
            cfg,
            github,
            base_dir,
            creds,
            github_token,
        )?)
    }

    pub fn new(settings: SyncSettings) -> Result<Self> {
        let api = FeishuApi::new(
            &settings.feishu_api,
            settings.app_id.clone(),
            settings.app_secret.clone(),
            settings.retry,
        )?;
        let github = GithubTeams::new(
            &settings.github_api,
            settings.github_token.clone(),
            &settings.org,
        )?;
        Ok(MemberSync {
            settings: Arc::new(settings),
            api: Arc::new(api),
            github,
        })
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    /// Requests, rate-limit waits and server errors seen so far.
    pub fn api_stats(&self) -> ApiStats {
        self.api.stats()
    }
}

fn chunk(list: &[String], i: usize) -> &[String] {
    let start = (i * BATCH).min(list.len());
    let end = ((i + 1) * BATCH).min(list.len());
    &list[start..end]
}

fn check(ctl: &TaskCtl) -> Result<()> {
    if ctl.is_cancelled() {
        Err(FeishuError::Cancelled)
    } else {
        Ok(())
    }
}
