//! The promotion guard from a script: `shipdeck release` refuses a commit whose required gates
//! are not green (exit 5, remote untouched); `--override-gates --reason` goes through only where
//! the inventory allows it, and the reason lands in the commit trailer, the audit journal and
//! the Feishu message.

use std::path::Path;
use std::process::Output;

use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};
use shipdeck::sandbox::github::Scenario;

/// `shipdeck --yes --confirm-env prod [--output json] release miker-web --env prod --tag badc0de EXTRA…`
async fn release_bad_to_prod(home: &Path, inventory: &Path, json: bool, extra: &[&str]) -> Output {
    let mut args = vec!["--yes", "--confirm-env", "prod"];
    if json {
        args.extend(["--output", "json"]);
    }
    args.extend(["release", "miker-web", "--env", "prod", "--tag", "badc0de"]);
    args.extend(extra);
    shipdeck(home, inventory, &args).await
}

async fn shipdeck(home: &Path, inventory: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env("SHIPDECK_ACTOR", "carol")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .await
        .expect("run shipdeck")
}

fn remote_head(bare: &Path) -> String {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["log", "-1", "--format=%H%n%B", "main"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_gates_refuse_and_an_allowed_override_is_recorded_everywhere() {
    let gh = crate::harness::demo_github(1000.0).await;
    let bad = gh.add_commit("badc0de", Scenario::pipeline().failing("trivy"));
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs.write_demo_files(dir.path()).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        github_api: Some(gh.url().to_owned()),
        feishu_section: Some(fs.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let bare = ws.dir.join("gitops.git");
    let home = dir.path().join("home");
    // Let the sandbox's checks of the new commit complete (speed 1000: well under a second).
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let tag = &bad[..7];

    // prod does not allow overrides: refused either way, remote untouched.
    let before = remote_head(&bare);
    let out = release_bad_to_prod(&home, &ws.inventory_path, false, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("trivy"),
        "the refusal names the failing gate: {err}"
    );
    assert_eq!(remote_head(&bare), before, "the remote is untouched");

    let out = release_bad_to_prod(
        &home,
        &ws.inventory_path,
        false,
        &["--override-gates", "--reason", "INC-42 hotfix"],
    )
    .await;
    assert_eq!(out.status.code(), Some(5), "prod allows no override");
    assert_eq!(remote_head(&bare), before);

    // Allow overrides in prod, and the same command goes through with its reason recorded.
    let text = std::fs::read_to_string(&ws.inventory_path).unwrap();
    let text = text.replacen(
        "    protected: true\n",
        "    protected: true\n    allow_gate_override: true\n",
        1,
    );
    std::fs::write(&ws.inventory_path, text).unwrap();
    let out = release_bad_to_prod(
        &home,
        &ws.inventory_path,
        true,
        &["--override-gates", "--reason", "INC-42 hotfix"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["to"], tag);
    let head = remote_head(&bare);
    assert!(
        head.contains("Shipdeck-Gates: overridden (INC-42 hotfix)"),
        "{head}"
    );
    assert!(head.contains("Shipdeck-Reason: INC-42 hotfix"), "{head}");
    let journal = shipdeck::audit::Journal::new(dir.path().join("home/state/audit.jsonl"))
        .read_all()
        .unwrap();
    let last = journal.last().unwrap();
    assert_eq!(last.action, "release");
    assert_eq!(last.actor, "carol");
    assert!(
        serde_json::to_string(last)
            .unwrap()
            .contains("INC-42 hotfix"),
        "{last:?}"
    );
    let messages = fs.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.accepted && m.title.starts_with("Gates overridden")),
        "a gate-override card went out: {:?}",
        messages.iter().map(|m| &m.title).collect::<Vec<_>>()
    );
    fs.shutdown().await;
    gh.shutdown().await;
}
