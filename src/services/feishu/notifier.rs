//! The notifier: the UI or a headless command hands it an event and goes on. One worker task
//! per chat sends in order, paced under the bot limit (5/s), retries with backoff, and reports
//! every outcome on a channel, so a notification never blocks or fails the action itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::card::Notification;
use super::webhook::WebhookClient;
use super::{Credentials, FeishuError, Result};
use crate::inventory::{EventKind, FeishuConfig};
use crate::services::retry::Backoff;

/// Where one chat's bot lives.
#[derive(Clone)]
pub struct WebhookTarget {
    pub chat: String,
    pub url: SecretString,
    pub secret: Option<SecretString>,
    /// `None`: every event.
    pub events: Option<Vec<EventKind>>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("chat", &self.chat)
            .field("signed", &self.secret.is_some())
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// Whether this chat is told about events of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.as_ref().is_none_or(|e| e.contains(&kind))
    }
}

/// The chats that have a webhook, with their URL and secret resolved. Chats whose variables
/// are missing come back as errors (show them once; the other chats still work).
pub fn targets_from_config(
    cfg: &FeishuConfig,
    creds: &Credentials,
) -> (Vec<WebhookTarget>, Vec<FeishuError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for (name, chat) in &cfg.chats {
        let Some(url_env) = chat.webhook_env.as_deref() else {
            continue;
        };
        let url = match creds.require(Some(url_env), &format!("chat `{name}` webhook URL")) {
            Ok(u) => u,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let secret = match chat.secret_env.as_deref() {
            None => None,
            Some(var) => match creds.require(Some(var), &format!("chat `{name}` bot secret")) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            },
        };
        targets.push(WebhookTarget {
            chat: name.clone(),
            url,
            secret,
            events: chat.events.clone(),
        });
    }
    (targets, errors)
}

/// What became of one notification in one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    Delivered,
    /// Failed this attempt; the next one follows after `after_ms`.
    Retrying {
        error: String,
        after_ms: u64,
    },
    /// Given up (a permanent error such as a bad signature, or attempts exhausted).
    Failed {
        error: String,
    },
}

/// One report on the outcome channel (for the Activity panel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyOutcome {
    /// The id [`Notifier::notify`] returned.
    pub id: u64,
    pub chat: String,
    pub title: String,
    /// 1-based.
    pub attempt: u32,
    pub delivery: Delivery,
}

impl NotifyOutcome {
    /// The end result in one line for an activity log (`Feishu ✔ title → chat`), and whether
    /// it failed; `None` while the notifier is still retrying (only the end result is news).
    pub fn activity_line(&self) -> Option<(String, bool)> {
        match &self.delivery {
            Delivery::Delivered => {
                Some((format!("Feishu ✔ {} → {}", self.title, self.chat), false))
            }
            Delivery::Retrying { .. } => None,
            Delivery::Failed { error } => Some((
                format!("Feishu ✘ {} → {}: {error}", self.title, self.chat),
                true,
            )),
        }
    }
}

/// Retry and pacing of the notifier.
#[derive(Debug, Clone, Copy)]
pub struct NotifierPolicy {
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter, up to `cap`.
    pub base: Duration,
    pub cap: Duration,
    /// Minimum spacing between two sends to one bot (Feishu allows 5/s and 100/min).
    pub spacing: Duration,
}

impl Default for NotifierPolicy {
    fn default() -> Self {
        NotifierPolicy {
            max_attempts: 6,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            spacing: Duration::from_millis(250),
        }
    }
}

struct Job {
    id: u64,
    body: serde_json::Value,
    title: String,
}

