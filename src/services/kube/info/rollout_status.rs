//! A Rollout's phase and message (`rolloututil`), its current step, SetWeight and traffic
//! weight, and the step and duration texts the plugin prints.

use jiff::Timestamp;

use crate::services::kube::model::{CanaryStep, Rollout};

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

pub(super) fn workload_generation_observed(ro: &Rollout) -> bool {
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

pub(super) fn same_instant(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

pub(super) fn analysis_completed(phase: &str) -> bool {
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
pub(super) fn go_duration(v: &serde_json::Value) -> String {
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

pub(super) fn parse_go_duration(s: &str) -> Option<f64> {
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
