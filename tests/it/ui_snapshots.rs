//! Every panel and overlay in each of its states, drawn at 120×40, 80×24 and 200×60 with ratatui's
//! TestBackend. Review changes with `cargo insta review`.

use ratatui::{Terminal, backend::TestBackend};
use shipdeck::app::state::Feed;
use shipdeck::app::tasks::TaskOutcome;
use shipdeck::app::{Action, Command, Keymap, Panel, State, update};
use shipdeck::inventory::Inventory;
use shipdeck::services::Progress;

use crate::app_core::demo_state;

const SIZES: [(u16, u16); 3] = [(120, 40), (80, 24), (200, 60)];

pub(crate) fn draw(state: &State, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| shipdeck::ui::render(f, state)).unwrap();
    terminal.backend().to_string()
}

fn snap(name: &str, mut make: impl FnMut() -> State) {
    for (w, h) in SIZES {
        let mut state = make();
        state.size = (w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&state, w, h));
    }
}

fn cmd(s: &mut State, c: Command) {
    update(s, Action::Command(c));
}

#[test]
fn fresh_cockpit_says_what_is_not_connected() {
    snap("fresh", demo_state);
}

#[test]
fn environments_with_data_selection_and_drift() {
    snap("environments_live", || {
        let mut s = demo_state();
        s.gitops = Feed::Live;
        s.cluster = Feed::Live;
        let rows = [
            ("dev", "9f1c2ab", "9f1c2ab", "Synced", "Healthy"),
            ("stg", "9f1c2ab", "71be0e3", "OutOfSync", "Paused"),
            ("prod", "71be0e3", "71be0e3", "Synced", "Healthy"),
        ];
        for (env, git, live, sync, phase) in rows {
            if let Some(row) = s.envs.iter_mut().find(|r| r.name == env) {
                row.git_tag = Some(git.into());
            }
            for event in live_env(env, live, sync, phase) {
                s.live.apply(event);
            }
        }
        // stg has disagreed with git for longer than the grace: drift.
        s.clock.now_ms = 120_000;
        s.drift_since
            .insert(("miker-web".into(), "stg".into()), 60_000);
        cmd(&mut s, Command::Down);
        s
    });
}

/// What the watches of one env deliver: the app's Rollout running `tag` in `phase`, and its
/// Argo CD Application in `sync`.
fn live_env(
    env: &str,
    tag: &str,
    sync: &str,
    phase: &str,
) -> Vec<shipdeck::services::kube::LiveEvent> {
    use shipdeck::services::kube::info::{ReplicaSetInfo, RevisionInfo};
    use shipdeck::services::kube::{ArgoApp, LiveEvent, RolloutInfo};
    let info = RolloutInfo {
        // As the watch delivers it for the app on screen.
        pods_listed: true,
        status: phase.into(),
        revisions: vec![RevisionInfo {
            revision: 1,
            replica_sets: vec![ReplicaSetInfo {
                uid: format!("{env}-rs"),
                replicas: 1,
                images: vec![format!("harbor.sandbox.local/miker/miker-web:{tag}")],
                ..ReplicaSetInfo::default()
            }],
            ..RevisionInfo::default()
        }],
        ..RolloutInfo::default()
    };
    let app = ArgoApp {
        name: format!("miker-web-{env}"),
        sync: sync.into(),
        health: "Healthy".into(),
        revision: String::new(),
        images: Vec::new(),
        ..ArgoApp::default()
    };
    vec![
        LiveEvent::Rollouts {
            env: env.into(),
            rollouts: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(info))]),
        },
        LiveEvent::ArgoCd {
            env: env.into(),
            apps: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(app))]),
        },
    ]
}

