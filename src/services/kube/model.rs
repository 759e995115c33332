//! The objects shipdeck reads from the cluster, as partial typed structs.
//!
//! Only the fields the plugin's rules and the panels use are decoded: a watched Pod costs a few
//! hundred bytes instead of a full `k8s_openapi` Pod, which matters with 10,000 pods in a
//! namespace. Every field defaults, so an older or newer controller's object still decodes.
//! `managedFields` are dropped by the watchers before anything is stored.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer, Serialize};

/// Implements `kube::Resource` for a partial struct with a `metadata` field.
macro_rules! resource {
    ($ty:ty, $kind:literal, $group:literal, $version:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = NamespaceResourceScope;
            fn kind((): &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group((): &()) -> Cow<'_, str> {
                Cow::Borrowed($group)
            }
            fn version((): &()) -> Cow<'_, str> {
                Cow::Borrowed($version)
            }
            fn plural((): &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// Accepts a string or a number (Argo Rollouts stores `observedGeneration` as a string; a
/// hand-written object may carry a number).
fn stringish<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `{name, image}` of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: String,
    /// Only set on init containers; `Always` marks a sidecar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodTemplate {
    pub spec: PodSpec,
}

/// `spec.selector` of a workload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

// ---------------------------------------------------------------- Argo Rollouts: Rollout

/// `argoproj.io/v1alpha1` Rollout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rollout {
    pub metadata: ObjectMeta,
    pub spec: RolloutSpec,
    pub status: RolloutStatus,
}
resource!(Rollout, "Rollout", "argoproj.io", "v1alpha1", "rollouts");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RolloutSpec {
    pub replicas: Option<i32>,
    pub paused: bool,
    pub restart_at: Option<String>,
    pub selector: Selector,
    pub template: PodTemplate,
    pub strategy: Strategy,
    pub workload_ref: Option<serde_json::Value>,
    pub template_resolved_from_ref: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Strategy {
    pub canary: Option<CanaryStrategy>,
    pub blue_green: Option<BlueGreenStrategy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CanaryStrategy {
    pub steps: Vec<CanaryStep>,
    pub traffic_routing: Option<TrafficRouting>,
    pub ping_pong: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficRouting {
    pub max_traffic_weight: Option<i32>,
}

/// One canary step; exactly one field is set in a valid spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CanaryStep {
    pub set_weight: Option<i32>,
    pub pause: Option<PauseStep>,
    pub experiment: Option<serde_json::Value>,
    pub analysis: Option<serde_json::Value>,
    pub set_canary_scale: Option<serde_json::Value>,
    pub plugin: Option<serde_json::Value>,
    pub set_header_route: Option<serde_json::Value>,
    pub set_mirror_route: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PauseStep {
    /// `"10s"`, `"5m"`, `"1h"` or a number of seconds.
    pub duration: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreenStrategy {
    pub post_promotion_analysis: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RolloutStatus {
    pub abort: bool,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub current_pod_hash: String,
    pub current_step_index: Option<i32>,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    #[serde(deserialize_with = "stringish")]
    pub observed_generation: String,
    pub conditions: Vec<Condition>,
    pub canary: CanaryStatus,
    pub blue_green: BlueGreenStatus,
    #[serde(rename = "stableRS")]
    pub stable_rs: String,
    pub restarted_at: Option<String>,
    pub promote_full: bool,
    pub phase: String,
    pub message: String,
    #[serde(deserialize_with = "stringish")]
    pub workload_observed_generation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PauseCondition {
    pub reason: String,
    pub start_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CanaryStatus {
    pub weights: Option<TrafficWeights>,
    pub stable_ping_pong: String,
    pub current_step_analysis_run_status: Option<RunStatus>,
    pub current_background_analysis_run_status: Option<RunStatus>,
    pub current_experiment: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrafficWeights {
    pub canary: WeightDestination,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightDestination {
    pub weight: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStatus {
    pub name: String,
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreenStatus {
    pub active_selector: String,
    pub preview_selector: String,
    pub post_promotion_analysis_run_status: Option<RunStatus>,
}

// ---------------------------------------------------------------- apps/v1 ReplicaSet, v1 Pod

/// `apps/v1` ReplicaSet (older `extensions/v1beta1` objects decode the same).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplicaSet {
    pub metadata: ObjectMeta,
    pub spec: ReplicaSetSpec,
    pub status: ReplicaSetStatus,
}
resource!(ReplicaSet, "ReplicaSet", "apps", "v1", "replicasets");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicaSetSpec {
    pub replicas: Option<i32>,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicaSetStatus {
    pub replicas: i32,
    pub available_replicas: i32,
    pub ready_replicas: i32,
    pub observed_generation: i64,
    pub conditions: Vec<Condition>,
}

/// `v1` Pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
    pub status: PodStatus,
}
resource!(Pod, "Pod", "", "v1", "pods");

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: String,
    pub reason: String,
    pub init_container_statuses: Vec<ContainerStatus>,
    pub container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    pub ready: bool,
    pub restart_count: i32,
    pub started: Option<bool>,
    pub state: ContainerState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    pub waiting: Option<StateReason>,
    pub running: Option<serde_json::Value>,
    pub terminated: Option<Terminated>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StateReason {
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Terminated {
    pub exit_code: i32,
    pub signal: i32,
    pub reason: String,
}

// ---------------------------------------------------------------- AnalysisRun, Experiment

/// `argoproj.io/v1alpha1` AnalysisRun.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisRun {
    pub metadata: ObjectMeta,
    pub spec: AnalysisRunSpec,
    pub status: AnalysisRunStatus,
}
resource!(
    AnalysisRun,
    "AnalysisRun",
    "argoproj.io",
    "v1alpha1",
    "analysisruns"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisRunSpec {
    pub metrics: Vec<MetricSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MetricSpec {
    pub name: String,
    pub success_condition: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AnalysisRunStatus {
    pub phase: String,
    pub message: String,
    pub metric_results: Vec<MetricResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricResult {
    pub name: String,
    pub phase: String,
    pub measurements: Vec<Measurement>,
    pub count: i32,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Measurement {
    pub phase: String,
    pub value: String,
    pub message: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `argoproj.io/v1alpha1` Experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Experiment {
    pub metadata: ObjectMeta,
    pub status: ExperimentStatus,
}
resource!(
    Experiment,
    "Experiment",
    "argoproj.io",
    "v1alpha1",
    "experiments"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentStatus {
    pub phase: String,
    pub message: String,
}

// ---------------------------------------------------------------- Argo CD

/// `argoproj.io/v1alpha1` Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Application {
    pub metadata: ObjectMeta,
    pub status: ApplicationStatus,
}
resource!(
    Application,
    "Application",
    "argoproj.io",
    "v1alpha1",
    "applications"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApplicationStatus {
    pub sync: AppSync,
    pub health: AppHealth,
    pub summary: AppSummary,
    pub operation_state: Option<OperationState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSync {
    pub status: String,
    pub revision: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppHealth {
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSummary {
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperationState {
    pub phase: String,
    pub message: String,
}

// ---------------------------------------------------------------- ARC (scale-set mode)

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

// ---------------------------------------------------------------- ARC (legacy mode)
// `actions.summerwind.dev/v1alpha1`, community-maintained. Only the fields the Runners panel
// reads: `Runner.status.registration` carries a registration token and is deliberately absent.

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

/// Label that ties legacy Runners and their pods to their RunnerDeployment.
pub const RUNNER_DEPLOYMENT_LABEL: &str = "runner-deployment-name";
/// Label (empty value) on every legacy runner pod.
pub const LEGACY_RUNNER_POD_LABEL: &str = "actions-runner";

/// Label that ties ARC objects to their scale set.
pub const SCALE_SET_LABEL: &str = "actions.github.com/scale-set-name";
/// Label Argo Rollouts puts on its ReplicaSets and pods.
pub const POD_HASH_LABEL: &str = "rollouts-pod-template-hash";
/// Revision annotation on ReplicaSets, AnalysisRuns and Experiments.
pub const REVISION_ANNOTATION: &str = "rollout.argoproj.io/revision";
