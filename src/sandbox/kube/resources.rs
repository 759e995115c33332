//! The resource types the sandbox API server knows, as discovery describes them.

/// One served resource (a group/version/plural triple) and the facts discovery and the
/// storage rules need about it.
#[derive(Debug)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// Has a `/status` subresource: main writes ignore status, status writes touch only status.
    pub status_subresource: bool,
    pub short_names: &'static [&'static str],
    /// Only `create` makes sense (SelfSubjectAccessReview, SelfSubjectReview).
    pub create_only: bool,
}

impl ResourceDef {
    /// `v1` for core, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

// One row of the table below; named arguments would only add noise.
#[allow(clippy::too_many_arguments)]
const fn def(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    status_subresource: bool,
    short_names: &'static [&'static str],
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        status_subresource,
        short_names,
        create_only: false,
    }
}

/// Every resource served. Status-subresource flags follow the real CRDs in
/// shared/fixtures/crds (Applications and AnalysisRuns have none).
pub static RESOURCES: &[ResourceDef] = &[
    def(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        true,
        &["ns"],
    ),
    def("", "v1", "pods", "pod", "Pod", true, true, &["po"]),
    def("", "v1", "events", "event", "Event", true, false, &["ev"]),
    // The same events through the newer API, as a real server serves both.
    def(
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        true,
        false,
        &[],
    ),
    def(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        true,
        &["rs"],
    ),
    // Migration Jobs (issue 21); the sandbox's Job simulator runs them.
    def("batch", "v1", "jobs", "job", "Job", true, true, &[]),
    def(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        true,
        &["deploy"],
    ),
    // What `deploy/guard/` creates, and the guard's Lease: plain stored objects (no
    // controller acts on them), enough for `kubectl apply --dry-run=server` and the election.
    def(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        false,
        &["sa"],
    ),
    def(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        false,
        &["cm"],
    ),
    def(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        false,
        &[],
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
        false,
        &[],
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        false,
        &[],
    ),
    ResourceDef {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        status_subresource: false,
        short_names: &[],
        create_only: true,
    },
    ResourceDef {
        group: "authentication.k8s.io",
        version: "v1",
        plural: "selfsubjectreviews",
        singular: "selfsubjectreview",
        kind: "SelfSubjectReview",
        namespaced: false,
        status_subresource: false,
        short_names: &[],
        create_only: true,
    },
    def(
        "argoproj.io",
        "v1alpha1",
        "rollouts",
        "rollout",
        "Rollout",
        true,
        true,
        &["ro"],
    ),
    def(
        "argoproj.io",
        "v1alpha1",
        "analysisruns",
        "analysisrun",
        "AnalysisRun",
        true,
        false,
        &["ar"],
    ),
    def(
        "argoproj.io",
        "v1alpha1",
        "analysistemplates",
        "analysistemplate",
        "AnalysisTemplate",
        true,
        false,
        &["at"],
    ),
    def(
        "argoproj.io",
        "v1alpha1",
        "experiments",
        "experiment",
        "Experiment",
        true,
        false,
        &["exp"],
    ),
    def(
        "argoproj.io",
        "v1alpha1",
        "applications",
        "application",
        "Application",
        true,
        false,
        &["app", "apps"],
    ),
    def(
        "argoproj.io",
        "v1alpha1",
        "appprojects",
        "appproject",
        "AppProject",
        true,
        false,
        &["appproj", "appprojs"],
    ),
    def(
        "actions.github.com",
        "v1alpha1",
        "autoscalingrunnersets",
        "autoscalingrunnerset",
        "AutoscalingRunnerSet",
        true,
        true,
        &[],
    ),
    def(
        "actions.github.com",
        "v1alpha1",
        "ephemeralrunnersets",
        "ephemeralrunnerset",
        "EphemeralRunnerSet",
        true,
        true,
        &[],
    ),
    def(
        "actions.github.com",
        "v1alpha1",
        "ephemeralrunners",
        "ephemeralrunner",
        "EphemeralRunner",
        true,
        true,
        &[],
    ),
    def(
        "actions.github.com",
        "v1alpha1",
        "autoscalinglisteners",
        "autoscalinglistener",
        "AutoscalingListener",
        true,
        true,
        &[],
    ),
    // Legacy ARC (community-maintained); the Go package says `actions.summerwind.net`, the
    // served group is `actions.summerwind.dev`.
    def(
        "actions.summerwind.dev",
        "v1alpha1",
        "runnerdeployments",
        "runnerdeployment",
        "RunnerDeployment",
        true,
        true,
        &["rdeploy"],
    ),
    def(
        "actions.summerwind.dev",
        "v1alpha1",
        "runnerreplicasets",
        "runnerreplicaset",
        "RunnerReplicaSet",
        true,
        true,
        &["rrs"],
    ),
    def(
        "actions.summerwind.dev",
        "v1alpha1",
        "runners",
        "runner",
        "Runner",
        true,
        true,
        &[],
    ),
    def(
        "actions.summerwind.dev",
        "v1alpha1",
        "horizontalrunnerautoscalers",
        "horizontalrunnerautoscaler",
        "HorizontalRunnerAutoscaler",
        true,
        true,
        &["hra"],
    ),
];

/// Index of a resource in [`RESOURCES`].
pub type ResId = usize;

/// Looks a resource up by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<ResId> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks a resource up by its kind (first match), for the simulators.
pub fn by_kind(kind: &str) -> ResId {
    RESOURCES.iter().position(|r| r.kind == kind).unwrap_or(0)
}

/// The groups served under `/apis`, in a stable order.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// Well-known resource ids the simulators use.
pub mod ids {
    use super::{ResId, by_kind};

    pub fn namespaces() -> ResId {
        by_kind("Namespace")
    }
    pub fn pods() -> ResId {
        by_kind("Pod")
    }
    pub fn events() -> ResId {
        by_kind("Event")
    }
    pub fn events_v1() -> ResId {
        super::find("events.k8s.io", "v1", "events").unwrap_or(0)
    }
    pub fn replicasets() -> ResId {
        by_kind("ReplicaSet")
    }
    pub fn rollouts() -> ResId {
        by_kind("Rollout")
    }
    pub fn analysisruns() -> ResId {
        by_kind("AnalysisRun")
    }
    pub fn analysistemplates() -> ResId {
        by_kind("AnalysisTemplate")
    }
    pub fn applications() -> ResId {
        by_kind("Application")
    }
    pub fn appprojects() -> ResId {
        by_kind("AppProject")
    }
    pub fn autoscalingrunnersets() -> ResId {
        by_kind("AutoscalingRunnerSet")
    }
    pub fn ephemeralrunnersets() -> ResId {
        by_kind("EphemeralRunnerSet")
    }
    pub fn ephemeralrunners() -> ResId {
        by_kind("EphemeralRunner")
    }
    pub fn autoscalinglisteners() -> ResId {
        by_kind("AutoscalingListener")
    }
    pub fn runnerdeployments() -> ResId {
        by_kind("RunnerDeployment")
    }
    pub fn runnerreplicasets() -> ResId {
        by_kind("RunnerReplicaSet")
    }
    pub fn runners() -> ResId {
        by_kind("Runner")
    }
    pub fn horizontalrunnerautoscalers() -> ResId {
        by_kind("HorizontalRunnerAutoscaler")
    }
}
