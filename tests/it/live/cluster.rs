//! Watches and actions against the sandbox API server over HTTP (kube-rs on the wire, the
//! simulated Argo Rollouts controller moving the canary), cross-checked with the real `kubectl`.

use std::path::Path;
use std::time::Duration;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::json;
use shipdeck::inventory::Inventory;
use shipdeck::sandbox::kube::{DenyRule, KubeSandbox, KubeSandboxOptions, seed};
use shipdeck::services::kube::actions::{self, RolloutAction, RolloutRef};
use shipdeck::services::kube::{Conn, KubeError, LiveEvent, LiveState, spawn_watches};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

pub(crate) const NS: &str = "shop";

pub(crate) async fn start(dir: &Path) -> KubeSandbox {
    start_at(dir, 40.0).await
}

/// `speed`: simulated seconds per real second (the canary's timed pauses are 10 s).
async fn start_at(dir: &Path, speed: f64) -> KubeSandbox {
    let mut o = KubeSandboxOptions::new(dir);
    o.controllers = true;
    o.speed = speed;
    KubeSandbox::start(o).await.unwrap()
}

pub(crate) async fn client(sb: &KubeSandbox) -> Client {
    let kc = Kubeconfig::read_from(sb.kubeconfig_path()).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

fn rollouts(c: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"));
    Api::namespaced_with(c.clone(), NS, &ar)
}

/// A Rollout `web` at `example.com/web:v1` with the sandbox's canary steps.
pub(crate) async fn create_web(c: &Client) {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "argoproj.io",
        "v1alpha1",
        "AnalysisTemplate",
    ));
    let ats: Api<DynamicObject> = Api::namespaced_with(c.clone(), NS, &ar);
    for t in seed::analysis_templates(NS) {
        ats.create(&PostParams::default(), &serde_json::from_value(t).unwrap())
            .await
            .unwrap();
    }
    let ro = seed::rollout(
        "web",
        NS,
        "example.com/web:v1",
        3,
        seed::canary_steps("web", true),
    );
    rollouts(c)
        .create(&PostParams::default(), &serde_json::from_value(ro).unwrap())
        .await
        .unwrap();
}

pub(crate) async fn set_tag(c: &Client, tag: &str) {
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": format!("example.com/web:{tag}")}]}}}});
    rollouts(c)
        .patch("web", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
}

pub(crate) fn inventory(dir: &Path, kubeconfig: &Path) -> Inventory {
    let text = format!(
        "gitops:\n  url: ./gitops.git\nkube:\n  kubeconfig: {}\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/kustomization.yaml'}}\nenvironments:\n  stg:\n    kube_context: shipdeck-sandbox\n    namespace: {NS}\n",
        kubeconfig.display()
    );
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, &text).unwrap();
    Inventory::from_str_at(&text, &path).unwrap()
}

/// Applies watch events to a `LiveState` until `pred` holds (bounded wait).
pub(crate) async fn until(
    rx: &mut UnboundedReceiver<LiveEvent>,
    state: &mut LiveState,
    what: &str,
    pred: impl Fn(&LiveState) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !pred(state) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => state.apply(ev),
            Ok(None) => panic!("watch channel closed while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}; state: {state:#?}"),
        }
    }
}

/// Starts the inventory's watches and applies their events until `web` is Healthy on screen.
pub(crate) async fn watch_until_healthy(
    inv: &Inventory,
) -> (
    UnboundedReceiver<LiveEvent>,
    LiveState,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(inv, tx, &shipdeck::services::kube::watch::PodScope::All)
        .expect("an env to watch");
    let mut s = LiveState::default();
    until(&mut rx, &mut s, "web Healthy", |s| {
        status_of(s).is_some_and(|(st, _)| st == "Healthy")
    })
    .await;
    (rx, s, watches)
}

pub(crate) fn status_of(s: &LiveState) -> Option<(String, String)> {
    s.rollout("web", "stg")
        .map(|r| (r.status.clone(), r.step.clone()))
}

fn kubectl(kubeconfig: &Path, jsonpath: &str) -> String {
    crate::harness::kubectl_get(kubeconfig, NS, &["rollout", "web"], jsonpath)
}

