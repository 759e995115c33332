//! Argo CD Applications: sync and health status, summary images, the last operation.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

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
#[serde(default, rename_all = "camelCase")]
pub struct OperationState {
    pub phase: String,
    pub message: String,
    pub started_at: String,
}
