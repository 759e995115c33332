//! The inventory's `feishu:` section: the chats notifications go to, the credentials' env var
//! names and the GitHub team → chat member sync. `services::feishu` reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The inventory's `feishu` section. Credentials are never here: only the names of the
/// environment variables that hold them (or a `secret_file` holding `NAME=value` lines).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// Base URL of the open platform API (`https://open.feishu.cn`, or
    /// `https://open.larksuite.com` for Lark).
    #[serde(default)]
    pub api_url: Option<String>,
    /// Env var holding the app id (member sync).
    #[serde(default)]
    pub app_id_env: Option<String>,
    /// Env var holding the app secret (member sync).
    #[serde(default)]
    pub app_secret_env: Option<String>,
    /// Optional file of `NAME=value` lines (dotenv style, `#` comments) consulted for any
    /// credential whose env var is not set. Relative to the inventory's folder. Keep it out of
    /// git and mode 0600.
    #[serde(default)]
    pub secret_file: Option<String>,
    /// Chats by name.
    #[serde(default)]
    pub chats: BTreeMap<String, FeishuChat>,
    /// GitHub team → chat member sync.
    #[serde(default)]
    pub sync: Option<SyncConfig>,
    /// The most one call to the Feishu app API may take, its retries included. Seconds;
    /// default 30.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// How long `feishu notify` waits for a bot webhook to take its message, retries
    /// included. Seconds; default 20.
    #[serde(default)]
    pub webhook_timeout_secs: Option<u64>,
}

/// One chat: a custom bot webhook (notifications) and/or a chat id (member sync).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuChat {
    /// Env var holding the custom bot's webhook URL (it embeds the bot's token).
    #[serde(default)]
    pub webhook_env: Option<String>,
    /// Env var holding the bot's signing secret ("signature verification" on the bot).
    #[serde(default)]
    pub secret_env: Option<String>,
    /// `oc_…` id of the chat, for member sync (the app's bot must be in the chat).
    #[serde(default)]
    pub chat_id: Option<String>,
    /// Which events this chat is told about (default: all of them).
    #[serde(default)]
    pub events: Option<Vec<EventKind>>,
}

impl FeishuChat {
    /// Whether a notification of `kind` goes to this chat.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.as_ref().is_none_or(|e| e.contains(&kind))
    }
}

/// What happened. Chats can subscribe to a subset (`feishu.chats.<name>.events`); the card
/// each kind becomes (header colour, wording) is drawn in `services::feishu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ReleaseStarted,
    ReleaseSucceeded,
    ReleaseFailed,
    Promote,
    Rollback,
    Abort,
    GateOverride,
    SecretRotation,
    /// An age recipient was given access to SOPS files.
    RecipientAdded,
    /// An age recipient was taken out of SOPS files (their data keys rotated).
    RecipientRemoved,
    /// A plain text message (`shipdeck feishu notify`).
    Text,
    /// The cluster's own news: a canary aborted by its analysis.
    AutoAbort,
    /// A rollout went Degraded (not by an analysis abort, which is `auto_abort`).
    Degraded,
    /// An analysis run of the revision on screen failed or was inconclusive.
    AnalysisFailed,
    /// Canary pods crash-looping.
    CrashLoop,
    /// An Argo CD sync failed.
    SyncFailed,
    /// Someone refreshed, synced or stopped an Argo CD Application from shipdeck.
    Argocd,
}

/// `TeamMembershipType` of GitHub's GraphQL API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Membership {
    /// Only the team's own members.
    #[default]
    #[serde(alias = "immediate")]
    Immediate,
    /// The team's members and those of its child teams (GitHub's default).
    #[serde(alias = "all")]
    All,
}

impl Membership {
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::Immediate => "IMMEDIATE",
            Membership::All => "ALL",
        }
    }
}

/// `feishu.sync`: which GitHub teams feed which chats, and how members are matched.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// GitHub organisation login (default: `github.owner`).
    #[serde(default)]
    pub org: Option<String>,
    /// `IMMEDIATE` (default) or `ALL` (child teams' members too).
    #[serde(default)]
    pub membership: Membership,
    /// YAML file: GitHub login → `{email | mobile | open_id}`. Relative to the inventory.
    #[serde(default)]
    pub mapping_file: Option<String>,
    /// Also match through emails on the org's verified domains (default true). Public
    /// profile emails are never used: anyone can type any address there.
    #[serde(default = "yes")]
    pub verified_domain_emails: bool,
    /// Team slug → chat names (keys of `feishu.chats`).
    #[serde(default)]
    pub teams: BTreeMap<String, Vec<String>>,
    /// Remove chat members the sync manages who are no longer in a mapped team (default off:
    /// the plan lists them as stale).
    #[serde(default)]
    pub prune: bool,
    /// Never removed: Feishu open_ids (`ou_…`) or GitHub logins.
    #[serde(default)]
    pub protected: Vec<String>,
}

fn yes() -> bool {
    true
}
