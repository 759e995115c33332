//! The `kubectl argo rollouts get rollout` derivations, as pure functions over the watched
//! objects: status and message, step, SetWeight, ActualWeight, images with roles, replica counts
//! and the revision tree. The rules are the plugin's (argo-rollouts `pkg/kubectl-argo-rollouts/info`,
//! `utils/rollout/rolloututil.go`, `utils/replicaset/canary.go`); where the plugin has a quirk it
//! is kept, so shipdeck never disagrees with the tool on-call engineers already trust.

mod analysis;
mod durations;
mod replica_sets;
mod rollout_status;
mod types;

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;

use super::model::{AnalysisRun, Experiment, Pod, REVISION_ANNOTATION, ReplicaSet, Rollout};

pub use analysis::{analysis_icon, analysis_run_info};
use analysis::{analysis_run_infos, experiment_infos};
pub use durations::{human_duration, scale_down_delay};
use replica_sets::replica_set_infos;
pub use replica_sets::{pod_info, replica_set_health};
pub use rollout_status::{
    calculate_rollout_phase, current_canary_step, current_set_weight, duration_secs,
    generation_observed, is_fully_promoted, is_unpausing, max_traffic_weight, rollout_phase,
    step_text,
};
pub use types::{
    AnalysisRunInfo, ExperimentInfo, ICON_BAD, ICON_NEUTRAL, ICON_OK, ICON_PAUSED,
    ICON_PROGRESSING, ICON_UNKNOWN, ICON_WAITING, ICON_WARNING, ImageInfo, JobInfo, MetricInfo,
    PodInfo, ReplicaSetInfo, Replicas, RevisionInfo, RolloutInfo, StepInfo,
};

fn created(m: &ObjectMeta) -> Option<Timestamp> {
    m.creation_timestamp.as_ref().map(|t| t.0)
}

fn uid(m: &ObjectMeta) -> &str {
    m.uid.as_deref().unwrap_or("")
}

fn owned_by(refs: Option<&Vec<OwnerReference>>, owner: &str) -> bool {
    !owner.is_empty() && refs.is_some_and(|r| r.iter().any(|o| o.uid == owner))
}

