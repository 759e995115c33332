//! The plugin's derivations over every object set in the Argo Rollouts plugin's own test data
//! (`../shared/fixtures/argo-rollouts/info-testdata`). Expected values are derived by hand from
//! the plugin's rules (comments say which rule), and the full `get rollout` text is compared with
//! the plugin's expected output (`expected-get/Test*.txt`).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use shipdeck::services::kube::info::{RolloutInfo, rollout_info};
use shipdeck::services::kube::model::{AnalysisRun, Experiment, Pod, ReplicaSet, Rollout};
use shipdeck::services::kube::print;

fn fixtures() -> PathBuf {
    crate::shared_fixtures().join("argo-rollouts")
}

/// One `info-testdata/<set>`, decoded by kind.
#[derive(Default)]
pub(super) struct Set {
    pub(super) rollouts: Vec<Rollout>,
    rss: Vec<ReplicaSet>,
    pods: Vec<Pod>,
    exps: Vec<Experiment>,
    ars: Vec<AnalysisRun>,
}

/// As the plugin's testdata loader does: every object was created a week before `now()`, so
/// ordering falls back to names exactly as in its expected output.
fn decode<T: DeserializeOwned>(mut v: serde_json::Value, file: &Path) -> T {
    let week_ago = now() - jiff::SignedDuration::from_hours(7 * 24);
    v["metadata"]["creationTimestamp"] = serde_json::Value::String(week_ago.to_string());
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

pub(super) fn load(set: &str) -> Set {
    let dir = fixtures().join("info-testdata").join(set);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = Set::default();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        match v["kind"].as_str().unwrap_or_default() {
            "Rollout" => out.rollouts.push(decode(v, &f)),
            "ReplicaSet" => out.rss.push(decode(v, &f)),
            "Pod" => out.pods.push(decode(v, &f)),
            "Experiment" => out.exps.push(decode(v, &f)),
            "AnalysisRun" => out.ars.push(decode(v, &f)),
            // Jobs and Deployments (workloadRef) are not part of the derived view.
            _ => {}
        }
    }
    out
}

impl Set {
    pub(super) fn info(&self, name: &str) -> RolloutInfo {
        let ro = self
            .rollouts
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no rollout {name}"));
        self.info_of(ro)
    }

    pub(super) fn info_of(&self, ro: &Rollout) -> RolloutInfo {
        let rss: Vec<&ReplicaSet> = self.rss.iter().collect();
        let pods: Vec<&Pod> = self.pods.iter().collect();
        let exps: Vec<&Experiment> = self.exps.iter().collect();
        let ars: Vec<&AnalysisRun> = self.ars.iter().collect();
        rollout_info(ro, &rss, &pods, &exps, &ars)
    }
}