/// Hands events to per-chat workers. Create it inside a tokio runtime.
pub struct Notifier {
    queues: BTreeMap<String, (mpsc::UnboundedSender<Job>, Option<Vec<EventKind>>)>,
    workers: Vec<JoinHandle<()>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("chats", &self.queues.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// Starts one worker per target; outcomes go to `outcomes` (a closed receiver is fine).
    /// Taking the sender by value means the outcome channel closes once the notifier and its
    /// workers are gone, which is how [`close`](Self::close) callers know everything is in.
    #[allow(clippy::needless_pass_by_value)]
    pub fn start(
        targets: Vec<WebhookTarget>,
        outcomes: mpsc::UnboundedSender<NotifyOutcome>,
        policy: NotifierPolicy,
    ) -> Result<Self> {
        let client = WebhookClient::new()?;
        let mut queues = BTreeMap::new();
        let mut workers = Vec::new();
        for t in targets {
            let (tx, rx) = mpsc::unbounded_channel();
            let events = t.events.clone();
            queues.insert(t.chat.clone(), (tx, events));
            workers.push(tokio::spawn(worker(
                t,
                rx,
                client.clone(),
                outcomes.clone(),
                policy,
            )));
        }
        Ok(Notifier {
            queues,
            workers,
            next_id: AtomicU64::new(1),
        })
    }

    /// The chats an event of `kind` goes to.
    pub fn chats_for(&self, kind: EventKind) -> Vec<String> {
        self.queues
            .iter()
            .filter(|(_, (_, ev))| ev.as_ref().is_none_or(|e| e.contains(&kind)))
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// Queues `n` for every chat that wants its kind and returns at once: its id (outcomes
    /// carry it) and the chats it was queued for (empty: nobody listens).
    pub fn notify(&self, n: &Notification) -> (u64, Vec<String>) {
        self.send_where(n, |_, ev| ev.as_ref().is_none_or(|e| e.contains(&n.kind)))
    }

    /// Queues `n` for one chat regardless of its event filter.
    pub fn notify_chat(&self, chat: &str, n: &Notification) -> Result<u64> {
        if !self.queues.contains_key(chat) {
            return Err(FeishuError::UnknownChat(chat.to_owned()));
        }
        Ok(self.send_where(n, |c, _| c == chat).0)
    }

    fn send_where(
        &self,
        n: &Notification,
        pick: impl Fn(&str, &Option<Vec<EventKind>>) -> bool,
    ) -> (u64, Vec<String>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = n.body();
        let title = n.title();
        let mut chats = Vec::new();
        for (chat, (tx, ev)) in &self.queues {
            if pick(chat, ev)
                && tx
                    .send(Job {
                        id,
                        body: body.clone(),
                        title: title.clone(),
                    })
                    .is_ok()
            {
                chats.push(chat.clone());
            }
        }
        (id, chats)
    }

    /// Stops taking events and waits (at most `timeout`) for the queued ones to be sent or
    /// given up; what is still trying then is stopped, so nothing outlives the caller's
    /// deadline. Headless commands call this before exiting.
    pub async fn close(self, timeout: Duration) {
        drop(self.queues);
        let stop: Vec<_> = self
            .workers
            .iter()
            .map(tokio::task::JoinHandle::abort_handle)
            .collect();
        let all = futures::future::join_all(self.workers);
        if tokio::time::timeout(timeout, all).await.is_err() {
            for s in stop {
                s.abort();
            }
        }
    }
}

async fn worker(
    target: WebhookTarget,
    mut rx: mpsc::UnboundedReceiver<Job>,
    client: WebhookClient,
    outcomes: mpsc::UnboundedSender<NotifyOutcome>,
    policy: NotifierPolicy,
) {
    let mut last_send: Option<tokio::time::Instant> = None;
    while let Some(job) = rx.recv().await {
        let mut attempt = 1;
        loop {
            if let Some(last) = last_send {
                tokio::time::sleep_until(last + policy.spacing).await;
            }
            last_send = Some(tokio::time::Instant::now());
            let now = jiff::Timestamp::now().as_second();
            let result = client
                .send(
                    &target.chat,
                    &target.url,
                    target.secret.as_ref(),
                    &job.body,
                    now,
                )
                .await;
            let report = |delivery| NotifyOutcome {
                id: job.id,
                chat: target.chat.clone(),
                title: job.title.clone(),
                attempt,
                delivery,
            };
            match result {
                Ok(_) => {
                    let _ = outcomes.send(report(Delivery::Delivered));
                    break;
                }
                Err(e) if retryable(&e) && attempt < policy.max_attempts => {
                    let wait = Backoff::new(policy.base, policy.cap).delay(attempt);
                    tracing::info!(chat = %target.chat, attempt, error = %e, "feishu notification retry");
                    let _ = outcomes.send(report(Delivery::Retrying {
                        error: e.to_string(),
                        after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    }));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::warn!(chat = %target.chat, attempt, error = %e, "feishu notification failed");
                    let error = if may_have_landed(&e) {
                        format!(
                            "{e} (the request may have reached Feishu: not sent again, so the \
                             message cannot appear twice)"
                        )
                    } else {
                        e.to_string()
                    };
                    let _ = outcomes.send(report(Delivery::Failed { error }));
                    break;
                }
            }
        }
    }
}

/// A wrong secret or a malformed body will not get better by trying again. A webhook has
/// no idempotency key, so a request that may have reached Feishu (the connection broke or
/// went silent after it was sent) is not sent again: a lost answer must not post twice.
fn retryable(e: &FeishuError) -> bool {
    match e {
        FeishuError::Signature { .. } | FeishuError::BadRequest { .. } => false,
        FeishuError::Http { status, .. } => *status == 429 || *status >= 500,
        FeishuError::Transport { source, .. } => source.is_connect(),
        _ => true,
    }
}

/// The request was sent, and what became of it is unknown.
fn may_have_landed(e: &FeishuError) -> bool {
    matches!(e, FeishuError::Transport { source, .. } if !source.is_connect())
}
