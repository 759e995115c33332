//! Which rollouts the guard rolls back: a canary aborted by its analysis, or a new revision
//! gone Degraded. Pure: a snapshot of the watch in, the failures it shows out, each under a
//! key that names the failed revision and its tag, so a re-list after a reconnect or a
//! restart yields the same key and the guard acts once per failed revision.

use crate::inventory::EventKind;
use crate::services::kube::news::{failed, failing_metric, rollout_news};
use crate::services::kube::{RolloutInfo, image_tag};

/// A failed canary the guard may roll back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `<rollout uid>/<pod-template-hash>/<tag>`: one per failed revision.
    pub key: String,
    pub app: String,
    pub env: String,
    /// The canary's (bad) tag: git must still name it for the rollback to be written.
    pub tag: String,
    /// `auto_abort` (its analysis failed) or `degraded`.
    pub kind: EventKind,
    /// The failed AnalysisRun and its failing metric with the value (`run: success-rate =
    /// [0.58]`), or the rollout's message when no analysis failed, or the SLO breaches.
    pub analysis: String,
    /// Found by the SLO reads (`guard::slo`), not by the rollout's own status.
    pub slo: bool,
}

impl Failure {
    /// What happened, in words: `aborted by analysis` or `Degraded`.
    pub fn what(&self) -> &'static str {
        if self.slo {
            "breached its SLO"
        } else if self.kind == EventKind::AutoAbort {
            "aborted by analysis"
        } else {
            "Degraded"
        }
    }
}

/// The failure `ro` shows, if it shows one: an abort by analysis, or Degraded while a canary
/// (a revision newer than the stable one) is in place. A person's abort without a failed run
/// is Degraded too: under GitOps the bad tag is still in git either way.
pub fn failure(app: &str, env: &str, ro: &RolloutInfo) -> Option<Failure> {
    let canary = ro.canary_rs().filter(|c| !c.stable)?;
    let tag = canary
        .images
        .first()
        .and_then(|i| image_tag(i))
        .map(str::to_owned)?;
    let news = rollout_news(app, env, ro);
    let fact = news
        .iter()
        .find(|n| matches!(n.kind, EventKind::AutoAbort | EventKind::Degraded))?;
    let analysis = match ro.current_analysis_runs().find(|r| failed(r)) {
        Some(run) => format!("{}: {}", run.name, failing_metric(run)),
        None => ro.message.clone(),
    };
    Some(Failure {
        key: format!("{}/{}/{tag}", ro.uid, canary.pod_hash),
        app: app.to_owned(),
        env: env.to_owned(),
        tag,
        kind: fact.kind,
        analysis,
        slo: false,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::services::kube::info::{AnalysisRunInfo, MetricInfo, ReplicaSetInfo, RevisionInfo};

    fn canary(status: &str, aborted: bool, run: Option<&str>) -> RolloutInfo {
        let runs = run
            .map(|phase| AnalysisRunInfo {
                name: "web-7c9-2".into(),
                status: phase.into(),
                metrics: vec![MetricInfo {
                    name: "success-rate".into(),
                    phase: phase.into(),
                    last_value: Some("[0.58]".into()),
                    ..MetricInfo::default()
                }],
                ..AnalysisRunInfo::default()
            })
            .into_iter()
            .collect();
        RolloutInfo {
            uid: "u1".into(),
            status: status.into(),
            message: "RolloutAborted: Rollout aborted update to revision 3".into(),
            aborted,
            revisions: vec![
                RevisionInfo {
                    revision: 3,
                    replica_sets: vec![ReplicaSetInfo {
                        canary: true,
                        revision: 3,
                        pod_hash: "7c9".into(),
                        images: vec!["r/web:bad1234".into()],
                        ..ReplicaSetInfo::default()
                    }],
                    analysis_runs: runs,
                    ..RevisionInfo::default()
                },
                RevisionInfo {
                    revision: 2,
                    replica_sets: vec![ReplicaSetInfo {
                        stable: true,
                        revision: 2,
                        images: vec!["r/web:71be0e3".into()],
                        ..ReplicaSetInfo::default()
                    }],
                    ..RevisionInfo::default()
                },
            ],
            ..RolloutInfo::default()
        }
    }

    #[test]
    fn an_abort_by_analysis_names_the_run_metric_and_value() {
        let f = failure("web", "stg", &canary("Degraded", true, Some("Failed"))).unwrap();
        assert_eq!(f.key, "u1/7c9/bad1234");
        assert_eq!(f.tag, "bad1234");
        assert_eq!(f.kind, EventKind::AutoAbort);
        assert_eq!(f.analysis, "web-7c9-2: success-rate = [0.58]");
    }

    #[test]
    fn degraded_without_a_failed_run_is_a_failure_with_the_message() {
        let f = failure("web", "stg", &canary("Degraded", true, None)).unwrap();
        assert_eq!(f.kind, EventKind::Degraded);
        assert!(f.analysis.starts_with("RolloutAborted"), "{}", f.analysis);
    }

    #[test]
    fn a_running_or_healthy_canary_and_a_degraded_stable_are_left_alone() {
        assert_eq!(
            failure("web", "stg", &canary("Paused", false, Some("Running"))),
            None
        );
        let mut stable_only = canary("Degraded", false, None);
        stable_only.revisions.remove(0);
        assert_eq!(failure("web", "stg", &stable_only), None);
    }
}