/// stg runs a 20 % canary of 9f1c2ab over 71be0e3, Argo CD says Suspended, and this identity
/// may not read Experiments there.
pub(crate) fn canary_state() -> shipdeck::app::State {
    use shipdeck::services::kube::info::{ReplicaSetInfo, RevisionInfo};
    use shipdeck::services::kube::{ArgoApp, Denial, FeedId, LiveEvent, RolloutInfo};
    let mut s = demo_state();
    s.gitops = Feed::Live;
    s.cluster = Feed::Live;
    let rs = |rev: i64, tag: &str, stable: bool| RevisionInfo {
        revision: rev,
        replica_sets: vec![ReplicaSetInfo {
            uid: format!("rs-{tag}"),
            replicas: if stable { 4 } else { 1 },
            stable,
            canary: !stable,
            images: vec![format!("harbor.sandbox.local/miker/miker-web:{tag}")],
            ..ReplicaSetInfo::default()
        }],
        ..RevisionInfo::default()
    };
    let info = RolloutInfo {
        // As the watch delivers it for the app on screen.
        pods_listed: true,
        status: "Paused".into(),
        step: "1/7".into(),
        set_weight: Some(20),
        actual_weight: Some(20),
        revisions: vec![rs(2, "9f1c2ab", false), rs(1, "71be0e3", true)],
        ..RolloutInfo::default()
    };
    if let Some(row) = s.envs.iter_mut().find(|r| r.name == "stg") {
        row.git_tag = Some("9f1c2ab".into());
    }
    let app = ArgoApp {
        name: "miker-web-stg".into(),
        sync: "Synced".into(),
        health: "Suspended".into(),
        ..ArgoApp::default()
    };
    for ev in [
        LiveEvent::Rollouts {
            env: "stg".into(),
            rollouts: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(info))]),
        },
        LiveEvent::ArgoCd {
            env: "stg".into(),
            apps: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(app))]),
        },
        LiveEvent::Denied {
            feed: FeedId::Cluster("stg".into()),
            denied: vec![Denial {
                verb: "list".into(),
                resource: "experiments.argoproj.io".into(),
                namespace: "miker-stg".into(),
            }],
        },
    ] {
        s.live.apply(ev);
    }
    cmd(&mut s, Command::Down);
    s
}

#[test]
fn a_canary_shows_both_revisions_argo_health_and_what_is_refused() {
    snap("environments_canary", canary_state);
    snap("zoomed_environments_canary", || {
        let mut s = canary_state();
        cmd(&mut s, Command::Zoom);
        s
    });
}

/// A person paused stg's canary: the key bar, the Rollout panel and help say how it resumes.
#[test]
fn a_pause_by_a_person_says_how_to_resume() {
    let paused = || {
        let mut s = canary_state();
        let mut info = s.live.rollout("miker-web", "stg").unwrap().clone();
        info.paused = true;
        s.live.apply(shipdeck::services::kube::LiveEvent::Rollouts {
            env: "stg".into(),
            rollouts: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(info))]),
        });
        s
    };
    snap("paused_by_user", paused);
    snap("paused_by_user_rollout_focused", || {
        let mut s = paused();
        cmd(&mut s, Command::FocusNext);
        s
    });
    snap("paused_by_user_help", || {
        let mut s = paused();
        cmd(&mut s, Command::Help);
        s
    });
}

/// A long result: cut with `…` on the main screen, wrapped whole when zoomed, and whole in a
/// box after ↑ and enter.
#[test]
fn a_long_activity_line_is_cut_wrapped_or_opened_whole() {
    let long = || {
        let mut s = demo_state();
        let id = s.tasks.start("release miker-web prod", 0);
        update(
            &mut s,
            Action::TaskFinished {
                id,
                outcome: TaskOutcome::Failed(
                    "the GitOps remote https://git.example.com/platform/gitops.git did not \
                     answer within 30 s while fetching and pushing (a retry fetches first, so it \
                     cannot write twice); nothing was written"
                        .into(),
                ),
            },
        );
        while s.focus != Panel::Activity {
            cmd(&mut s, Command::FocusNext);
        }
        s
    };
    snap("activity_long_line", long);
    snap("activity_long_line_zoomed", || {
        let mut s = long();
        cmd(&mut s, Command::Zoom);
        s
    });
    snap("activity_long_line_opened", || {
        let mut s = long();
        cmd(&mut s, Command::Up);
        cmd(&mut s, Command::Open);
        assert!(matches!(
            s.overlay,
            Some(shipdeck::app::Overlay::Line { .. })
        ));
        s
    });
}

