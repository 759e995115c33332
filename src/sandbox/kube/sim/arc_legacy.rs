//! A simulated legacy Actions Runner Controller (`actions.summerwind.dev`): per RunnerDeployment
//! a RunnerReplicaSet, and Runners with runner pods of the same names that come online, serve one
//! job each (ephemeral, the legacy default) and are replaced. A HorizontalRunnerAutoscaler that
//! targets a RunnerDeployment moves its desired count in waves between min and max.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Clock, Marks, create, managed, owned_by, owner_ref, s, settle_runner, uid, write};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::store::{Store, StoreError, now_rfc3339};

const TEMPLATE_HASH: &str = "6f8d9c7b5";

/// The controller's memory between ticks.
pub struct LegacyArcSim {
    store: Arc<Store>,
    clock: Clock,
    marks: Marks,
    runs: u64,
}

impl LegacyArcSim {
    pub fn new(store: Arc<Store>, clock: Clock) -> Self {
        LegacyArcSim {
            store,
            clock,
            marks: Marks::default(),
            runs: 0,
        }
    }

    pub fn tick(&mut self) {
        for rd in managed(&self.store, ids::runnerdeployments()) {
            if let Err(e) = self.reconcile(&rd) {
                tracing::debug!("sandbox legacy arc: {e}");
            }
        }
    }

