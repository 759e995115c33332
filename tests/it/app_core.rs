//! The pure core without a terminal: keymap resolution and `update` transitions.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use shipdeck::app::keymap::{InputMode, Key, KeyName};
use shipdeck::app::tasks::TaskOutcome;
use shipdeck::app::{Action, Command, Effect, Keymap, Overlay, Panel, State, update};
use shipdeck::inventory::Inventory;
use shipdeck::services::Progress;

pub fn demo_state() -> State {
    let dir = tempfile::tempdir().unwrap();
    let ws =
        shipdeck::demo::prepare(Some(dir.path()), &shipdeck::demo::Endpoints::default()).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut s = State::new(&inv, "demo", Keymap::default());
    s.size = (120, 40);
    s.clock.hhmm = "13:02".into();
    s.clock.zone = Some(jiff::tz::TimeZone::UTC);
    s
}

fn key(code: KeyCode, mods: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, mods))
}

fn cmd(s: &mut State, c: Command) -> Vec<Effect> {
    update(s, Action::Command(c))
}

#[test]
fn default_keymap_binds_every_product_key() {
    let km = Keymap::default();
    let r = |code, mods| km.resolve(&key(code, mods), InputMode::Normal);
    let none = KeyModifiers::NONE;
    assert_eq!(
        r(KeyCode::Char('q'), none),
        Some(Action::Command(Command::Quit))
    );
    assert_eq!(
        r(KeyCode::Char('c'), KeyModifiers::CONTROL),
        Some(Action::Command(Command::Quit))
    );
    assert_eq!(
        r(KeyCode::Char('?'), none),
        Some(Action::Command(Command::Help))
    );
    assert_eq!(
        r(KeyCode::Char(':'), none),
        Some(Action::Command(Command::Palette))
    );
    assert_eq!(
        r(KeyCode::Tab, none),
        Some(Action::Command(Command::FocusNext))
    );
    assert_eq!(
        r(KeyCode::BackTab, KeyModifiers::SHIFT),
        Some(Action::Command(Command::FocusPrev))
    );
    assert_eq!(
        r(KeyCode::Char('z'), none),
        Some(Action::Command(Command::Zoom))
    );
    assert_eq!(
        r(KeyCode::Enter, none),
        Some(Action::Command(Command::Open))
    );
    // Shift is folded into the character: P is promote-full, p is promote.
    assert_eq!(
        r(KeyCode::Char('P'), KeyModifiers::SHIFT),
        Some(Action::Command(Command::PromoteFull))
    );
    assert_eq!(
        r(KeyCode::Char('p'), none),
        Some(Action::Command(Command::Promote))
    );
    for (c, want) in [
        ('r', Command::Release),
        ('a', Command::Abort),
        ('R', Command::Retry),
        ('b', Command::Rollback),
        ('s', Command::Secrets),
        ('t', Command::Tmp),
        ('f', Command::Feishu),
    ] {
        assert_eq!(
            r(KeyCode::Char(c), none),
            Some(Action::Command(want)),
            "{c}"
        );
    }
    assert_eq!(r(KeyCode::Char('x'), none), None);
}

#[test]
fn text_mode_turns_characters_into_input_not_commands() {
    let km = Keymap::default();
    let r = |ev: Event| km.resolve(&ev, InputMode::Text);
    assert_eq!(
        r(key(KeyCode::Char('q'), KeyModifiers::NONE)),
        Some(Action::Input('q'))
    );
    assert_eq!(
        r(key(KeyCode::Enter, KeyModifiers::NONE)),
        Some(Action::Submit)
    );
    assert_eq!(
        r(key(KeyCode::Backspace, KeyModifiers::NONE)),
        Some(Action::Backspace)
    );
    assert_eq!(
        r(key(KeyCode::Esc, KeyModifiers::NONE)),
        Some(Action::Command(Command::Cancel))
    );
}

#[test]
fn user_overrides_win_and_bad_keys_are_refused() {
    let km = Keymap::with_overrides("x: release\nr: help\n").unwrap();
    assert_eq!(
        km.command(&Key::parse("x").unwrap()),
        Some(Command::Release)
    );
    assert_eq!(km.command(&Key::parse("r").unwrap()), Some(Command::Help));
    assert_eq!(km.command(&Key::parse("q").unwrap()), Some(Command::Quit));
    assert!(
        Keymap::with_overrides("nope-key: quit\n").is_err(),
        "unknown key names are refused"
    );
    assert!(
        Keymap::from_yaml("q: explode\n").is_err(),
        "unknown action names are refused"
    );
    assert_eq!(
        Key::parse("ctrl-alt-x").unwrap(),
        Key {
            code: KeyName::Char('x'),
            ctrl: true,
            alt: true
        }
    );
    assert_eq!(Key::parse("f5").unwrap().code, KeyName::F(5));
}

#[test]
fn mouse_and_resize_become_actions() {
    let km = Keymap::default();
    let click = Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 70,
        row: 3,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(
        km.resolve(&click, InputMode::Normal),
        Some(Action::Click { column: 70, row: 3 })
    );
    assert_eq!(
        km.resolve(&Event::Resize(80, 24), InputMode::Normal),
        Some(Action::Resize {
            width: 80,
            height: 24
        })
    );
}

#[test]
fn focus_cycles_both_ways_and_zoom_toggles() {
    let mut s = demo_state();
    assert_eq!(s.focus, Panel::Environments);
    for want in [
        Panel::Rollout,
        Panel::Gates,
        Panel::Runners,
        Panel::Activity,
        Panel::Environments,
    ] {
        cmd(&mut s, Command::FocusNext);
        assert_eq!(s.focus, want);
    }
    cmd(&mut s, Command::FocusPrev);
    assert_eq!(s.focus, Panel::Activity);
    cmd(&mut s, Command::Zoom);
    assert!(s.zoomed);
    cmd(&mut s, Command::Cancel);
    assert!(!s.zoomed, "esc leaves zoom when nothing else is open");
}

/// A click as the driver hands it to the core: resolved against the layout first.
fn click(s: &mut State, a: Action) {
    let a = shipdeck::driver::resolve_click(s, a);
    update(s, a);
}