#[test]
fn stale_and_connecting_feeds() {
    snap("feeds_stale", || {
        let mut s = demo_state();
        s.gitops = Feed::Connecting;
        s.cluster = Feed::Stale {
            since: "13:05:12".into(),
        };
        s.github = Feed::Connecting;
        s
    });
}

#[test]
fn zoomed_panel_fills_the_screen() {
    for panel in Panel::ALL.iter().copied() {
        snap(&format!("zoomed_{}", panel.title().to_lowercase()), || {
            let mut s = demo_state();
            while s.focus != panel {
                cmd(&mut s, Command::FocusNext);
            }
            cmd(&mut s, Command::Zoom);
            s
        });
    }
}

#[test]
fn help_overlay() {
    snap("help", || {
        let mut s = demo_state();
        cmd(&mut s, Command::Help);
        s
    });
}

#[test]
fn palette_overlay_with_query() {
    snap("palette", || {
        let mut s = demo_state();
        cmd(&mut s, Command::Palette);
        for c in "prom".chars() {
            update(&mut s, Action::Input(c));
        }
        cmd(&mut s, Command::Down);
        s
    });
}

#[test]
fn quit_confirmation_while_tasks_run() {
    snap("confirm_quit", || {
        let mut s = demo_state();
        s.tasks.start("rotate 12 secret files", 0);
        cmd(&mut s, Command::Quit);
        s
    });
}

#[test]
fn activity_with_running_tasks_and_results() {
    snap("activity", || {
        let mut s = demo_state();
        let done = s.tasks.start("release miker-web stg", 0);
        s.clock.now_ms = 1_200;
        update(
            &mut s,
            Action::TaskFinished {
                id: done,
                outcome: TaskOutcome::Done(
                    "release miker-web stg 9f1c2ab by alice: pushed 4e1d2c0".into(),
                ),
            },
        );
        let failed = s.tasks.start("promote miker-web stg → prod", 0);
        update(
            &mut s,
            Action::TaskFinished {
                id: failed,
                outcome: TaskOutcome::Failed("gates not green: codeql running".into()),
            },
        );
        let running = s.tasks.start("rotate secrets", 0);
        update(
            &mut s,
            Action::TaskProgress {
                id: running,
                progress: Progress {
                    done: 3,
                    total: Some(12),
                    note: "secrets/db.enc.yaml".into(),
                },
            },
        );
        s.tasks.start("tmp clean", 0);
        cmd(&mut s, Command::Cancel);
        s
    });
}

#[test]
fn status_line_after_a_refused_key() {
    snap("status_line", || {
        let mut s = demo_state();
        s.read_only = shipdeck::ops::read_only_reason(true, None);
        cmd(&mut s, Command::Abort);
        s
    });
}

#[test]
fn inventory_without_runners() {
    snap("no_runners", || {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/inventory/good-minimal.yaml");
        let inv = Inventory::load(&path).unwrap();
        State::new(&inv, "good-minimal.yaml", Keymap::default())
    });
}

