//! ARC runner scale sets (and legacy RunnerDeployments) as the Runners panel shows them (pure).

use jiff::Timestamp;
use serde::Serialize;

use super::model::{
    AutoscalingRunnerSet, EphemeralRunner, HorizontalRunnerAutoscaler, LegacyRunner, Pod,
    RUNNER_DEPLOYMENT_LABEL, RunnerDeployment, SCALE_SET_LABEL,
};

/// Which ARC mode a group of runners comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerMode {
    /// `actions.github.com` AutoscalingRunnerSet (the supported mode).
    #[default]
    ScaleSet,
    /// `actions.summerwind.dev` RunnerDeployment (legacy, community-maintained).
    Legacy,
}

/// One AutoscalingRunnerSet (or legacy RunnerDeployment) with its runners.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScaleSetInfo {
    pub name: String,
    pub mode: RunnerMode,
    pub min: i32,
    pub max: Option<i32>,
    pub current: i32,
    pub pending: i32,
    pub running: i32,
    pub failed: i32,
    /// `Pending` (listener not up), `Running`, `Outdated`.
    pub phase: String,
    pub runners: Vec<RunnerInfo>,
}

/// One EphemeralRunner and its pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunnerInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    /// EphemeralRunner phase: Pending, Running, Succeeded, Failed.
    pub phase: String,
    /// The runner pod's phase, if the pod exists.
    pub pod_phase: Option<String>,
    /// `ci.yml` from `jobWorkflowRef`.
    pub workflow: Option<String>,
    pub workflow_run_id: Option<i64>,
    pub job: Option<String>,
    pub repository: Option<String>,
}

impl RunnerInfo {
    /// `ci.yml run 812 · build` or empty when idle.
    pub fn serves(&self) -> String {
        let mut parts = Vec::new();
        if let Some(w) = &self.workflow {
            parts.push(w.clone());
        }
        if let Some(id) = self.workflow_run_id {
            parts.push(format!("run {id}"));
        }
        let mut s = parts.join(" ");
        if let Some(j) = &self.job {
            if !s.is_empty() {
                s.push_str(" · ");
            }
            s.push_str(j);
        }
        s
    }
}

/// The workflow file name of a `jobWorkflowRef` (`org/repo/.github/workflows/ci.yml@refs/…`).
fn workflow_file(r: &str) -> Option<String> {
    let path = r.split('@').next()?;
    let file = path.rsplit('/').next()?;
    (!file.is_empty()).then(|| file.to_owned())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn label_is(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
    value: &str,
) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(key))
        .is_some_and(|l| l == value)
}

/// The phase of the pod named `name`, if there is one.
fn pod_phase(pods: &[&Pod], name: &str) -> Option<String> {
    pods.iter()
        .find(|p| p.metadata.name.as_deref() == Some(name))
        .map(|p| p.status.phase.clone())
}

fn by_age(rs: &mut [RunnerInfo]) {
    rs.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
}

/// Joins scale sets, their EphemeralRunners (by the scale-set label) and the runner pods (same
/// name as their EphemeralRunner). `only` limits to the inventory's named scale sets.
pub fn scale_sets(
    sets: &[&AutoscalingRunnerSet],
    runners: &[&EphemeralRunner],
    pods: &[&Pod],
    only: &[String],
) -> Vec<ScaleSetInfo> {
    let mut out: Vec<ScaleSetInfo> = sets
        .iter()
        .filter(|s| only.is_empty() || s.metadata.name.as_ref().is_some_and(|n| only.contains(n)))
        .map(|s| {
            let name = s.metadata.name.clone().unwrap_or_default();
            let mut rs: Vec<RunnerInfo> = runners
                .iter()
                .filter(|r| label_is(&r.metadata, SCALE_SET_LABEL, &name))
                .map(|r| {
                    let rname = r.metadata.name.clone().unwrap_or_default();
                    let st = &r.status;
                    RunnerInfo {
                        created: r.metadata.creation_timestamp.as_ref().map(|t| t.0),
                        phase: if st.phase.is_empty() {
                            "Pending".into()
                        } else {
                            st.phase.clone()
                        },
                        pod_phase: pod_phase(pods, &rname),
                        workflow: workflow_file(&st.job_workflow_ref),
                        workflow_run_id: st.workflow_run_id,
                        job: non_empty(&st.job_display_name),
                        repository: non_empty(&st.job_repository_name),
                        name: rname,
                    }
                })
                .collect();
            by_age(&mut rs);
            ScaleSetInfo {
                name,
                mode: RunnerMode::ScaleSet,
                min: s.spec.min_runners.unwrap_or(0),
                max: s.spec.max_runners,
                current: s.status.current_runners,
                pending: s.status.pending_ephemeral_runners,
                running: s.status.running_ephemeral_runners,
                failed: s.status.failed_ephemeral_runners,
                phase: s.status.phase.clone(),
                runners: rs,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Legacy mode: joins RunnerDeployments, the HorizontalRunnerAutoscalers that target them (for
/// min/max), their Runners (by the `runner-deployment-name` label) and the runner pods (same
/// name as their Runner). `only` limits to the inventory's named RunnerDeployments.
pub fn runner_deployments(
    deployments: &[&RunnerDeployment],
    autoscalers: &[&HorizontalRunnerAutoscaler],
    runners: &[&LegacyRunner],
    pods: &[&Pod],
    only: &[String],
) -> Vec<ScaleSetInfo> {
    let mut out: Vec<ScaleSetInfo> = deployments
        .iter()
        .filter(|d| only.is_empty() || d.metadata.name.as_ref().is_some_and(|n| only.contains(n)))
        .map(|d| {
            let name = d.metadata.name.clone().unwrap_or_default();
            let hra = autoscalers.iter().find(|h| {
                let t = &h.spec.scale_target_ref;
                t.name == name && (t.kind.is_empty() || t.kind == "RunnerDeployment")
            });
            let mut rs: Vec<RunnerInfo> = runners
                .iter()
                .filter(|r| label_is(&r.metadata, RUNNER_DEPLOYMENT_LABEL, &name))
                .map(|r| {
                    let rname = r.metadata.name.clone().unwrap_or_default();
                    let wf = r.status.workflow.clone().unwrap_or_default();
                    RunnerInfo {
                        created: r.metadata.creation_timestamp.as_ref().map(|t| t.0),
                        phase: if r.status.phase.is_empty() {
                            "Pending".into()
                        } else {
                            r.status.phase.clone()
                        },
                        pod_phase: pod_phase(pods, &rname),
                        workflow: non_empty(&wf.name),
                        workflow_run_id: wf.run_id.parse().ok(),
                        job: non_empty(&wf.job),
                        repository: non_empty(&wf.repository),
                        name: rname,
                    }
                })
                .collect();
            by_age(&mut rs);
            let count = |phase: &str| {
                i32::try_from(rs.iter().filter(|r| r.phase == phase).count()).unwrap_or(i32::MAX)
            };
            let desired = d.spec.replicas.or(d.status.desired_replicas).unwrap_or(0);
            ScaleSetInfo {
                mode: RunnerMode::Legacy,
                min: hra.and_then(|h| h.spec.min_replicas).unwrap_or(desired),
                max: hra.map_or(Some(desired), |h| h.spec.max_replicas),
                current: d
                    .status
                    .replicas
                    .unwrap_or_else(|| i32::try_from(rs.len()).unwrap_or(i32::MAX)),
                pending: count("Pending"),
                running: count("Running"),
                failed: count("Failed"),
                phase: String::new(),
                runners: rs,
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