#[test]
fn click_focuses_the_panel_under_the_cursor() {
    let mut s = demo_state();
    // 120×40: the Rollout panel is top right, Runners middle right, Activity at the bottom
    // (three rows high while it is empty).
    click(
        &mut s,
        Action::Click {
            column: 100,
            row: 3,
        },
    );
    assert_eq!(s.focus, Panel::Rollout);
    click(
        &mut s,
        Action::Click {
            column: 100,
            row: 20,
        },
    );
    assert_eq!(s.focus, Panel::Runners);
    click(
        &mut s,
        Action::Click {
            column: 10,
            row: 37,
        },
    );
    assert_eq!(s.focus, Panel::Activity);
    click(&mut s, Action::Click { column: 10, row: 3 });
    assert_eq!(s.focus, Panel::Environments);
}

#[test]
fn quit_is_immediate_when_idle_and_asks_while_a_task_runs() {
    let mut s = demo_state();
    assert_eq!(cmd(&mut s, Command::Quit), vec![Effect::Quit]);

    let mut s = demo_state();
    s.tasks.start("release miker-web stg", 0);
    let fx = cmd(&mut s, Command::Quit);
    assert!(!fx.contains(&Effect::Quit));
    assert_eq!(s.overlay, Some(Overlay::ConfirmQuit));
    cmd(&mut s, Command::Cancel);
    assert_eq!(s.overlay, None, "n/esc stays");
    cmd(&mut s, Command::Quit);
    assert!(update(&mut s, Action::Submit).contains(&Effect::Quit));
    // SIGTERM does not ask.
    let mut s = demo_state();
    s.tasks.start("x", 0);
    assert!(update(&mut s, Action::Terminate).contains(&Effect::Quit));
}

#[test]
fn esc_cancels_the_newest_running_task() {
    let mut s = demo_state();
    let first = s.tasks.start("first", 0);
    let second = s.tasks.start("second", 0);
    assert!(cmd(&mut s, Command::Cancel).contains(&Effect::CancelTask(second)));
    assert!(cmd(&mut s, Command::Cancel).contains(&Effect::CancelTask(first)));
    assert!(
        !cmd(&mut s, Command::Cancel)
            .iter()
            .any(|e| matches!(e, Effect::CancelTask(_)))
    );
}

#[test]
fn task_progress_and_result_reach_the_activity_log() {
    let mut s = demo_state();
    s.clock.now_ms = 1_000;
    let id = s.tasks.start("release miker-web stg", 1_000);
    let fx = update(
        &mut s,
        Action::TaskProgress {
            id,
            progress: Progress {
                done: 1,
                total: Some(2),
                note: "pushing".into(),
            },
        },
    );
    assert!(
        fx.contains(&Effect::SetTicking(true)),
        "a running task ticks the clock"
    );
    assert_eq!(
        s.tasks
            .running()
            .next()
            .unwrap()
            .progress
            .as_ref()
            .unwrap()
            .note,
        "pushing"
    );
    s.clock.now_ms = 3_500;
    let fx = update(
        &mut s,
        Action::TaskFinished {
            id,
            outcome: TaskOutcome::Done("release miker-web stg 9f1c2ab: pushed 4e1d".into()),
        },
    );
    assert!(
        fx.contains(&Effect::SetTicking(false)),
        "idle again: no timer"
    );
    assert!(!s.tasks.any_running());
    let last = s.activity.last().unwrap();
    assert_eq!(last.time, "13:02");
    assert_eq!(
        last.text,
        "release miker-web stg 9f1c2ab: pushed 4e1d (2.5 s)"
    );
    assert!(!last.failed);

    let id = s.tasks.start("rotate secrets", 0);
    update(
        &mut s,
        Action::TaskFinished {
            id,
            outcome: TaskOutcome::Failed("MAC mismatch".into()),
        },
    );
    assert!(s.activity.last().unwrap().failed);
    assert!(
        s.activity
            .last()
            .unwrap()
            .text
            .contains("rotate secrets: failed: MAC mismatch")
    );
}

#[test]
fn idle_ticks_do_not_redraw() {
    let mut s = demo_state();
    s.dirty = false;
    update(&mut s, Action::Tick);
    assert!(!s.dirty, "nothing time-dependent on screen");
    s.tasks.start("x", 0);
    update(&mut s, Action::Tick);
    assert!(s.dirty);
}

#[test]
fn palette_filters_fuzzily_and_runs_the_selection() {
    let mut s = demo_state();
    cmd(&mut s, Command::Palette);
    assert_eq!(s.input_mode(), InputMode::Text);
    for c in "rlbk".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(s.palette_matches("rlbk").first(), Some(&Command::Rollback));
    update(&mut s, Action::Backspace);
    update(&mut s, Action::Input('k'));
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Up);
    let Some(Overlay::Palette { selected, .. }) = s.overlay else {
        panic!("palette open")
    };
    assert_eq!(selected, 0);
    update(&mut s, Action::Submit);
    assert_eq!(s.overlay, None);
    // Rollback needs the GitOps engine; without it the user is told, not shown a fake result.
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .starts_with("rollback: not connected"),
        "{:?}",
        s.status
    );
    // Everything is reachable from an empty query.
    // (The views' own keys are not offered on the main screen.)
    let main = Command::ALL.iter().filter(|c| !c.view_only()).count();
    assert_eq!(s.palette_matches("").len(), main);
    assert!(s.palette_matches("zzzzqqq").is_empty());
}

#[test]
fn read_only_refuses_writes_before_anything_else() {
    let mut s = demo_state();
    s.read_only = shipdeck::ops::read_only_reason(true, None);
    cmd(&mut s, Command::Release);
    assert_eq!(
        s.status.as_deref(),
        Some("release: read-only: writes are disabled (--read-only)")
    );
}

#[test]
fn selection_moves_within_bounds() {
    let mut s = demo_state();
    cmd(&mut s, Command::Up);
    assert_eq!(s.selected_env, 0);
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Down);
    assert_eq!(s.selected_env, 2);
    assert_eq!(s.selected_env().unwrap().name, "prod");
}

