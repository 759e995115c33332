//! The seed's other checkpoints from a script: `shipdeck backups` against a real S3 server
//! (s3s-fs, objects written by the test, ages set on its files) and against the demo's own
//! stand-in, with its exit codes and JSON.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::s3::{ACCESS, RealS3, SECRET, write};

fn inventory(dir: &Path, endpoint: &str, secret: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("tos.env"),
        format!("TEST_TOS_ACCESS={ACCESS}\nTEST_TOS_SECRET={secret}\n"),
    )
    .unwrap();
    let path = dir.join("inventory.yaml");
    std::fs::write(
        &path,
        format!(
            "gitops:\n  url: file:///nonexistent/gitops.git\n\
             apps:\n  miker-web:\n    image: x/miker-web\n    layout: {{kind: helm, path: \"v-{{env}}.yaml\", key: image.tag}}\n\
             environments:\n  stg:\n    namespace: miker-stg\n  prod:\n    namespace: miker-prod\n\
             backups:\n  endpoint: {endpoint}\n  region: cn-beijing\n  bucket: backups\n  prefix: \"shared-svc/{{env}}/backup/\"\n  \
             access_key_env: TEST_TOS_ACCESS\n  secret_key_env: TEST_TOS_SECRET\n  secret_file: tos.env\n  max_age: 26h\n  timeout_secs: 5\n"
        ),
    )
    .unwrap();
    path
}

async fn backups(dir: &Path, inventory: &Path, json: bool) -> (i32, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    cmd.arg("--inventory").arg(inventory);
    if json {
        cmd.args(["--output", "json"]);
    }
    let out = cmd
        .arg("backups")
        .env("SHIPDECK_CONFIG", dir.join("config"))
        .env("SHIPDECK_DATA", dir.join("data"))
        .env("SHIPDECK_STATE", dir.join("state"))
        .env_remove("TEST_TOS_ACCESS")
        .env_remove("TEST_TOS_SECRET")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sets an object's age on s3s-fs (its LastModified is the file's mtime).
fn age(root: &Path, bucket: &str, key: &str, hours: u64) {
    let f = std::fs::File::options()
        .write(true)
        .open(root.join(bucket).join(key))
        .unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(hours * 3600))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_against_a_real_s3_server_stale_exits_1_and_fresh_exits_0() {
    let real = RealS3::start().await;
    write(
        &real.url,
        "backups",
        &[
            ("shared-svc/stg/backup/mysql-1.sql.gz", 100),
            ("shared-svc/stg/backup/mysql-2.sql.gz", 200),
            ("shared-svc/prod/backup/mysql-1.sql.gz", 300),
        ],
    )
    .await;
    age(
        real.root.path(),
        "backups",
        "shared-svc/stg/backup/mysql-1.sql.gz",
        27,
    );
    age(
        real.root.path(),
        "backups",
        "shared-svc/stg/backup/mysql-2.sql.gz",
        3,
    );
    age(
        real.root.path(),
        "backups",
        "shared-svc/prod/backup/mysql-1.sql.gz",
        30,
    );
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &real.url, SECRET);

    let (code, out, err) = backups(dir.path(), &inv, true).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["stale"], serde_json::json!(["prod"]), "{out}");
    assert_eq!(doc["unreadable"], serde_json::json!([]), "{out}");
    let stg = &doc["backups"][0];
    assert_eq!(stg["env"], "stg");
    assert_eq!(stg["newest_key"], "shared-svc/stg/backup/mysql-2.sql.gz");
    assert_eq!(stg["stale"], false);
    assert_eq!(stg["objects"], 2);
    let stg_age = stg["age_secs"].as_u64().unwrap();
    assert!((3 * 3600..3 * 3600 + 120).contains(&stg_age), "{stg_age}");
    assert_eq!(doc["backups"][1]["stale"], true);
    assert_eq!(doc["backups"][1]["max_age_secs"], 26 * 3600);
    assert!(err.contains("stale backups in prod"), "{err}");

    let (code, out, _) = backups(dir.path(), &inv, false).await;
    assert_eq!(code, 1);
    assert!(out.contains("stale: newest 30h ago (max 26h)"), "{out}");
    assert!(out.contains("newest 3h ago"), "{out}");

    // A fresh prod backup: all good.
    write(
        &real.url,
        "backups",
        &[("shared-svc/prod/backup/mysql-2.sql.gz", 10)],
    )
    .await;
    let (code, out, err) = backups(dir.path(), &inv, false).await;
    assert_eq!(code, 0, "{out}\n{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_with_a_wrong_secret_say_403_and_exit_4_without_the_secret() {
    let real = RealS3::start().await;
    write(&real.url, "backups", &[("shared-svc/stg/backup/a", 1)]).await;
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &real.url, "not-the-secret");
    let (code, out, err) = backups(dir.path(), &inv, false).await;
    assert_eq!(code, 4, "{out}\n{err}");
    assert!(out.contains("HTTP 403"), "{out}");
    assert!(out.contains("SignatureDoesNotMatch"), "{out}");
    assert!(out.contains("check TEST_TOS_SECRET"), "{out}");
    assert!(!out.contains("not-the-secret") && !err.contains("not-the-secret"));
    assert!(
        err.contains("cannot read the backups of stg, prod"),
        "{err}"
    );
    // No section at all: bad input.
    let text = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(&inv, &text[..text.find("backups:").unwrap()]).unwrap();
    let (code, _, err) = backups(dir.path(), &inv, false).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no `backups:` section"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_s3_shows_prod_backups_stale() {
    let s3 = shipdeck::sandbox::s3::S3Sandbox::start(
        shipdeck::sandbox::s3::DEMO_ACCESS_KEY,
        shipdeck::sandbox::s3::DEMO_SECRET_KEY,
        shipdeck::sandbox::s3::DEMO_REGION,
    )
    .await
    .unwrap();
    s3.writer().seed_demo(&["9f1c2ab"], &["dev", "stg", "prod"]);
    let dir = tempfile::tempdir().unwrap();
    shipdeck::sandbox::s3::S3Sandbox::write_demo_files(dir.path()).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        s3_section: Some(s3.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let (code, out, err) = backups(dir.path(), &ws.inventory_path, true).await;
    assert_eq!(code, 1, "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["stale"], serde_json::json!(["prod"]), "{out}");
    assert_eq!(doc["backups"][0]["objects"], 5);
    let inv = shipdeck::inventory::Inventory::load(&ws.inventory_path).unwrap();
    let a = shipdeck::services::s3::artifacts(&inv, "miker-web", "stg", "9f1c2ab")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.objects, 3);
    assert_eq!(a.prefix, "miker/staging/9f1c2ab/");
    let missing = shipdeck::services::s3::artifacts(&inv, "miker-web", "stg", "0000000")
        .await
        .unwrap()
        .unwrap();
    assert!(missing.missing());
    s3.shutdown().await;
}

