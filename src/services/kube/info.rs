//! The `kubectl argo rollouts get rollout` derivations, as pure functions over the watched
//! objects: status and message, step, SetWeight, ActualWeight, images with roles, replica counts
//! and the revision tree. The rules are the plugin's (argo-rollouts `pkg/kubectl-argo-rollouts/info`,
//! `utils/rollout/rolloututil.go`, `utils/replicaset/canary.go`); where the plugin has a quirk it
//! is kept, so shipdeck never disagrees with the tool on-call engineers already trust.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;

use super::model::{
    AnalysisRun, CanaryStep, Experiment, POD_HASH_LABEL, Pod, REVISION_ANNOTATION, ReplicaSet,
    Rollout,
};

pub const ICON_WAITING: &str = "◷";
pub const ICON_PROGRESSING: &str = "◌";
pub const ICON_WARNING: &str = "⚠";
pub const ICON_UNKNOWN: &str = "?";
pub const ICON_OK: &str = "✔";
pub const ICON_BAD: &str = "✖";
pub const ICON_PAUSED: &str = "॥";
pub const ICON_NEUTRAL: &str = "•";

/// Everything the Rollout panel and `shipdeck rollout get` show about one Rollout.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RolloutInfo {
    pub name: String,
    pub namespace: String,
    pub created: Option<Timestamp>,
    /// `Healthy`, `Progressing`, `Paused`, `Degraded` (as `GetRolloutPhase`).
    pub status: String,
    pub message: String,
    pub icon: String,
    /// `Canary`, `BlueGreen`, or empty.
    pub strategy: String,
    /// The plugin's `Step` text: raw 0-based index over the step count, e.g. `1/8`; empty when
    /// there is no current step index or no steps.
    pub step: String,
    pub step_index: Option<i32>,
    pub steps: Vec<StepInfo>,
    /// Canary only (the plugin prints them only for canaries).
    pub set_weight: Option<i32>,
    pub actual_weight: Option<i32>,
    pub fully_promoted: bool,
    pub aborted: bool,
    /// `spec.paused` (a person paused it).
    pub paused: bool,
    /// Reasons of `status.pauseConditions`.
    pub pause_reasons: Vec<String>,
    pub controller_pause: bool,
    /// The current step's AnalysisRun is Inconclusive (promote also clears `controllerPause`).
    pub step_analysis_inconclusive: bool,
    /// When the current timed pause step ends, if the rollout waits on one.
    pub pause_ends_at: Option<Timestamp>,
    pub images: Vec<ImageInfo>,
    pub replicas: Replicas,
    pub revisions: Vec<RevisionInfo>,
}

/// One canary step as a strip item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StepInfo {
    /// `CanaryStepString`: `setWeight: 20`, `pause`, `pause: 10s`, `analysis`, …
    pub text: String,
    /// `done`, `current` or `pending`.
    pub state: &'static str,
}

/// An image and the roles of the ReplicaSets running it (`canary`, `stable`, `Σ:<template>`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub image: String,
    pub tags: Vec<String>,
}

/// The `Replicas:` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Replicas {
    pub desired: i32,
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

/// One `# revision:N` node of the tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RevisionInfo {
    pub revision: i64,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub experiments: Vec<ExperimentInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplicaSetInfo {
    pub name: String,
    pub uid: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub replicas: i32,
    pub available: i32,
    pub pod_hash: String,
    pub stable: bool,
    pub canary: bool,
    pub active: bool,
    pub preview: bool,
    pub ping: bool,
    pub pong: bool,
    /// Experiment template name (`Σ:` tag on images).
    pub template: String,
    /// Raw `scale-down-deadline` annotation (RFC3339), empty if none.
    pub scale_down_deadline: String,
    pub images: Vec<String>,
    pub pods: Vec<PodInfo>,
}

