//! One function per write. The cockpit's effects and the headless commands both call these and
//! hold no rules of their own: each op refuses when writes are off (the `--read-only` flag or
//! the inventory's `read_only`), lets the far end refuse what RBAC forbids, acts, writes one
//! journal line with the real actor (a refusal too, with its reason), sends the chat card that
//! fits the outcome, and returns a typed report (`Display` for people, `Serialize` for JSON).

pub mod actor;
pub mod argocd;
mod changes;
pub mod detach;
pub mod feishu;
pub mod gitops;
pub mod pipeline;
pub mod rollout;
pub mod secrets;
pub mod tmp;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub use actor::Actor;

use crate::audit::{Entry, Journal};
use crate::inventory::Inventory;
use crate::paths::Paths;
use crate::services::TaskCtl;
use crate::services::feishu::{Notification, Notifier};
use crate::services::github::GatesService;

/// What kind of failure an op ended in; headless exit codes and the cockpit's task outcome
/// follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Arguments, inventory, a tag or a file that cannot work.
    BadInput,
    /// Someone else changed it meanwhile.
    Conflict,
    /// A far end failed or could not be reached.
    Remote,
    /// Refused by a rule: read-only, gates, "not paused", a confirmation not given.
    Refused,
    /// Refused by the far end's access control (RBAC).
    Forbidden,
    /// Stopped on request.
    Cancelled,
    /// Anything else.
    Failed,
}

/// Why an op did not do what was asked, in words for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OpError {
    pub fault: Fault,
    pub message: String,
    /// A gates refusal the environment lets a person override with a reason.
    pub overridable: bool,
}

impl OpError {
    /// The message is shown, journaled and sent to chats: URLs in it lose their credentials.
    pub fn new(fault: Fault, message: impl Into<String>) -> Self {
        OpError {
            fault,
            message: crate::redact::text(&message.into()),
            overridable: false,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Fault::BadInput, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Fault::Refused, message)
    }

    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(Fault::Remote, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Fault::Failed, message)
    }

    /// The journal's `result` for this failure.
    fn journal_result(&self) -> String {
        let word = match self.fault {
            Fault::Refused | Fault::Forbidden => "refused",
            Fault::Conflict => "conflict",
            Fault::Cancelled => "cancelled",
            Fault::BadInput | Fault::Remote | Fault::Failed => "error",
        };
        format!("{word}: {}", self.message)
    }
}

/// Everything an op needs from its caller: the inventory, folders, who acts, whether writes
/// are on, and the clients it may use. Built once by the cockpit and by each headless command.
#[derive(Clone)]
pub struct OpCtx {
    /// `None` only for secrets commands given explicit files and no inventory.
    inventory: Option<Arc<Inventory>>,
    pub paths: Paths,
    actor: Actor,
    /// The cluster's name for us, learnt the first time a cluster is asked.
    kube_user: Arc<OnceLock<String>>,
    /// A cluster did not answer in time this session: the journal's identity is not asked
    /// again (that would make a timed-out command wait once more).
    kube_silent: Arc<std::sync::atomic::AtomicBool>,
    /// Why writes are off; `None`: they are on.
    read_only: Option<String>,
    /// The command's `--timeout`: no op waits longer, whatever its far ends' own deadlines.
    timeout: Option<std::time::Duration>,
    notifier: Option<Arc<Notifier>>,
    gates: Option<GatesService>,
    gitops: Option<gitops::GitopsHandle>,
}

impl std::fmt::Debug for OpCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpCtx")
            .field("actor", &self.actor)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// Why writes are off, if they are: the `--read-only` flag, or the inventory's `read_only`.
pub fn read_only_reason(flag: bool, inv: Option<&Inventory>) -> Option<String> {
    if flag {
        Some("read-only: writes are disabled (--read-only)".to_owned())
    } else if inv.is_some_and(|i| i.read_only) {
        Some("read-only: writes are disabled (read_only: true in the inventory)".to_owned())
    } else {
        None
    }
}

impl OpCtx {
    /// A context on an inventory; the actor is resolved here, once.
    pub fn new(inventory: Arc<Inventory>, paths: Paths, read_only_flag: bool) -> OpCtx {
        let git_dir = crate::services::gitops::working_dir(&inventory.gitops_url(), &paths);
        let actor = Actor::local(Some(&git_dir));
        OpCtx {
            read_only: read_only_reason(read_only_flag, Some(&inventory)),
            gitops: Some(gitops::GitopsHandle::new(inventory.clone(), paths.clone())),
            inventory: Some(inventory),
            paths,
            actor,
            kube_user: Arc::new(OnceLock::new()),
            kube_silent: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            notifier: None,
            gates: None,
            timeout: None,
        }
    }

    /// A context without an inventory (secrets commands on explicit files).
    pub fn without_inventory(paths: Paths, read_only_flag: bool) -> OpCtx {
        OpCtx {
            read_only: read_only_reason(read_only_flag, None),
            inventory: None,
            paths,
            actor: Actor::local(None),
            kube_user: Arc::new(OnceLock::new()),
            kube_silent: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            notifier: None,
            gates: None,
            gitops: None,
            timeout: None,
        }
    }

    /// Chat cards go through this notifier.
    #[must_use]
    pub fn with_notifier(mut self, notifier: Option<Arc<Notifier>>) -> OpCtx {
        self.notifier = notifier;
        self
    }

