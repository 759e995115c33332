//! The cockpit while far ends misbehave: a release against a silent GitOps remote shows what
//! it waits for and for how long, `esc` ends the wait at once (and the remote is untouched),
//! and the real binary in a terminal answers keys while the remote and the cluster are
//! silent. Key latencies are printed for the closing note, not asserted as a speed.

use std::time::{Duration, Instant};

use shipdeck::app::tasks::{TaskOutcome, TaskState};
use shipdeck::app::{Command, Effect};

use super::proxy::{Fault, Proxy};
use crate::gitops::remote::Daemon;
use crate::ops::World;

/// The world's GitOps remote behind a proxy in front of `git daemon`, `secs` per git call.
async fn remote_through_proxy(w: &World, secs: u64) -> (Daemon, Proxy) {
    let daemon = Daemon::start(&w.root);
    let proxy = Proxy::start(
        format!("127.0.0.1:{}", daemon.port).parse().unwrap(),
        Fault::Pass,
    )
    .await;
    let file_url = format!("url: file://{}/gitops.git", w.root.display());
    let text = std::fs::read_to_string(&w.inventory_path).unwrap().replace(
        &file_url,
        &format!(
            "url: git://{}/gitops.git\n  connect_timeout_secs: 1\n  timeout_secs: {secs}",
            proxy.host()
        ),
    );
    std::fs::write(&w.inventory_path, text).unwrap();
    (daemon, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_waiting_on_a_silent_remote_says_so_and_esc_ends_it_at_once() {
    let w = World::start(false).await;
    let (_daemon, proxy) = remote_through_proxy(&w, 6).await;
    let inv = shipdeck::inventory::Inventory::load(&w.inventory_path).unwrap();
    let mut c = crate::harness::Cockpit::connect(&inv, &w.cockpit_paths()).await;
    let before = w.remote_main();
    proxy.set(Fault::Blackhole);
    let change = shipdeck::app::state::PendingChange {
        action: shipdeck::services::gitops::Action::Release,
        app: "miker-web".into(),
        env: "dev".into(),
        tag: Some("fa17ed1".into()),
        expected_from: None,
        source_env: None,
        override_reason: None,
    };
    let task = c
        .state
        .tasks
        .start("release miker-web dev → fa17ed1", c.state.clock.now_ms);
    c.runner.run(Effect::GitChange { task, change });
    c.until("the task to say what it waits for", |s| {
        s.tasks.running().any(|t| {
            t.progress
                .as_ref()
                .is_some_and(|p| p.note.contains("waiting for the GitOps remote"))
        })
    })
    .await;
    // The Activity panel names the far end and counts the wait.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.apply(shipdeck::app::Action::Tick);
    let screen = crate::ui_snapshots::draw(&c.state, 120, 40);
    assert!(
        screen.contains("waiting for the GitOps remote") && screen.contains(" s)"),
        "{screen}"
    );
    assert!(screen.contains("esc cancels"), "{screen}");
    let pressed = Instant::now();
    c.press(Command::Cancel);
    c.until("the task to end", |s| {
        s.tasks
            .all()
            .iter()
            .all(|t| matches!(t.state, TaskState::Finished(_)))
    })
    .await;
    let ended = pressed.elapsed();
    eprintln!(
        "FAULT GitOps remote | Blackhole | cockpit release, esc | ended {ended:.2?} after esc"
    );
    assert!(
        matches!(
            c.state.tasks.all()[0].state,
            TaskState::Finished(TaskOutcome::Cancelled)
        ),
        "{:?}",
        c.state.tasks.all()
    );
    // Not after the remote's 6 s: at once.
    assert!(ended < Duration::from_secs(2), "esc took {ended:?}");
    // The abandoned attempt ends by its own deadline and writes nothing.
    proxy.set(Fault::Pass);
    let journal = shipdeck::audit::Journal::new(w.cockpit_paths().audit_journal());
    let deadline = Instant::now() + Duration::from_secs(20);
    while journal.read_all().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the cancelled release never journaled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = journal.read_all().unwrap().pop().unwrap();
    assert_ne!(line.result, "ok", "{line:?}");
    assert_eq!(w.remote_main(), before);
    w.shutdown().await;
}

/// Median and worst of a few key presses, each from send to the frame that answers it.
fn key_latencies(s: &mut crate::pty::Screen) -> (Duration, Duration) {
    let mut took = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        s.send("?");
        s.wait_for("the help overlay", |t| t.contains("Help: keys"));
        took.push(t.elapsed());
        let t = Instant::now();
        s.send("\x1b");
        s.wait_for("help to close", |t| !t.contains("Help: keys"));
        took.push(t.elapsed());
    }
    took.sort();
    (took[took.len() / 2], took[took.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_answers_keys_while_the_remote_and_the_cluster_are_silent() {
    let w = World::start(false).await;
    let (_daemon, git) = remote_through_proxy(&w, 5).await;
    let url = w.kube.url();
    let kube = Proxy::start(
        url.trim_start_matches("http://").parse().unwrap(),
        Fault::Pass,
    )
    .await;
    let kc = w.kube.kubeconfig_path().to_path_buf();
    let text = std::fs::read_to_string(&kc)
        .unwrap()
        .replace(&url, &format!("http://{}", kube.host()));
    std::fs::write(&kc, text).unwrap();
    let text = std::fs::read_to_string(&w.inventory_path)
        .unwrap()
        .replacen("\nkube:\n", "\nkube:\n  watch_idle_secs: 3\n", 1);
    std::fs::write(&w.inventory_path, text).unwrap();
    let home = w.root.join(".pty");
    let inv = w.inventory_path.display().to_string();
    let result = tokio::task::spawn_blocking(move || {
        let mut s = crate::pty::Screen::start(&["--inventory", &inv], &home);
        // Two apps: the fleet first; F opens the app screen.
        s.wait_for("the fleet", |t| t.contains("Fleet:"));
        s.send("F");
        s.wait_for("the panels with a live cluster", |t| {
            t.contains("Environments") && t.contains("? help") && t.contains("Progressi")
        });
        let calm = key_latencies(&mut s);
        git.set(Fault::Blackhole);
        kube.set(Fault::Silence);
        let started = Instant::now();
        let mut during = (Duration::ZERO, Duration::ZERO);
        // Keys during the fault, until the screen marks the cluster stale.
        while started.elapsed() < Duration::from_secs(30) {
            let l = key_latencies(&mut s);
            during = (during.0.max(l.0), during.1.max(l.1));
            if s.text().contains("stale since") {
                break;
            }
        }
        let screen = s.text();
        s.send("q");
        let _ = s.wait_exit();
        (calm, during, screen, git, kube)
    })
    .await
    .unwrap();
    let (calm, during, screen, _git, _kube) = result;
    eprintln!(
        "FAULT cockpit keys | none | ? / esc | median {:.1?} worst {:.1?}",
        calm.0, calm.1
    );
    eprintln!(
        "FAULT cockpit keys | git Blackhole + kube Silence | ? / esc | median {:.1?} worst {:.1?}",
        during.0, during.1
    );
    assert!(
        screen.contains("stale since"),
        "the cluster was never marked stale:\n{screen}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_waiting_for_the_clone_lock_names_its_holder_and_esc_ends_it() {
    let w = World::start(false).await;
    let mut c = crate::ops::cockpit(&w).await;
    // Another shipdeck (PID 4242, as far as the file says) holds the working clone.
    let dir = shipdeck::services::gitops::working_dir(&w.inv.gitops_url(), &w.cockpit_paths());
    let lock_path = dir.with_extension("lock");
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    std::fs::write(&lock_path, "4242").unwrap();
    let change = shipdeck::app::state::PendingChange {
        action: shipdeck::services::gitops::Action::Release,
        app: "miker-web".into(),
        env: "dev".into(),
        tag: Some("fa17ed1".into()),
        expected_from: None,
        source_env: None,
        override_reason: None,
    };
    let task = c
        .state
        .tasks
        .start("release miker-web dev → fa17ed1", c.state.clock.now_ms);
    c.runner.run(Effect::GitChange { task, change });
    c.until("the task to name the lock's holder", |s| {
        s.tasks.running().any(|t| {
            t.progress
                .as_ref()
                .is_some_and(|p| p.note.contains("lock held by PID 4242"))
        })
    })
    .await;
    let pressed = Instant::now();
    c.press(Command::Cancel);
    c.until("the task to end", |s| {
        s.tasks
            .all()
            .iter()
            .all(|t| matches!(t.state, TaskState::Finished(_)))
    })
    .await;
    eprintln!(
        "FAULT clone lock | held by another process | cockpit release, esc | ended {:.2?} after esc",
        pressed.elapsed()
    );
    assert!(pressed.elapsed() < Duration::from_secs(1));
    assert!(matches!(
        c.state.tasks.all()[0].state,
        TaskState::Finished(TaskOutcome::Cancelled)
    ));
    drop(held);
    w.shutdown().await;
}
