//! The cockpit's Secrets (`s`) and Feishu (`f`) views without a terminal, against the demo's
//! real files and sandbox servers: keys → update → runner → real services → actions back.

use shipdeck::app::{Action, Command, Overlay};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};

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
    let mut c = Cockpit::connect(&inv, &paths).await;

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
    c.key('R');
    assert!(matches!(&c.state.overlay, Some(Overlay::Confirm { .. })));
    c.apply(Action::Submit);
    assert_eq!(
        c.state.overlay,
        Some(Overlay::Secrets),
        "back to the table while it runs"
    );
    let line = c.finish_task().await;
    assert!(
        line.starts_with("rotate 1 secret file: 1 changed"),
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
    c.key(' ');
    c.apply(Action::Submit);
    assert!(matches!(&c.state.overlay, Some(Overlay::Confirm { .. })));
    // `n` (and esc) in a view's confirmation closes the confirmation, not the view.
    c.key('n');
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Tmp)),
        "{:?}",
        c.state.overlay
    );
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

fn sops_opens(file: &std::path::Path, key: &std::path::Path) -> bool {
    std::process::Command::new("sops")
        .arg("decrypt")
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", key)
        .env_remove("SOPS_AGE_KEY")
        .output()
        .expect("sops is installed (.ci/run installs it)")
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_view_adds_then_removes_a_recipient() {
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs.write_demo_files(dir.path()).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        feishu_section: Some(fs.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let paths = Paths::under(&dir.path().join(".shipdeck"));
    let mut c = Cockpit::connect(&inv, &paths).await;
    // A new team member's key, made by the real age-keygen.
    let newcomer = dir.path().join("newcomer.txt");
    let out = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&newcomer)
        .output()
        .expect("age-keygen is installed (.ci/run installs age)");
    assert!(out.status.success());
    let public = String::from_utf8_lossy(&out.stderr)
        .trim()
        .trim_start_matches("Public key: ")
        .to_owned();
    assert!(public.starts_with("age1"), "{public}");

    c.apply(Action::Command(Command::Secrets));
    c.until("the secrets table", |s| s.secrets.rows.is_some())
        .await;
    let files: Vec<_> = c
        .state
        .secrets
        .rows
        .clone()
        .unwrap()
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert!(files.iter().all(|f| !sops_opens(f, &newcomer)));
    let sops_yaml = shipdeck::services::secrets::config::find(files[0].parent().unwrap()).unwrap();
    let rules_before = std::fs::read_to_string(&sops_yaml).unwrap();

    // +: a typo is caught in the dialog, nothing starts.
    c.key('+');
    c.type_text("age1notakey");
    c.apply(Action::Submit);
    let Some(Overlay::Recipient {
        error: Some(error), ..
    }) = &c.state.overlay
    else {
        panic!("still asking: {:?}", c.state.overlay);
    };
    assert!(error.contains("not an age X25519 recipient"), "{error}");
    assert!(c.state.tasks.all().is_empty());

    // The real key: confirmed, every file opens with it, the chats are told.
    for _ in 0.."age1notakey".len() {
        c.apply(Action::Backspace);
    }
    c.type_text(&public);
    c.apply(Action::Submit);
    let Some(Overlay::Confirm { title, lines, .. }) = &c.state.overlay else {
        panic!("a confirmation: {:?}", c.state.overlay);
    };
    assert_eq!(title, "Add an age recipient");
    assert!(lines[1].contains("4 file(s)"), "{lines:?}");
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("add age1") && line.contains(": 4 changed"),
        "{line}"
    );
    // The same op brought the matching `.sops.yaml` rules along, and the line says so.
    assert!(line.contains("; `.sops.yaml` updated: rule"), "{line}");
    let cfg = shipdeck::services::secrets::config::SopsConfig::load(&sops_yaml).unwrap();
    for f in &files {
        assert!(cfg.rule_for(f).unwrap().age.contains(&public), "{f:?}");
    }
    assert!(files.iter().all(|f| sops_opens(f, &newcomer)));
    let demo_key = ws.dir.join("age/keys.txt");
    assert!(files.iter().all(|f| sops_opens(f, &demo_key)));

    // -: a unique part of the key is enough; it loses access, the demo key keeps it.
    c.until("the table to show the new recipient", |s| {
        s.secrets
            .rows
            .as_ref()
            .is_some_and(|r| r.iter().all(|f| f.recipients.contains(&public)))
    })
    .await;
    c.key('-');
    c.type_text(&public[public.len() - 10..]);
    c.apply(Action::Submit);
    let Some(Overlay::Confirm { title, lines, .. }) = &c.state.overlay else {
        panic!("a confirmation: {:?}", c.state.overlay);
    };
    assert_eq!(title, "Remove an age recipient");
    assert_eq!(lines[0], public);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("remove age1") && line.contains(": 4 changed"),
        "{line}"
    );
    assert!(line.contains("; `.sops.yaml` updated: rule"), "{line}");
    assert_eq!(std::fs::read_to_string(&sops_yaml).unwrap(), rules_before);
    assert!(files.iter().all(|f| !sops_opens(f, &newcomer)));
    assert!(files.iter().all(|f| sops_opens(f, &demo_key)));
    // Both changes announced as what they were (the notifier delivers in the background),
    // never as a plain rotation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let cards: Vec<(String, String)> = fs
            .messages()
            .into_iter()
            .filter(|m| m.accepted)
            .map(|m| (m.title, m.text))
            .collect();
        let added = cards.iter().any(|(title, text)| {
            title.starts_with("Secret recipient added") && text.contains("can now open 4 files")
        });
        let removed = cards.iter().any(|(title, text)| {
            title.starts_with("Secret recipient removed") && text.contains("data keys rotated")
        });
        if added && removed {
            assert!(
                !cards
                    .iter()
                    .any(|(title, _)| title.starts_with("Secrets rotated")),
                "{cards:#?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "cards: {cards:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.runner.cancel_all();
    fs.shutdown().await;
}