/// The cockpit without a terminal on the demo's S3 stand-in: the backups read on start finds
/// prod stale, and each env's tag in git brings its artifacts listing (a tag the store has no
/// build for reads as missing), the panels' text included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_reads_artifacts_per_tag_and_backups_through_its_driver() {
    let s3 = shipdeck::sandbox::s3::S3Sandbox::start(
        shipdeck::sandbox::s3::DEMO_ACCESS_KEY,
        shipdeck::sandbox::s3::DEMO_SECRET_KEY,
        shipdeck::sandbox::s3::DEMO_REGION,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    shipdeck::sandbox::s3::S3Sandbox::write_demo_files(dir.path()).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        s3_section: Some(s3.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let inv = shipdeck::inventory::Inventory::load(&ws.inventory_path).unwrap();
    // Which tag prod runs, from a first cockpit on the same remote.
    let prod_tag = {
        let mut first = crate::harness::Cockpit::connect(&inv, &ws.paths).await;
        first.apply(shipdeck::app::Action::RefreshGit);
        first
            .until("git tags", |s| s.envs.iter().all(|e| e.git_tag.is_some()))
            .await;
        first.tag("prod").unwrap()
    };
    // Artifacts for every seeded build but that one.
    let builds: Vec<&str> = shipdeck::sandbox::gitremote::seeded_tags()
        .into_iter()
        .filter(|t| *t != prod_tag)
        .collect();
    s3.writer().seed_demo(&builds, &["dev", "stg", "prod"]);
    let mut c = crate::harness::Cockpit::connect(&inv, &ws.paths).await;
    c.apply(shipdeck::app::Action::RefreshGit);
    c.apply(shipdeck::app::Action::RefreshBackups);
    c.until("artifacts and backups", |s| {
        s.pipeline.backups.is_some()
            && ["dev", "stg", "prod"].iter().all(|e| {
                s.pipeline
                    .artifacts_of("miker-web", e)
                    .is_some_and(|a| a.result.is_some())
            })
    })
    .await;
    let p = &c.state.pipeline;
    let prod = p.artifacts_of("miker-web", "prod").unwrap();
    assert!(prod.result.as_ref().unwrap().as_ref().unwrap().missing());
    let stg = p.artifacts_of("miker-web", "stg").unwrap();
    assert_eq!(stg.result.as_ref().unwrap().as_ref().unwrap().objects, 3);
    let stale: Vec<&str> = p
        .backups
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .iter()
        .filter(|b| b.age.as_ref().is_some_and(|a| a.stale))
        .map(|b| b.env.as_str())
        .collect();
    assert_eq!(stale, ["prod"]);
    c.select_env("stg");
    let screen = crate::ui_snapshots::draw(&c.state, 120, 40);
    assert!(
        screen.contains("⚠ prod backup stale: newest 30h ago (max 26h)"),
        "{screen}"
    );
    assert!(screen.contains("artifacts 3 objects"), "{screen}");
    s3.shutdown().await;
}