/// The plugin's expected text without its three comment lines.
fn expected(test: &str) -> String {
    let file = fixtures().join("expected-get").join(format!("{test}.txt"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    // The fixture was cut from Go source: a raw string spliced with "`" literals.
    let text = text.replace("`+\"`", "`").replace("`\"+`", "`");
    text.lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// Our `get rollout` text with AGE pinned to the plugin test's `7d`.
/// Objects are a week old (see `decode`); Job rows take their age from measurement times, which
/// the plugin's loader also pins, so the AGE column is pinned the same way.
fn ours(info: &RolloutInfo, now: Timestamp) -> String {
    format!(
        "{}\n{}",
        print::header(info),
        print::tree_with(info, now, &|_| "7d".to_owned())
    )
}

fn assert_text(test: &str, info: &RolloutInfo, now: Timestamp) {
    let want = expected(test);
    let got = ours(info, now);
    assert_eq!(got, want, "{test}: ours (left) vs the plugin (right)");
}

fn images(info: &RolloutInfo) -> Vec<String> {
    info.images
        .iter()
        .map(|i| {
            if i.tags.is_empty() {
                i.image.clone()
            } else {
                format!("{} ({})", i.image, i.tags.join(", "))
            }
        })
        .collect()
}

pub(super) fn now() -> Timestamp {
    "2026-11-30T12:00:00Z".parse().unwrap()
}

#[test]
fn canary_demo_matches_the_plugin() {
    let set = load("canary");
    let i = set.info("canary-demo");
    // No status.phase: CalculateRolloutPhase; the Progressing condition has reason
    // ProgressDeadlineExceeded → Degraded "<reason>: <message>".
    assert_eq!(i.status, "Degraded");
    assert_eq!(
        i.message,
        "ProgressDeadlineExceeded: ReplicaSet \"canary-demo-65fb5ffc84\" has timed out progressing."
    );
    assert_eq!(i.icon, "✖");
    // currentStepIndex 0 of 8 steps, raw.
    assert_eq!(i.step, "0/8");
    // Step 0 is setWeight 20.
    assert_eq!(i.set_weight, Some(20));
    // No traffic routing: canary RS available (0) * 100 / available (5).
    assert_eq!(i.actual_weight, Some(0));
    // stableRS 877894d5b != currentPodHash 65fb5ffc84.
    assert!(!i.fully_promoted);
    assert_eq!(
        images(&i),
        [
            "argoproj/rollouts-demo:does-not-exist (canary)",
            "argoproj/rollouts-demo:green (stable)"
        ]
    );
    let r = i.replicas;
    assert_eq!(
        (r.desired, r.current, r.updated, r.ready, r.available),
        (5, 6, 1, 5, 5)
    );
    let revs: Vec<i64> = i.revisions.iter().map(|r| r.revision).collect();
    assert_eq!(revs, [31, 30, 29]);
    let canary = i.canary_rs().unwrap();
    assert_eq!(canary.name, "canary-demo-65fb5ffc84");
    assert_eq!(canary.pods[0].status, "ImagePullBackOff");
    assert_eq!(canary.pods[0].ready, "0/1");
    assert_eq!(i.stable_rs().unwrap().pods.len(), 5);
    assert_eq!(i.steps.len(), 8);
    assert_eq!(i.steps[0].text, "setWeight: 20");
    assert_eq!(i.steps[0].state, "current");
    assert_eq!(i.steps[3].text, "pause: 10s");
    assert_eq!(i.steps[1].text, "pause");
    assert_text("TestGetCanaryRollout", &i, now());
}

#[test]
fn canary_ping_pong_tags_match_the_plugin() {
    let set = load("canary");
    let i = set.info("canary-demo-pingpong");
    // stablePingPong "pong": stable RS is pong, canary RS is ping.
    assert_eq!(
        images(&i),
        [
            "argoproj/rollouts-demo:does-not-exist (canary, ping)",
            "argoproj/rollouts-demo:green (stable, pong)"
        ]
    );
    assert_text("TestGetCanaryPingPongRollout", &i, now());
}

#[test]
fn canary_variants_without_plugin_output() {
    let set = load("canary");
    // workloadRef rollouts share the same status and (same UID) the same ReplicaSets.
    for name in ["canary-demo-workloadRef", "canary-demo-workloadRef-deploy"] {
        let i = set.info(name);
        assert_eq!(i.status, "Degraded", "{name}");
        assert_eq!(
            (i.step.as_str(), i.set_weight, i.actual_weight),
            ("0/8", Some(20), Some(0))
        );
    }
    // Traffic routing with weights: ActualWeight = status.canary.weights.canary.weight.
    let w = set.info("canary-demo-weights");
    assert_eq!((w.set_weight, w.actual_weight), (Some(20), Some(20)));
    // Traffic routing without weights: ActualWeight = SetWeight.
    let na = set.info("canary-demo-weights-na");
    assert_eq!((na.set_weight, na.actual_weight), (Some(20), Some(20)));
    assert_eq!(na.strategy, "Canary");
}

#[test]
fn aborted_rollout_matches_the_plugin() {
    let set = load("rollout-aborted");
    let i = set.info("rollout-background-analysis");
    // Condition reason RolloutAborted → Degraded.
    assert_eq!(i.status, "Degraded");
    assert!(i.message.starts_with("RolloutAborted: metric \"web\""));
    // status.abort → SetWeight 0; canary RS scaled down, available 0 → ActualWeight 0.
    assert_eq!((i.set_weight, i.actual_weight), (Some(0), Some(0)));
    assert!(i.aborted);
    let ar = i.current_analysis().unwrap();
    assert_eq!(ar.status, "Failed");
    assert_eq!(ar.counts(), "✖ 1");
    assert_eq!(ar.metrics[0].name, "web");
    assert_eq!(ar.metrics[0].phase, "Failed");
    assert_text("TestGetAbortedRollout", &i, now());
}

#[test]
fn invalid_rollout_matches_the_plugin() {
    let set = load("rollout-invalid");
    let i = set.info("rollout-invalid");
    // InvalidSpec condition → Degraded; no steps → Step blank, SetWeight/ActualWeight max (100).
    assert_eq!(i.status, "Degraded");
    assert_eq!(i.step, "");
    assert_eq!((i.set_weight, i.actual_weight), (Some(100), Some(100)));
    assert!(i.images.is_empty());
    assert_text("TestGetInvalidRollout", &i, now());
}

#[test]
fn blue_green_matches_the_plugin() {
    let set = load("blue-green");
    let i = set.info("bluegreen-demo");
    // No phase; no degrading condition; not spec.paused; first pause condition → Paused BlueGreenPause.
    assert_eq!(
        (i.status.as_str(), i.message.as_str()),
        ("Paused", "BlueGreenPause")
    );
    assert_eq!(i.strategy, "BlueGreen");
    assert_eq!((i.set_weight, i.actual_weight), (None, None));
    assert_text("TestGetBlueGreenRollout", &i, now());
}

#[test]
fn blue_green_scale_down_delay_matches_the_plugin() {
    let set = load("blue-green");
    // As the plugin's tests do: the preview RS gets a scale-down deadline, the preview selector goes.
    for (test, deadline) in [
        (
            "TestGetBlueGreenRolloutScaleDownDelay",
            "2026-11-30T15:59:30Z",
        ),
        (
            "TestGetBlueGreenRolloutScaleDownDelayPassed",
            "2026-11-30T11:00:00Z",
        ),
    ] {
        let mut ro = set.rollouts[0].clone();
        ro.status.blue_green.preview_selector = String::new();
        let mut s = Set {
            rollouts: vec![],
            rss: set.rss.clone(),
            pods: set.pods.clone(),
            exps: vec![],
            ars: vec![],
        };
        for rs in &mut s.rss {
            if rs.metadata.name.as_deref() == Some("bluegreen-demo-74b948fccb") {
                rs.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert("scale-down-deadline".into(), deadline.into());
            }
        }
        let i = s.info_of(&ro);
        assert_text(test, &i, now());
    }
}

#[test]
fn experiment_analysis_matches_the_plugin() {
    let set = load("experiment-analysis");
    let i = set.info("rollout-experiment-analysis");
    // ProgressDeadlineExceeded is checked before the InconclusiveAnalysisRun pause → Degraded.
    assert_eq!(i.status, "Degraded");
    assert_eq!(
        (i.step.as_str(), i.set_weight, i.actual_weight),
        ("1/2", Some(25), Some(25))
    );
    let ar = i.current_analysis().unwrap();
    assert_eq!(ar.status, "Inconclusive");
    assert_eq!(ar.counts(), "✔ 4,✖ 4,? 1,⚠ 1");
    assert_eq!(ar.jobs.len(), 8);
    assert_eq!(i.revisions[0].experiments.len(), 1);
    assert_text("TestExperimentRollout", &i, now());
}

#[test]
fn experiment_step_matches_the_plugin() {
    let set = load("experiment-step");
    let i = set.info("canary-demo");
    // updatedReplicas (absent = 0) < replicas 5 → Progressing "more replicas need to be updated".
    assert_eq!(
        (i.status.as_str(), i.message.as_str()),
        ("Progressing", "more replicas need to be updated")
    );
    assert_eq!(
        images(&i),
        [
            "argoproj/rollouts-demo:blue (Σ:canary-preview)",
            "argoproj/rollouts-demo:green (stable)"
        ]
    );
    assert_text("TestGetRolloutWithExperimentJob", &i, now());
}

#[test]
fn guards_come_before_status_phase() {
    let set = load("canary");
    let mut ro = set.rollouts[0].clone();
    ro.status.phase = "Healthy".into();
    ro.status.message = String::new();
    assert_eq!(
        set.info_of(&ro).status,
        "Healthy",
        "status.phase wins once observed"
    );
    // observedGeneration is a string; "428" != generation 429 → waiting for the spec.
    ro.status.observed_generation = "428".into();
    let i = set.info_of(&ro);
    assert_eq!(
        (i.status.as_str(), i.message.as_str()),
        (
            "Progressing",
            "waiting for rollout spec update to be observed"
        )
    );
    // A pre-v0.10 hash is not a number: counts as observed.
    ro.status.observed_generation = "6b8c7f9d5".into();
    assert_eq!(set.info_of(&ro).status, "Healthy");
    // controllerPause with no pause conditions: unpausing.
    ro.status.controller_pause = true;
    let i = set.info_of(&ro);
    assert_eq!(i.message, "waiting for rollout to unpause");
}

#[test]
fn set_weight_and_pause_countdown() {
    let set = load("canary");
    let mut ro = set.rollouts[0].clone();
    // Step 3 is `pause: 10s`; the last setWeight at or before it is 40.
    ro.status.current_step_index = Some(3);
    ro.status.pause_conditions = vec![shipdeck::services::kube::model::PauseCondition {
        reason: "CanaryPauseStep".into(),
        start_time: Some("2026-11-30T12:00:00Z".into()),
    }];
    let i = set.info_of(&ro);
    assert_eq!(i.set_weight, Some(40));
    assert_eq!(
        i.pause_ends_at,
        Some("2026-11-30T12:00:10Z".parse().unwrap())
    );
    assert_eq!(i.steps[2].state, "done");
    // Past the last step: no current step → max weight for both.
    ro.status.current_step_index = Some(8);
    let i = set.info_of(&ro);
    assert_eq!(
        (i.step.as_str(), i.set_weight, i.actual_weight),
        ("8/8", Some(100), Some(100))
    );
}
