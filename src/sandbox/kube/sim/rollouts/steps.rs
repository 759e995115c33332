//! The canary step at hand: setWeight waits for the canary's pods, pause holds (for a
//! duration or until promoted), analysis waits for its AnalysisRun and aborts on failure.
//! Past the last step the canary becomes stable.

use serde_json::{Value, json};

use super::pass::Pass;
use super::{RolloutsSim, canary_replicas};
use crate::sandbox::kube::sim::{parse_duration, s};
use crate::sandbox::kube::store::{StoreError, now_rfc3339};

impl RolloutsSim {
    pub(super) fn advance_step(&mut self, p: &mut Pass) -> Result<(), StoreError> {
        let steps = p.steps;
        let Some(step) = steps.get(p.idx) else {
            return Ok(());
        };
        if p.controller_pause && p.pause_conditions.is_empty() && step.get("pause").is_none() {
            // The user unpaused and already moved the index (plugin promote): just resume.
            p.controller_pause = false;
        }
        if let Some(weight) = step.get("setWeight").and_then(Value::as_i64) {
            p.set_weight_step(weight);
        } else if let Some(pause) = step.get("pause") {
            self.pause_step(p, pause);
        } else if let Some(analysis) = step.get("analysis") {
            self.analysis_step(p, analysis)?;
        } else {
            // Steps the sandbox does not simulate (experiment, plugins) complete at once.
            p.idx += 1;
        }
        Ok(())
    }

    /// Pauses on arrival; resumes when the user clears the pause conditions (promote) or
    /// when the step's duration has passed.
    fn pause_step(&mut self, p: &mut Pass, pause: &Value) {
        let pause_key = format!("pause/{}/{}/{}", p.uid, p.hash, p.idx);
        if p.pause_conditions.is_empty() && !p.controller_pause {
            p.pause_conditions
                .push(json!({"reason": "CanaryPauseStep", "startTime": now_rfc3339()}));
            p.controller_pause = true;
            self.marks.forget(&pause_key);
            self.marks.first_seen(&pause_key);
            p.event(
                "Normal",
                "RolloutPaused",
                "Rollout is paused (CanaryPauseStep)".to_owned(),
            );
        } else if p.pause_conditions.is_empty() {
            p.controller_pause = false;
            p.idx += 1;
            self.marks.forget(&pause_key);
            p.event("Normal", "RolloutResumed", "Rollout is resumed".to_owned());
        } else if let Some(secs) = pause.get("duration").and_then(parse_duration) {
            let started = self.marks.first_seen(&pause_key);
            if self.clock.since(started) >= secs {
                p.pause_conditions.clear();
                p.controller_pause = false;
                p.idx += 1;
                self.marks.forget(&pause_key);
                let message = format!(
                    "Rollout step {}/{} completed (pause: {secs}s)",
                    p.idx,
                    p.nsteps()
                );
                p.event("Normal", "RolloutStepCompleted", message);
            }
        }
    }

    /// Mirrors the step's AnalysisRun into the canary status and acts on its verdict:
    /// success moves on, failure aborts, inconclusive pauses for the user.
    fn analysis_step(&mut self, p: &mut Pass, analysis: &Value) -> Result<(), StoreError> {
        let ar = self.step_analysis_run(p, analysis)?;
        let phase = s(&ar, "/status/phase").to_owned();
        let ar_name = s(&ar, "/metadata/name").to_owned();
        let mut run_status = json!({"name": ar_name, "status": if phase.is_empty() { "Pending" } else { phase.as_str() }});
        if !s(&ar, "/status/message").is_empty() {
            run_status["message"] = json!(s(&ar, "/status/message"));
        }
        p.status
            .entry("canary".to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|c| c.insert("currentStepAnalysisRunStatus".to_owned(), run_status));
        match phase.as_str() {
            "Successful" => {
                p.idx += 1;
                p.event(
                    "Normal",
                    "AnalysisRunSuccessful",
                    format!("Step Analysis Run '{ar_name}' Status New: 'Successful'"),
                );
            }
            "Failed" | "Error" => {
                p.aborted = true;
                s(&ar, "/status/message").clone_into(&mut p.abort_reason);
                p.status.insert("abort".to_owned(), json!(true));
                p.event(
                    "Warning",
                    "AnalysisRunFailed",
                    format!("Step Analysis Run '{ar_name}' Status New: '{phase}'"),
                );
            }
            "Inconclusive" if p.pause_conditions.is_empty() && !p.controller_pause => {
                p.pause_conditions
                    .push(json!({"reason": "InconclusiveAnalysisRun", "startTime": now_rfc3339()}));
                p.controller_pause = true;
            }
            _ => {}
        }
        Ok(())
    }
}

impl Pass<'_> {
    /// A setWeight step completes once enough canary pods are ready for its weight.
    fn set_weight_step(&mut self, weight: i64) {
        if self.canary_available >= canary_replicas(weight, self.replicas) {
            self.idx += 1;
            let message = format!(
                "Rollout step {}/{} completed (setWeight: {weight})",
                self.idx,
                self.nsteps()
            );
            self.event("Normal", "RolloutStepCompleted", message);
        }
    }

    /// Past the last step with every canary pod ready: the canary becomes stable.
    pub fn complete_if_steps_done(&mut self) {
        if self.idx < self.nsteps() || self.canary_available < self.replicas {
            return;
        }
        self.status.insert("stableRS".to_owned(), json!(self.hash));
        self.fully_promoted = true;
        self.forget_step_analysis();
        let message = format!(
            "Rollout completed update to revision {} ({})",
            self.current_rev, self.hash
        );
        self.event("Normal", "RolloutCompleted", message);
    }

    /// An aborted canary drops its pauses, records when it was aborted (once), and keeps the
    /// failed analysis's message as the reason.
    pub fn settle_abort(&mut self) {
        self.pause_conditions.clear();
        self.controller_pause = false;
        if !self.status.contains_key("abortedAt") {
            self.status
                .insert("abortedAt".to_owned(), json!(now_rfc3339()));
            let message = format!("Rollout aborted update to revision {}", self.current_rev);
            self.event("Warning", "RolloutAborted", message);
        }
        if self.abort_reason.is_empty()
            && let Some(ar_status) = self
                .status
                .get("canary")
                .and_then(|c| c.get("currentStepAnalysisRunStatus"))
            && matches!(s(ar_status, "/status"), "Failed" | "Error")
        {
            self.abort_reason = s(ar_status, "/message").to_owned();
        }
    }
}
