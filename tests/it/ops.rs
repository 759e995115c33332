//! One path for every action: each op runs once through the cockpit (keys → update → the
//! driver's effect → `ops`) and once through the real binary's headless command, each in a
//! world of its own seeded the same way (demo workspace, sandbox Kubernetes, GitHub and
//! Feishu). The journal lines, the GitOps remote, the objects on the API server (read with
//! the real `kubectl`) and the cards the Feishu sandbox received must agree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use shipdeck::app::tasks::TaskState;
use shipdeck::app::{Action, Command, Effect, Overlay};
use shipdeck::audit::{Entry, Journal};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};
use shipdeck::sandbox::github::GithubSandbox;
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions};

use crate::harness::Cockpit;

/// A demo world: workspace, sandbox servers, and where each path keeps its state.
pub struct World {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub inv: Inventory,
    pub inventory_path: PathBuf,
    pub fs: FeishuSandbox,
    pub gh: GithubSandbox,
    pub kube: KubeSandbox,
}

impl World {
    /// `controllers`: run the simulated Argo Rollouts / Argo CD (off: objects only change when
    /// someone writes them, so a resourceVersion says whether anything was written).
    pub async fn start(controllers: bool) -> World {
        Self::start_at(controllers, 1.0).await
    }

    /// As [`World::start`], the simulated controllers running `speed` times real time.
    pub async fn start_at(controllers: bool, speed: f64) -> World {
        Self::start_with(controllers, speed, 1.0).await
    }

    /// As [`World::start_at`], the sandbox GitHub's CI runs `ci_speed` times real time.
    pub async fn start_with(controllers: bool, speed: f64, ci_speed: f64) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let gh = crate::harness::demo_github(ci_speed).await;
        let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
            .await
            .unwrap();
        fs.write_demo_files(&root).unwrap();
        let endpoints = shipdeck::demo::Endpoints {
            github_api: Some(gh.url().to_owned()),
            kubeconfig: Some(root.join("kube/kubeconfig")),
            feishu_section: Some(fs.demo_inventory_section()),
            prometheus_url: None,
            world: None,
        };
        let ws = shipdeck::demo::prepare(Some(&root), &endpoints).unwrap();
        let inv = Inventory::load(&ws.inventory_path).unwrap();
        let mut opts = KubeSandboxOptions::new(root.join("kube"));
        opts.inventory = Some(inv.clone());
        opts.controllers = controllers;
        opts.speed = speed;
        let kube = KubeSandbox::start(opts).await.unwrap();
        World {
            _dir: dir,
            root,
            inv,
            inventory_path: ws.inventory_path,
            fs,
            gh,
            kube,
        }
    }

    /// The cockpit's folders.
    pub fn cockpit_paths(&self) -> Paths {
        Paths::under(&self.root.join(".cockpit"))
    }

    /// The headless commands' folders.
    pub fn cli_paths(&self) -> Paths {
        Paths::under(&self.root.join(".cli"))
    }

    /// Runs the real binary on this world's inventory (`--yes`, no terminal).
    pub async fn shipdeck(&self, args: &[&str]) -> (i32, String, String) {
        let p = self.cli_paths();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .arg("--inventory")
            .arg(&self.inventory_path)
            .arg("--yes")
            .args(args)
            .env("SHIPDECK_CONFIG", &p.config_dir)
            .env("SHIPDECK_DATA", &p.data_dir)
            .env("SHIPDECK_STATE", &p.state_dir)
            .env_remove("GITOPS_REPO_DIR")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A jsonpath of an app's Rollout in an env's namespace, read with the real `kubectl`.
    pub fn rollout(&self, ns: &str, jsonpath: &str) -> String {
        crate::harness::kubectl_get(
            self.kube.kubeconfig_path(),
            ns,
            &["rollout", "miker-web"],
            jsonpath,
        )
    }

    /// The real `kubectl` on this world's API server; its stdout (a failure fails the test).
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.kube.kubeconfig_path())
            .args(args)
            .output()
            .expect("kubectl must be installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Waits until the stg canary is paused mid-way (the demo's first pause).
    pub async fn stg_canary_paused(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.rollout("miker-stg", "{.status.phase}") != "Paused" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stg canary never paused: {}",
                self.rollout("miker-stg", "{.status}")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A file of the GitOps remote's main branch.
    pub fn remote_file(&self, path: &str) -> String {
        crate::gitops::remote_file(&self.root.join("gitops.git"), path)
    }

    /// The remote's main commit.
    pub fn remote_main(&self) -> String {
        crate::gitops::remote_main(&self.root.join("gitops.git"))
    }

    /// Accepted cards as (chat, title), sorted.
    pub fn cards(&self) -> Vec<(String, String)> {
        let mut c: Vec<(String, String)> = self
            .fs
            .messages()
            .into_iter()
            .filter(|m| m.accepted)
            .map(|m| (m.chat, m.title))
            .collect();
        c.sort();
        c
    }

    pub async fn shutdown(self) {
        self.kube.shutdown().await;
        self.fs.shutdown().await;
        self.gh.shutdown().await;
    }
}

/// A cockpit on a world, its git read.
pub async fn cockpit(w: &World) -> Cockpit {
    let mut c = Cockpit::connect(&w.inv, &w.cockpit_paths()).await;
    c.apply(Action::RefreshGit);
    c.until("git read", |s| s.gitops == shipdeck::app::state::Feed::Live)
        .await;
    c
}

fn journal(paths: &Paths) -> Vec<Entry> {
    Journal::new(paths.audit_journal()).read_all().unwrap()
}

/// A journal line without what differs between two runs of the same request: when, how long,
/// which commit id, which folder.
fn normalized(e: &Entry, root: &Path) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["time", "duration_ms", "commit"] {
        o.remove(k);
    }
    if let Some(d) = o.get_mut("detail").and_then(|d| d.as_object_mut()) {
        d.remove("remote");
        d.remove("duration_ms");
        if let Some(c) = d.get_mut("cluster").and_then(|c| c.as_object_mut()) {
            c.remove("duration_ms");
            c.remove("note");
        }
    }
    let text = serde_json::to_string(&v)
        .unwrap()
        .replace(&root.display().to_string(), "<world>");
    serde_json::from_str(&text).unwrap()
}