fn web_ref(inv: &Inventory) -> RolloutRef {
    RolloutRef::from_inventory(inv, "web", "stg").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_the_canary_and_actions_move_it() {
    let dir = tempfile::tempdir().unwrap();
    // Slow enough that the canary is still between steps when the abort lands after a promote
    // (at 40× the rest of the canary takes well under a second: a busy machine lost that race).
    let sb = start_at(dir.path(), 8.0).await;
    let c = client(&sb).await;
    create_web(&c).await;
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    let (mut rx, mut s, watches) = watch_until_healthy(&inv).await;
    let r = s.rollout("web", "stg").unwrap();
    assert!(r.fully_promoted);
    assert_eq!(r.stable_rs().unwrap().pods.len(), 3);
    let live = s.env_live("web", "stg").unwrap();
    assert_eq!(live.live_tag.as_deref(), Some("v1"));

    // A new tag: the watch sees the controller stop at the indefinite pause (step 1 of 7).
    set_tag(&c, "v2").await;
    until(&mut rx, &mut s, "web paused at step 1", |s| {
        status_of(s).is_some_and(|(st, step)| st == "Paused" && step == "1/7")
    })
    .await;
    let r = s.rollout("web", "stg").unwrap().clone();
    assert_eq!((r.set_weight, r.actual_weight), (Some(20), Some(20)));
    assert_eq!(r.pause_reasons, ["CanaryPauseStep"]);
    assert!(actions::allowed(&s, "web", "stg", RolloutAction::Promote).is_ok());
    assert!(actions::allowed(&s, "web", "stg", RolloutAction::Retry).is_err());
    assert_eq!(
        s.env_live("web", "stg").unwrap().live_tag.as_deref(),
        Some("v2")
    );

    // Pause: the plugin's spec patch; kubectl sees spec.paused.
    let done = actions::execute(&web_ref(&inv), RolloutAction::Pause)
        .await
        .unwrap();
    assert_eq!(
        done.sent,
        [("main".to_owned(), json!({"spec":{"paused":true}}))]
    );
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.spec.paused}"), "true");
    until(&mut rx, &mut s, "spec.paused seen", |s| {
        s.rollout("web", "stg").is_some_and(|r| r.paused)
    })
    .await;
    assert!(actions::allowed(&s, "web", "stg", RolloutAction::Pause).is_err());

    // Promote: status patch (pauseConditions null) first, then spec.paused=false.
    let done = actions::execute(&web_ref(&inv), RolloutAction::Promote)
        .await
        .unwrap();
    assert_eq!(
        done.sent,
        [
            (
                "status".to_owned(),
                json!({"status":{"pauseConditions":null}})
            ),
            ("main".to_owned(), json!({"spec":{"paused":false}})),
        ]
    );
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.spec.paused}"), "false");
    until(&mut rx, &mut s, "past step 1", |s| {
        s.rollout("web", "stg")
            .and_then(|r| r.step_index)
            .is_some_and(|i| i >= 2)
    })
    .await;

    // Abort: status.abort=true; the controller goes Degraded with SetWeight 0.
    let done = actions::execute(&web_ref(&inv), RolloutAction::Abort)
        .await
        .unwrap();
    assert_eq!(
        done.sent,
        [("status".to_owned(), json!({"status":{"abort":true}}))]
    );
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.status.abort}"), "true");
    until(&mut rx, &mut s, "aborted", |s| {
        s.rollout("web", "stg")
            .is_some_and(|r| r.aborted && r.status == "Degraded" && r.set_weight == Some(0))
    })
    .await;
    let again = actions::execute(&web_ref(&inv), RolloutAction::Abort).await;
    assert!(matches!(again, Err(KubeError::Refused(_))), "{again:?}");

    // Retry: status.abort=false.
    // (`abort` is omitempty in the controller's status: false may be written back as absent.)
    actions::execute(&web_ref(&inv), RolloutAction::Retry)
        .await
        .unwrap();
    let abort = kubectl(sb.kubeconfig_path(), "{.status.abort}");
    assert!(
        abort == "false" || abort.is_empty(),
        "abort after retry: {abort:?}"
    );

    // Promote-full: status.promoteFull=true; the canary becomes stable.
    actions::execute(&web_ref(&inv), RolloutAction::PromoteFull)
        .await
        .unwrap();
    until(&mut rx, &mut s, "fully promoted on v2", |s| {
        s.rollout("web", "stg")
            .is_some_and(|r| r.fully_promoted && r.status == "Healthy")
    })
    .await;
    assert_eq!(
        kubectl(sb.kubeconfig_path(), "{.status.stableRS}"),
        kubectl(sb.kubeconfig_path(), "{.status.currentPodHash}")
    );

    // Restart: spec.restartAt is an RFC3339 instant.
    actions::execute(&web_ref(&inv), RolloutAction::Restart)
        .await
        .unwrap();
    let at = kubectl(sb.kubeconfig_path(), "{.spec.restartAt}");
    assert!(at.parse::<jiff::Timestamp>().is_ok(), "restartAt {at:?}");
    watches.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_down_marks_stale_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    let (mut rx, mut s, watches) = watch_until_healthy(&inv).await;

    sb.stop_listener().await;
    until(&mut rx, &mut s, "stale mark", |s| {
        matches!(s.envs["stg"].cluster, Conn::Stale { .. })
    })
    .await;
    // The last data stays, marked.
    assert!(s.rollout("web", "stg").is_some());
    assert!(s.env_live("web", "stg").unwrap().stale_since.is_some());
    assert!(actions::allowed(&s, "web", "stg", RolloutAction::Restart).is_err());

    sb.restart_listener().await.unwrap();
    set_tag(&c, "v2").await;
    until(&mut rx, &mut s, "live again with the new canary", |s| {
        s.envs["stg"].cluster == Conn::Live
            && status_of(s).is_some_and(|(st, step)| st == "Paused" && step == "1/7")
    })
    .await;
    watches.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_patch_is_a_readable_error_and_nothing_else_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    // v1 first, or v2 would be the first revision (no canary at all).
    let (mut rx, mut s, watches) = watch_until_healthy(&inv).await;
    set_tag(&c, "v2").await;
    until(&mut rx, &mut s, "paused canary", |s| {
        status_of(s).is_some_and(|(st, _)| st == "Paused")
    })
    .await;
    sb.deny(DenyRule {
        verb: Some("patch".into()),
        resource: Some("rollouts".into()),
        ..Default::default()
    });
    let err = actions::execute(&web_ref(&inv), RolloutAction::Abort)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, KubeError::Forbidden(_)), "{err:?}");
    assert!(
        text.contains("abort on rollout shop/web is not allowed"),
        "{text}"
    );
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.status.abort}"), "");
    // Watches keep working: a pause through kubectl still reaches the state.
    sb.clear_denies();
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(sb.kubeconfig_path())
        .args([
            "-n",
            NS,
            "patch",
            "rollout",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"paused":true}}"#,
        ])
        .output()
        .expect("kubectl must be installed");
    assert!(out.status.success());
    until(&mut rx, &mut s, "paused via kubectl", |s| {
        s.rollout("web", "stg").is_some_and(|r| r.paused)
    })
    .await;
    assert!(!matches!(s.envs["stg"].cluster, Conn::Stale { .. }));
    watches.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_is_asked_up_front_and_greys_only_what_it_denies() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    // This identity may patch Rollouts but not their status (promote, abort, retry need it).
    sb.deny(DenyRule {
        verb: Some("patch".into()),
        resource: Some("rollouts".into()),
        subresource: Some("status".into()),
        namespace: Some(NS.into()),
        ..Default::default()
    });
    let inv = inventory(dir.path(), sb.kubeconfig_path());
    let (mut rx, mut s, watches) = watch_until_healthy(&inv).await;
    set_tag(&c, "v2").await;
    until(&mut rx, &mut s, "RBAC answers and a paused canary", |s| {
        s.envs.get("stg").is_some_and(|e| e.access.patch.is_some())
            && status_of(s).is_some_and(|(st, _)| st == "Paused")
    })
    .await;
    let access = &s.envs["stg"].access;
    assert_eq!(
        (access.patch_status, access.patch),
        (Some(false), Some(true))
    );
    // Before any key is pressed, promote and abort are greyed with the reason; restart is not.
    for action in [RolloutAction::Promote, RolloutAction::Abort] {
        let why = actions::allowed(&s, "web", "stg", action).unwrap_err();
        assert!(
            why.contains("forbidden")
                && why.contains("rollouts/status")
                && why.contains("SelfSubjectAccessReview"),
            "{why}"
        );
    }
    assert_eq!(
        actions::allowed(&s, "web", "stg", RolloutAction::Restart),
        Ok(())
    );
    // The server agrees: the abort is refused and nothing was written.
    let err = actions::execute(&web_ref(&inv), RolloutAction::Abort)
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::Forbidden(_)), "{err:?}");
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.status.abort}"), "");
    watches.abort();
}

