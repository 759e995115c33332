//! The current template's ReplicaSet and revision, and what a newly seen template resets.

use serde_json::{Value, json};

use super::pass::{Pass, hash_of};
use super::{HASH_LABEL, REVISION, RolloutsSim, revision_of};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::sim::{create, owned_by, owner_ref, write};
use crate::sandbox::kube::store::StoreError;

impl RolloutsSim {
    /// Creates the current template's ReplicaSet at the next revision, or lifts an older one
    /// to it, and records the revision the Rollout now runs.
    pub(super) fn ensure_replicaset(&mut self, p: &mut Pass) -> Result<(), StoreError> {
        p.replicasets = p
            .data
            .rs
            .iter()
            .filter(|r| owned_by(r, &p.uid))
            .cloned()
            .collect();
        let max_rev = p.replicasets.iter().map(revision_of).max().unwrap_or(0);
        match p.replicasets.iter().position(|r| hash_of(r) == p.hash) {
            None => {
                let mut tmpl =
                    p.ro.pointer("/spec/template")
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                tmpl["metadata"]["labels"][HASH_LABEL] = json!(p.hash);
                let mut selector =
                    p.ro.pointer("/spec/selector/matchLabels")
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                selector[HASH_LABEL] = json!(p.hash);
                let rs = json!({
                    "metadata": {
                        "name": p.rs_name, "namespace": p.ns,
                        "labels": tmpl["metadata"]["labels"].clone(),
                        "annotations": {REVISION: (max_rev + 1).to_string(), "rollout.argoproj.io/desired-replicas": p.replicas.to_string()},
                        "ownerReferences": [owner_ref(p.ro)],
                    },
                    "spec": {"replicas": 0, "selector": {"matchLabels": selector}, "template": tmpl},
                    "status": {"replicas": 0},
                });
                p.replicasets
                    .push(create(&self.store, ids::replicasets(), rs)?);
                p.event(
                    "Normal",
                    "NewReplicaSetCreated",
                    format!(
                        "Created ReplicaSet {} (revision {})",
                        p.rs_name,
                        max_rev + 1
                    ),
                );
            }
            Some(pos) if revision_of(&p.replicasets[pos]) < max_rev => {
                // Going back to an older template re-uses its ReplicaSet under a new revision.
                let mut rs = p.replicasets[pos].clone();
                rs["metadata"]["annotations"][REVISION] = json!((max_rev + 1).to_string());
                write(&self.store, ids::replicasets(), rs.clone())?;
                p.replicasets[pos] = rs;
            }
            Some(_) => {}
        }
        p.current_rev = p
            .replicasets
            .iter()
            .find(|r| hash_of(r) == p.hash)
            .map_or(1, revision_of);
        Ok(())
    }
}

impl Pass<'_> {
    /// A template not seen before starts the steps over; the first one, or a return to the
    /// stable template, skips them.
    pub fn observe_new_revision(&mut self) {
        if self.status.get("currentPodHash").and_then(Value::as_str) == Some(self.hash.as_str()) {
            return;
        }
        let stable_before = self
            .status
            .get("stableRS")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let first = stable_before.is_none();
        self.status
            .insert("currentPodHash".to_owned(), json!(self.hash));
        self.status.remove("abort");
        self.status.remove("abortedAt");
        self.status.remove("pauseConditions");
        self.status
            .insert("controllerPause".to_owned(), json!(false));
        self.forget_step_analysis();
        let back_to_stable = stable_before.as_deref() == Some(self.hash.as_str());
        let nsteps = self.nsteps();
        let idx = if first || back_to_stable { nsteps } else { 0 };
        if nsteps > 0 {
            self.status
                .insert("currentStepIndex".to_owned(), json!(idx));
        }
        if first {
            self.status.insert("stableRS".to_owned(), json!(self.hash));
        }
        let message = format!("Rollout updated to revision {}", self.current_rev);
        self.event("Normal", "RolloutUpdated", message);
    }
}
