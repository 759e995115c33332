//! What the cluster did by itself. Each snapshot yields the facts that hold now, each under a
//! key that names the fact (the object's UID with the revision, run or start time it concerns),
//! so a caller that remembers keys announces each fact once, whatever reconnects or restarts
//! deliver the same objects again.

use crate::inventory::EventKind;

use super::info::{AnalysisRunInfo, ReplicaSetInfo};
use super::{ArgoApp, RolloutInfo, image_tag};

/// One fact about an app in an env, with the key that deduplicates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNews {
    pub key: String,
    pub kind: EventKind,
    pub app: String,
    pub env: String,
    /// The tag it concerns (the canary's), when there is one.
    pub tag: Option<String>,
    /// One line: what happened and why (metric and value, message).
    pub what: String,
}

impl ClusterNews {
    /// The Activity line.
    pub fn line(&self) -> String {
        format!("{} {}: {}", self.app, self.env, self.what)
    }
}

pub(crate) fn failed(run: &AnalysisRunInfo) -> bool {
    matches!(run.status.as_str(), "Failed" | "Error")
}

/// The failing metric of a run and its newest value: `success-rate = [0.58]`.
pub(crate) fn failing_metric(run: &AnalysisRunInfo) -> String {
    run.metrics
        .iter()
        .find(|m| matches!(m.phase.as_str(), "Failed" | "Error" | "Inconclusive"))
        .map_or_else(
            || run.message.clone(),
            |m| match &m.last_value {
                Some(v) => format!("{} = {v}", m.name),
                None => m.name.clone(),
            },
        )
}

fn tag_of(rs: &ReplicaSetInfo) -> Option<String> {
    rs.images
        .first()
        .and_then(|i| image_tag(i))
        .map(str::to_owned)
}

/// The facts about one Rollout: an abort by analysis, Degraded, a failed or inconclusive run of
/// the revision on screen, canary pods crash-looping.
pub fn rollout_news(app: &str, env: &str, ro: &RolloutInfo) -> Vec<ClusterNews> {
    let mut out = Vec::new();
    let canary = ro.canary_rs().filter(|c| !c.stable);
    let revision = canary
        .map(|c| c.revision)
        .or_else(|| ro.current_revision().map(|r| r.revision))
        .unwrap_or_default();
    let tag = canary.and_then(tag_of);
    let news = |key: String, kind, what: String| ClusterNews {
        key,
        kind,
        app: app.to_owned(),
        env: env.to_owned(),
        tag: tag.clone(),
        what,
    };
    let failed_run = ro.current_analysis_runs().find(|r| failed(r));
    // An abort with a failed run of this revision is the analysis's doing; a person's abort is
    // journaled and announced by the op that sent it.
    let auto_abort = ro.aborted && failed_run.is_some();
    if let (true, Some(run)) = (auto_abort, failed_run) {
        out.push(news(
            format!("{}/aborted/{revision}", ro.uid),
            EventKind::AutoAbort,
            format!(
                "canary {} aborted by analysis: {}",
                tag.as_deref().unwrap_or("?"),
                failing_metric(run)
            ),
        ));
    } else if ro.status == "Degraded" {
        out.push(news(
            format!("{}/degraded/{revision}", ro.uid),
            EventKind::Degraded,
            format!("rollout Degraded: {}", ro.message),
        ));
    }
    for run in ro.current_analysis_runs() {
        let inconclusive = run.status == "Inconclusive";
        if !(inconclusive || failed(run)) || (auto_abort && failed(run)) {
            continue;
        }
        out.push(news(
            format!("{}/run/{}/{}", ro.uid, run.name, run.status),
            EventKind::AnalysisFailed,
            format!(
                "analysis {} {}: {}",
                run.name,
                if inconclusive {
                    "inconclusive"
                } else {
                    "failed"
                },
                failing_metric(run)
            ),
        ));
    }
    for pod in canary.iter().flat_map(|c| c.pods.iter()) {
        if pod.status == "CrashLoopBackOff" && pod.restarts > 0 {
            out.push(news(
                format!("{}/pod/{}/crashloop", ro.uid, pod.name),
                EventKind::CrashLoop,
                format!(
                    "canary pod {} crash-looping ({} restarts)",
                    pod.name, pod.restarts
                ),
            ));
        }
    }
    out
}