impl ReplicaSetInfo {
    /// The tree's INFO column without the delay (which depends on the clock).
    pub fn roles(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.stable {
            out.push("stable");
        }
        if self.canary {
            out.push("canary");
        } else if self.active {
            out.push("active");
        } else if self.preview {
            out.push("preview");
        }
        if self.ping {
            out.push("ping");
        }
        if self.pong {
            out.push("pong");
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PodInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub status: String,
    pub icon: String,
    /// `ready/total` containers.
    pub ready: String,
    pub restarts: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalysisRunInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub message: String,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    /// `rollout-type` label: Step, Background, PrePromotion, PostPromotion.
    pub kind: String,
    pub metrics: Vec<MetricInfo>,
    pub jobs: Vec<JobInfo>,
}

impl AnalysisRunInfo {
    /// `✔ 4,✖ 4,? 1,⚠ 1` (zero counts left out), as the tree's INFO column.
    pub fn counts(&self) -> String {
        let mut parts = Vec::new();
        for (icon, n) in [
            (ICON_OK, self.successful),
            (ICON_BAD, self.failed),
            (ICON_UNKNOWN, self.inconclusive),
            (ICON_WARNING, self.error),
        ] {
            if n > 0 {
                parts.push(format!("{icon} {n}"));
            }
        }
        parts.join(",")
    }
}

/// A metric's phase and its newest measurement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MetricInfo {
    pub name: String,
    pub phase: String,
    pub icon: String,
    /// The newest measurement's value (Prometheus: the result vector as text).
    pub last_value: Option<String>,
    pub last_phase: Option<String>,
    pub measurements: usize,
    pub success_condition: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub status: String,
    pub icon: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExperimentInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

// ---------------------------------------------------------------- helpers

fn created(m: &ObjectMeta) -> Option<Timestamp> {
    m.creation_timestamp.as_ref().map(|t| t.0)
}

fn uid(m: &ObjectMeta) -> &str {
    m.uid.as_deref().unwrap_or("")
}

fn owned_by(refs: Option<&Vec<OwnerReference>>, owner: &str) -> bool {
    !owner.is_empty() && refs.is_some_and(|r| r.iter().any(|o| o.uid == owner))
}

fn revision(m: &ObjectMeta) -> i64 {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn annotation(m: &ObjectMeta, key: &str) -> String {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .cloned()
        .unwrap_or_default()
}

/// Whether the controller has seen the current spec (`isGenerationObserved`): a non-numeric
/// observedGeneration (pre-v0.10 hash) counts as observed, and so does one ahead of generation.
pub fn generation_observed(ro: &Rollout) -> bool {
    let Ok(observed) = ro.status.observed_generation.parse::<i64>() else {
        return true;
    };
    let generation = ro.metadata.generation.unwrap_or(0);
    observed >= generation
}

/// `IsUnpausing`: a person cleared the pause conditions, the controller has not reacted yet.
pub fn is_unpausing(ro: &Rollout) -> bool {
    ro.status.controller_pause && ro.status.pause_conditions.is_empty()
}

/// `IsFullyPromoted`: the stable ReplicaSet is the desired one.
pub fn is_fully_promoted(ro: &Rollout) -> bool {
    ro.status.stable_rs == ro.status.current_pod_hash
}

fn workload_generation_observed(ro: &Rollout) -> bool {
    let Some(want) = ro
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("rollout.argoproj.io/workload-generation"))
        .and_then(|g| g.parse::<i64>().ok())
    else {
        return true;
    };
    match ro.status.workload_observed_generation.parse::<i64>() {
        Ok(observed) => observed == want,
        Err(_) => true,
    }
}

/// `GetRolloutPhase`: (phase, message).
pub fn rollout_phase(ro: &Rollout) -> (String, String) {
    if !generation_observed(ro) {
        return (
            "Progressing".into(),
            "waiting for rollout spec update to be observed".into(),
        );
    }
    if is_unpausing(ro) {
        return (
            "Progressing".into(),
            "waiting for rollout to unpause".into(),
        );
    }
    if ro.spec.template_resolved_from_ref && !workload_generation_observed(ro) {
        return (
            "Progressing".into(),
            "waiting for rollout spec update to be observed for the reference workload".into(),
        );
    }
    if !ro.status.phase.is_empty() {
        return (ro.status.phase.clone(), ro.status.message.clone());
    }
    calculate_rollout_phase(ro)
}

/// `CalculateRolloutPhase`: the client-side fallback for controllers before v1.0.
pub fn calculate_rollout_phase(ro: &Rollout) -> (String, String) {
    let (s, spec) = (&ro.status, &ro.spec);
    let progressing = |m: &str| ("Progressing".to_owned(), m.to_owned());
    for c in &s.conditions {
        if c.type_ == "InvalidSpec" {
            return ("Degraded".into(), format!("InvalidSpec: {}", c.message));
        }
        if c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded" {
            return ("Degraded".into(), format!("{}: {}", c.reason, c.message));
        }
    }
    if spec.paused {
        return ("Paused".into(), "manually paused".into());
    }
    if let Some(p) = s.pause_conditions.first() {
        return ("Paused".into(), p.reason.clone());
    }
    if let Some(at) = &spec.restart_at {
        let same = s.restarted_at.as_ref().is_some_and(|r| same_instant(r, at));
        if !same {
            return progressing("rollout is restarting");
        }
    }
    if s.updated_replicas < spec.replicas.unwrap_or(1) {
        return progressing("more replicas need to be updated");
    }
    if s.available_replicas < s.updated_replicas {
        return progressing("updated replicas are still becoming available");
    }
    if let Some(bg) = &spec.strategy.blue_green {
        let active = &s.blue_green.active_selector;
        if active.is_empty() || *active != s.current_pod_hash {
            return progressing("active service cutover pending");
        }
        if s.stable_rs.is_empty() || !is_fully_promoted(ro) {
            let waiting_analysis = bg.post_promotion_analysis.is_some()
                && !s
                    .blue_green
                    .post_promotion_analysis_run_status
                    .as_ref()
                    .is_some_and(|r| analysis_completed(&r.status));
            if waiting_analysis {
                return progressing("waiting for analysis to complete");
            }
            return progressing("waiting for post-promotion verification to complete");
        }
    } else if let Some(c) = &spec.strategy.canary {
        if c.traffic_routing.is_none() && s.replicas > s.updated_replicas {
            return progressing("old replicas are pending termination");
        }
        if s.stable_rs.is_empty() || !is_fully_promoted(ro) {
            return progressing("waiting for all steps to complete");
        }
    }
    ("Healthy".into(), String::new())
}

fn same_instant(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn analysis_completed(phase: &str) -> bool {
    matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive")
}

/// `MaxTrafficWeight`: 100 unless traffic routing sets `maxTrafficWeight`.
pub fn max_traffic_weight(ro: &Rollout) -> i32 {
    ro.spec
        .strategy
        .canary
        .as_ref()
        .and_then(|c| c.traffic_routing.as_ref())
        .and_then(|t| t.max_traffic_weight)
        .unwrap_or(100)
}

/// `GetCurrentCanaryStep`: the step at `currentStepIndex` (nil index means 0), and the index.
pub fn current_canary_step(ro: &Rollout) -> (Option<&CanaryStep>, Option<i32>) {
    let Some(c) = &ro.spec.strategy.canary else {
        return (None, None);
    };
    if c.steps.is_empty() {
        return (None, None);
    }
    let idx = ro.status.current_step_index.unwrap_or(0);
    let step = usize::try_from(idx).ok().and_then(|i| c.steps.get(i));
    (step, Some(idx))
}

/// `GetCurrentSetWeight`: desired weight, not the actual one.
pub fn current_set_weight(ro: &Rollout) -> i32 {
    if ro.status.abort {
        return 0;
    }
    let (step, idx) = current_canary_step(ro);
    let (Some(_), Some(idx), Some(c)) = (step, idx, &ro.spec.strategy.canary) else {
        return max_traffic_weight(ro);
    };
    let upto = usize::try_from(idx).unwrap_or(0);
    c.steps[..=upto.min(c.steps.len().saturating_sub(1))]
        .iter()
        .rev()
        .find_map(|s| s.set_weight)
        .unwrap_or(0)
}

/// `CanaryStepString`.
pub fn step_text(c: &CanaryStep) -> String {
    if let Some(w) = c.set_weight {
        return format!("setWeight: {w}");
    }
    if let Some(p) = &c.pause {
        return match &p.duration {
            Some(d) => format!("pause: {}", go_duration(d)),
            None => "pause".to_owned(),
        };
    }
    if c.experiment.is_some() {
        return "experiment".into();
    }
    if c.analysis.is_some() {
        return "analysis".into();
    }
    if let Some(s) = &c.set_canary_scale {
        if let Some(w) = s.get("weight").and_then(serde_json::Value::as_i64) {
            return format!("setCanaryScale{{weight: {w}}}");
        }
        if s.get("matchTrafficWeight")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            return "setCanaryScale{matchTrafficWeight: true}".into();
        }
        if let Some(r) = s.get("replicas").and_then(serde_json::Value::as_i64) {
            return format!("setCanaryScale{{replicas: {r}}}");
        }
    }
    let named = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .and_then(|p| p.get("name"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if let Some(n) = named(&c.plugin) {
        return format!("plugin: {n}");
    }
    if let Some(n) = named(&c.set_header_route) {
        return format!("setHeaderRoute: {n}");
    }
    if let Some(n) = named(&c.set_mirror_route) {
        return format!("setMirrorRoute: {n}");
    }
    "invalid".into()
}

/// A pause duration as written (`"10s"`) or as seconds (`30` → `30s`).
fn go_duration(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => format!("{other}s"),
    }
}

/// Seconds of a pause duration: a number, or Go-style `1h30m`, `10s`, `500ms`.
pub fn duration_secs(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_go_duration(s),
        _ => None,
    }
}

fn parse_go_duration(s: &str) -> Option<f64> {
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() || n == 'µ' {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let factor = match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * factor;
        any = true;
    }
    (any && num.is_empty()).then_some(total)
}

// ---------------------------------------------------------------- ReplicaSets and pods

/// `getReplicaSetHealth`.
pub fn replica_set_health(rs: &ReplicaSet) -> &'static str {
    let generation = rs.metadata.generation.unwrap_or(0);
    if generation <= rs.status.observed_generation {
        let failure = rs
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "ReplicaFailure" && c.status == "True");
        if failure {
            return "ReplicaFailure";
        }
        if rs
            .spec
            .replicas
            .is_some_and(|r| rs.status.available_replicas < r)
        {
            return "Progressing";
        }
    } else {
        return "Progressing";
    }
    if rs.spec.replicas == Some(0) {
        return "ScaledDown";
    }
    "Healthy"
}