#[test]
fn gates_with_a_report_and_a_selected_gate() {
    use shipdeck::app::state::GatesView;
    use shipdeck::services::github::{Gate, GateReport, GateState};
    snap("gates_report", || {
        let mut s = demo_state();
        s.github = Feed::Live;
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Down);
        s.envs[2].git_tag = Some("9f1c2ab".into());
        let gate = |name: &str, state, secs| Gate {
            name: name.into(),
            state,
            duration_s: secs,
            finished_at: None,
            url: Some(format!("https://github.example/runs/{name}")),
            source: None,
            detail: None,
        };
        let fetched = jiff::Timestamp::from_second(1_790_000_000).unwrap();
        let report = GateReport {
            sha: "9f1c2ab0000000000000000000000000000000aa".into(),
            gates: vec![
                gate("lint", GateState::Passed, Some(42)),
                gate("type-check", GateState::Passed, Some(65)),
                gate("test", GateState::Passed, Some(312)),
                gate("build", GateState::Passed, Some(201)),
                gate("trivy", GateState::Failed, Some(33)),
                gate("codeql", GateState::Running, Some(95)),
                Gate {
                    url: None,
                    ..gate("gitleaks", GateState::Missing, None)
                },
            ],
            summary: "4/7 passed, 1 failed, 1 running, 1 missing".into(),
            all_passed: false,
            settled: false,
            fetched_at: fetched,
            refresh_after: None,
            rate_limited_until: Some(fetched),
        };
        s.gates.insert(
            "prod".into(),
            GatesView {
                tag: "9f1c2ab".into(),
                report: Some(report),
                error: None,
                loading: false,
            },
        );
        while s.focus != Panel::Gates {
            cmd(&mut s, Command::FocusNext);
        }
        cmd(&mut s, Command::Down);
        s
    });
}

#[test]
fn views_and_dialogs() {
    use shipdeck::app::Overlay;
    use shipdeck::app::state::{Confirmed, PendingChange, TmpRow};
    use shipdeck::services::gitops::Action as Git;
    use shipdeck::services::secrets::formats::Format;
    use shipdeck::services::secrets::ops::FileInfo;

    let change = PendingChange {
        action: Git::Release,
        app: "miker-web".into(),
        env: "prod".into(),
        tag: Some("badc0de".into()),
        expected_from: Some("71be0e3".into()),
        source_env: None,
        override_reason: None,
    };
    snap("confirm_protected", || {
        let mut s = demo_state();
        s.overlay = Some(Overlay::Confirm {
            title: "Release miker-web".into(),
            lines: vec!["prod: 71be0e3 → badc0de".into()],
            typed: Some("prod".into()),
            input: "pro".into(),
            then: Confirmed::Git(change.clone()),
        });
        s
    });
    snap("override_reason", || {
        let mut s = demo_state();
        s.overlay = Some(Overlay::Reason {
            change: change.clone(),
            message: "gates of badc0de not passed in prod: trivy failed".into(),
            input: "INC-7 hot".into(),
        });
        s
    });
    snap("secrets_view", || {
        let mut s = demo_state();
        let file = |p: &str, days, stale, can| FileInfo {
            path: s.secrets_base.clone().unwrap().join(p),
            format: Some(Format::Yaml),
            recipients: vec!["age1shnpxq0v2l5kz9m0n7c3ytwhp5x0de6q4fj9rt6u8yk3a2c5plc".into()],
            lastmodified: Some("2026-08-02T10:00:00Z".into()),
            age_days: Some(days),
            stale,
            can_decrypt: can,
            mine: vec![],
            rule: Some("encrypted_regex: ^(data|stringData)$".into()),
            mac_only_encrypted: false,
            error: None,
        };
        s.secrets.rows = Some(vec![
            file("secrets/miker-web/prod/secret.enc.yaml", 120, true, true),
            file("secrets/miker-web/stg/secret.enc.yaml", 3, false, true),
            file("secrets/legacy/old.enc.yaml", 400, true, false),
        ]);
        s.secrets.by_age = true;
        s.secrets.selected = 1;
        s.overlay = Some(Overlay::Secrets);
        s
    });
    snap("secrets_remove_recipient", || {
        let mut s = demo_state();
        let file = |p: &str, recipients: &[&str]| FileInfo {
            path: s.secrets_base.clone().unwrap().join(p),
            format: Some(Format::Yaml),
            recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
            lastmodified: Some("2026-11-02T10:00:00Z".into()),
            age_days: Some(28),
            stale: false,
            can_decrypt: true,
            mine: vec![],
            rule: None,
            mac_only_encrypted: false,
            error: None,
        };
        let team = "age1shnpxq0v2l5kz9m0n7c3ytwhp5x0de6q4fj9rt6u8yk3a2c5plc";
        let leaver = "age1q7r0wz4k9d2m8c5x3v6b1n0p4l7j2h5g8f3d6s9a0z2x5c8v1b4nq";
        s.secrets.rows = Some(vec![
            file("secrets/miker-web/prod/secret.enc.yaml", &[team, leaver]),
            file("secrets/miker-web/stg/secret.enc.yaml", &[team, leaver]),
            file("secrets/ci/registry.enc.json", &[team]),
        ]);
        s.overlay = Some(Overlay::Recipient {
            add: false,
            input: "v1b4nq".into(),
            error: None,
        });
        s
    });
    snap("tmp_view", || {
        let mut s = demo_state();
        let row = |idx, path: &str, size, days: u64, rule: &str, reason: &str| TmpRow {
            idx,
            path: path.into(),
            size,
            age_secs: days * 86_400,
            rule: rule.into(),
            reason: reason.into(),
        };
        s.tmp.rows = Some(vec![
            row(
                0,
                "actions-runner-linux-x64-2.317.0.tar.gz",
                191_000_000,
                23,
                "actions-runner-*.tar.gz",
                "not among the 2 newest",
            ),
            row(
                1,
                "kubectl-v1.30.4",
                51_000_000,
                33,
                "default",
                "older than 7 days",
            ),
            row(
                2,
                "miker-web-0.4.2.tgz",
                47_000,
                31,
                "*.tgz",
                "older than 14 days",
            ),
        ]);
        s.tmp.summary = vec!["/ws/tmp: 3 entries, 232 MiB (Delete)".into()];
        s.tmp.skip.insert(1);
        s.tmp.selected = 1;
        s.overlay = Some(Overlay::Tmp);
        s
    });
    snap("feishu_view", || {
        let mut s = demo_state();
        s.feishu.lines = Some(vec![
            "chat releases (oc_demo_releases) ← release-managers: 3 now, 2 wanted".into(),
            "  + frank (Frank Wu)".into(),
            "  - heidi (Heidi Xu)".into(),
            "unmatched (1):".into(),
            "  ? dave [platform]: no mapping entry and no verified-domain email".into(),
        ]);
        s.feishu.writes = 2;
        s.overlay = Some(Overlay::Feishu);
        s
    });
}

