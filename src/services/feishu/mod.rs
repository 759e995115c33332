//! Feishu (Lark) notifications and member sync (issue 8). Not built yet.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The inventory's `feishu` section. Credentials are never here: only the names of the
/// environment variables that hold them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// Base URL of the open platform API (`https://open.feishu.cn`).
    #[serde(default)]
    pub api_url: Option<String>,
    /// Env var holding the app id (member sync).
    #[serde(default)]
    pub app_id_env: Option<String>,
    /// Env var holding the app secret (member sync).
    #[serde(default)]
    pub app_secret_env: Option<String>,
    /// Chats by name.
    #[serde(default)]
    pub chats: BTreeMap<String, FeishuChat>,
}

/// One chat: a custom bot webhook (notifications) and/or a chat id (member sync).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuChat {
    #[serde(default)]
    pub webhook_env: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    pub chat_id: Option<String>,
}
