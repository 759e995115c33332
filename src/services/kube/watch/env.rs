//! One environment's rollout watch: Rollouts, ReplicaSets, pods, AnalysisRuns and
//! Experiments of its namespace, derived into the Rollout panel's snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::Resource;
use kube::runtime::reflector::Store;
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::sync::mpsc::UnboundedSender;

use crate::services::kube::client::Target;
use crate::services::kube::model::{
    AnalysisRun, Experiment, POD_HASH_LABEL, Pod, ReplicaSet, Rollout,
};
use crate::services::kube::{FeedId, LiveEvent, RolloutInfo, info};

use super::{ask_access, connect, drive, watch};

/// What one environment's rollout watch needs from the inventory.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub env: String,
    pub target: Target,
    /// The namespaces its apps run in, each with its apps (app name → Rollout name).
    pub namespaces: Vec<NsSpec>,
    /// Whose pods to watch.
    pub pods: PodScope,
}

/// One namespace of an environment and the apps that run there.
#[derive(Debug, Clone)]
pub struct NsSpec {
    pub namespace: String,
    /// app name → Rollout name.
    pub apps: Vec<(String, String)>,
}

/// Whose pods a rollout watch lists.
#[derive(Debug, Clone)]
pub enum PodScope {
    /// Every Rollout-made pod of the namespaces (a headless read of a few apps).
    All,
    /// Only the pods of the app on screen (`None`: no app is open, as in the fleet view). A
    /// platform's namespaces hold thousands of pods nobody is looking at.
    OnScreen(tokio::sync::watch::Receiver<Option<String>>),
}

impl EnvSpec {
    /// One namespace, every pod: what the headless reads ask.
    pub fn single(
        env: String,
        target: Target,
        namespace: String,
        apps: Vec<(String, String)>,
    ) -> EnvSpec {
        EnvSpec {
            env,
            target,
            namespaces: vec![NsSpec { namespace, apps }],
            pods: PodScope::All,
        }
    }
}

/// Objects by the UID of their controller/owner, so each app's tree is a few lookups instead of
/// a scan. `keep` limits which owners are indexed (a busy namespace's pods mostly belong to apps
/// nobody asked about). Fx hashing: the keys are UIDs from our own API server, and this runs on
/// every snapshot.
pub(super) fn by_owner<K: Resource>(
    objs: &[Arc<K>],
    keep: impl Fn(&str) -> bool,
) -> FxHashMap<&str, Vec<&K>> {
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
pub(super) struct Tree<'a> {
    pub(super) app: &'a str,
    pub(super) ro: &'a Rollout,
    pub(super) exps: Vec<&'a Experiment>,
    pub(super) rss: Vec<&'a ReplicaSet>,
    pub(super) runs: Vec<&'a AnalysisRun>,
}

/// Per app, the derived view of its Rollout from the stores; `with_pods` says whose pods the
/// store holds (the others' views say their pods were not listed).
pub fn derive_env(
    apps: &[(String, String)],
    rollouts: &Store<Rollout>,
    rss: &Store<ReplicaSet>,
    pods: &Store<Pod>,
    exps: &Store<Experiment>,
    ars: &Store<AnalysisRun>,
    with_pods: impl Fn(&str) -> bool,
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
        let listed = with_pods(t.app);
        let my_pods: Vec<&Pod> = t
            .rss
            .iter()
            .filter(|_| listed)
            .filter_map(|r| r.metadata.uid.as_deref())
            .flat_map(|u| pods_by.get(u).cloned().unwrap_or_default())
            .collect();
        let mut ri = info::rollout_info(t.ro, &t.rss, &my_pods, &t.exps, &t.runs);
        ri.pods_listed = listed;
        out.insert(t.app.to_owned(), Some(ri));
    }
    out
}

