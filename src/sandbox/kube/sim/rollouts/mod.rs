//! A simulated Argo Rollouts controller (canary strategy): ReplicaSets per pod-template hash,
//! pods that become ready over time, canary steps (setWeight, pause, analysis), AnalysisRuns
//! with measurements from a scenario, and the status fields the real controller maintains.
//! It honours the plugin's patches: promote, promote-full, abort, retry, pause, restart.
//!
//! A Rollout's reconcile runs in phases over one `Pass`, so the Rollout is written once, at
//! the end, with everything the pass decided: the current template's ReplicaSet and revision
//! (`revision`), the user's controls (`controls`), the canary step at hand (`steps`), scaling
//! the ReplicaSets (`scale`) and the status the controller reports (`status`). AnalysisRuns
//! have their own loop (`analysis`).

mod analysis;
mod controls;
mod pass;
mod revision;
mod scale;
mod status;
mod steps;

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::{Clock, Marks, event, is_managed, s, write_if_unchanged};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::store::{Store, StoreError};
use pass::Pass;

const HASH_LABEL: &str = "rollouts-pod-template-hash";
const REVISION: &str = "rollout.argoproj.io/revision";
const SCENARIO: &str = "sandbox.shipdeck.dev/scenario";
const COMPONENT: &str = "rollouts-controller";

/// Pods are Pending for this many simulated seconds, then Running, then ready.
const POD_PENDING_SECS: f64 = 1.0;
const POD_READY_SECS: f64 = 3.0;

/// The controller's memory between ticks (the real one keeps informer caches and queues).
pub struct RolloutsSim {
    store: Arc<Store>,
    clock: Clock,
    marks: Marks,
}

/// A pod-template hash in the shape Kubernetes prints (FNV-1a, safe alphabet).
pub fn pod_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::new();
    for _ in 0..10 {
        out.push(char::from(ALPHABET[usize::try_from(h % 27).unwrap_or(0)]));
        h /= 27;
    }
    out
}

fn revision_of(v: &Value) -> i64 {
    s(
        v,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0)
}

fn pod_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
        })
}

fn obj_key(v: &Value) -> String {
    format!(
        "{}/{}/{}",
        s(v, "/kind"),
        s(v, "/metadata/namespace"),
        s(v, "/metadata/name")
    )
}

/// The tag of the first container's image.
pub fn image_tag(image: &str) -> &str {
    image.rsplit_once(':').map_or("", |(_, t)| t)
}

/// The replicas a setWeight asks of the canary.
fn canary_replicas(weight: i64, replicas: i64) -> i64 {
    (weight * replicas + 99) / 100
}

/// The last setWeight at or before `idx` (100 past the end).
fn set_weight(steps: &[Value], idx: usize) -> i64 {
    if idx >= steps.len() {
        return 100;
    }
    steps[..=idx]
        .iter()
        .rev()
        .find_map(|st| st.get("setWeight").and_then(Value::as_i64))
        .unwrap_or(0)
}

struct Ns {
    rs: Vec<Value>,
    pods: Vec<Value>,
    ars: Vec<Value>,
}

impl RolloutsSim {
    pub fn new(store: Arc<Store>, clock: Clock) -> Self {
        RolloutsSim {
            store,
            clock,
            marks: Marks::default(),
        }
    }

    fn load_ns(&self, ns: &str) -> Ns {
        let parse = |res| -> Vec<Value> {
            self.store
                .list(res, Some(ns))
                .0
                .iter()
                .map(|o| o.value())
                .collect()
        };
        Ns {
            rs: parse(ids::replicasets()),
            pods: parse(ids::pods()),
            ars: parse(ids::analysisruns()),
        }
    }

    /// One pass over every managed Rollout and AnalysisRun.
    pub fn tick(&mut self) {
        let rollouts: Vec<Value> = self
            .store
            .list(ids::rollouts(), None)
            .0
            .iter()
            .map(|o| o.value())
            .filter(is_managed)
            .collect();
        let namespaces: BTreeSet<String> = rollouts
            .iter()
            .map(|r| s(r, "/metadata/namespace").to_owned())
            .collect();
        for ns in &namespaces {
            let data = self.load_ns(ns);
            for ar in data.ars.iter().filter(|a| is_managed(a)) {
                if let Err(e) = self.reconcile_analysis(ar) {
                    tracing::debug!("sandbox analysisrun: {e}");
                }
            }
            let data = self.load_ns(ns);
            for ro in rollouts
                .iter()
                .filter(|r| s(r, "/metadata/namespace") == ns)
            {
                if let Err(e) = self.reconcile(ro, &data) {
                    tracing::debug!("sandbox rollout: {e}");
                }
            }
        }
    }

    /// One Rollout, phase by phase; each phase reads what the earlier ones decided.
    fn reconcile(&mut self, ro: &Value, data: &Ns) -> Result<(), StoreError> {
        let mut pass = Pass::read(ro, data);
        self.ensure_replicaset(&mut pass)?;
        pass.observe_new_revision();
        pass.read_progress();
        self.retry_if_abort_cleared(&mut pass);
        pass.promote_full_if_asked();
        self.restart_if_due(&mut pass);
        pass.read_pause();
        if pass.steps_may_advance() {
            self.advance_step(&mut pass)?;
            pass.complete_if_steps_done();
        }
        if pass.aborted {
            pass.settle_abort();
        }
        self.scale_replicasets(&pass)?;
        let (new, events) = pass.into_rollout();
        if new != *ro {
            write_if_unchanged(&self.store, ids::rollouts(), new.clone())?;
        }
        for (kind, reason, msg) in events {
            event(&self.store, &new, kind, reason, &msg, COMPONENT);
        }
        Ok(())
    }
}