#[test]
fn help_lists_every_command_with_its_keys() {
    use shipdeck::app::keymap::View;
    let s = demo_state();
    let in_views: Vec<Command> = [
        View::Secrets,
        View::Tmp,
        View::Feishu,
        View::Changes,
        View::Logs,
        View::Timeline,
        View::Fleet,
    ]
    .into_iter()
    .flat_map(|v| s.keymap.view_keys(v))
    .map(|(_, c)| c)
    .collect();
    for c in Command::ALL {
        assert!(!c.describe().is_empty());
        if c.view_only() {
            assert!(in_views.contains(c), "{} has no key in any view", c.name());
        } else if !matches!(c, Command::OpenLink | Command::App | Command::Env) {
            // `app` and `env` take a name: the palette is their place (`:app miker-api`).
            assert!(!s.keymap.keys_for(*c).is_empty(), "{} has no key", c.name());
        }
    }
}

/// Twenty releases in a row: every snapshot and every gates report re-schedules its timer,
/// and a key replaces the timer it names, so one git refresh and one gates refresh per env's
/// commit are left, never a stack of them.
#[test]
fn twenty_releases_leave_one_timer_per_key() {
    use shipdeck::app::TimerKey;
    use shipdeck::services::gitops::EnvTag;
    let mut s = demo_state();
    s.github = shipdeck::app::state::Feed::Live;
    let mut timers: std::collections::BTreeMap<TimerKey, Action> =
        std::collections::BTreeMap::new();
    let collect = |effects: Vec<Effect>,
                   timers: &mut std::collections::BTreeMap<TimerKey, Action>| {
        let mut fetches = Vec::new();
        for e in effects {
            match e {
                Effect::Schedule { key, action, .. } => {
                    timers.insert(key, *action);
                }
                Effect::FetchGates { env, tag, .. } => fetches.push((env, tag)),
                _ => {}
            }
        }
        fetches
    };
    let tag = |app: &str, env: &str, t: &str| EnvTag {
        app: app.into(),
        env: env.into(),
        file: format!("{env}.yaml"),
        tag: Some(t.into()),
        changed: None,
        problem: None,
    };
    for i in 0..20 {
        let dev = format!("{i:07x}");
        let snapshot = vec![
            tag("miker-web", "dev", &dev),
            tag("miker-web", "stg", "9f1c2ab"),
            tag("miker-web", "prod", "71be0e3"),
        ];
        let effects = update(&mut s, Action::GitSnapshot(Ok(snapshot)));
        let fetches = collect(effects, &mut timers);
        // The driver runs each fetch; the report asks to be refreshed in a while.
        for (env, tag) in fetches {
            let report = shipdeck::services::github::GateReport {
                sha: format!("{tag}0000000000000000000000000000000000"),
                gates: Vec::new(),
                summary: "1 running".into(),
                all_passed: false,
                settled: false,
                fetched_at: jiff::Timestamp::now(),
                refresh_after: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(15)),
                rate_limited_until: None,
            };
            let effects = update(
                &mut s,
                Action::GatesLoaded {
                    env,
                    tag,
                    result: Ok(report),
                },
            );
            collect(effects, &mut timers);
        }
        // The git refresh the push asks for.
        collect(update(&mut s, Action::RefreshGit), &mut timers);
    }
    let keys: Vec<&TimerKey> = timers.keys().collect();
    assert_eq!(
        keys,
        vec![
            &TimerKey::GitRef,
            &TimerKey::Gates { env: "dev".into() },
            &TimerKey::Gates { env: "prod".into() },
            &TimerKey::Gates { env: "stg".into() },
        ]
    );
}

/// An abort (or a rollback) of a release in flight is one event: the abort's card. The release
/// stops waiting to be settled, so its Degraded end does not also send "Release failed".
#[test]
fn an_abort_settles_the_release_it_ends() {
    use shipdeck::app::state::Confirmed;
    use shipdeck::services::kube::actions::RolloutAction;
    let mut s = demo_state();
    let key = ("miker-web".to_owned(), "stg".to_owned());
    s.in_flight.insert(
        key.clone(),
        ("71be0e3".into(), "9f1c2ab".into(), "alice".into()),
    );
    let ask_abort = |s: &mut State| {
        s.overlay = Some(Overlay::Confirm {
            title: "abort miker-web in stg".into(),
            lines: Vec::new(),
            typed: None,
            input: String::new(),
            then: Confirmed::Rollout {
                app: "miker-web".into(),
                env: "stg".into(),
                action: RolloutAction::Abort,
            },
        });
    };
    ask_abort(&mut s);
    let effects = update(&mut s, Action::Submit);
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::RolloutAction {
                action: RolloutAction::Abort,
                ..
            }
        )),
        "{effects:?}"
    );
    assert!(!s.in_flight.contains_key(&key));
    // Another env's release is still followed.
    s.in_flight.insert(
        ("miker-web".into(), "dev".into()),
        ("a".into(), "b".into(), "alice".into()),
    );
    ask_abort(&mut s);
    update(&mut s, Action::Submit);
    assert_eq!(s.in_flight.len(), 1);
}

/// A status message gives way to the next and goes by itself after a while; a task's result
/// shows there as well as in Activity.
#[test]
fn status_messages_expire_and_results_show_in_the_status_line() {
    use shipdeck::app::TimerKey;
    let mut s = demo_state();
    s.read_only = shipdeck::ops::read_only_reason(true, None);
    let expiry = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::Schedule {
                key: TimerKey::Status,
                action,
                ..
            } => Some((**action).clone()),
            _ => None,
        })
    };
    let first = expiry(&cmd(&mut s, Command::Release)).expect("an expiry for the first message");
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .starts_with("release: read-only")
    );
    let second = expiry(&cmd(&mut s, Command::Abort)).expect("an expiry for the second");
    // The first message's expiry does not clear the second.
    update(&mut s, first);
    assert!(s.status.as_deref().unwrap().starts_with("abort: read-only"));
    update(&mut s, second);
    assert_eq!(s.status, None);
    // A finished task speaks in the status line too.
    let id = s.tasks.start("release miker-web dev abc1234", 0);
    update(
        &mut s,
        Action::TaskFinished {
            id,
            outcome: TaskOutcome::Done("release miker-web dev: pushed 4e1d".into()),
        },
    );
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .starts_with("release miker-web dev: pushed 4e1d"),
        "{:?}",
        s.status
    );
}

