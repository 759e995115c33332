//! A local Feishu open platform on 127.0.0.1: tenant tokens, `contact/v3/users/batch_get_id`,
//! chat members list/add/remove, and custom bot webhooks that verify signatures.
//!
//! It enforces the documented limits so clients are tested against them: per-API requests per
//! second (429 + `x-ogw-ratelimit-reset`, body code 99991400), ≤ 50 ids per call, 232019 when
//! two adds to one chat overlap, and 11232 when a bot gets more than 5 messages a second or
//! 100 a minute. Every webhook message is recorded (accepted or not) for tests and the demo.

mod routes;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

/// A Feishu user of the sandbox tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeishuUser {
    pub open_id: String,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

impl FeishuUser {
    /// A user whose open_id is derived from `key` ([`open_id_for`]).
    pub fn new(key: &str, name: &str, email: Option<&str>, mobile: Option<&str>) -> Self {
        FeishuUser {
            open_id: open_id_for(key),
            name: name.to_owned(),
            email: email.map(str::to_owned),
            mobile: mobile.map(str::to_owned),
        }
    }
}

/// A stable, realistic-looking open_id for a key (`ou_` + 32 hex).
pub fn open_id_for(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::from("ou_");
    for b in digest.iter().take(16) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A group chat with a custom bot.
#[derive(Debug, Clone)]
pub struct ChatSeed {
    /// Name used by [`FeishuSandbox::webhook_url`] and in recorded messages.
    pub name: String,
    pub chat_id: String,
    /// The token in the webhook URL.
    pub webhook_token: String,
    /// Signing secret; `None`: the bot does not check signatures.
    pub secret: Option<String>,
    /// open_ids of the members at start.
    pub members: Vec<String>,
}

/// How the sandbox starts.
#[derive(Debug, Clone)]
pub struct FeishuSandboxOpts {
    pub app_id: String,
    pub app_secret: String,
    pub users: Vec<FeishuUser>,
    pub chats: Vec<ChatSeed>,
    /// Lifetime of tenant tokens (Feishu: 2 h).
    pub token_ttl: Duration,
    /// Requests per second per API before 429 (Feishu documents 50/s for these APIs).
    pub api_per_second: u32,
    /// Every n-th API request answers 503 (server trouble), when set.
    pub fail_every: Option<u32>,
    /// Bot limits (Feishu: 5/s and 100/min).
    pub bot_per_second: u32,
    pub bot_per_minute: u32,
    /// How long an add call holds its chat; an add arriving meanwhile gets 232019.
    pub add_hold: Duration,
}

impl Default for FeishuSandboxOpts {
    fn default() -> Self {
        FeishuSandboxOpts {
            app_id: "cli_sandbox".to_owned(),
            app_secret: "sandbox-app-secret".to_owned(),
            users: Vec::new(),
            chats: Vec::new(),
            token_ttl: Duration::from_secs(7200),
            api_per_second: 50,
            fail_every: None,
            bot_per_second: 5,
            bot_per_minute: 100,
            add_hold: Duration::from_millis(20),
        }
    }
}

/// The demo's env var names (the demo inventory names them; [`FeishuSandbox::demo_secret_file`]
/// holds their values).
pub const DEMO_ENV: [(&str, &str); 6] = [
    ("app_id", "SHIPDECK_DEMO_FEISHU_APP_ID"),
    ("app_secret", "SHIPDECK_DEMO_FEISHU_APP_SECRET"),
    ("releases_webhook", "SHIPDECK_DEMO_FEISHU_RELEASES_WEBHOOK"),
    ("releases_secret", "SHIPDECK_DEMO_FEISHU_RELEASES_SECRET"),
    ("platform_webhook", "SHIPDECK_DEMO_FEISHU_PLATFORM_WEBHOOK"),
    ("platform_secret", "SHIPDECK_DEMO_FEISHU_PLATFORM_SECRET"),
];

/// The demo's mapping file: carol's GitHub account has no verified-domain email, heidi left
/// the platform team but is still in the releases chat; dave stays unmatched on purpose.
pub const DEMO_MAPPING: &str = "\
# GitHub login -> Feishu identity (email, mobile or open_id). Used when the organisation's
# verified-domain email is missing or differs from the Feishu address.
carol: { email: carol.wang@corp.example.com }
heidi: { email: heidi@corp.example.com }
";

impl FeishuSandboxOpts {
    /// The demo tenant, consistent with `sandbox::github::OrgSeed::demo()` (org `example-org`).
    pub fn demo() -> Self {
        let u =
            |login: &str, name: &str, email: &str| FeishuUser::new(login, name, Some(email), None);
        let users = vec![
            u("alice", "Alice Liu", "alice@corp.example.com"),
            u("bob", "Bob Chen", "bob@corp.example.com"),
            u("carol", "Carol Wang", "carol.wang@corp.example.com"),
            u("erin", "Erin Sun", "erin@corp.example.com"),
            u("frank", "Frank Wu", "frank@corp.example.com"),
            u("grace", "Grace Ma (PM)", "grace@corp.example.com"),
            u("heidi", "Heidi Xu", "heidi@corp.example.com"),
        ];
        let id = open_id_for;
        FeishuSandboxOpts {
            app_id: "cli_demo_shipdeck".to_owned(),
            app_secret: "demo-app-secret".to_owned(),
            users,
            chats: vec![
                ChatSeed {
                    name: "releases".to_owned(),
                    chat_id: "oc_demo_releases".to_owned(),
                    webhook_token: "demo-releases-hook".to_owned(),
                    secret: Some("demo-releases-secret".to_owned()),
                    members: vec![id("alice"), id("grace"), id("heidi")],
                },
                ChatSeed {
                    name: "platform".to_owned(),
                    chat_id: "oc_demo_platform".to_owned(),
                    webhook_token: "demo-platform-hook".to_owned(),
                    secret: Some("demo-platform-secret".to_owned()),
                    members: vec![id("alice"), id("bob"), id("grace")],
                },
            ],
            ..FeishuSandboxOpts::default()
        }
    }
}

/// One message a bot webhook received.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedMessage {
    /// Chat name (from the webhook token).
    pub chat: String,
    pub at: Timestamp,
    /// Feishu's answer code (0 = accepted).
    pub code: i64,
    pub accepted: bool,
    pub msg_type: String,
    /// Card header title, or the text itself.
    pub title: String,
    /// Card header colour.
    pub template: Option<String>,
    /// All visible text of the message, flattened.
    pub text: String,
    pub body: Json,
}