fn revision(m: &ObjectMeta) -> i64 {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn annotation(m: &ObjectMeta, key: &str) -> String {
    m.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .cloned()
        .unwrap_or_default()
}

fn merge_image(images: &mut Vec<ImageInfo>, image: &str, tags: &[String]) {
    if let Some(existing) = images.iter_mut().find(|i| i.image == image) {
        let mut set: BTreeSet<String> = existing.tags.drain(..).collect();
        set.extend(tags.iter().cloned());
        existing.tags = set.into_iter().collect();
    } else {
        // A first sighting keeps the role order (canary, stable, active, preview, ping, pong);
        // only merged tags are sorted, as the plugin's mergeImageAndTags does.
        images.push(ImageInfo {
            image: image.to_owned(),
            tags: tags.to_vec(),
        });
    }
    images.sort_by(|a, b| a.image.cmp(&b.image));
}

/// `Images`: images of ReplicaSets with replicas, tagged with their roles; experiment images
/// tagged `Σ:<template>`.
fn images(rss: &[ReplicaSetInfo], exps: &[ExperimentInfo]) -> Vec<ImageInfo> {
    let mut out = Vec::new();
    for rs in rss.iter().filter(|r| r.replicas > 0) {
        let mut tags = Vec::new();
        for (on, tag) in [
            (rs.canary, "canary"),
            (rs.stable, "stable"),
            (rs.active, "active"),
            (rs.preview, "preview"),
            (rs.ping, "ping"),
            (rs.pong, "pong"),
        ] {
            if on {
                tags.push(tag.to_owned());
            }
        }
        for image in &rs.images {
            merge_image(&mut out, image, &tags);
        }
    }
    for e in exps {
        for rs in e.replica_sets.iter().filter(|r| r.replicas > 0) {
            let tags: Vec<String> = if rs.template.is_empty() {
                Vec::new()
            } else {
                vec![format!("Σ:{}", rs.template)]
            };
            for image in &rs.images {
                merge_image(&mut out, image, &tags);
            }
        }
    }
    out
}

/// `NewRolloutInfo`: derives everything from the Rollout and the objects of its namespace
/// (ownership is resolved by owner UID, as the plugin does).
pub fn rollout_info(
    ro: &Rollout,
    rss: &[&ReplicaSet],
    pods: &[&Pod],
    exps: &[&Experiment],
    ars: &[&AnalysisRun],
) -> RolloutInfo {
    let ro_uid = uid(&ro.metadata);
    let replica_sets = replica_set_infos(ro_uid, Some(ro), rss, pods);
    let experiments = experiment_infos(ro_uid, exps, rss, ars, pods);
    let analysis_runs = analysis_run_infos(ro_uid, ars);
    let (status, message) = rollout_phase(ro);
    let s = &ro.status;
    let mut info = RolloutInfo {
        name: ro.metadata.name.clone().unwrap_or_default(),
        uid: ro_uid.to_owned(),
        namespace: ro.metadata.namespace.clone().unwrap_or_default(),
        created: created(&ro.metadata),
        icon: rollout_icon(&status).to_owned(),
        status,
        message,
        fully_promoted: is_fully_promoted(ro),
        aborted: s.abort,
        paused: ro.spec.paused,
        pause_reasons: s
            .pause_conditions
            .iter()
            .map(|p| p.reason.clone())
            .collect(),
        controller_pause: s.controller_pause,
        step_analysis_inconclusive: s
            .canary
            .current_step_analysis_run_status
            .as_ref()
            .is_some_and(|r| r.status == "Inconclusive"),
        replicas: Replicas {
            desired: ro.spec.replicas.unwrap_or(1),
            current: s.replicas,
            updated: s.updated_replicas,
            ready: s.ready_replicas,
            available: s.available_replicas,
        },
        images: images(&replica_sets, &experiments),
        paused_since: s
            .pause_conditions
            .iter()
            .filter_map(|p| p.start_time.as_deref()?.parse::<Timestamp>().ok())
            .min(),
        pods_listed: true,
        ..RolloutInfo::default()
    };
    if let Some(c) = &ro.spec.strategy.canary {
        info.strategy = "Canary".into();
        if let (Some(idx), false) = (s.current_step_index, c.steps.is_empty()) {
            info.step = format!("{idx}/{}", c.steps.len());
            info.step_index = Some(idx);
        }
        info.steps = c
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let i = i32::try_from(i).unwrap_or(i32::MAX);
                let cur = s.current_step_index.unwrap_or(0);
                StepInfo {
                    text: step_text(step),
                    state: match i.cmp(&cur) {
                        std::cmp::Ordering::Less => "done",
                        std::cmp::Ordering::Equal => "current",
                        std::cmp::Ordering::Greater => "pending",
                    },
                }
            })
            .collect();
        let set_weight = current_set_weight(ro);
        info.set_weight = Some(set_weight);
        let (step, _) = current_canary_step(ro);
        let max = max_traffic_weight(ro);
        info.actual_weight = Some(if step.is_none() {
            max
        } else if s.available_replicas > 0 {
            if c.traffic_routing.is_none() {
                // The plugin keeps the last canary ReplicaSet's share.
                replica_sets
                    .iter()
                    .filter(|r| r.canary)
                    .map(|r| r.available * max / s.available_replicas)
                    .next_back()
                    .unwrap_or(0)
            } else {
                s.canary
                    .weights
                    .as_ref()
                    .map_or(set_weight, |w| w.canary.weight)
            }
        } else {
            0
        });
        if let Some(p) = step.and_then(|st| st.pause.as_ref()) {
            let started = s
                .pause_conditions
                .iter()
                .find(|pc| pc.reason == "CanaryPauseStep")
                .and_then(|pc| pc.start_time.as_ref())
                .and_then(|t| t.parse::<Timestamp>().ok());
            let secs = p.duration.as_ref().and_then(duration_secs);
            if let (Some(start), Some(secs)) = (started, secs) {
                #[allow(clippy::cast_possible_truncation)]
                let ms = (secs * 1000.0) as i64;
                info.pause_ends_at = start
                    .checked_add(jiff::SignedDuration::from_millis(ms))
                    .ok();
            }
        }
    } else if ro.spec.strategy.blue_green.is_some() {
        info.strategy = "BlueGreen".into();
    }
    info.revisions = revisions(&replica_sets, &experiments, &analysis_runs);
    info
}

fn revisions(
    rss: &[ReplicaSetInfo],
    exps: &[ExperimentInfo],
    ars: &[AnalysisRunInfo],
) -> Vec<RevisionInfo> {
    let mut revs: BTreeSet<i64> = BTreeSet::new();
    revs.extend(rss.iter().map(|r| r.revision));
    revs.extend(exps.iter().map(|e| e.revision));
    revs.extend(ars.iter().map(|a| a.revision));
    revs.into_iter()
        .rev()
        .map(|revision| RevisionInfo {
            revision,
            replica_sets: rss
                .iter()
                .filter(|r| r.revision == revision)
                .cloned()
                .collect(),
            experiments: exps
                .iter()
                .filter(|e| e.revision == revision)
                .cloned()
                .collect(),
            analysis_runs: ars
                .iter()
                .filter(|a| a.revision == revision)
                .cloned()
                .collect(),
        })
        .collect()
}

/// `rolloutIcon`.
pub fn rollout_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => ICON_PROGRESSING,
        "Error" | "InvalidSpec" => ICON_WARNING,
        "Paused" => ICON_PAUSED,
        "Healthy" => ICON_OK,
        "Degraded" => ICON_BAD,
        "Unknown" => ICON_UNKNOWN,
        "ScaledDown" => ICON_NEUTRAL,
        _ => " ",
    }
}

