//! The Kubernetes API misbehaving through the fault proxy: an action against a server that
//! drips its answer or resets mid-answer ends within its deadline (connect + one request)
//! with exit 4; a watch whose connection goes silent (a dropped link: no FIN, no RST) is
//! noticed within `kube.watch_idle_secs`, marked stale, and recovers by itself once the link
//! is back.

use std::time::{Duration, Instant};

use shipdeck::services::kube::Conn;

use super::proxy::{Fault, Proxy};
use crate::live::cluster;

/// A copy of `kubeconfig` whose server is `proxy`.
fn kubeconfig_through(
    kubeconfig: &std::path::Path,
    url: &str,
    proxy: &Proxy,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    assert!(text.contains(url), "{text}");
    let path = dir.join("kubeconfig-through-proxy");
    std::fs::write(
        &path,
        text.replace(url, &format!("http://{}", proxy.host())),
    )
    .unwrap();
    path
}

fn upstream(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dripping_or_resetting_api_server_ends_rollout_actions_within_their_deadline() {
    let w = crate::ops::World::start(false).await;
    let url = w.kube.url();
    let proxy = Proxy::start(upstream(&url), Fault::Pass).await;
    let kc = w.kube.kubeconfig_path().to_path_buf();
    let through = kubeconfig_through(&kc, &url, &proxy, &w.root);
    std::fs::copy(&through, &kc).unwrap();
    let text = std::fs::read_to_string(&w.inventory_path)
        .unwrap()
        .replacen(
            "\nkube:\n",
            "\nkube:\n  connect_timeout_secs: 1\n  request_timeout_secs: 2\n",
            1,
        );
    std::fs::write(&w.inventory_path, text).unwrap();
    let args = ["rollout", "restart", "miker-web", "--env", "stg"];
    for fault in [Fault::Drip(Duration::from_millis(300)), Fault::Reset(30)] {
        proxy.set(fault);
        let started = Instant::now();
        let (code, out, err) = w.shipdeck(&args).await;
        let took = started.elapsed();
        eprintln!(
            "FAULT Kubernetes API | {fault:?} | rollout restart | {took:.2?} | exit {code} | {out}{err}"
        );
        assert_eq!(code, 4, "{fault:?}: {out}{err}");
        // connect 1 s + request 2 s, and a second of slack.
        assert!(took < Duration::from_secs(4), "{fault:?} took {took:?}");
        assert!(err.contains("`stg`"), "{fault:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{fault:?}: {err}");
    }
    // Lifted: the same command goes through.
    proxy.set(Fault::Pass);
    let (code, out, err) = w.shipdeck(&args).await;
    assert_eq!(code, 0, "{out}{err}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dropped_watch_is_marked_stale_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let sb = cluster::start(dir.path()).await;
    let c = cluster::client(&sb).await;
    cluster::create_web(&c).await;
    let url = sb.url();
    let proxy = Proxy::start(upstream(&url), Fault::Pass).await;
    let kc = kubeconfig_through(sb.kubeconfig_path(), &url, &proxy, dir.path());
    let text = format!(
        "gitops:\n  url: ./gitops.git\nkube:\n  kubeconfig: {}\n  watch_idle_secs: 3\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/kustomization.yaml'}}\nenvironments:\n  stg:\n    kube_context: shipdeck-sandbox\n    namespace: {}\n",
        kc.display(),
        cluster::NS
    );
    let path = dir.path().join("inventory.yaml");
    std::fs::write(&path, &text).unwrap();
    let inv = shipdeck::inventory::Inventory::from_str_at(&text, &path).unwrap();
    let (mut rx, mut s, watches) = cluster::watch_until_healthy(&inv).await;

    proxy.set(Fault::Silence);
    let dropped = Instant::now();
    cluster::until(&mut rx, &mut s, "the stale mark", |s| {
        matches!(s.envs["stg"].cluster, Conn::Stale { .. })
    })
    .await;
    let noticed = dropped.elapsed();
    eprintln!(
        "FAULT Kubernetes API | silent watch drop | cockpit watch | noticed in {noticed:.2?} (watch_idle_secs 3)"
    );
    // The idle limit and one reconnect's backoff, with slack: not minutes.
    assert!(
        noticed < Duration::from_secs(8),
        "noticed after {noticed:?}"
    );
    assert!(
        s.rollout("web", "stg").is_some(),
        "the last data stays, marked"
    );

    proxy.set(Fault::Pass);
    let lifted = Instant::now();
    // Live again by the reconnect alone: no object changed meanwhile.
    cluster::until(&mut rx, &mut s, "live again without a change", |s| {
        s.envs["stg"].cluster == Conn::Live
    })
    .await;
    eprintln!(
        "FAULT Kubernetes API | silent watch drop | cockpit watch | stale mark cleared {:.2?} after the link came back, no object changed",
        lifted.elapsed()
    );
    cluster::set_tag(&c, "v2").await;
    cluster::until(&mut rx, &mut s, "live again with the new canary", |s| {
        s.envs["stg"].cluster == Conn::Live
            && cluster::status_of(s).is_some_and(|(st, _)| st == "Paused")
    })
    .await;
    eprintln!(
        "FAULT Kubernetes API | silent watch drop | cockpit watch | live again {:.2?} after the link came back",
        lifted.elapsed()
    );
    watches.abort();
}
