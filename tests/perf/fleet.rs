#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

//! Measures the fleet view at a platform team's scale: this process runs the world (three
//! sandbox API servers, N apps × dev/stg/prod over N/10 namespaces, each namespace also holding
//! 1,000 pods no Rollout made, a sandbox GitHub, no CI), let settle first (the seeded canaries
//! reach their pause or abort) so nothing changes unless we change it; the release cockpit runs in a pseudo-terminal as its own process, read through a terminal
//! emulator. For N = 30 and N = 300:
//!
//! - start → fleet populated (every cell on screen has its tag and health), over 5 runs;
//! - RSS and idle CPU of the cockpit (30 s, /proc);
//! - one change (a Rollout paused through the API) → its cell on screen, over 20 changes;
//! - API requests at start, per cluster and kind (lists and watches), and GitHub requests per
//!   minute at steady state.
//!
//! Run: `cargo bench --bench fleet` (prints figures; asserts nothing).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use expectrl::session::OsSession;
use shipdeck::sandbox::fleet::{self, FleetClusters, FleetOpts};
use shipdeck::sandbox::github::GithubSandbox;

const COLS: u16 = 200;
const ROWS: u16 = 60;
const UNRELATED_PODS: usize = 1000;

struct World {
    dir: tempfile::TempDir,
    inventory: std::path::PathBuf,
    github: GithubSandbox,
    clusters: FleetClusters,
}

async fn world(apps: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let opts = FleetOpts {
        apps,
        unrelated_pods: UNRELATED_PODS,
        speed: 2.0,
    };
    let w = shipdeck::demo::fleet_world(dir.path(), opts, 0.0)
        .await
        .unwrap();
    // The seeded canaries run their steps (at speed 2, half a minute) and stop: paused for a
    // person, or aborted by analysis. Then the controllers stop, and the world holds still.
    tokio::time::sleep(Duration::from_secs(45)).await;
    for (_, c) in &w.clusters.clusters {
        c.stop_controllers();
    }
    World {
        dir,
        inventory: w.inventory,
        github: w.github,
        clusters: w.clusters,
    }
}

fn spawn(home: &std::path::Path, inventory: &std::path::Path) -> OsSession {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "stty cols {COLS} rows {ROWS} && exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .arg("--inventory")
        .arg(inventory)
        .env("TERM", "xterm-256color")
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env("SHIPDECK_DEMO_GITHUB_TOKEN", "sandbox");
    let mut s = OsSession::spawn(cmd).expect("spawn");
    // stty above sizes the terminal before the cockpit starts; this keeps it so should the
    // pty be resized under it.
    s.get_process_mut()
        .set_window_size(COLS, ROWS)
        .expect("pty size");
    s
}

