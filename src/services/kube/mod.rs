//! The live cluster view (issue 5): watches, the `kubectl argo rollouts` derivations, rollout
//! actions.
//!
//! Data flow: per environment one task runs kube-runtime watchers (with reflector stores) for
//! the app's Rollouts, ReplicaSets, Pods, Experiments and AnalysisRuns; per environment one for
//! its Argo CD Applications; one for the ARC runner namespace. Each task rebuilds the derived
//! view after a burst of watch events and sends it as one `LiveEvent` only when it changed. The
//! pure `LiveState::apply` stores it; panels render from `LiveState`.

pub mod actions;
pub mod argocd;
pub mod client;
pub mod info;
pub mod logs;
pub mod model;
pub mod news;
pub mod print;
pub mod runners;
pub mod syncwindow;
pub mod timeline;
pub mod watch;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

pub use info::{RolloutInfo, TrafficSplit};
pub use runners::{RunnerInfo, RunnerMode, ScaleSetInfo};

use crate::inventory::Inventory;

/// What can go wrong talking to a cluster.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot build a client for context `{context}`: {message}")]
    Client { context: String, message: String },
    #[error("{0}")]
    Api(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
}

/// `Result` for the kube service.
pub type Result<T, E = KubeError> = std::result::Result<T, E>;

/// Which watch a connection state belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum FeedId {
    /// Rollouts, ReplicaSets, Pods, AnalysisRuns of an environment.
    Cluster(String),
    /// The Argo CD Applications of an environment.
    ArgoCd(String),
    /// ARC runners.
    Runners,
}

/// A watch's connection, as a panel marks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub enum Conn {
    #[default]
    Connecting,
    Live,
    /// Disconnected since the given time; the last data stays, marked stale.
    Stale {
        since: Timestamp,
        error: String,
    },
}

/// A kind the API server refused to show this identity (403 on list or watch).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Denial {
    /// `list` or `watch`.
    pub verb: String,
    /// Plural and group, as RBAC names it: `experiments.argoproj.io`.
    pub resource: String,
    pub namespace: String,
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not permitted: {} {} in namespace {}",
            self.verb, self.resource, self.namespace
        )
    }
}

/// Argo CD's view of one app in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArgoApp {
    pub name: String,
    pub sync: String,
    pub health: String,
    pub revision: String,
    pub images: Vec<String>,
    /// Phase of the last operation (Running, Succeeded, Failed…), if any.
    pub operation: Option<String>,
    /// When that operation started (RFC 3339, as Argo CD wrote it) and what it said.
    pub operation_started: Option<String>,
    pub operation_message: Option<String>,
    /// When that operation finished (empty while it runs).
    pub operation_finished: Option<String>,
    /// The last sync's per-resource results.
    pub resources: Vec<model::ResourceResult>,
    /// An operation is asked for (`operation` set) and not finished.
    pub operation_requested: bool,
    /// The refresh annotation is on (`normal` or `hard`): the controller has not done it yet.
    pub refresh: Option<String>,
    /// `syncPolicy.automated` (`None`: auto-sync is off).
    pub auto_sync: Option<model::Automated>,
    /// The AppProject's sync windows that name this Application.
    pub windows: Vec<syncwindow::SyncWindow>,
}

impl ArgoApp {
    /// What the sync windows say now about an automated (`manual` false) or a manual sync.
    pub fn window_verdict(&self, now: Timestamp, manual: bool) -> syncwindow::Verdict {
        let refs: Vec<&syncwindow::SyncWindow> = self.windows.iter().collect();
        syncwindow::verdict(&refs, now, manual)
    }
}

/// The live data of one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnvState {
    pub cluster: Conn,
    pub argocd: Conn,
    /// Per app: its Rollout's derived view (`None`: no such Rollout in the namespace).
    pub rollouts: BTreeMap<String, Option<RolloutInfo>>,
    /// Per app: its Argo CD Application (`None`: not found).
    pub apps: BTreeMap<String, Option<ArgoApp>>,
    /// What RBAC lets this identity do to the Rollouts here.
    pub access: RolloutAccess,
}