/// Git says one tag, the cluster runs another: not drift while a sync may be under way, drift
/// (with its direction) once the grace has passed, and nothing once they agree again.
#[test]
fn drift_is_shown_only_after_its_grace() {
    use shipdeck::services::gitops::EnvTag;
    use shipdeck::services::kube::info::{ReplicaSetInfo, RevisionInfo};
    use shipdeck::services::kube::{LiveEvent, RolloutInfo};
    let mut s = demo_state();
    s.clock.now_ms = 1_000_000;
    let git = |tag: &str| {
        Action::GitSnapshot(Ok(vec![EnvTag {
            app: "miker-web".into(),
            env: "dev".into(),
            file: "dev.yaml".into(),
            tag: Some(tag.into()),
            changed: None,
            problem: None,
        }]))
    };
    let live = |tag: &str| {
        let info = RolloutInfo {
            status: "Progressing".into(),
            revisions: vec![RevisionInfo {
                revision: 2,
                replica_sets: vec![ReplicaSetInfo {
                    uid: "rs".into(),
                    replicas: 1,
                    images: vec![format!("harbor.sandbox.local/miker/miker-web:{tag}")],
                    ..ReplicaSetInfo::default()
                }],
                ..RevisionInfo::default()
            }],
            ..RolloutInfo::default()
        };
        Action::Live(LiveEvent::Rollouts {
            env: "dev".into(),
            rollouts: std::collections::BTreeMap::from([("miker-web".to_owned(), Some(info))]),
        })
    };
    update(&mut s, live("71be0e3"));
    let fx = update(&mut s, git("9f1c2ab"));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Schedule {
                key: shipdeck::app::TimerKey::Drift { .. },
                after_ms: 30_000,
                ..
            }
        )),
        "{fx:?}"
    );
    assert_eq!(
        s.drift("miker-web", "dev"),
        None,
        "within the grace: a sync in progress"
    );
    s.clock.now_ms += 30_000;
    assert_eq!(
        s.drift("miker-web", "dev"),
        Some("git ahead (Argo CD syncing)")
    );
    update(&mut s, live("9f1c2ab"));
    assert_eq!(s.drift("miker-web", "dev"), None);
    assert!(s.drift_since.is_empty());
}

/// The clock ticks only while something on screen reads differently with time (here a
/// runner's age), and stops when nothing does: an idle screen draws nothing.
#[test]
fn the_clock_ticks_only_while_time_is_on_screen() {
    use shipdeck::services::kube::LiveEvent;
    use shipdeck::services::kube::runners::{RunnerInfo, ScaleSetInfo};
    let mut s = demo_state();
    assert!(
        !update(
            &mut s,
            Action::Resize {
                width: 120,
                height: 40
            }
        )
        .contains(&Effect::SetTicking(true))
    );
    let runners = |n: usize| {
        Action::Live(LiveEvent::Runners {
            served: Vec::new(),
            sets: vec![ScaleSetInfo {
                name: "miker-runners".into(),
                runners: (0..n)
                    .map(|i| RunnerInfo {
                        name: format!("runner-{i}"),
                        phase: "Running".into(),
                        created: Some(jiff::Timestamp::now()),
                        ..RunnerInfo::default()
                    })
                    .collect(),
                ..ScaleSetInfo::default()
            }],
        })
    };
    assert!(update(&mut s, runners(1)).contains(&Effect::SetTicking(true)));
    s.dirty = false;
    update(&mut s, Action::Tick);
    assert!(s.dirty, "a tick redraws while an age is on screen");
    // Zoomed on another panel, the ages are off screen: the clock stops.
    s.zoomed = true;
    assert!(update(&mut s, Action::Resumed).contains(&Effect::SetTicking(false)));
    s.dirty = false;
    update(&mut s, Action::Tick);
    assert!(!s.dirty);
}

/// A dialog that acts on git asks the remote as it opens, and a promote's confirmation closes
/// when either env it names moved meanwhile (the source's tag is what it would write).
#[test]
fn dialogs_ask_git_as_they_open_and_close_when_git_moved() {
    use shipdeck::services::gitops::EnvTag;
    let snapshot = |dev: &str, stg: &str| {
        let row = |env: &str, tag: &str| EnvTag {
            app: "miker-web".into(),
            env: env.into(),
            file: format!("{env}.yaml"),
            tag: Some(tag.into()),
            changed: None,
            problem: None,
        };
        Action::GitSnapshot(Ok(vec![row("dev", dev), row("stg", stg)]))
    };
    let mut s = demo_state();
    update(&mut s, snapshot("9f1c2ab", "71be0e3"));
    cmd(&mut s, Command::Down);
    let fx = update(&mut s, Action::Command(Command::Promote));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::CheckGitRef)),
        "{fx:?}"
    );
    assert!(
        matches!(s.overlay, Some(Overlay::Confirm { .. })),
        "{:?}",
        s.overlay
    );
    // dev (the source) moved on: promoting would write a tag nobody confirmed.
    update(&mut s, snapshot("be5f196", "71be0e3"));
    assert!(s.overlay.is_none(), "{:?}", s.overlay);
    assert_eq!(
        s.status.as_deref(),
        Some("miker-web dev changed in git meanwhile (now be5f196): look again")
    );
    for c in [Command::Release, Command::Rollback] {
        s.overlay = None;
        let fx = update(&mut s, Action::Command(c));
        assert!(
            fx.iter().any(|e| matches!(e, Effect::CheckGitRef)),
            "{c:?}: {fx:?}"
        );
    }
}

