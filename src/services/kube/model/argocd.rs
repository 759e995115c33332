//! Argo CD Applications (sync and health status, summary images, the operation asked for and
//! the last one's state, the sync policy) and AppProjects (their sync windows).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `argoproj.io/v1alpha1` Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Application {
    pub metadata: ObjectMeta,
    pub spec: ApplicationSpec,
    /// The operation asked for and not yet taken up by the controller (kept as written: we
    /// only need to know it is there, and which revision it names).
    pub operation: Option<serde_json::Value>,
    pub status: ApplicationStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApplicationSpec {
    pub project: String,
    pub destination: AppDestination,
    pub sync_policy: Option<SyncPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppDestination {
    pub server: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncPolicy {
    /// Present (even empty) when auto-sync is on.
    pub automated: Option<Automated>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Automated {
    pub prune: bool,
    pub self_heal: bool,
}

/// `argoproj.io/v1alpha1` AppProject: only its sync windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppProject {
    pub metadata: ObjectMeta,
    pub spec: AppProjectSpec,
}
resource!(
    AppProject,
    "AppProject",
    "argoproj.io",
    "v1alpha1",
    "appprojects"
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppProjectSpec {
    pub sync_windows: Vec<crate::services::kube::syncwindow::SyncWindow>,
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
    pub finished_at: String,
    pub sync_result: Option<SyncResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncResult {
    pub revision: String,
    pub resources: Vec<ResourceResult>,
}

/// One resource of a sync's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceResult {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub status: String,
    pub message: String,
}
