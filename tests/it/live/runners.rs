//! The Runners feed against the sandbox API server: legacy RunnerDeployments written with the
//! real `kubectl`, read back by watch; clusters without one or both ARC APIs.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use shipdeck::inventory::Inventory;
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions};
use shipdeck::services::kube::{
    Conn, LiveEvent, LiveState, RunnerMode, RunnersState, spawn_watches,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const NS: &str = "arc";

async fn start(dir: &Path) -> KubeSandbox {
    let mut o = KubeSandboxOptions::new(dir);
    o.controllers = false;
    KubeSandbox::start(o).await.unwrap()
}

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(kubeconfig).args(args);
    let out = if let Some(input) = stdin {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl must be installed for the live cluster tests");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    } else {
        cmd.output()
            .expect("kubectl must be installed for the live cluster tests")
    };
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn kubectl_create(kubeconfig: &Path, manifest: &str) {
    kubectl(
        kubeconfig,
        &["create", "--validate=false", "-f", "-"],
        Some(manifest),
    );
}

fn patch_status(kubeconfig: &Path, kind: &str, name: &str, status: &str) {
    kubectl(
        kubeconfig,
        &[
            "-n",
            NS,
            "patch",
            kind,
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &format!("{{\"status\": {status}}}"),
        ],
        None,
    );
}

fn inventory(dir: &Path, kubeconfig: &Path, runners: &str) -> Inventory {
    let text = format!(
        "gitops:\n  url: ./gitops.git\nkube:\n  kubeconfig: {}\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/k.yaml'}}\nenvironments:\n  dev:\n    kube_context: shipdeck-sandbox\n    namespace: shop\nrunners:\n  namespace: {NS}\n{runners}",
        kubeconfig.display()
    );
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, &text).unwrap();
    Inventory::from_str_at(&text, &path).unwrap()
}

// The sandbox serves no OpenAPI documents, so `kubectl create` runs with `--validate=false`.

/// Applies watch events until `done` holds for the runner state (30 s at most).
async fn until(
    rx: &mut UnboundedReceiver<LiveEvent>,
    state: &mut LiveState,
    what: &str,
    done: impl Fn(&RunnersState) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if state.runners.as_ref().is_some_and(&done) {
            return;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => state.apply(ev),
            Ok(None) => panic!("watch channel closed while waiting for {what}"),
            Err(_) => panic!(
                "timed out waiting for {what}; runners: {:#?}",
                state.runners
            ),
        }
    }
}

/// A legacy RunnerDeployment with its autoscaler, two Runners and their pods, as the legacy
/// controller leaves them; plus a pod that is not a runner. The registration token in the
/// Runner's status stands for the secret the real controller stores there.
const LEGACY: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: arc}
---
apiVersion: actions.summerwind.dev/v1alpha1
kind: RunnerDeployment
metadata: {name: arm64, namespace: arc}
spec:
  template:
    spec: {repository: example-org/miker, labels: [self-hosted, arm64]}
---
apiVersion: actions.summerwind.dev/v1alpha1
kind: HorizontalRunnerAutoscaler
metadata: {name: arm64-autoscaler, namespace: arc}
spec:
  scaleTargetRef: {kind: RunnerDeployment, name: arm64}
  minReplicas: 1
  maxReplicas: 4
---
apiVersion: actions.summerwind.dev/v1alpha1
kind: Runner
metadata:
  name: arm64-6f8d9c7b5-aaaaa
  namespace: arc
  labels: {runner-deployment-name: arm64, runner-template-hash: 6f8d9c7b5}
spec: {repository: example-org/miker}
---
apiVersion: actions.summerwind.dev/v1alpha1
kind: Runner
metadata:
  name: arm64-6f8d9c7b5-bbbbb
  namespace: arc
  labels: {runner-deployment-name: arm64, runner-template-hash: 6f8d9c7b5}
spec: {repository: example-org/miker}
---
apiVersion: v1
kind: Pod
metadata:
  name: arm64-6f8d9c7b5-aaaaa
  namespace: arc
  labels: {actions-runner: "", runner-deployment-name: arm64}
spec:
  containers: [{name: runner, image: summerwind/actions-runner:latest}]
---
apiVersion: v1
kind: Pod
metadata:
  name: arm64-6f8d9c7b5-bbbbb
  namespace: arc
  labels: {actions-runner: "", runner-deployment-name: arm64}
spec:
  containers: [{name: runner, image: summerwind/actions-runner:latest}]
