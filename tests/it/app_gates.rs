//! The headless app: state + effects + the driver's runner against the sandbox GitHub over HTTP.
//! No terminal; the same code paths the cockpit uses.

use std::time::Duration;

use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Effect, Keymap, Panel, State, update};
use shipdeck::driver::{Runner, Services};
use shipdeck::inventory::Inventory;
use shipdeck::sandbox::github::Scenario;
use shipdeck::services::github::GateState;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

async fn recv(rx: &mut UnboundedReceiver<Action>) -> Action {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("an action within the bound")
        .expect("channel open")
}

/// Feeds effects to the runner and results back into `update` until `done` holds.
async fn settle(
    state: &mut State,
    runner: &mut Runner,
    rx: &mut UnboundedReceiver<Action>,
    first: Vec<Effect>,
    done: impl Fn(&State) -> bool,
) {
    for e in first {
        runner.run(e);
    }
    while !done(state) {
        let action = recv(rx).await;
        // The driver stamps the clock before each batch; so does this loop.
        state.clock.now_ms = u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap();
        for e in update(state, action) {
            runner.run(e);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_tags_bring_their_gates_and_o_opens_a_gate_link() {
    let gh = crate::harness::demo_github(200.0).await;
    let bad = gh.add_commit("badc0de", Scenario::pipeline().failing("trivy"));
    let dir = tempfile::tempdir().unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        github_api: Some(gh.url().to_owned()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut state = State::new(&inv, "test", Keymap::default());
    let paths = shipdeck::paths::Paths::under(&dir.path().join(".shipdeck"));
    let (tx, mut rx) = unbounded_channel();
    let services = Services::connect(&inv, &paths, false, &mut state, &tx).await;
    assert_eq!(state.github, Feed::Connecting);
    let mut runner = Runner::new(tx, services);

    let fx = update(
        &mut state,
        Action::GitTags(vec![
            ("prod".into(), "71be0e3".into()),
            ("stg".into(), bad[..7].into()),
        ]),
    );
    let fetches = fx
        .iter()
        .filter(|e| matches!(e, Effect::FetchGates { .. }))
        .count();
    assert_eq!(fetches, 2, "one fetch per env whose tag is new: {fx:?}");
    settle(&mut state, &mut runner, &mut rx, fx, |s| {
        ["prod", "stg"].iter().all(|e| {
            s.gates
                .get(*e)
                .and_then(|g| g.report.as_ref())
                .is_some_and(|r| r.settled)
        })
    })
    .await;
    assert_eq!(state.github, Feed::Live);

    let prod = state.gates["prod"].report.as_ref().unwrap();
    assert!(prod.all_passed);
    assert_eq!(prod.gates.len(), 7);
    assert!(prod.summary.starts_with("7/7 passed"), "{}", prod.summary);

    // stg requires build and test: trivy failing does not keep it out, but it is not stg's gate.
    let stg = state.gates["stg"].report.as_ref().unwrap();
    assert_eq!(
        stg.gates
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["build", "test"]
    );
    assert!(stg.all_passed);

    // The same failing commit in prod is refused by its seven gates.
    let fx = update(
        &mut state,
        Action::GitTags(vec![("prod".into(), bad[..7].into())]),
    );
    settle(&mut state, &mut runner, &mut rx, fx, |s| {
        s.gates["prod"].tag == bad[..7]
            && s.gates["prod"].report.as_ref().is_some_and(|r| r.settled)
    })
    .await;
    let prod = state.gates["prod"].report.as_ref().unwrap();
    assert!(!prod.all_passed);
    let trivy = prod.gates.iter().position(|g| g.name == "trivy").unwrap();
    assert_eq!(prod.gates[trivy].state, GateState::Failed);
    let want = prod.gates[trivy].url.clone().unwrap();

    // Select prod, focus Gates, walk to trivy and press o.
    update(&mut state, Action::Command(Command::Down));
    update(&mut state, Action::Command(Command::Down));
    assert_eq!(state.selected_env().unwrap().name, "prod");
    while state.focus != Panel::Gates {
        update(&mut state, Action::Command(Command::FocusNext));
    }
    for _ in 0..trivy {
        update(&mut state, Action::Command(Command::Down));
    }
    let fx = update(&mut state, Action::Command(Command::OpenLink));
    // The link opens; the status line that says so is set to expire.
    let (open, rest): (Vec<_>, Vec<_>) = fx
        .into_iter()
        .partition(|e| matches!(e, Effect::OpenUrl(_)));
    assert_eq!(open, vec![Effect::OpenUrl(want)]);
    assert!(
        rest.iter().all(|e| matches!(
            e,
            Effect::Schedule {
                key: shipdeck::app::TimerKey::Status,
                ..
            }
        )),
        "{rest:?}"
    );
    runner.cancel_all();
    gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_answer_for_an_old_tag_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let ws =
        shipdeck::demo::prepare(Some(dir.path()), &shipdeck::demo::Endpoints::default()).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut state = State::new(&inv, "test", Keymap::default());
    state.github = Feed::Connecting;
    update(
        &mut state,
        Action::GitTags(vec![("prod".into(), "aaaaaaa".into())]),
    );
    update(
        &mut state,
        Action::GitTags(vec![("prod".into(), "bbbbbbb".into())]),
    );
    update(
        &mut state,
        Action::GatesLoaded {
            env: "prod".into(),
            tag: "aaaaaaa".into(),
            result: Err("late".into()),
        },
    );
    let view = &state.gates["prod"];
    assert_eq!(view.tag, "bbbbbbb");
    assert!(view.error.is_none() && view.loading, "newest request wins");
}
