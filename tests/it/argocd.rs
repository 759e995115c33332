//! Argo CD from shipdeck through the Application resource (issue 18), over HTTP against the
//! sandbox API server and its simulated application controller, with the real binary and
//! cross-checked with the real `kubectl`: refresh, sync (refused while one runs, held by a
//! deny window), terminate (only while one runs), and what decides whether a rollback sticks.

use std::time::Duration;

use serde_json::Value;
use shipdeck::audit::{Entry, Journal};

use crate::ops::World;

/// Waits with a deadline until `f` holds on the Application as `kubectl get -o json` shows it.
async fn until_app(w: &World, app: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = application(w, app);
        if f(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited for {what}: {}",
            serde_json::to_string_pretty(&v["status"]).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn application(w: &World, app: &str) -> Value {
    let out = w.kubectl(&["-n", "argocd", "get", "application", app, "-o", "json"]);
    serde_json::from_str(&out).unwrap()
}

/// The object matches its real CRD (shared/fixtures/crds), as the API server would check it.
fn valid(kind: &str, obj: &Value) {
    let schemas = crate::sandbox_kube::fidelity::schemas();
    let v = schemas
        .get(kind)
        .unwrap_or_else(|| panic!("no CRD for {kind} in the fixtures"));
    let errors: Vec<String> = v
        .iter_errors(obj)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{kind} does not match its CRD:\n{}\n{obj:#}",
        errors.join("\n")
    );
}

fn merge_patch(w: &World, what: &[&str], body: &str) {
    let mut args = vec!["-n", "argocd", "patch"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["--type", "merge", "-p", body]);
    w.kubectl(&args);
}

fn journal(w: &World) -> Vec<Entry> {
    Journal::new(w.cli_paths().audit_journal())
        .read_all()
        .unwrap()
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

fn image(w: &World, ns: &str) -> String {
    w.rollout(ns, "{.spec.template.spec.containers[0].image}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_waits_until_the_controller_removed_the_annotation() {
    let w = World::start(true).await;
    let (code, out, err) = w
        .shipdeck(&[
            "--output",
            "json",
            "argocd",
            "refresh",
            "miker-web",
            "--env",
            "dev",
            "--hard",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["action"], "refresh");
    assert_eq!(j["application"], "argocd/miker-web-dev");
    assert_eq!(j["outcome"], "hard refresh done");
    let app = application(&w, "miker-web-dev");
    assert!(
        app.pointer("/metadata/annotations/argocd.argoproj.io~1refresh")
            .is_none(),
        "the controller took the annotation off: {}",
        app["metadata"]
    );
    let lines = journal(&w);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0].action, "argocd-refresh");
    assert_eq!(lines[0].result, "ok");
    assert!(!lines[0].actor.is_empty() && lines[0].actor != "unknown");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_in_a_deny_window_waits_says_why_and_refuses_a_second_one_then_terminates() {
    let w = World::start(true).await;
    // A deny window open all day for prod's Application (and only it).
    merge_patch(
        &w,
        &["appproject", "default"],
        r#"{"spec":{"syncWindows":[{"kind":"deny","schedule":"0 0 * * *","duration":"24h","applications":["miker-web-prod"],"timeZone":"UTC"}]}}"#,
    );
    let (code, out, err) = w
        .shipdeck(&[
            "--output",
            "json",
            "--confirm-env",
            "prod",
            "argocd",
            "sync",
            "miker-web",
            "--env",
            "prod",
            "--reason",
            "INC-7",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    let waiting = j["waiting"].as_str().unwrap_or_else(|| panic!("{j}"));
    assert!(
        waiting.contains("deny window 0 0 * * * for 24h (UTC)") && waiting.contains("until"),
        "{waiting}"
    );
    // The operation is in the object as written, held Running by the window.
    let app = until_app(&w, "miker-web-prod", "the held operation", |a| {
        a.pointer("/status/operationState/message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.contains("blocked by sync window"))
    })
    .await;
    assert_eq!(app["operation"]["sync"]["prune"], false);
    assert_eq!(app["operation"]["info"][0]["value"], "INC-7");
    let actor = app["operation"]["initiatedBy"]["username"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!actor.is_empty(), "{}", app["operation"]);
    assert_eq!(app["status"]["operationState"]["phase"], "Running");
    valid("Application", &app);
    let project: Value = serde_json::from_str(&w.kubectl(&[
        "-n",
        "argocd",
        "get",
        "appproject",
        "default",
        "-o",
        "json",
    ]))
    .unwrap();
    valid("AppProject", &project);

    // A second sync is refused while the first waits; git and the object are untouched.
    let rv = app["metadata"]["resourceVersion"].clone();
    let (code, _, err) = w
        .shipdeck(&[
            "--confirm-env",
            "prod",
            "argocd",
            "sync",
            "miker-web",
            "--env",
            "prod",
        ])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("another operation is already in progress"),
        "{err}"
    );
    let again = application(&w, "miker-web-prod");
    assert_eq!(again["operation"], app["operation"]);
    assert!(
        again["metadata"]["resourceVersion"] == rv
            || again["status"]["reconciledAt"] != app["status"]["reconciledAt"],
        "only the controller wrote meanwhile"
    );

    // Terminate ends it; a second terminate has nothing to stop.
    let (code, out, err) = w
        .shipdeck(&[
            "--output",
            "json",
            "--confirm-env",
            "prod",
            "argocd",
            "terminate",
            "miker-web",
            "--env",
            "prod",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["outcome"], "Failed: Operation terminated", "{j}");
    let app = application(&w, "miker-web-prod");
    assert!(app.get("operation").is_none(), "{}", app["operation"]);
    valid("Application", &app);
    let (code, _, err) = w
        .shipdeck(&[
            "--confirm-env",
            "prod",
            "argocd",
            "terminate",
            "miker-web",
            "--env",
            "prod",
        ])
        .await;
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("no operation is running"), "{err}");

    let lines = journal(&w);
    let actions: Vec<(&str, &str)> = lines
        .iter()
        .map(|e| (e.action.as_str(), e.result.as_str()))
        .collect();
    assert_eq!(actions.len(), 4, "{lines:#?}");
    assert_eq!(actions[0], ("argocd-sync", "ok"));
    assert_eq!(actions[1].0, "argocd-sync");
    assert!(actions[1].1.starts_with("refused"), "{actions:?}");
    assert_eq!(actions[2], ("argocd-terminate", "ok"));
    assert!(actions[3].1.starts_with("refused"), "{actions:?}");
    assert!(lines.iter().all(|e| e.actor == actor), "{lines:#?}");
    w.shutdown().await;
}

/// With auto-sync on, a release converges by itself; turned off, a rollback's git write
/// leaves the cluster on the bad version (OutOfSync) until the sync shipdeck offers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_sticks_by_auto_sync_or_by_the_sync_that_follows_it() {
    let w = World::start_with(true, 20.0, 1000.0).await;
    let before = image(&w, "miker-dev");
    assert!(before.ends_with(":9f1c2ab"), "{before}");
    let (code, _, err) = w
        .shipdeck(&["release", "miker-web", "--env", "dev", "--tag", "5d2e8a1"])
        .await;
    assert_eq!(code, 0, "{err}");
    until_app(&w, "miker-web-dev", "auto-sync to deploy 5d2e8a1", |_| {
        image(&w, "miker-dev").ends_with(":5d2e8a1")
    })
    .await;

    merge_patch(
        &w,
        &["application", "miker-web-dev"],
        r#"{"spec":{"syncPolicy":null}}"#,
    );
    let (code, out, err) = w.shipdeck(&["rollback", "miker-web", "--env", "dev"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let app = until_app(&w, "miker-web-dev", "OutOfSync after the git write", |a| {
        a["status"]["sync"]["status"] == "OutOfSync"
    })
    .await;
    assert!(app["spec"].get("syncPolicy").is_none());
    assert!(
        image(&w, "miker-dev").ends_with(":5d2e8a1"),
        "auto-sync is off: the cluster stays on the bad version"
    );

    let (code, out, err) = w
        .shipdeck(&[
            "--output",
            "json",
            "argocd",
            "sync",
            "miker-web",
            "--env",
            "dev",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["end"]["phase"], "Succeeded", "{j}");
    assert!(
        j["end"]["resources"][0]
            .as_str()
            .unwrap()
            .starts_with("Rollout miker-dev/miker-web: Synced"),
        "{j}"
    );
    assert!(image(&w, "miker-dev").ends_with(":9f1c2ab"));
    let app = until_app(&w, "miker-web-dev", "Synced", |a| {
        a["status"]["sync"]["status"] == "Synced"
    })
    .await;
    valid("Application", &app);
    assert_eq!(
        app["status"]["history"].as_array().unwrap().last().unwrap()["initiatedBy"]["username"],
        j["actor"]
    );
    w.shutdown().await;
}
