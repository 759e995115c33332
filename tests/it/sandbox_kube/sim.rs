//! The simulated controllers, observed through kube-rs like the live view observes them.

use kube::ResourceExt;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use shipdeck::sandbox::kube::seed;

use super::*;

async fn start_sim(dir: &Path) -> KubeSandbox {
    let mut o = opts(dir);
    o.controllers = true;
    o.speed = 40.0;
    KubeSandbox::start(o).await.unwrap()
}

fn dynamic(c: &Client, ns: &str, group: &str, kind: &str) -> Api<DynamicObject> {
    let version = if group.is_empty() || group == "apps" {
        "v1"
    } else {
        "v1alpha1"
    };
    Api::namespaced_with(
        c.clone(),
        ns,
        &ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind)),
    )
}

async fn create_rollout(c: &Client, ns: &str, name: &str, tag: &str) -> Api<DynamicObject> {
    let ros = rollouts(c, ns);
    let ats = dynamic(c, ns, "argoproj.io", "AnalysisTemplate");
    for t in seed::analysis_templates(ns) {
        ats.create(&PostParams::default(), &serde_json::from_value(t).unwrap())
            .await
            .unwrap();
    }
    let ro = seed::rollout(
        name,
        ns,
        &format!("example.com/web:{tag}"),
        3,
        seed::canary_steps(name, true),
    );
    ros.create(&PostParams::default(), &serde_json::from_value(ro).unwrap())
        .await
        .unwrap();
    ros
}

fn status(o: &DynamicObject) -> Value {
    o.data.get("status").cloned().unwrap_or(Value::Null)
}

async fn wait_phase(
    ros: &Api<DynamicObject>,
    name: &str,
    phase: &str,
    message_part: &str,
) -> Value {
    eventually(
        30,
        &format!("rollout {name} {phase} ({message_part})"),
        || async {
            let st = status(&ros.get(name).await.unwrap());
            let msg = st["message"].as_str().unwrap_or_default();
            (st["phase"] == phase && msg.contains(message_part)).then_some(st)
        },
    )
    .await
}

async fn set_image(ros: &Api<DynamicObject>, name: &str, tag: &str) {
    let p = json!({"spec": {"template": {"spec": {"containers": [{"name": name, "image": format!("example.com/web:{tag}")}]}}}});
    // Containers is a list: a merge patch replaces it whole, as kubectl's merge does.
    ros.patch(name, &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_from_release_to_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let ros = create_rollout(&c, "shop", "web", "v1").await;
    let st = wait_phase(&ros, "web", "Healthy", "").await;
    assert_eq!(st["stableRS"], st["currentPodHash"]);
    assert_eq!(st["currentStepIndex"], 7);
    assert_eq!(st["availableReplicas"], 3);
    let first_hash = st["currentPodHash"].as_str().unwrap().to_owned();

    set_image(&ros, "web", "v2").await;
    let st = wait_phase(&ros, "web", "Paused", "CanaryPauseStep").await;
    assert_eq!(st["currentStepIndex"], 1);
    assert_eq!(st["controllerPause"], true);
    assert_eq!(st["stableRS"], first_hash.as_str());
    assert_eq!(st["canary"]["weights"]["canary"]["weight"], 20);
    let ro = ros.get("web").await.unwrap();
    assert_eq!(
        st["observedGeneration"],
        ro.metadata.generation.unwrap().to_string()
    );

    // The plugin's promote while paused at a step: clear pauseConditions on /status.
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"pauseConditions": null}})),
    )
    .await
    .unwrap();
    let st = wait_phase(&ros, "web", "Healthy", "").await;
    assert_ne!(st["stableRS"], first_hash.as_str());
    assert_eq!(st["stableRS"], st["currentPodHash"]);

    // Analysis ran for the step, labelled like the real controller's, and passed.
    let ars = dynamic(&c, "shop", "argoproj.io", "AnalysisRun");
    let list = ars
        .list(&kube::api::ListParams::default().labels("rollout-type=Step"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let ar = &list.items[0];
    assert_eq!(ar.labels()["step-index"], "6");
    let ar_st = status(ar);
    assert_eq!(ar_st["phase"], "Successful");
    let metrics: Vec<&str> = ar_st["metricResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["success-rate", "latency-p99"]);
    assert_eq!(
        ar_st["metricResults"][0]["measurements"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // ReplicaSets: two revisions, the old scaled to zero; pods ready under the new hash.
    let rss = dynamic(&c, "shop", "apps", "ReplicaSet");
    let list = rss.list(&kube::api::ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 2);
    let old = list
        .items
        .iter()
        .find(|r| r.labels()["rollouts-pod-template-hash"] == first_hash)
        .unwrap();
    assert_eq!(old.data["spec"]["replicas"], 0);
    assert_eq!(old.annotations()["rollout.argoproj.io/revision"], "1");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tag_fails_analysis_and_degrades() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let ros = create_rollout(&c, "shop", "web", "v1").await;
    wait_phase(&ros, "web", "Healthy", "").await;
    set_image(&ros, "web", "v2-bad").await;
    wait_phase(&ros, "web", "Paused", "CanaryPauseStep").await;
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"pauseConditions": null}})),
    )
    .await
    .unwrap();
    let st = wait_phase(&ros, "web", "Degraded", "RolloutAborted").await;
    assert!(
        st["message"].as_str().unwrap().contains("success-rate"),
        "{st}"
    );
    assert_eq!(st["abort"], true);
    assert_eq!(
        st["canary"]["currentStepAnalysisRunStatus"]["status"],
        "Failed"
    );
    sb.shutdown().await;
}

