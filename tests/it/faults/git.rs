//! The GitOps remote misbehaving: over `git daemon` through the fault proxy (blackhole, slow
//! drip, reset mid-answer), and https and ssh remotes whose handshake stalls. A release ends
//! within `gitops.timeout_secs` plus a second, with exit 4 and one line naming the remote;
//! the remote is untouched; and once the fault is lifted the same release goes through once.

use std::time::{Duration, Instant};

use super::proxy::{Fault, Proxy};
use crate::gitops::remote::Daemon;
use crate::ops::World;

/// Points the world's inventory at `url`, with a 1 s connect and `secs` per git call.
fn point_gitops_at(w: &World, url: &str, secs: u64) {
    let file_url = format!("url: file://{}/gitops.git", w.root.display());
    let text = std::fs::read_to_string(&w.inventory_path).unwrap();
    assert!(text.contains(&file_url), "{text}");
    let text = text.replace(
        &file_url,
        &format!("url: {url}\n  connect_timeout_secs: 1\n  timeout_secs: {secs}"),
    );
    std::fs::write(&w.inventory_path, text).unwrap();
}

async fn release(w: &World, tag: &str) -> (i32, String, Duration) {
    let started = Instant::now();
    let (code, out, err) = w
        .shipdeck(&["release", "miker-web", "--env", "dev", "--tag", tag])
        .await;
    (code, format!("{out}{err}"), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_git_remote_ends_release_within_its_deadline_and_recovers() {
    let w = World::start(false).await;
    let daemon = Daemon::start(&w.root);
    let proxy = Proxy::start(
        format!("127.0.0.1:{}", daemon.port).parse().unwrap(),
        Fault::Pass,
    )
    .await;
    let url = format!("git://{}/gitops.git", proxy.host());
    point_gitops_at(&w, &url, 3);
    let before = w.remote_main();
    for fault in [
        Fault::Blackhole,
        Fault::Drip(Duration::from_millis(300)),
        Fault::Reset(40),
    ] {
        proxy.set(fault);
        let (code, text, took) = release(&w, "fa17ed1").await;
        eprintln!(
            "FAULT git remote (git://) | {fault:?} | release | {took:.2?} | exit {code} | {text}"
        );
        assert_eq!(code, 4, "{fault:?}: {text}");
        assert!(took < Duration::from_secs(4), "{fault:?} took {took:?}");
        assert!(text.contains(&url), "{fault:?}: {text}");
        assert_eq!(text.trim().lines().count(), 1, "{fault:?}: {text}");
        if matches!(fault, Fault::Blackhole | Fault::Drip(_)) {
            assert!(
                text.contains("did not answer within 3 s"),
                "{fault:?}: {text}"
            );
        }
        assert_eq!(w.remote_main(), before, "{fault:?} wrote to the remote");
    }
    // Lifted: the same release goes through, exactly once.
    proxy.set(Fault::Pass);
    let (code, text, _) = release(&w, "fa17ed1").await;
    assert_eq!(code, 0, "{text}");
    let after = w.remote_main();
    assert_ne!(after, before);
    let parent = crate::gitops::git(&w.root.join("gitops.git"), &["rev-parse", "main^"]);
    assert_eq!(
        parent.trim(),
        before.trim(),
        "one commit on top of the old tip"
    );
    let (code, text, _) = release(&w, "fa17ed1").await;
    assert_eq!(code, 0, "{text}");
    assert_eq!(w.remote_main(), after, "a repeat writes nothing");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_https_and_ssh_handshakes_end_release_within_its_deadline() {
    let w = World::start(false).await;
    let (addr, hole) = super::blackhole().await;
    let before = w.remote_main();
    for url in [
        format!("https://{addr}/org/gitops.git"),
        format!("ssh://git@{addr}/org/gitops.git"),
    ] {
        let text = std::fs::read_to_string(&w.inventory_path).unwrap();
        let text = match text.split_once("\ngitops:\n  url: ") {
            Some((head, rest)) => {
                let rest = rest.split_once('\n').map_or("", |(_, r)| r);
                let rest = rest
                    .lines()
                    .filter(|l| !l.contains("timeout_secs"))
                    .collect::<Vec<_>>()
                    .join("\n");
                format!(
                    "{head}\ngitops:\n  url: {url}\n  connect_timeout_secs: 1\n  timeout_secs: 2\n{rest}\n"
                )
            }
            None => panic!("no gitops url in {text}"),
        };
        std::fs::write(&w.inventory_path, text).unwrap();
        let (code, text, took) = release(&w, "fa17ed1").await;
        let scheme = url.split(':').next().unwrap_or_default();
        eprintln!(
            "FAULT git remote ({scheme}) | stalled handshake | release | {took:.2?} | exit {code} | {text}"
        );
        assert_eq!(code, 4, "{url}: {text}");
        assert!(took < Duration::from_secs(3), "{url} took {took:?}");
        assert!(text.contains("did not answer within 2 s"), "{url}: {text}");
        assert_eq!(text.trim().lines().count(), 1, "{url}: {text}");
    }
    assert_eq!(w.remote_main(), before);
    hole.abort();
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_timeout_is_shorter_than_the_remotes_own() {
    let w = World::start(false).await;
    let daemon = Daemon::start(&w.root);
    let proxy = Proxy::start(
        format!("127.0.0.1:{}", daemon.port).parse().unwrap(),
        Fault::Drip(Duration::from_millis(300)),
    )
    .await;
    let url = format!("git://{}/gitops.git", proxy.host());
    point_gitops_at(&w, &url, 30);
    let before = w.remote_main();
    let started = Instant::now();
    let (code, out, err) = w
        .shipdeck(&[
            "--timeout",
            "2",
            "release",
            "miker-web",
            "--env",
            "dev",
            "--tag",
            "fa17ed1",
        ])
        .await;
    let took = started.elapsed();
    eprintln!(
        "FAULT git remote (git://) | Drip(300ms), --timeout 2 | release | {took:.2?} | exit {code} | {out}{err}"
    );
    assert_eq!(code, 4, "{out}{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(err.contains("within 2 s"), "{err}");
    assert_eq!(w.remote_main(), before);
    w.shutdown().await;
}