fn replica_set_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => ICON_PROGRESSING,
        "Healthy" => ICON_OK,
        "ReplicaFailure" => ICON_BAD,
        "ScaledDown" => ICON_NEUTRAL,
        _ => " ",
    }
}

fn pod_hash(rs: &ReplicaSet) -> String {
    rs.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_HASH_LABEL))
        .cloned()
        .unwrap_or_default()
}

/// `GetReplicaSetInfo` for the ReplicaSets owned by `owner` (a Rollout or an Experiment);
/// `ro` is given only for a Rollout's own ReplicaSets (roles are tagged then).
fn replica_set_infos(
    owner: &str,
    ro: Option<&Rollout>,
    rss: &[&ReplicaSet],
    pods: &[&Pod],
) -> Vec<ReplicaSetInfo> {
    let mut out: Vec<ReplicaSetInfo> = rss
        .iter()
        .filter(|rs| owned_by(rs.metadata.owner_references.as_ref(), owner))
        .map(|rs| replica_set_info(rs, ro))
        .collect();
    // The plugin's comparator: revision descending, then name (its timestamp branch never returns).
    out.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.name.cmp(&b.name))
    });
    for info in &mut out {
        let mut mine: Vec<PodInfo> = pods
            .iter()
            .filter(|p| owned_by(p.metadata.owner_references.as_ref(), &info.uid))
            .map(|p| pod_info(p))
            .collect();
        mine.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        info.pods = mine;
    }
    out
}