/// What the sandbox has served.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FeishuStats {
    pub api_requests: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub tokens_issued: u64,
    pub batch_get_id_calls: u64,
    pub list_calls: u64,
    pub add_calls: u64,
    pub remove_calls: u64,
    /// Adds refused with 232019 because another add on the chat was running.
    pub concurrent_add_conflicts: u64,
    /// Successful add + remove calls per chat name.
    pub writes_per_chat: BTreeMap<String, u64>,
    pub bot_messages: u64,
    pub bot_rejected: u64,
}

pub(crate) struct Chat {
    pub seed: ChatSeed,
    pub members: Vec<String>,
    pub adding: bool,
    pub sent: VecDeque<Instant>,
}

pub(crate) struct State {
    pub opts: FeishuSandboxOpts,
    pub tokens: HashMap<String, Instant>,
    pub chats: Vec<Chat>,
    pub windows: HashMap<&'static str, (Instant, u32)>,
    pub stats: FeishuStats,
    pub messages: Vec<RecordedMessage>,
    pub counter: u64,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub events: broadcast::Sender<RecordedMessage>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running sandbox Feishu. Dropping it stops the server too.
pub struct FeishuSandbox {
    url: String,
    shared: Arc<Shared>,
    serving: super::Serving,
}

impl FeishuSandbox {
    /// Binds 127.0.0.1 on a free port and serves until [`shutdown`](Self::shutdown).
    pub async fn start(opts: FeishuSandboxOpts) -> std::io::Result<FeishuSandbox> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let chats = opts
            .chats
            .iter()
            .map(|c| Chat {
                seed: c.clone(),
                members: c.members.clone(),
                adding: false,
                sent: VecDeque::new(),
            })
            .collect();
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                opts,
                tokens: HashMap::new(),
                chats,
                windows: HashMap::new(),
                stats: FeishuStats::default(),
                messages: Vec::new(),
                counter: 0,
            }),
            events,
        });
        let app = routes::router(shared.clone());
        let serving = super::Serving::start(listener, app, "feishu");
        Ok(FeishuSandbox {
            url,
            shared,
            serving,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (the inventory's `feishu.api_url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The custom bot webhook URL of chat `chat` (by name), if there is such a chat.
    pub fn webhook_url(&self, chat: &str) -> Option<String> {
        let st = self.shared.lock();
        st.chats.iter().find(|c| c.seed.name == chat).map(|c| {
            format!(
                "{}/open-apis/bot/v2/hook/{}",
                self.url, c.seed.webhook_token
            )
        })
    }

    /// Every webhook message received so far (accepted or not), oldest first.
    pub fn messages(&self) -> Vec<RecordedMessage> {
        self.shared.lock().messages.clone()
    }

    /// New webhook messages as they arrive (for the demo's Activity panel).
    pub fn subscribe(&self) -> broadcast::Receiver<RecordedMessage> {
        self.shared.events.subscribe()
    }

    /// open_ids of a chat's members (by name or chat id), in join order.
    pub fn chat_members(&self, chat: &str) -> Vec<String> {
        let st = self.shared.lock();
        st.chats
            .iter()
            .find(|c| c.seed.name == chat || c.seed.chat_id == chat)
            .map(|c| c.members.clone())
            .unwrap_or_default()
    }

    pub fn stats(&self) -> FeishuStats {
        self.shared.lock().stats.clone()
    }

    /// Changes the per-API rate limit from now on (e.g. to start a 429 storm).
    pub fn set_api_per_second(&self, n: u32) {
        self.shared.lock().opts.api_per_second = n;
    }

    /// The demo's credentials file (`NAME=value` lines for [`DEMO_ENV`]); the demo inventory
    /// points `feishu.secret_file` at it, so nothing goes through process env vars.
    pub fn demo_secret_file(&self) -> String {
        let st = self.shared.lock();
        let chat = |name: &str| st.chats.iter().find(|c| c.seed.name == name);
        let hook = |name: &str| {
            chat(name).map_or_else(String::new, |c| {
                format!(
                    "{}/open-apis/bot/v2/hook/{}",
                    self.url, c.seed.webhook_token
                )
            })
        };
        let secret = |name: &str| {
            chat(name)
                .and_then(|c| c.seed.secret.clone())
                .unwrap_or_default()
        };
        let values = [
            st.opts.app_id.clone(),
            st.opts.app_secret.clone(),
            hook("releases"),
            secret("releases"),
            hook("platform"),
            secret("platform"),
        ];
        let mut out = String::from("# shipdeck demo: Feishu sandbox credentials (not real ones)\n");
        for ((_, var), v) in DEMO_ENV.iter().zip(values) {
            let _ = writeln!(out, "{var}={v}");
        }
        out
    }

    /// The demo inventory's `feishu:` section, for files written into `dir` by
    /// [`write_demo_files`](Self::write_demo_files).
    pub fn demo_inventory_section(&self) -> String {
        format!(
            "feishu:
  api_url: {url}
  app_id_env: {0}
  app_secret_env: {1}
  secret_file: feishu-secrets.env
  chats:
    releases:
      webhook_env: {2}
      secret_env: {3}
      chat_id: oc_demo_releases
    platform:
      webhook_env: {4}
      secret_env: {5}
      chat_id: oc_demo_platform
      events: [release_failed, rollback, abort, auto_abort, degraded, sync_failed, gate_override, secret_rotation]
  sync:
    org: example-org
    membership: ALL
    mapping_file: feishu-members.yaml
    teams:
      release-managers: [releases]
      platform: [platform]
    prune: true
    protected: [{grace}]
",
            DEMO_ENV[0].1,
            DEMO_ENV[1].1,
            DEMO_ENV[2].1,
            DEMO_ENV[3].1,
            DEMO_ENV[4].1,
            DEMO_ENV[5].1,
            url = self.url,
            grace = open_id_for("grace"),
        )
    }

    /// Writes `feishu-secrets.env` (mode 0600) and `feishu-members.yaml` into `dir`.
    pub fn write_demo_files(&self, dir: &Path) -> std::io::Result<()> {
        let secrets = dir.join("feishu-secrets.env");
        std::fs::write(&secrets, self.demo_secret_file())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::write(dir.join("feishu-members.yaml"), DEMO_MAPPING)
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}
