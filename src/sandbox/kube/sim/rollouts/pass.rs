//! The working state of one Rollout's reconcile. Every phase reads and amends it, so the
//! Rollout is written once, with everything the pass decided, at the end.

use serde_json::{Map, Value, json};

use super::{HASH_LABEL, Ns, pod_hash, pod_ready, set_weight};
use crate::sandbox::kube::sim::{owned_by, s, uid};

/// An Event to emit once the Rollout is written: type, reason, message.
pub(super) type PendingEvent = (&'static str, &'static str, String);

pub(super) struct Pass<'a> {
    pub ro: &'a Value,
    pub data: &'a Ns,
    pub ns: String,
    pub uid: String,
    pub replicas: i64,
    pub steps: &'a [Value],
    /// The pod-template hash of the current spec: the canary's, until it becomes stable.
    pub hash: String,
    /// The ReplicaSet the current template runs in.
    pub rs_name: String,
    /// The status being built; starts as the stored one.
    pub status: Map<String, Value>,
    pub events: Vec<PendingEvent>,
    /// The ReplicaSets this Rollout owns, the current template's among them once ensured.
    pub replicasets: Vec<Value>,
    pub current_rev: i64,
    pub idx: usize,
    pub fully_promoted: bool,
    pub aborted: bool,
    /// Why the analysis failed, for the Degraded message.
    pub abort_reason: String,
    pub paused_by_spec: bool,
    pub pause_conditions: Vec<Value>,
    pub controller_pause: bool,
    /// Ready pods of the current template, as listed at the start of the tick.
    pub canary_available: i64,
}

impl<'a> Pass<'a> {
    pub fn read(ro: &'a Value, data: &'a Ns) -> Self {
        let name = s(ro, "/metadata/name").to_owned();
        let hash = match ro.pointer("/spec/template") {
            Some(template) => pod_hash(template),
            None => pod_hash(&json!({})),
        };
        Pass {
            ro,
            data,
            ns: s(ro, "/metadata/namespace").to_owned(),
            rs_name: format!("{name}-{hash}"),
            uid: uid(ro),
            replicas: ro
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1),
            steps: ro
                .pointer("/spec/strategy/canary/steps")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            hash,
            status: ro
                .get("status")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            events: Vec::new(),
            replicasets: Vec::new(),
            current_rev: 1,
            idx: 0,
            fully_promoted: false,
            aborted: false,
            abort_reason: String::new(),
            paused_by_spec: false,
            pause_conditions: Vec::new(),
            controller_pause: false,
            canary_available: 0,
        }
    }

    pub fn nsteps(&self) -> usize {
        self.steps.len()
    }

    /// The stable ReplicaSet's hash; a Rollout with none yet treats its current template as
    /// stable.
    pub fn stable(&self) -> String {
        self.status
            .get("stableRS")
            .and_then(Value::as_str)
            .unwrap_or(&self.hash)
            .to_owned()
    }

    /// Progress as stored, after any new revision reset it: the step index, whether the
    /// canary is already stable, and whether it stands aborted.
    pub fn read_progress(&mut self) {
        self.fully_promoted = self.stable() == self.hash;
        self.idx = usize::try_from(
            self.status
                .get("currentStepIndex")
                .and_then(Value::as_i64)
                .unwrap_or(0),
        )
        .unwrap_or(0)
        .min(self.nsteps());
        self.paused_by_spec = self
            .ro
            .pointer("/spec/paused")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.aborted =
            self.status.get("abort").and_then(Value::as_bool) == Some(true) && !self.fully_promoted;
    }

    /// The pause state the user's controls left, and how far the canary's pods have come.
    pub fn read_pause(&mut self) {
        self.canary_available = self.available_of(&self.hash);
        self.pause_conditions = self
            .status
            .get("pauseConditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.controller_pause = self
            .status
            .get("controllerPause")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }

    /// Steps run only for a live canary: not aborted, not promoted, not paused by the user.
    pub fn steps_may_advance(&self) -> bool {
        !self.aborted && !self.fully_promoted && !self.paused_by_spec
    }

    pub fn pods_of(&self, rs: &Value) -> Vec<&'a Value> {
        let rs_uid = uid(rs);
        self.data
            .pods
            .iter()
            .filter(|p| owned_by(p, &rs_uid))
            .collect()
    }

    pub fn ready_pods_of(&self, rs: &Value) -> i64 {
        i64::try_from(self.pods_of(rs).iter().filter(|p| pod_ready(p)).count()).unwrap_or(0)
    }

    pub fn available_of(&self, hash: &str) -> i64 {
        self.replicasets
            .iter()
            .filter(|r| hash_of(r) == hash)
            .map(|r| self.ready_pods_of(r))
            .sum()
    }

    /// The weight the current step sets for the canary; none once it is stable or aborted.
    pub fn weight(&self) -> i64 {
        if self.fully_promoted || self.aborted {
            0
        } else {
            set_weight(self.steps, self.idx)
        }
    }

    /// The canary's `currentStepAnalysisRunStatus` no longer applies.
    pub fn forget_step_analysis(&mut self) {
        if let Some(Value::Object(c)) = self.status.get_mut("canary") {
            c.remove("currentStepAnalysisRunStatus");
        }
    }

    pub fn event(&mut self, kind: &'static str, reason: &'static str, message: String) {
        self.events.push((kind, reason, message));
    }
}

/// The pod-template hash a ReplicaSet carries.
pub(super) fn hash_of(rs: &Value) -> String {
    s(rs, &format!("/metadata/labels/{HASH_LABEL}")).to_owned()
}
