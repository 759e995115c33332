//! The event timeline (`e`): its state transitions in the pure core, its view at two sizes, and
//! a canary's events plus a journal line of ours, watched over HTTP from the sandbox.

use shipdeck::app::{Action, Command, Effect, Overlay, State, update};
use shipdeck::audit::Entry;
use shipdeck::services::kube::timeline::ClusterEvent;

use crate::app_core::demo_state;

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn event(
    time: &str,
    kind: &str,
    object: (&str, &str),
    reason: &str,
    message: &str,
) -> ClusterEvent {
    ClusterEvent {
        time: Some(ts(time)),
        kind: kind.to_owned(),
        object_kind: object.0.to_owned(),
        object_name: object.1.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        uid: format!("{}.{time}", object.1),
    }
}

fn ours(time: &str, app: &str, env: &str, action: &str, result: &str) -> Entry {
    Entry {
        time: time.to_owned(),
        actor: "alice".to_owned(),
        action: action.to_owned(),
        app: Some(app.to_owned()),
        env: Some(env.to_owned()),
        from: Some("abc1234".to_owned()),
        to: Some("def5678".to_owned()),
        result: result.to_owned(),
        ..Entry::default()
    }
}

/// The timeline open on the demo's first app in dev, with the effects the opening asked for.
fn opened() -> (State, Vec<Effect>, u64) {
    let mut s = demo_state();
    let effects = update(&mut s, Action::Command(Command::Timeline));
    let seq = s.timeline.seq;
    (s, effects, seq)
}

/// A canary's story: the scale-up, a warning from an AnalysisRun, Argo CD's sync, and ours.
fn filled() -> State {
    let (mut s, _, seq) = opened();
    update(
        &mut s,
        Action::TimelineEvents {
            seq,
            source: "cluster".into(),
            result: Ok(vec![
                event(
                    "2026-12-07T13:00:05Z",
                    "Normal",
                    ("ReplicaSet", "miker-web-6d8f9c7b5"),
                    "ScalingReplicaSet",
                    "Scaled up replica set miker-web-6d8f9c7b5 to 1",
                ),
                event(
                    "2026-12-07T13:03:40Z",
                    "Warning",
                    ("AnalysisRun", "miker-web-6d8f9c7b5-2"),
                    "AnalysisRunFailed",
                    "Metric \"error-rate\" assessed Failed due to failed (3) > failureLimit (2), a long message that has to be cut to fit in the narrow terminal",
                ),
                event(
                    "2026-12-07T13:00:02Z",
                    "Normal",
                    ("Rollout", "miker-web"),
                    "RolloutUpdated",
                    "Rollout updated to revision 7",
                ),
            ]),
        },
    );
    update(
        &mut s,
        Action::TimelineEvents {
            seq,
            source: "argocd".into(),
            result: Ok(vec![event(
                "2026-12-07T13:00:01Z",
                "Normal",
                ("Application", "miker-web-dev"),
                "OperationCompleted",
                "Sync operation to 1f2e3d4 succeeded",
            )]),
        },
    );
    update(
        &mut s,
        Action::TimelineJournal {
            seq,
            result: Ok(vec![
                ours("2026-12-07T12:59:58Z", "miker-web", "dev", "release", "ok"),
                // Another env's line is not this timeline's.
                ours("2026-12-07T13:01:00Z", "miker-web", "prod", "release", "ok"),
                ours(
                    "2026-12-07T13:04:00Z",
                    "miker-web",
                    "dev",
                    "rollout-abort",
                    "ok",
                ),
            ]),
        },
    );
    s
}

