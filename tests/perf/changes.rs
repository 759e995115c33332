#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Measures the Changes view on a 600-commit range as the cockpit meets it: `c` on dev
//! (600 commits ahead of stg) → the driver's real GitHub client over HTTP to the sandbox on
//! 127.0.0.1 → the result back as an action → one frame drawn at 120×40.
//!
//! - cold: a freshly connected cockpit (nothing cached), median of several runs, with the
//!   GitHub requests it used (REST, of which compare pages, and GraphQL);
//! - cached: the view closed and opened again in the same cockpit (no request at all).
//!
//! Run: `cargo bench --bench changes` (prints figures; asserts nothing about speed).

#[path = "../it/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use ratatui::{Terminal, backend::TestBackend};
use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Overlay};
use shipdeck::sandbox::github::{GithubSandbox, GithubSandboxOpts};
use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::{Action as GitAction, ChangeRequest, GitopsEngine};

const RUNS: usize = 5;
const COMMITS: usize = 600;

fn frame(state: &shipdeck::app::State) {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| shipdeck::ui::render(f, state)).unwrap();
}

/// The dev → stg comparison (stg runs 9f1c2ab, dev the tip) has landed.
fn loaded(s: &shipdeck::app::State, tip: &str) -> bool {
    matches!(
        s.changes_cache.get(&("9f1c2ab".to_owned(), tip.to_owned())),
        Some(Some(Ok(_)))
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let gh = GithubSandbox::start(GithubSandboxOpts {
        owner: "miker-org".into(),
        repo: "miker".into(),
        speed: 0.0,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    shipdeck::sandbox::gitremote::seed(dir.path()).unwrap();
    let inventory = shipdeck::demo::write_inventory(
        dir.path(),
        &shipdeck::demo::Endpoints {
            github_api: Some(gh.url().to_owned()),
            ..shipdeck::demo::Endpoints::default()
        },
    )
    .unwrap();
    let inv = shipdeck::inventory::Inventory::load(&inventory).unwrap();
    let range = gh.add_history_range(Some("9f1c2ab"), COMMITS, 4);
    let tip = range[COMMITS - 1][..7].to_owned();
    {
        let (inv, tip, paths) = (
            inv.clone(),
            tip.clone(),
            shipdeck::paths::Paths::under(&dir.path().join("bot")),
        );
        tokio::task::spawn_blocking(move || {
            let engine = GitopsEngine::open(&inv, &paths).unwrap();
            let mut req = ChangeRequest::new(GitAction::Release, "miker-web", "dev", Some(&tip));
            "bench-bot".clone_into(&mut req.actor);
            engine.apply(&req, &TaskCtl::detached()).unwrap();
        })
        .await
        .unwrap();
    }

    let mut cold = Vec::new();
    let mut cached = Vec::new();
    let mut used = (0, 0);
    for run in 0..RUNS {
        let paths = shipdeck::paths::Paths::under(&dir.path().join(format!("run{run}")));
        let mut c = harness::Cockpit::connect(&inv, &paths).await;
        let before = gh.stats();
        c.apply(Action::RefreshGit);
        c.until("the git snapshot", |s| s.gitops == Feed::Live)
            .await;
        // `c` as soon as the tags are on screen: the comparison the Environments note asked
        // for on the snapshot is still on its way, so this is the cold path.
        c.select_env("dev");
        let t = Instant::now();
        c.press(Command::Changes);
        c.until("the changes", |s| loaded(s, &tip)).await;
        frame(&c.state);
        cold.push(t.elapsed());
        let after = gh.stats();
        used = (
            after.compare_pages - before.compare_pages,
            after.graphql - before.graphql,
        );
        assert_eq!(c.state.overlay, Some(Overlay::Changes));

        c.press(Command::Cancel);
        let before = gh.stats();
        let t = Instant::now();
        c.press(Command::Changes);
        frame(&c.state);
        cached.push(t.elapsed());
        let after = gh.stats();
        assert_eq!(
            (after.compare_pages, after.graphql),
            (before.compare_pages, before.graphql),
            "the second open asks GitHub nothing"
        );
        c.runner.cancel_all();
    }
    let (pages, graphql) = used;
    println!(
        "changes view, {COMMITS} commits, first paint at 120x40 over {RUNS} runs:\n  \
         cold   median {:.1?} (min {:.1?}, max {:.1?}); GitHub: {pages} compare pages + {graphql} GraphQL queries\n    \
         (with the 12-commit stg → prod pair the Environments note asks for; plus one commit\n    \
         lookup per tag)\n  \
         cached median {:.1?}; GitHub: 0 requests",
        median(cold.clone()),
        cold.iter().min().unwrap(),
        cold.iter().max().unwrap(),
        median(cached),
    );
    gh.shutdown().await;
}
