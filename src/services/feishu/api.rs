//! The Feishu open platform API the member sync needs: tenant token, batch_get_id, chat
//! members list/add/remove. Every call honours rate limits (`429` / `99991400` with
//! `x-ogw-ratelimit-reset`) and backs off exponentially with jitter on 5xx.

use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value as Json, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{FeishuError, Result, check_url, encode_query, http_client};
use crate::services::retry::Backoff;

/// Feishu's "too many requests" body code.
const RATE_LIMITED: i64 = 99_991_400;
/// Token invalid or expired codes: fetch a new token and try once more.
const TOKEN_CODES: [i64; 4] = [99_991_661, 99_991_663, 99_991_664, 99_991_671];

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call (rate-limit waits and 5xx both count).
    pub max_attempts: u32,
    /// First 5xx backoff; doubles per attempt with jitter, up to `cap`.
    pub base: Duration,
    pub cap: Duration,
    /// A rate limit whose reset is further away than this is reported, not waited out.
    pub max_rate_wait: Duration,
    /// The token is refreshed when it has less than this left (the SDKs use 3 minutes).
    pub refresh_margin: Duration,
    /// The most one call may take, its retries and waits included.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_rate_wait: Duration::from_secs(120),
            refresh_margin: Duration::from_secs(180),
            deadline: Duration::from_secs(30),
        }
    }
}

/// What an add call reported about ids it could not add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddOutcome {
    pub invalid: Vec<String>,
    pub not_existed: Vec<String>,
    pub pending_approval: Vec<String>,
}

struct Token {
    value: SecretString,
    expires: Instant,
}

/// Counters of what this client did (tests, summaries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiStats {
    pub requests: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub tokens: u64,
}

/// An app's client for the open platform. Share it behind an `Arc`.
pub struct FeishuApi {
    http: reqwest::Client,
    base: String,
    app_id: SecretString,
    app_secret: SecretString,
    policy: RetryPolicy,
    token: Mutex<Option<Token>>,
    stats: std::sync::Mutex<ApiStats>,
}

impl std::fmt::Debug for FeishuApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeishuApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A chat member as the list call shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMember {
    pub open_id: String,
    pub name: Option<String>,
}

impl FeishuApi {
    /// `base` is the open platform root (`https://open.feishu.cn`, or the sandbox's URL).
    pub fn new(
        base: &str,
        app_id: SecretString,
        app_secret: SecretString,
        policy: RetryPolicy,
    ) -> Result<Self> {
        Ok(FeishuApi {
            http: http_client()?,
            base: check_url(base)?,
            app_id,
            app_secret,
            policy,
            token: Mutex::new(None),
            stats: std::sync::Mutex::new(ApiStats::default()),
        })
    }

    pub fn stats(&self) -> ApiStats {
        *self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn count(&self, f: impl FnOnce(&mut ApiStats)) {
        f(&mut self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// A valid tenant access token, fetched again when less than `refresh_margin` is left.
    async fn token(&self) -> Result<SecretString> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref()
            && Instant::now() + self.policy.refresh_margin < t.expires
        {
            return Ok(t.value.clone());
        }
        let body = json!({
            "app_id": self.app_id.expose_secret(),
            "app_secret": self.app_secret.expose_secret(),
        });
        let out = self
            .send(
                Method::POST,
                "/open-apis/auth/v3/tenant_access_token/internal",
                Some(&body),
                None,
            )
            .await?;
        let value = out
            .get("tenant_access_token")
            .and_then(Json::as_str)
            .ok_or_else(|| FeishuError::Payload {
                url: "tenant_access_token".to_owned(),
                message: "no tenant_access_token in the answer".to_owned(),
            })?;
        let ttl = out.get("expire").and_then(Json::as_u64).unwrap_or(7200);
        let value = SecretString::from(value.to_owned());
        *slot = Some(Token {
            value: value.clone(),
            expires: Instant::now() + Duration::from_secs(ttl),
        });
        self.count(|s| s.tokens += 1);
        Ok(value)
    }

    /// An authorised call; returns the whole answer (its `data` for most APIs).
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Json>,
    ) -> Result<Json> {
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            match self
                .send(method.clone(), path_and_query, body, Some(&token))
                .await
            {
                Err(FeishuError::Api { code, .. }) if TOKEN_CODES.contains(&code) && !refreshed => {
                    refreshed = true;
                    *self.token.lock().await = None;
                }
                other => return other,
            }
        }
    }

