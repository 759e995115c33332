#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Figures for people: a tick or a line count far beyond 2^52 is not a concern here.
#![allow(clippy::cast_precision_loss)]

//! Measures the logs view over an hour of a chatty canary, on a faster clock: the demo's
//! sandbox (its own process) makes every pod log 200 lines a second × 60, so one minute here is
//! an hour of a 200-lines/s log; this process is the cockpit (state, update, the real driver
//! following both sides over HTTP), whose RSS and CPU are read from /proc/self.
//!
//! Run: `cargo bench --bench logs` (prints figures; asserts nothing about them).

#[path = "../it/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::io::BufRead as _;
use std::time::{Duration, Instant};

use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command};

/// 200 lines a second, sixty times faster.
const RATE: f64 = 200.0 * 60.0;
const MINUTES: u64 = 1;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let home = tempfile::tempdir().unwrap();
    let mut demo = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["demo", "--no-tui", "--dir"])
        .arg(home.path().join("ws"))
        .env("SHIPDECK_DEMO_LOG_RATE", RATE.to_string())
        .env("SHIPDECK_CONFIG", home.path().join("config"))
        .env("SHIPDECK_DATA", home.path().join("data"))
        .env("SHIPDECK_STATE", home.path().join("state"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut inventory = None;
    for line in std::io::BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(p) = line.strip_prefix("inventory: ") {
            inventory = Some(std::path::PathBuf::from(p));
        }
        if line.starts_with("running") {
            break;
        }
    }
    let inv =
        shipdeck::inventory::Inventory::load(&inventory.expect("the demo names its inventory"))
            .unwrap();
    let paths = shipdeck::paths::Paths::under(&home.path().join("cockpit"));
    let mut c = harness::Cockpit::connect(&inv, &paths).await;
    let watches = c.runner.start_watches(&inv);
    c.apply(Action::RefreshGit);
    c.until("git", |s| s.gitops == Feed::Live).await;
    c.select_env("stg");
    c.until("the canary", |s| {
        s.live
            .rollout("miker-web", "stg")
            .is_some_and(|r| r.canary_rs().is_some_and(|rs| !rs.stable))
    })
    .await;
    c.press(Command::Logs);
    c.until("the first lines", |s| !s.logs.canary.lines.is_empty())
        .await;

    let (rss0, cpu0, t0) = (rss_kib(), cpu_ticks(), Instant::now());
    let mut peak = rss0;
    let mut samples = Vec::new();
    let end = tokio::time::Instant::now() + Duration::from_secs(60 * MINUTES);
    let mut next_sample = Instant::now() + Duration::from_secs(10);
    let mut batches = 0u64;
    while tokio::time::Instant::now() < end {
        if let Ok(Some(a)) = tokio::time::timeout_at(end, c.rx.recv()).await {
            batches += u64::from(matches!(a, Action::Logs { .. }));
            c.apply(a);
        }
        if Instant::now() >= next_sample {
            let r = rss_kib();
            peak = peak.max(r);
            samples.push(r / 1024);
            next_sample += Duration::from_secs(10);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks() - cpu0) as f64 / 100.0 / secs * 100.0;
    let v = &c.state.logs;
    let received = |p: &shipdeck::app::logs::LogPane| p.dropped + p.lines.len() as u64;
    println!(
        "logs view, {MINUTES} min at {RATE} lines/s per pod (= {MINUTES} h of a 200-lines/s log):\n  \
         lines that reached the view (a batch carries at most a pane's 1,000, ten a second):\n  \
         canary {} (kept {}), stable {} (kept {}), in {batches} batches\n  \
         RSS: {} MiB at open, {} MiB at the end, peak {} MiB; every 10 s: {samples:?} MiB\n  \
         CPU of the cockpit process while following: {cpu:.1} % of one core",
        received(&v.canary),
        v.canary.lines.len(),
        received(&v.stable),
        v.stable.lines.len(),
        rss0 / 1024,
        rss_kib() / 1024,
        peak / 1024,
    );
    c.press(Command::Cancel);
    if let Some(h) = watches {
        h.abort();
    }
    c.runner.cancel_all();
    let _ = demo.kill();
    let _ = demo.wait();
}