---
apiVersion: v1
kind: Pod
metadata: {name: arm64-6f8d9c7b5-bbbbb-debug, namespace: arc}
spec:
  containers: [{name: shell, image: busybox}]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_runner_deployments_by_watch() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let kc = sb.kubeconfig_path().to_path_buf();
    tokio::task::block_in_place(|| {
        kubectl_create(&kc, LEGACY);
        patch_status(
            &kc,
            "runnerdeployment",
            "arm64",
            r#"{"replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 2, "desiredReplicas": 2}"#,
        );
        patch_status(&kc, "hra", "arm64-autoscaler", r#"{"desiredReplicas": 2}"#);
        patch_status(
            &kc,
            "runner",
            "arm64-6f8d9c7b5-aaaaa",
            r#"{"ready": true, "phase": "Running", "registration": {"repository": "example-org/miker", "token": "AREGTOKEN-DO-NOT-SHOW", "expiresAt": "2026-12-01T00:00:00Z"},
               "workflow": {"name": "CI", "repository": "example-org/miker", "repositoryOwner": "example-org", "runNumber": "77", "runID": "4242", "job": "build", "action": "__run"}}"#,
        );
        patch_status(
            &kc,
            "runner",
            "arm64-6f8d9c7b5-bbbbb",
            r#"{"phase": "Pending"}"#,
        );
        patch_status(
            &kc,
            "pod",
            "arm64-6f8d9c7b5-aaaaa",
            r#"{"phase": "Running"}"#,
        );
        patch_status(
            &kc,
            "pod",
            "arm64-6f8d9c7b5-bbbbb",
            r#"{"phase": "Pending"}"#,
        );
    });

    let inv = inventory(dir.path(), &kc, "");
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(&inv, tx, &shipdeck::services::kube::watch::PodScope::All).unwrap();
    let mut state = LiveState::default();
    until(&mut rx, &mut state, "the legacy deployment", |r| {
        r.sets.iter().any(|s| s.runners.len() == 2)
    })
    .await;
    let r = state.runners.clone().unwrap();
    assert_eq!(r.conn, Conn::Live);
    assert_eq!(r.served, vec![RunnerMode::ScaleSet, RunnerMode::Legacy]);
    assert_eq!(r.sets.len(), 1, "{:#?}", r.sets);
    let set = &r.sets[0];
    assert_eq!(set.name, "arm64");
    assert_eq!(set.mode, RunnerMode::Legacy);
    assert_eq!((set.min, set.max, set.current), (1, Some(4), 2));
    assert_eq!((set.running, set.pending, set.failed), (1, 1, 0));
    let names: Vec<&str> = set.runners.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["arm64-6f8d9c7b5-aaaaa", "arm64-6f8d9c7b5-bbbbb"]);
    let busy = &set.runners[0];
    assert_eq!(busy.pod_phase.as_deref(), Some("Running"));
    assert_eq!(busy.serves(), "CI run 4242 · build");
    assert_eq!(busy.repository.as_deref(), Some("example-org/miker"));
    assert_eq!(set.runners[1].serves(), "");
    // The registration token the controller keeps in the Runner never reaches our state.
    let seen = format!("{state:?}{}", serde_json::to_string(&state).unwrap());
    assert!(!seen.contains("AREGTOKEN"), "token leaked into state");

    // The second runner comes online and takes a job: the watch carries it.
    tokio::task::block_in_place(|| {
        patch_status(
            &kc,
            "runner",
            "arm64-6f8d9c7b5-bbbbb",
            r#"{"ready": true, "phase": "Running", "workflow": {"name": "Nightly", "runID": "4250", "job": "e2e"}}"#,
        );
    });
    until(&mut rx, &mut state, "the second runner busy", |r| {
        r.sets
            .first()
            .is_some_and(|s| s.running == 2 && s.runners[1].serves() == "Nightly run 4250 · e2e")
    })
    .await;

    // A deleted Runner leaves the panel.
    tokio::task::block_in_place(|| {
        kubectl(
            &kc,
            &["-n", NS, "delete", "runner", "arm64-6f8d9c7b5-aaaaa"],
            None,
        );
    });
    until(&mut rx, &mut state, "the deleted runner gone", |r| {
        r.sets.first().is_some_and(|s| s.runners.len() == 1)
    })
    .await;
    watches.abort();
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_deployments_only_and_scale_sets_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let kc = sb.kubeconfig_path().to_path_buf();
    tokio::task::block_in_place(|| {
        kubectl_create(&kc, LEGACY);
        kubectl_create(
            &kc,
            "apiVersion: actions.summerwind.dev/v1alpha1\nkind: RunnerDeployment\nmetadata: {name: x86, namespace: arc}\nspec:\n  replicas: 3\n  template: {spec: {repository: example-org/miker}}\n",
        );
    });
    // Naming a scale set does not hide RunnerDeployments, and vice versa.
    let inv = inventory(
        dir.path(),
        &kc,
        "  scale_sets: [miker-runners]\n  runner_deployments: [x86]\n",
    );
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(&inv, tx, &shipdeck::services::kube::watch::PodScope::All).unwrap();
    let mut state = LiveState::default();
    until(&mut rx, &mut state, "the named deployment", |r| {
        !r.sets.is_empty()
    })
    .await;
    let sets = &state.runners.as_ref().unwrap().sets;
    assert_eq!(sets.len(), 1, "{sets:#?}");
    // No autoscaler: min and max are the deployment's own replicas.
    assert_eq!(
        (sets[0].name.as_str(), sets[0].min, sets[0].max),
        ("x86", 3, Some(3))
    );
    watches.abort();
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_without_an_arc_api() {
    // Only the supported scale-set API: the legacy one is not watched, and nothing goes stale.
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    sb.hide_group("actions.summerwind.dev");
    let inv = inventory(dir.path(), sb.kubeconfig_path(), "");
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(&inv, tx, &shipdeck::services::kube::watch::PodScope::All).unwrap();
    let mut state = LiveState::default();
    until(&mut rx, &mut state, "the scale-set-only feed", |r| {
        r.conn == Conn::Live
    })
    .await;
    assert_eq!(
        state.runners.as_ref().unwrap().served,
        [RunnerMode::ScaleSet]
    );
    // No event says stale afterwards either.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(ev) = rx.try_recv() {
        state.apply(ev);
    }
    assert_eq!(state.runners.as_ref().unwrap().conn, Conn::Live);
    watches.abort();

    // Neither API: the feed says so instead of failing forever.
    sb.hide_group("actions.github.com");
    let (tx, mut rx) = unbounded_channel();
    let watches = spawn_watches(&inv, tx, &shipdeck::services::kube::watch::PodScope::All).unwrap();
    let mut state = LiveState::default();
    until(&mut rx, &mut state, "the no-ARC feed", |r| {
        r.conn == Conn::Live
    })
    .await;
    let r = state.runners.as_ref().unwrap();
    assert!(r.served.is_empty() && r.sets.is_empty(), "{r:#?}");
    watches.abort();
    sb.shutdown().await;
}
