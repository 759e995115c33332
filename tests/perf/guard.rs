#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Measures the release guard on the demo sandbox (simulated controllers at 20× time; the
//! guard, git, the API server and Feishu at real speed):
//!
//! - analysis failed → rollback commit on the GitOps remote, over 10 bad releases to stg: the
//!   moment the sandbox marks the AnalysisRun Failed (read from its store every 5 ms) to the
//!   moment the remote's `main` moves to the guard's commit (read every 5 ms);
//! - leader failover: two replicas, the leader killed without giving the Lease up, until the
//!   other holds it (the demo's Lease: 6 s, renewed every 2 s);
//! - the real binary `shipdeck guard` on the demo's inventory: RSS and CPU while idle for 30 s.
//!
//! Run: `cargo bench --bench guard` (prints figures; asserts nothing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipdeck::guard::{Guard, GuardOpts};
use shipdeck::inventory::Inventory;
use shipdeck::ops::OpCtx;
use shipdeck::ops::gitops::ChangeSpec;
use shipdeck::paths::Paths;
use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions, RESOURCES};
use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::Action;

struct World {
    root: std::path::PathBuf,
    inv: Inventory,
    inventory_path: std::path::PathBuf,
    kube: KubeSandbox,
    _fs: FeishuSandbox,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    fs.write_demo_files(&root).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        github_api: None,
        kubeconfig: Some(root.join("kube/kubeconfig")),
        feishu_section: Some(fs.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(&root), &endpoints).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut opts = KubeSandboxOptions::new(root.join("kube"));
    opts.inventory = Some(inv.clone());
    opts.controllers = true;
    opts.speed = 20.0;
    let kube = KubeSandbox::start(opts).await.unwrap();
    World {
        root,
        inv,
        inventory_path: ws.inventory_path,
        kube,
        _fs: fs,
        _dir: dir,
    }
}

fn main_ref(root: &std::path::Path) -> String {
    let repo = git2::Repository::open_bare(root.join("gitops.git")).unwrap();
    repo.refname_to_id("refs/heads/main").unwrap().to_string()
}

fn kubectl(w: &World, args: &[&str]) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(w.kube.kubeconfig_path())
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (bounded) for `done`, checking every 5 ms; the moment it first held.
async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if done() {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Names of the Failed AnalysisRuns in `ns`, from the sandbox's store.
fn failed_runs(w: &World, ns: &str) -> Vec<String> {
    let res = RESOURCES
        .iter()
        .position(|r| r.kind == "AnalysisRun")
        .unwrap();
    let (items, _) = w.kube.store().list(res, Some(ns));
    items
        .iter()
        .filter_map(|o| {
            let v: serde_json::Value = serde_json::from_slice(&o.json).ok()?;
            (v.pointer("/status/phase")?.as_str()? == "Failed").then(|| o.name.clone())
        })
        .collect()
}

async fn release(w: &World, env: &str, tag: &str) {
    let mut inv = w.inv.clone();
    inv.environments
        .get_mut(env)
        .unwrap()
        .required_checks
        .clear();
    let ctx = OpCtx::new(Arc::new(inv), Paths::under(&w.root.join(".bench")), false);
    let spec = ChangeSpec::new(Action::Release, "miker-web", env, Some(tag));
    shipdeck::ops::gitops::change(&ctx, spec, TaskCtl::detached())
        .await
        .unwrap();
}

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        // Nearest rank.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1;
        ms[i]
    };
    println!(
        "{name}: n={} median {:.0} ms, p95 {:.0} ms, min {:.0} ms, max {:.0} ms",
        ms.len(),
        pick(0.5),
        pick(0.95),
        ms[0],
        ms[ms.len() - 1]
    );
}