/// `web` healthy on v1, then v2's canary paused and aborted: (the stable hash, the status).
async fn aborted_canary(ros: &Api<DynamicObject>) -> (String, Value) {
    let st = wait_phase(ros, "web", "Healthy", "").await;
    let stable = st["stableRS"].as_str().unwrap().to_owned();
    set_image(ros, "web", "v2").await;
    wait_phase(ros, "web", "Paused", "CanaryPauseStep").await;
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"abort": true}})),
    )
    .await
    .unwrap();
    let st = wait_phase(ros, "web", "Degraded", "RolloutAborted").await;
    (stable, st)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_restores_stable_and_retry_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let ros = create_rollout(&c, "shop", "web", "v1").await;
    let (stable, st) = aborted_canary(&ros).await;
    assert_eq!(st["stableRS"], stable.as_str());
    assert_eq!(st["canary"]["weights"]["canary"]["weight"], 0);
    let rss = dynamic(&c, "shop", "apps", "ReplicaSet");
    eventually(30, "canary scaled down, stable full", || async {
        let list = rss.list(&kube::api::ListParams::default()).await.unwrap();
        list.items
            .iter()
            .all(|r| {
                let want = if r.labels()["rollouts-pod-template-hash"] == stable {
                    3
                } else {
                    0
                };
                r.data["spec"]["replicas"] == want && r.data["status"]["replicas"] == want
            })
            .then_some(())
    })
    .await;
    // retry: back to step 0, then paused at the first pause again.
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"abort": false}})),
    )
    .await
    .unwrap();
    let st = wait_phase(&ros, "web", "Paused", "CanaryPauseStep").await;
    assert_eq!(st["currentStepIndex"], 1);
    // promote-full skips the rest.
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"promoteFull": true}})),
    )
    .await
    .unwrap();
    let st = wait_phase(&ros, "web", "Healthy", "").await;
    assert_eq!(st["stableRS"], st["currentPodHash"]);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_promote_full_in_one_patch_end_fully_promoted() {
    // A script (or a fast hand) sends promote-full right behind retry; the controller may see
    // both at once, and promote-full must not be lost to the retry's restart at step 0.
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let ros = create_rollout(&c, "shop", "web", "v1").await;
    aborted_canary(&ros).await;
    ros.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"abort": false, "promoteFull": true}})),
    )
    .await
    .unwrap();
    let st = wait_phase(&ros, "web", "Healthy", "").await;
    assert_eq!(st["stableRS"], st["currentPodHash"]);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_restart_patches() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let ros = create_rollout(&c, "shop", "web", "v1").await;
    wait_phase(&ros, "web", "Healthy", "").await;
    set_image(&ros, "web", "v2").await;
    ros.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    wait_phase(&ros, "web", "Paused", "manually paused").await;
    ros.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    wait_phase(&ros, "web", "Paused", "CanaryPauseStep").await;
    let at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    ros.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"restartAt": at}})),
    )
    .await
    .unwrap();
    let st = eventually(30, "restartedAt", || async {
        let st = status(&ros.get("web").await.unwrap());
        (st["restartedAt"] == at.as_str()).then_some(st)
    })
    .await;
    assert_eq!(st["phase"], "Paused");
    sb.shutdown().await;
}

