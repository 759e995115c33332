//! Feishu (Lark): signed bot notifications for every release action, and the GitHub team →
//! Feishu chat member sync (dry-run plan, then apply).
//!
//! Credentials never live in the inventory: it names the environment variables (or a
//! `secret_file`) that hold them, and the edge resolves them into a [`Credentials`] lookup
//! that tests build explicitly.

use std::fmt::Write as _;
use std::path::Path;

use crate::inventory::FeishuConfig;

mod api;
mod card;
mod creds;
mod github;
mod mapping;
mod notifier;
mod sign;
mod sync;
mod webhook;

pub use api::{AddOutcome, ApiStats, ChatMember, FeishuApi, RetryPolicy};
pub use card::{CARD_CHANGE_LINES, CardChanges, Notification};
pub use creds::Credentials;
pub use github::{GithubTeams, TeamMember};
pub use mapping::{Mapping, MappingEntry};
pub use notifier::{
    Delivery, Notifier, NotifierPolicy, NotifyOutcome, WebhookTarget, targets_from_config,
};
pub use sign::sign;
pub use sync::{
    BATCH, ChatPlan, ChatResult, MemberSync, PlannedMember, SyncChat, SyncPlan, SyncSettings,
    SyncSummary, Unmatched,
};
pub use webhook::{Delivered, WebhookClient};

// Inventory words that are also this service's vocabulary: a notification's kind and the sync
// settings' membership. (The `feishu:` section itself is `crate::inventory::FeishuConfig`.)
pub use crate::inventory::{EventKind, Membership};

/// Errors talking to Feishu (and to GitHub for the member list).
#[derive(Debug, thiserror::Error)]
pub enum FeishuError {
    #[error("the inventory has no usable `feishu:` section: {0}")]
    NotConfigured(String),
    #[error("{what}: the environment variable `{var}` is not set (nor in feishu.secret_file)")]
    MissingCredential { var: String, what: String },
    #[error("unknown Feishu chat `{0}` (not in feishu.chats)")]
    UnknownChat(String),
    #[error("feishu.api_url `{0}` must start with http:// or https://")]
    BadUrl(String),
    #[error("{}: {message}", path.display())]
    File {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(
        "chat `{chat}`: Feishu rejected the webhook signature (19021): the secret does not match \
         the bot's, or this machine's clock is more than an hour off"
    )]
    Signature { chat: String },
    #[error("chat `{chat}`: the bot is rate limited by Feishu (11232): too many messages")]
    BotRateLimited { chat: String },
    #[error("chat `{chat}`: Feishu refused the message as a bad request (9499): {msg}")]
    BadRequest { chat: String, msg: String },
    #[error("Feishu answered code {code} for {url_shown}: {msg}", url_shown = crate::redact::url(url))]
    Api { code: i64, url: String, msg: String },
    #[error("Feishu answered HTTP {status} for {url_shown}: {body}", url_shown = crate::redact::url(url))]
    Http {
        status: u16,
        url: String,
        body: String,
    },
    #[error("Feishu kept rate limiting {url_shown} after {attempts} attempts", url_shown = crate::redact::url(url))]
    RateLimited { url: String, attempts: u32 },
    #[error("cannot reach {url_shown}: {source}", url_shown = crate::redact::url(url))]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the Feishu app API did not answer {url_shown} within {secs} s{}", last.as_ref().map_or_else(String::new, |l| format!(" ({l})")), url_shown = crate::redact::url(url))]
    Deadline {
        url: String,
        secs: u64,
        last: Option<String>,
    },
    #[error("unexpected answer from {url_shown}: {message}", url_shown = crate::redact::url(url))]
    Payload { url: String, message: String },
    #[error("GitHub: {0}")]
    Github(String),
    #[error("GitHub team `{team}` does not exist in organisation `{org}`")]
    UnknownTeam { team: String, org: String },
    #[error("cancelled")]
    Cancelled,
    /// The command's `--timeout` ran out between (or during) calls.
    #[error(
        "the command's --timeout of {secs} s ran out after {done} of {total} writes; what was \
         written stays (run the sync again: it plans from what the chats hold now)"
    )]
    OutOfTime { secs: u64, done: u64, total: u64 },
}

pub type Result<T, E = FeishuError> = std::result::Result<T, E>;

impl FeishuError {
    /// Whether the fault lies with the configuration or input (exit 2) rather than the far end.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            FeishuError::NotConfigured(_)
                | FeishuError::MissingCredential { .. }
                | FeishuError::UnknownChat(_)
                | FeishuError::BadUrl(_)
                | FeishuError::File { .. }
                | FeishuError::UnknownTeam { .. }
        )
    }
}

/// One shared HTTP client setup (rustls with ring, a timeout, our user agent).
pub(crate) fn http_client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("shipdeck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|source| FeishuError::Transport {
            url: "(client setup)".to_owned(),
            source,
        })
}

/// Percent-encodes a query value (page tokens are base64 and may hold `+/=`).
pub(crate) fn encode_query(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub(crate) fn check_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    if u.starts_with("http://") || u.starts_with("https://") {
        Ok(u.to_owned())
    } else {
        Err(FeishuError::BadUrl(url.to_owned()))
    }
}

/// The notifier the inventory's `feishu:` chats describe (a `secret_file` resolved against
/// `base_dir`, the inventory's folder), with its outcome channel; `None` without a usable chat.
/// Problems with single chats come back as text.
pub fn notifier_for(
    cfg: &FeishuConfig,
    base_dir: &Path,
) -> (
    Option<(
        Notifier,
        tokio::sync::mpsc::UnboundedReceiver<NotifyOutcome>,
    )>,
    Vec<String>,
) {
    let creds = match Credentials::from_env(cfg, base_dir) {
        Ok(c) => c,
        Err(e) => return (None, vec![e.to_string()]),
    };
    let (targets, errors) = targets_from_config(cfg, &creds);
    let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if targets.is_empty() {
        return (None, problems);
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    match Notifier::start(targets, tx, NotifierPolicy::default()) {
        Ok(n) => (Some((n, rx)), problems),
        Err(e) => (None, vec![e.to_string()]),
    }
}