#[test]
fn open_watch_merge_filter_close() {
    let (s, effects, seq) = opened();
    let app = s.selected_app().unwrap().to_owned();
    assert_eq!(s.overlay, Some(Overlay::Timeline));
    assert!(effects.contains(&Effect::WatchTimeline {
        seq,
        app,
        env: "dev".into()
    }));
    assert!(effects.contains(&Effect::ReadTimelineJournal { seq }));
    assert!(s.timeline.connecting(), "nothing arrived yet");

    let mut s = filled();
    let rows = s.timeline.rows();
    let order: Vec<&str> = rows.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        order,
        [
            "rollout-abort",
            "AnalysisRunFailed",
            "ScalingReplicaSet",
            "RolloutUpdated",
            "OperationCompleted",
            "release",
        ],
        "newest first, ours merged in, other envs' lines out"
    );
    assert_eq!(rows[0].ours.as_deref(), Some("alice"));
    assert!(rows[1].warning());

    // A late answer for an earlier opening changes nothing.
    update(
        &mut s,
        Action::TimelineEvents {
            seq: seq - 1,
            source: "cluster".into(),
            result: Ok(Vec::new()),
        },
    );
    assert_eq!(s.timeline.rows().len(), 6);

    // A failing watch keeps its rows and says why.
    update(
        &mut s,
        Action::TimelineEvents {
            seq,
            source: "cluster".into(),
            result: Err("connection refused".into()),
        },
    );
    assert_eq!(s.timeline.rows().len(), 6);
    assert_eq!(
        s.timeline.problems(),
        ["cluster events: connection refused"]
    );

    // enter shows the selected row whole; esc closes that first.
    update(&mut s, Action::Submit);
    assert!(s.timeline.whole);
    let e = update(&mut s, Action::Command(Command::Cancel));
    assert!(!s.timeline.whole && s.overlay == Some(Overlay::Timeline) && e.is_empty());

    // `/` filters; esc first drops the filter, then closes and stops the watches.
    update(&mut s, Action::Command(Command::Filter));
    for c in "analysis".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(s.timeline.rows().len(), 1);
    let e = update(&mut s, Action::Command(Command::Cancel));
    assert_eq!(s.overlay, Some(Overlay::Timeline));
    assert!(!e.contains(&Effect::StopTimeline));
    assert_eq!(s.timeline.rows().len(), 6);
    let e = update(&mut s, Action::Command(Command::Cancel));
    assert_eq!(s.overlay, None);
    assert!(e.contains(&Effect::StopTimeline), "{e:?}");

    // A finished task re-reads the journal only while the timeline is open.
    let (mut s, _, seq) = opened();
    let id = s.tasks.start("release", 0);
    let e = update(
        &mut s,
        Action::TaskFinished {
            id,
            outcome: shipdeck::app::tasks::TaskOutcome::Done("ok".into()),
        },
    );
    assert!(e.contains(&Effect::ReadTimelineJournal { seq }), "{e:?}");
}

#[test]
fn the_bound_is_kept() {
    let (mut s, _, seq) = opened();
    let many: Vec<ClusterEvent> = (0..800)
        .map(|i| {
            let t = jiff::Timestamp::from_second(1_796_649_600 + i).unwrap();
            ClusterEvent {
                time: Some(t),
                ..event(
                    "2026-12-07T13:00:00Z",
                    "Normal",
                    ("Pod", "miker-web-x-1"),
                    "Pulled",
                    "",
                )
            }
        })
        .collect();
    update(
        &mut s,
        Action::TimelineEvents {
            seq,
            source: "cluster".into(),
            result: Ok(many),
        },
    );
    let rows = s.timeline.rows();
    assert_eq!(rows.len(), shipdeck::app::timeline::MAX_ROWS);
    assert_eq!(rows[0].time.unwrap().as_second(), 1_796_649_600 + 799);
}

