//! Artifacts and migration Jobs as checkpoints of the promotion guard, end to end: the real
//! binary releases through the sandbox cluster (Argo CD syncs, the Job simulator runs the
//! migration), the S3 stand-in holds the artifacts, and the guard refuses what the inventory
//! requires and does not see: a missing artifacts prefix, a migration that has not run, one
//! that failed (with its last log lines from the pod).

use std::time::{Duration, Instant};

use shipdeck::inventory::Inventory;
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions};
use shipdeck::sandbox::s3::{DEMO_ACCESS_KEY, DEMO_REGION, DEMO_SECRET_KEY, S3Sandbox};
use shipdeck::services::kube::migrations::{self, MigrationState};

const DEADLINE: Duration = Duration::from_secs(60);

pub struct PipelineWorld {
    _dir: tempfile::TempDir,
    pub root: std::path::PathBuf,
    pub inventory_path: std::path::PathBuf,
    pub inv: Inventory,
    pub s3: S3Sandbox,
    pub kube: KubeSandbox,
}

impl PipelineWorld {
    /// The demo's world with the pipeline's checkpoints, no CI checks required (the tags here
    /// name no GitHub commits) and the simulators at `speed`.
    pub async fn start(speed: f64) -> PipelineWorld {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let s3 = S3Sandbox::start(DEMO_ACCESS_KEY, DEMO_SECRET_KEY, DEMO_REGION)
            .await
            .unwrap();
        S3Sandbox::write_demo_files(&root).unwrap();
        let endpoints = shipdeck::demo::Endpoints {
            kubeconfig: Some(root.join("kube/kubeconfig")),
            s3_section: Some(s3.demo_inventory_section()),
            migrations: true,
            ..Default::default()
        };
        let ws = shipdeck::demo::prepare(Some(&root), &endpoints).unwrap();
        let text = std::fs::read_to_string(&ws.inventory_path).unwrap();
        let text = text
            .replace("required_checks: [build, test]", "required_checks: []")
            .replace(
                "required_checks: [lint, type-check, test, build, trivy, codeql, gitleaks]",
                "required_checks: []",
            );
        std::fs::write(&ws.inventory_path, text).unwrap();
        let inv = Inventory::load(&ws.inventory_path).unwrap();
        s3.writer().seed_demo(
            &shipdeck::sandbox::gitremote::seeded_tags(),
            &["dev", "stg", "prod"],
        );
        let mut opts = KubeSandboxOptions::new(root.join("kube"));
        opts.inventory = Some(inv.clone());
        opts.speed = speed;
        let kube = KubeSandbox::start(opts).await.unwrap();
        PipelineWorld {
            _dir: dir,
            root,
            inventory_path: ws.inventory_path,
            inv,
            s3,
            kube,
        }
    }

