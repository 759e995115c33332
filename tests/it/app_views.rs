//! The cockpit's Secrets (`s`) and Feishu (`f`) views without a terminal, against the demo's
//! real files and sandbox servers: keys → update → runner → real services → actions back.

use shipdeck::app::{Action, Command, Keymap, Overlay, State};
use shipdeck::driver::{Runner, Services};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};
use tokio::sync::mpsc::unbounded_channel;

use crate::harness::Cockpit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_view_rotates_the_stale_file_and_feishu_view_syncs_members() {
    let gh = crate::harness::demo_github(1.0).await;
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
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let paths = Paths::under(&dir.path().join(".shipdeck"));
    let mut state = State::new(&inv, "test", Keymap::default());
    let (tx, rx) = unbounded_channel();
    let services = Services::connect(&inv, &paths, &mut state, &tx).await;
    let mut c = Cockpit {
        state,
        runner: Runner::new(tx, services),
        rx,
    };

    // s: the demo's four files, one stale.
    c.apply(Action::Command(Command::Secrets));
    c.until("the secrets table", |s| s.secrets.rows.is_some())
        .await;
    let rows = c.state.secrets.rows.clone().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.can_decrypt && r.error.is_none()),
        "{rows:?}"
    );
    let stale_files: Vec<_> = rows
        .iter()
        .filter(|r| r.stale)
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(stale_files.len(), 1);

    // R: rotate every stale file, after a y.
    c.apply(Action::Input('R'));
    assert!(matches!(&c.state.overlay, Some(Overlay::Confirm { .. })));
    c.apply(Action::Submit);
    assert_eq!(
        c.state.overlay,
        Some(Overlay::Secrets),
        "back to the table while it runs"
    );
    let line = c.finish_task().await;
    assert!(
        line.starts_with("rotated the data key of 1 secret files"),
        "{line}"
    );
    c.until("the table to refresh", |s| {
        s.secrets
            .rows
            .as_ref()
            .is_some_and(|r| r.iter().all(|f| !f.stale))
    })
    .await;
    // The real sops still opens it with the demo key.
    let out = std::process::Command::new("sops")
        .args(["decrypt"])
        .arg(&stale_files[0])
        .env("SOPS_AGE_KEY_FILE", ws.dir.join("age/keys.txt"))
        .output()
        .expect("sops is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The rotation was announced in Feishu.
    c.until("the Feishu delivery", |s| {
        s.activity
            .iter()
            .any(|a| a.text.starts_with("Feishu ✔") && a.text.contains("Secrets rotated"))
    })
    .await;
    assert!(
        fs.messages()
            .iter()
            .any(|m| m.accepted && m.title.contains("Secrets rotated"))
    );

    // f: plan, then apply after a y; a second plan has nothing left to do.
    c.apply(Action::Command(Command::Cancel));
    c.apply(Action::Command(Command::Feishu));
    c.until("the plan", |s| {
        s.feishu.lines.is_some() || s.feishu.error.is_some()
    })
    .await;
    assert_eq!(c.state.feishu.error, None);
    assert_eq!(c.state.feishu.writes, 3, "{:#?}", c.state.feishu.lines);
    assert!(
        c.state
            .feishu
            .lines
            .as_ref()
            .unwrap()
            .iter()
            .any(|l| l.contains("dave")),
        "unmatched users are listed"
    );
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.starts_with("feishu sync: 3 added, 1 removed"),
        "{line}"
    );
    c.apply(Action::Command(Command::Cancel));
    c.apply(Action::Command(Command::Feishu));
    c.until("the second plan", |s| s.feishu.lines.is_some())
        .await;
    assert_eq!(
        c.state.feishu.writes, 0,
        "a re-run after success makes no writes"
    );
    // t: preview, keep the largest entry, clean the rest after a y.
    c.apply(Action::Command(Command::Cancel));
    c.apply(Action::Command(Command::Tmp));
    c.until("the tmp preview", |s| {
        s.tmp.rows.is_some() || s.tmp.error.is_some()
    })
    .await;
    assert_eq!(c.state.tmp.error, None);
    let rows = c.state.tmp.rows.clone().unwrap();
    assert!(rows.len() >= 5, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.path != "runbook-link.md"),
        "a fresh symlink is young: kept"
    );
    let kept = rows[0].path.clone();
    c.apply(Action::Input(' '));
    c.apply(Action::Submit);
    assert!(matches!(&c.state.overlay, Some(Overlay::Confirm { .. })));
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.starts_with(&format!("tmp: removed {} files", rows.len() - 1)),
        "{line}"
    );
    let tmp = ws.dir.join("tmp");
    assert!(tmp.join(&kept).exists(), "the toggled-off entry stays");
    assert!(
        rows[1..].iter().all(|r| !tmp.join(&r.path).exists()),
        "the others are gone"
    );
    assert!(
        ws.dir.join("runbook.md").exists(),
        "a symlink's target is never touched"
    );
    let journal = shipdeck::audit::Journal::new(paths.audit_journal())
        .read_all()
        .unwrap();
    assert!(
        journal.iter().any(|e| e.action.starts_with("tmp")),
        "{journal:?}"
    );

    c.runner.cancel_all();
    fs.shutdown().await;
    gh.shutdown().await;
}
