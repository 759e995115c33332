//! The watch tasks: kube-runtime watchers with backoff feeding reflector stores, one task per
//! environment (and per Argo CD location, and for the runners). Each task turns a burst of watch
//! events into at most one derived snapshot per frame (33 ms) and sends it only if it changed.

mod arc;
mod argocd;
mod env;
mod migrations;
pub(super) mod pace;

use std::collections::{BTreeMap, HashSet};
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

use crate::inventory::Inventory;

use super::client::{Target, client, watch_error_line};
use super::{Conn, Denial, FeedId, LiveEvent, RolloutAccess};

pub use arc::{RunnerNames, run_runners};
pub use argocd::{ArgoSpec, run_argocd};
pub use env::{EnvSpec, NsSpec, PodScope, derive_env, run_env};
pub use migrations::{MigrationSpec, run_migrations};

/// At most one snapshot per frame.
const FRAME: Duration = Duration::from_millis(33);

/// Annotations that can be large and that no panel reads.
const HEAVY_ANNOTATIONS: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// One watch stream's news, reduced to what the loop needs; the `usize` names the stream.
enum Tick {
    /// Something changed (or a list page arrived).
    Changed(usize),
    /// The stream finished its initial list.
    Ready(usize),
    /// The connection failed (retried on [`pace::RECONNECT`]).
    Failed(String),
    /// The server refused this kind (403): it counts as listed, empty, and is asked again
    /// only on the slow clock, while the other kinds go on.
    Denied(usize, Denial),
}

/// What a namespaced kind needs to be watched into a reflector store.
pub(crate) trait Watchable:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> Watchable for K where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// The watcher settings every watch shares.
fn watch_config(client: &WatchClient) -> watcher::Config {
    // The server ends each watch before the client's read timeout (`idle`) fires, so a
    // connection that stays silent longer is dead (a dropped link sends no FIN), and the
    // watch restarts instead of waiting minutes for TCP to notice.
    let server_secs = u32::try_from((client.idle.as_secs() * 4 / 5).max(1)).unwrap_or(u32::MAX);
    watcher::Config::default().timeout(server_secs)
}

/// Watches `K` in `ns` (label-selected if `labels` is set), stores into a reflector and reports
/// through `Tick`s; `idx` identifies the stream for readiness.
fn watch<K>(
    client: &WatchClient,
    ns: &str,
    labels: Option<&str>,
    idx: usize,
) -> (Store<K>, BoxStream<'static, Tick>)
where
    K: Watchable,
{
    let api: Api<K> = Api::namespaced(client.client.clone(), ns);
    let mut cfg = watch_config(client);
    if let Some(l) = labels {
        cfg = cfg.labels(l);
    }
    let (reader, writer) = reflector::store();
    let start = move || watcher(api.clone(), cfg.clone()).modify(strip::<K>).boxed();
    let stream = ticks::<K>(pace::pace(start).reflect(writer).boxed(), ns, idx);
    (reader, stream)
}

/// Drops what no panel reads before it reaches a store.
fn strip<K: Resource>(o: &mut K) {
    let meta = o.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        for k in HEAVY_ANNOTATIONS {
            a.remove(k);
        }
    }
}

/// A watch stream's events as the `Tick`s the loop reads.
fn ticks<K: Resource<DynamicType = ()> + 'static>(
    events: BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>,
    ns: &str,
    idx: usize,
) -> BoxStream<'static, Tick> {
    let resource = match K::group(&()).as_ref() {
        "" => K::plural(&()).into_owned(),
        g => format!("{}.{g}", K::plural(&())),
    };
    let namespace = ns.to_owned();
    events
        .map(move |r| match r {
            Ok(watcher::Event::InitDone) => Tick::Ready(idx),
            Ok(_) => Tick::Changed(idx),
            Err(e) => match pace::forbidden_verb(&e) {
                Some(verb) => Tick::Denied(
                    idx,
                    Denial {
                        verb: verb.to_owned(),
                        resource: resource.clone(),
                        namespace: namespace.clone(),
                    },
                ),
                None => Tick::Failed(watch_error_line(&e)),
            },
        })
        .boxed()
}