#[test]
fn timeline_view_snapshots() {
    for (w, h) in [(80, 24), (120, 40)] {
        let (mut s, _, _) = opened();
        s.size = (w, h);
        insta::assert_snapshot!(
            format!("timeline_connecting_{w}x{h}"),
            crate::ui_snapshots::draw(&s, w, h)
        );
        let mut s = filled();
        s.size = (w, h);
        insta::assert_snapshot!(
            format!("timeline_{w}x{h}"),
            crate::ui_snapshots::draw(&s, w, h)
        );
        let seq = s.timeline.seq;
        update(
            &mut s,
            Action::TimelineEvents {
                seq,
                source: "argocd".into(),
                result: Err("list failed: 403 forbidden".into()),
            },
        );
        update(&mut s, Action::Command(Command::Filter));
        for c in "miker-web-6".chars() {
            update(&mut s, Action::Input(c));
        }
        insta::assert_snapshot!(
            format!("timeline_stale_filtered_{w}x{h}"),
            crate::ui_snapshots::draw(&s, w, h)
        );
        update(&mut s, Action::Submit);
        update(&mut s, Action::Submit);
        insta::assert_snapshot!(
            format!("timeline_whole_{w}x{h}"),
            crate::ui_snapshots::draw(&s, w, h)
        );
    }
}

/// Over HTTP against the sandbox with its controllers: the stg canary's events (the new
/// ReplicaSet, its first step, its pause) and our rollback's journal line arrive in one
/// newest-first list through the real watch (the sandbox serves core/v1 Events only, so this is
/// also the 404 fallback), and closing the view stops the watch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_and_our_rollback_in_one_timeline() {
    use crate::ops::{World, cockpit};
    let w = World::start(true).await;
    w.stg_canary_paused().await;
    let mut c = cockpit(&w).await;
    c.select_env("stg");
    c.press(Command::Rollback);
    c.until("the history", |s| {
        matches!(
            &s.overlay,
            Some(Overlay::Rollback {
                history: Some(_),
                ..
            })
        )
    })
    .await;
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(line.contains("cluster: aborted"), "{line}");

    c.press(Command::Timeline);
    let has = |s: &State, reason: &str| s.timeline.rows().iter().any(|r| r.reason == reason);
    c.until("the canary's events and our rollback", |s| {
        has(s, "rollback")
            && has(s, "NewReplicaSetCreated")
            && has(s, "RolloutStepCompleted")
            && has(s, "RolloutPaused")
            && has(s, "Scheduled")
            && has(s, "SuccessfulCreate")
            && has(s, "OperationCompleted")
    })
    .await;
    let rows = c.state.timeline.rows();
    // Each controller's events are about its own object: pods, ReplicaSets, the Application.
    let kind_of = |reason: &str| {
        rows.iter()
            .find(|r| r.reason == reason)
            .map(|r| r.object.split('/').next().unwrap_or_default().to_owned())
    };
    assert_eq!(kind_of("Scheduled").as_deref(), Some("Pod"), "{rows:#?}");
    assert_eq!(kind_of("SuccessfulCreate").as_deref(), Some("ReplicaSet"));
    assert_eq!(
        kind_of("OperationCompleted").as_deref(),
        Some("Application")
    );
    let at = |reason: &str| rows.iter().position(|r| r.reason == reason).unwrap();
    // Ours came after the canary began: never older than its ReplicaSet, listed above it.
    let (ours_t, rs_t) = (
        rows[at("rollback")].time,
        rows[at("NewReplicaSetCreated")].time,
    );
    assert!(ours_t >= rs_t, "{rows:#?}");
    if ours_t > rs_t {
        assert!(at("rollback") < at("NewReplicaSetCreated"), "{rows:#?}");
    }
    assert!(
        rows.windows(2).all(|p| p[0].time >= p[1].time),
        "ordered by time: {rows:#?}"
    );
    let ours = &rows[at("rollback")];
    assert_eq!(
        ours.ours.as_deref(),
        Some(shipdeck::ops::Actor::local(None).name.as_str())
    );
    assert!(
        rows.iter().all(|r| r.ours.is_some()
            || r.object.starts_with("Rollout/miker-web")
            || r.object.contains("/miker-web-")),
        "only the app's objects: {rows:#?}"
    );
    assert!(
        c.state.timeline.problems().is_empty(),
        "{:?}",
        c.state.timeline.problems()
    );

    c.press(Command::Cancel);
    assert_eq!(c.state.overlay, None);

    // Headless, the real binary on the cockpit's journal: the same merged list, listed once.
    let p = w.cockpit_paths();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args(["events", "miker-web", "--env", "stg", "--output", "json"])
        .env("SHIPDECK_CONFIG", &p.config_dir)
        .env("SHIPDECK_DATA", &p.data_dir)
        .env("SHIPDECK_STATE", &p.state_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let reasons: Vec<&str> = listed.iter().filter_map(|r| r["reason"].as_str()).collect();
    for want in ["rollback", "NewReplicaSetCreated", "RolloutPaused"] {
        assert!(reasons.contains(&want), "{want} missing: {reasons:?}");
    }
    let times: Vec<jiff::Timestamp> = listed
        .iter()
        .filter_map(|r| r["time"].as_str())
        .map(ts)
        .collect();
    assert!(times.windows(2).all(|p| p[0] >= p[1]), "{times:?}");
    c.runner.cancel_all();
    w.shutdown().await;
}