    pub async fn shipdeck(&self, args: &[&str]) -> (i32, String, String) {
        let p = shipdeck::paths::Paths::under(&self.root.join(".cli"));
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .arg("--inventory")
            .arg(&self.inventory_path)
            .args(["--yes", "--confirm-env", "prod"])
            .args(args)
            .env("SHIPDECK_CONFIG", &p.config_dir)
            .env("SHIPDECK_DATA", &p.data_dir)
            .env("SHIPDECK_STATE", &p.state_dir)
            .env("SHIPDECK_ACTOR", "carol")
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

    /// Waits until the Job of `app` for `tag` in `env` has ended, and says how.
    pub async fn migration_ended(&self, env: &str, app: &str, tag: &str) -> MigrationState {
        let start = Instant::now();
        loop {
            let jobs = migrations::list(&self.inv, env, app).await.unwrap();
            if let Some(j) = migrations::for_tag(&jobs, app, tag)
                && j.state != MigrationState::Running
            {
                return j.state;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no ended migration of {app} {tag} in {env} after {DEADLINE:?}: {jobs:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_takes_a_tag_only_after_its_migration_succeeded_in_stg() {
    let w = PipelineWorld::start(20.0).await;
    // A tag with no migration anywhere yet: refused, naming what is missing.
    let (code, out, err) = w
        .shipdeck(&["release", "miker-api", "--env", "prod", "--tag", "abcdef1"])
        .await;
    assert_eq!(code, 5, "{out}\n{err}");
    assert!(
        err.contains("no migration Job of miker-api abcdef1 in stg"),
        "{err}"
    );
    // Into stg first: its artifacts must be there (stg requires them).
    let (code, _, err) = w
        .shipdeck(&["release", "miker-api", "--env", "stg", "--tag", "abcdef1"])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains(
            "artifacts of abcdef1 missing: nothing under s3://miker-builds/miker/staging/abcdef1/"
        ),
        "{err}"
    );
    // An override where stg does not allow one changes nothing.
    let (code, _, err) = w
        .shipdeck(&[
            "release",
            "miker-api",
            "--env",
            "stg",
            "--tag",
            "abcdef1",
            "--override-gates",
            "--reason",
            "INC-1",
        ])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("does not allow overriding gates"), "{err}");
    w.s3.writer().put_build("abcdef1", jiff::Timestamp::now());
    let (code, out, err) = w
        .shipdeck(&["release", "miker-api", "--env", "stg", "--tag", "abcdef1"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    // Argo CD syncs it, the Job runs and completes; then prod takes it, and the trailer
    // names both checkpoints.
    assert_eq!(
        w.migration_ended("stg", "miker-api", "abcdef1").await,
        MigrationState::Succeeded
    );
    let t = Instant::now();
    let into_stg = shipdeck::ops::pipeline::check(&w.inv, "miker-api", "stg", "abcdef1").await;
    println!(
        "pipeline checkpoints of a stg release (artifacts listing): {:?} ({} passed, {} failing)",
        t.elapsed(),
        into_stg.passed.len(),
        into_stg.failing.len()
    );
    let t = Instant::now();
    let verdict = shipdeck::ops::pipeline::check(&w.inv, "miker-api", "prod", "abcdef1").await;
    println!(
        "pipeline checkpoints of a prod promote (migration Job list): {:?} ({} passed, {} failing)",
        t.elapsed(),
        verdict.passed.len(),
        verdict.failing.len()
    );
    assert!(verdict.failing.is_empty(), "{verdict:?}");
    assert!(
        verdict.passed[0].starts_with("migration abcdef1 ✔ "),
        "{verdict:?}"
    );
    let (code, out, err) = w
        .shipdeck(&["release", "miker-api", "--env", "prod", "--tag", "abcdef1"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let log = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(w.root.join("gitops.git"))
        .args(["log", "-1", "--format=%B", "main"])
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&log.stdout);
    assert!(body.contains("migration abcdef1 ✔"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_blocks_prod_with_its_last_log_lines() {
    let w = PipelineWorld::start(20.0).await;
    w.s3.writer().put_build("badmig1", jiff::Timestamp::now());
    let (code, out, err) = w
        .shipdeck(&["release", "miker-api", "--env", "stg", "--tag", "badmig1"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        w.migration_ended("stg", "miker-api", "badmig1").await,
        MigrationState::Failed
    );
    // kubectl sees the same Job (the sandbox serves batch/v1 as a real server does).
    let names = crate::harness::kubectl_get(
        w.kube.kubeconfig_path(),
        "miker-stg",
        &[
            "jobs",
            "-l",
            "app.kubernetes.io/name=miker-api,shipdeck.io/tag=badmig1",
        ],
        "{.items[*].status.conditions[0].reason}",
    );
    assert_eq!(names.trim(), "BackoffLimitExceeded");
    let (code, out, err) = w
        .shipdeck(&["release", "miker-api", "--env", "prod", "--tag", "badmig1"])
        .await;
    assert_eq!(code, 5, "{out}\n{err}");
    assert!(
        err.contains("the migration of miker-api badmig1 failed in stg"),
        "{err}"
    );
    assert!(
        err.contains("Duplicate column name 'discount_code'"),
        "{err}"
    );
    assert!(err.contains("BackoffLimitExceeded"), "{err}");
    // The cockpit watches the Job and shows its pod's reason beside the CI checks.
    let mut c = crate::harness::Cockpit::connect(
        &w.inv,
        &shipdeck::paths::Paths::under(&w.root.join(".cockpit")),
    )
    .await;
    let _watches = c.runner.start_watches(&w.inv);
    c.state.selected_app = c.state.apps.iter().position(|a| a == "miker-api").unwrap();
    c.apply(shipdeck::app::Action::RefreshGit);
    c.until("stg's tag and the failed migration's log", |s| {
        s.envs
            .iter()
            .any(|e| e.git_tag.as_deref() == Some("badmig1"))
            && s.pipeline
                .migration_logs
                .values()
                .any(|v| matches!(v, Some(Ok(_))))
    })
    .await;
    c.select_env("stg");
    let screen = crate::ui_snapshots::draw(&c.state, 200, 60);
    assert!(
        screen.contains(
            "migration badmig1 ✖ BackoffLimitExceeded (logs: Message : Duplicate column name"
        ),
        "{screen}"
    );
    // An app the migrations do not cover is not held back by them.
    let verdict = shipdeck::ops::pipeline::check(&w.inv, "miker-web", "prod", "badmig1").await;
    assert_eq!(verdict, shipdeck::ops::pipeline::PipelineVerdict::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_refuses_the_tag_and_says_why() {
    let w = PipelineWorld::start(20.0).await;
    let text = std::fs::read_to_string(&w.inventory_path).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &w.inventory_path,
        text.replace(w.s3.url(), &format!("http://127.0.0.1:{port}")),
    )
    .unwrap();
    let (code, _, err) = w
        .shipdeck(&["release", "miker-web", "--env", "stg", "--tag", "abcdef1"])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("artifacts of abcdef1 cannot be checked"),
        "{err}"
    );
    assert!(err.contains("unreachable"), "{err}");
}