/// A promote whose source is Paused, with the candidate's gates in (one failed): the
/// confirmation lists each check with when it finished, warns about the source, and offers no
/// `y`. Then the release dialog's tag list with its headers and what went wrong with a tag.
#[test]
fn dialogs_show_gates_evidence_and_tag_history() {
    use shipdeck::app::state::CandidateGates;
    use shipdeck::services::github::{Gate, GateReport, GateState};
    use shipdeck::services::gitops::{EnvTag, KnownTag};
    let promote = || {
        let mut s = canary_state();
        // stg (Paused canary of 9f1c2ab) promotes into prod.
        let row = |env: &str, tag: &str| EnvTag {
            app: "miker-web".into(),
            env: env.into(),
            file: format!("{env}.yaml"),
            tag: Some(tag.into()),
            changed: None,
            problem: None,
        };
        update(
            &mut s,
            Action::GitSnapshot(Ok(vec![row("stg", "9f1c2ab"), row("prod", "71be0e3")])),
        );
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Promote);
        let done = jiff::Timestamp::from_second(1_790_000_000).unwrap();
        s.clock.now_ms = 1_790_000_300_000;
        let gate = |name: &str, state, secs| Gate {
            name: name.into(),
            state,
            duration_s: Some(secs),
            finished_at: Some(done),
            url: None,
            source: None,
            detail: None,
        };
        let report = GateReport {
            sha: "9f1c2ab0000000000000000000000000000000aa".into(),
            gates: vec![
                gate("lint", GateState::Passed, 42),
                gate("type-check", GateState::Passed, 65),
                gate("test", GateState::Passed, 312),
                gate("build", GateState::Passed, 201),
                gate("trivy", GateState::Failed, 33),
                gate("codeql", GateState::Passed, 95),
                gate("gitleaks", GateState::Passed, 12),
            ],
            summary: "6/7 passed, 1 failed".into(),
            all_passed: false,
            settled: true,
            fetched_at: done,
            refresh_after: None,
            rate_limited_until: None,
        };
        update(
            &mut s,
            Action::CandidateGates(CandidateGates {
                env: "prod".into(),
                tag: "9f1c2ab".into(),
                result: Ok(report),
            }),
        );
        s
    };
    snap("promote_confirm_gates_failed", promote);
    snap("release_dialog_tags", || {
        let mut s = demo_state();
        s.gitops = Feed::Live;
        if let Some(row) = s.envs.iter_mut().find(|r| r.name == "dev") {
            row.git_tag = Some("be5f196".into());
        }
        s.overlay = Some(shipdeck::app::Overlay::Release {
            app: "miker-web".into(),
            env: "dev".into(),
            input: String::new(),
            known: Some(vec![
                KnownTag {
                    tag: "be5f196".into(),
                    current_in: vec!["dev".into()],
                    last_seen: "2026-12-06T10:02:00Z".into(),
                    last_seen_unix: 1_796_292_120,
                    first_seen_unix: 1_796_292_120,
                    rolled_back_in: vec![],
                },
                KnownTag {
                    tag: "bad1234".into(),
                    current_in: vec![],
                    last_seen: "2026-12-05T16:40:00Z".into(),
                    last_seen_unix: 1_796_229_600,
                    first_seen_unix: 1_796_229_000,
                    rolled_back_in: vec!["stg".into()],
                },
                KnownTag {
                    tag: "71be0e3".into(),
                    current_in: vec!["stg".into(), "prod".into()],
                    last_seen: "2026-12-04T09:15:00Z".into(),
                    last_seen_unix: 1_796_116_500,
                    first_seen_unix: 1_796_000_000,
                    rolled_back_in: vec![],
                },
            ]),
            selected: Some(1),
            error: None,
        });
        s
    });
}

