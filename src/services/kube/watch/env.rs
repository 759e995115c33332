//! One environment's rollout watch: Rollouts, ReplicaSets, pods, AnalysisRuns and
//! Experiments of its namespace, derived into the Rollout panel's snapshot.

use std::collections::BTreeMap;
use std::fmt::Debug;
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
    pub namespace: String,
    /// app name → Rollout name.
    pub apps: Vec<(String, String)>,
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