fn replica_set_info(rs: &ReplicaSet, ro: Option<&Rollout>) -> ReplicaSetInfo {
    let status = replica_set_health(rs);
    let hash = pod_hash(rs);
    let mut info = ReplicaSetInfo {
        name: rs.metadata.name.clone().unwrap_or_default(),
        uid: uid(&rs.metadata).to_owned(),
        created: created(&rs.metadata),
        revision: revision(&rs.metadata),
        status: status.to_owned(),
        icon: replica_set_icon(status).to_owned(),
        replicas: rs.status.replicas,
        available: rs.status.available_replicas,
        pod_hash: hash.clone(),
        template: annotation(&rs.metadata, "experiment.argoproj.io/template-name"),
        scale_down_deadline: annotation(&rs.metadata, "scale-down-deadline"),
        images: rs
            .spec
            .template
            .spec
            .containers
            .iter()
            .map(|c| c.image.clone())
            .collect(),
        ..ReplicaSetInfo::default()
    };
    if let Some(ro) = ro {
        let s = &ro.status;
        if let Some(c) = &ro.spec.strategy.canary {
            let ping_pong = c.ping_pong.is_some();
            let stable_is_ping = s.canary.stable_ping_pong == "ping";
            if s.stable_rs == hash {
                info.stable = true;
                if ping_pong {
                    info.ping = stable_is_ping;
                    info.pong = !stable_is_ping;
                }
            } else if s.current_pod_hash == hash {
                info.canary = true;
                if ping_pong {
                    info.ping = !stable_is_ping;
                    info.pong = stable_is_ping;
                }
            }
        }
        if ro.spec.strategy.blue_green.is_some() {
            if s.stable_rs == hash {
                info.stable = true;
            }
            if s.blue_green.active_selector == hash {
                info.active = true;
            } else if s.blue_green.preview_selector == hash {
                info.preview = true;
            }
        }
    }
    info
}

