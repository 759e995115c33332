#![allow(
    clippy::similar_names,
    clippy::format_push_string,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Measures the live cluster view against the sandbox API server, with the watcher in its own
//! process (so its memory and CPU are its own, not the server's):
//!
//! - a namespace with 10,000 pods and 500 Rollouts (each with its pods labelled like Argo
//!   Rollouts' own), 50 of the Rollouts named in the inventory;
//! - time to the first full snapshot; watch latency (a pod changes on the server → the derived
//!   state that contains it arrives), 20 samples;
//! - RSS and CPU of the watcher idle (10 s) and while the server changes 1,000 pods per second
//!   (10 s).
//!
//! Run: `cargo bench --bench live` (prints figures; asserts nothing).

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions, RESOURCES, WriteMode};

const NS: &str = "scale";
const PODS: usize = 10_000;
const ROLLOUTS: usize = 500;
const WATCHED_APPS: usize = 50;

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// Child: runs the watches of an inventory, prints `EV <unix ms> <apps found>` per snapshot.
fn child(inventory: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let inv = shipdeck::inventory::Inventory::load(std::path::Path::new(inventory)).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _w = shipdeck::services::kube::spawn_watches(&inv, tx).unwrap();
        let mut state = shipdeck::services::kube::LiveState::default();
        while let Some(ev) = rx.recv().await {
            let is_rollouts = matches!(ev, shipdeck::services::kube::LiveEvent::Rollouts { .. });
            state.apply(ev);
            if is_rollouts {
                let found = state
                    .envs
                    .get("perf")
                    .map_or(0, |e| e.rollouts.values().filter(|r| r.is_some()).count());
                println!("EV {} {found}", unix_ms());
            }
        }
    });
}

/// (utime+stime ticks, RSS kB) of a process.
fn proc_stats(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    (ticks, rss)
}

/// Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux).
fn hz() -> f64 {
    100.0
}

fn pod_id() -> usize {
    RESOURCES.iter().position(|r| r.kind == "Pod").unwrap()
}

