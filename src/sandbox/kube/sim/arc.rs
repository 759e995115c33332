//! A simulated Actions Runner Controller (scale-set mode): per AutoscalingRunnerSet a listener,
//! an EphemeralRunnerSet, and EphemeralRunners with runner pods of the same names that start,
//! pick up jobs, finish and are replaced; some wait Pending, now and then one fails.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Clock, Marks, create, managed, owned_by, owner_ref, s, settle_runner, write};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::store::{Store, StoreError, now_rfc3339};

const VERSION: &str = "0.14.2";

/// The controller's memory between ticks.
pub struct ArcSim {
    store: Arc<Store>,
    clock: Clock,
    marks: Marks,
    runners_made: u64,
    runs: u64,
}

fn ptr_key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// Labels every object under a scale set carries (reference §3.1).
fn base_labels(ars: &Value, component: &str) -> Value {
    let url = s(ars, "/spec/githubConfigUrl");
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let repo = parts.next().unwrap_or_default();
    let org = parts.next().unwrap_or_default();
    let trim = |v: &str| v.chars().take(63).collect::<String>();
    json!({
        "app.kubernetes.io/part-of": "gha-runner-scale-set",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": VERSION,
        "actions.github.com/scale-set-name": s(ars, "/metadata/name"),
        "actions.github.com/scale-set-namespace": s(ars, "/metadata/namespace"),
        "actions.github.com/organization": trim(org),
        "actions.github.com/repository": trim(repo),
    })
}

impl ArcSim {
    pub fn new(store: Arc<Store>, clock: Clock) -> Self {
        ArcSim {
            store,
            clock,
            marks: Marks::default(),
            runners_made: 0,
            runs: 0,
        }
    }

    pub fn tick(&mut self) {
        for ars in managed(&self.store, ids::autoscalingrunnersets()) {
            if let Err(e) = self.reconcile(&ars) {
                tracing::debug!("sandbox arc: {e}");
            }
        }
    }

    fn reconcile(&mut self, ars: &Value) -> Result<(), StoreError> {
        let ns = s(ars, "/metadata/namespace").to_owned();
        let name = s(ars, "/metadata/name").to_owned();
        let min = ars
            .pointer("/spec/minRunners")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let max = ars
            .pointer("/spec/maxRunners")
            .and_then(Value::as_i64)
            .unwrap_or(5)
            .max(min);

        let listener_name = format!("{name}-listener");
        if self
            .store
            .get(ids::autoscalinglisteners(), &ns, &listener_name)
            .is_none()
        {
            let mut labels = base_labels(ars, "runner-scale-set-listener");
            labels["actions.github.com/scale-set-name"] = json!(name);
            create(
                &self.store,
                ids::autoscalinglisteners(),
                json!({
                    "metadata": {"name": listener_name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(ars)]},
                    "spec": {
                        "autoscalingRunnerSetName": name, "autoscalingRunnerSetNamespace": ns,
                        "ephemeralRunnerSetName": "", "githubConfigUrl": s(ars, "/spec/githubConfigUrl"),
                        "githubConfigSecret": s(ars, "/spec/githubConfigSecret"),
                        "runnerScaleSetId": 1, "minRunners": min, "maxRunners": max,
                        "image": format!("ghcr.io/actions/gha-runner-scale-set-controller:{VERSION}"),
                    },
                    "status": {},
                }),
            )?;
        }

        let (sets, _) = self.store.list(ids::ephemeralrunnersets(), Some(&ns));
        let ars_uid = super::uid(ars);
        let ers = match sets
            .iter()
            .map(|o| o.value())
            .find(|v| owned_by(v, &ars_uid))
        {
            Some(v) => v,
            None => create(
                &self.store,
                ids::ephemeralrunnersets(),
                json!({
                    "metadata": {
                        "generateName": format!("{name}-"), "namespace": ns,
                        "labels": base_labels(ars, "runner-set"),
                        "annotations": {"actions.github.com/runner-scale-set-name": name, "actions.github.com/runner-group-name": s(ars, "/spec/runnerGroup")},
                        "ownerReferences": [owner_ref(ars)],
                    },
                    "spec": {
                        "replicas": min, "patchID": 0,
                        "ephemeralRunnerSpec": {
                            "githubConfigUrl": s(ars, "/spec/githubConfigUrl"),
                            "githubConfigSecret": s(ars, "/spec/githubConfigSecret"),
                            "runnerScaleSetId": 1,
                            "metadata": ars.pointer("/spec/template/metadata").cloned().unwrap_or_else(|| json!({})),
                            "spec": ars.pointer("/spec/template/spec").cloned().unwrap_or_else(|| json!({"containers": []})),
                        },
                    },
                    "status": {"currentReplicas": 0},
                }),
            )?,
        };
        let ers_name = s(&ers, "/metadata/name").to_owned();
        let ers_uid = super::uid(&ers);

