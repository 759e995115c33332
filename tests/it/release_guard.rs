//! The release guard (`shipdeck guard`, issue 20) against the sandbox: a bad build's canary in
//! stg fails its analysis, and of two guard replicas (each its own clients, folders and
//! Lease identity) exactly one rolls git back, once, with one card per chat; the leader
//! killed, the other takes the Lease within its duration and writes nothing again; dev, which
//! has no `auto_rollback`, keeps its bad tag; `--dry-run` writes nothing; `rollout wait` ends
//! with each of its exit codes; `deploy/guard/` passes `kubectl apply --dry-run=server`.
//! (The promotion guard of releases is `guard.rs`.)

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use shipdeck::audit::Journal;
use shipdeck::guard::{Guard, GuardOpts};
use shipdeck::ops::OpCtx;
use shipdeck::ops::gitops::ChangeSpec;
use shipdeck::paths::Paths;
use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::Action;
use tokio::time::Instant;

use crate::ops::World;

const STG_FILE: &str = "apps/miker-web/overlays/stg/kustomization.yaml";
const DEV_FILE: &str = "apps/miker-web/overlays/dev/kustomization.yaml";

/// Releases `tag` to `env` through the release op, as a person would (the gates are left
/// out: the sandbox's GitHub has no CI runs for made-up tags, and gates are not the subject).
async fn release(w: &World, env: &str, tag: &str) {
    let mut inv = w.inv.clone();
    inv.environments
        .get_mut(env)
        .unwrap()
        .required_checks
        .clear();
    let ctx = OpCtx::new(Arc::new(inv), w.cli_paths(), false);
    let spec = ChangeSpec::new(Action::Release, "miker-web", env, Some(tag));
    let report = shipdeck::ops::gitops::change(&ctx, spec, TaskCtl::detached())
        .await
        .unwrap();
    assert!(report.outcome.pushed, "{report}");
}

/// Waits (bounded) until `done` holds, re-checking every 50 ms.
async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A guard replica with its own state folder (as a pod has its own disk).
async fn replica(w: &World, name: &str, dry_run: bool) -> Guard {
    let mut opts = GuardOpts::new(name);
    opts.dry_run = dry_run;
    let paths = Paths::under(&w.root.join(format!(".guard-{name}")));
    Guard::start(Arc::new(w.inv.clone()), paths, opts)
        .await
        .unwrap()
}

fn guard_journal(w: &World, name: &str) -> Vec<shipdeck::audit::Entry> {
    let p = Paths::under(&w.root.join(format!(".guard-{name}")));
    if !p.audit_journal().exists() {
        return Vec::new();
    }
    Journal::new(p.audit_journal()).read_all().unwrap()
}