fn touch_pod(sb: &KubeSandbox, i: usize, n: u64) {
    let app = format!("app-{:04}", i % ROLLOUTS);
    let name = format!("{app}-5b9d7c8f6d-{i:05}");
    sb.store()
        .update(pod_id(), NS, &name, WriteMode::Internal, None, |v| {
            let mut v = v.clone();
            v["status"]["containerStatuses"][0]["restartCount"] = json!(n);
            Ok(v)
        })
        .unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1]);
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sb = rt.block_on(async {
        let mut o = KubeSandboxOptions::new(dir.path());
        o.controllers = false;
        KubeSandbox::start(o).await.unwrap()
    });
    let t = Instant::now();
    sb.seed_scale(NS, PODS, ROLLOUTS).unwrap();
    println!(
        "seeded {PODS} pods + {ROLLOUTS} rollouts in {:?}",
        t.elapsed()
    );
    // The seeded pods carry no owner references; give them their ReplicaSets' so the derived
    // tree is real: one RS per rollout owned by the rollout, pods owned by the RS.
    let rs_id = RESOURCES
        .iter()
        .position(|r| r.kind == "ReplicaSet")
        .unwrap();
    let ro_id = RESOURCES.iter().position(|r| r.kind == "Rollout").unwrap();
    for r in 0..ROLLOUTS {
        let app = format!("app-{r:04}");
        let ro = sb.store().get(ro_id, NS, &app).unwrap().value();
        let rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{app}-5b9d7c8f6d"), "namespace": NS,
                "labels": {"app": app, "rollouts-pod-template-hash": "5b9d7c8f6d"},
                "annotations": {"rollout.argoproj.io/revision": "1"},
                "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": app,
                    "uid": ro["metadata"]["uid"], "controller": true}]},
            "spec": {"replicas": 20, "selector": {"matchLabels": {"app": app}},
                "template": ro["spec"]["template"].clone()},
            "status": {"replicas": 20, "availableReplicas": 20, "readyReplicas": 20, "observedGeneration": 1},
        });
        let created = sb
            .store()
            .create(rs_id, rs, WriteMode::Internal)
            .unwrap()
            .value();
        let rs_uid = created["metadata"]["uid"].clone();
        for p in (r..PODS).step_by(ROLLOUTS) {
            let name = format!("{app}-5b9d7c8f6d-{p:05}");
            sb.store()
                .update(pod_id(), NS, &name, WriteMode::Internal, None, |v| {
                    let mut v = v.clone();
                    v["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": format!("{app}-5b9d7c8f6d"), "uid": rs_uid, "controller": true}]);
                    Ok(v)
                })
                .unwrap();
        }
    }
    let mut apps = String::new();
    for a in 0..WATCHED_APPS {
        apps.push_str(&format!(
            "  app-{a:04}:\n    image: registry.example.com/scale/app-{a:04}\n    layout: {{kind: kustomize, path: 'envs/{{env}}/k.yaml'}}\n"
        ));
    }
    let inv = dir.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        format!(
            "gitops:\n  url: ./gitops.git\nkube:\n  kubeconfig: {}\napps:\n{apps}environments:\n  perf:\n    kube_context: shipdeck-sandbox\n    namespace: {NS}\n",
            sb.kubeconfig_path().display()
        ),
    )
    .unwrap();

    let started = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(&inv)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<(u128, usize)>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first() == Some(&"EV") {
                let _ = tx.send((f[1].parse().unwrap(), f[2].parse().unwrap()));
            }
        }
    });
    loop {
        let (_, found) = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("first snapshot");
        if found == WATCHED_APPS {
            break;
        }
    }
    println!(
        "first full snapshot ({WATCHED_APPS} rollouts derived, {PODS} pods listed): {:?}",
        started.elapsed()
    );

    // Watch latency: change one watched pod, wait for the next snapshot.
    let mut lat = Vec::new();
    for n in 0..20u64 {
        std::thread::sleep(Duration::from_millis(150));
        while rx.try_recv().is_ok() {}
        let t0 = unix_ms();
        touch_pod(&sb, (n as usize) % WATCHED_APPS, 100 + n);
        let (t1, _) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("snapshot after change");
        lat.push(t1.saturating_sub(t0));
    }
    lat.sort_unstable();
    println!(
        "watch latency (server change → derived state in the watcher): median {} ms, p95 {} ms, max {} ms",
        lat[lat.len() / 2],
        lat[lat.len() * 95 / 100],
        lat[lat.len() - 1]
    );

    // Idle.
    std::thread::sleep(Duration::from_secs(2));
    let (c0, _) = proc_stats(pid);
    std::thread::sleep(Duration::from_secs(10));
    let (c1, rss_idle) = proc_stats(pid);
    let mut snaps_idle = 0;
    while rx.try_recv().is_ok() {
        snaps_idle += 1;
    }
    println!(
        "idle 10 s: CPU {:.2} % of a core, RSS {} MB, snapshots sent {snaps_idle}",
        (c1 - c0) as f64 / hz() / 10.0 * 100.0,
        rss_idle / 1024
    );

    // 1,000 events/s for 10 s, spread over all pods.
    let (c0, _) = proc_stats(pid);
    let t = Instant::now();
    let mut n = 0usize;
    let mut peak = 0;
    while t.elapsed() < Duration::from_secs(10) {
        let due = (t.elapsed().as_millis() as usize).min(10_000);
        while n < due {
            touch_pod(&sb, (n * 7919) % PODS, 1000 + n as u64);
            n += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
        peak = peak.max(proc_stats(pid).1);
    }
    let (c1, rss_busy) = proc_stats(pid);
    let mut snaps = 0;
    while rx.try_recv().is_ok() {
        snaps += 1;
    }
    println!(
        "{n} pod changes in 10 s: CPU {:.1} % of a core, RSS {} MB (peak {} MB), snapshots sent {snaps} ({:.1}/s)",
        (c1 - c0) as f64 / hz() / 10.0 * 100.0,
        rss_busy / 1024,
        peak / 1024,
        f64::from(snaps) / 10.0
    );
    child.kill().ok();
    child.wait().ok();
}
