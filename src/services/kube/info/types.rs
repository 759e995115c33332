//! What the derivations produce: the records the Rollout panel, `shipdeck rollout get` and
//! the printers read, and the icons the plugin uses for each state.

use jiff::Timestamp;
use serde::Serialize;

pub const ICON_WAITING: &str = "◷";
pub const ICON_PROGRESSING: &str = "◌";
pub const ICON_WARNING: &str = "⚠";
pub const ICON_UNKNOWN: &str = "?";
pub const ICON_OK: &str = "✔";
pub const ICON_BAD: &str = "✖";
pub const ICON_PAUSED: &str = "॥";
pub const ICON_NEUTRAL: &str = "•";

/// Everything the Rollout panel and `shipdeck rollout get` show about one Rollout.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RolloutInfo {
    pub name: String,
    /// The Rollout's UID: what keys the cluster's news about it across reconnects.
    pub uid: String,
    pub namespace: String,
    pub created: Option<Timestamp>,
    /// `Healthy`, `Progressing`, `Paused`, `Degraded` (as `GetRolloutPhase`).
    pub status: String,
    pub message: String,
    pub icon: String,
    /// `Canary`, `BlueGreen`, or empty.
    pub strategy: String,
    /// The plugin's `Step` text: raw 0-based index over the step count, e.g. `1/8`; empty when
    /// there is no current step index or no steps.
    pub step: String,
    pub step_index: Option<i32>,
    pub steps: Vec<StepInfo>,
    /// Canary only (the plugin prints them only for canaries).
    pub set_weight: Option<i32>,
    pub actual_weight: Option<i32>,
    pub fully_promoted: bool,
    pub aborted: bool,
    /// `spec.paused` (a person paused it).
    pub paused: bool,
    /// Reasons of `status.pauseConditions`.
    pub pause_reasons: Vec<String>,
    pub controller_pause: bool,
    /// The current step's AnalysisRun is Inconclusive (promote also clears `controllerPause`).
    pub step_analysis_inconclusive: bool,
    /// When the current timed pause step ends, if the rollout waits on one.
    pub pause_ends_at: Option<Timestamp>,
    pub images: Vec<ImageInfo>,
    pub replicas: Replicas,
    pub revisions: Vec<RevisionInfo>,
    /// When the rollout began waiting on its oldest pause condition (a canary paused for
    /// promotion, since when).
    pub paused_since: Option<Timestamp>,
    /// Its pods were listed and are watched. `false` for the apps not on screen: the fleet
    /// reads Rollouts, ReplicaSets and analysis only, and the pods of the app a person opens.
    pub pods_listed: bool,
}

/// One canary step as a strip item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StepInfo {
    /// `CanaryStepString`: `setWeight: 20`, `pause`, `pause: 10s`, `analysis`, …
    pub text: String,
    /// `done`, `current` or `pending`.
    pub state: &'static str,
}

/// An image and the roles of the ReplicaSets running it (`canary`, `stable`, `Σ:<template>`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub image: String,
    pub tags: Vec<String>,
}

/// The `Replicas:` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Replicas {
    pub desired: i32,
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

/// One `# revision:N` node of the tree.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RevisionInfo {
    pub revision: i64,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub experiments: Vec<ExperimentInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplicaSetInfo {
    pub name: String,
    pub uid: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub replicas: i32,
    pub available: i32,
    pub pod_hash: String,
    pub stable: bool,
    pub canary: bool,
    pub active: bool,
    pub preview: bool,
    pub ping: bool,
    pub pong: bool,
    /// Experiment template name (`Σ:` tag on images).
    pub template: String,
    /// Raw `scale-down-deadline` annotation (RFC3339), empty if none.
    pub scale_down_deadline: String,
    pub images: Vec<String>,
    pub pods: Vec<PodInfo>,
}

impl ReplicaSetInfo {
    /// The tree's INFO column without the delay (which depends on the clock).
    pub fn roles(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.stable {
            out.push("stable");
        }
        if self.canary {
            out.push("canary");
        } else if self.active {
            out.push("active");
        } else if self.preview {
            out.push("preview");
        }
        if self.ping {
            out.push("ping");
        }
        if self.pong {
            out.push("pong");
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PodInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub status: String,
    pub icon: String,
    /// `ready/total` containers.
    pub ready: String,
    pub restarts: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalysisRunInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub message: String,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    /// `rollout-type` label: Step, Background, PrePromotion, PostPromotion.
    pub kind: String,
    pub metrics: Vec<MetricInfo>,
    pub jobs: Vec<JobInfo>,
}

impl AnalysisRunInfo {
    /// `✔ 4,✖ 4,? 1,⚠ 1` (zero counts left out), as the tree's INFO column.
    pub fn counts(&self) -> String {
        let mut parts = Vec::new();
        for (icon, n) in [
            (ICON_OK, self.successful),
            (ICON_BAD, self.failed),
            (ICON_UNKNOWN, self.inconclusive),
            (ICON_WARNING, self.error),
        ] {
            if n > 0 {
                parts.push(format!("{icon} {n}"));
            }
        }
        parts.join(",")
    }
}

/// A metric's phase and its newest measurement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MetricInfo {
    pub name: String,
    pub phase: String,
    pub icon: String,
    /// The newest measurement's value (Prometheus: the result vector as text).
    pub last_value: Option<String>,
    pub last_phase: Option<String>,
    pub measurements: usize,
    pub success_condition: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub status: String,
    pub icon: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExperimentInfo {
    pub name: String,
    pub created: Option<Timestamp>,
    pub revision: i64,
    pub status: String,
    pub icon: String,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}