    /// The autoscaler's desired count (and writes it to the HRA's status), or the deployment's
    /// own `spec.replicas`.
    fn desired(&mut self, rd: &Value) -> Result<i64, StoreError> {
        let ns = s(rd, "/metadata/namespace");
        let name = s(rd, "/metadata/name");
        let hra = self
            .store
            .list(ids::horizontalrunnerautoscalers(), Some(ns))
            .0
            .iter()
            .map(|o| o.value())
            .find(|h| {
                s(h, "/spec/scaleTargetRef/name") == name
                    && matches!(s(h, "/spec/scaleTargetRef/kind"), "" | "RunnerDeployment")
            });
        let Some(hra) = hra else {
            return Ok(rd
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1));
        };
        let min = hra
            .pointer("/spec/minReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let max = hra
            .pointer("/spec/maxReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(min)
            .max(min);
        let t = self
            .clock
            .since(self.marks.first_seen(&format!("hra/{}", uid(&hra))));
        #[allow(clippy::cast_possible_truncation)]
        let wave = ((t / 25.0) as i64) % 3;
        let desired = (min + wave).clamp(min, max);
        if hra
            .pointer("/status/desiredReplicas")
            .and_then(Value::as_i64)
            != Some(desired)
        {
            let mut next = hra.clone();
            next["status"] =
                json!({"desiredReplicas": desired, "lastSuccessfulScaleOutTime": now_rfc3339()});
            write(&self.store, ids::horizontalrunnerautoscalers(), next)?;
        }
        Ok(desired)
    }

    fn reconcile(&mut self, rd: &Value) -> Result<(), StoreError> {
        let ns = s(rd, "/metadata/namespace").to_owned();
        let name = s(rd, "/metadata/name").to_owned();
        let desired = self.desired(rd)?;
        let rd_uid = uid(rd);
        let rrs = match self
            .store
            .list(ids::runnerreplicasets(), Some(&ns))
            .0
            .iter()
            .map(|o| o.value())
            .find(|v| owned_by(v, &rd_uid))
        {
            Some(v) => v,
            None => create(
                &self.store,
                ids::runnerreplicasets(),
                json!({
                    "metadata": {
                        "name": format!("{name}-{TEMPLATE_HASH}"), "namespace": ns,
                        "labels": {"runner-deployment-name": name, "runner-template-hash": TEMPLATE_HASH},
                        "ownerReferences": [owner_ref(rd)],
                    },
                    "spec": {"replicas": desired, "template": rd.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}))},
                    "status": {},
                }),
            )?,
        };
        let rrs_uid = uid(&rrs);
        let mine = |store: &Store| -> Vec<Value> {
            store
                .list(ids::runners(), Some(&ns))
                .0
                .iter()
                .map(|o| o.value())
                .filter(|r| owned_by(r, &rrs_uid))
                .collect()
        };
        let runners = mine(&self.store);
        let have = i64::try_from(runners.len()).unwrap_or(0);
        for _ in have..desired {
            self.new_runner(rd, &rrs)?;
        }
        // Scale down by removing idle runners only: a busy one finishes its job first.
        let mut extra = have - desired;
        for r in &runners {
            if extra <= 0 {
                break;
            }
            if r.pointer("/status/workflow").is_none_or(Value::is_null) {
                self.remove(r);
                extra -= 1;
            }
        }
        for r in &mine(&self.store) {
            self.step_runner(r)?;
        }

        let runners = mine(&self.store);
        let count = i64::try_from(runners.len()).unwrap_or(0);
        let ready = i64::try_from(
            runners
                .iter()
                .filter(|r| r.pointer("/status/ready") == Some(&json!(true)))
                .count(),
        )
        .unwrap_or(0);
        let mut next_rrs = rrs.clone();
        next_rrs["spec"]["replicas"] = json!(desired);
        next_rrs["status"] =
            json!({"replicas": count, "readyReplicas": ready, "availableReplicas": ready});
        if next_rrs != rrs {
            write(&self.store, ids::runnerreplicasets(), next_rrs)?;
        }
        let mut next_rd = rd.clone();
        next_rd["status"] = json!({
            "replicas": count, "readyReplicas": ready, "availableReplicas": ready,
            "updatedReplicas": count, "desiredReplicas": desired,
        });
        if next_rd != *rd {
            write(&self.store, ids::runnerdeployments(), next_rd)?;
        }
        Ok(())
    }

    fn new_runner(&mut self, rd: &Value, rrs: &Value) -> Result<(), StoreError> {
        let ns = s(rrs, "/metadata/namespace").to_owned();
        let rd_name = s(rd, "/metadata/name");
        let labels =
            json!({"runner-deployment-name": rd_name, "runner-template-hash": TEMPLATE_HASH});
        let spec = rd
            .pointer("/spec/template/spec")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let runner = create(
            &self.store,
            ids::runners(),
            json!({
                "metadata": {
                    "generateName": format!("{}-", s(rrs, "/metadata/name")), "namespace": ns,
                    "labels": labels, "ownerReferences": [owner_ref(rrs)],
                    "finalizers": ["runner.actions.summerwind.dev"],
                },
                "spec": spec,
                "status": {"ready": false, "phase": "Pending"},
            }),
        )?;
        let name = s(&runner, "/metadata/name").to_owned();
        self.marks.first_seen(&format!("legacy/{ns}/{name}"));
        let mut pod_labels = labels;
        pod_labels["actions-runner"] = json!("");
        pod_labels["pod-template-hash"] = json!(TEMPLATE_HASH);
        pod_labels["actions-runner-controller/inject-registration-token"] = json!("true");
        let image = s(&runner, "/spec/image");
        let image = if image.is_empty() {
            "summerwind/actions-runner:latest"
        } else {
            image
        };
        create(
            &self.store,
            ids::pods(),
            json!({
                "metadata": {"name": name, "namespace": ns, "labels": pod_labels, "ownerReferences": [owner_ref(&runner)]},
                "spec": {"containers": [{"name": "runner", "image": image}], "restartPolicy": "OnFailure", "nodeName": "sandbox-node-1"},
                "status": {"phase": "Pending", "qosClass": "BestEffort"},
            }),
        )?;
        Ok(())
    }

    /// Pending → Running (online) → serving a job → done and replaced.
    fn step_runner(&mut self, r: &Value) -> Result<(), StoreError> {
        let ns = s(r, "/metadata/namespace").to_owned();
        let name = s(r, "/metadata/name").to_owned();
        let age = self
            .clock
            .since(self.marks.first_seen(&format!("legacy/{ns}/{name}")));
        let busy = r.pointer("/status/workflow").is_some_and(|w| !w.is_null());
        let mut st = r.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut pod_phase = None;
        match s(r, "/status/phase") {
            "Pending" | "" if age >= 2.0 => {
                st["phase"] = json!("Running");
                st["ready"] = json!(true);
                pod_phase = Some("Running");
            }
            "Running" if !busy && age >= 4.0 && (age / 4.0).rem_euclid(2.0) >= 1.0 => {
                self.runs += 1;
                let labels = s(r, "/spec/repository");
                let repo = if labels.is_empty() {
                    "example-org/example"
                } else {
                    labels
                };
                let owner = repo.split('/').next().unwrap_or_default();
                let run_id = 7_000_000_000u64 + self.runs * 11;
                st["workflow"] = json!({
                    "name": if self.runs.is_multiple_of(2) { "CI" } else { "Nightly" },
                    "repository": repo, "repositoryOwner": owner,
                    "runNumber": (400 + self.runs).to_string(), "runID": run_id.to_string(),
                    "job": if self.runs.is_multiple_of(2) { "build-arm64" } else { "e2e" },
                    "action": "__run",
                });
            }
            "Running" if busy && age >= 16.0 => {
                // Ephemeral: the runner exits after its job and the controller replaces it.
                self.remove(r);
                return Ok(());
            }
            _ => {}
        }
        settle_runner(&self.store, ids::runners(), r, st, pod_phase)
    }

    fn remove(&mut self, r: &Value) {
        let ns = s(r, "/metadata/namespace");
        let name = s(r, "/metadata/name");
        let _ = self.store.delete(ids::pods(), ns, name);
        let _ = self.store.delete(ids::runners(), ns, name);
        self.marks.forget(&format!("legacy/{ns}/{name}"));
    }
}
