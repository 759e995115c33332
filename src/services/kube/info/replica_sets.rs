//! ReplicaSets and pods as the plugin shows them: health, icons, roles (stable, canary,
//! preview) and pod status texts.

use crate::services::kube::model::{POD_HASH_LABEL, Pod, ReplicaSet, Rollout};

use super::types::{
    ICON_BAD, ICON_NEUTRAL, ICON_OK, ICON_PROGRESSING, ICON_UNKNOWN, ICON_WARNING, PodInfo,
    ReplicaSetInfo,
};
use super::{annotation, created, owned_by, revision, uid};

/// `getReplicaSetHealth`.
pub fn replica_set_health(rs: &ReplicaSet) -> &'static str {
    let generation = rs.metadata.generation.unwrap_or(0);
    if generation <= rs.status.observed_generation {
        let failure = rs
            .status
            .conditions
            .iter()
            .any(|c| c.type_ == "ReplicaFailure" && c.status == "True");
        if failure {
            return "ReplicaFailure";
        }
        if rs
            .spec
            .replicas
            .is_some_and(|r| rs.status.available_replicas < r)
        {
            return "Progressing";
        }
    } else {
        return "Progressing";
    }
    if rs.spec.replicas == Some(0) {
        return "ScaledDown";
    }
    "Healthy"
}

pub(super) fn replica_set_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => ICON_PROGRESSING,
        "Healthy" => ICON_OK,
        "ReplicaFailure" => ICON_BAD,
        "ScaledDown" => ICON_NEUTRAL,
        _ => " ",
    }
}

pub(super) fn pod_hash(rs: &ReplicaSet) -> String {
    rs.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(POD_HASH_LABEL))
        .cloned()
        .unwrap_or_default()
}

/// `GetReplicaSetInfo` for the ReplicaSets owned by `owner` (a Rollout or an Experiment);
/// `ro` is given only for a Rollout's own ReplicaSets (roles are tagged then).
pub(super) fn replica_set_infos(
    owner: &str,
    ro: Option<&Rollout>,
    rss: &[&ReplicaSet],
    pods: &[&Pod],
) -> Vec<ReplicaSetInfo> {
    let mut out: Vec<ReplicaSetInfo> = rss
        .iter()
        .filter(|rs| owned_by(rs.metadata.owner_references.as_ref(), owner))
        .map(|rs| replica_set_info(rs, ro))
        .collect();
    // The plugin's comparator: revision descending, then name (its timestamp branch never returns).
    out.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.name.cmp(&b.name))
    });
    for info in &mut out {
        let mut mine: Vec<PodInfo> = pods
            .iter()
            .filter(|p| owned_by(p.metadata.owner_references.as_ref(), &info.uid))
            .map(|p| pod_info(p))
            .collect();
        mine.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        info.pods = mine;
    }
    out
}

pub(super) fn replica_set_info(rs: &ReplicaSet, ro: Option<&Rollout>) -> ReplicaSetInfo {
    let status = replica_set_health(rs);
    let hash = pod_hash(rs);
    let mut info = ReplicaSetInfo {
        name: rs.metadata.name.clone().unwrap_or_default(),
        uid: uid(&rs.metadata).to_owned(),
        created: created(&rs.metadata),
        revision: revision(&rs.metadata),
        status: status.to_owned(),
        icon: replica_set_icon(status).to_owned(),
        replicas: rs.status.replicas,
        available: rs.status.available_replicas,
        pod_hash: hash.clone(),
        template: annotation(&rs.metadata, "experiment.argoproj.io/template-name"),
        scale_down_deadline: annotation(&rs.metadata, "scale-down-deadline"),
        images: rs
            .spec
            .template
            .spec
            .containers
            .iter()
            .map(|c| c.image.clone())
            .collect(),
        ..ReplicaSetInfo::default()
    };
    if let Some(ro) = ro {
        let s = &ro.status;
        if let Some(c) = &ro.spec.strategy.canary {
            let ping_pong = c.ping_pong.is_some();
            let stable_is_ping = s.canary.stable_ping_pong == "ping";
            if s.stable_rs == hash {
                info.stable = true;
                if ping_pong {
                    info.ping = stable_is_ping;
                    info.pong = !stable_is_ping;
                }
            } else if s.current_pod_hash == hash {
                info.canary = true;
                if ping_pong {
                    info.ping = !stable_is_ping;
                    info.pong = stable_is_ping;
                }
            }
        }
        if ro.spec.strategy.blue_green.is_some() {
            if s.stable_rs == hash {
                info.stable = true;
            }
            if s.blue_green.active_selector == hash {
                info.active = true;
            } else if s.blue_green.preview_selector == hash {
                info.preview = true;
            }
        }
    }
    info
}

/// `newPodInfo`: the status column as `kubectl get pods` computes it, ready and restarts.
pub fn pod_info(pod: &Pod) -> PodInfo {
    let st = &pod.status;
    let sidecar = |name: &str| {
        pod.spec
            .init_containers
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let total = pod.spec.containers.len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut reason = if st.reason.is_empty() {
        st.phase.clone()
    } else {
        st.reason.clone()
    };
    let mut initializing = false;
    for (i, c) in st.init_container_statuses.iter().enumerate() {
        restarts += c.restart_count;
        if let Some(t) = &c.state.terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason = if !t.reason.is_empty() {
                format!("Init:{}", t.reason)
            } else if t.signal != 0 {
                format!("Init:Signal:{}", t.signal)
            } else {
                format!("Init:ExitCode:{}", t.exit_code)
            };
            initializing = true;
        } else if sidecar(&c.name) && c.started == Some(true) {
            if c.ready {
                continue;
            }
        } else if let Some(w) = c
            .state
            .waiting
            .as_ref()
            .filter(|w| !w.reason.is_empty() && w.reason != "PodInitializing")
        {
            reason = format!("Init:{}", w.reason);
            initializing = true;
        } else {
            reason = format!("Init:{i}/{}", pod.spec.init_containers.len());
            initializing = true;
        }
        break;
    }
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in st.container_statuses.iter().rev() {
            restarts += c.restart_count;
            if let Some(w) = c.state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
                reason.clone_from(&w.reason);
            } else if let Some(t) = &c.state.terminated {
                reason = if !t.reason.is_empty() {
                    t.reason.clone()
                } else if t.signal != 0 {
                    format!("Signal:{}", t.signal)
                } else {
                    format!("ExitCode:{}", t.exit_code)
                };
            } else if c.ready && c.state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = if st.reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    PodInfo {
        name: pod.metadata.name.clone().unwrap_or_default(),
        created: created(&pod.metadata),
        icon: pod_icon(&reason).to_owned(),
        status: reason,
        ready: format!("{ready}/{total}"),
        restarts,
    }
}

pub(super) fn pod_icon(status: &str) -> &'static str {
    if status.starts_with("Init:") {
        return ICON_PROGRESSING;
    }
    if status.starts_with("Signal:") || status.starts_with("ExitCode:") {
        return ICON_BAD;
    }
    if status.ends_with("Error") || status.starts_with("Err") {
        return ICON_WARNING;
    }
    match status {
        "Pending" | "Terminating" | "ContainerCreating" => ICON_PROGRESSING,
        "Running" | "Completed" => ICON_OK,
        "Failed" | "InvalidImageName" | "CrashLoopBackOff" => ICON_BAD,
        "ImagePullBackOff" | "RegistryUnavailable" => ICON_WARNING,
        "Unknown" => ICON_UNKNOWN,
        _ => " ",
    }
}
