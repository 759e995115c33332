//! `shipdeck logs` (issue 17 item 3, headless) over HTTP against the sandbox API server's
//! `pods/{name}/log`, cross-checked with the real `kubectl logs`.

use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

use crate::ops::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_and_stable_logs_are_the_pods_of_each_side_as_kubectl_reads_them() {
    let w = World::start(true).await;
    w.stg_canary_paused().await;
    let canary_hash = w.rollout("miker-stg", "{.status.currentPodHash}");
    let stable_hash = w.rollout("miker-stg", "{.status.stableRS}");
    assert_ne!(canary_hash, stable_hash, "a canary is in flight");

    let (code, out, err) = w
        .shipdeck(&[
            "logs",
            "miker-web",
            "--env",
            "stg",
            "--canary",
            "--tail",
            "2",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!records.is_empty(), "{out}");
    let pod = records[0]["pod"].as_str().unwrap().to_owned();
    assert!(
        records
            .iter()
            .all(|r| r["role"] == "canary" && r["pod"].as_str().unwrap().contains(&canary_hash)),
        "only the canary's pods: {out}"
    );
    // The same lines as kubectl reads from the same pod.
    let theirs = w.kubectl(&["-n", "miker-stg", "logs", &pod, "--tail", "2"]);
    let ours: Vec<&str> = records
        .iter()
        .filter(|r| r["pod"] == pod.as_str())
        .map(|r| r["line"].as_str().unwrap())
        .collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(ours.len(), 2);
    // Both reads asked at slightly different moments: the later one may be a line further on.
    assert!(
        theirs.contains(&ours[1]) || ours.contains(&theirs[0]),
        "ours {ours:?} kubectl {theirs:?}"
    );

    let (code, out, err) = w
        .shipdeck(&[
            "logs",
            "miker-web",
            "--env",
            "stg",
            "--stable",
            "--tail",
            "1",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().count() >= 1 && out.lines().all(|l| l.contains(&stable_hash)),
        "{out}"
    );

    // prod runs no canary: its canary side is refused, not shown as the stable pods again.
    let (code, _, err) = w
        .shipdeck(&[
            "logs",
            "miker-web",
            "--env",
            "prod",
            "--canary",
            "--tail",
            "1",
        ])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("no canary in flight"), "{err}");

    // A container the pod does not have: the API server's own words reach the user.
    let (code, _, err) = w
        .shipdeck(&[
            "logs",
            "miker-web",
            "--env",
            "stg",
            "--canary",
            "--container",
            "sidecar",
        ])
        .await;
    assert_ne!(code, 0);
    assert!(err.contains("container sidecar is not valid"), "{err}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_prints_lines_as_they_come() {
    let w = World::start_at(true, 20.0).await;
    w.stg_canary_paused().await;
    let p = w.cli_paths();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args([
            "logs",
            "miker-web",
            "--env",
            "stg",
            "--stable",
            "-f",
            "--tail",
            "0",
        ])
        .env("SHIPDECK_CONFIG", &p.config_dir)
        .env("SHIPDECK_DATA", &p.data_dir)
        .env("SHIPDECK_STATE", &p.state_dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while seen.len() < 20 {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("only {} lines within 30 s: {seen:?}", seen.len()))
            .unwrap()
            .expect("the follow ended early");
        seen.push(line);
    }
    assert!(
        seen.iter().all(|l| l.contains(": INFO 71be0e3 GET ")),
        "{seen:?}"
    );
    child.kill().await.unwrap();
    w.shutdown().await;
}

/// The cockpit's logs view through the real driver: both panes fill from the sandbox's pods
/// (canary lines from the canary's ReplicaSet, stable from the stable one's), and closing it
/// stops the follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_view_follows_both_sides_and_stops_on_close() {
    use shipdeck::app::{Action, Command, Overlay};
    use shipdeck::services::kube::logs::Role;
    let w = World::start_at(true, 5.0).await;
    w.stg_canary_paused().await;
    let canary_hash = w.rollout("miker-stg", "{.status.currentPodHash}");
    let stable_hash = w.rollout("miker-stg", "{.status.stableRS}");
    let mut c = crate::ops::cockpit(&w).await;
    let watches = c.runner.start_watches(&w.inv);
    c.select_env("stg");
    c.until("the stg rollout", |s| {
        s.live.rollout("miker-web", "stg").is_some()
    })
    .await;
    c.apply(Action::Focus(shipdeck::app::Panel::Rollout));
    c.press(Command::Logs);
    assert_eq!(c.state.overlay, Some(Overlay::Logs));
    c.until("lines in both panes", |s| {
        s.logs.canary.lines.len() >= 5 && s.logs.stable.lines.len() >= 5
    })
    .await;
    assert!(
        c.state
            .logs
            .shown(Role::Canary)
            .iter()
            .all(|l| l.contains(&canary_hash)),
        "{:?}",
        c.state.logs.canary.lines
    );
    assert!(
        c.state
            .logs
            .shown(Role::Stable)
            .iter()
            .all(|l| l.contains(&stable_hash)),
        "{:?}",
        c.state.logs.stable.lines
    );
    assert!(
        c.state.logs.canary.status.contains(&canary_hash),
        "{}",
        c.state.logs.canary.status
    );
    c.press(Command::Cancel);
    assert_eq!(c.state.overlay, None);
    let before = c.state.logs.canary.lines.len();
    // Whatever was on its way is dropped; nothing new arrives for a closed view.
    let quiet = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(Some(a)) = tokio::time::timeout_at(quiet, c.rx.recv()).await {
        let is_logs = matches!(a, Action::Logs { .. });
        c.apply(a);
        assert!(!is_logs || c.state.logs.canary.lines.len() == before);
    }
    assert_eq!(c.state.logs.canary.lines.len(), before);
    if let Some(h) = watches {
        h.abort();
    }
    c.runner.cancel_all();
    w.shutdown().await;
}
