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
        let _w = shipdeck::services::kube::spawn_watches(
            &inv,
            tx,
            &shipdeck::services::kube::watch::PodScope::All,
        )
        .unwrap();
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

    let watcher = measure(pid, &sb, || {
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        n
    });
    child.kill().ok();
    child.wait().ok();

    // Side by side, one after the other on the same sandbox and the same load: our full
    // cockpit (watches + UI) and kdash, both in a 160x45 pseudo-terminal that is read
    // continuously (so neither is slowed by a full pty buffer).
    let home = tempfile::tempdir().unwrap();
    let mut cockpit = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    cockpit
        .arg("--inventory")
        .arg(&inv)
        .env("SHIPDECK_CONFIG", home.path().join("config"))
        .env("SHIPDECK_DATA", home.path().join("data"))
        .env("SHIPDECK_STATE", home.path().join("state"));
    let tui = Tui::spawn(&cockpit);
    tui.wait_for("Rollout: app-0000", Duration::from_secs(120));
    tui.wait_for("Healthy", Duration::from_secs(120));
    // Change on the API server → the cockpit's screen shows it: the selected Rollout's status
    // message, as the controller would write it.
    let mut lat = Vec::new();
    for n in 0..20u64 {
        std::thread::sleep(Duration::from_millis(150));
        let needle = format!("bench-{n:02}");
        let seen = tui.expect(&needle);
        let t0 = Instant::now();
        sb.store()
            .update(ro_id, NS, "app-0000", WriteMode::Internal, None, |v| {
                let mut v = v.clone();
                v["status"]["phase"] = json!("Paused");
                v["status"]["message"] = json!(needle);
                Ok(v)
            })
            .unwrap();
        let at = seen
            .recv_timeout(Duration::from_secs(10))
            .expect("the change on screen");
        lat.push(at.duration_since(t0).as_millis());
    }
    lat.sort_unstable();
    let screen_latency = (
        lat[lat.len() / 2],
        lat[lat.len() * 95 / 100],
        lat[lat.len() - 1],
    );
    let ours = measure(tui.pid, &sb, || 0);
    tui.stop();

    let kdash = kdash_binary().map(|bin| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.env("KUBECONFIG", sb.kubeconfig_path());
        let tui = Tui::spawn(&cmd);
        // kdash lists every namespace's pods by default: wait until it shows all of them.
        tui.wait_for(&format!("[{PODS}]"), Duration::from_secs(180));
        let f = measure(tui.pid, &sb, || 0);
        tui.stop();
        f
    });

    println!();
    println!(
        "side by side ({PODS} pods + {ROLLOUTS} rollouts, idle 10 s, then 1,000 pod changes/s for 10 s):"
    );
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "", "idle CPU", "idle RSS", "busy CPU", "busy RSS", "peak RSS"
    );
    let row = |name: &str, f: &Figures| {
        println!(
            "{name:<36} {:>9.2}% {:>7} MB {:>9.1}% {:>7} MB {:>7} MB",
            f.idle_cpu,
            f.idle_rss / 1024,
            f.busy_cpu,
            f.busy_rss / 1024,
            f.peak_rss / 1024
        );
    };
    row("shipdeck watches (no UI)", &watcher);
    println!(
        "{:<36} snapshots sent: {} idle, {} busy ({:.1}/s)",
        "",
        watcher.idle_extra,
        watcher.busy_extra,
        f64::from(watcher.busy_extra) / 10.0
    );
    row("shipdeck cockpit (TUI, 50 apps)", &ours);
    println!(
        "{:<36} change on the API server → on screen: median {} ms, p95 {} ms, max {} ms",
        "", screen_latency.0, screen_latency.1, screen_latency.2
    );
    match &kdash {
        Some(f) => row("kdash 2.1.1 (TUI, all namespaces)", f),
        None => println!(
            "kdash: not found. Install it (`cargo install kdash --version 2.1.1 --locked`) and put it on PATH or in KDASH=/path/to/kdash"
        ),
    }
}

/// One process's figures: CPU in % of a core, memory in kB.
struct Figures {
    idle_cpu: f64,
    idle_rss: u64,
    busy_cpu: f64,
    busy_rss: u64,
    peak_rss: u64,
    /// Whatever the caller counts per phase (snapshots for the watcher).
    idle_extra: u32,
    busy_extra: u32,
}