#[test]
fn the_scope_is_the_rollout_its_children_by_prefix_and_the_application() {
    use shipdeck::services::kube::timeline::Scope;
    let scope = Scope {
        rollout: "miker-web".into(),
        application: "miker-web-dev".into(),
    };
    let ev = |kind: &str, name: &str| event("2026-12-07T13:00:00Z", "Normal", (kind, name), "", "");
    for (kind, name, want) in [
        ("Rollout", "miker-web", true),
        ("Rollout", "miker-web-2", false),
        ("ReplicaSet", "miker-web-6d8f9c7b5", true),
        ("Pod", "miker-web-6d8f9c7b5-x7k2p", true),
        ("AnalysisRun", "miker-web-6d8f9c7b5-2", true),
        ("Application", "miker-web-dev", true),
        ("Application", "miker-web-prod", false),
        // Another app whose name starts the same is not ours.
        ("Pod", "miker-webhook-5c4d-abcde", false),
        ("Service", "miker-web-canary", false),
    ] {
        assert_eq!(scope.matches(&ev(kind, name)), want, "{kind}/{name}");
    }
}

/// The same events through events.k8s.io/v1 and, on a server without that group, through
/// core/v1 after its 404: the real binary lists the canary's events either way, and the
/// requests say which API it read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_come_from_events_k8s_io_v1_or_core_v1_after_a_404() {
    use crate::ops::World;
    let w = World::start(true).await;
    w.stg_canary_paused().await;
    let list = |w: &World| {
        let p = w.cli_paths();
        std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .arg("--inventory")
            .arg(&w.inventory_path)
            .args(["events", "miker-web", "--env", "stg", "--output", "json"])
            .env("SHIPDECK_CONFIG", &p.config_dir)
            .env("SHIPDECK_DATA", &p.data_dir)
            .env("SHIPDECK_STATE", &p.state_dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let reasons = |out: &std::process::Output| -> Vec<String> {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        rows.iter()
            .filter_map(|r| r["reason"].as_str().map(str::to_owned))
            .collect()
    };
    let read = |w: &World, prefix: &str| {
        w.kube
            .requests()
            .iter()
            .filter(|r| {
                let path = r.path_and_query.split('?').next().unwrap_or_default();
                path.starts_with(prefix) && path.ends_with("/events")
            })
            .count()
    };
    let v1 = reasons(&list(&w));
    assert!(v1.iter().any(|r| r == "RolloutPaused"), "{v1:?}");
    let core_before = read(&w, "/api/v1/");
    assert!(
        read(&w, "/apis/events.k8s.io/v1/") > 0,
        "read through events.k8s.io/v1"
    );

    w.kube.hide_group("events.k8s.io");
    let core = reasons(&list(&w));
    assert!(core.iter().any(|r| r == "RolloutPaused"), "{core:?}");
    assert!(read(&w, "/api/v1/") > core_before, "then through core/v1");
    w.shutdown().await;
}