    /// One request with the retry rules; `Ok` only for `code == 0`.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Json>,
        token: Option<&SecretString>,
    ) -> Result<Json> {
        let url = format!("{}{path_and_query}", self.base);
        let shown = path_and_query
            .split('?')
            .next()
            .unwrap_or(path_and_query)
            .to_owned();
        let mut attempt = 0;
        let started = Instant::now();
        let deadline = started + self.policy.deadline;
        let out_of_time = |last: Option<String>| FeishuError::Deadline {
            url: shown.clone(),
            secs: self.policy.deadline.as_secs(),
            last,
        };
        loop {
            attempt += 1;
            self.count(|s| s.requests += 1);
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("Content-Type", "application/json; charset=utf-8");
            if let Some(t) = token {
                req = req.bearer_auth(t.expose_secret());
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let Ok(sent) = tokio::time::timeout_at(deadline, req.send()).await else {
                return Err(out_of_time(None));
            };
            let wait = match sent {
                Err(e) => {
                    if attempt >= self.policy.max_attempts {
                        return Err(FeishuError::Transport {
                            url: shown,
                            source: e,
                        });
                    }
                    self.server_backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let reset = resp
                        .headers()
                        .get("x-ogw-ratelimit-reset")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let Ok(text) = tokio::time::timeout_at(deadline, resp.text()).await else {
                        return Err(out_of_time(Some(format!("HTTP {status}, body unfinished"))));
                    };
                    let text = text.unwrap_or_default();
                    let parsed: Option<Json> = serde_json::from_str(&text).ok();
                    let code = parsed
                        .as_ref()
                        .and_then(|j| j.get("code"))
                        .and_then(Json::as_i64);
                    if status == 429 || code == Some(RATE_LIMITED) {
                        self.count(|s| s.rate_limited += 1);
                        let wait = reset.map_or_else(
                            || self.server_backoff(attempt),
                            |s| Duration::from_secs(s) + jitter(Duration::from_millis(100)),
                        );
                        if attempt >= self.policy.max_attempts || wait > self.policy.max_rate_wait {
                            return Err(FeishuError::RateLimited {
                                url: shown,
                                attempts: attempt,
                            });
                        }
                        tracing::debug!(url = %shown, wait_ms = wait.as_millis(), "feishu rate limited");
                        wait
                    } else if status >= 500 {
                        self.count(|s| s.server_errors += 1);
                        if attempt >= self.policy.max_attempts {
                            return Err(FeishuError::Http {
                                status,
                                url: shown,
                                body: text.chars().take(200).collect(),
                            });
                        }
                        self.server_backoff(attempt)
                    } else {
                        return match (parsed, code) {
                            (Some(j), Some(0)) => Ok(j),
                            (Some(j), Some(code)) => Err(FeishuError::Api {
                                code,
                                url: shown,
                                msg: j
                                    .get("msg")
                                    .and_then(Json::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                            }),
                            _ => Err(FeishuError::Http {
                                status,
                                url: shown,
                                body: text.chars().take(200).collect(),
                            }),
                        };
                    }
                }
            };
            // Retrying past the deadline would only fail later: say so now.
            if Instant::now() + wait >= deadline {
                return Err(out_of_time(Some(format!("attempt {attempt} failed"))));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn server_backoff(&self, attempt: u32) -> Duration {
        Backoff::new(self.policy.base, self.policy.cap).delay(attempt)
    }

    /// Emails and mobiles (≤ 50 each) → open_id; `None` where Feishu knows no such user
    /// (outside the app's contact scope, an alias address, resigned).
    pub async fn batch_get_id(
        &self,
        emails: &[String],
        mobiles: &[String],
    ) -> Result<Vec<(String, Option<String>)>> {
        let body = json!({ "emails": emails, "mobiles": mobiles, "include_resigned": false });
        let out = self
            .call(
                Method::POST,
                "/open-apis/contact/v3/users/batch_get_id?user_id_type=open_id",
                Some(&body),
            )
            .await?;
        let list = out
            .pointer("/data/user_list")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(list
            .iter()
            .filter_map(|u| {
                let key = u
                    .get("email")
                    .or_else(|| u.get("mobile"))
                    .and_then(Json::as_str)?;
                let id = u
                    .get("user_id")
                    .and_then(Json::as_str)
                    .filter(|s| !s.is_empty());
                Some((key.to_owned(), id.map(str::to_owned)))
            })
            .collect())
    }

    /// Every (non-bot) member of a chat, page by page.
    pub async fn list_members(&self, chat_id: &str) -> Result<Vec<ChatMember>> {
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut q = format!(
                "/open-apis/im/v1/chats/{}/members?member_id_type=open_id&page_size=100",
                encode_query(chat_id)
            );
            if let Some(t) = &page_token {
                q.push_str("&page_token=");
                q.push_str(&encode_query(t));
            }
            let page = self.call(Method::GET, &q, None).await?;
            let data = page.get("data").cloned().unwrap_or(Json::Null);
            for item in data
                .get("items")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = item.get("member_id").and_then(Json::as_str) {
                    out.push(ChatMember {
                        open_id: id.to_owned(),
                        name: item.get("name").and_then(Json::as_str).map(str::to_owned),
                    });
                }
            }
            let more = data
                .get("has_more")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            page_token = data
                .get("page_token")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            if !more || page_token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Adds ≤ 50 users. Callers must not run two adds on one chat at once (232019).
    pub async fn add_members(&self, chat_id: &str, open_ids: &[String]) -> Result<AddOutcome> {
        let q = format!(
            "/open-apis/im/v1/chats/{}/members?member_id_type=open_id&succeed_type=0",
            encode_query(chat_id)
        );
        let out = self
            .call(Method::POST, &q, Some(&json!({ "id_list": open_ids })))
            .await?;
        let list = |k: &str| -> Vec<String> {
            out.pointer(&format!("/data/{k}"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        Ok(AddOutcome {
            invalid: list("invalid_id_list"),
            not_existed: list("not_existed_id_list"),
            pending_approval: list("pending_approval_id_list"),
        })
    }

    /// Removes ≤ 50 users; returns the ids Feishu called invalid.
    pub async fn remove_members(&self, chat_id: &str, open_ids: &[String]) -> Result<Vec<String>> {
        let q = format!(
            "/open-apis/im/v1/chats/{}/members?member_id_type=open_id",
            encode_query(chat_id)
        );
        let out = self
            .call(Method::DELETE, &q, Some(&json!({ "id_list": open_ids })))
            .await?;
        Ok(out
            .pointer("/data/invalid_id_list")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }
}

fn jitter(max: Duration) -> Duration {
    max.mul_f64(rand::thread_rng().gen_range(0.0..1.0))
}
