//! The on-call flow without a terminal: the cockpit's keys against the sandbox cluster (watched
//! through kube-rs) and the seeded GitOps remote. Promote the stg canary from the Rollout panel,
//! then roll back: abort in the cluster and the previous tag in git, in one task.

use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Keymap, Overlay, Panel, State};
use shipdeck::driver::{Runner, Services};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::feishu::{FeishuSandbox, FeishuSandboxOpts};
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions};
use tokio::sync::mpsc::unbounded_channel;

use crate::harness::Cockpit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_the_canary_then_roll_back_both_halves() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    fs.write_demo_files(dir.path()).unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        kubeconfig: Some(dir.path().join("kube/kubeconfig")),
        feishu_section: Some(fs.demo_inventory_section()),
        ..Default::default()
    };
    let ws = shipdeck::demo::prepare(Some(dir.path()), &endpoints).unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();
    let mut opts = KubeSandboxOptions::new(dir.path().join("kube"));
    // Slow enough that the promoted canary is still mid-way when `b` lands (its timed pauses
    // are 10 s: 2 s each here), or the rollback would find nothing to abort.
    opts.speed = 5.0;
    opts.inventory = Some(inv.clone());
    let kube = KubeSandbox::start(opts).await.unwrap();

    let paths = Paths::under(&dir.path().join(".shipdeck"));
    let mut state = State::new(&inv, "test", Keymap::default());
    let (tx, rx) = unbounded_channel();
    let services = Services::connect(&inv, &paths, false, &mut state, &tx).await;
    let (live_tx, mut live_rx) = unbounded_channel();
    let watches = shipdeck::services::kube::spawn_watches(
        &inv,
        live_tx,
        &shipdeck::services::kube::watch::PodScope::All,
    )
    .expect("watches start");
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = live_rx.recv().await {
                if tx.send(Action::Live(ev)).is_err() {
                    break;
                }
            }
        })
    };
    let mut c = Cockpit {
        state,
        runner: Runner::new(tx, services),
        rx,
        timers: false,
    };
    c.apply(Action::RefreshGit);
    c.until("git and the stg canary paused at its first pause", |s| {
        s.gitops == Feed::Live
            && s.live
                .rollout("miker-web", "stg")
                .is_some_and(|r| r.status == "Paused")
    })
    .await;
    assert_eq!(c.state.cluster, Feed::Live);

    // Select stg; `p` outside the Rollout panel is the GitOps promote, inside it the canary's.
    c.apply(Action::Command(Command::Down));
    assert_eq!(c.state.selected_env().unwrap().name, "stg");
    // On the Environments panel stg already runs dev's tag: the answer names the other `p`.
    c.apply(Action::Command(Command::Promote));
    assert!(
        c.state
            .status
            .as_deref()
            .is_some_and(|m| m.contains("already runs")
                && m.contains("its canary is paused at step")
                && m.contains("Rollout panel")),
        "{:?}",
        c.state.status
    );
    while c.state.focus != Panel::Rollout {
        c.apply(Action::Command(Command::FocusNext));
    }
    let step_before = c.state.live.rollout("miker-web", "stg").unwrap().step_index;
    c.apply(Action::Command(Command::Promote));
    assert!(
        matches!(&c.state.overlay, Some(Overlay::Confirm { title, .. }) if title.starts_with("promote miker-web in stg")),
        "{:?}",
        c.state.overlay
    );
    c.apply(Action::Submit);
    c.until("the promote to be sent", |s| {
        s.activity
            .iter()
            .any(|a| a.text.starts_with("promote miker-web stg: sent"))
    })
    .await;
    c.until("the canary to move past its pause", |s| {
        s.live
            .rollout("miker-web", "stg")
            .is_some_and(|r| r.step_index > step_before)
    })
    .await;

    // Retry makes no sense unless aborted: greyed out with the reason, nothing sent.
    c.apply(Action::Command(Command::Retry));
    assert!(c.state.overlay.is_none());
    assert!(
        c.state.status.as_deref().unwrap().contains("retry"),
        "{:?}",
        c.state.status
    );

    // b: the previous tag from history, confirmed; both halves in one task.
    c.apply(Action::Command(Command::Rollback));
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
    // The picker opens on the tag the current one replaced: one key, then confirm.
    let Some(Overlay::Rollback {
        history: Some(h),
        selected,
        ..
    }) = &c.state.overlay
    else {
        unreachable!()
    };
    assert_eq!(h[*selected].tag, "71be0e3", "{h:#?}");
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("rollback miker-web stg 9f1c2ab → 71be0e3"),
        "{line}"
    );
    assert!(
        line.contains("cluster: aborted, traffic on stable"),
        "both halves: {line}"
    );
    // The cluster ends on the good tag: Argo CD syncs the reverted file, the stable is 71be0e3.
    c.until("stg back on 71be0e3 and healthy", |s| {
        s.live.env_live("miker-web", "stg").is_some_and(|l| {
            l.live_tag.as_deref() == Some("71be0e3")
                && l.rollout_status.as_deref() == Some("Healthy")
        })
    })
    .await;
    let out = std::process::Command::new("kubectl")
        .env("KUBECONFIG", kube.kubeconfig_path())
        .args([
            "get",
            "rollout",
            "miker-web",
            "-n",
            "miker-stg",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .output()
        .expect("kubectl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with(":71be0e3"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // r on dev (no gates): once the canary is healthy on the new tag, the chats hear it succeeded.
    c.select_env("dev");
    c.press(Command::Release);
    c.type_text("5d2e8a1");
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(
        line.contains("release miker-web dev 9f1c2ab → 5d2e8a1"),
        "{line}"
    );
    c.until("the release to finish in the cluster", |s| {
        s.in_flight.is_empty()
    })
    .await;
    c.until("the chat message", |s| {
        s.activity
            .iter()
            .any(|a| a.text.starts_with("Feishu ✔ Release succeeded"))
    })
    .await;
    assert!(
        fs.messages()
            .iter()
            .any(|m| m.accepted && m.title.starts_with("Release succeeded: miker-web dev"))
    );

    c.runner.cancel_all();
    fs.shutdown().await;
    watches.abort();
    forward.abort();
    kube.shutdown().await;
}