#[test]
fn palette_takes_arguments_and_ctrl_u_clears_it() {
    use shipdeck::services::gitops::EnvTag;
    let mut s = demo_state();
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
        Action::GitSnapshot(Ok(vec![row("dev", "9f1c2ab"), row("stg", "71be0e3")])),
    );
    // The first word is matched; letters scattered over a description are no match.
    assert!(
        !s.palette_matches("api").contains(&Command::Rollback),
        "{:?}",
        s.palette_matches("api")
    );
    assert_eq!(
        s.palette_matches("app miker-api").first(),
        Some(&Command::App)
    );
    assert_eq!(s.palette_matches("env").first(), Some(&Command::Env));
    assert_eq!(s.palette_matches("tidy").first(), Some(&Command::Tmp));

    // ctrl-u empties the query, as in a shell.
    cmd(&mut s, Command::Palette);
    for c in "rollbak".chars() {
        update(&mut s, Action::Input(c));
    }
    let ctrl_u = s.keymap.resolve(
        &key(KeyCode::Char('u'), KeyModifiers::CONTROL),
        s.input_mode(),
    );
    assert_eq!(ctrl_u, Some(Action::ClearInput));
    update(&mut s, ctrl_u.unwrap());
    assert!(
        matches!(&s.overlay, Some(Overlay::Palette { query, .. }) if query.is_empty()),
        "{:?}",
        s.overlay
    );

    // `env prod` selects prod; the palette says so before enter.
    for c in "env prod".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(
        s.palette_preview("env prod", 0),
        Ok("select prod of miker-web".to_owned())
    );
    update(&mut s, Action::Submit);
    assert_eq!(s.overlay, None);
    assert_eq!(s.selected_env().unwrap().name, "prod");

    // A name that is no env keeps the palette open and lists the ones there are.
    cmd(&mut s, Command::Palette);
    for c in "env qa".chars() {
        update(&mut s, Action::Input(c));
    }
    update(&mut s, Action::Submit);
    assert!(matches!(s.overlay, Some(Overlay::Palette { .. })));
    assert_eq!(
        s.status.as_deref(),
        Some("no env `qa`: dev, stg, prod"),
        "{:?}",
        s.status
    );
    update(&mut s, Action::ClearInput);

    // `release stg be5f196`: stg selected, the tag taken, straight to the confirmation.
    for c in "release stg be5f196".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(
        s.palette_preview("release stg be5f196", 0),
        Ok("release be5f196 on stg of miker-web".to_owned())
    );
    update(&mut s, Action::Submit);
    assert_eq!(s.selected_env().unwrap().name, "stg");
    let Some(Overlay::Confirm { lines, .. }) = &s.overlay else {
        panic!("a confirmation: {:?}", s.overlay)
    };
    assert!(lines[0].contains("71be0e3 → be5f196"), "{lines:?}");

    // Arguments a command does not take are refused with its usage.
    s.overlay = None;
    cmd(&mut s, Command::Palette);
    for c in "secrets prod".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(
        s.palette_preview("secrets prod", 0),
        Err("secrets takes no arguments".to_owned())
    );
    // `app` with nothing after it asks for the name in the palette, listing the apps.
    s.overlay = None;
    cmd(&mut s, Command::App);
    assert!(
        matches!(&s.overlay, Some(Overlay::Palette { query, .. }) if query == "app "),
        "{:?}",
        s.overlay
    );
    let preview = s.palette_preview("app ", 0).unwrap();
    assert!(preview.starts_with("app NAME: miker-web"), "{preview}");
}

/// Failing gates offer no yes: enter asks for an override reason where the env allows one,
/// and otherwise keeps the confirmation and says why. A Paused source makes the promote typed,
/// and a release of an older build says it is a downgrade.
#[test]
fn confirmations_follow_the_gates_the_source_and_the_build_order() {
    use shipdeck::app::state::CandidateGates;
    use shipdeck::services::github::{Gate, GateReport, GateState};
    use shipdeck::services::gitops::{EnvTag, KnownTag};
    use shipdeck::services::kube::{LiveEvent, RolloutInfo};
    let mut s = demo_state();
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
        Action::GitSnapshot(Ok(vec![row("dev", "9f1c2ab"), row("stg", "71be0e3")])),
    );
    update(
        &mut s,
        Action::Live(LiveEvent::Rollouts {
            env: "dev".into(),
            rollouts: std::collections::BTreeMap::from([(
                "miker-web".to_owned(),
                Some(RolloutInfo {
                    status: "Paused".into(),
                    ..RolloutInfo::default()
                }),
            )]),
        }),
    );
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Promote);
    let Some(Overlay::Confirm { typed, lines, .. }) = &s.overlay else {
        panic!("a confirmation: {:?}", s.overlay)
    };
    assert_eq!(typed.as_deref(), Some("stg"), "a Paused source is typed");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("⚠ dev is not a clean source: its canary is Paused")),
        "{lines:?}"
    );
    let failed = GateReport {
        sha: "9f1c2ab0000000000000000000000000000000aa".into(),
        gates: vec![Gate {
            name: "test".into(),
            state: GateState::Failed,
            duration_s: Some(30),
            finished_at: None,
            url: None,
            source: None,
            detail: None,
        }],
        summary: "1/2 passed, 1 failed".into(),
        all_passed: false,
        settled: true,
        fetched_at: jiff::Timestamp::UNIX_EPOCH,
        refresh_after: None,
        rate_limited_until: None,
    };
    update(
        &mut s,
        Action::CandidateGates(CandidateGates {
            env: "stg".into(),
            tag: "9f1c2ab".into(),
            result: Ok(failed),
        }),
    );
    for c in "stg".chars() {
        update(&mut s, Action::Input(c));
    }
    let fx = update(&mut s, Action::Submit);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::GitChange { .. })),
        "{fx:?}"
    );
    assert!(matches!(s.overlay, Some(Overlay::Confirm { .. })));
    assert!(
        s.status
            .as_deref()
            .is_some_and(|m| m.contains("not passed") && m.contains("allows no override")),
        "{:?}",
        s.status
    );
    s.envs[1].allow_override = true;
    update(&mut s, Action::Submit);
    assert!(
        matches!(&s.overlay, Some(Overlay::Reason { message, .. }) if message.contains("✘ test")),
        "{:?}",
        s.overlay
    );

    // An older build than the env runs: the release confirmation says so.
    s.overlay = None;
    cmd(&mut s, Command::Up);
    cmd(&mut s, Command::Release);
    let known = |tag: &str, first: i64| KnownTag {
        tag: tag.into(),
        current_in: vec![],
        last_seen: String::new(),
        last_seen_unix: first,
        first_seen_unix: first,
        rolled_back_in: vec![],
    };
    update(
        &mut s,
        Action::KnownTags {
            app: "miker-web".into(),
            result: Ok(vec![
                known("9f1c2ab", 2_000_000),
                known("71be0e3", 1_000_000),
            ]),
        },
    );
    for c in "71be0e3".chars() {
        update(&mut s, Action::Input(c));
    }
    update(&mut s, Action::Submit);
    let Some(Overlay::Confirm { lines, .. }) = &s.overlay else {
        panic!("a confirmation: {:?}", s.overlay)
    };
    assert!(
        lines.iter().any(|l| l.starts_with(
            "⚠ downgrade: 71be0e3 first reached git 1970-01-12, before 9f1c2ab (1970-01-24)"
        )),
        "{lines:?}"
    );

    // From the palette the confirmation opens before the tag list lands: the warning joins it.
    s.overlay = None;
    cmd(&mut s, Command::Palette);
    for c in "release 71be0e3".chars() {
        update(&mut s, Action::Input(c));
    }
    update(&mut s, Action::Submit);
    assert!(matches!(s.overlay, Some(Overlay::Confirm { .. })));
    update(
        &mut s,
        Action::KnownTags {
            app: "miker-web".into(),
            result: Ok(vec![
                known("9f1c2ab", 2_000_000),
                known("71be0e3", 1_000_000),
            ]),
        },
    );
    let Some(Overlay::Confirm { lines, .. }) = &s.overlay else {
        panic!("still the confirmation: {:?}", s.overlay)
    };
    assert!(
        lines.iter().any(|l| l.starts_with("⚠ downgrade: 71be0e3")),
        "{lines:?}"
    );
}