/// The label selector a switching watch last finished listing (`None`: nothing listed yet).
type Listed = Arc<std::sync::Mutex<Option<String>>>;

/// Watches `K` in `ns` with whatever label selector `want` holds, restarting when it changes
/// (`None`: watch nothing, the store empty). The store always holds one selector's objects:
/// a restart relists, and the reflector swaps its contents when that list is done. `Listed`
/// says which selector the store holds.
fn switching<K>(
    client: &WatchClient,
    ns: &str,
    want: tokio::sync::watch::Receiver<Option<String>>,
    idx: usize,
) -> (Store<K>, Listed, BoxStream<'static, Tick>)
where
    K: Watchable,
{
    let api: Api<K> = Api::namespaced(client.client.clone(), ns);
    let base = watch_config(client);
    let open = move |sel: Option<String>| -> BoxStream<'static, Result<watcher::Event<K>, watcher::Error>> {
        match sel {
            None => futures::stream::iter([Ok(watcher::Event::Init), Ok(watcher::Event::InitDone)])
                .chain(futures::stream::pending())
                .boxed(),
            Some(labels) => {
                let (api, cfg) = (api.clone(), base.clone().labels(&labels));
                pace::pace(move || watcher(api.clone(), cfg.clone()).modify(strip::<K>).boxed())
                    .boxed()
            }
        }
    };
    let listed: Listed = Arc::default();
    let mark = Arc::clone(&listed);
    let first = want.borrow().clone();
    let current = open(first.clone());
    // (selector changes, the open stream, its selector, whether the sender is gone)
    let events = futures::stream::unfold(
        (want, current, first, false),
        move |(mut want, mut current, mut sel, mut closed)| {
            let (open, mark) = (open.clone(), Arc::clone(&mark));
            async move {
                loop {
                    tokio::select! {
                        changed = want.changed(), if !closed => {
                            if changed.is_err() {
                                closed = true;
                                continue;
                            }
                            let next = want.borrow_and_update().clone();
                            if next != sel {
                                current = open(next.clone());
                                sel = next;
                            }
                        }
                        item = current.next() => {
                            let item = item?;
                            if matches!(item, Ok(watcher::Event::InitDone)) {
                                mark.lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .clone_from(&sel);
                            }
                            return Some((item, (want, current, sel, closed)));
                        }
                    }
                }
            }
        },
    );
    let (reader, writer) = reflector::store();
    let stream = ticks::<K>(events.reflect(writer).boxed(), ns, idx);
    (reader, listed, stream)
}

/// A stream that says `Changed(idx)` each time `rx` changes: what wakes a watch loop when the
/// app on screen does.
fn changes<T: Send + Sync + 'static>(
    rx: tokio::sync::watch::Receiver<T>,
    idx: usize,
) -> BoxStream<'static, Tick> {
    futures::stream::unfold(rx, move |mut rx| async move {
        rx.changed().await.ok()?;
        Some((Tick::Changed(idx), rx))
    })
    .boxed()
}

/// A client for watches, with the silence after which its connection counts as dead.
pub(super) struct WatchClient {
    client: Client,
    idle: std::time::Duration,
}

/// Derefs to the client, for the plain requests made beside the watches.
impl std::ops::Deref for WatchClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Connects, retrying on the reconnect schedule while the kubeconfig or context cannot be
/// loaded.
async fn connect(
    target: &Target,
    feed: &FeedId,
    tx: &UnboundedSender<LiveEvent>,
) -> Option<WatchClient> {
    let mut retry = 0u32;
    loop {
        match client(target).await {
            Ok(client) => {
                return Some(WatchClient {
                    client,
                    idle: target.timeouts.watch_idle,
                });
            }
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
                retry = retry.saturating_add(1);
                tokio::time::sleep(pace::RECONNECT.delay(retry)).await;
            }
        }
    }
}