/// The commit messages on the remote's main, newest first.
fn remote_log(bare: &Path) -> Vec<String> {
    crate::gitops::git(bare, &["log", "--format=%B%x00", "main"])
        .split('\0')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// Takes stg's bad canary to its analysis: the spec synced from git, paused at its first
/// step (`rollout wait`), then promoted as a person would.
async fn promote_bad_stg(w: &World, tag: &str) {
    until("Argo CD to sync the bad tag into stg", 60, || {
        w.rollout("miker-stg", "{.spec.template.spec.containers[0].image}")
            .ends_with(&format!(":{tag}"))
    })
    .await;
    let (code, out, err) = w
        .shipdeck(&[
            "rollout",
            "wait",
            "miker-web",
            "--env",
            "stg",
            "--until",
            "paused",
            "--timeout",
            "60",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = w
        .shipdeck(&["rollout", "promote", "miker-web", "--env", "stg"])
        .await;
    assert_eq!(code, 0, "{out}{err}");
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let r = client
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_roll_a_failed_stg_canary_back_once_and_the_survivor_does_not_repeat_it() {
    let w = World::start_at(true, 20.0).await;
    w.stg_canary_paused().await;
    let (a, b) = (replica(&w, "a", false).await, replica(&w, "b", false).await);
    until("one leader and both ready", 30, || {
        a.stats.ready() && b.stats.ready() && (a.stats.is_leader() ^ b.stats.is_leader())
    })
    .await;
    let (code, _) = http_get(a.addr, "/healthz").await;
    assert_eq!(code, 200);
    let (code, _) = http_get(b.addr, "/readyz").await;
    assert_eq!(code, 200);

    // dev has no auto_rollback: its bad build is aborted by its analysis and stays in git.
    release(&w, "dev", "bad0dev").await;
    release(&w, "stg", "bad1234").await;
    let released = w.remote_main();
    promote_bad_stg(&w, "bad1234").await;
    let bare = w.root.join("gitops.git");
    until("the guard to write stg's last good tag", 60, || {
        !w.remote_file(STG_FILE).contains("newTag: bad1234")
    })
    .await;
    let (leader, follower, lname) = if a.stats.is_leader() {
        (a, b, "a")
    } else {
        (b, a, "b")
    };
    let log = remote_log(&bare);
    let rollbacks: Vec<&String> = log
        .iter()
        .filter(|m| m.contains("Shipdeck-Action: rollback"))
        .collect();
    assert_eq!(rollbacks.len(), 1, "{log:#?}");
    let msg = rollbacks[0];
    assert!(
        msg.starts_with("rollback(miker-web): stg bad1234 → "),
        "{msg}"
    );
    assert!(msg.contains("Shipdeck-Actor: shipdeck-guard"), "{msg}");
    assert!(
        msg.contains("Shipdeck-Analysis: ") && msg.contains(": success-rate = [0."),
        "the trailer names the failed analysis, its metric and value: {msg}"
    );
    // The journal line follows the push.
    until("the leader's journal line", 30, || {
        !guard_journal(&w, lname).is_empty()
    })
    .await;
    let lines = guard_journal(&w, lname);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0].action, "rollback");
    assert_eq!(lines[0].actor, "shipdeck-guard");
    assert_eq!(lines[0].from.as_deref(), Some("bad1234"));
    // Counted once the op has returned (just after its journal line).
    until("the leader to count its rollback", 10, || {
        leader.stats.rollbacks.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!(leader.stats.rollbacks.load(Ordering::SeqCst), 1);
    let (_, metrics) = http_get(leader.addr, "/metrics").await;
    assert!(
        metrics.contains("shipdeck_guard_rollbacks_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("shipdeck_guard_leader 1"), "{metrics}");

    // One rollback card per chat that takes rollbacks, with the failing metric and value.
    let rolled = |w: &World| {
        w.fs.messages()
            .into_iter()
            .filter(|m| m.accepted && m.title.starts_with("Rolled back: miker-web stg"))
            .collect::<Vec<_>>()
    };
    until("the rollback cards", 30, || rolled(&w).len() >= 2).await;
    let cards = rolled(&w);
    let mut chats: Vec<&str> = cards.iter().map(|m| m.chat.as_str()).collect();
    chats.sort_unstable();
    assert_eq!(chats, ["platform", "releases"], "{cards:#?}");
    assert!(
        cards
            .iter()
            .all(|m| m.text.contains("analysis failed: ") && m.text.contains(": success-rate = ")),
        "{cards:#?}"
    );

    // The leader dies without giving the Lease up; the follower takes it once it has stood
    // unrenewed for its duration, finds git already rolled back and writes nothing.
    let cfg = w.inv.guard.clone().unwrap();
    let killed = Instant::now();
    leader.kill();
    until("the follower to take the Lease", 30, || {
        follower.stats.is_leader()
    })
    .await;
    let failover = killed.elapsed();
    assert!(
        failover <= Duration::from_secs(cfg.lease_duration_secs + 2 * cfg.renew_secs),
        "failover took {failover:?}"
    );
    // It settles what it saw fail: found rolled back in git, or gone from the rollout.
    until("the new leader to settle the failure it saw", 30, || {
        follower.stats.pending() == 0
    })
    .await;
    assert_eq!(follower.stats.rollbacks.load(Ordering::SeqCst), 0);
    assert_eq!(remote_log(&bare).len(), log.len(), "no second commit");
    assert_eq!(rolled(&w).len(), 2, "no second card");

    // dev was left alone: its bad build is still what git says.
    until("dev's bad canary to be aborted by its analysis", 60, || {
        w.rollout("miker-dev", "{.status.abort}") == "true"
    })
    .await;
    assert!(w.remote_file(DEV_FILE).contains("newTag: bad0dev"));
    assert_ne!(w.remote_main(), released);
    follower.stop().await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_says_what_it_would_roll_back_and_writes_nothing() {
    let w = World::start_at(true, 20.0).await;
    w.stg_canary_paused().await;
    let g = replica(&w, "dry", true).await;
    until("the leader", 30, || g.stats.is_leader() && g.stats.ready()).await;
    release(&w, "stg", "bad5678").await;
    let head = w.remote_main();
    promote_bad_stg(&w, "bad5678").await;
    until("the dry run's plan", 60, || {
        g.stats.dry_runs.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the rollout to stand aborted", 30, || {
        w.rollout("miker-stg", "{.status.abort}") == "true"
    })
    .await;
    assert_eq!(w.remote_main(), head, "git untouched");
    assert!(w.remote_file(STG_FILE).contains("newTag: bad5678"));
    assert!(guard_journal(&w, "dry").is_empty(), "no journal line");
    assert!(
        !w.fs
            .messages()
            .iter()
            .any(|m| m.title.starts_with("Rolled back")),
        "no card"
    );
    assert_eq!(g.stats.rollbacks.load(Ordering::SeqCst), 0);
    g.stop().await;
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_wait_exits_0_when_reached_1_on_another_end_and_124_on_timeout() {
    let w = World::start_at(true, 20.0).await;
    w.stg_canary_paused().await;
    let wait = |env: &'static str, until: &'static str, secs: &'static str| {
        let w = &w;
        async move {
            w.shipdeck(&[
                "rollout",
                "wait",
                "miker-web",
                "--env",
                env,
                "--until",
                until,
                "--timeout",
                secs,
            ])
            .await
        }
    };
    let (code, out, err) = wait("stg", "paused", "30").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("miker-web stg: Paused"), "{out}");
    let started = Instant::now();
    let (code, out, err) = wait("stg", "healthy", "2s").await;
    assert_eq!(code, 124, "{out}{err}");
    assert!(err.contains("not healthy within 2 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));

    release(&w, "dev", "bad9abc").await;
    until("dev's bad canary to be aborted", 60, || {
        w.rollout("miker-dev", "{.status.abort}") == "true"
    })
    .await;
    let (code, out, err) = wait("dev", "degraded", "30").await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = wait("dev", "healthy", "30").await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("ended Degraded"), "{err}");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_guard_passes_a_server_side_dry_run_and_creates_nothing() {
    let w = World::start(false).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/guard");
    let out = w.kubectl(&["apply", "--dry-run=server", "-f", dir.to_str().unwrap()]);
    for kind in [
        "deployment.apps/shipdeck-guard",
        "serviceaccount/shipdeck-guard",
        "role.rbac.authorization.k8s.io/shipdeck-guard-lease",
        "rolebinding.rbac.authorization.k8s.io/shipdeck-guard",
        "configmap/shipdeck-guard",
    ] {
        assert!(
            out.contains(&format!("{kind} created (server dry run)")),
            "{out}"
        );
    }
    let left = w.kubectl(&[
        "get",
        "deployments,serviceaccounts,roles",
        "-n",
        "shipdeck",
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), "", "a dry run stores nothing");
    // The Deployment runs two replicas of `shipdeck guard`, and the Lease Role has exactly
    // the election's verbs.
    let text = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    assert!(
        text.contains("replicas: 2") && text.contains("\"guard\""),
        "{text}"
    );
    let rbac = std::fs::read_to_string(dir.join("rbac.yaml")).unwrap();
    assert!(
        rbac.contains(r#"verbs: ["get", "create", "update"]"#),
        "{rbac}"
    );
    w.shutdown().await;
}

/// With a `prometheus:` section, a canary whose SLO breaches on `slo_breaches` reads in a row
/// is rolled back while it still waits at its pause, before any analysis runs: the sandbox's
/// metrics of a `bad…` canary breach its error rate at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_breaching_its_slo_on_consecutive_reads_is_rolled_back_before_its_analysis() {
    let w = World::start_at(true, 20.0).await;
    w.stg_canary_paused().await;
    let store = w.kube.store().clone();
    let prom = shipdeck::sandbox::prometheus::PromSandbox::start(Arc::new(move |app, ns| {
        shipdeck::sandbox::kube::rollout_tag(&store, ns, app)
    }))
    .await
    .unwrap();
    let mut inv = w.inv.clone();
    inv.prometheus = Some(shipdeck::inventory::PrometheusConfig {
        url: prom.url().to_owned(),
        token_env: None,
        connect_timeout_secs: Some(2),
        timeout_secs: Some(5),
    });
    let guard = inv.guard.as_mut().unwrap();
    guard.slo_breaches = 2;
    guard.slo_every_secs = 1;
    let paths = Paths::under(&w.root.join(".guard-slo"));
    let g = Guard::start(Arc::new(inv), paths, GuardOpts::new("slo"))
        .await
        .unwrap();
    until("the guard to lead", 30, || {
        g.stats.is_leader() && g.stats.ready()
    })
    .await;

    release(&w, "stg", "bad5100").await;
    until("Argo CD to sync the bad tag into stg", 60, || {
        w.rollout("miker-stg", "{.spec.template.spec.containers[0].image}")
            .ends_with(":bad5100")
    })
    .await;
    until("the guard to write stg's last good tag", 60, || {
        !w.remote_file(STG_FILE).contains("newTag: bad5100")
    })
    .await;
    let log = remote_log(&w.root.join("gitops.git"));
    let msg = log
        .iter()
        .find(|m| m.contains("Shipdeck-Action: rollback"))
        .unwrap();
    assert!(
        msg.starts_with("rollback(miker-web): stg bad5100 → "),
        "{msg}"
    );
    assert!(
        msg.contains("Shipdeck-Analysis: SLO breached on 2 reads in a row: canary error rate"),
        "{msg}"
    );
    // Its analysis never ran: the canary was still at its pause when it was aborted.
    let runs = w.rollout(
        "miker-stg",
        "{.status.canary.currentStepAnalysisRunStatus.name}",
    );
    assert!(runs.is_empty(), "an analysis ran: {runs}");
    // Both halves: the journal line says the canary was aborted in the cluster too.
    until("the guard's journal line", 30, || {
        !guard_journal(&w, "slo").is_empty()
    })
    .await;
    let lines = guard_journal(&w, "slo");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0].actor, "shipdeck-guard");
    let cluster = lines[0].detail["cluster"].to_string();
    assert!(cluster.contains("aborted"), "{:#?}", lines[0]);
    assert!(!lines[0].result.starts_with("partial"), "{:#?}", lines[0]);
    until("the guard to count its rollback", 10, || {
        g.stats.rollbacks.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert_eq!(g.stats.rollbacks.load(Ordering::SeqCst), 1);
    g.stop().await;
    prom.shutdown().await;
    w.shutdown().await;
}
