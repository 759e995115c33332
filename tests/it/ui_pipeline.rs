//! The seed's other checkpoints on screen, at 120×40, 80×24 and 200×60: the Gates panel with
//! the artifacts and migration rows beside the CI checks (passed; missing and failed; the
//! store unreachable), and the Environments panel warning about a stale backup.

use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Keymap, Panel, State, update};
use shipdeck::inventory::Inventory;
use shipdeck::services::kube::LiveEvent;
use shipdeck::services::kube::migrations::{MigrationJob, MigrationState};
use shipdeck::services::s3::{BackupAge, BackupRead, PrefixSummary};

use crate::ui_snapshots::draw;

const SIZES: [(u16, u16); 3] = [(120, 40), (80, 24), (200, 60)];

fn snap(name: &str, mut make: impl FnMut() -> State) {
    for (w, h) in SIZES {
        let mut state = make();
        state.size = (w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&state, w, h));
    }
}

const SECTION: &str = "artifacts:\n  endpoint: http://127.0.0.1:9\n  bucket: miker-builds\n  prefix: \"miker/staging/{sha}/\"\n  required_in: [stg]\n\n\
backups:\n  endpoint: http://127.0.0.1:9\n  bucket: miker-backups\n  prefix: \"shared-svc/{env}/backup/\"\n  max_age: 26h\n";

/// The demo's state with `artifacts:`, `backups:` and `migrations:`, miker-api selected,
/// stg on 9f1c2ab and prod on 71be0e3.
fn pipeline_state() -> State {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        s3_section: Some(SECTION.to_owned()),
        migrations: true,
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut s = State::new(&inv, "demo", Keymap::default());
    s.clock.hhmm = "13:02".into();
    s.clock.zone = Some(jiff::tz::TimeZone::UTC);
    s.gitops = Feed::Live;
    s.github = Feed::Live;
    s.selected_app = s.apps.iter().position(|a| a == "miker-api").unwrap();
    for (env, tag) in [("dev", "9f1c2ab"), ("stg", "9f1c2ab"), ("prod", "71be0e3")] {
        s.envs.iter_mut().find(|r| r.name == env).unwrap().git_tag = Some(tag.into());
    }
    s
}

fn at(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap()
}

fn artifacts(s: &mut State, env: &str, tag: &str, result: Result<PrefixSummary, String>) {
    s.pipeline.artifacts.insert(
        ("miker-api".into(), env.into()),
        shipdeck::app::pipeline::ArtifactsEntry {
            tag: tag.into(),
            result: None,
        },
    );
    update(
        s,
        Action::ArtifactsLoaded {
            app: "miker-api".into(),
            env: env.into(),
            tag: tag.into(),
            result,
        },
    );
}

fn summary(tag: &str, objects: u64, bytes: u64) -> PrefixSummary {
    PrefixSummary {
        bucket: "miker-builds".into(),
        prefix: format!("miker/staging/{tag}/"),
        objects,
        bytes,
        newest: (objects > 0).then(|| at(1_790_000_000)),
        requests: 1,
    }
}

fn job(env: &str, tag: &str, state: MigrationState) -> MigrationJob {
    MigrationJob {
        name: format!("miker-api-migrate-{tag}"),
        namespace: format!("miker-{env}"),
        app: "miker-api".into(),
        tag: tag.into(),
        state,
        started: Some(at(1_790_000_000)),
        duration_secs: (state != MigrationState::Running).then_some(38),
        reason: (state == MigrationState::Failed)
            .then(|| "BackoffLimitExceeded: Job has reached the specified backoff limit".into()),
    }
}

fn focus_gates(s: &mut State, env: &str) {
    while s.selected_env().is_some_and(|e| e.name != env) {
        update(s, Action::Command(Command::Down));
    }
    while s.focus != Panel::Gates {
        update(s, Action::Command(Command::FocusNext));
    }
}

