//! The cockpit's GitOps flows without a terminal: keys → update → effects → the runner's real
//! GitOps engine and gates client → results back as actions. The remote is the demo's seeded
//! bare repository; GitHub is the sandbox on 127.0.0.1.

use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Overlay};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::github::Scenario;
use std::path::Path;

use crate::harness::Cockpit;

fn last_commit_message(bare: &Path) -> String {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["log", "-1", "--format=%B", "main"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_promote_refuse_and_roll_back_from_the_keys() {
    let gh = crate::harness::demo_github(1000.0).await;
    let bad = gh.add_commit("badc0de", Scenario::pipeline().failing("trivy"));
    let dir = tempfile::tempdir().unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        github_api: Some(gh.url().to_owned()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    // prod accepts a gate override with a reason (the demo's does not).
    let text = std::fs::read_to_string(&ws.inventory_path)
        .unwrap()
        .replacen(
            "    protected: true\n",
            "    protected: true\n    allow_gate_override: true\n",
            1,
        );
    std::fs::write(&ws.inventory_path, text).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let paths = Paths::under(&dir.path().join(".shipdeck"));
    let mut c = Cockpit::connect(&inv, &paths).await;

    // The seeded remote, as git has it.
    c.apply(Action::RefreshGit);
    c.until("the first git snapshot", |s| s.gitops == Feed::Live)
        .await;
    assert_eq!(c.tag("dev").as_deref(), Some("9f1c2ab"));
    assert_eq!(c.tag("stg").as_deref(), Some("9f1c2ab"));
    assert_eq!(c.tag("prod").as_deref(), Some("71be0e3"));

    // r on stg: pick from known tags, confirm with y.
    c.select_env("stg");
    c.press(Command::Release);
    c.until("known tags", |s| {
        matches!(&s.overlay, Some(Overlay::Release { known: Some(_), .. }))
    })
    .await;
    let Some(Overlay::Release {
        known: Some(known), ..
    }) = &c.state.overlay
    else {
        unreachable!()
    };
    let idx = known
        .iter()
        .position(|k| k.tag == "5d2e8a1")
        .expect("history tags are offered");
    for _ in 0..=idx {
        c.press(Command::Down);
    }
    let Some(Overlay::Release { input, .. }) = &c.state.overlay else {
        panic!("dialog open")
    };
    assert_eq!(input, "5d2e8a1", "picking fills the tag");
    c.apply(Action::Submit);
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Confirm { typed: None, .. })),
        "stg is not protected: y/enter confirms"
    );
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("release miker-web stg 9f1c2ab → 5d2e8a1"),
        "{line}"
    );
    c.refreshed("stg", "5d2e8a1").await;
    let msg = last_commit_message(&ws.dir.join("gitops.git"));
    assert!(msg.contains("Shipdeck-Action: release"), "{msg}");
    assert!(
        msg.contains("Shipdeck-Gates: 2/2 passed"),
        "stg's two gates were checked:\n{msg}"
    );

    // p on prod (protected): a mistyped name is not a yes; the right one is.
    c.select_env("prod");
    c.press(Command::Promote);
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Confirm { typed: Some(t), .. }) if t == "prod")
    );
    c.type_text("prdo");
    c.apply(Action::Submit);
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Confirm { .. })),
        "still asking"
    );
    assert!(
        c.state
            .status
            .as_deref()
            .unwrap()
            .contains("type `prod` exactly")
    );
    c.type_text("prod");
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("promote miker-web prod 71be0e3 → 5d2e8a1"),
        "{line}"
    );
    c.refreshed("prod", "5d2e8a1").await;
    assert!(last_commit_message(&ws.dir.join("gitops.git")).contains("Shipdeck-Gates: 7/7 passed"));

    // A commit whose trivy failed: its red gates show in the confirmation, which offers no
    // yes: prod allows an override, so enter asks for a reason, and git is untouched.
    let before = last_commit_message(&ws.dir.join("gitops.git"));
    c.press(Command::Release);
    c.type_text(&bad[..7]);
    c.apply(Action::Submit);
    c.until("the candidate's gates", |s| s.candidate.is_some())
        .await;
    let candidate = c.state.candidate.clone().unwrap();
    assert_eq!(candidate.tag, bad[..7]);
    assert!(
        !candidate.result.unwrap().all_passed,
        "shown red before anyone confirms"
    );
    c.type_text("prod");
    c.apply(Action::Submit);
    assert!(!c.state.tasks.any_running(), "nothing was started");
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Reason { message, .. }) if message.contains("trivy")),
        "the override question names the failing gate: {:?}",
        c.state.overlay
    );
    assert_eq!(last_commit_message(&ws.dir.join("gitops.git")), before);
    c.apply(Action::Submit);
    assert!(
        matches!(c.state.overlay, Some(Overlay::Reason { .. })),
        "an empty reason is not one"
    );
    c.type_text("INC-7 hotfix");
    c.apply(Action::Submit);
    c.type_text("prod");
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains(&format!("release miker-web prod 5d2e8a1 → {}", &bad[..7])),
        "{line}"
    );
    let msg = last_commit_message(&ws.dir.join("gitops.git"));
    assert!(
        msg.contains("Shipdeck-Gates: overridden (INC-7 hotfix)"),
        "{msg}"
    );
    c.refreshed("prod", &bad[..7]).await;

    // b on prod: back to 71be0e3 from the history picker.
    c.press(Command::Rollback);
    c.until("history", |s| {
        matches!(
            &s.overlay,
            Some(Overlay::Rollback {
                history: Some(_),
                ..
            })
        )
    })
    .await;
    // The picker opens on the tag the bad one replaced; the on-call goes one further back.
    let Some(Overlay::Rollback {
        history: Some(h),
        selected,
        ..
    }) = &c.state.overlay
    else {
        unreachable!()
    };
    assert_eq!(h[*selected].tag, "5d2e8a1", "{h:#?}");
    let idx = h.iter().position(|t| t.tag == "71be0e3").unwrap();
    for _ in *selected..idx {
        c.press(Command::Down);
    }
    c.apply(Action::Submit);
    c.type_text("prod");
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains(&format!("rollback miker-web prod {} → 71be0e3", &bad[..7])),
        "{line}"
    );
    c.refreshed("prod", "71be0e3").await;
    assert!(last_commit_message(&ws.dir.join("gitops.git")).contains("Shipdeck-Action: rollback"));

    // Every action left one audit line.
    let journal = shipdeck::audit::Journal::new(paths.audit_journal())
        .read_all()
        .unwrap();
    let actions: Vec<&str> = journal.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.starts_with(&["release", "promote"]), "{actions:?}");
    assert!(actions.contains(&"rollback"), "{actions:?}");
    c.runner.cancel_all();
    gh.shutdown().await;
}
