//! Argo Rollouts' AnalysisRuns (metrics and measurements) and Experiments.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

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