/// `b`: the env's history to pick the tag to go back to.
#[test]
fn rollback_dialog_lists_the_history() {
    use shipdeck::services::gitops::{CommitInfo, TagChange};
    snap("rollback_dialog", || {
        let mut s = demo_state();
        s.gitops = Feed::Live;
        s.envs[2].git_tag = Some("bad1234".into());
        let change = |tag: &str, prev: Option<&str>, time: &str, who: &str, action| TagChange {
            tag: tag.into(),
            previous: prev.map(str::to_owned),
            commit: CommitInfo {
                sha: format!("{tag}000000000000000000000000000000000"),
                short: tag.into(),
                author: who.into(),
                author_email: format!("{who}@example.com"),
                time: time.into(),
                unix: 0,
                subject: format!("release miker-web prod {tag}"),
            },
            action,
        };
        s.overlay = Some(shipdeck::app::Overlay::Rollback {
            app: "miker-web".into(),
            env: "prod".into(),
            history: Some(vec![
                change(
                    "bad1234",
                    Some("71be0e3"),
                    "2026-12-06T10:02:00Z",
                    "alice",
                    Some("release".into()),
                ),
                change(
                    "71be0e3",
                    Some("5d2e8a1"),
                    "2026-12-04T09:15:00Z",
                    "bob",
                    Some("promote".into()),
                ),
                change("5d2e8a1", None, "2026-12-01T08:00:00Z", "carol", None),
            ]),
            selected: 1,
            error: None,
        });
        s
    });
}