/// A failed Argo CD sync of the app's Application, once per operation.
pub fn argo_news(app: &str, env: &str, argo: &ArgoApp) -> Vec<ClusterNews> {
    let phase = argo.operation.as_deref().unwrap_or_default();
    if !matches!(phase, "Failed" | "Error") {
        return Vec::new();
    }
    let started = argo.operation_started.as_deref().unwrap_or_default();
    let message = argo.operation_message.as_deref().unwrap_or_default();
    vec![ClusterNews {
        key: format!("argocd/{env}/{}/{started}", argo.name),
        kind: EventKind::SyncFailed,
        app: app.to_owned(),
        env: env.to_owned(),
        tag: None,
        what: format!("Argo CD sync of {} failed: {message}", argo.name),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::kube::info::{MetricInfo, PodInfo, RevisionInfo};

    fn aborted_canary() -> RolloutInfo {
        let run = AnalysisRunInfo {
            name: "web-bad1-3-2".into(),
            status: "Failed".into(),
            metrics: vec![MetricInfo {
                name: "success-rate".into(),
                phase: "Failed".into(),
                last_value: Some("[0.58]".into()),
                ..MetricInfo::default()
            }],
            ..AnalysisRunInfo::default()
        };
        RolloutInfo {
            uid: "u1".into(),
            status: "Degraded".into(),
            aborted: true,
            revisions: vec![
                RevisionInfo {
                    revision: 3,
                    replica_sets: vec![ReplicaSetInfo {
                        canary: true,
                        revision: 3,
                        images: vec!["r/web:bad1".into()],
                        pods: vec![PodInfo {
                            name: "web-3-x".into(),
                            status: "CrashLoopBackOff".into(),
                            restarts: 4,
                            ..PodInfo::default()
                        }],
                        ..ReplicaSetInfo::default()
                    }],
                    analysis_runs: vec![run],
                    ..RevisionInfo::default()
                },
                RevisionInfo {
                    revision: 2,
                    replica_sets: vec![ReplicaSetInfo {
                        stable: true,
                        revision: 2,
                        ..ReplicaSetInfo::default()
                    }],
                    ..RevisionInfo::default()
                },
            ],
            ..RolloutInfo::default()
        }
    }

    #[test]
    fn an_abort_by_analysis_is_one_fact_with_the_metric_not_three() {
        let news = rollout_news("web", "dev", &aborted_canary());
        let kinds: Vec<EventKind> = news.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [EventKind::AutoAbort, EventKind::CrashLoop]);
        assert_eq!(
            news[0].line(),
            "web dev: canary bad1 aborted by analysis: success-rate = [0.58]"
        );
        assert_eq!(news[0].key, "u1/aborted/3");
        // The same objects again (a reconnect's re-list) give the same keys.
        assert_eq!(news, rollout_news("web", "dev", &aborted_canary()));
    }

    #[test]
    fn a_persons_abort_is_not_news_and_a_healthy_rollout_says_nothing() {
        let mut ro = aborted_canary();
        ro.revisions[0].analysis_runs.clear();
        ro.revisions[0].replica_sets[0].pods.clear();
        let news = rollout_news("web", "dev", &ro);
        assert_eq!(news.len(), 1);
        assert_eq!(news[0].kind, EventKind::Degraded);
        ro.status = "Healthy".into();
        ro.aborted = false;
        assert!(rollout_news("web", "dev", &ro).is_empty());
    }

    #[test]
    fn a_failed_sync_is_keyed_by_its_operation() {
        let mut a = ArgoApp {
            name: "web-dev".into(),
            operation: Some("Failed".into()),
            operation_started: Some("2026-12-06T10:00:00Z".into()),
            operation_message: Some("one or more objects failed to apply".into()),
            ..ArgoApp::default()
        };
        let n = argo_news("web", "dev", &a);
        assert_eq!(n[0].key, "argocd/dev/web-dev/2026-12-06T10:00:00Z");
        a.operation = Some("Succeeded".into());
        assert!(argo_news("web", "dev", &a).is_empty());
    }
}