/// 10 s idle (after 2 s to settle), then 10 s of 1,000 pod changes per second spread over every
/// pod; `count` is called at the end of each phase.
fn measure(pid: u32, sb: &KubeSandbox, mut count: impl FnMut() -> u32) -> Figures {
    // Each call writes values no earlier call wrote (the store drops writes that change nothing).
    static ROUND: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    std::thread::sleep(Duration::from_secs(2));
    count();
    let (c0, _) = proc_stats(pid);
    std::thread::sleep(Duration::from_secs(10));
    let (c1, idle_rss) = proc_stats(pid);
    let idle_extra = count();

    let base = ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 1_000_000;
    let (c2, _) = proc_stats(pid);
    let t = Instant::now();
    let mut n = 0usize;
    let mut peak = 0;
    while t.elapsed() < Duration::from_secs(10) {
        let due = (t.elapsed().as_millis() as usize).min(10_000);
        while n < due {
            touch_pod(sb, (n * 7919) % PODS, base + n as u64);
            n += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
        peak = peak.max(proc_stats(pid).1);
    }
    let (c3, busy_rss) = proc_stats(pid);
    let busy_extra = count();
    Figures {
        idle_cpu: (c1 - c0) as f64 / hz() / 10.0 * 100.0,
        idle_rss,
        busy_cpu: (c3 - c2) as f64 / hz() / 10.0 * 100.0,
        busy_rss,
        peak_rss: peak.max(busy_rss),
        idle_extra,
        busy_extra,
    }
}

/// `KDASH`, else `kdash` on PATH.
fn kdash_binary() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("KDASH") {
        return Some(std::path::PathBuf::from(p)).filter(|p| p.is_file());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kdash"))
            .find(|p| p.is_file())
    })
}

const COLS: u16 = 160;
const ROWS: u16 = 45;

type Needle = std::sync::Arc<std::sync::Mutex<Option<(String, mpsc::Sender<Instant>)>>>;

/// A terminal program in a pseudo-terminal, its output read and parsed on a thread.
struct Tui {
    pid: u32,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
    /// A text to watch for, checked after every chunk of output, and where to say when.
    needle: Needle,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    reader: std::thread::JoinHandle<()>,
}

impl Tui {
    fn spawn(cmd: &std::process::Command) -> Tui {
        use std::io::Write as _;
        use std::sync::atomic::Ordering;
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c")
            .arg(format!(
                "stty cols {COLS} rows {ROWS} && exec \"$0\" \"$@\""
            ))
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .env("TERM", "xterm-256color");
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        let mut session = expectrl::session::OsSession::spawn(sh).expect("spawn in a pty");
        let pid = u32::try_from(session.get_process().pid().as_raw()).unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let needle: Needle = std::sync::Arc::default();
        let (scr, st, ndl) = (screen.clone(), stop.clone(), needle.clone());
        let reader = std::thread::spawn(move || {
            let mut parser = vt100::Parser::new(ROWS, COLS, 0);
            let mut buf = vec![0u8; 65536];
            let mut last = Instant::now();
            while !st.load(Ordering::Relaxed) {
                let mut got = false;
                while let Ok(n) = session.try_read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got = true;
                    parser.process(&buf[..n]);
                    if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                        let (r, c) = parser.screen().cursor_position();
                        let _ = session.write_all(format!("\x1b[{};{}R", r + 1, c + 1).as_bytes());
                    }
                }
                if got {
                    let mut guard = ndl.lock().unwrap();
                    if guard
                        .as_ref()
                        .is_some_and(|(text, _)| parser.screen().contents().contains(text.as_str()))
                        && let Some((_, tx)) = guard.take()
                    {
                        let _ = tx.send(Instant::now());
                    }
                }
                if got && last.elapsed() > Duration::from_millis(100) {
                    *scr.lock().unwrap() = parser.screen().contents();
                    last = Instant::now();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            *scr.lock().unwrap() = parser.screen().contents();
            let _ = session
                .get_process_mut()
                .signal(expectrl::process::unix::Signal::SIGTERM);
            let _ = session.get_process().wait();
        });
        Tui {
            pid,
            screen,
            needle,
            stop,
            reader,
        }
    }

    /// Reports the instant `text` first appears on screen from now on.
    fn expect(&self, text: &str) -> mpsc::Receiver<Instant> {
        let (tx, rx) = mpsc::channel();
        *self.needle.lock().unwrap() = Some((text.to_owned(), tx));
        rx
    }

    fn wait_for(&self, text: &str, limit: Duration) {
        let t = Instant::now();
        loop {
            if self.screen.lock().unwrap().contains(text) {
                return;
            }
            assert!(
                t.elapsed() < limit,
                "{text:?} never appeared; screen:\n{}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.reader.join().unwrap();
    }
}
