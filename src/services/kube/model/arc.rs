//! Actions Runner Controller objects: scale-set mode (`actions.github.com`) and legacy mode
//! (`actions.summerwind.dev`, community-maintained). Only the fields the Runners panel reads:
//! `Runner.status.registration` carries a registration token and is deliberately absent.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `actions.github.com/v1alpha1` AutoscalingRunnerSet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoscalingRunnerSet {
    pub metadata: ObjectMeta,
    pub spec: RunnerSetSpec,
    pub status: RunnerSetStatus,
}
resource!(
    AutoscalingRunnerSet,
    "AutoscalingRunnerSet",
    "actions.github.com",
    "v1alpha1",
    "autoscalingrunnersets"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RunnerSetSpec {
    pub min_runners: Option<i32>,
    pub max_runners: Option<i32>,
    pub runner_scale_set_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RunnerSetStatus {
    pub current_runners: i32,
    pub pending_ephemeral_runners: i32,
    pub running_ephemeral_runners: i32,
    pub failed_ephemeral_runners: i32,
    pub phase: String,
}

/// `actions.github.com/v1alpha1` EphemeralRunner (its pod has the same name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EphemeralRunner {
    pub metadata: ObjectMeta,
    pub status: EphemeralRunnerStatus,
}
resource!(
    EphemeralRunner,
    "EphemeralRunner",
    "actions.github.com",
    "v1alpha1",
    "ephemeralrunners"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EphemeralRunnerStatus {
    pub phase: String,
    pub ready: bool,
    pub reason: String,
    pub message: String,
    pub runner_name: String,
    pub job_repository_name: String,
    pub job_workflow_ref: String,
    pub workflow_run_id: Option<i64>,
    pub job_display_name: String,
    pub job_id: String,
}

/// Legacy RunnerDeployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunnerDeployment {
    pub metadata: ObjectMeta,
    pub spec: RunnerDeploymentSpec,
    pub status: RunnerDeploymentStatus,
}
resource!(
    RunnerDeployment,
    "RunnerDeployment",
    "actions.summerwind.dev",
    "v1alpha1",
    "runnerdeployments"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RunnerDeploymentSpec {
    pub replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RunnerDeploymentStatus {
    pub replicas: Option<i32>,
    pub ready_replicas: Option<i32>,
    pub available_replicas: Option<i32>,
    pub updated_replicas: Option<i32>,
    pub desired_replicas: Option<i32>,
}

/// Legacy Runner (its pod has the same name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LegacyRunner {
    pub metadata: ObjectMeta,
    pub status: LegacyRunnerStatus,
}
resource!(
    LegacyRunner,
    "Runner",
    "actions.summerwind.dev",
    "v1alpha1",
    "runners"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LegacyRunnerStatus {
    pub ready: bool,
    pub phase: String,
    pub reason: String,
    pub message: String,
    /// Absent (`null`) while the runner serves no job.
    pub workflow: Option<LegacyWorkflow>,
}

/// The GitHub Actions run a legacy runner serves (from the runner's environment variables).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LegacyWorkflow {
    /// `GITHUB_WORKFLOW`: the workflow's name, not its file.
    pub name: String,
    pub repository: String,
    #[serde(rename = "runID")]
    pub run_id: String,
    pub job: String,
}

/// Legacy HorizontalRunnerAutoscaler: min/max of the RunnerDeployment it targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HorizontalRunnerAutoscaler {
    pub metadata: ObjectMeta,
    pub spec: HraSpec,
    pub status: HraStatus,
}
resource!(
    HorizontalRunnerAutoscaler,
    "HorizontalRunnerAutoscaler",
    "actions.summerwind.dev",
    "v1alpha1",
    "horizontalrunnerautoscalers"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HraSpec {
    pub scale_target_ref: ScaleTargetRef,
    pub min_replicas: Option<i32>,
    pub max_replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScaleTargetRef {
    /// `RunnerDeployment` (the default when empty) or `RunnerSet`.
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HraStatus {
    pub desired_replicas: Option<i32>,
}