/// What stg → prod would bring, as GitHub compared it: the Environments note, the Changes
/// view (with a care label highlighted and a filter), and the promote confirmation's lines.
pub(crate) fn changes_state() -> State {
    use shipdeck::services::github::{
        ChangeSummary, CompareStatus, LabelCount, LineKind, SummaryLine,
    };
    use shipdeck::services::gitops::EnvTag;
    let mut s = demo_state();
    s.gitops = Feed::Live;
    s.github = Feed::Live;
    let row = |env: &str, tag: &str| EnvTag {
        app: "miker-web".into(),
        env: env.into(),
        file: format!("{env}.yaml"),
        tag: Some(tag.into()),
        changed: None,
        problem: None,
    };
    update(
        &mut s,
        Action::GitSnapshot(Ok(vec![
            row("dev", "be5f196"),
            row("stg", "9f1c2ab"),
            row("prod", "71be0e3"),
        ])),
    );
    let line = |kind, id: &str, title: &str, author: &str, labels: &[&str]| SummaryLine {
        kind,
        id: id.into(),
        title: title.into(),
        author: Some(author.into()),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        url: Some(format!("https://github.example/miker-org/miker/{id}")),
    };
    let summary = ChangeSummary {
        headline: "12 commits, 3 PRs ahead".into(),
        status: CompareStatus::Ahead,
        commits: 12,
        pull_requests: 3,
        behind: 0,
        not_listed: 0,
        taken_out: false,
        authors: vec!["alice".into(), "bob".into(), "carol".into()],
        labels: vec![
            LabelCount {
                label: "feature".into(),
                pull_requests: vec![482, 490],
            },
            LabelCount {
                label: "migration".into(),
                pull_requests: vec![490],
            },
        ],
        care: vec![],
        lines: vec![
            line(
                LineKind::PullRequest,
                "#482",
                "Checkout: pay by invoice",
                "alice",
                &["feature"],
            ),
            line(
                LineKind::PullRequest,
                "#490",
                "orders: add the invoice_due column",
                "bob",
                &["feature", "migration"],
            ),
            line(
                LineKind::PullRequest,
                "#491",
                "Fix the basket badge count",
                "carol",
                &[],
            ),
            line(
                LineKind::Commit,
                "3c9b7f0",
                "ci: cache the cargo registry",
                "bob",
                &[],
            ),
        ],
        more: 0,
        compare_url: Some(
            "https://github.example/miker-org/miker/compare/71be0e3...9f1c2ab".into(),
        ),
    };
    update(
        &mut s,
        Action::ChangesLoaded {
            base_tag: "71be0e3".into(),
            head_tag: "9f1c2ab".into(),
            result: Ok(summary),
        },
    );
    cmd(&mut s, Command::Down);
    s
}

#[test]
fn changes_between_envs_in_the_panel_the_view_and_the_promote() {
    snap("changes_env_note", changes_state);
    snap("changes_view", || {
        let mut s = changes_state();
        cmd(&mut s, Command::Changes);
        cmd(&mut s, Command::Down);
        s
    });
    snap("changes_view_filtered", || {
        let mut s = changes_state();
        cmd(&mut s, Command::Changes);
        cmd(&mut s, Command::Filter);
        for c in "bob".chars() {
            update(&mut s, Action::Input(c));
        }
        s
    });
    snap("changes_promote_confirm", || {
        let mut s = changes_state();
        cmd(&mut s, Command::Down);
        cmd(&mut s, Command::Promote);
        s
    });
}

