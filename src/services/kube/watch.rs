//! The watch tasks: kube-runtime watchers with backoff feeding reflector stores, one task per
//! environment (and per Argo CD location, and for the runners). Each task turns a burst of watch
//! events into at most one derived snapshot per frame (33 ms) and sends it only if it changed.

use std::collections::{BTreeMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::client::{Target, client};
use super::model::{
    AnalysisRun, Application, AutoscalingRunnerSet, EphemeralRunner, Experiment,
    HorizontalRunnerAutoscaler, LEGACY_RUNNER_POD_LABEL, LegacyRunner, POD_HASH_LABEL, Pod,
    ReplicaSet, Rollout, RunnerDeployment,
};
use super::{
    ArgoApp, Conn, FeedId, LiveEvent, RolloutAccess, RolloutInfo, RunnerMode, ScaleSetInfo, info,
    runners,
};
use crate::inventory::Inventory;

/// At most one snapshot per frame.
const FRAME: Duration = Duration::from_millis(33);

/// Annotations that can be large and that no panel reads.
const HEAVY_ANNOTATIONS: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// One watch stream's news, reduced to what the loop needs.
enum Tick {
    /// Something changed (or a list page arrived).
    Changed,
    /// The stream finished its initial list.
    Ready(usize),
    /// The connection failed (the watcher retries with backoff by itself).
    Failed(String),
}

/// Watches `K` in `ns` (label-selected if `labels` is set), stores into a reflector and reports
/// through `Tick`s; `idx` identifies the stream for readiness.
fn watch<K>(
    client: &Client,
    ns: &str,
    labels: Option<&str>,
    idx: usize,
) -> (Store<K>, BoxStream<'static, Tick>)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let mut cfg = watcher::Config::default();
    if let Some(l) = labels {
        cfg = cfg.labels(l);
    }
    let (reader, writer) = reflector::store();
    let stream = watcher(api, cfg)
        .modify(|o: &mut K| {
            let meta = o.meta_mut();
            meta.managed_fields = None;
            if let Some(a) = meta.annotations.as_mut() {
                for k in HEAVY_ANNOTATIONS {
                    a.remove(k);
                }
            }
        })
        .default_backoff()
        .reflect(writer)
        .map(move |r| match r {
            Ok(watcher::Event::InitDone) => Tick::Ready(idx),
            Ok(_) => Tick::Changed,
            Err(e) => Tick::Failed(e.to_string()),
        })
        .boxed();
    (reader, stream)
}

/// Connects, retrying with a capped backoff while the kubeconfig or context cannot be loaded.
async fn connect(
    target: &Target,
    feed: &FeedId,
    tx: &UnboundedSender<LiveEvent>,
) -> Option<Client> {
    let mut wait = Duration::from_millis(500);
    loop {
        match client(target).await {
            Ok(c) => return Some(c),
            Err(e) => {
                let ev = LiveEvent::Connection {
                    feed: feed.clone(),
                    conn: Conn::Stale {
                        since: jiff::Timestamp::now(),
                        error: e.to_string(),
                    },
                };
                if tx.send(ev).is_err() {
                    return None;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Drives merged watch streams: marks stale on failures, waits until every stream listed once,
/// then calls `snapshot` after each burst (at most once per frame) and sends what changed.
async fn drive<T: PartialEq + Clone>(
    mut streams: SelectAll<BoxStream<'static, Tick>>,
    count: usize,
    feed: FeedId,
    tx: UnboundedSender<LiveEvent>,
    mut snapshot: impl FnMut() -> T,
    event: impl Fn(T) -> LiveEvent,
) {
    let mut ready: HashSet<usize> = HashSet::new();
    let mut last: Option<T> = None;
    let mut stale = false;
    let mut last_send = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    while let Some(first) = streams.next().await {
        let mut failed = None;
        let mut changed = false;
        let mut note = |t: Tick, ready: &mut HashSet<usize>| match t {
            Tick::Changed => changed = true,
            Tick::Ready(i) => {
                ready.insert(i);
                changed = true;
            }
            Tick::Failed(e) => failed = Some(e),
        };
        note(first, &mut ready);
        let deadline = (last_send + FRAME).max(Instant::now());
        loop {
            tokio::select! {
                biased;
                next = streams.next() => match next {
                    Some(t) => note(t, &mut ready),
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        if let Some(error) = failed.filter(|_| !changed) {
            if !stale {
                stale = true;
                let conn = Conn::Stale {
                    since: jiff::Timestamp::now(),
                    error,
                };
                if tx
                    .send(LiveEvent::Connection {
                        feed: feed.clone(),
                        conn,
                    })
                    .is_err()
                {
                    return;
                }
            }
            continue;
        }
        if ready.len() < count {
            continue;
        }
        let snap = snapshot();
        if stale || last.as_ref() != Some(&snap) {
            stale = false;
            last_send = Instant::now();
            if tx.send(event(snap.clone())).is_err() {
                return;
            }
            last = Some(snap);
        }
    }
}

/// SelfSubjectAccessReviews for patching the env's Rollouts (status and main resource).
async fn ask_access(
    client: Client,
    env: String,
    namespace: String,
    tx: UnboundedSender<LiveEvent>,
) {
    let (status, main) = futures::future::join(
        super::actions::can_patch(&client, &namespace, true),
        super::actions::can_patch(&client, &namespace, false),
    )
    .await;
    let access = RolloutAccess {
        patch_status: status.ok(),
        patch: main.ok(),
    };
    if access != RolloutAccess::default() {
        let _ = tx.send(LiveEvent::Access { env, access });
    }
}

/// What one environment's rollout watch needs from the inventory.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub env: String,
    pub target: Target,
    pub namespace: String,
    /// app name → Rollout name.
    pub apps: Vec<(String, String)>,
}

/// Objects by the UID of their controller/owner, so each app's tree is a few lookups instead of
/// a scan. `keep` limits which owners are indexed (a busy namespace's pods mostly belong to apps
/// nobody asked about). Fx hashing: the keys are UIDs from our own API server, and this runs on
/// every snapshot.
fn by_owner<K: Resource>(objs: &[Arc<K>], keep: impl Fn(&str) -> bool) -> FxHashMap<&str, Vec<&K>> {
    let mut map: FxHashMap<&str, Vec<&K>> = FxHashMap::default();
    for o in objs {
        for r in o.meta().owner_references.iter().flatten() {
            if keep(&r.uid) {
                map.entry(r.uid.as_str()).or_default().push(o.as_ref());
            }
        }
    }
    map
}

/// One watched app's objects, found before its pods are (pods are indexed only for these).
struct Tree<'a> {
    app: &'a str,
    ro: &'a Rollout,
    exps: Vec<&'a Experiment>,
    rss: Vec<&'a ReplicaSet>,
    runs: Vec<&'a AnalysisRun>,
}

/// Per app, the derived view of its Rollout from the stores.
pub fn derive_env(
    apps: &[(String, String)],
    rollouts: &Store<Rollout>,
    rss: &Store<ReplicaSet>,
    pods: &Store<Pod>,
    exps: &Store<Experiment>,
    ars: &Store<AnalysisRun>,
) -> BTreeMap<String, Option<RolloutInfo>> {
    let ro_list = rollouts.state();
    let replica_list = rss.state();
    let pod_list = pods.state();
    let exp_list = exps.state();
    let run_list = ars.state();
    let ro_by_name: FxHashMap<&str, &Rollout> = ro_list
        .iter()
        .filter_map(|r| Some((r.metadata.name.as_deref()?, r.as_ref())))
        .collect();
    let rs_by = by_owner(&replica_list, |_| true);
    let exps_by = by_owner(&exp_list, |_| true);
    let runs_by = by_owner(&run_list, |_| true);
    let mut out = BTreeMap::new();
    let mut trees = Vec::new();
    for (app, name) in apps {
        let Some(ro) = ro_by_name.get(name.as_str()).copied() else {
            out.insert(app.clone(), None);
            continue;
        };
        let uid = ro.metadata.uid.as_deref().unwrap_or_default();
        let exps: Vec<&Experiment> = exps_by.get(uid).cloned().unwrap_or_default();
        let mut owners: Vec<&str> = vec![uid];
        owners.extend(exps.iter().filter_map(|e| e.metadata.uid.as_deref()));
        let rss: Vec<&ReplicaSet> = owners
            .iter()
            .flat_map(|o| rs_by.get(o).cloned().unwrap_or_default())
            .collect();
        let runs: Vec<&AnalysisRun> = owners
            .iter()
            .flat_map(|o| runs_by.get(o).cloned().unwrap_or_default())
            .collect();
        trees.push(Tree {
            app,
            ro,
            exps,
            rss,
            runs,
        });
    }
    let wanted: FxHashSet<&str> = trees
        .iter()
        .flat_map(|t| t.rss.iter().filter_map(|r| r.metadata.uid.as_deref()))
        .collect();
    let pods_by = by_owner(&pod_list, |uid| wanted.contains(uid));
    for t in trees {
        let my_pods: Vec<&Pod> = t
            .rss
            .iter()
            .filter_map(|r| r.metadata.uid.as_deref())
            .flat_map(|u| pods_by.get(u).cloned().unwrap_or_default())
            .collect();
        out.insert(
            t.app.to_owned(),
            Some(info::rollout_info(t.ro, &t.rss, &my_pods, &t.exps, &t.runs)),
        );
    }
    out
}

/// Watches one environment's Rollouts, ReplicaSets, Pods, Experiments and AnalysisRuns.
pub async fn run_env(spec: EnvSpec, tx: UnboundedSender<LiveEvent>) {
    let feed = FeedId::Cluster(spec.env.clone());
    let Some(client) = connect(&spec.target, &feed, &tx).await else {
        return;
    };
    let ns = spec.namespace.as_str();
    // Ask RBAC beside the watches, so the keys grey out before anyone presses them.
    tokio::spawn(ask_access(
        client.clone(),
        spec.env.clone(),
        spec.namespace.clone(),
        tx.clone(),
    ));
    // Only objects Argo Rollouts made carry the pod-template-hash label: the label selector keeps
    // unrelated pods of a busy namespace out of memory.
    let (ro, s0) = watch::<Rollout>(&client, ns, None, 0);
    let (rs, s1) = watch::<ReplicaSet>(&client, ns, Some(POD_HASH_LABEL), 1);
    let (pods, s2) = watch::<Pod>(&client, ns, Some(POD_HASH_LABEL), 2);
    let (exps, s3) = watch::<Experiment>(&client, ns, Some(POD_HASH_LABEL), 3);
    let (ars, s4) = watch::<AnalysisRun>(&client, ns, None, 4);
    let streams = futures::stream::select_all([s0, s1, s2, s3, s4]);
    let env = spec.env.clone();
    drive(
        streams,
        5,
        feed,
        tx,
        || derive_env(&spec.apps, &ro, &rs, &pods, &exps, &ars),
        |rollouts| LiveEvent::Rollouts {
            env: env.clone(),
            rollouts,
        },
    )
    .await;
}

/// Where one environment's Argo CD Applications live.
#[derive(Debug, Clone)]
pub struct ArgoSpec {
    pub env: String,
    pub target: Target,
    pub namespace: String,
    /// app name → Application name.
    pub apps: Vec<(String, String)>,
}

/// Watches one environment's Argo CD Applications.
pub async fn run_argocd(spec: ArgoSpec, tx: UnboundedSender<LiveEvent>) {
    let feed = FeedId::ArgoCd(spec.env.clone());
    let Some(client) = connect(&spec.target, &feed, &tx).await else {
        return;
    };
    let (apps, s0) = watch::<Application>(&client, &spec.namespace, None, 0);
    let env = spec.env.clone();
    drive(
        futures::stream::select_all([s0]),
        1,
        feed,
        tx,
        || {
            let all = apps.state();
            spec.apps
                .iter()
                .map(|(app, name)| {
                    let found = all
                        .iter()
                        .find(|a| a.metadata.name.as_deref() == Some(name.as_str()))
                        .map(|a| ArgoApp {
                            name: name.clone(),
                            sync: a.status.sync.status.clone(),
                            health: a.status.health.status.clone(),
                            revision: a.status.sync.revision.clone(),
                            images: a.status.summary.images.clone(),
                            operation: a.status.operation_state.as_ref().map(|o| o.phase.clone()),
                        });
                    (app.clone(), found)
                })
                .collect::<BTreeMap<_, _>>()
        },
        |apps| LiveEvent::ArgoCd {
            env: env.clone(),
            apps,
        },
    )
    .await;
}

/// Whether the cluster serves an API group/version: `None` when the server could not be asked.
async fn served(client: &Client, group_version: &str) -> Result<bool, String> {
    match client.list_api_group_resources(group_version).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

/// Which ARC modes the cluster serves, asking again with backoff while the server is down.
async fn runner_modes(
    client: &Client,
    feed: &FeedId,
    tx: &UnboundedSender<LiveEvent>,
) -> Option<Vec<RunnerMode>> {
    let mut wait = Duration::from_millis(500);
    loop {
        let asked = futures::future::join(
            served(client, "actions.github.com/v1alpha1"),
            served(client, "actions.summerwind.dev/v1alpha1"),
        )
        .await;
        match asked {
            (Ok(scale_set), Ok(legacy)) => {
                let mut modes = Vec::new();
                if scale_set {
                    modes.push(RunnerMode::ScaleSet);
                }
                if legacy {
                    modes.push(RunnerMode::Legacy);
                }
                return Some(modes);
            }
            (Err(error), _) | (_, Err(error)) => {
                let conn = Conn::Stale {
                    since: jiff::Timestamp::now(),
                    error,
                };
                let ev = LiveEvent::Connection {
                    feed: feed.clone(),
                    conn,
                };
                if tx.send(ev).is_err() {
                    return None;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// The inventory's runner names per mode (empty: all in the namespace).
#[derive(Debug, Clone, Default)]
pub struct RunnerNames {
    pub scale_sets: Vec<String>,
    pub runner_deployments: Vec<String>,
}

/// Watches the ARC runner namespace: scale sets, EphemeralRunners and their pods; and, where the
/// cluster still serves the legacy API, RunnerDeployments, their autoscalers, Runners and pods.
/// An API the cluster does not serve is not watched (a watch on it would only ever fail).
pub async fn run_runners(
    target: Target,
    namespace: String,
    only: RunnerNames,
    tx: UnboundedSender<LiveEvent>,
) {
    let feed = FeedId::Runners;
    let Some(client) = connect(&target, &feed, &tx).await else {
        return;
    };
    let Some(modes) = runner_modes(&client, &feed, &tx).await else {
        return;
    };
    let mut streams = Vec::new();
    let has = |m| modes.contains(&m);
    let (sets, ers, pods) = if has(RunnerMode::ScaleSet) {
        let (a, s0) = watch::<AutoscalingRunnerSet>(&client, &namespace, None, streams.len());
        streams.push(s0);
        let (b, s1) = watch::<EphemeralRunner>(&client, &namespace, None, streams.len());
        streams.push(s1);
        let (c, s2) = watch::<Pod>(
            &client,
            &namespace,
            Some("app.kubernetes.io/component=runner"),
            streams.len(),
        );
        streams.push(s2);
        (a, b, c)
    } else {
        (empty(), empty(), empty())
    };
    let (deployments, autoscalers, legacy, legacy_pods) = if has(RunnerMode::Legacy) {
        let (a, s0) = watch::<RunnerDeployment>(&client, &namespace, None, streams.len());
        streams.push(s0);
        let (b, s1) = watch::<HorizontalRunnerAutoscaler>(&client, &namespace, None, streams.len());
        streams.push(s1);
        let (c, s2) = watch::<LegacyRunner>(&client, &namespace, None, streams.len());
        streams.push(s2);
        let (d, s3) = watch::<Pod>(
            &client,
            &namespace,
            Some(LEGACY_RUNNER_POD_LABEL),
            streams.len(),
        );
        streams.push(s3);
        (a, b, c, d)
    } else {
        (empty(), empty(), empty(), empty())
    };
    let count = streams.len();
    if count == 0 {
        // Nothing to watch: say so once, and keep the task (and its feed) alive.
        let _ = tx.send(LiveEvent::Runners {
            served: modes,
            sets: Vec::new(),
        });
        return;
    }
    drive(
        futures::stream::select_all(streams),
        count,
        feed,
        tx,
        || -> Vec<ScaleSetInfo> {
            let (set_objs, er_objs, pod_objs) = (sets.state(), ers.state(), pods.state());
            let mut out = runners::scale_sets(
                &refs(&set_objs),
                &refs(&er_objs),
                &refs(&pod_objs),
                &only.scale_sets,
            );
            let (dep_objs, hra_objs, runner_objs, lpod_objs) = (
                deployments.state(),
                autoscalers.state(),
                legacy.state(),
                legacy_pods.state(),
            );
            out.extend(runners::runner_deployments(
                &refs(&dep_objs),
                &refs(&hra_objs),
                &refs(&runner_objs),
                &refs(&lpod_objs),
                &only.runner_deployments,
            ));
            out
        },
        move |sets| LiveEvent::Runners {
            served: modes.clone(),
            sets,
        },
    )
    .await;
}

fn refs<K>(objs: &[Arc<K>]) -> Vec<&K> {
    objs.iter().map(AsRef::as_ref).collect()
}

/// A store nothing writes to: the watch of an API the cluster does not serve.
fn empty<K: Resource<DynamicType = ()> + Clone + 'static>() -> Store<K> {
    reflector::store().0
}

/// The env, Argo CD and runner specs an inventory asks for.
pub fn specs(inv: &Inventory) -> (Vec<EnvSpec>, Vec<ArgoSpec>) {
    let mut envs = Vec::new();
    let mut argos = Vec::new();
    for (env, e) in &inv.environments {
        let apps: Vec<(String, String)> = inv
            .apps
            .iter()
            .map(|(name, a)| (name.clone(), a.rollout_name(name).to_owned()))
            .collect();
        envs.push(EnvSpec {
            env: env.clone(),
            target: Target::from_inventory(inv, e.kube_context.as_deref()),
            namespace: e.namespace.clone(),
            apps,
        });
        let (ctx, ns) = match &e.argocd {
            Some(a) => (
                a.kube_context.as_deref().or(e.kube_context.as_deref()),
                a.namespace.clone(),
            ),
            None => (e.kube_context.as_deref(), "argocd".to_owned()),
        };
        argos.push(ArgoSpec {
            env: env.clone(),
            target: Target::from_inventory(inv, ctx),
            namespace: ns,
            apps: inv
                .apps
                .iter()
                .map(|(name, a)| (name.clone(), a.argocd_application_name(name, env)))
                .collect(),
        });
    }
    (envs, argos)
}

/// Starts every watch task of an inventory under one handle (aborting it stops them all).
pub fn spawn(
    inv: &Inventory,
    tx: UnboundedSender<LiveEvent>,
) -> Option<tokio::task::JoinHandle<()>> {
    let (envs, argos) = specs(inv);
    if envs.is_empty() && inv.runners.is_none() {
        return None;
    }
    let runners = inv.runners.as_ref().map(|r| {
        (
            Target::from_inventory(inv, r.kube_context.as_deref()),
            r.namespace.clone(),
            r.scale_sets.clone(),
            r.runner_deployments.clone(),
        )
    });
    Some(tokio::spawn(async move {
        let mut set = tokio::task::JoinSet::new();
        for s in envs {
            set.spawn(run_env(s, tx.clone()));
        }
        for s in argos {
            set.spawn(run_argocd(s, tx.clone()));
        }
        if let Some((target, ns, only_sets, only_deployments)) = runners {
            let only = RunnerNames {
                scale_sets: only_sets,
                runner_deployments: only_deployments,
            };
            set.spawn(run_runners(target, ns, only, tx.clone()));
        }
        // Dropping the JoinSet (when this task is aborted) aborts every watch.
        while set.join_next().await.is_some() {}
    }))
}
