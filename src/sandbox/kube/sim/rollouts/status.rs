//! The status the controller reports at the end of a pass: replica counters, the traffic
//! weights, the phase and message `rolloututil.CalculateRolloutPhase` would compute, and the
//! conditions.

use serde_json::{Value, json};

use super::pass::{Pass, PendingEvent, hash_of};
use super::{REVISION, canary_replicas, pod_hash};
use crate::sandbox::kube::sim::{i, s, set_condition};

/// Pods of this Rollout as listed at the start of the tick.
struct Counts {
    total: i64,
    ready: i64,
    /// Pods of the current template.
    updated: i64,
}

impl Pass<'_> {
    /// The Rollout with the status this pass built, and the Events to emit once it is written.
    pub fn into_rollout(mut self) -> (Value, Vec<PendingEvent>) {
        let counts = self.counts();
        let (phase, message) = self.phase_and_message(&counts);
        self.set_status_fields(&counts, phase, &message);
        self.set_traffic_weights();
        self.set_conditions(&counts, phase, &message);
        let mut new = self.ro.clone();
        new["status"] = Value::Object(self.status);
        new["metadata"]["annotations"][REVISION] = json!(self.current_rev.to_string());
        (new, self.events)
    }

    fn counts(&self) -> Counts {
        let mut counts = Counts {
            total: 0,
            ready: 0,
            updated: 0,
        };
        for rs in &self.replicasets {
            let pods = i64::try_from(self.pods_of(rs).len()).unwrap_or(0);
            counts.total += pods;
            counts.ready += self.ready_pods_of(rs);
            if hash_of(rs) == self.hash {
                counts.updated = pods;
            }
        }
        counts
    }

    /// The weight traffic really has: the step's once its canary pods are ready, else what
    /// was reached before (never more than the step asks).
    fn actual_weight(&self) -> i64 {
        let weight = self.weight();
        if self.fully_promoted || self.aborted {
            0
        } else if self.canary_available >= canary_replicas(weight, self.replicas) {
            weight
        } else {
            self.status
                .get("canary")
                .and_then(|c| c.pointer("/weights/canary/weight"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .min(weight)
        }
    }

    fn phase_and_message(&self, counts: &Counts) -> (&'static str, String) {
        if self.aborted {
            let mut m = format!(
                "RolloutAborted: Rollout aborted update to revision {}",
                self.current_rev
            );
            if !self.abort_reason.is_empty() {
                m.push_str(": ");
                m.push_str(&self.abort_reason);
            }
            ("Degraded", m)
        } else if self.paused_by_spec {
            ("Paused", "manually paused".to_owned())
        } else if let Some(pc) = self.pause_conditions.first() {
            ("Paused", s(pc, "/reason").to_owned())
        } else if counts.updated < self.replicas {
            ("Progressing", "more replicas need to be updated".to_owned())
        } else if counts.ready < counts.updated {
            (
                "Progressing",
                "updated replicas are still becoming available".to_owned(),
            )
        } else if self.stable() != self.hash {
            (
                "Progressing",
                "waiting for all steps to complete".to_owned(),
            )
        } else if counts.total > self.replicas {
            (
                "Progressing",
                "old replicas are pending termination".to_owned(),
            )
        } else {
            ("Healthy", String::new())
        }
    }

    fn set_status_fields(&mut self, counts: &Counts, phase: &str, message: &str) {
        let status = &mut self.status;
        if !self.steps.is_empty() {
            status.insert("currentStepIndex".to_owned(), json!(self.idx));
            status.insert(
                "currentStepHash".to_owned(),
                json!(pod_hash(&json!(self.steps))),
            );
        }
        if self.pause_conditions.is_empty() {
            status.remove("pauseConditions");
        } else {
            status.insert("pauseConditions".to_owned(), json!(self.pause_conditions));
        }
        status.insert("controllerPause".to_owned(), json!(self.controller_pause));
        status.insert("replicas".to_owned(), json!(counts.total));
        status.insert("updatedReplicas".to_owned(), json!(counts.updated));
        status.insert("readyReplicas".to_owned(), json!(counts.ready));
        status.insert("availableReplicas".to_owned(), json!(counts.ready));
        status.insert("HPAReplicas".to_owned(), json!(counts.total));
        status.insert(
            "observedGeneration".to_owned(),
            json!(i(self.ro, "/metadata/generation").to_string()),
        );
        status.insert("phase".to_owned(), json!(phase));
        if message.is_empty() {
            status.remove("message");
        } else {
            status.insert("message".to_owned(), json!(message));
        }
        let selector = self
            .ro
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        status.insert("selector".to_owned(), json!(selector));
    }

    /// With traffic routing, the weights each service gets; without, only an empty `canary`.
    fn set_traffic_weights(&mut self) {
        let weights = self
            .ro
            .pointer("/spec/strategy/canary/trafficRouting")
            .map(|_| {
                let actual = self.actual_weight();
                let svc = |k: &str| s(self.ro, &format!("/spec/strategy/canary/{k}")).to_owned();
                json!({
                    "canary": {"podTemplateHash": self.hash, "serviceName": svc("canaryService"), "weight": actual},
                    "stable": {"podTemplateHash": self.stable(), "serviceName": svc("stableService"), "weight": 100 - actual},
                })
            });
        let canary = self
            .status
            .entry("canary".to_owned())
            .or_insert_with(|| json!({}));
        if let (Some(weights), Some(c)) = (weights, canary.as_object_mut()) {
            c.insert("weights".to_owned(), weights);
        }
    }

    fn set_conditions(&mut self, counts: &Counts, phase: &str, message: &str) {
        let mut conds: Vec<Value> = self
            .status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let available = counts.ready >= self.replicas;
        set_condition(
            &mut conds,
            "Available",
            available,
            "AvailableReason",
            if available {
                "Rollout has minimum availability"
            } else {
                "Rollout does not have minimum availability"
            },
        );
        let rs_name = &self.rs_name;
        match phase {
            "Degraded" => {
                set_condition(&mut conds, "Progressing", false, "RolloutAborted", message);
            }
            "Paused" => set_condition(
                &mut conds,
                "Progressing",
                true,
                "RolloutPaused",
                "Rollout is paused",
            ),
            "Healthy" => set_condition(
                &mut conds,
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            ),
            _ => set_condition(
                &mut conds,
                "Progressing",
                true,
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs_name}\" is progressing."),
            ),
        }
        let paused = phase == "Paused";
        set_condition(
            &mut conds,
            "Paused",
            paused,
            if paused {
                "RolloutPaused"
            } else {
                "RolloutResumed"
            },
            if paused {
                "Rollout is paused"
            } else {
                "Rollout is resumed"
            },
        );
        let healthy = phase == "Healthy";
        set_condition(
            &mut conds,
            "Healthy",
            healthy,
            "RolloutHealthy",
            if healthy {
                "Rollout is healthy"
            } else {
                "Rollout is not healthy"
            },
        );
        let completed = self.fully_promoted && healthy;
        let (rev, hash) = (self.current_rev, &self.hash);
        set_condition(
            &mut conds,
            "Completed",
            completed,
            "RolloutCompleted",
            &if completed {
                format!("Rollout completed update to revision {rev} ({hash}): Rollout is healthy")
            } else {
                format!("Rollout not completed, started update to revision {rev} ({hash})")
            },
        );
        self.status.insert("conditions".to_owned(), json!(conds));
    }
}