/// `newPodInfo`: the status column as `kubectl get pods` computes it, ready and restarts.
pub fn pod_info(pod: &Pod) -> PodInfo {
    let st = &pod.status;
    let sidecar = |name: &str| {
        pod.spec
            .init_containers
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let total = pod.spec.containers.len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut reason = if st.reason.is_empty() {
        st.phase.clone()
    } else {
        st.reason.clone()
    };
    let mut initializing = false;
    for (i, c) in st.init_container_statuses.iter().enumerate() {
        restarts += c.restart_count;
        if let Some(t) = &c.state.terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason = if !t.reason.is_empty() {
                format!("Init:{}", t.reason)
            } else if t.signal != 0 {
                format!("Init:Signal:{}", t.signal)
            } else {
                format!("Init:ExitCode:{}", t.exit_code)
            };
            initializing = true;
        } else if sidecar(&c.name) && c.started == Some(true) {
            if c.ready {
                continue;
            }
        } else if let Some(w) = c
            .state
            .waiting
            .as_ref()
            .filter(|w| !w.reason.is_empty() && w.reason != "PodInitializing")
        {
            reason = format!("Init:{}", w.reason);
            initializing = true;
        } else {
            reason = format!("Init:{i}/{}", pod.spec.init_containers.len());
            initializing = true;
        }
        break;
    }
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in st.container_statuses.iter().rev() {
            restarts += c.restart_count;
            if let Some(w) = c.state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
                reason.clone_from(&w.reason);
            } else if let Some(t) = &c.state.terminated {
                reason = if !t.reason.is_empty() {
                    t.reason.clone()
                } else if t.signal != 0 {
                    format!("Signal:{}", t.signal)
                } else {
                    format!("ExitCode:{}", t.exit_code)
                };
            } else if c.ready && c.state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = if st.reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    PodInfo {
        name: pod.metadata.name.clone().unwrap_or_default(),
        created: created(&pod.metadata),
        icon: pod_icon(&reason).to_owned(),
        status: reason,
        ready: format!("{ready}/{total}"),
        restarts,
    }
}

fn pod_icon(status: &str) -> &'static str {
    if status.starts_with("Init:") {
        return ICON_PROGRESSING;
    }
    if status.starts_with("Signal:") || status.starts_with("ExitCode:") {
        return ICON_BAD;
    }
    if status.ends_with("Error") || status.starts_with("Err") {
        return ICON_WARNING;
    }
    match status {
        "Pending" | "Terminating" | "ContainerCreating" => ICON_PROGRESSING,
        "Running" | "Completed" => ICON_OK,
        "Failed" | "InvalidImageName" | "CrashLoopBackOff" => ICON_BAD,
        "ImagePullBackOff" | "RegistryUnavailable" => ICON_WARNING,
        "Unknown" => ICON_UNKNOWN,
        _ => " ",
    }
}

// ---------------------------------------------------------------- AnalysisRuns, Experiments

/// `analysisIcon`.
pub fn analysis_icon(phase: &str) -> &'static str {
    match phase {
        "Successful" => ICON_OK,
        "Inconclusive" => ICON_UNKNOWN,
        "Failed" => ICON_BAD,
        "Error" => ICON_WARNING,
        "Running" => ICON_PROGRESSING,
        "Pending" => ICON_WAITING,
        _ => " ",
    }
}

