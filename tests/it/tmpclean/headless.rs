//! `shipdeck tmp plan|clean` through the real binary.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::{exists, touch};

/// A minimal valid inventory whose `tmp` section uses the demo rules.
pub fn inventory_yaml(root: &str) -> String {
    format!(
        r#"gitops:
  url: file:///nonexistent/gitops.git
apps:
  web:
    image: example.com/web
    layout: {{kind: kustomize, path: "apps/web/{{env}}/kustomization.yaml"}}
environments:
  dev:
    namespace: web-dev
tmp:
  root: "{root}"
  default_keep_days: 7
  rules:
    - {{pattern: "actions-runner-*.tar.gz", keep_latest: 2}}
    - {{pattern: "*.tgz", keep_days: 14}}
  never_delete: ["*.keep"]
"#
    )
}

fn shipdeck(base: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(base.join("inventory.yaml"))
        .args(args)
        .env("SHIPDECK_STATE", base.join("state"))
        .env("SHIPDECK_CONFIG", base.join("config"))
        .env("SHIPDECK_DATA", base.join("data"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    shipdeck::services::tmpclean::demo::seed(dir.path()).unwrap();
    fs::write(dir.path().join("inventory.yaml"), inventory_yaml("tmp")).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const OLD_RUNNER: &str = "tmp/actions-runner-linux-x64-2.311.0.tar.gz";

#[test]
fn plan_prints_a_table_and_json_and_deletes_nothing() {
    let dir = setup();
    let base = dir.path();
    let o = shipdeck(base, &["tmp", "plan"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("SIZE") && out.contains("RULE"), "{out}");
    assert!(
        out.contains("178 MiB") && out.contains("actions-runner-*.tar.gz"),
        "{out}"
    );
    assert!(
        out.contains("Per rule:") && out.contains("Total: 11 files"),
        "{out}"
    );

    let o = shipdeck(base, &["--output", "json", "tmp", "plan"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total_files"], 11);
    assert_eq!(v["totals"][0]["rule"], "actions-runner-*.tar.gz");
    assert_eq!(v["totals"][0]["files"], 3);

    let o = shipdeck(base, &["tmp", "clean", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(exists(&base.join(OLD_RUNNER)));
    assert!(!exists(&base.join("state/audit.jsonl")));
}

#[test]
fn clean_needs_confirmation_and_honours_read_only() {
    let dir = setup();
    let base = dir.path();
    let o = shipdeck(base, &["tmp", "clean"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--yes"),
        "{}",
        text(&o)
    );
    let o = shipdeck(base, &["--read-only", "--yes", "tmp", "clean"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("read-only"),
        "{}",
        text(&o)
    );
    assert!(exists(&base.join(OLD_RUNNER)));
}

#[test]
fn clean_with_yes_removes_journals_and_leaves_the_link_target() {
    let dir = setup();
    let base = dir.path();
    let o = shipdeck(base, &["--yes", "--output", "json", "tmp", "clean"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["applied"]["removed_files"], 11);
    assert!(!exists(&base.join(OLD_RUNNER)));
    assert!(exists(&base.join("tmp/.keep")));
    assert!(exists(&base.join("runbook.md")));
    let journal = fs::read_to_string(base.join("state/audit.jsonl")).unwrap();
    let e: serde_json::Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(e["action"], "tmp-clean");
    assert_eq!(e["detail"]["removed_files"], 11);
    assert_eq!(e["detail"]["removed_bytes"], v["applied"]["removed_bytes"]);

    let o = shipdeck(base, &["--yes", "tmp", "clean"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Nothing to clean"));
}

#[test]
fn dangerous_root_in_the_inventory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("project");
    touch(&dir.path().join("precious.txt"), 400, "x");
    fs::create_dir(&base).unwrap();
    fs::write(base.join("inventory.yaml"), inventory_yaml("..")).unwrap();
    let o = shipdeck(&base, &["--yes", "tmp", "clean"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("escapes"),
        "{}",
        text(&o)
    );
    assert!(dir.path().join("precious.txt").exists());
    let o = shipdeck(&base, &["--yes", "tmp", "plan"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
}