/// The two journals hold the same lines, and they name a real actor.
fn same_journal(a: &World, b: &World) -> Vec<Entry> {
    let ja = journal(&a.cockpit_paths());
    let jb = journal(&b.cli_paths());
    let na: Vec<_> = ja.iter().map(|e| normalized(e, &a.root)).collect();
    let nb: Vec<_> = jb.iter().map(|e| normalized(e, &b.root)).collect();
    assert_eq!(na, nb, "cockpit journal vs headless journal");
    assert!(!ja.is_empty(), "the op wrote no journal line");
    let local = shipdeck::ops::Actor::local(None).name;
    for e in &ja {
        assert_ne!(e.actor, "unknown");
        assert_eq!(e.actor, local, "{e:?}");
    }
    ja
}

/// Waits until both worlds' Feishu sandboxes received the same cards (at least one).
async fn same_cards(a: &World, b: &World) -> Vec<(String, String)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (ca, cb) = (a.cards(), b.cards());
        if !ca.is_empty() && ca == cb {
            return ca;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cards differ: cockpit {ca:#?} headless {cb:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_is_one_op_from_the_keys_and_the_cli() {
    let (a, b) = (World::start(true).await, World::start(true).await);
    let file = "apps/miker-web/overlays/dev/kustomization.yaml";

    let mut c = cockpit(&a).await;
    c.select_env("dev");
    c.press(Command::Release);
    c.type_text("abc1234");
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(line.contains("pushed"), "{line}");

    let (code, _, err) = b
        .shipdeck(&["release", "miker-web", "--env", "dev", "--tag", "abc1234"])
        .await;
    assert_eq!(code, 0, "{err}");

    assert_eq!(a.remote_file(file), b.remote_file(file));
    assert!(a.remote_file(file).contains("newTag: abc1234"));
    let lines = same_journal(&a, &b);
    assert_eq!(lines[0].action, "release");
    assert_eq!(lines[0].result, "ok");
    let cards = same_cards(&a, &b).await;
    assert!(
        cards
            .iter()
            .all(|(_, t)| t.starts_with("Release started: miker-web dev")),
        "{cards:#?}"
    );
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_aborts_and_writes_git_both_ways_and_a_second_run_is_a_no_op() {
    let (a, b) = (World::start(true).await, World::start(true).await);
    let file = "apps/miker-web/overlays/stg/kustomization.yaml";
    a.stg_canary_paused().await;
    b.stg_canary_paused().await;

    let mut c = cockpit(&a).await;
    c.select_env("stg");
    c.press(Command::Rollback);
    c.until("the history", |s| {
        matches!(
            &s.overlay,
            Some(Overlay::Rollback {
                history: Some(_),
                ..
            })
        )
    })
    .await;
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(line.contains("cluster: aborted"), "{line}");

    let (code, out, err) = b.shipdeck(&["rollback", "miker-web", "--env", "stg"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cluster: aborted"), "{out}");

    // Both halves, both ways: the abort went out (the journal and the task line say so; the
    // flag itself is cleared once Argo CD syncs the old tag back into the pod template), and
    // the tag that ran before is in git and, synced, in the cluster.
    for w in [&a, &b] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !w
            .rollout("miker-stg", "{.spec.template.spec.containers[0].image}")
            .ends_with(":71be0e3")
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}",
                w.rollout("miker-stg", "{.spec.template.spec.containers[0].image}")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(a.remote_file(file), b.remote_file(file));
    assert!(a.remote_file(file).contains("newTag: 71be0e3"));
    let lines = same_journal(&a, &b);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].action, "rollback");
    assert_eq!(lines[0].kube_user.as_deref(), Some("sandbox-user"));
    assert_eq!(lines[0].detail["cluster"]["aborted"], true);
    let cards = same_cards(&a, &b).await;
    assert!(
        cards
            .iter()
            .all(|(_, t)| t.starts_with("Rolled back: miker-web stg")),
        "one card per chat, the rollback's: {cards:#?}"
    );

    // A retried script changes nothing and says so.
    let head = b.remote_main();
    let (code, out, err) = b.shipdeck(&["rollback", "miker-web", "--env", "stg"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("already rolled back to 71be0e3"), "{out}");
    assert_eq!(b.remote_main(), head);
    let again = journal(&b.cli_paths());
    assert_eq!(again.last().unwrap().result, "ok: no change");
    // --dry-run only says what it would do.
    let (code, out, _) = b
        .shipdeck(&["rollback", "miker-web", "--env", "stg", "--dry-run"])
        .await;
    assert_eq!(code, 0);
    assert!(out.contains("stays at 71be0e3"), "{out}");
    assert_eq!(journal(&b.cli_paths()).len(), again.len());
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_abort_is_one_op_from_the_cockpit_and_the_cli() {
    let (a, b) = (World::start(true).await, World::start(true).await);
    a.stg_canary_paused().await;
    b.stg_canary_paused().await;

    // The effect the confirmed `a` key emits, run by the driver's runner.
    let mut c = cockpit(&a).await;
    let task = c
        .state
        .tasks
        .start("abort miker-web stg", c.state.clock.now_ms);
    c.runner.run(Effect::RolloutAction {
        task,
        app: "miker-web".into(),
        env: "stg".into(),
        action: shipdeck::services::kube::actions::RolloutAction::Abort,
    });
    let line = c.finish_task().await;
    assert!(
        line.starts_with("abort miker-web stg: sent (status)"),
        "{line}"
    );

    let (code, _, err) = b
        .shipdeck(&["rollout", "abort", "miker-web", "--env", "stg"])
        .await;
    assert_eq!(code, 0, "{err}");

    for w in [&a, &b] {
        assert_eq!(w.rollout("miker-stg", "{.status.abort}"), "true");
    }
    let lines = same_journal(&a, &b);
    assert_eq!(lines[0].action, "rollout-abort");
    // The cluster's name for us is beside the actor (a SelfSubjectReview), and the API server
    // sees who calls: every request of ours says shipdeck/<version>, every write names the
    // field manager, and managedFields keep it.
    assert_eq!(lines[0].kube_user.as_deref(), Some("sandbox-user"));
    for w in [&a, &b] {
        let ours: Vec<_> = w
            .kube
            .requests()
            .into_iter()
            .filter(|r| !r.user_agent.as_deref().unwrap_or("").starts_with("kubectl"))
            .collect();
        assert!(!ours.is_empty());
        let ua = concat!("shipdeck/", env!("CARGO_PKG_VERSION"));
        assert!(
            ours.iter().all(|r| r.user_agent.as_deref() == Some(ua)),
            "{ours:#?}"
        );
        let writes: Vec<_> = ours
            .iter()
            .filter(|r| r.method == "PATCH" || r.method == "POST")
            .collect();
        assert!(writes.iter().any(|r| r.method == "PATCH"), "{writes:#?}");
        assert!(
            writes
                .iter()
                .all(|r| r.field_manager.as_deref() == Some("shipdeck")),
            "{writes:#?}"
        );
        let managers = crate::harness::kubectl_get(
            w.kube.kubeconfig_path(),
            "miker-stg",
            &["rollout", "miker-web", "--show-managed-fields"],
            "{.metadata.managedFields[*].manager}",
        );
        assert!(managers.split(' ').any(|m| m == "shipdeck"), "{managers}");
    }
    let cards = same_cards(&a, &b).await;
    assert_eq!(
        cards
            .iter()
            .filter(|(_, t)| t.starts_with("Canary aborted"))
            .count(),
        2,
        "one card per chat: {cards:#?}"
    );
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotation_is_one_op_from_the_view_and_the_cli() {
    let (a, b) = (World::start(false).await, World::start(false).await);
    let mut c = cockpit(&a).await;
    c.press(Command::Secrets);
    c.until("the secrets table", |s| s.secrets.rows.is_some())
        .await;
    c.key('a');
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.starts_with("rotate 4 secret files: 4 changed"),
        "{line}"
    );

    let (code, _, err) = b.shipdeck(&["secrets", "rotate"]).await;
    assert_eq!(code, 0, "{err}");

    let lines = same_journal(&a, &b);
    assert_eq!(lines[0].action, "secrets-rotate");
    let cards = same_cards(&a, &b).await;
    assert!(
        cards.iter().all(|(_, t)| t.starts_with("Secrets rotated")),
        "{cards:#?}"
    );
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmp_clean_is_one_op_from_the_view_and_the_cli() {
    let (a, b) = (World::start(false).await, World::start(false).await);
    let mut c = cockpit(&a).await;
    c.press(Command::Tmp);
    c.until("the tmp preview", |s| {
        s.tmp.rows.is_some() || s.tmp.error.is_some()
    })
    .await;
    c.press(Command::Apply);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(line.starts_with("tmp: removed"), "{line}");

    let (code, _, err) = b.shipdeck(&["tmp", "clean"]).await;
    assert_eq!(code, 0, "{err}");

    let left = |w: &World| {
        let mut names: Vec<String> = std::fs::read_dir(w.root.join("tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(left(&a), left(&b));
    let lines = same_journal(&a, &b);
    assert_eq!(lines[0].action, "tmp-clean");
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feishu_member_sync_is_one_op_from_the_view_and_the_cli() {
    let (a, b) = (World::start(false).await, World::start(false).await);
    let mut c = cockpit(&a).await;
    c.press(Command::Feishu);
    c.until("the sync plan", |s| {
        s.feishu.lines.is_some() || s.feishu.error.is_some()
    })
    .await;
    assert_eq!(c.state.feishu.error, None);
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.starts_with("feishu sync: 3 added, 1 removed"),
        "{line}"
    );

    let (code, _, err) = b.shipdeck(&["feishu", "sync", "--apply"]).await;
    assert_eq!(code, 0, "{err}");

    for chat in ["releases", "platform"] {
        assert_eq!(a.fs.chat_members(chat), b.fs.chat_members(chat), "{chat}");
    }
    let lines = same_journal(&a, &b);
    assert_eq!(lines[0].action, "feishu-sync");
    assert_eq!(lines[0].detail["added"], 3);
    c.runner.cancel_all();
    a.shutdown().await;
    b.shutdown().await;
}

/// Everything a test can see change: the remote, the files, the objects, the chats.
fn fingerprint(w: &World) -> Vec<String> {
    let mut out = vec![
        w.remote_main(),
        w.rollout("miker-stg", "{.metadata.resourceVersion}"),
        w.rollout("miker-dev", "{.metadata.resourceVersion}"),
        // No refresh asked for, no operation written.
        crate::harness::kubectl_get(
            w.kube.kubeconfig_path(),
            "argocd",
            &["application", "miker-web-dev"],
            "{.metadata.annotations}{.operation}",
        ),
        format!("{}", w.fs.messages().len()),
        format!("{:?}", w.fs.chat_members("releases")),
    ];
    let mut secrets = walk(&w.root.join("secrets"));
    secrets.sort();
    for f in secrets {
        let bytes = std::fs::read(&f).unwrap_or_default();
        out.push(format!("{} {}", f.display(), sha(&bytes)));
    }
    // tmp holds large (sparse) files: who they are and when they changed is enough.
    let mut tmp = walk(&w.root.join("tmp"));
    tmp.sort();
    for f in tmp {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(&f).unwrap();
        out.push(format!(
            "{} {} {} {}",
            f.display(),
            m.ino(),
            m.size(),
            m.mtime_nsec()
        ));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_holds_for_every_write_key_and_every_op() {
    let w = World::start(false).await;
    let before = fingerprint(&w);
    let paths = w.cockpit_paths();
    let mut c = Cockpit::connect_read_only(&w.inv, &paths).await;
    c.apply(Action::RefreshGit);
    c.until("git read", |s| s.gitops == shipdeck::app::state::Feed::Live)
        .await;
    let refused = |c: &Cockpit, what: &str| {
        let status = c.state.status.clone().unwrap_or_default();
        assert!(
            status.contains("read-only"),
            "{what}: status {status:?}, overlay {:?}",
            c.state.overlay
        );
        assert!(
            !matches!(c.state.overlay, Some(Overlay::Confirm { .. })),
            "{what}"
        );
    };
    // Main-screen keys.
    c.select_env("stg");
    for cmd in [
        Command::Release,
        Command::Promote,
        Command::PromoteFull,
        Command::Abort,
        Command::Retry,
        Command::Pause,
        Command::Restart,
        Command::Rollback,
        Command::Refresh,
        Command::Sync,
        Command::TerminateSync,
    ] {
        c.state.status = None;
        c.press(cmd);
        refused(&c, cmd.name());
    }
    // Secrets view keys (the view itself opens: reading is fine).
    c.press(Command::Secrets);
    c.until("the secrets table", |s| s.secrets.rows.is_some())
        .await;
    for k in ['r', 'R', 'a', '+', '-'] {
        c.state.status = None;
        c.key(k);
        refused(&c, &format!("secrets {k}"));
        assert_eq!(c.state.overlay, Some(Overlay::Secrets));
    }
    c.apply(Action::Submit);
    refused(&c, "secrets enter");
    c.press(Command::Cancel);
    // tmp clean and Feishu apply.
    c.press(Command::Tmp);
    c.until("the tmp preview", |s| s.tmp.rows.is_some()).await;
    c.state.status = None;
    c.apply(Action::Submit);
    refused(&c, "tmp enter");
    c.press(Command::Cancel);
    c.press(Command::Feishu);
    c.until("the sync plan", |s| s.feishu.lines.is_some()).await;
    c.state.status = None;
    c.apply(Action::Submit);
    refused(&c, "feishu enter");
    c.press(Command::Cancel);
    // A key that slipped through still meets the op: every write effect is refused.
    let change = shipdeck::app::state::PendingChange {
        action: shipdeck::services::gitops::Action::Release,
        app: "miker-web".into(),
        env: "dev".into(),
        tag: Some("abc1234".into()),
        expected_from: None,
        source_env: None,
        override_reason: None,
    };
    let effects = [
        Effect::GitChange { task: 0, change },
        Effect::RolloutAction {
            task: 0,
            app: "miker-web".into(),
            env: "stg".into(),
            action: shipdeck::services::kube::actions::RolloutAction::Abort,
        },
        Effect::SecretsBatch {
            task: 0,
            files: vec![w.root.join("secrets/ci/registry.enc.json")],
            op: shipdeck::ops::secrets::SecretsChange::Rotate,
        },
        Effect::CleanTmp {
            task: 0,
            skip: Vec::new(),
        },
        Effect::ArgoAction {
            task: 0,
            app: "miker-web".into(),
            env: "dev".into(),
            action: shipdeck::ops::argocd::ArgoAction::Refresh { hard: false },
        },
    ];
    for e in effects {
        let task = c.state.tasks.start("slipped through", c.state.clock.now_ms);
        let e = match e {
            Effect::GitChange { change, .. } => Effect::GitChange { task, change },
            Effect::RolloutAction {
                app, env, action, ..
            } => Effect::RolloutAction {
                task,
                app,
                env,
                action,
            },
            Effect::SecretsBatch { files, op, .. } => Effect::SecretsBatch { task, files, op },
            Effect::CleanTmp { skip, .. } => Effect::CleanTmp { task, skip },
            Effect::ArgoAction {
                app, env, action, ..
            } => Effect::ArgoAction {
                task,
                app,
                env,
                action,
            },
            other => other,
        };
        c.runner.run(e);
        c.until("the refusal", |s| {
            s.tasks
                .all()
                .iter()
                .all(|t| matches!(t.state, TaskState::Finished(_)))
        })
        .await;
        let line = c.state.activity.last().unwrap().text.clone();
        assert!(line.contains("read-only"), "{line}");
    }
    // The headless commands too.
    for args in [
        vec![
            "--read-only",
            "release",
            "miker-web",
            "--env",
            "dev",
            "--tag",
            "abc1234",
        ],
        vec!["--read-only", "rollback", "miker-web", "--env", "stg"],
        vec![
            "--read-only",
            "rollout",
            "abort",
            "miker-web",
            "--env",
            "stg",
        ],
        vec!["--read-only", "secrets", "rotate"],
        vec!["--read-only", "tmp", "clean"],
        vec!["--read-only", "feishu", "sync", "--apply"],
        vec![
            "--read-only",
            "argocd",
            "refresh",
            "miker-web",
            "--env",
            "dev",
        ],
        vec!["--read-only", "argocd", "sync", "miker-web", "--env", "dev"],
        vec![
            "--read-only",
            "argocd",
            "terminate",
            "miker-web",
            "--env",
            "dev",
        ],
    ] {
        let (code, _, err) = w.shipdeck(&args).await;
        assert_eq!(code, 5, "{args:?}: {err}");
        assert!(err.contains("read-only"), "{args:?}: {err}");
    }
    // Nothing changed anywhere; the refusals are journaled.
    assert_eq!(fingerprint(&w), before);
    let cockpit_lines = journal(&paths);
    assert!(
        cockpit_lines.len() >= 4
            && cockpit_lines
                .iter()
                .all(|e| e.result.starts_with("refused: read-only")),
        "{cockpit_lines:#?}"
    );
    let cli_lines = journal(&w.cli_paths());
    assert_eq!(cli_lines.len(), 9, "{cli_lines:#?}");
    c.runner.cancel_all();
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_mean_something() {
    let w = World::start(false).await;
    // A release refused before any push tells nobody (the journal has it).
    let (code, _, err) = w
        .shipdeck(&["release", "miker-web", "--env", "prod", "--tag", "abc1234"])
        .await;
    assert_eq!(code, 5, "protected prod without --confirm-env: {err}");
    let (code, _, err) = w
        .shipdeck(&["release", "miker-web", "--env", "stg", "--tag", "0000000"])
        .await;
    assert!(
        code == 4 || code == 5,
        "gates cannot pass for an unknown commit: {err}"
    );
    // An empty message is bad input, not an empty card.
    let (code, _, err) = w
        .shipdeck(&["feishu", "notify", "--chat", "releases", "--text", " "])
        .await;
    assert_eq!(code, 2, "{err}");
    // An added recipient is announced as such.
    let newcomer = age::x25519::Identity::generate().to_public().to_string();
    let (code, _, err) = w.shipdeck(&["secrets", "add-recipient", &newcomer]).await;
    assert_eq!(code, 0, "{err}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !w
        .cards()
        .iter()
        .any(|(_, t)| t.starts_with("Secret recipient added"))
    {
        assert!(tokio::time::Instant::now() < deadline, "{:#?}", w.cards());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cards = w.cards();
    assert!(
        !cards
            .iter()
            .any(|(_, t)| t.starts_with("Release failed") || t.starts_with("Secrets rotated")),
        "{cards:#?}"
    );
    let lines = journal(&w.cli_paths());
    assert!(
        lines
            .iter()
            .filter(|e| e.action == "release")
            .all(|e| e.result.starts_with("refused") || e.result.starts_with("error")),
        "{lines:#?}"
    );
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_key_scheduled_again_replaces_its_timer() {
    let dir = tempfile::tempdir().unwrap();
    let ws =
        shipdeck::demo::prepare(Some(dir.path()), &shipdeck::demo::Endpoints::default()).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut c = Cockpit::connect(&inv, &Paths::under(&dir.path().join(".cockpit"))).await;
    for _ in 0..20 {
        c.runner.run(Effect::Schedule {
            key: shipdeck::app::TimerKey::GitRef,
            after_ms: 100,
            action: Box::new(Action::Resumed),
        });
    }
    assert_eq!(
        c.runner.pending_timers(),
        vec![shipdeck::app::TimerKey::GitRef]
    );
    // One firing, then silence: the nineteen replaced timers never fire.
    let window = tokio::time::Instant::now() + Duration::from_secs(1);
    let mut fired = 0;
    while let Ok(Some(a)) = tokio::time::timeout_at(window, c.rx.recv()).await {
        if a == Action::Resumed {
            fired += 1;
        }
    }
    assert_eq!(fired, 1);
    assert!(c.runner.pending_timers().is_empty());
    c.runner.cancel_all();
}

/// `status` reads the cluster as well as git and GitHub: live image, Argo CD sync and health,
/// the rollout's phase; a cluster that does not answer is named and the exit is 4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_sees_the_cluster_and_names_what_did_not_answer() {
    let w = World::start(true).await;
    // Once the simulated controllers have made the ReplicaSets (stg's canary reached its pause).
    w.stg_canary_paused().await;
    let (code, out, err) = w
        .shipdeck(&["status", "--output", "json", "--timeout", "20"])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let row = |app: &str, env: &str| {
        rows.iter()
            .find(|r| r["app"] == app && r["env"] == env)
            .unwrap_or_else(|| panic!("no row {app} {env}: {out}"))
            .clone()
    };
    let prod = row("miker-web", "prod");
    assert_eq!(prod["git_tag"], "71be0e3");
    assert_eq!(prod["live_image"], "71be0e3");
    assert_eq!(prod["sync"], "Synced");
    assert_eq!(prod["health"], "Healthy");
    assert_eq!(prod["rollout_phase"], "Healthy");
    for r in &rows {
        assert!(r["rollout_phase"].is_string(), "{r}");
        assert!(
            r["notes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| !n.as_str().unwrap().contains("unreachable"))
        );
    }
    let (code, out, _) = w.shipdeck(&["status"]).await;
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().contains("LIVE"), "{out}");

    // The API server goes silent: the command ends near its timeout, exit 4, naming it.
    w.kube.stop_listener().await;
    let started = std::time::Instant::now();
    let (code, out, err) = w
        .shipdeck(&["status", "--output", "json", "--timeout", "2"])
        .await;
    assert_eq!(code, 4, "{out}{err}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("cluster of `dev`"), "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert!(rows.iter().all(|r| r["live_image"].is_null()), "{out}");
    assert!(
        rows[0]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("unreachable: cluster of")),
        "{out}"
    );
    w.shutdown().await;
}

/// Someone else pushes a release: the cheap ref check (every 3 s, refs only) notices, the
/// snapshot follows, and the git column shows the new tag within 5 s, with no drift shown
/// while the cluster catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_elsewhere_reaches_the_git_column_within_seconds() {
    let w = World::start(true).await;
    let mut c = cockpit(&w).await;
    c.timers = true;
    c.apply(Action::RefreshGitRef);
    let mut took = Vec::new();
    for tag in ["a000001", "a000002", "a000003"] {
        let (code, _, err) = w
            .shipdeck(&["release", "miker-web", "--env", "dev", "--tag", tag])
            .await;
        assert_eq!(code, 0, "{err}");
        let pushed = std::time::Instant::now();
        let want = tag.to_owned();
        c.until("the new tag in the git column", move |s| {
            s.envs
                .iter()
                .any(|r| r.name == "dev" && r.git_tag.as_deref() == Some(want.as_str()))
        })
        .await;
        took.push(pushed.elapsed());
        assert!(
            pushed.elapsed() < Duration::from_secs(5),
            "{:?}",
            pushed.elapsed()
        );
        assert_eq!(c.state.drift("miker-web", "dev"), None);
    }
    eprintln!("push → git column: {took:?}");
    c.runner.cancel_all();
    w.shutdown().await;
}

/// A promote stg → prod says what goes out: the commit carries the count as a trailer and
/// the Feishu card lists the first pull requests and links the compare page, both from the
/// sandbox GitHub's compare API and GraphQL over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promote_says_what_goes_out_in_its_commit_and_its_card() {
    // CI a thousand times faster: stg's tag has passed every gate prod asks for.
    let w = World::start_with(false, 1.0, 1000.0).await;
    let (code, out, err) = w
        .shipdeck(&[
            "--confirm-env",
            "prod",
            "promote",
            "miker-web",
            "--to",
            "prod",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let bare = w.root.join("gitops.git");
    let message = crate::gitops::git(&bare, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("\nShipdeck-Changes: 12 commits, 5 PRs\n"),
        "{message}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let card = loop {
        let promote =
            w.fs.messages()
                .into_iter()
                .find(|m| m.accepted && m.title.starts_with("Promoted"));
        if let Some(m) = promote {
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no promote card: {:#?}",
            w.cards()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        card.text.contains("12 commits, 5 PRs ahead"),
        "{}",
        card.text
    );
    assert!(card.text.contains("#445"), "{}", card.text);
    assert!(
        card.text
            .contains(&format!("{}/miker-org/miker/compare/", w.gh.url())),
        "the card links the compare page: {}",
        card.text
    );
    let journal = journal(&w.cli_paths());
    assert_eq!(journal.last().unwrap().action, "promote");
    w.shutdown().await;
}