fn analysis_run_infos(owner: &str, ars: &[&AnalysisRun]) -> Vec<AnalysisRunInfo> {
    let mut out: Vec<AnalysisRunInfo> = ars
        .iter()
        .filter(|ar| owned_by(ar.metadata.owner_references.as_ref(), owner))
        .map(|ar| analysis_run_info(ar))
        .collect();
    out.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.created.cmp(&b.created))
            .then_with(|| b.name.cmp(&a.name))
    });
    out
}

/// One AnalysisRun: phase, counts summed over metric results, per-metric newest measurement,
/// Job measurements as child rows.
pub fn analysis_run_info(ar: &AnalysisRun) -> AnalysisRunInfo {
    let mut info = AnalysisRunInfo {
        name: ar.metadata.name.clone().unwrap_or_default(),
        created: created(&ar.metadata),
        revision: revision(&ar.metadata),
        status: ar.status.phase.clone(),
        icon: analysis_icon(&ar.status.phase).to_owned(),
        message: ar.status.message.clone(),
        kind: ar
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("rollout-type"))
            .cloned()
            .unwrap_or_default(),
        ..AnalysisRunInfo::default()
    };
    for mr in &ar.status.metric_results {
        info.successful += mr.successful;
        info.failed += mr.failed;
        info.inconclusive += mr.inconclusive;
        info.error += mr.error;
        for m in &mr.measurements {
            if let Some(job) = m.metadata.as_ref().and_then(|md| md.get("job-name")) {
                info.jobs.push(JobInfo {
                    name: job.clone(),
                    created: m.started_at.as_ref().and_then(|t| t.parse().ok()),
                    status: m.phase.clone(),
                    icon: analysis_icon(&m.phase).to_owned(),
                });
            }
        }
        let last = mr.measurements.last();
        info.metrics.push(MetricInfo {
            name: mr.name.clone(),
            phase: mr.phase.clone(),
            icon: analysis_icon(&mr.phase).to_owned(),
            last_value: last.map(|m| m.value.clone()).filter(|v| !v.is_empty()),
            last_phase: last.map(|m| m.phase.clone()),
            measurements: mr.measurements.len(),
            success_condition: ar
                .spec
                .metrics
                .iter()
                .find(|s| s.name == mr.name)
                .map(|s| s.success_condition.clone())
                .unwrap_or_default(),
        });
    }
    // Metrics not measured yet still show, as pending.
    for spec in &ar.spec.metrics {
        if !info.metrics.iter().any(|m| m.name == spec.name) {
            info.metrics.push(MetricInfo {
                name: spec.name.clone(),
                phase: "Pending".into(),
                icon: ICON_WAITING.into(),
                success_condition: spec.success_condition.clone(),
                ..MetricInfo::default()
            });
        }
    }
    info
}

fn experiment_infos(
    owner: &str,
    exps: &[&Experiment],
    rss: &[&ReplicaSet],
    ars: &[&AnalysisRun],
    pods: &[&Pod],
) -> Vec<ExperimentInfo> {
    let mut out: Vec<ExperimentInfo> = exps
        .iter()
        .filter(|e| owned_by(e.metadata.owner_references.as_ref(), owner))
        .map(|e| {
            let id = uid(&e.metadata);
            ExperimentInfo {
                name: e.metadata.name.clone().unwrap_or_default(),
                created: created(&e.metadata),
                revision: revision(&e.metadata),
                status: e.status.phase.clone(),
                icon: analysis_icon(&e.status.phase).to_owned(),
                replica_sets: replica_set_infos(id, None, rss, pods),
                analysis_runs: analysis_run_infos(id, ars),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.created.cmp(&b.created))
    });
    out
}

// ---------------------------------------------------------------- images

fn merge_image(images: &mut Vec<ImageInfo>, image: &str, tags: &[String]) {
    if let Some(existing) = images.iter_mut().find(|i| i.image == image) {
        let mut set: BTreeSet<String> = existing.tags.drain(..).collect();
        set.extend(tags.iter().cloned());
        existing.tags = set.into_iter().collect();
    } else {
        // A first sighting keeps the role order (canary, stable, active, preview, ping, pong);
        // only merged tags are sorted, as the plugin's mergeImageAndTags does.
        images.push(ImageInfo {
            image: image.to_owned(),
            tags: tags.to_vec(),
        });
    }
    images.sort_by(|a, b| a.image.cmp(&b.image));
}