/// Taking out the last recipient whose identity I hold is not a `y`: the confirmation warns
/// which files nobody here could open, and wants the recipient's last eight characters typed.
#[test]
fn removing_my_last_key_asks_for_its_fingerprint() {
    use shipdeck::app::state::Confirmed;
    use shipdeck::ops::secrets::SecretsChange;
    use shipdeck::services::secrets::ops::FileInfo;
    let mut s = demo_state();
    let me = "age1shnpxq0v2l5kz9m0n7c3ytwhp5x0de6q4fj9rt6u8yk3a2c5plc";
    let other = "age1q7r0wz4k9d2m8c5x3v6b1n0p4l7j2h5g8f3d6s9a0z2x5c8v1b4nq";
    let base = s.secrets_base.clone().unwrap();
    let file = |p: &str, recipients: &[&str]| FileInfo {
        path: base.join(p),
        format: None,
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        lastmodified: None,
        age_days: Some(1),
        stale: false,
        can_decrypt: true,
        mine: vec![me.to_owned()],
        rule: None,
        mac_only_encrypted: false,
        error: None,
    };
    s.secrets.rows = Some(vec![
        file("secrets/prod.enc.yaml", &[me, other]),
        file("secrets/stg.enc.yaml", &[me]),
    ]);
    s.overlay = Some(Overlay::Secrets);
    cmd(&mut s, Command::RemoveRecipient);
    for c in "shnpxq".chars() {
        update(&mut s, Action::Input(c));
    }
    update(&mut s, Action::Submit);
    let Some(Overlay::Confirm {
        typed,
        lines,
        then: Confirmed::Secrets { op, .. },
        ..
    }) = &s.overlay
    else {
        panic!("a confirmation: {:?}", s.overlay)
    };
    assert_eq!(typed.as_deref(), Some("3a2c5plc"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("⚠ it is the last key you hold for")),
        "{lines:?}"
    );
    assert!(
        matches!(op, SecretsChange::RemoveRecipient { force: true, .. }),
        "{op:?}"
    );
    // A wrong fingerprint is no yes.
    for c in "nope".chars() {
        update(&mut s, Action::Input(c));
    }
    let fx = update(&mut s, Action::Submit);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::SecretsBatch { .. })),
        "{fx:?}"
    );
    assert!(matches!(s.overlay, Some(Overlay::Confirm { .. })));
    for c in "3a2c5plc".chars() {
        update(&mut s, Action::Input(c));
    }
    let fx = update(&mut s, Action::Submit);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::SecretsBatch { .. })),
        "{fx:?}"
    );
}

/// `c` opens the Changes view of the selected env's promote pair and asks GitHub once; `/`
/// filters by author or text, esc drops the filter before it closes the view, and `o` opens
/// the row's link.
#[test]
fn the_changes_view_asks_once_filters_and_opens_links() {
    let mut s = crate::ui_snapshots::changes_state();
    // Pairs whose answer is in are not asked again; dev → stg (not in yet) was asked.
    s.overlay = None;
    let fx = cmd(&mut s, Command::Changes);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::LoadChanges { .. })),
        "cached: {fx:?}"
    );
    assert_eq!(s.overlay, Some(Overlay::Changes));
    assert_eq!(
        (s.changes.head_env.as_str(), s.changes.base_env.as_str()),
        ("stg", "prod")
    );
    assert_eq!(shipdeck::app::update::changes_rows(&s).len(), 4);
    cmd(&mut s, Command::Filter);
    assert_eq!(s.input_mode(), InputMode::Text);
    for c in "migration".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(shipdeck::app::update::changes_rows(&s).len(), 1);
    update(&mut s, Action::Submit);
    assert_eq!(
        s.input_mode(),
        InputMode::View(shipdeck::app::keymap::View::Changes)
    );
    let fx = update(&mut s, Action::Submit);
    assert!(
        fx.contains(&Effect::OpenUrl(
            "https://github.example/miker-org/miker/#490".into()
        )),
        "{fx:?}"
    );
    cmd(&mut s, Command::Filter);
    cmd(&mut s, Command::Cancel);
    assert_eq!(
        s.overlay,
        Some(Overlay::Changes),
        "esc dropped the filter only"
    );
    assert!(s.changes.filter.is_empty());
    assert_eq!(shipdeck::app::update::changes_rows(&s).len(), 4);
    cmd(&mut s, Command::Cancel);
    assert_eq!(s.overlay, None);
    // The promote confirmation carries the headline, the first lines and the care label.
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Promote);
    let Some(Overlay::Confirm { .. }) = &s.overlay else {
        panic!("a confirmation: {:?}", s.overlay)
    };
    let lines = shipdeck::app::update::changes_confirm_lines(&s, "71be0e3", "9f1c2ab");
    assert_eq!(lines[0], "changes: 12 commits, 3 PRs ahead");
    assert!(
        lines.iter().any(|l| l == "⚠ label migration on #490"),
        "{lines:?}"
    );
}

