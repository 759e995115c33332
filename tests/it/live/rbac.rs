//! Permissions and reconnects against the sandbox API server: a 403 on one kind is "not
//! permitted" for that kind only and is not retried in a loop; a restarted server is back
//! within seconds however long it was down; no Debug struct reaches an error text.

use std::time::Duration;

use shipdeck::sandbox::kube::DenyRule;
use shipdeck::services::kube::{Conn, Denial, FeedId, LiveEvent, LiveState, spawn_watches};
use tokio::sync::mpsc::unbounded_channel;

use super::cluster::{
    NS, client, create_web, inventory, set_tag, shipdeck, start, status_of, until,
    watch_until_healthy,
};

fn deny_reads(resource: &str) -> DenyRule {
    DenyRule {
        resource: Some(resource.into()),
        namespace: Some(NS.into()),
        ..Default::default()
    }
}

fn no_debug(text: &str) {
    for bad in ["Status {", "ErrorResponse", "Some(", "code: "] {
        assert!(!text.contains(bad), "Debug text in {text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_kind_is_named_once_and_the_rest_of_the_env_works() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    sb.deny(deny_reads("experiments"));
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(&inv, tx, &shipdeck::services::kube::watch::PodScope::All).unwrap();
    let mut s = LiveState::default();
    until(&mut rx, &mut s, "web Healthy despite the refusal", |s| {
        status_of(s).is_some_and(|(st, _)| st == "Healthy")
    })
    .await;
    let feed = FeedId::Cluster("stg".into());
    assert_eq!(
        s.denied(&feed),
        [Denial {
            verb: "list".into(),
            resource: "experiments.argoproj.io".into(),
            namespace: NS.into(),
        }]
    );
    assert_eq!(
        s.denied(&feed)[0].to_string(),
        "not permitted: list experiments.argoproj.io in namespace shop"
    );
    assert_eq!(s.envs["stg"].cluster, Conn::Live, "a 403 is not an outage");
    assert!(s.rollouts_denied("stg").is_none());
    // The canary still moves on screen while experiments stay refused.
    set_tag(&c, "v2").await;
    until(&mut rx, &mut s, "paused canary", |s| {
        status_of(s).is_some_and(|(st, step)| st == "Paused" && step == "1/7")
    })
    .await;
    // Not asked again in a loop: one list in the first seconds (the slow clock is 60 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked = sb
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("/experiments"))
        .count();
    assert_eq!(asked, 1, "experiments asked {asked} times");
    // Every snapshot since keeps the refusal and nothing else went stale.
    while let Ok(ev) = rx.try_recv() {
        if let LiveEvent::Connection { conn, .. } = &ev {
            assert!(!matches!(conn, Conn::Stale { .. }), "{ev:?}");
        }
        s.apply(ev);
    }
    assert_eq!(s.denied(&feed).len(), 1);
    watches.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_get_says_which_permission_is_missing_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    inventory(dir.path(), sb.kubeconfig_path());
    let inv = dir.path().join("inventory.yaml");
    let home = dir.path().join("home");

    sb.deny(deny_reads("experiments"));
    let started = std::time::Instant::now();
    let (code, out, err) = shipdeck(&inv, &home, &["get", "web", "--env", "stg"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("web"), "{out}");
    assert!(
        err.contains("not permitted: list experiments.argoproj.io in namespace shop"),
        "{err}"
    );
    no_debug(&err);

    sb.deny(deny_reads("rollouts"));
    let (code, _, err) = shipdeck(&inv, &home, &["get", "web", "--env", "stg"]).await;
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("not permitted: list rollouts.argoproj.io in namespace shop"),
        "{err}"
    );
    no_debug(&err);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "two gets took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_api_server_is_back_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    let (mut rx, mut s, watches) = watch_until_healthy(&inv).await;
    sb.stop_listener().await;
    until(&mut rx, &mut s, "stale", |s| {
        matches!(s.envs["stg"].cluster, Conn::Stale { .. })
    })
    .await;
    // Long enough down for an unbounded exponential backoff to have grown past 5 s.
    let down_until = tokio::time::Instant::now() + Duration::from_secs(12);
    while tokio::time::Instant::now() < down_until {
        if let Ok(Some(ev)) = tokio::time::timeout_at(down_until, rx.recv()).await {
            s.apply(ev);
        }
    }
    if let Conn::Stale { error, .. } = &s.envs["stg"].cluster {
        no_debug(error);
    }
    sb.restart_listener().await.unwrap();
    let back = tokio::time::Instant::now();
    let deadline = back + Duration::from_secs(5);
    while s.envs["stg"].cluster != Conn::Live {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => s.apply(ev),
            _ => panic!(
                "not live 5 s after the restart: {:?}",
                s.envs["stg"].cluster
            ),
        }
    }
    eprintln!("back on screen {:?} after the restart", back.elapsed());
    watches.abort();
}