async fn latency(w: &World) {
    let g = Guard::start(
        Arc::new(w.inv.clone()),
        Paths::under(&w.root.join(".guard-latency")),
        GuardOpts::new("bench-latency"),
    )
    .await
    .unwrap();
    until("the leader", 30, || g.stats.is_leader() && g.stats.ready()).await;
    let mut ms = Vec::new();
    for run in 0..10 {
        let tag = format!("bad{run:04}");
        let before = failed_runs(w, "miker-stg");
        release(w, "stg", &tag).await;
        until("the bad spec synced", 60, || {
            kubectl(
                w,
                &[
                    "-n",
                    "miker-stg",
                    "get",
                    "rollout",
                    "miker-web",
                    "-o",
                    "jsonpath={.spec.template.spec.containers[0].image}",
                ],
            )
            .ends_with(&tag)
        })
        .await;
        // Paused at the indefinite pause, on the new spec (observed generation caught up).
        until("the pause", 60, || {
            let s = kubectl(w, &["-n", "miker-stg", "get", "rollout", "miker-web", "-o", "jsonpath={.status.observedGeneration}/{.metadata.generation}/{.status.phase}/{.status.currentStepIndex}"]);
            let p: Vec<&str> = s.split('/').collect();
            p.len() == 4 && p[0] == p[1] && p[2] == "Paused" && p[3] == "1"
        })
        .await;
        kubectl(
            w,
            &[
                "-n",
                "miker-stg",
                "patch",
                "rollout",
                "miker-web",
                "--subresource=status",
                "--type=merge",
                "-p",
                r#"{"status":{"pauseConditions":null,"currentStepIndex":2}}"#,
            ],
        );
        let head = main_ref(&w.root);
        let failed = until("the analysis to fail", 120, || {
            failed_runs(w, "miker-stg")
                .iter()
                .any(|r| !before.contains(r))
        })
        .await;
        let committed = until("the rollback commit", 60, || main_ref(&w.root) != head).await;
        let d = committed.duration_since(failed).as_secs_f64() * 1000.0;
        println!("  run {run}: {tag} analysis Failed → rollback commit {d:.0} ms");
        ms.push(d);
        // The rolled-back tag synced and the stable running again before the next release.
        until("stg back on a good tag", 60, || {
            !kubectl(
                w,
                &[
                    "-n",
                    "miker-stg",
                    "get",
                    "rollout",
                    "miker-web",
                    "-o",
                    "jsonpath={.spec.template.spec.containers[0].image}",
                ],
            )
            .contains(":bad")
        })
        .await;
    }
    stats("analysis failed → commit on the remote", ms);
    g.stop().await;
}

async fn failover(w: &World) {
    let cfg = w.inv.guard.clone().unwrap();
    let mut ms = Vec::new();
    for run in 0..3 {
        let a = Guard::start(
            Arc::new(w.inv.clone()),
            Paths::under(&w.root.join(format!(".guard-fa{run}"))),
            GuardOpts::new(format!("bench-a{run}")),
        )
        .await
        .unwrap();
        until("a to lead", 30, || a.stats.is_leader()).await;
        let b = Guard::start(
            Arc::new(w.inv.clone()),
            Paths::under(&w.root.join(format!(".guard-fb{run}"))),
            GuardOpts::new(format!("bench-b{run}")),
        )
        .await
        .unwrap();
        until("b to follow", 30, || b.stats.ready()).await;
        let killed = Instant::now();
        a.kill();
        let took = until("b to take over", 60, || b.stats.is_leader()).await;
        let d = took.duration_since(killed).as_secs_f64() * 1000.0;
        println!("  failover {run}: {d:.0} ms");
        ms.push(d);
        b.stop().await;
    }
    println!(
        "(Lease {} s, renewed every {} s: a takeover waits for the Lease to stand unrenewed that long)",
        cfg.lease_duration_secs, cfg.renew_secs
    );
    stats("leader killed → follower leads", ms);
}

fn proc_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

async fn footprint(w: &World) {
    let home = w.root.join(".guard-bin");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args(["guard", "--identity", "bench-bin"])
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // Settled: watches listed, the Lease read (it leads once the bench's replicas are gone).
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (t0, c0) = (Instant::now(), proc_ticks(pid));
    tokio::time::sleep(Duration::from_secs(30)).await;
    let (t1, c1) = (Instant::now(), proc_ticks(pid));
    let hz = 100.0; // USER_HZ on Linux
    #[allow(clippy::cast_precision_loss)]
    let cpu = (c1 - c0) as f64 / hz / t1.duration_since(t0).as_secs_f64() * 100.0;
    println!(
        "shipdeck guard (release binary, demo inventory): RSS {} KiB, idle CPU {cpu:.2} % over 30 s",
        rss_kib(pid)
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let w = world().await;
    // The demo's stg canary first stops at its indefinite pause: promote it fully so every
    // bad release starts from a stable revision.
    until("stg's first canary", 60, || {
        kubectl(
            &w,
            &[
                "-n",
                "miker-stg",
                "get",
                "rollout",
                "miker-web",
                "-o",
                "jsonpath={.status.phase}",
            ],
        ) == "Paused"
    })
    .await;
    latency(&w).await;
    failover(&w).await;
    footprint(&w).await;
    w.kube.shutdown().await;
}
