//! A simulated Argo Rollouts controller (canary strategy): ReplicaSets per pod-template hash,
//! pods that become ready over time, canary steps (setWeight, pause, analysis), AnalysisRuns
//! with measurements from a scenario, and the status fields the real controller maintains.
//! It honours the plugin's patches: promote, promote-full, abort, retry, pause, restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{
    Clock, Marks, create, event, i, is_managed, owned_by, owner_ref, parse_duration, s,
    set_condition, uid, write,
};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::store::{Store, StoreError, now_rfc3339};

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

    #[allow(clippy::too_many_lines)]
    fn reconcile(&mut self, ro: &Value, data: &Ns) -> Result<(), StoreError> {
        let ns = s(ro, "/metadata/namespace").to_owned();
        let name = s(ro, "/metadata/name").to_owned();
        let ro_uid = uid(ro);
        let replicas = ro
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let steps: Vec<Value> = ro
            .pointer("/spec/strategy/canary/steps")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let nsteps = steps.len();
        let template = ro
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let hash = pod_hash(&template);
        let mut status: Map<String, Value> = ro
            .get("status")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut events: Vec<(&str, &str, String)> = Vec::new();

        // ReplicaSets: the one for the current template, created (or re-revisioned) as needed.
        let mut my_rs: Vec<Value> = data
            .rs
            .iter()
            .filter(|r| owned_by(r, &ro_uid))
            .cloned()
            .collect();
        let max_rev = my_rs.iter().map(revision_of).max().unwrap_or(0);
        let rs_name = format!("{name}-{hash}");
        match my_rs
            .iter()
            .position(|r| s(r, &format!("/metadata/labels/{HASH_LABEL}")) == hash)
        {
            None => {
                let mut tmpl = template.clone();
                tmpl["metadata"]["labels"][HASH_LABEL] = json!(hash);
                let mut selector = ro
                    .pointer("/spec/selector/matchLabels")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                selector[HASH_LABEL] = json!(hash);
                let rs = json!({
                    "metadata": {
                        "name": rs_name, "namespace": ns,
                        "labels": tmpl["metadata"]["labels"].clone(),
                        "annotations": {REVISION: (max_rev + 1).to_string(), "rollout.argoproj.io/desired-replicas": replicas.to_string()},
                        "ownerReferences": [owner_ref(ro)],
                    },
                    "spec": {"replicas": 0, "selector": {"matchLabels": selector}, "template": tmpl},
                    "status": {"replicas": 0},
                });
                my_rs.push(create(&self.store, ids::replicasets(), rs)?);
                events.push((
                    "Normal",
                    "NewReplicaSetCreated",
                    format!("Created ReplicaSet {rs_name} (revision {})", max_rev + 1),
                ));
            }
            Some(pos) if revision_of(&my_rs[pos]) < max_rev => {
                // Going back to an older template re-uses its ReplicaSet under a new revision.
                let mut rs = my_rs[pos].clone();
                rs["metadata"]["annotations"][REVISION] = json!((max_rev + 1).to_string());
                write(&self.store, ids::replicasets(), rs.clone())?;
                my_rs[pos] = rs;
            }
            Some(_) => {}
        }
        let current_rev = my_rs
            .iter()
            .find(|r| s(r, &format!("/metadata/labels/{HASH_LABEL}")) == hash)
            .map_or(1, revision_of);

        // A new template observed: start the steps over (or fast-track back to stable).
        let stable_before = status
            .get("stableRS")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if status.get("currentPodHash").and_then(Value::as_str) != Some(hash.as_str()) {
            let first = stable_before.is_none();
            status.insert("currentPodHash".to_owned(), json!(hash));
            status.remove("abort");
            status.remove("abortedAt");
            status.remove("pauseConditions");
            status.insert("controllerPause".to_owned(), json!(false));
            if let Some(Value::Object(c)) = status.get_mut("canary") {
                c.remove("currentStepAnalysisRunStatus");
            }
            let back_to_stable = stable_before.as_deref() == Some(hash.as_str());
            let idx = if first || back_to_stable { nsteps } else { 0 };
            if nsteps > 0 {
                status.insert("currentStepIndex".to_owned(), json!(idx));
            }
            if first {
                status.insert("stableRS".to_owned(), json!(hash));
            }
            events.push((
                "Normal",
                "RolloutUpdated",
                format!("Rollout updated to revision {current_rev}"),
            ));
        }
        let stable = status
            .get("stableRS")
            .and_then(Value::as_str)
            .unwrap_or(&hash)
            .to_owned();
        let mut fully_promoted = stable == hash;
        let mut idx = usize::try_from(
            status
                .get("currentStepIndex")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        )
        .unwrap_or(0)
        .min(nsteps);
        let paused_by_spec = ro
            .pointer("/spec/paused")
            .and_then(Value::as_bool)
            .unwrap_or(false);

        // Retry: abort cleared on an aborted rollout that is not fully promoted.
        let mut aborted =
            status.get("abort").and_then(Value::as_bool) == Some(true) && !fully_promoted;
        if !aborted && status.contains_key("abortedAt") && !fully_promoted {
            status.remove("abortedAt");
            status.remove("abort");
            idx = 0;
            self.marks.forget(&format!("retry/{ro_uid}"));
            self.marks.first_seen(&format!("retry/{ro_uid}"));
            if let Some(Value::Object(c)) = status.get_mut("canary") {
                c.remove("currentStepAnalysisRunStatus");
            }
            events.push(("Normal", "RolloutRetry", "Retry Rollout".to_owned()));
        }
        // After a retry seen in the same pass: a promote-full sent right behind a retry wins.
        if status.get("promoteFull").and_then(Value::as_bool) == Some(true) {
            status.remove("promoteFull");
            status.remove("pauseConditions");
            status.insert("controllerPause".to_owned(), json!(false));
            idx = nsteps;
        }

        // Restart: recreate every pod once per requested restartAt.
        if let Some(at) = ro.pointer("/spec/restartAt").and_then(Value::as_str) {
            let due = at
                .parse::<jiff::Timestamp>()
                .is_ok_and(|t| t <= jiff::Timestamp::now());
            if due && status.get("restartedAt").and_then(Value::as_str) != Some(at) {
                for rs in &my_rs {
                    for p in data.pods.iter().filter(|p| owned_by(p, &uid(rs))) {
                        let _ = self.store.delete(ids::pods(), &ns, s(p, "/metadata/name"));
                    }
                }
                status.insert("restartedAt".to_owned(), json!(at));
                events.push(("Normal", "RolloutRestarted", "Rollout restarted".to_owned()));
            }
        }

        let pods_of = |rs: &Value| -> Vec<&Value> {
            data.pods.iter().filter(|p| owned_by(p, &uid(rs))).collect()
        };
        let hash_of = |rs: &Value| s(rs, &format!("/metadata/labels/{HASH_LABEL}")).to_owned();
        let available_of = |h: &str| -> i64 {
            my_rs
                .iter()
                .filter(|r| hash_of(r) == h)
                .map(|r| {
                    i64::try_from(pods_of(r).iter().filter(|p| pod_ready(p)).count()).unwrap_or(0)
                })
                .sum()
        };
        let canary_available = available_of(&hash);

        let mut pause_conditions: Vec<Value> = status
            .get("pauseConditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut controller_pause = status
            .get("controllerPause")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut abort_reason = String::new();

        if !aborted && !fully_promoted && !paused_by_spec {
            if controller_pause
                && pause_conditions.is_empty()
                && idx < nsteps
                && steps[idx].get("pause").is_none()
            {
                // The user unpaused and already moved the index (plugin promote): just resume.
                controller_pause = false;
            }
            if idx < nsteps {
                let step = &steps[idx];
                let pause_key = format!("pause/{ro_uid}/{hash}/{idx}");
                if let Some(w) = step.get("setWeight").and_then(Value::as_i64) {
                    if canary_available >= canary_replicas(w, replicas) {
                        idx += 1;
                        events.push((
                            "Normal",
                            "RolloutStepCompleted",
                            format!("Rollout step {idx}/{nsteps} completed (setWeight: {w})"),
                        ));
                    }
                } else if let Some(p) = step.get("pause") {
                    if pause_conditions.is_empty() && !controller_pause {
                        pause_conditions
                            .push(json!({"reason": "CanaryPauseStep", "startTime": now_rfc3339()}));
                        controller_pause = true;
                        self.marks.forget(&pause_key);
                        self.marks.first_seen(&pause_key);
                        events.push((
                            "Normal",
                            "RolloutPaused",
                            "Rollout is paused (CanaryPauseStep)".to_owned(),
                        ));
                    } else if pause_conditions.is_empty() {
                        controller_pause = false;
                        idx += 1;
                        self.marks.forget(&pause_key);
                        events.push(("Normal", "RolloutResumed", "Rollout is resumed".to_owned()));
                    } else if let Some(d) = p.get("duration").and_then(parse_duration) {
                        let started = self.marks.first_seen(&pause_key);
                        if self.clock.since(started) >= d {
                            pause_conditions.clear();
                            controller_pause = false;
                            idx += 1;
                            self.marks.forget(&pause_key);
                            events.push((
                                "Normal",
                                "RolloutStepCompleted",
                                format!("Rollout step {idx}/{nsteps} completed (pause: {d}s)"),
                            ));
                        }
                    }
                } else if let Some(analysis) = step.get("analysis") {
                    let ar =
                        self.step_analysis(ro, analysis, &hash, current_rev, idx, &data.ars)?;
                    let phase = s(&ar, "/status/phase").to_owned();
                    let ar_name = s(&ar, "/metadata/name").to_owned();
                    let mut st = json!({"name": ar_name, "status": if phase.is_empty() { "Pending" } else { phase.as_str() }});
                    if !s(&ar, "/status/message").is_empty() {
                        st["message"] = json!(s(&ar, "/status/message"));
                    }
                    status
                        .entry("canary".to_owned())
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .map(|c| c.insert("currentStepAnalysisRunStatus".to_owned(), st));
                    match phase.as_str() {
                        "Successful" => {
                            idx += 1;
                            events.push((
                                "Normal",
                                "AnalysisRunSuccessful",
                                format!("Step Analysis Run '{ar_name}' Status New: 'Successful'"),
                            ));
                        }
                        "Failed" | "Error" => {
                            aborted = true;
                            s(&ar, "/status/message").clone_into(&mut abort_reason);
                            status.insert("abort".to_owned(), json!(true));
                            events.push((
                                "Warning",
                                "AnalysisRunFailed",
                                format!("Step Analysis Run '{ar_name}' Status New: '{phase}'"),
                            ));
                        }
                        "Inconclusive" if pause_conditions.is_empty() && !controller_pause => {
                            pause_conditions.push(json!({"reason": "InconclusiveAnalysisRun", "startTime": now_rfc3339()}));
                            controller_pause = true;
                        }
                        _ => {}
                    }
                } else {
                    // Steps the sandbox does not simulate (experiment, plugins) complete at once.
                    idx += 1;
                }
            }
            if idx >= nsteps && canary_available >= replicas {
                status.insert("stableRS".to_owned(), json!(hash));
                fully_promoted = true;
                if let Some(Value::Object(c)) = status.get_mut("canary") {
                    c.remove("currentStepAnalysisRunStatus");
                }
                events.push((
                    "Normal",
                    "RolloutCompleted",
                    format!("Rollout completed update to revision {current_rev} ({hash})"),
                ));
            }
        }
        if aborted {
            pause_conditions.clear();
            controller_pause = false;
            if !status.contains_key("abortedAt") {
                status.insert("abortedAt".to_owned(), json!(now_rfc3339()));
                events.push((
                    "Warning",
                    "RolloutAborted",
                    format!("Rollout aborted update to revision {current_rev}"),
                ));
            }
            if abort_reason.is_empty()
                && let Some(ar_status) = status
                    .get("canary")
                    .and_then(|c| c.get("currentStepAnalysisRunStatus"))
                && matches!(s(ar_status, "/status"), "Failed" | "Error")
            {
                s(ar_status, "/message").clone_into(&mut abort_reason);
            }
        }
        let stable = status
            .get("stableRS")
            .and_then(Value::as_str)
            .unwrap_or(&hash)
            .to_owned();

        // Desired replicas per ReplicaSet: traffic routing keeps stable at full size.
        let weight = if fully_promoted || aborted {
            0
        } else {
            set_weight(&steps, idx)
        };
        let mut desired: HashMap<String, i64> = HashMap::new();
        desired.insert(stable.clone(), replicas);
        if !fully_promoted && !aborted {
            desired.insert(
                hash.clone(),
                canary_replicas(weight, replicas).min(replicas),
            );
        }
        for rs in &my_rs {
            let want = desired.get(&hash_of(rs)).copied().unwrap_or(0);
            self.sync_replicaset(rs, want, &pods_of(rs))?;
        }

        // Counters from the pods as they are now.
        let (mut total, mut ready, mut updated) = (0i64, 0i64, 0i64);
        for rs in &my_rs {
            let pods = pods_of(rs);
            let n = i64::try_from(pods.len()).unwrap_or(0);
            let r = i64::try_from(pods.iter().filter(|p| pod_ready(p)).count()).unwrap_or(0);
            total += n;
            ready += r;
            if hash_of(rs) == hash {
                updated = n;
            }
        }
        let actual_weight = if fully_promoted || aborted {
            0
        } else if canary_available >= canary_replicas(weight, replicas) {
            weight
        } else {
            status
                .get("canary")
                .and_then(|c| c.pointer("/weights/canary/weight"))
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .min(weight)
        };

        // Phase and message, as rolloututil.CalculateRolloutPhase would compute them.
        let (phase, message) = if aborted {
            let mut m = format!("RolloutAborted: Rollout aborted update to revision {current_rev}");
            if !abort_reason.is_empty() {
                m.push_str(": ");
                m.push_str(&abort_reason);
            }
            ("Degraded", m)
        } else if paused_by_spec {
            ("Paused", "manually paused".to_owned())
        } else if let Some(pc) = pause_conditions.first() {
            ("Paused", s(pc, "/reason").to_owned())
        } else if updated < replicas {
            ("Progressing", "more replicas need to be updated".to_owned())
        } else if ready < updated {
            (
                "Progressing",
                "updated replicas are still becoming available".to_owned(),
            )
        } else if stable != hash {
            (
                "Progressing",
                "waiting for all steps to complete".to_owned(),
            )
        } else if total > replicas {
            (
                "Progressing",
                "old replicas are pending termination".to_owned(),
            )
        } else {
            ("Healthy", String::new())
        };

        if nsteps > 0 {
            status.insert("currentStepIndex".to_owned(), json!(idx));
            status.insert("currentStepHash".to_owned(), json!(pod_hash(&json!(steps))));
        }
        if pause_conditions.is_empty() {
            status.remove("pauseConditions");
        } else {
            status.insert("pauseConditions".to_owned(), json!(pause_conditions));
        }
        status.insert("controllerPause".to_owned(), json!(controller_pause));
        status.insert("replicas".to_owned(), json!(total));
        status.insert("updatedReplicas".to_owned(), json!(updated));
        status.insert("readyReplicas".to_owned(), json!(ready));
        status.insert("availableReplicas".to_owned(), json!(ready));
        status.insert("HPAReplicas".to_owned(), json!(total));
        status.insert(
            "observedGeneration".to_owned(),
            json!(i(ro, "/metadata/generation").to_string()),
        );
        status.insert("phase".to_owned(), json!(phase));
        if message.is_empty() {
            status.remove("message");
        } else {
            status.insert("message".to_owned(), json!(message));
        }
        let selector = ro
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
        if ro.pointer("/spec/strategy/canary/trafficRouting").is_some() {
            let svc = |k: &str| s(ro, &format!("/spec/strategy/canary/{k}")).to_owned();
            let weights = json!({
                "canary": {"podTemplateHash": hash, "serviceName": svc("canaryService"), "weight": actual_weight},
                "stable": {"podTemplateHash": stable, "serviceName": svc("stableService"), "weight": 100 - actual_weight},
            });
            status
                .entry("canary".to_owned())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|c| c.insert("weights".to_owned(), weights));
        } else {
            status
                .entry("canary".to_owned())
                .or_insert_with(|| json!({}));
        }
        let mut conds: Vec<Value> = status
            .get("conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let available = ready >= replicas;
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
        match phase {
            "Degraded" => {
                set_condition(&mut conds, "Progressing", false, "RolloutAborted", &message);
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
        set_condition(
            &mut conds,
            "Completed",
            fully_promoted && healthy,
            "RolloutCompleted",
            &if fully_promoted && healthy {
                format!(
                    "Rollout completed update to revision {current_rev} ({hash}): Rollout is healthy"
                )
            } else {
                format!("Rollout not completed, started update to revision {current_rev} ({hash})")
            },
        );
        status.insert("conditions".to_owned(), json!(conds));

        let mut new = ro.clone();
        new["status"] = Value::Object(status);
        new["metadata"]["annotations"][REVISION] = json!(current_rev.to_string());
        if new != *ro {
            write(&self.store, ids::rollouts(), new.clone())?;
        }
        for (kind, reason, msg) in events {
            event(&self.store, &new, kind, reason, &msg, COMPONENT);
        }
        Ok(())
    }

    /// Scales a ReplicaSet to `want` pods and moves each pod towards ready.
    fn sync_replicaset(
        &mut self,
        rs: &Value,
        want: i64,
        pods: &[&Value],
    ) -> Result<(), StoreError> {
        let ns = s(rs, "/metadata/namespace").to_owned();
        let rs_name = s(rs, "/metadata/name").to_owned();
        if i(rs, "/spec/replicas") != want {
            let mut new = rs.clone();
            new["spec"]["replicas"] = json!(want);
            write(&self.store, ids::replicasets(), new)?;
        }
        let have = i64::try_from(pods.len()).unwrap_or(0);
        for _ in have..want {
            let mut spec = rs
                .pointer("/spec/template/spec")
                .cloned()
                .unwrap_or_else(|| json!({}));
            spec["nodeName"] = json!("sandbox-node-1");
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "generateName": format!("{rs_name}-"), "namespace": ns,
                    "labels": rs.pointer("/spec/template/metadata/labels").cloned().unwrap_or_else(|| json!({})),
                    "ownerReferences": [owner_ref(rs)],
                },
                "spec": spec,
                "status": {"phase": "Pending", "qosClass": "BestEffort",
                           "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}]},
            });
            create(&self.store, ids::pods(), pod)?;
        }
        if have > want {
            // Scale down the youngest (not-ready first), as the ReplicaSet controller prefers.
            let mut victims: Vec<&&Value> = pods.iter().collect();
            victims.sort_by_key(|p| {
                (
                    pod_ready(p),
                    std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_owned()),
                )
            });
            for p in victims
                .iter()
                .take(usize::try_from(have - want).unwrap_or(0))
            {
                let _ = self.store.delete(ids::pods(), &ns, s(p, "/metadata/name"));
                self.marks.forget(&obj_key(p));
            }
        }
        let mut ready = 0i64;
        for p in pods {
            let born = self.marks.first_seen(&obj_key(p));
            let age = self.clock.since(born);
            let target = if age < POD_PENDING_SECS {
                0
            } else if age < POD_READY_SECS {
                1
            } else {
                2
            };
            let current = match (s(p, "/status/phase"), pod_ready(p)) {
                ("Running", true) => 2,
                ("Running", false) => 1,
                _ => 0,
            };
            if target == 2 {
                ready += 1;
            }
            if target > current {
                let mut new = (*p).clone();
                new["status"] = pod_status(p, target == 2);
                write(&self.store, ids::pods(), new)?;
            }
        }
        let mut st = json!({"replicas": have.min(want.max(have)), "observedGeneration": i(rs, "/metadata/generation")});
        st["replicas"] = json!(pods.len());
        if !pods.is_empty() {
            st["fullyLabeledReplicas"] = json!(pods.len());
        }
        if ready > 0 {
            st["readyReplicas"] = json!(ready);
            st["availableReplicas"] = json!(ready);
        }
        if rs.get("status") != Some(&st) {
            let mut new = rs.clone();
            new["spec"]["replicas"] = json!(want);
            new["status"] = st;
            write(&self.store, ids::replicasets(), new)?;
        }
        Ok(())
    }

    /// Finds or creates the AnalysisRun of an analysis step.
    fn step_analysis(
        &mut self,
        ro: &Value,
        analysis: &Value,
        hash: &str,
        rev: i64,
        idx: usize,
        ars: &[Value],
    ) -> Result<Value, StoreError> {
        let ns = s(ro, "/metadata/namespace").to_owned();
        let ro_uid = uid(ro);
        let base = format!("{}-{hash}-{rev}-{idx}", s(ro, "/metadata/name"));
        let retried_at: Option<Instant> = self.marks.peek(&format!("retry/{ro_uid}"));
        let mine: Vec<&Value> = ars
            .iter()
            .filter(|a| {
                owned_by(a, &ro_uid)
                    && (s(a, "/metadata/name") == base
                        || s(a, "/metadata/name").starts_with(&format!("{base}.")))
            })
            .collect();
        let fresh = mine.iter().find(|a| {
            let seen = self.marks.first_seen(&obj_key(a));
            retried_at.is_none_or(|r| seen >= r)
        });
        if let Some(a) = fresh {
            return Ok((*a).clone());
        }
        let name = if mine.is_empty() {
            base
        } else {
            format!("{base}.{}", mine.len())
        };
        let mut metrics = Vec::new();
        let mut template_args = Vec::new();
        for t in analysis
            .get("templates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(tpl) = self
                .store
                .get(ids::analysistemplates(), &ns, s(t, "/templateName"))
            {
                let tpl = tpl.value();
                metrics.extend(
                    tpl.pointer("/spec/metrics")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                for a in tpl
                    .pointer("/spec/args")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let an = s(a, "/name");
                    if template_args.iter().any(|x: &Value| s(x, "/name") == an) {
                        continue;
                    }
                    let given = analysis
                        .get("args")
                        .and_then(Value::as_array)
                        .and_then(|g| g.iter().find(|g| s(g, "/name") == an))
                        .and_then(|g| g.get("value").cloned());
                    template_args.push(json!({"name": an, "value": given.unwrap_or_else(|| json!(format!("{}-canary", s(ro, "/metadata/name"))))}));
                }
            }
        }
        let image = ro
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let scenario = if image_tag(image).contains("bad") {
            "bad"
        } else {
            "good"
        };
        let mut spec = json!({"metrics": metrics});
        if !template_args.is_empty() {
            spec["args"] = json!(template_args);
        }
        let ar = json!({
            "metadata": {
                "name": name, "namespace": ns,
                "labels": {"rollout-type": "Step", "step-index": idx.to_string(), HASH_LABEL: hash},
                "annotations": {REVISION: rev.to_string(), SCENARIO: scenario},
                "ownerReferences": [owner_ref(ro)],
            },
            "spec": spec,
            "status": {"phase": "Running", "startedAt": now_rfc3339()},
        });
        let created = create(&self.store, ids::analysisruns(), ar)?;
        self.marks.first_seen(&obj_key(&created));
        event(
            &self.store,
            ro,
            "Normal",
            "AnalysisRunRunning",
            &format!("Step Analysis Run '{name}' Status New: 'Running'"),
            COMPONENT,
        );
        Ok(created)
    }

    /// Takes the measurements that are due and settles the run's phase.
    fn reconcile_analysis(&mut self, ar: &Value) -> Result<(), StoreError> {
        let phase = s(ar, "/status/phase");
        if matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive") {
            return Ok(());
        }
        let started = self.marks.first_seen(&obj_key(ar));
        let elapsed = self.clock.since(started);
        let bad = s(
            ar,
            &format!("/metadata/annotations/{}", SCENARIO.replace('/', "~1")),
        ) == "bad";
        let metrics = ar
            .pointer("/spec/metrics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut results: Vec<Value> = ar
            .pointer("/status/metricResults")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut failed_msg = None;
        let mut all_done = true;
        for m in &metrics {
            let mname = s(m, "/name").to_owned();
            let pos = results
                .iter()
                .position(|r| s(r, "/name") == mname)
                .unwrap_or_else(|| {
                    results.push(
                        json!({"name": mname, "phase": "Running", "measurements": [], "count": 0}),
                    );
                    results.len() - 1
                });
            let r = &mut results[pos];
            if matches!(s(r, "/phase"), "Successful" | "Failed") {
                if s(r, "/phase") == "Failed" {
                    failed_msg.get_or_insert_with(|| s(r, "/message").to_owned());
                }
                continue;
            }
            let interval = m.get("interval").and_then(parse_duration).unwrap_or(5.0);
            let delay = m
                .get("initialDelay")
                .and_then(parse_duration)
                .unwrap_or(0.0);
            let limit = m.get("count").and_then(Value::as_i64).unwrap_or(3).max(1);
            let failure_limit = m.get("failureLimit").and_then(Value::as_i64).unwrap_or(0);
            let count = i(r, "/count");
            #[allow(clippy::cast_precision_loss)]
            let due = delay + interval * count as f64;
            if elapsed >= due && count < limit {
                let (value, ok) = scenario_value(&mname, bad);
                let now = now_rfc3339();
                let meas = json!({"phase": if ok { "Successful" } else { "Failed" }, "startedAt": now, "finishedAt": now, "value": value});
                let list = r["measurements"].as_array_mut();
                if let Some(list) = list {
                    list.push(meas);
                    if list.len() > 10 {
                        list.remove(0);
                    }
                }
                r["count"] = json!(count + 1);
                let key = if ok { "successful" } else { "failed" };
                r[key] = json!(i(r, &format!("/{key}")) + 1);
                if ok {
                    r["consecutiveSuccess"] = json!(i(r, "/consecutiveSuccess") + 1);
                }
            }
            let failed = i(r, "/failed");
            if failed > failure_limit {
                let msg = format!(
                    "Metric \"{mname}\" assessed Failed due to failed ({failed}) > failureLimit ({failure_limit})"
                );
                r["phase"] = json!("Failed");
                r["message"] = json!(msg);
                failed_msg.get_or_insert(msg);
            } else if i(r, "/count") >= limit {
                r["phase"] = json!("Successful");
            } else {
                all_done = false;
            }
        }
        let mut new = ar.clone();
        let summary = |p: &str| {
            i64::try_from(results.iter().filter(|r| s(r, "/phase") == p).count()).unwrap_or(0)
        };
        new["status"]["runSummary"] = json!({"count": metrics.len(), "successful": summary("Successful"), "failed": summary("Failed")});
        new["status"]["metricResults"] = json!(results);
        if let Some(msg) = failed_msg {
            new["status"]["phase"] = json!("Failed");
            new["status"]["message"] = json!(msg);
            new["status"]["completedAt"] = json!(now_rfc3339());
        } else if all_done {
            new["status"]["phase"] = json!("Successful");
            new["status"]["completedAt"] = json!(now_rfc3339());
        } else {
            new["status"]["phase"] = json!("Running");
        }
        if new != *ar {
            write(&self.store, ids::analysisruns(), new)?;
        }
        Ok(())
    }
}

