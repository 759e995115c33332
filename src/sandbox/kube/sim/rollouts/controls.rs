//! The controls the kubectl plugin sends as patches: retry (abort cleared), promote-full and
//! restart. Promote and abort need no phase of their own: promote moves the step index or
//! clears the pause, abort sets `status.abort`, and the step phases read both.

use serde_json::{Value, json};

use super::RolloutsSim;
use super::pass::Pass;
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::sim::s;

impl RolloutsSim {
    /// An aborted canary whose abort flag the user cleared starts its steps over, with fresh
    /// AnalysisRuns (runs older than the retry no longer count).
    pub(super) fn retry_if_abort_cleared(&mut self, p: &mut Pass) {
        if p.aborted || p.fully_promoted || !p.status.contains_key("abortedAt") {
            return;
        }
        p.status.remove("abortedAt");
        p.status.remove("abort");
        p.idx = 0;
        let retry_key = format!("retry/{}", p.uid);
        self.marks.forget(&retry_key);
        self.marks.first_seen(&retry_key);
        p.forget_step_analysis();
        p.event("Normal", "RolloutRetry", "Retry Rollout".to_owned());
    }

    /// Recreates every pod once per requested `spec.restartAt`, once that time has come.
    pub(super) fn restart_if_due(&mut self, p: &mut Pass) {
        let Some(at) = p.ro.pointer("/spec/restartAt").and_then(Value::as_str) else {
            return;
        };
        let due = at
            .parse::<jiff::Timestamp>()
            .is_ok_and(|t| t <= jiff::Timestamp::now());
        if !due || p.status.get("restartedAt").and_then(Value::as_str) == Some(at) {
            return;
        }
        for rs in &p.replicasets {
            for pod in p.pods_of(rs) {
                // A pod already gone is as good as deleted.
                let _ = self
                    .store
                    .delete(ids::pods(), &p.ns, s(pod, "/metadata/name"));
            }
        }
        p.status.insert("restartedAt".to_owned(), json!(at));
        p.event("Normal", "RolloutRestarted", "Rollout restarted".to_owned());
    }
}

impl Pass<'_> {
    /// Promote-full skips the remaining steps. It is read after a retry in the same pass, so
    /// a promote-full sent right behind a retry wins.
    pub fn promote_full_if_asked(&mut self) {
        if self.status.get("promoteFull").and_then(Value::as_bool) != Some(true) {
            return;
        }
        self.status.remove("promoteFull");
        self.status.remove("pauseConditions");
        self.status
            .insert("controllerPause".to_owned(), json!(false));
        self.idx = self.nsteps();
    }
}
