//! Snapshots of the Rollout and Runners panels in their states, drawn from `LiveState` filled
//! with the plugin's fixture objects (derived by the same functions the watches use).

use std::collections::BTreeMap;

use ratatui::{Terminal, backend::TestBackend};
use shipdeck::app::{Panel, State};
use shipdeck::services::kube::model::PauseCondition;
use shipdeck::services::kube::{Conn, FeedId, LiveEvent, RunnerInfo, RunnerMode, ScaleSetInfo};

use super::derive::{load, now};
use crate::app_core::demo_state;

fn draw(state: &State, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| shipdeck::ui::render(f, state)).unwrap();
    terminal.backend().to_string()
}

fn snap(name: &str, state: &State) {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut s = state.clone();
        s.size = (w, h);
        insta::assert_snapshot!(format!("live_{name}_{w}x{h}"), draw(&s, w, h));
    }
}

/// The demo cockpit with the selected app × env showing `info`, the clock at the fixtures' now.
fn with_rollout(info: shipdeck::services::kube::RolloutInfo) -> State {
    let mut s = demo_state();
    s.clock.now_ms = u64::try_from(now().as_millisecond()).unwrap();
    let app = s.selected_app().unwrap().to_owned();
    let env = s.selected_env().unwrap().name.clone();
    s.live.apply(LiveEvent::Rollouts {
        env,
        rollouts: BTreeMap::from([(app, Some(info))]),
    });
    s
}

fn paused_canary() -> shipdeck::services::kube::RolloutInfo {
    let set = load("canary");
    let mut ro = set.rollouts[0].clone();
    ro.status.conditions.clear();
    ro.status.current_step_index = Some(3);
    ro.status.pause_conditions = vec![PauseCondition {
        reason: "CanaryPauseStep".into(),
        start_time: Some("2026-11-30T11:59:53Z".into()),
    }];
    set.info_of(&ro)
}

#[test]
fn rollout_degraded_canary() {
    let set = load("canary");
    snap("rollout_degraded", &with_rollout(set.info("canary-demo")));
}

#[test]
fn rollout_paused_with_countdown() {
    snap("rollout_paused", &with_rollout(paused_canary()));
}

/// `ctrl-p` during a timed pause: the person's pause holds it, so no countdown is shown.
#[test]
fn a_manual_pause_shows_no_countdown() {
    let mut info = paused_canary();
    assert!(info.pause_ends_at.is_some(), "the step has a timer");
    info.paused = true;
    let screen = draw(&with_rollout(info), 120, 40);
    assert!(screen.contains("paused by user"), "{screen}");
    assert!(!screen.contains(" left"), "{screen}");
}

#[test]
fn rollout_analysis_and_zoomed_tree() {
    let set = load("experiment-analysis");
    let mut s = with_rollout(set.info("rollout-experiment-analysis"));
    snap("rollout_analysis", &s);
    s.focus = Panel::Rollout;
    s.zoomed = true;
    snap("rollout_zoomed_tree", &s);
}

#[test]
fn rollout_stale() {
    let mut s = with_rollout(paused_canary());
    let env = s.selected_env().unwrap().name.clone();
    s.live.apply(LiveEvent::Connection {
        feed: FeedId::Cluster(env),
        conn: Conn::Stale {
            since: "2026-11-30T11:58:00Z".parse().unwrap(),
            error: "connection refused".into(),
        },
    });
    snap("rollout_stale", &s);
}