/// The measured value for a metric: Prometheus-shaped (`[0.99]`), bad for success-rate when
/// the scenario says so.
fn scenario_value(metric: &str, bad: bool) -> (String, bool) {
    let jitter = f64::from(rand::random::<u8>()) / 255.0;
    match metric {
        "success-rate" if bad => (format!("[{:.3}]", 0.55 + jitter * 0.1), false),
        "success-rate" => (format!("[{:.3}]", 0.985 + jitter * 0.014), true),
        "latency-p99" => (format!("[{:.3}]", 0.12 + jitter * 0.08), true),
        _ => ("[1]".to_owned(), true),
    }
}

fn pod_status(p: &Value, ready: bool) -> Value {
    let now = now_rfc3339();
    let started = p
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .map_or_else(|| now.clone(), str::to_owned);
    let r = if ready { "True" } else { "False" };
    let containers: Vec<Value> = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": s(c, "/name"), "image": s(c, "/image"), "imageID": "",
                "ready": ready, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": started}},
            })
        })
        .collect();
    json!({
        "phase": "Running", "qosClass": "BestEffort", "hostIP": "10.0.0.1",
        "podIP": format!("10.244.0.{}", 2 + rand::random::<u8>() % 250),
        "startTime": started,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": started},
            {"type": "Ready", "status": r, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": r, "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
        ],
        "containerStatuses": containers,
    })
}
