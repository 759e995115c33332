//! The HTTP far ends misbehaving through the fault proxy: the Feishu bot webhook and the
//! GitHub API drip their answer or reset mid-answer. Each command ends within its deadline
//! with exit 4 and one line naming the far end; a message whose answer was lost is not sent
//! again (it would post twice); and once the fault is lifted the same command goes through.

use std::time::{Duration, Instant};

use super::proxy::{Fault, Proxy};
use crate::ops::World;

fn upstream(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// Rewrites `from` to `to` in a file of the world.
fn rewrite(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_feishu_webhook_ends_notify_within_its_deadline_and_never_posts_twice() {
    let w = World::start(false).await;
    let proxy = Proxy::start(upstream(w.fs.url()), Fault::Pass).await;
    // The webhooks (in the secret file) go through the proxy; the app API does not.
    rewrite(
        &w.root.join("feishu-secrets.env"),
        w.fs.url(),
        &format!("http://{}", proxy.host()),
    );
    rewrite(
        &w.inventory_path,
        "\nfeishu:\n",
        "\nfeishu:\n  webhook_timeout_secs: 2\n",
    );
    let sent = |text: &str| {
        w.fs.messages()
            .iter()
            .filter(|m| m.accepted && m.title.contains(text))
            .count()
    };
    for (fault, text) in [
        (Fault::Drip(Duration::from_millis(300)), "drip"),
        (Fault::Reset(20), "reset"),
    ] {
        proxy.set(fault);
        let started = Instant::now();
        let (code, out, err) = w
            .shipdeck(&["feishu", "notify", "--chat", "releases", "--text", text])
            .await;
        let took = started.elapsed();
        eprintln!(
            "FAULT Feishu bot webhook | {fault:?} | feishu notify | {took:.2?} | exit {code} | {out}{err}"
        );
        assert_eq!(code, 4, "{fault:?}: {out}{err}");
        assert!(took < Duration::from_secs(3), "{fault:?} took {took:?}");
        assert!(
            err.contains("webhook of chat `releases`"),
            "{fault:?}: {err}"
        );
        // The server took it (the fault hit its answer), and it was not sent again.
        assert!(sent(text) <= 1, "{fault:?}: posted {} times", sent(text));
    }
    proxy.set(Fault::Pass);
    let (code, out, err) = w
        .shipdeck(&["feishu", "notify", "--chat", "releases", "--text", "lifted"])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(sent("lifted"), 1);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_github_api_ends_gates_within_its_deadline_and_recovers() {
    let w = World::start(false).await;
    let proxy = Proxy::start(upstream(w.gh.url()), Fault::Pass).await;
    rewrite(
        &w.inventory_path,
        &format!("api_url: {}", w.gh.url()),
        &format!(
            "api_url: http://{}\n  connect_timeout_secs: 1\n  timeout_secs: 2",
            proxy.host()
        ),
    );
    let args = ["gates", "miker-web", "--env", "stg"];
    for fault in [
        Fault::Blackhole,
        Fault::Drip(Duration::from_millis(300)),
        Fault::Reset(20),
    ] {
        proxy.set(fault);
        let started = Instant::now();
        let (code, out, err) = w.shipdeck(&args).await;
        let took = started.elapsed();
        eprintln!("FAULT GitHub API | {fault:?} | gates | {took:.2?} | exit {code} | {out}{err}");
        assert_eq!(code, 4, "{fault:?}: {out}{err}");
        assert!(took < Duration::from_secs(3), "{fault:?} took {took:?}");
        assert!(err.contains(&proxy.host()), "{fault:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{fault:?}: {err}");
    }
    proxy.set(Fault::Pass);
    let (code, out, err) = w.shipdeck(&args).await;
    assert_eq!(code, 0, "{out}{err}");
    w.shutdown().await;
}