pub(super) async fn shipdeck(
    inventory: &Path,
    home: &Path,
    args: &[&str],
) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .arg("rollout")
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_get_and_actions_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    create_web(&c).await;
    inventory(dir.path(), sb.kubeconfig_path());
    let inv = dir.path().join("inventory.yaml");
    let home = dir.path().join("home");
    // Chats: an abort is announced from a script as from the cockpit.
    let fs = shipdeck::sandbox::feishu::FeishuSandbox::start(
        shipdeck::sandbox::feishu::FeishuSandboxOpts::demo(),
    )
    .await
    .unwrap();
    fs.write_demo_files(dir.path()).unwrap();
    let mut text = std::fs::read_to_string(&inv).unwrap();
    text.push_str(&fs.demo_inventory_section());
    std::fs::write(&inv, text).unwrap();
    // Wait (through kubectl, as a script would) for v1 to be Healthy, then for v2's canary to
    // stop at its pause.
    let wait_phase = |phase: &'static str| {
        let kc = sb.kubeconfig_path().to_path_buf();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while kubectl(&kc, "{.status.phase}") != phase {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "rollout never {phase}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_phase("Healthy").await;
    set_tag(&c, "v2").await;
    wait_phase("Paused").await;

    let (code, out, err) = shipdeck(
        &inv,
        &home,
        &["get", "web", "--env", "stg", "--output", "json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "Paused");
    assert_eq!(v["message"], "CanaryPauseStep");
    assert_eq!(
        (v["step"].clone(), v["steps"].clone()),
        (json!(1), json!(7))
    );
    assert_eq!(
        (v["set_weight"].clone(), v["actual_weight"].clone()),
        (json!(20), json!(20))
    );
    assert_eq!(v["canary"]["images"][0], "example.com/web:v2");
    assert_eq!(v["stable"]["images"][0], "example.com/web:v1");
    assert_eq!(v["replicas"]["desired"], 3);

    let (code, out, _) = shipdeck(&inv, &home, &["get", "web", "--env", "stg"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("Status:          ॥ Paused"), "{out}");
    assert!(out.contains("SetWeight:     20"), "{out}");

    // No terminal and no --yes: refused (5); with --yes: done.
    let (code, _, err) = shipdeck(&inv, &home, &["abort", "web", "--env", "stg"]).await;
    assert_eq!(code, 5, "{err}");
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.status.abort}"), "");
    let (code, out, err) = shipdeck(
        &inv,
        &home,
        &["--yes", "abort", "web", "--env", "stg", "--output", "json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sent"][0][1], json!({"status":{"abort":true}}));
    assert_eq!(kubectl(sb.kubeconfig_path(), "{.status.abort}"), "true");
    let cards: Vec<_> = fs
        .messages()
        .into_iter()
        .filter(|m| m.accepted && m.title.starts_with("Canary aborted"))
        .collect();
    let chats: Vec<&str> = cards.iter().map(|m| m.chat.as_str()).collect();
    assert!(chats.contains(&"platform"), "{cards:#?}");
    assert!(
        cards.iter().all(|m| m.text.contains("v2")),
        "the card names the aborted tag: {cards:#?}"
    );
    // Aborting again makes no sense: refused by rule (5), as the README's codes say. Retry does.
    let (code, _, err) = shipdeck(&inv, &home, &["--yes", "abort", "web", "--env", "stg"]).await;
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("already aborted"), "{err}");
    let (code, _, err) = shipdeck(&inv, &home, &["--yes", "retry", "web", "--env", "stg"]).await;
    assert_eq!(code, 0, "{err}");
    // Unknown env: bad input (2). Read-only: refused (5).
    let (code, _, _) = shipdeck(&inv, &home, &["get", "web", "--env", "nope"]).await;
    assert_eq!(code, 2);
    let (code, _, _) = shipdeck(
        &inv,
        &home,
        &["--read-only", "--yes", "pause", "web", "--env", "stg"],
    )
    .await;
    assert_eq!(code, 5);
    // The API server gone: remote error (4).
    sb.stop_listener().await;
    let (code, _, err) = shipdeck(&inv, &home, &["--yes", "pause", "web", "--env", "stg"]).await;
    assert_eq!(code, 4, "{err}");
    fs.shutdown().await;
}