/// Gates still running in an open confirmation are asked again when GitHub's report says a
/// refresh is due, and only while that confirmation is open.
#[test]
fn a_confirmation_follows_gates_that_still_run() {
    use shipdeck::app::state::CandidateGates;
    use shipdeck::services::github::GateReport;
    use shipdeck::services::gitops::EnvTag;
    let mut s = demo_state();
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
        Action::GitSnapshot(Ok(vec![row("dev", "9f1c2ab"), row("stg", "71be0e3")])),
    );
    cmd(&mut s, Command::Down);
    cmd(&mut s, Command::Promote);
    let running = GateReport {
        sha: "9f1c2ab0000000000000000000000000000000aa".into(),
        gates: vec![],
        summary: "1/2 passed, 1 running".into(),
        all_passed: false,
        settled: false,
        fetched_at: jiff::Timestamp::UNIX_EPOCH,
        refresh_after: Some(jiff::Timestamp::UNIX_EPOCH),
        rate_limited_until: None,
    };
    let fx = update(
        &mut s,
        Action::CandidateGates(CandidateGates {
            env: "stg".into(),
            tag: "9f1c2ab".into(),
            result: Ok(running),
        }),
    );
    let again = fx.iter().find_map(|e| match e {
        Effect::Schedule { action, .. } => Some((**action).clone()),
        _ => None,
    });
    let Some(again) = again else {
        panic!("a refresh is scheduled: {fx:?}")
    };
    let fx = update(&mut s, again.clone());
    assert!(
        fx.contains(&Effect::FetchCandidateGates {
            env: "stg".into(),
            tag: "9f1c2ab".into()
        }),
        "{fx:?}"
    );
    cmd(&mut s, Command::Cancel);
    let fx = update(&mut s, again);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::FetchCandidateGates { .. })),
        "closed: not asked again: {fx:?}"
    );
}

/// The Argo CD keys on the selected env's Application: F5 refreshes at once, S asks (with the
/// sync policy and the window now), T only while an operation runs, and a rollback with
/// auto-sync off is followed by the offer to sync.
#[test]
fn argocd_keys_read_the_application_and_a_rollback_without_auto_sync_offers_the_sync() {
    use shipdeck::ops::argocd::ArgoAction;
    use shipdeck::services::kube::model::Automated;
    use shipdeck::services::kube::syncwindow::SyncWindow;
    use shipdeck::services::kube::{ArgoApp, LiveEvent};
    let mut s = demo_state();
    s.clock.now_ms = 1_796_649_600_000; // 2026-12-07T13:20:00Z
    while s.selected_env().unwrap().name != "prod" {
        cmd(&mut s, Command::Down);
    }
    let live = |s: &mut State, a: ArgoApp| {
        update(
            s,
            Action::Live(LiveEvent::ArgoCd {
                env: "prod".into(),
                apps: [("miker-web".to_owned(), Some(a))].into(),
            }),
        );
    };
    // No word on the Application yet: the keys say so.
    cmd(&mut s, Command::Sync);
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .contains("no Argo CD Application"),
        "{:?}",
        s.status
    );
    let app = ArgoApp {
        name: "miker-web-prod".into(),
        sync: "Synced".into(),
        health: "Healthy".into(),
        revision: "a8baf17c0ffee".into(),
        auto_sync: Some(Automated {
            prune: true,
            self_heal: true,
        }),
        windows: vec![SyncWindow {
            kind: "deny".into(),
            schedule: "0 13 * * *".into(),
            duration: "1h".into(),
            applications: vec!["*".into()],
            ..SyncWindow::default()
        }],
        ..ArgoApp::default()
    };
    live(&mut s, app.clone());

    let fx = cmd(&mut s, Command::Refresh);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::ArgoAction { action: ArgoAction::Refresh { hard: false }, env, .. } if env == "prod")),
        "{fx:?}"
    );
    assert!(
        s.overlay.is_none(),
        "a refresh changes nothing deployed: no dialog"
    );

    cmd(&mut s, Command::Sync);
    let Some(Overlay::Confirm {
        title,
        lines,
        typed,
        ..
    }) = &s.overlay
    else {
        panic!("sync asks first: {:?}", s.overlay)
    };
    assert_eq!(title, "Argo CD sync miker-web in prod");
    assert_eq!(typed.as_deref(), Some("prod"), "prod is protected");
    assert_eq!(
        lines[0],
        "Application miker-web-prod: Synced, Healthy at a8baf17"
    );
    assert_eq!(lines[1], "auto-sync on (prune, self-heal)");
    assert!(
        lines[2].starts_with("sync blocked by deny window 0 13 * * * for 1h until "),
        "{lines:?}"
    );
    cmd(&mut s, Command::Cancel);

    cmd(&mut s, Command::TerminateSync);
    assert!(s.overlay.is_none());
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .contains("no operation is running"),
        "{:?}",
        s.status
    );
    live(
        &mut s,
        ArgoApp {
            operation: Some("Running".into()),
            operation_requested: true,
            operation_message: Some("Sync operation blocked by sync window".into()),
            ..app.clone()
        },
    );
    cmd(&mut s, Command::Sync);
    assert!(
        s.status
            .as_deref()
            .unwrap()
            .contains("another operation is already in progress"),
        "{:?}",
        s.status
    );
    cmd(&mut s, Command::TerminateSync);
    assert!(
        matches!(&s.overlay, Some(Overlay::Confirm { lines, .. }) if lines.iter().any(|l| l == "running: Sync operation blocked by sync window")),
        "{:?}",
        s.overlay
    );
    cmd(&mut s, Command::Cancel);

    // A rollback's git write done with auto-sync off: the sync is offered at once.
    live(
        &mut s,
        ArgoApp {
            auto_sync: None,
            windows: Vec::new(),
            ..app.clone()
        },
    );
    let task = s
        .tasks
        .start("rollback miker-web prod 71be0e3", s.clock.now_ms);
    update(
        &mut s,
        Action::TaskFinished {
            id: task,
            outcome: shipdeck::app::tasks::TaskOutcome::Done("rolled back".into()),
        },
    );
    let Some(Overlay::Confirm { title, lines, .. }) = &s.overlay else {
        panic!("the sync is offered: {:?}", s.overlay)
    };
    assert_eq!(title, "Sync miker-web in prod now?");
    assert!(
        lines[0].contains("stays on the bad version until a sync"),
        "{lines:?}"
    );
    // With auto-sync on, git alone makes it stick: nothing is offered.
    s.overlay = None;
    live(&mut s, app);
    let task = s
        .tasks
        .start("rollback miker-web prod 71be0e3", s.clock.now_ms);
    update(
        &mut s,
        Action::TaskFinished {
            id: task,
            outcome: shipdeck::app::tasks::TaskOutcome::Done("rolled back".into()),
        },
    );
    assert!(s.overlay.is_none());
}