/// Feeds output to the emulator until `done` holds for the screen's text; returns when.
fn read_until(
    s: &mut OsSession,
    parser: &mut vt100::Parser,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> Instant {
    let mut buf = [0u8; 16384];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        while let Ok(n) = s.try_read(&mut buf) {
            if n == 0 {
                break;
            }
            parser.process(&buf[..n]);
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let (r, c) = parser.screen().cursor_position();
                let _ = s.write_all(format!("\x1b[{};{}R", r + 1, c + 1).as_bytes());
            }
        }
        if done(&parser.screen().contents()) {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "no {what}:\n{}",
            parser.screen().contents()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The matrix's app rows on screen: `svc-NNN` then one cell per env.
fn app_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| {
            // The sheet's own border is the second `┃` from each side (the panels beneath
            // show one column of theirs).
            let start = l.find("┃svc-")? + '┃'.len_utf8();
            let l = &l[start..];
            let l = &l[..l.rfind('┃').unwrap_or(l.len())];
            Some({
                l.trim_end_matches(['┃', ' '])
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
        })
        .collect()
}

/// Every cell on screen has a tag and a health glyph (none `…` or `?`).
fn populated(text: &str) -> bool {
    let rows = app_rows(text);
    !rows.is_empty()
        && rows.iter().all(|r| {
            r.len() == 4
                && r[1..].iter().all(|c| {
                    let mut w = c.split_whitespace();
                    let (tag, health) = (w.next().unwrap_or(""), w.next().unwrap_or("?"));
                    tag.len() == 7 && !matches!(health, "?" | "…")
                })
        })
}

fn proc_field(pid: i32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

/// A merge patch of the Rollout's status straight to the API server, as its controller would
/// write it (no client start-up in the figure, and no controller tick either).
fn patch_phase(addr: std::net::SocketAddr, ns: &str, name: &str, phase: &str) {
    let body = format!("{{\"status\":{{\"phase\":\"{phase}\"}}}}");
    let req = format!(
        "PATCH /apis/argoproj.io/v1alpha1/namespaces/{ns}/rollouts/{name}/status HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/merge-patch+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn measure(rt: &tokio::runtime::Runtime, apps: usize) {
    let w = rt.block_on(world(apps));
    println!(
        "\n== {apps} apps × 3 envs over 3 clusters, {} namespaces each, {UNRELATED_PODS} unrelated pods per namespace",
        fleet::teams(apps)
    );
    // Start → populated, five cold starts of the cockpit.
    let mut starts = Vec::new();
    for run in 0..5 {
        let home = tempfile::tempdir().unwrap();
        let t0 = Instant::now();
        let mut s = spawn(home.path(), &w.inventory);
        let mut parser = vt100::Parser::new(ROWS, COLS, 0);
        let at = read_until(&mut s, &mut parser, "fleet populated", populated);
        starts.push(ms(at - t0));
        if run < 4 {
            let _ = s.write_all(b"q");
            let _ = s.get_process().wait();
            continue;
        }
        // The last one stays: requests at start, then memory, CPU and one change.
        for (env, c) in &w.clusters.clusters {
            let reqs = c.requests();
            let mut by_kind: std::collections::BTreeMap<String, (usize, usize)> =
                std::collections::BTreeMap::new();
            for r in &reqs {
                let path = r.path_and_query.split('?').next().unwrap_or("");
                let kind = path.rsplit('/').next().unwrap_or("").to_owned();
                let e = by_kind.entry(kind).or_default();
                if r.path_and_query.contains("watch=true") {
                    e.1 += 1;
                } else {
                    e.0 += 1;
                }
            }
            let line: Vec<String> = by_kind
                .iter()
                .map(|(k, (l, wa))| format!("{k} {l}+{wa}"))
                .collect();
            println!(
                "{env} API requests since the sandbox started (5 cockpit starts; list+watch): {} — {}",
                reqs.len(),
                line.join(", ")
            );
        }
        std::thread::sleep(Duration::from_secs(10));
        let pid = s.get_process().pid().as_raw();
        println!(
            "cockpit RSS after settling: {:.1} MB (peak {:.1} MB)",
            proc_field(pid, "VmRSS:") as f64 / 1024.0,
            proc_field(pid, "VmHWM:") as f64 / 1024.0
        );
        let gh0 = w.github.stats();
        let secs = 30;
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(secs));
        let after = cpu_ticks(pid);
        #[allow(clippy::cast_precision_loss)]
        let pct = (after - before) as f64 / 100.0 / secs as f64 * 100.0;
        println!(
            "cockpit idle CPU over {secs} s (world frozen): {} ticks = {pct:.3} % of a core",
            after - before
        );
        std::thread::sleep(Duration::from_secs(30));
        let gh1 = w.github.stats();
        println!(
            "GitHub requests at steady state over 60 s: {} REST + {} GraphQL",
            gh1.requests - gh0.requests,
            gh1.graphql - gh0.graphql
        );
        // One change: svc-000's dev Rollout's phase written through the API (Paused, then
        // Healthy again), timed until its cell shows it. The filter keeps its row on screen whatever the order.
        let _ = s.write_all(b"/svc-000\r");
        read_until(&mut s, &mut parser, "the filter", |t| {
            app_rows(t).len() == 1
        });
        let dev = w.clusters.cluster("dev").unwrap().addr();
        let mut took = Vec::new();
        for i in 0..20 {
            let (phase, want) = if i % 2 == 0 {
                ("Paused", "‖")
            } else {
                ("Healthy", "✔")
            };
            let t0 = Instant::now();
            patch_phase(dev, "team-00-dev", "svc-000", phase);
            let at = read_until(&mut s, &mut parser, "the change", |t| {
                app_rows(t)
                    .first()
                    .and_then(|r| r.get(1))
                    .is_some_and(|c| c.split_whitespace().nth(1) == Some(want))
            });
            took.push(ms(at - t0));
        }
        let (lo, mid, hi) = median(&mut took);
        println!(
            "one change → on screen (20 changes): min {lo:.1} ms, median {mid:.1} ms, max {hi:.1} ms"
        );
        let _ = s.write_all(b"q");
        let _ = s.get_process().wait();
    }
    // What idle costs is mostly the watches being re-opened: the server ends each one before
    // the client's silence bound (`kube.watch_idle_secs`), so a dead link is found. The same
    // fleet with a five-minute bound shows that share.
    let text = std::fs::read_to_string(&w.inventory).unwrap();
    let slow = w.dir.path().join("inventory-idle-300.yaml");
    std::fs::write(
        &slow,
        text.replacen("kube:\n", "kube:\n  watch_idle_secs: 300\n", 1),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut s = spawn(home.path(), &slow);
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
    read_until(&mut s, &mut parser, "fleet populated", populated);
    std::thread::sleep(Duration::from_secs(10));
    let pid = s.get_process().pid().as_raw();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(30));
    let after = cpu_ticks(pid);
    println!(
        "cockpit idle CPU over 30 s with kube.watch_idle_secs: 300 (default 75): {} ticks = {:.3} % of a core",
        after - before,
        (after - before) as f64 / 100.0 / 30.0 * 100.0
    );
    let _ = s.write_all(b"q");
    let _ = s.get_process().wait();
    let (lo, mid, hi) = median(&mut starts);
    println!(
        "start → fleet populated at {COLS}x{ROWS} (5 runs): min {lo:.0} ms, median {mid:.0} ms, max {hi:.0} ms"
    );
    let World {
        dir,
        clusters,
        github,
        ..
    } = w;
    rt.block_on(async {
        clusters.shutdown().await;
        github.shutdown().await;
    });
    drop(dir);
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `FLEET_BENCH_APPS=300` measures one size only.
    let sizes: Vec<usize> = std::env::var("FLEET_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or_else(|| vec![30, 300], |n| vec![n]);
    for apps in sizes {
        measure(&rt, apps);
    }
}
