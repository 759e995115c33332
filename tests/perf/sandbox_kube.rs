//! Scale figures for the sandbox API server: memory with 10,000 pods + 500 rollouts, list
//! latency through kube-rs, and watch events per second delivered to a kube-runtime watcher.
//! Run: `cargo bench --bench sandbox_kube` (release). Prints figures; asserts nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Config};
use serde_json::json;
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions, RESOURCES, WriteMode};

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

const PODS: usize = 10_000;
const ROLLOUTS: usize = 500;
const EVENTS: u64 = 20_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let base = rss_mb();
    let mut opts = KubeSandboxOptions::new(dir.path());
    opts.controllers = false;
    let sb = KubeSandbox::start(opts).await.unwrap();
    let t = Instant::now();
    sb.seed_scale("scale", PODS, ROLLOUTS).unwrap();
    let seeded = t.elapsed();
    let after_seed = rss_mb();
    println!(
        "seed {PODS} pods + {ROLLOUTS} rollouts: {:.2} s; RSS {base:.1} MB -> {after_seed:.1} MB (store ≈ {:.1} MB)",
        seeded.as_secs_f64(),
        after_seed - base
    );

    let kc = Kubeconfig::read_from(sb.kubeconfig_path()).unwrap();
    let client = Client::try_from(
        Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .unwrap(),
    )
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "scale");
    for (label, lp) in [
        ("full list", ListParams::default()),
        ("paged list (limit 500)", ListParams::default().limit(500)),
    ] {
        let t = Instant::now();
        let mut n = 0;
        let mut lp = lp;
        loop {
            let page = pods.list(&lp).await.unwrap();
            n += page.items.len();
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => break,
            }
        }
        println!(
            "{label} of {n} pods through kube-rs: {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }

    // A kube-runtime watcher on the namespace; count events it delivers.
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let w = tokio::spawn(async move {
        let s = watcher(pods, watcher::Config::default()).default_backoff();
        futures::pin_mut!(s);
        while let Some(ev) = s.next().await {
            if let Ok(watcher::Event::Apply(_)) = ev {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // Wait for the initial list to land (InitApply does not count), then write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pod_res = RESOURCES.iter().position(|r| r.kind == "Pod").unwrap();
    let store = sb.store().clone();
    let t = Instant::now();
    let writer = tokio::task::spawn_blocking(move || {
        for i in 0..EVENTS {
            let name = format!(
                "app-{:04}-5b9d7c8f6d-{:05}",
                (i as usize % PODS) % ROLLOUTS,
                i as usize % PODS
            );
            store
                .update(pod_res, "scale", &name, WriteMode::Internal, None, |old| {
                    let mut v = old.clone();
                    v["metadata"]["annotations"]["bench/i"] = json!(i.to_string());
                    Ok(v)
                })
                .unwrap();
        }
    });
    writer.await.unwrap();
    let written = t.elapsed();
    while seen.load(Ordering::Relaxed) < EVENTS && t.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered = t.elapsed();
    let got = seen.load(Ordering::Relaxed);
    println!(
        "store writes: {EVENTS} in {:.2} s ({:.0}/s); kube-rs watcher received {got} events in {:.2} s: {:.0} events/s",
        written.as_secs_f64(),
        EVENTS as f64 / written.as_secs_f64(),
        delivered.as_secs_f64(),
        got as f64 / delivered.as_secs_f64()
    );

    // Writes over HTTP (merge patches through kube-rs), 4 in flight.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "scale");
    let n_http = 4_000u64;
    let t = Instant::now();
    futures::stream::iter(0..n_http)
        .for_each_concurrent(4, |i| {
            let pods = pods.clone();
            async move {
                let name = format!(
                    "app-{:04}-5b9d7c8f6d-{:05}",
                    (i as usize) % ROLLOUTS,
                    i as usize
                );
                let p = json!({"metadata": {"annotations": {"bench/http": i.to_string()}}});
                pods.patch(&name, &PatchParams::default(), &Patch::Merge(&p))
                    .await
                    .unwrap();
            }
        })
        .await;
    let el = t.elapsed();
    while seen.load(Ordering::Relaxed) < EVENTS + n_http && t.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "HTTP merge patches: {n_http} in {:.2} s ({:.0}/s), all seen by the watcher: {}",
        el.as_secs_f64(),
        n_http as f64 / el.as_secs_f64(),
        seen.load(Ordering::Relaxed) >= EVENTS + n_http
    );
    println!(
        "RSS at the end (server + watcher cache + client in one process): {:.1} MB",
        rss_mb()
    );
    w.abort();
    sb.shutdown().await;
}