/// `Images`: images of ReplicaSets with replicas, tagged with their roles; experiment images
/// tagged `Σ:<template>`.
fn images(rss: &[ReplicaSetInfo], exps: &[ExperimentInfo]) -> Vec<ImageInfo> {
    let mut out = Vec::new();
    for rs in rss.iter().filter(|r| r.replicas > 0) {
        let mut tags = Vec::new();
        for (on, tag) in [
            (rs.canary, "canary"),
            (rs.stable, "stable"),
            (rs.active, "active"),
            (rs.preview, "preview"),
            (rs.ping, "ping"),
            (rs.pong, "pong"),
        ] {
            if on {
                tags.push(tag.to_owned());
            }
        }
        for image in &rs.images {
            merge_image(&mut out, image, &tags);
        }
    }
    for e in exps {
        for rs in e.replica_sets.iter().filter(|r| r.replicas > 0) {
            let tags: Vec<String> = if rs.template.is_empty() {
                Vec::new()
            } else {
                vec![format!("Σ:{}", rs.template)]
            };
            for image in &rs.images {
                merge_image(&mut out, image, &tags);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- the whole rollout

/// `NewRolloutInfo`: derives everything from the Rollout and the objects of its namespace
/// (ownership is resolved by owner UID, as the plugin does).
pub fn rollout_info(
    ro: &Rollout,
    rss: &[&ReplicaSet],
    pods: &[&Pod],
    exps: &[&Experiment],
    ars: &[&AnalysisRun],
) -> RolloutInfo {
    let ro_uid = uid(&ro.metadata);
    let replica_sets = replica_set_infos(ro_uid, Some(ro), rss, pods);
    let experiments = experiment_infos(ro_uid, exps, rss, ars, pods);
    let analysis_runs = analysis_run_infos(ro_uid, ars);
    let (status, message) = rollout_phase(ro);
    let s = &ro.status;
    let mut info = RolloutInfo {
        name: ro.metadata.name.clone().unwrap_or_default(),
        namespace: ro.metadata.namespace.clone().unwrap_or_default(),
        created: created(&ro.metadata),
        icon: rollout_icon(&status).to_owned(),
        status,
        message,
        fully_promoted: is_fully_promoted(ro),
        aborted: s.abort,
        paused: ro.spec.paused,
        pause_reasons: s
            .pause_conditions
            .iter()
            .map(|p| p.reason.clone())
            .collect(),
        controller_pause: s.controller_pause,
        step_analysis_inconclusive: s
            .canary
            .current_step_analysis_run_status
            .as_ref()
            .is_some_and(|r| r.status == "Inconclusive"),
        replicas: Replicas {
            desired: ro.spec.replicas.unwrap_or(1),
            current: s.replicas,
            updated: s.updated_replicas,
            ready: s.ready_replicas,
            available: s.available_replicas,
        },
        images: images(&replica_sets, &experiments),
        ..RolloutInfo::default()
    };
    if let Some(c) = &ro.spec.strategy.canary {
        info.strategy = "Canary".into();
        if let (Some(idx), false) = (s.current_step_index, c.steps.is_empty()) {
            info.step = format!("{idx}/{}", c.steps.len());
            info.step_index = Some(idx);
        }
        info.steps = c
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let i = i32::try_from(i).unwrap_or(i32::MAX);
                let cur = s.current_step_index.unwrap_or(0);
                StepInfo {
                    text: step_text(step),
                    state: match i.cmp(&cur) {
                        std::cmp::Ordering::Less => "done",
                        std::cmp::Ordering::Equal => "current",
                        std::cmp::Ordering::Greater => "pending",
                    },
                }
            })
            .collect();
        let set_weight = current_set_weight(ro);
        info.set_weight = Some(set_weight);
        let (step, _) = current_canary_step(ro);
        let max = max_traffic_weight(ro);
        info.actual_weight = Some(if step.is_none() {
            max
        } else if s.available_replicas > 0 {
            if c.traffic_routing.is_none() {
                // The plugin keeps the last canary ReplicaSet's share.
                replica_sets
                    .iter()
                    .filter(|r| r.canary)
                    .map(|r| r.available * max / s.available_replicas)
                    .next_back()
                    .unwrap_or(0)
            } else {
                s.canary
                    .weights
                    .as_ref()
                    .map_or(set_weight, |w| w.canary.weight)
            }
        } else {
            0
        });
        if let Some(p) = step.and_then(|st| st.pause.as_ref()) {
            let started = s
                .pause_conditions
                .iter()
                .find(|pc| pc.reason == "CanaryPauseStep")
                .and_then(|pc| pc.start_time.as_ref())
                .and_then(|t| t.parse::<Timestamp>().ok());
            let secs = p.duration.as_ref().and_then(duration_secs);
            if let (Some(start), Some(secs)) = (started, secs) {
                #[allow(clippy::cast_possible_truncation)]
                let ms = (secs * 1000.0) as i64;
                info.pause_ends_at = start
                    .checked_add(jiff::SignedDuration::from_millis(ms))
                    .ok();
            }
        }
    } else if ro.spec.strategy.blue_green.is_some() {
        info.strategy = "BlueGreen".into();
    }
    info.revisions = revisions(&replica_sets, &experiments, &analysis_runs);
    info
}

fn revisions(
    rss: &[ReplicaSetInfo],
    exps: &[ExperimentInfo],
    ars: &[AnalysisRunInfo],
) -> Vec<RevisionInfo> {
    let mut revs: BTreeSet<i64> = BTreeSet::new();
    revs.extend(rss.iter().map(|r| r.revision));
    revs.extend(exps.iter().map(|e| e.revision));
    revs.extend(ars.iter().map(|a| a.revision));
    revs.into_iter()
        .rev()
        .map(|revision| RevisionInfo {
            revision,
            replica_sets: rss
                .iter()
                .filter(|r| r.revision == revision)
                .cloned()
                .collect(),
            experiments: exps
                .iter()
                .filter(|e| e.revision == revision)
                .cloned()
                .collect(),
            analysis_runs: ars
                .iter()
                .filter(|a| a.revision == revision)
                .cloned()
                .collect(),
        })
        .collect()
}

/// `rolloutIcon`.
pub fn rollout_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => ICON_PROGRESSING,
        "Error" | "InvalidSpec" => ICON_WARNING,
        "Paused" => ICON_PAUSED,
        "Healthy" => ICON_OK,
        "Degraded" => ICON_BAD,
        "Unknown" => ICON_UNKNOWN,
        "ScaledDown" => ICON_NEUTRAL,
        _ => " ",
    }
}

