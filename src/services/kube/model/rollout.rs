//! Argo Rollouts' Rollout: spec (canary and blue-green strategies, steps) and status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::{PodTemplate, Selector, stringish};

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
