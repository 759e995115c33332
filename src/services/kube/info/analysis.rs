//! AnalysisRuns and Experiments of a Rollout, with their metrics, jobs and icons.

use crate::services::kube::model::{AnalysisRun, Experiment, Pod, ReplicaSet};

use super::replica_sets::replica_set_infos;
use super::types::{
    AnalysisRunInfo, ExperimentInfo, ICON_BAD, ICON_OK, ICON_PROGRESSING, ICON_UNKNOWN,
    ICON_WAITING, ICON_WARNING, JobInfo, MetricInfo,
};
use super::{created, owned_by, revision, uid};

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

pub(super) fn analysis_run_infos(owner: &str, ars: &[&AnalysisRun]) -> Vec<AnalysisRunInfo> {
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

pub(super) fn experiment_infos(
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
