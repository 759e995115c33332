//! What the sync is told: the chats, the teams feeding each, the mapping file, the protected
//! list and whether to prune, read from the inventory.

use std::collections::BTreeMap;
use std::path::Path;

use secrecy::SecretString;

use crate::inventory::{FeishuConfig, GithubConfig, Membership};
use crate::services::feishu::api::RetryPolicy;
use crate::services::feishu::mapping::Mapping;
use crate::services::feishu::{Credentials, FeishuError, Result};

/// One chat the sync manages.
#[derive(Debug, Clone)]
pub struct SyncChat {
    pub name: String,
    pub chat_id: String,
    /// Team slugs whose members belong in the chat.
    pub teams: Vec<String>,
}

/// Everything the sync needs, resolved (credentials included).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub feishu_api: String,
    pub app_id: SecretString,
    pub app_secret: SecretString,
    pub github_api: String,
    pub github_token: Option<SecretString>,
    pub org: String,
    pub membership: Membership,
    pub mapping: Mapping,
    pub verified_domain_emails: bool,
    pub chats: Vec<SyncChat>,
    pub prune: bool,
    pub protected: Vec<String>,
    pub retry: RetryPolicy,
}

impl SyncSettings {
    /// From the inventory's `feishu:` (and `github:`) sections; a mapping file is relative to
    /// `base_dir`, the inventory's folder. `github_token` is resolved by the caller
    /// (`services::github::resolve_token` at the edge).
    pub fn from_config(
        cfg: &FeishuConfig,
        github: Option<&GithubConfig>,
        base_dir: &Path,
        creds: &Credentials,
        github_token: Option<SecretString>,
    ) -> Result<Self> {
        let sync = cfg.sync.as_ref().ok_or_else(|| {
            FeishuError::NotConfigured("no `feishu.sync:` section (teams → chats)".to_owned())
        })?;
        let org = sync
            .org
            .clone()
            .or_else(|| github.map(|g| g.owner.clone()))
            .ok_or_else(|| {
                FeishuError::NotConfigured(
                    "feishu.sync.org (or github.owner) names the GitHub organisation".to_owned(),
                )
            })?;
        let mut by_chat: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (team, chats) in &sync.teams {
            for c in chats {
                by_chat.entry(c.clone()).or_default().push(team.clone());
            }
        }
        if by_chat.is_empty() {
            return Err(FeishuError::NotConfigured(
                "feishu.sync.teams maps no team to a chat".to_owned(),
            ));
        }
        let mut chats = Vec::new();
        for (name, teams) in by_chat {
            let chat = cfg
                .chats
                .get(&name)
                .ok_or_else(|| FeishuError::UnknownChat(name.clone()))?;
            let chat_id = chat.chat_id.clone().ok_or_else(|| {
                FeishuError::NotConfigured(format!("feishu.chats.{name} has no chat_id"))
            })?;
            chats.push(SyncChat {
                name,
                chat_id,
                teams,
            });
        }
        let mapping = match &sync.mapping_file {
            Some(f) => Mapping::load(&resolve(base_dir, f))?,
            None => Mapping::default(),
        };
        Ok(SyncSettings {
            feishu_api: cfg
                .api_url
                .clone()
                .unwrap_or_else(|| "https://open.feishu.cn".to_owned()),
            app_id: creds.require(cfg.app_id_env.as_deref(), "Feishu app id")?,
            app_secret: creds.require(cfg.app_secret_env.as_deref(), "Feishu app secret")?,
            github_api: github
                .and_then(|g| g.api_url.clone())
                .unwrap_or_else(|| "https://api.github.com".to_owned()),
            github_token,
            org,
            membership: sync.membership,
            mapping,
            verified_domain_emails: sync.verified_domain_emails,
            chats,
            prune: sync.prune,
            protected: sync.protected.clone(),
            retry: RetryPolicy {
                deadline: cfg.timeout_secs.map_or(
                    RetryPolicy::default().deadline,
                    std::time::Duration::from_secs,
                ),
                ..RetryPolicy::default()
            },
        })
    }
}

pub(super) fn resolve(base: &Path, f: &str) -> std::path::PathBuf {
    let p = Path::new(f);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