    /// Acts as `actor` (a service such as `shipdeck-guard`) instead of the local person.
    #[must_use]
    pub fn with_actor(mut self, actor: Actor) -> OpCtx {
        self.actor = actor;
        self
    }

    /// No op waits longer than this (the command's `--timeout`).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<std::time::Duration>) -> OpCtx {
        self.timeout = timeout;
        self
    }

    /// The command's `--timeout`, if it has one.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout
    }

    /// A far end's own deadline, shortened to the command's `--timeout`.
    pub fn limit(&self, own: std::time::Duration) -> std::time::Duration {
        self.timeout.map_or(own, |t| t.min(own))
    }

    /// The task's control, with the command's `--timeout` as its end.
    pub fn bound(&self, task: TaskCtl) -> TaskCtl {
        match self.timeout {
            Some(t) => task.within(t),
            None => task,
        }
    }

    /// Gates are checked through this client.
    #[must_use]
    pub fn with_gates(mut self, gates: Option<GatesService>) -> OpCtx {
        self.gates = gates;
        self
    }

    pub fn inventory(&self) -> Result<&Arc<Inventory>, OpError> {
        self.inventory
            .as_ref()
            .ok_or_else(|| OpError::bad_input("this needs an inventory (--inventory PATH)"))
    }

    /// Who acts, with the cluster's name for it once known.
    pub fn actor(&self) -> Actor {
        self.actor
            .clone()
            .with_kube_user(self.kube_user.get().cloned())
    }

    /// Why writes are off, if they are.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    pub fn gates(&self) -> Option<&GatesService> {
        self.gates.as_ref()
    }

    pub fn gitops(&self) -> Result<&gitops::GitopsHandle, OpError> {
        self.gitops
            .as_ref()
            .ok_or_else(|| OpError::bad_input("this needs an inventory (--inventory PATH)"))
    }

    /// The journal, writing lines for this actor.
    pub fn journal(&self) -> Journal {
        Journal::for_actor(self.paths.audit_journal(), self.actor())
    }

    /// Asks the cluster once who we are (bounded: a silent server must not hold an op up).
    pub async fn learn_kube_user(&self, client: &kube::Client) {
        if self.kube_user.get().is_some() {
            return;
        }
        let ask = crate::services::kube::client::whoami(client);
        match tokio::time::timeout(std::time::Duration::from_secs(2), ask).await {
            Ok(Ok(user)) => {
                let _ = self.kube_user.set(user);
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "no SelfSubjectReview answer"),
            Err(_) => tracing::debug!("SelfSubjectReview timed out"),
        }
    }

    /// Notes that a cluster did not answer within an op's deadline.
    pub fn cluster_silent(&self) {
        self.kube_silent
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Asks the cluster of `env` who we are, if nobody has yet (bounded, never fails).
    pub async fn learn_kube_user_for(&self, env: &str) {
        if self.kube_user.get().is_some()
            || self.kube_silent.load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let Some(inv) = &self.inventory else {
            return;
        };
        let Ok(e) = inv.env(env) else {
            return;
        };
        let target =
            crate::services::kube::client::Target::from_inventory(inv, e.kube_context.as_deref());
        if let Ok(client) = crate::services::kube::client::request_client(&target).await {
            self.learn_kube_user(&client).await;
        }
    }

    /// Learns the cluster's name for us before a journal line is written: from `env`'s
    /// cluster, else the first environment's (bounded; nothing when no cluster answers).
    pub async fn settle_actor(&self, env: Option<&str>) {
        if self.kube_user.get().is_some() {
            return;
        }
        let first = self
            .inventory
            .as_ref()
            .and_then(|i| i.environments.keys().next().cloned());
        if let Some(env) = env.map(str::to_owned).or(first) {
            self.learn_kube_user_for(&env).await;
        }
    }

    /// Refuses when writes are off, with a journal line saying what was refused.
    pub async fn check_writable(
        &self,
        action: &str,
        app: Option<&str>,
        env: Option<&str>,
    ) -> Result<(), OpError> {
        let Some(why) = &self.read_only else {
            return Ok(());
        };
        let err = OpError::refused(why.clone());
        let mut entry = Entry::new(action);
        entry.app = app.map(str::to_owned);
        entry.env = env.map(str::to_owned);
        self.record::<()>(entry, Instant::now(), &Err(err.clone()))
            .await;
        Err(err)
    }

    /// Writes the op's one journal line: `ok` (or the report's own result) or the failure.
    async fn record<T>(&self, mut entry: Entry, started: Instant, result: &Result<T, OpError>) {
        self.settle_actor(entry.env.as_deref()).await;
        entry.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Err(e) = result {
            entry.result = e.journal_result();
        } else if entry.result.is_empty() {
            "ok".clone_into(&mut entry.result);
        }
        if let Err(e) = self.journal().append(&entry) {
            tracing::warn!(error = %e, "audit journal not written");
        }
    }

    /// Queues a chat card (the notifier never blocks an op).
    pub fn notify(&self, card: &Notification) {
        self.announce(card);
    }

    fn announce(&self, card: &Notification) {
        if let Some(n) = &self.notifier {
            n.notify(card);
        }
    }
}