/// What RBAC lets this identity do to an environment's Rollouts, as SelfSubjectAccessReviews
/// answered when the watch started (or as a refused action found out since). `None`: not known
/// (not asked yet, or the server could not answer); the keys then stay on and a 403 speaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RolloutAccess {
    /// `patch rollouts/status`: promote, promote-full, abort, retry.
    pub patch_status: Option<bool>,
    /// `patch rollouts`: pause, restart.
    pub patch: Option<bool>,
}

/// The runner namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunnersState {
    pub conn: Conn,
    /// The ARC APIs the cluster serves (empty: ARC is not installed).
    pub served: Vec<RunnerMode>,
    pub sets: Vec<ScaleSetInfo>,
}

/// What the cluster watches have delivered, as the panels read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveState {
    pub envs: BTreeMap<String, EnvState>,
    pub runners: Option<RunnersState>,
    /// Per watch, the kinds the server refused (absent: none).
    pub denied: BTreeMap<FeedId, Vec<Denial>>,
}

/// One update from a watch, applied to `LiveState` inside the pure `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A connection went up or down.
    Connection { feed: FeedId, conn: Conn },
    /// The derived rollouts of one namespace of an environment changed (every app there).
    Rollouts {
        env: String,
        rollouts: BTreeMap<String, Option<RolloutInfo>>,
    },
    /// The Argo CD Applications of an environment changed.
    ArgoCd {
        env: String,
        apps: BTreeMap<String, Option<ArgoApp>>,
    },
    /// The kinds a watch may not read, replacing what it said before (empty: all readable).
    Denied { feed: FeedId, denied: Vec<Denial> },
    /// RBAC answers for an environment's Rollouts (`None` fields: no news).
    Access { env: String, access: RolloutAccess },
    /// The runner scale sets changed; `served` names the ARC APIs the cluster has.
    Runners {
        served: Vec<RunnerMode>,
        sets: Vec<ScaleSetInfo>,
    },
}

/// What the Environments panel shows for one app × env.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnvLive {
    /// Images running (ReplicaSets with replicas), as the plugin lists them.
    pub live_images: Vec<String>,
    /// The tag of the app's image in the newest ReplicaSet that has replicas (the canary during
    /// a rollout, the stable otherwise).
    pub live_tag: Option<String>,
    pub sync: Option<String>,
    pub health: Option<String>,
    /// The commit Argo CD synced.
    pub revision: Option<String>,
    /// The rollout's status (`Paused`, `Healthy`…).
    pub rollout_status: Option<String>,
    /// While a canary shares traffic: both revisions and their weights.
    pub split: Option<TrafficSplit>,
    /// Set while either watch of this env is disconnected.
    pub stale_since: Option<Timestamp>,
}

impl LiveState {
    /// Applies a watch update (pure).
    pub fn apply(&mut self, event: LiveEvent) {
        match event {
            LiveEvent::Connection { feed, conn } => match feed {
                FeedId::Cluster(env) => self.envs.entry(env).or_default().cluster = conn,
                FeedId::ArgoCd(env) => self.envs.entry(env).or_default().argocd = conn,
                FeedId::Runners => self.runners.get_or_insert_with(Default::default).conn = conn,
            },
            LiveEvent::Rollouts { env, rollouts } => {
                // One snapshot per namespace of the env, each naming all of its apps.
                let e = self.envs.entry(env).or_default();
                e.rollouts.extend(rollouts);
                e.cluster = Conn::Live;
            }
            LiveEvent::ArgoCd { env, apps } => {
                let e = self.envs.entry(env).or_default();
                e.apps = apps;
                e.argocd = Conn::Live;
            }
            LiveEvent::Denied { feed, denied } => {
                if denied.is_empty() {
                    self.denied.remove(&feed);
                } else {
                    self.denied.insert(feed, denied);
                }
            }
            LiveEvent::Access { env, access } => {
                // Each answer updates what it knows and leaves the rest.
                let known = &mut self.envs.entry(env).or_default().access;
                known.patch_status = access.patch_status.or(known.patch_status);
                known.patch = access.patch.or(known.patch);
            }
            LiveEvent::Runners { served, sets } => {
                let r = self.runners.get_or_insert_with(Default::default);
                r.served = served;
                r.sets = sets;
                r.conn = Conn::Live;
            }
        }
    }