/// Argo CD's say on each env: `↻` auto-sync on (dev, stg), prod off with a deny window open
/// now (`⊘`), the selected env's policy and window spelled out, and the sync dialog.
#[test]
fn argocd_policy_and_windows_in_environments_and_the_sync_dialog() {
    use shipdeck::services::kube::LiveEvent;
    use shipdeck::services::kube::model::Automated;
    use shipdeck::services::kube::syncwindow::SyncWindow;
    let make = || {
        let mut s = demo_state();
        s.gitops = Feed::Live;
        s.cluster = Feed::Live;
        s.clock.now_ms = 1_796_649_600_000; // 2026-12-07T13:20:00Z
        for (env, tag) in [("dev", "9f1c2ab"), ("stg", "9f1c2ab"), ("prod", "71be0e3")] {
            if let Some(row) = s.envs.iter_mut().find(|r| r.name == env) {
                row.git_tag = Some(tag.into());
            }
            for mut event in live_env(env, tag, "Synced", "Healthy") {
                if let LiveEvent::ArgoCd { apps, .. } = &mut event
                    && let Some(Some(a)) = apps.get_mut("miker-web")
                {
                    a.revision = "a8baf17c0ffee".into();
                    if env == "prod" {
                        a.windows = vec![SyncWindow {
                            kind: "deny".into(),
                            schedule: "0 13 * * *".into(),
                            duration: "2h".into(),
                            applications: vec!["*-prod".into()],
                            manual_sync: true,
                            ..SyncWindow::default()
                        }];
                    } else {
                        a.auto_sync = Some(Automated {
                            prune: env == "dev",
                            self_heal: true,
                        });
                    }
                }
                s.live.apply(event);
            }
        }
        while s.selected_env().unwrap().name != "prod" {
            cmd(&mut s, Command::Down);
        }
        s
    };
    snap("argocd_environments", make);
    snap("argocd_sync_dialog", || {
        let mut s = make();
        cmd(&mut s, Command::Sync);
        s
    });
}

/// The SLO block under a canary: canary beside stable per metric, one scale per metric, the
/// canary's p99 and error rate over their thresholds marked, and the last read's failure said
/// beside the older report it keeps.
#[test]
fn slo_canary_beside_stable_with_a_breach_and_a_stale_read() {
    use shipdeck::app::slo::SloEntry;
    use shipdeck::services::prometheus::{Metric, Point, RoleReading, SloMetric, SloReport};
    let reading = |now: f64, series: &[f64], breached: bool| RoleReading {
        current: Some(now),
        series: series
            .iter()
            .zip(0u32..)
            .map(|(v, i)| Point {
                t: f64::from(i) * 15.0,
                v: *v,
            })
            .collect(),
        breached,
    };
    let metric = |metric, threshold, canary: RoleReading, stable: RoleReading| SloMetric {
        metric,
        unit: metric.unit(),
        threshold,
        breached: canary.breached || stable.breached,
        canary,
        stable,
    };
    let report = SloReport {
        app: "miker-web".into(),
        env: "stg".into(),
        namespace: "miker-stg".into(),
        endpoint: "http://127.0.0.1:9090".into(),
        at: 1_796_649_590.0,
        since: Some(1_796_649_000.0),
        step_secs: Some(15),
        metrics: vec![
            metric(
                Metric::ErrorRate,
                Some(0.01),
                reading(0.06, &[0.001, 0.01, 0.03, 0.05, 0.06], true),
                reading(0.001, &[0.001, 0.001, f64::NAN, 0.001, 0.001], false),
            ),
            metric(
                Metric::P50,
                None,
                reading(310.0, &[60.0, 120.0, 250.0, 300.0, 310.0], false),
                reading(48.0, &[50.0, 49.0, 48.0, 47.0, 48.0], false),
            ),
            metric(
                Metric::P90,
                None,
                reading(640.0, &[100.0, 300.0, 500.0, 600.0, 640.0], false),
                reading(130.0, &[130.0, 131.0, 129.0, 130.0, 130.0], false),
            ),
            metric(
                Metric::P99,
                Some(500.0),
                reading(1210.0, &[200.0, 600.0, 900.0, 1100.0, 1210.0], true),
                reading(190.0, &[180.0, 185.0, 190.0, 188.0, 190.0], false),
            ),
        ],
        breached: true,
        queries: 16,
        elapsed_ms: 24,
    };
    snap("slo_breach", || {
        let mut s = canary_state();
        s.clock.now_ms = 1_796_649_600_000;
        s.slo.configured = true;
        s.slo.entries.insert(
            ("miker-web".into(), "stg".into()),
            SloEntry {
                report: Some(report.clone()),
                error: Some(
                    "Prometheus at http://127.0.0.1:9090 did not answer within 15 s".into(),
                ),
                ..SloEntry::default()
            },
        );
        s
    });
}