impl RolloutInfo {
    /// All ReplicaSets of the tree, newest revision first.
    pub fn replica_sets(&self) -> impl Iterator<Item = &ReplicaSetInfo> {
        self.revisions.iter().flat_map(|r| r.replica_sets.iter())
    }

    /// All of the Rollout's own AnalysisRuns, newest revision first.
    pub fn analysis_runs(&self) -> impl Iterator<Item = &AnalysisRunInfo> {
        self.revisions.iter().flat_map(|r| r.analysis_runs.iter())
    }

    /// The ReplicaSet tagged canary (or preview for blue-green).
    pub fn canary_rs(&self) -> Option<&ReplicaSetInfo> {
        self.replica_sets().find(|r| r.canary || r.preview)
    }

    /// The ReplicaSet tagged stable.
    pub fn stable_rs(&self) -> Option<&ReplicaSetInfo> {
        self.replica_sets().find(|r| r.stable)
    }

    /// The AnalysisRun of the newest revision that has one (what the on-call engineer watches).
    pub fn current_analysis(&self) -> Option<&AnalysisRunInfo> {
        self.analysis_runs().next()
    }
}

/// `HumanDuration` from apimachinery: `7d`, `3h59m`, `45s`.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 60 * 2 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    let years = hours / 24 / 365;
    if hours < 24 * 365 * 8 {
        let dy = hours / 24 % 365;
        return if dy == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{dy}d")
        };
    }
    format!("{years}y")
}

/// `ScaleDownDelay`: `passed`, a duration, or empty when the annotation is not a time.
pub fn scale_down_delay(rs: &ReplicaSetInfo, now: Timestamp) -> String {
    match rs.scale_down_deadline.parse::<Timestamp>() {
        Ok(deadline) if deadline < now => "passed".into(),
        Ok(deadline) => human_duration(deadline.duration_since(now)),
        Err(_) => String::new(),
    }
}