        // Demand rises and falls in waves so the panel always has something to show.
        let t = self
            .clock
            .since(self.marks.first_seen(&format!("start/{ars_uid}")));
        #[allow(clippy::cast_possible_truncation)]
        let wave = ((t / 20.0) as i64) % 3;
        let target = (min + wave).clamp(min, max);

        let runners: Vec<Value> = self
            .store
            .list(ids::ephemeralrunners(), Some(&ns))
            .0
            .iter()
            .map(|o| o.value())
            .filter(|r| owned_by(r, &ers_uid))
            .collect();
        let live = runners
            .iter()
            .filter(|r| !matches!(s(r, "/status/phase"), "Succeeded" | "Failed"))
            .count();
        for _ in i64::try_from(live).unwrap_or(0)..target {
            self.new_runner(ars, &ers)?;
        }
        for r in &runners {
            self.step_runner(r)?;
        }

        // Counters.
        let runners: Vec<Value> = self
            .store
            .list(ids::ephemeralrunners(), Some(&ns))
            .0
            .iter()
            .map(|o| o.value())
            .filter(|r| owned_by(r, &ers_uid))
            .collect();
        let count = |p: &str| {
            i64::try_from(
                runners
                    .iter()
                    .filter(|r| s(r, "/status/phase") == p)
                    .count(),
            )
            .unwrap_or(0)
        };
        let (pending, running, failed) = (
            count("Pending") + count(""),
            count("Running"),
            count("Failed"),
        );
        let current = i64::try_from(runners.len()).unwrap_or(0);
        let mut next_runner_set = ers.clone();
        next_runner_set["spec"]["replicas"] = json!(target);
        next_runner_set["status"] = json!({
            "currentReplicas": current, "pendingEphemeralRunners": pending,
            "runningEphemeralRunners": running, "failedEphemeralRunners": failed, "phase": "Running",
        });
        if next_runner_set != ers {
            write(&self.store, ids::ephemeralrunnersets(), next_runner_set)?;
        }
        let mut next_set = ars.clone();
        next_set["status"] = json!({
            "currentRunners": current, "pendingEphemeralRunners": pending,
            "runningEphemeralRunners": running, "failedEphemeralRunners": failed, "phase": "Running",
        });
        if next_set != *ars {
            write(&self.store, ids::autoscalingrunnersets(), next_set)?;
        }
        let _ = ers_name;
        Ok(())
    }

    fn new_runner(&mut self, ars: &Value, ers: &Value) -> Result<(), StoreError> {
        let ns = s(ers, "/metadata/namespace").to_owned();
        let mut labels = base_labels(ars, "runner");
        let mut annotations = json!({
            "actions.github.com/runner-group-name": s(ars, "/spec/runnerGroup"),
            "actions.github.com/runner-scale-set-name": s(ars, "/metadata/name"),
            "actions.github.com/patch-id": "0",
        });
        self.runners_made += 1;
        // Every seventh runner never comes online (it fails), every fifth waits long in Pending.
        let fate = if self.runners_made.is_multiple_of(7) {
            "fail"
        } else if self.runners_made.is_multiple_of(5) {
            "slow"
        } else {
            "ok"
        };
        annotations["sandbox.shipdeck.dev/fate"] = json!(fate);
        let runner = create(
            &self.store,
            ids::ephemeralrunners(),
            json!({
                "metadata": {
                    "generateName": format!("{}-runner-", s(ers, "/metadata/name")), "namespace": ns,
                    "labels": labels.clone(), "annotations": annotations, "ownerReferences": [owner_ref(ers)],
                    "finalizers": ["ephemeralrunner.actions.github.com/finalizer"],
                },
                "spec": ers.pointer("/spec/ephemeralRunnerSpec").cloned().unwrap_or_else(|| json!({})),
                "status": {"phase": "Pending", "ready": false},
            }),
        )?;
        let name = s(&runner, "/metadata/name").to_owned();
        self.marks.first_seen(&format!("runner/{ns}/{name}"));
        labels["actions-ephemeral-runner"] = json!("True");
        labels["pod-template-hash"] = json!("5c7d8b9f6");
        let mut spec = ers
            .pointer("/spec/ephemeralRunnerSpec/spec")
            .cloned()
            .unwrap_or_else(|| json!({}));
        spec["restartPolicy"] = json!("Never");
        spec["nodeName"] = json!("sandbox-node-1");
        create(
            &self.store,
            ids::pods(),
            json!({
                "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(&runner)]},
                "spec": spec,
                "status": {"phase": "Pending", "qosClass": "BestEffort"},
            }),
        )?;
        Ok(())
    }

    /// Moves one runner (and its pod) along: Pending → Running → job → Succeeded → gone.
    fn step_runner(&mut self, r: &Value) -> Result<(), StoreError> {
        let ns = s(r, "/metadata/namespace").to_owned();
        let name = s(r, "/metadata/name").to_owned();
        let key = format!("runner/{ns}/{name}");
        let age = self.clock.since(self.marks.first_seen(&key));
        let fate = s(
            r,
            &format!(
                "/metadata/annotations/{}",
                ptr_key("sandbox.shipdeck.dev/fate")
            ),
        )
        .to_owned();
        let phase = s(r, "/status/phase").to_owned();
        let pending_for = if fate == "slow" { 12.0 } else { 2.0 };
        let mut st = r.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut pod_phase = None;
        match phase.as_str() {
            "Pending" | "" if fate == "fail" && age >= 4.0 => {
                st["phase"] = json!("Failed");
                st["reason"] = json!("TooManyPodFailures");
                st["message"] = json!("Pod has failed to start more than 5 times");
                st["failures"] = json!({"sandbox-pod-uid": now_rfc3339()});
                pod_phase = Some("Failed");
            }
            "Pending" | "" if fate != "fail" && age >= pending_for => {
                self.runs += 1;
                let id = 1000 + i64::try_from(self.runners_made).unwrap_or(0);
                st["phase"] = json!("Running");
                st["ready"] = json!(true);
                st["runnerId"] = json!(id);
                st["runnerName"] = json!(name);
                pod_phase = Some("Running");
            }
            "Running"
                if r.pointer("/status/workflowRunId").is_none() && age >= pending_for + 1.5 =>
            {
                let run = 9_000_000_000i64 + i64::try_from(self.runs).unwrap_or(0) * 7;
                let repo = s(
                    r,
                    &format!(
                        "/metadata/labels/{}",
                        ptr_key("actions.github.com/repository")
                    ),
                )
                .to_owned();
                let org = s(
                    r,
                    &format!(
                        "/metadata/labels/{}",
                        ptr_key("actions.github.com/organization")
                    ),
                )
                .to_owned();
                let wf = if run % 2 == 0 {
                    "ci.yml"
                } else {
                    "release.yml"
                };
                st["workflowRunId"] = json!(run);
                st["jobRequestId"] = json!(run + 1);
                st["jobId"] = json!(format!("{}", run + 2));
                st["jobRepositoryName"] = json!(format!("{org}/{repo}"));
                st["jobWorkflowRef"] = json!(format!(
                    "{org}/{repo}/.github/workflows/{wf}@refs/heads/main"
                ));
                st["jobDisplayName"] = json!(if run % 2 == 0 { "build" } else { "test" });
            }
            "Running"
                if r.pointer("/status/workflowRunId").is_some() && age >= pending_for + 12.0 =>
            {
                st["phase"] = json!("Succeeded");
                st["ready"] = json!(false);
                pod_phase = Some("Succeeded");
            }
            "Succeeded" if age >= pending_for + 14.0 => return self.remove(&ns, &name, &key),
            "Failed" if age >= 10.0 => return self.remove(&ns, &name, &key),
            _ => {}
        }
        settle_runner(&self.store, ids::ephemeralrunners(), r, st, pod_phase)
    }

    fn remove(&mut self, ns: &str, name: &str, key: &str) -> Result<(), StoreError> {
        let _ = self.store.delete(ids::pods(), ns, name);
        self.marks.forget(key);
        self.store
            .delete(ids::ephemeralrunners(), ns, name)
            .map(|_| ())
    }
}
