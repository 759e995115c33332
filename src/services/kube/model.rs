//! The objects shipdeck reads from the cluster, as partial typed structs.
//!
//! Only the fields the plugin's rules and the panels use are decoded: a watched Pod costs a few
//! hundred bytes instead of a full `k8s_openapi` Pod, which matters with 10,000 pods in a
//! namespace. Every field defaults, so an older or newer controller's object still decodes.
//! `managedFields` are dropped by the watchers before anything is stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub use analysis::{
    AnalysisRun, AnalysisRunSpec, AnalysisRunStatus, Experiment, ExperimentStatus, Measurement,
    MetricResult, MetricSpec,
};
pub use arc::{
    AutoscalingRunnerSet, EphemeralRunner, EphemeralRunnerStatus, HorizontalRunnerAutoscaler,
    HraSpec, HraStatus, LegacyRunner, LegacyRunnerStatus, LegacyWorkflow, RunnerDeployment,
    RunnerDeploymentSpec, RunnerDeploymentStatus, RunnerSetSpec, RunnerSetStatus, ScaleTargetRef,
};
pub use argocd::{
    AppDestination, AppHealth, AppProject, AppProjectSpec, AppSummary, AppSync, Application,
    ApplicationSpec, ApplicationStatus, Automated, OperationState, ResourceResult, SyncPolicy,
    SyncResult,
};
pub use rollout::{
    BlueGreenStatus, BlueGreenStrategy, CanaryStatus, CanaryStep, CanaryStrategy, Condition,
    PauseCondition, PauseStep, Rollout, RolloutSpec, RolloutStatus, RunStatus, Strategy,
    TrafficRouting, TrafficWeights, WeightDestination,
};
pub use workloads::{
    ContainerState, ContainerStatus, Pod, PodStatus, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus,
    StateReason, Terminated,
};

/// Implements `kube::Resource` for a partial struct with a `metadata` field.
macro_rules! resource {
    ($ty:ty, $kind:literal, $group:literal, $version:literal, $plural:literal) => {
        impl ::kube::Resource for $ty {
            type DynamicType = ();
            type Scope = ::k8s_openapi::NamespaceResourceScope;
            fn kind((): &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($kind)
            }
            fn group((): &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($group)
            }
            fn version((): &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($version)
            }
            fn plural((): &()) -> ::std::borrow::Cow<'_, str> {
                ::std::borrow::Cow::Borrowed($plural)
            }
            fn meta(&self) -> &::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(
                &mut self,
            ) -> &mut ::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

// Declared after `resource!`, which they use.
mod analysis;
mod arc;
mod argocd;
mod rollout;
mod workloads;

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