/// The SLO panel's clock: asked while a canary is on screen, again once 12 s have passed
/// (never while a read is out), and not at all when nothing shows it.
#[test]
fn the_slo_is_asked_on_the_panels_clock_only_while_a_canary_is_on_screen() {
    let mut s = crate::ui_snapshots::canary_state();
    let reads = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::ReadSlo { env, .. } if env == "stg"))
            .count()
    };
    s.clock.now_ms = 1_000_000;
    // No Prometheus in the inventory: nothing is asked.
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 0);
    s.slo.configured = true;
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 1);
    // While it is out, and before the clock runs out, nothing more.
    s.clock.now_ms += 20_000;
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 0);
    let seq = s.slo.seq;
    let fx = update(
        &mut s,
        Action::SloLoaded {
            app: "miker-web".into(),
            env: "stg".into(),
            seq,
            result: Err("Prometheus did not answer".into()),
        },
    );
    assert_eq!(reads(&fx), 0, "the clock counts from the answer");
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Schedule {
                key: shipdeck::app::TimerKey::Slo,
                after_ms: 12_000,
                ..
            }
        )),
        "{fx:?}"
    );
    s.clock.now_ms += 12_000;
    assert_eq!(
        reads(&update(&mut s, Action::Recheck)),
        1,
        "12 s after the answer"
    );
    let seq = s.slo.seq;
    update(
        &mut s,
        Action::SloLoaded {
            app: "miker-web".into(),
            env: "stg".into(),
            seq,
            result: Err("again".into()),
        },
    );
    s.clock.now_ms += 11_000;
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 0, "11 s: not yet");
    s.clock.now_ms += 1_000;
    // Another panel zoomed: the SLO is not on screen, so it is not asked for.
    s.zoomed = true;
    s.focus = shipdeck::app::Panel::Activity;
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 0);
    s.zoomed = false;
    assert_eq!(reads(&update(&mut s, Action::Recheck)), 1);
}

/// The logs view: `L` follows both sides, lines land in their pane (a closed follow's are
/// dropped), space freezes, `/` filters, esc clears the filter then closes and stops.
#[test]
fn the_logs_view_follows_pauses_filters_and_stops() {
    use shipdeck::services::kube::logs::{Role, SideEvent};
    let mut s = crate::ui_snapshots::canary_state();
    // `l` elsewhere is still the next app; on the Rollout panel it opens the logs.
    let app_before = s.selected_app;
    cmd(&mut s, Command::Logs);
    assert_ne!(
        s.selected_app, app_before,
        "l on Environments: the next app"
    );
    assert_eq!(s.overlay, None);
    cmd(&mut s, Command::PrevApp);
    update(&mut s, Action::Focus(shipdeck::app::Panel::Rollout));
    let fx = cmd(&mut s, Command::Logs);
    let Some(Effect::FollowLogs {
        env, generation, ..
    }) = fx
        .iter()
        .find(|e| matches!(e, Effect::FollowLogs { .. }))
        .cloned()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (env.as_str(), s.overlay.clone()),
        ("stg", Some(Overlay::Logs))
    );
    let lines = |s: &mut State, generation, role, text: &[&str]| {
        update(
            s,
            Action::Logs {
                generation,
                role,
                events: text
                    .iter()
                    .map(|t| SideEvent::Line((*t).to_owned()))
                    .collect(),
            },
        );
    };
    lines(
        &mut s,
        generation,
        Role::Canary,
        &["p-a: INFO ok", "p-a: ERROR boom"],
    );
    lines(&mut s, generation, Role::Stable, &["p-b: INFO fine"]);
    lines(
        &mut s,
        generation - 1,
        Role::Stable,
        &["p-b: from an old follow"],
    );
    assert_eq!(s.logs.shown(Role::Canary).len(), 2);
    assert_eq!(s.logs.shown(Role::Stable), ["p-b: INFO fine"]);

    s.keymap
        .resolve(
            &crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
                KeyCode::Char(' '),
                KeyModifiers::NONE,
            )),
            s.input_mode(),
        )
        .map(|a| update(&mut s, a));
    assert!(s.logs.paused.is_some(), "space pauses");
    lines(
        &mut s,
        generation,
        Role::Canary,
        &["p-a: ERROR while paused"],
    );
    assert_eq!(s.logs.shown(Role::Canary).len(), 2, "frozen");
    assert_eq!(s.logs.canary.unseen, 1);
    cmd(&mut s, Command::PauseLogs);
    assert_eq!(s.logs.shown(Role::Canary).len(), 3);

    cmd(&mut s, Command::Filter);
    for c in "error".chars() {
        update(&mut s, Action::Input(c));
    }
    assert_eq!(s.logs.shown(Role::Canary).len(), 2);
    assert!(s.logs.shown(Role::Stable).is_empty());
    let fx = cmd(&mut s, Command::Cancel);
    assert!(
        s.logs.filter.is_empty() && s.overlay == Some(Overlay::Logs),
        "esc clears first"
    );
    assert!(!fx.contains(&Effect::StopLogs));
    let fx = cmd(&mut s, Command::Cancel);
    assert_eq!(s.overlay, None);
    assert!(fx.contains(&Effect::StopLogs), "{fx:?}");
    lines(&mut s, generation, Role::Canary, &["p-a: after close"]);
    assert_eq!(
        s.logs.canary.lines.len(),
        3,
        "a closed view takes no more lines"
    );
}