#[test]
fn runners_with_jobs() {
    let mut s = demo_state();
    s.clock.now_ms = u64::try_from(now().as_millisecond()).unwrap();
    let created = |m: i64| Some(now() - jiff::SignedDuration::from_mins(m));
    let legacy = ScaleSetInfo {
        name: "miker-legacy-arm64".into(),
        mode: RunnerMode::Legacy,
        min: 1,
        max: Some(3),
        current: 1,
        running: 1,
        runners: vec![RunnerInfo {
            name: "miker-legacy-arm64-6f8d9c7b5-q2w8x".into(),
            created: created(5),
            phase: "Running".into(),
            pod_phase: Some("Running".into()),
            workflow: Some("Nightly".into()),
            workflow_run_id: Some(7_000_000_011),
            job: Some("e2e".into()),
            repository: Some("example-org/miker".into()),
        }],
        ..ScaleSetInfo::default()
    };
    let sets = vec![
        ScaleSetInfo {
            name: "miker".into(),
            mode: RunnerMode::ScaleSet,
            min: 2,
            max: Some(8),
            current: 3,
            pending: 1,
            running: 2,
            failed: 0,
            phase: "Running".into(),
            runners: vec![
                RunnerInfo {
                    name: "miker-x7k2p-runner-4bq9z".into(),
                    created: created(12),
                    phase: "Running".into(),
                    pod_phase: Some("Running".into()),
                    workflow: Some("ci.yml".into()),
                    workflow_run_id: Some(812),
                    job: Some("test".into()),
                    repository: Some("miker".into()),
                },
                RunnerInfo {
                    name: "miker-x7k2p-runner-9slfd".into(),
                    created: created(3),
                    phase: "Running".into(),
                    pod_phase: Some("Running".into()),
                    ..RunnerInfo::default()
                },
                RunnerInfo {
                    name: "miker-x7k2p-runner-zz81c".into(),
                    created: created(0),
                    phase: "Pending".into(),
                    pod_phase: Some("Pending".into()),
                    ..RunnerInfo::default()
                },
            ],
        },
        legacy,
    ];
    s.live.apply(LiveEvent::Runners {
        served: vec![RunnerMode::ScaleSet, RunnerMode::Legacy],
        sets,
    });
    snap("runners", &s);
}

#[test]
fn runners_without_arc() {
    let mut s = demo_state();
    s.live.apply(LiveEvent::Runners {
        served: Vec::new(),
        sets: Vec::new(),
    });
    snap("runners_no_arc", &s);
}

/// The style of the first cell of `label` on the key bar (the last row).
fn key_style(s: &State, label: &str) -> ratatui::style::Style {
    let (w, h) = (120, 40);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| shipdeck::ui::render(f, s)).unwrap();
    let buf = terminal.backend().buffer().clone();
    let row: String = (0..w)
        .map(|x| buf[(x, h - 1)].symbol().to_owned())
        .collect();
    let at = row
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not on the key bar: {row}"));
    let x = u16::try_from(row[..at].chars().count()).unwrap();
    buf[(x, h - 1)].style()
}

#[test]
fn key_bar_greys_what_would_be_refused() {
    use ratatui::style::Color;
    use shipdeck::services::kube::RolloutAccess;
    let mut s = with_rollout(paused_canary());
    let env = s.selected_env().unwrap().name.clone();
    // A paused canary: abort is live, retry (nothing aborted) is greyed by Argo CD's rules.
    assert_ne!(key_style(&s, "abort").fg, Some(Color::DarkGray));
    assert_eq!(key_style(&s, "retry").fg, Some(Color::DarkGray));
    assert!(shipdeck::app::key_blocked(&s, shipdeck::app::Command::Abort).is_none());
    // RBAC denies patching rollouts/status here: abort greys out too, with the reason.
    s.live.apply(LiveEvent::Access {
        env,
        access: RolloutAccess {
            patch_status: Some(false),
            patch: Some(true),
        },
    });
    assert_eq!(key_style(&s, "abort").fg, Some(Color::DarkGray));
    let why = shipdeck::app::key_blocked(&s, shipdeck::app::Command::Abort).unwrap();
    assert!(why.contains("forbidden"), "{why}");
    // Read-only greys every write, including release.
    s.read_only = shipdeck::ops::read_only_reason(true, None);
    assert_eq!(key_style(&s, "release").fg, Some(Color::DarkGray));
    assert_ne!(key_style(&s, "secrets").fg, Some(Color::DarkGray));
}

/// Before an env's cluster has answered, its row says `connecting`, never a phase; once the
/// first snapshot is in, the row shows what it says.
#[test]
fn rows_say_connecting_until_the_first_snapshot() {
    let mut s = demo_state();
    s.cluster = shipdeck::app::state::Feed::Connecting;
    let screen = draw(&s, 120, 40);
    assert!(screen.matches("connecting").count() >= 3, "{screen}");
    let s = with_rollout(paused_canary());
    let screen = draw(&s, 120, 40);
    let dev_row = screen
        .lines()
        .find(|l| l.contains("▸dev"))
        .unwrap_or_default()
        .to_owned();
    assert!(!dev_row.contains("connecting"), "{dev_row}");
    assert!(dev_row.contains("Paused"), "{dev_row}");
}