#[test]
fn gates_show_artifacts_and_the_migration_beside_the_checks() {
    snap("gates_pipeline_passed", || {
        let mut s = pipeline_state();
        artifacts(
            &mut s,
            "stg",
            "9f1c2ab",
            Ok(summary("9f1c2ab", 3, 79_628_331)),
        );
        s.live.apply(LiveEvent::Migrations {
            env: "stg".into(),
            jobs: vec![job("stg", "9f1c2ab", MigrationState::Succeeded)],
        });
        focus_gates(&mut s, "stg");
        s
    });
    snap("gates_pipeline_blocked", || {
        let mut s = pipeline_state();
        artifacts(&mut s, "prod", "71be0e3", Ok(summary("71be0e3", 0, 0)));
        s.live.apply(LiveEvent::Migrations {
            env: "prod".into(),
            jobs: vec![job("prod", "71be0e3", MigrationState::Failed)],
        });
        // What prod would take from stg: its migration passed there.
        s.live.apply(LiveEvent::Migrations {
            env: "stg".into(),
            jobs: vec![job("stg", "9f1c2ab", MigrationState::Succeeded)],
        });
        update(
            &mut s,
            Action::MigrationLogs {
                job: "miker-prod/miker-api-migrate-71be0e3".into(),
                result: Ok(vec![
                    "ERROR: Migration V42__release.sql failed".into(),
                    "Message    : Duplicate column name 'discount_code'".into(),
                    "Location   : db/migration/V42__release.sql".into(),
                ]),
            },
        );
        focus_gates(&mut s, "prod");
        s
    });
    snap("gates_pipeline_unreachable", || {
        let mut s = pipeline_state();
        artifacts(
            &mut s,
            "stg",
            "9f1c2ab",
            Err("the store at http://127.0.0.1:9 is unreachable: Connection refused".into()),
        );
        focus_gates(&mut s, "stg");
        s
    });
}

#[test]
fn environments_warn_about_a_stale_backup() {
    snap("environments_stale_backup", || {
        let mut s = pipeline_state();
        let read = |env: &str, age: u64| BackupRead {
            env: env.into(),
            age: Some(BackupAge {
                env: env.into(),
                bucket: "miker-backups".into(),
                prefix: format!("shared-svc/{env}/backup/"),
                newest_key: Some(format!("shared-svc/{env}/backup/mysql.sql.gz")),
                newest: Some(at(1_790_000_000)),
                age_secs: Some(age),
                max_age_secs: 26 * 3600,
                stale: age > 26 * 3600,
                objects: 5,
            }),
            error: None,
        };
        let dev = BackupRead {
            env: "dev".into(),
            age: None,
            error: Some("the store at http://127.0.0.1:9 did not answer within 15 s".into()),
        };
        update(
            &mut s,
            Action::BackupsLoaded(Ok(vec![
                dev,
                read("stg", 3 * 3600),
                read("prod", 30 * 3600),
            ])),
        );
        s
    });
}

/// Missing artifacts are listed again after a while (a sync step may land them any time);
/// found ones are not; a late timer for a tag the env no longer has asks nothing.
#[test]
fn missing_artifacts_are_listed_again_and_found_ones_are_not() {
    use shipdeck::app::Effect;
    use shipdeck::app::action::TimerKey;
    let mut s = pipeline_state();
    let summary = |objects: u64| PrefixSummary {
        bucket: "miker-builds".into(),
        prefix: "miker/staging/9f1c2ab/".into(),
        objects,
        bytes: objects * 1024,
        newest: objects.checked_sub(1).map(|_| at(1_796_000_000)),
        requests: 1,
    };
    s.pipeline.artifacts.insert(
        ("miker-api".into(), "stg".into()),
        shipdeck::app::pipeline::ArtifactsEntry {
            tag: "9f1c2ab".into(),
            result: None,
        },
    );
    let loaded = |objects| Action::ArtifactsLoaded {
        app: "miker-api".into(),
        env: "stg".into(),
        tag: "9f1c2ab".into(),
        result: Ok(summary(objects)),
    };
    let effects = update(&mut s, loaded(0));
    let again = effects.iter().find_map(|e| match e {
        Effect::Schedule {
            key: TimerKey::Artifacts { app, env },
            action,
            ..
        } => Some((app.clone(), env.clone(), action.clone())),
        _ => None,
    });
    let (app, env, action) = again.expect("a missing listing is asked again");
    assert_eq!((app.as_str(), env.as_str()), ("miker-api", "stg"));
    let effects = update(&mut s, *action.clone());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchArtifacts { tag, .. } if tag == "9f1c2ab")),
        "{effects:?}"
    );
    // Until the new answer, the last one stays on screen.
    assert!(
        matches!(&s.pipeline.artifacts_of("miker-api", "stg").unwrap().result, Some(Ok(p)) if p.objects == 0)
    );
    let effects = update(&mut s, loaded(3));
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::Schedule {
                key: TimerKey::Artifacts { .. },
                ..
            }
        )),
        "{effects:?}"
    );
    // The env moved on to another tag: the old timer asks nothing.
    s.pipeline
        .artifacts
        .get_mut(&("miker-api".into(), "stg".into()))
        .unwrap()
        .tag = "5d2e8a1".into();
    assert!(
        update(&mut s, *action)
            .iter()
            .all(|e| !matches!(e, Effect::FetchArtifacts { .. }))
    );
}
