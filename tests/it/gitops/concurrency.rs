//! Several shipdeck processes (separate working clones) pushing to one remote at once.

use std::sync::Barrier;

use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::{Action, ChangeRequest, ErrorKind};

use super::{World, git, remote_file, remote_main};

#[test]
fn eight_concurrent_releases_of_different_envs_all_land_linearly() {
    let w = World::new();
    w.add_worker_app();
    let before = git(w.bare(), &["rev-list", "--count", "main"])
        .trim()
        .parse::<u32>()
        .unwrap();
    let pairs = [
        ("miker-web", "dev"),
        ("miker-web", "stg"),
        ("miker-web", "prod"),
        ("miker-api", "dev"),
        ("miker-api", "stg"),
        ("miker-api", "prod"),
        ("miker-worker", "dev"),
        ("miker-worker", "stg"),
    ];
    let barrier = Barrier::new(pairs.len());
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .iter()
            .enumerate()
            .map(|(i, (app, env))| {
                let w = &w;
                let barrier = &barrier;
                s.spawn(move || {
                    // Each thread is its own machine: its own working clone.
                    let engine = w.engine(&format!("m{i}"));
                    let tag = format!("c0ffee{i}");
                    let req = ChangeRequest::new(Action::Release, app, env, Some(&tag));
                    barrier.wait();
                    engine.apply(&req, &TaskCtl::detached())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut commits = Vec::new();
    for (o, (app, env)) in outcomes.iter().zip(&pairs) {
        let o = o.as_ref().unwrap_or_else(|e| panic!("{app} {env}: {e}"));
        assert!(o.pushed, "{app} {env}");
        commits.push(o.commit.clone().unwrap());
    }
    let after = git(w.bare(), &["rev-list", "--count", "main"])
        .trim()
        .parse::<u32>()
        .unwrap();
    assert_eq!(after, before + 8, "every release is one commit on main");
    assert_eq!(git(w.bare(), &["rev-list", "--merges", "main"]).trim(), "");
    let all = git(w.bare(), &["rev-list", "main"]);
    for c in &commits {
        assert!(all.contains(c.as_str()), "commit {c} lost");
    }
    let snap = w.engine("check").snapshot().unwrap();
    for (i, (app, env)) in pairs.iter().enumerate() {
        let e = snap
            .iter()
            .find(|e| e.app == *app && e.env == *env)
            .unwrap();
        assert_eq!(e.tag.as_deref(), Some(format!("c0ffee{i}").as_str()));
    }
}

#[test]
fn two_concurrent_releases_of_one_env_one_lands_one_conflicts() {
    let w = World::new();
    let barrier = Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = ["aaaa001", "bbbb002"]
            .iter()
            .enumerate()
            .map(|(i, tag)| {
                let (w, barrier) = (&w, &barrier);
                s.spawn(move || {
                    let engine = w.engine(&format!("p{i}"));
                    let mut req =
                        ChangeRequest::new(Action::Release, "miker-web", "stg", Some(tag));
                    req.actor = format!("person{i}");
                    // Both saw stg at 9f1c2ab when they decided.
                    req.expected_from = Some("9f1c2ab".to_owned());
                    barrier.wait();
                    engine.apply(&req, &TaskCtl::detached())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let landed: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(landed.len(), 1, "{results:?}");
    assert_eq!(failed.len(), 1, "{results:?}");
    let winner = &landed[0].to;
    assert_eq!(failed[0].kind(), ErrorKind::Conflict);
    let msg = failed[0].to_string();
    assert!(
        msg.starts_with("stg was changed by shipdeck-test at ")
            && msg.ends_with(&format!(" to {winner}; review and retry")),
        "{msg}"
    );
    let file = remote_file(w.bare(), "apps/miker-web/overlays/stg/kustomization.yaml");
    assert!(file.contains(&format!("newTag: {winner} ")), "{file}");
    assert_eq!(
        remote_main(w.bare()),
        landed[0].commit.clone().unwrap(),
        "only the winner's commit was added"
    );
}

#[test]
fn actions_sharing_one_working_clone_take_turns() {
    let w = World::new();
    let pairs = [
        ("miker-web", "dev"),
        ("miker-web", "stg"),
        ("miker-api", "dev"),
        ("miker-api", "prod"),
    ];
    let barrier = Barrier::new(pairs.len());
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = pairs
            .iter()
            .map(|(app, env)| {
                let (w, barrier) = (&w, &barrier);
                s.spawn(move || {
                    // Same data dir: one working clone, guarded by its lock file.
                    let engine = w.engine("shared");
                    let req = ChangeRequest::new(Action::Release, app, env, Some("5ade001"));
                    barrier.wait();
                    engine.apply(&req, &TaskCtl::detached())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &results {
        let o = r.as_ref().unwrap();
        assert!(o.pushed);
        // Under the lock each action starts from the latest tip: no push is ever rejected.
        assert_eq!(o.attempts, 1, "{o:?}");
    }
    let log = git(w.bare(), &["log", "-4", "--format=%s"]);
    assert_eq!(log.lines().count(), 4);
}