/// Watches one environment: one client, and per namespace one watch per kind shared by every
/// app there (Rollouts, ReplicaSets, Experiments, AnalysisRuns; pods as [`PodScope`] says).
pub async fn run_env(spec: EnvSpec, tx: UnboundedSender<LiveEvent>) {
    let feed = FeedId::Cluster(spec.env.clone());
    let Some(client) = connect(&spec.target, &feed, &tx).await else {
        return;
    };
    let client = Arc::new(client);
    // Ask RBAC beside the watches, so the keys grey out before anyone presses them.
    if let Some(first) = spec.namespaces.first() {
        tokio::spawn(ask_access(
            client.client.clone(),
            spec.env.clone(),
            first.namespace.clone(),
            tx.clone(),
        ));
    }
    let watches = spec.namespaces.into_iter().map(|ns| {
        run_namespace(
            Arc::clone(&client),
            spec.env.clone(),
            ns,
            spec.pods.clone(),
            feed.clone(),
            tx.clone(),
        )
    });
    futures::future::join_all(watches).await;
}

/// The label selector of the pods `app`'s Rollout made: its own selector plus the label only
/// Argo Rollouts sets (so a Deployment sharing the labels stays out).
fn pod_selector(ro: &Store<Rollout>, rollout: &str) -> String {
    let found = ro.state().into_iter().find_map(|r| {
        (r.metadata.name.as_deref() == Some(rollout)).then(|| r.spec.selector.match_labels.clone())
    });
    let mut parts = vec![POD_HASH_LABEL.to_owned()];
    parts.extend(found.iter().flatten().map(|(k, v)| format!("{k}={v}")));
    parts.join(",")
}

async fn run_namespace(
    client: Arc<super::WatchClient>,
    env: String,
    spec: NsSpec,
    scope: PodScope,
    feed: FeedId,
    tx: UnboundedSender<LiveEvent>,
) {
    let ns = spec.namespace.as_str();
    // Only objects Argo Rollouts made carry the rollouts-pod-template-hash label: the label
    // selector keeps the ReplicaSets and pods of a busy namespace's Deployments out of memory.
    let (ro, s0) = watch::<Rollout>(&client, ns, None, 0);
    let (rs, s1) = watch::<ReplicaSet>(&client, ns, Some(POD_HASH_LABEL), 1);
    let (exps, s3) = watch::<Experiment>(&client, ns, Some(POD_HASH_LABEL), 3);
    let (ars, s4) = watch::<AnalysisRun>(&client, ns, None, 4);
    let all = matches!(scope, PodScope::All);
    let (want_tx, want_rx) = tokio::sync::watch::channel(all.then(|| POD_HASH_LABEL.to_owned()));
    let (pods, listed, s2) = super::switching::<Pod>(&client, ns, want_rx, 2);
    let mut streams = vec![s0, s1, s2, s3, s4];
    let on_screen = match scope {
        PodScope::All => None,
        PodScope::OnScreen(rx) => {
            streams.push(super::changes(rx.clone(), 5));
            Some(rx)
        }
    };
    let streams = futures::stream::select_all(streams);
    drive(
        streams,
        5,
        feed,
        tx,
        || {
            let open = on_screen.as_ref().and_then(|rx| rx.borrow().clone());
            let shown: Vec<(String, String)> = spec
                .apps
                .iter()
                .filter(|(app, _)| all || open.as_deref() == Some(app.as_str()))
                .cloned()
                .collect();
            if !all {
                let want = shown.first().map(|(_, name)| pod_selector(&ro, name));
                want_tx.send_if_modified(|w| {
                    let changed = *w != want;
                    *w = want;
                    changed
                });
            }
            let pods_ok = *want_tx.borrow()
                == *listed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            derive_env(&spec.apps, &ro, &rs, &pods, &exps, &ars, |app| {
                pods_ok && shown.iter().any(|(a, _)| a == app)
            })
        },
        |rollouts| LiveEvent::Rollouts {
            env: env.clone(),
            rollouts,
        },
    )
    .await;
}