/// The first object `api` lists that `pred` accepts, waiting up to 30 s for one.
async fn first_listed(
    api: &Api<DynamicObject>,
    what: &str,
    pred: impl Fn(&DynamicObject) -> bool,
) -> DynamicObject {
    eventually(30, what, || async {
        api.list(&kube::api::ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|o| pred(o))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arc_runners_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let sets = dynamic(
        &c,
        "arc-runners",
        "actions.github.com",
        "AutoscalingRunnerSet",
    );
    let ars = seed::runner_set(
        "miker-runners",
        "arc-runners",
        "https://github.com/example-org/miker",
        2,
        4,
    );
    sets.create(
        &PostParams::default(),
        &serde_json::from_value(ars).unwrap(),
    )
    .await
    .unwrap();
    let runners = dynamic(&c, "arc-runners", "actions.github.com", "EphemeralRunner");
    let pods = dynamic(&c, "arc-runners", "", "Pod");
    let with_job = first_listed(&runners, "a runner running a job", |r| {
        status(r)["workflowRunId"].is_i64() && status(r)["phase"] == "Running"
    })
    .await;
    let name = with_job.metadata.name.clone().unwrap();
    assert!(
        status(&with_job)["jobWorkflowRef"]
            .as_str()
            .unwrap()
            .contains(".github/workflows/")
    );
    let pod = pods.get(&name).await.unwrap();
    assert_eq!(
        pod.labels()["actions.github.com/scale-set-name"],
        "miker-runners"
    );
    assert_eq!(pod.labels()["app.kubernetes.io/component"], "runner");
    assert_eq!(
        pod.metadata.owner_references.as_ref().unwrap()[0].uid,
        with_job.metadata.uid.clone().unwrap()
    );
    // It finishes and is replaced.
    eventually(30, "the runner to finish and go", || async {
        runners
            .get_opt(&name)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let set = sets.get("miker-runners").await.unwrap();
    assert!(
        status(&set)["currentRunners"].as_i64().unwrap() >= 2,
        "{}",
        status(&set)
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_arc_runners_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_sim(dir.path()).await;
    let c = client(&sb).await;
    let (rd, hra) = seed::runner_deployment("arm64", "arc-runners", "example-org/miker", 2, 3);
    let deployments = dynamic(
        &c,
        "arc-runners",
        "actions.summerwind.dev",
        "RunnerDeployment",
    );
    let autoscalers = dynamic(
        &c,
        "arc-runners",
        "actions.summerwind.dev",
        "HorizontalRunnerAutoscaler",
    );
    deployments
        .create(&PostParams::default(), &serde_json::from_value(rd).unwrap())
        .await
        .unwrap();
    autoscalers
        .create(
            &PostParams::default(),
            &serde_json::from_value(hra).unwrap(),
        )
        .await
        .unwrap();
    let runners = dynamic(&c, "arc-runners", "actions.summerwind.dev", "Runner");
    let pods = dynamic(&c, "arc-runners", "", "Pod");
    let busy = first_listed(&runners, "a legacy runner serving a workflow run", |r| {
        status(r)["workflow"]["runID"].is_string() && status(r)["phase"] == "Running"
    })
    .await;
    let name = busy.metadata.name.clone().unwrap();
    assert_eq!(busy.labels()["runner-deployment-name"], "arm64");
    let pod = pods.get(&name).await.unwrap();
    assert_eq!(pod.labels()["actions-runner"], "");
    assert_eq!(pod.labels()["runner-deployment-name"], "arm64");
    assert_eq!(
        pod.metadata.owner_references.as_ref().unwrap()[0].uid,
        busy.metadata.uid.clone().unwrap()
    );
    // The autoscaler's desired count drives the deployment, which reports it back.
    let desired = eventually(
        30,
        "the deployment to report the autoscaler's count",
        || async {
            let h = status(&autoscalers.get("arm64-autoscaler").await.unwrap())["desiredReplicas"]
                .as_i64()?;
            let d = status(&deployments.get("arm64").await.unwrap())["desiredReplicas"].as_i64()?;
            (h == d).then_some(d)
        },
    )
    .await;
    assert!((2..=3).contains(&desired), "{desired}");
    // Ephemeral: after its job the runner goes and is replaced.
    eventually(30, "the busy runner to finish and go", || async {
        runners
            .get_opt(&name)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    sb.shutdown().await;
}