impl RolloutInfo {
    /// All ReplicaSets of the tree, newest revision first.
    pub fn replica_sets(&self) -> impl Iterator<Item = &ReplicaSetInfo> {
        self.revisions.iter().flat_map(|r| r.replica_sets.iter())
    }

    /// All of the Rollout's own AnalysisRuns, newest revision first.
    pub fn analysis_runs(&self) -> impl Iterator<Item = &AnalysisRunInfo> {
        self.revisions.iter().flat_map(|r| r.analysis_runs.iter())
    }

    /// The ReplicaSet tagged canary (or preview for blue-green).
    pub fn canary_rs(&self) -> Option<&ReplicaSetInfo> {
        self.replica_sets().find(|r| r.canary || r.preview)
    }

    /// The ReplicaSet tagged stable.
    pub fn stable_rs(&self) -> Option<&ReplicaSetInfo> {
        self.replica_sets().find(|r| r.stable)
    }

    /// The revision on screen: the canary's (or preview's) while one is in flight, else the
    /// stable one.
    pub fn current_revision(&self) -> Option<&RevisionInfo> {
        let rs = self.canary_rs().or_else(|| self.stable_rs())?;
        self.revisions
            .iter()
            .find(|r| r.replica_sets.iter().any(|x| x.uid == rs.uid))
    }

    /// The AnalysisRuns (step and background) of the revision on screen, newest first. An
    /// older revision's run is never one of them: "passed" must mean this build passed.
    pub fn current_analysis_runs(&self) -> impl Iterator<Item = &AnalysisRunInfo> {
        self.current_revision()
            .into_iter()
            .flat_map(|r| r.analysis_runs.iter())
    }

    /// The newest AnalysisRun of the revision on screen (what the on-call engineer watches).
    pub fn current_analysis(&self) -> Option<&AnalysisRunInfo> {
        self.current_analysis_runs().next()
    }

    /// While a canary shares traffic with the stable revision: both tags and their weights,
    /// from the actual weight the Rollout panel shows. `None` once one revision takes it all.
    pub fn traffic_split(&self) -> Option<TrafficSplit> {
        let canary = self.canary_rs().filter(|c| !c.stable)?;
        let stable = self.stable_rs()?;
        let weight = self.actual_weight.filter(|w| (1..100).contains(w))?;
        let tag = |r: &ReplicaSetInfo| {
            r.images
                .first()
                .and_then(|i| super::image_tag(i))
                .map(str::to_owned)
        };
        Some(TrafficSplit {
            stable_tag: tag(stable)?,
            stable_weight: 100 - weight,
            canary_tag: tag(canary)?,
            canary_weight: weight,
        })
    }
}

/// A canary and the stable revision sharing traffic (weights add up to 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficSplit {
    pub stable_tag: String,
    pub stable_weight: i32,
    pub canary_tag: String,
    pub canary_weight: i32,
}

impl std::fmt::Display for TrafficSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stable {} {}% · canary {} {}%",
            self.stable_tag, self.stable_weight, self.canary_tag, self.canary_weight
        )
    }
}

#[cfg(test)]
mod current_revision_tests {
    use super::*;

    fn rs(uid: &str, stable: bool, canary: bool) -> ReplicaSetInfo {
        ReplicaSetInfo {
            uid: uid.to_owned(),
            stable,
            canary,
            ..ReplicaSetInfo::default()
        }
    }

    fn run(name: &str, status: &str) -> AnalysisRunInfo {
        AnalysisRunInfo {
            name: name.to_owned(),
            status: status.to_owned(),
            ..AnalysisRunInfo::default()
        }
    }

    /// be5f196 at step 1 (no analysis yet) over 9f1c2ab whose run passed: nothing is shown as
    /// this revision's analysis; once its own run starts, that one is.
    #[test]
    fn analysis_belongs_to_the_revision_on_screen() {
        let mut info = RolloutInfo {
            revisions: vec![
                RevisionInfo {
                    revision: 3,
                    replica_sets: vec![rs("new", false, true)],
                    ..RevisionInfo::default()
                },
                RevisionInfo {
                    revision: 2,
                    replica_sets: vec![rs("old", true, false)],
                    analysis_runs: vec![run("web-9f1c2ab-2-6", "Successful")],
                    ..RevisionInfo::default()
                },
            ],
            ..RolloutInfo::default()
        };
        assert_eq!(info.current_revision().map(|r| r.revision), Some(3));
        assert_eq!(info.current_analysis(), None);
        assert_eq!(info.current_analysis_runs().count(), 0);
        info.revisions[0]
            .analysis_runs
            .push(run("web-be5f196-3-1", "Running"));
        assert_eq!(
            info.current_analysis().map(|a| a.name.as_str()),
            Some("web-be5f196-3-1")
        );
        // Fully promoted: the stable revision is the one on screen, with its own run.
        info.revisions.remove(0);
        info.revisions[0].replica_sets[0].canary = true;
        assert_eq!(
            info.current_analysis().map(|a| a.name.as_str()),
            Some("web-9f1c2ab-2-6")
        );
    }
}