/// Drives merged watch streams: marks stale on failures, waits until every stream listed once
/// (or was refused), then calls `snapshot` after each burst (at most once per frame) and sends
/// what changed, the refused kinds first.
async fn drive<T: PartialEq + Clone>(
    mut streams: SelectAll<BoxStream<'static, Tick>>,
    count: usize,
    feed: FeedId,
    tx: UnboundedSender<LiveEvent>,
    mut snapshot: impl FnMut() -> T,
    event: impl Fn(T) -> LiveEvent,
) {
    let mut ready: HashSet<usize> = HashSet::new();
    let mut denied: BTreeMap<usize, Denial> = BTreeMap::new();
    let mut sent_denied: Vec<Denial> = Vec::new();
    let mut last: Option<T> = None;
    let mut stale = false;
    let mut last_send = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    while let Some(first) = streams.next().await {
        let mut failed = None;
        let mut changed = false;
        let mut note = |t: Tick, ready: &mut HashSet<usize>| match t {
            Tick::Changed(i) => {
                denied.remove(&i);
                changed = true;
            }
            Tick::Ready(i) => {
                denied.remove(&i);
                ready.insert(i);
                changed = true;
            }
            Tick::Denied(i, d) => {
                denied.insert(i, d);
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
        let now_denied: Vec<Denial> = denied.values().cloned().collect();
        if now_denied != sent_denied {
            let ev = LiveEvent::Denied {
                feed: feed.clone(),
                denied: now_denied.clone(),
            };
            if tx.send(ev).is_err() {
                return;
            }
            sent_denied = now_denied;
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

fn refs<K>(objs: &[Arc<K>]) -> Vec<&K> {
    objs.iter().map(AsRef::as_ref).collect()
}

/// A store nothing writes to: the watch of an API the cluster does not serve.
fn empty<K: Resource<DynamicType = ()> + Clone + 'static>() -> Store<K> {
    reflector::store().0
}

/// The env and Argo CD specs an inventory asks for (the runners' come from [`spawn`]), the
/// env's apps grouped by the namespace they run in.
/// Takes the whole inventory: one spec per environment, each listing every app.
pub fn specs(inv: &Inventory, pods: &PodScope) -> (Vec<EnvSpec>, Vec<ArgoSpec>) {
    let mut envs = Vec::new();
    let mut argos = Vec::new();
    for (env, e) in &inv.environments {
        let mut by_ns: indexmap::IndexMap<String, Vec<(String, String)>> =
            indexmap::IndexMap::new();
        for (name, a) in &inv.apps {
            by_ns
                .entry(a.namespace_in(name, env, &e.namespace))
                .or_default()
                .push((name.clone(), a.rollout_name(name).to_owned()));
        }
        envs.push(EnvSpec {
            env: env.clone(),
            target: Target::from_inventory(inv, e.kube_context.as_deref()),
            namespaces: by_ns
                .into_iter()
                .map(|(namespace, apps)| NsSpec { namespace, apps })
                .collect(),
            pods: pods.clone(),
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
/// Takes the whole inventory: it watches every app × environment, Argo CD and the runners.
pub fn spawn(
    inv: &Inventory,
    tx: UnboundedSender<LiveEvent>,
    pods: &PodScope,
) -> Option<tokio::task::JoinHandle<()>> {
    let (envs, argos) = specs(inv, pods);
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
    let migrations: Vec<MigrationSpec> = inv
        .migrations
        .iter()
        .flat_map(|cfg| {
            inv.environments.iter().map(|(env, e)| MigrationSpec {
                env: env.clone(),
                target: Target::from_inventory(inv, e.kube_context.as_deref()),
                namespace: e.namespace.clone(),
                cfg: cfg.clone(),
            })
        })
        .collect();
    Some(tokio::spawn(async move {
        let mut set = tokio::task::JoinSet::new();
        for s in migrations {
            set.spawn(run_migrations(s, tx.clone()));
        }
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