    /// The kinds a watch may not read.
    pub fn denied(&self, feed: &FeedId) -> &[Denial] {
        self.denied.get(feed).map_or(&[], Vec::as_slice)
    }

    /// Why the Rollouts of an environment cannot be read, if the server refused them.
    pub fn rollouts_denied(&self, env: &str) -> Option<&Denial> {
        self.denied(&FeedId::Cluster(env.to_owned()))
            .iter()
            .find(|d| d.resource == "rollouts.argoproj.io")
    }

    /// The derived rollout of an app in an environment, if watched and found.
    /// An env's Argo CD Application of `app`, as last seen.
    pub fn argo_app(&self, app: &str, env: &str) -> Option<&ArgoApp> {
        self.envs.get(env)?.apps.get(app)?.as_ref()
    }

    pub fn rollout(&self, app: &str, env: &str) -> Option<&RolloutInfo> {
        self.envs.get(env)?.rollouts.get(app)?.as_ref()
    }

    /// The Environments panel's live columns for an app × env; `None` before any data.
    pub fn env_live(&self, app: &str, env: &str) -> Option<EnvLive> {
        let e = self.envs.get(env)?;
        let ro = e.rollouts.get(app).and_then(Option::as_ref);
        let argo = e.apps.get(app).and_then(Option::as_ref);
        if ro.is_none() && argo.is_none() && matches!(e.cluster, Conn::Connecting) {
            return None;
        }
        let stale_since = [&e.cluster, &e.argocd]
            .into_iter()
            .filter_map(|c| match c {
                Conn::Stale { since, .. } => Some(*since),
                _ => None,
            })
            .min();
        Some(EnvLive {
            live_images: ro
                .map(|r| r.images.iter().map(|i| i.image.clone()).collect())
                .unwrap_or_default(),
            live_tag: ro.and_then(live_tag),
            sync: argo.map(|a| a.sync.clone()).filter(|s| !s.is_empty()),
            health: argo.map(|a| a.health.clone()).filter(|s| !s.is_empty()),
            revision: argo.map(|a| a.revision.clone()).filter(|s| !s.is_empty()),
            rollout_status: ro.map(|r| r.status.clone()),
            split: ro.and_then(RolloutInfo::traffic_split),
            stale_since,
        })
    }
}

/// The tag of an image reference (`repo:tag`, `repo@sha256:…` → the digest's first 12 hex).
pub fn image_tag(image: &str) -> Option<&str> {
    if let Some((_, digest)) = image.split_once('@') {
        return Some(digest.strip_prefix("sha256:").unwrap_or(digest));
    }
    let last = image.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t)
}

fn live_tag(ro: &RolloutInfo) -> Option<String> {
    ro.replica_sets()
        .find(|r| r.replicas > 0)
        .and_then(|r| r.images.first())
        .and_then(|i| image_tag(i))
        .map(str::to_owned)
}

/// Starts the watches for an inventory; events flow into `tx` until it closes.
/// Returns `None` when the inventory names nothing to watch.
/// Takes the whole inventory: it watches every app × environment, Argo CD and the runners.
pub fn spawn_watches(
    inventory: &Inventory,
    tx: tokio::sync::mpsc::UnboundedSender<LiveEvent>,
    pods: &watch::PodScope,
) -> Option<tokio::task::JoinHandle<()>> {
    watch::spawn(inventory, tx, pods)
}
