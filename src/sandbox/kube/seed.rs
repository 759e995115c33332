//! Seeding: the demo world from an inventory, and bulk objects for scale tests.

use serde_json::{Value, json};

use super::resources::ids;
use super::sim::UNMANAGED;
use super::sim::argocd::{AppBinding, bindings, read_tag, tag_from_text};
use super::store::{Store, StoreError, WriteMode};
use crate::inventory::Inventory;

/// Runner scale set used when the inventory lists none.
pub const DEFAULT_SCALE_SET: &str = "shipdeck-runners";

fn ensure(store: &Store, res: usize, v: Value) -> Result<(), StoreError> {
    match store.create(res, v, WriteMode::Internal) {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn namespace(store: &Store, name: &str) -> Result<(), StoreError> {
    ensure(
        store,
        ids::namespaces(),
        json!({"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    )
}

/// The canary steps the sandbox's Rollouts use. Auto-released environments skip the
/// indefinite pause so new builds flow through on their own.
pub fn canary_steps(name: &str, indefinite_pause: bool) -> Value {
    let mut steps = vec![json!({"setWeight": 20})];
    if indefinite_pause {
        steps.push(json!({"pause": {}}));
    }
    steps.extend([
        json!({"setWeight": 40}),
        json!({"pause": {"duration": "10s"}}),
        json!({"setWeight": 60}),
        json!({"pause": {"duration": "10s"}}),
        json!({"analysis": {
            "templates": [{"templateName": "success-rate"}, {"templateName": "latency-p99"}],
            "args": [{"name": "service-name", "value": format!("{name}-canary")}],
        }}),
    ]);
    Value::Array(steps)
}

/// A Rollout shaped like the Argo Rollouts examples (canary with nginx traffic routing).
pub fn rollout(name: &str, namespace: &str, image: &str, replicas: i64, steps: Value) -> Value {
    let mut ro = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                }]},
            },
            "strategy": {"canary": {
                "canaryService": format!("{name}-canary"),
                "stableService": format!("{name}-stable"),
                "trafficRouting": {"nginx": {"stableIngress": name}},
            }},
        },
    });
    ro["spec"]["strategy"]["canary"]["steps"] = steps;
    ro
}

/// The two AnalysisTemplates the analysis step uses (Prometheus provider shape).
pub fn analysis_templates(namespace: &str) -> Vec<Value> {
    let tpl = |name: &str, cond: &str, query: &str| {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "args": [{"name": "service-name"}],
                "metrics": [{
                    "name": name, "interval": "5s", "count": 3, "failureLimit": 0,
                    "successCondition": cond,
                    "provider": {"prometheus": {"address": "http://prometheus.monitoring.svc:9090", "timeout": 40, "query": query}},
                }],
            },
        })
    };
    vec![
        tpl(
            "success-rate",
            "result[0] >= 0.95",
            "sum(irate(nginx_ingress_controller_requests{service=\"{{args.service-name}}\",status!~\"5.*\"}[1m])) / sum(irate(nginx_ingress_controller_requests{service=\"{{args.service-name}}\"}[1m]))",
        ),
        tpl(
            "latency-p99",
            "result[0] <= 0.5",
            "histogram_quantile(0.99, sum(rate(nginx_ingress_controller_request_duration_seconds_bucket{service=\"{{args.service-name}}\"}[1m])) by (le))",
        ),
    ]
}

/// An Argo CD Application for one binding (auto-sync on unless `manual`).
pub fn application(b: &AppBinding, manual: bool) -> Value {
    let path = b.file.rsplit_once('/').map_or("", |(d, _)| d);
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": b.application, "namespace": b.argocd_namespace,
                     "labels": {"shipdeck.dev/app": b.app, "shipdeck.dev/env": b.env}},
        "spec": {
            "project": "default",
            "source": {"repoURL": b.repo_url, "path": path, "targetRevision": b.branch},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": b.namespace},
            "syncPolicy": if manual { json!({}) } else { json!({"automated": {"prune": true, "selfHeal": true}}) },
        },
    })
}

/// An earlier, different tag of the same file in the branch's history.
fn older_tag(b: &AppBinding, current: &str) -> Option<String> {
    let repo = git2::Repository::open(&b.repo_path).ok()?;
    let tip = repo
        .find_reference(&format!("refs/heads/{}", b.branch))
        .ok()?
        .peel_to_commit()
        .ok()?;
    let mut walk = repo.revwalk().ok()?;
    walk.push(tip.id()).ok()?;
    for oid in walk.flatten().take(200) {
        let commit = repo.find_commit(oid).ok()?;
        let tree = commit.tree().ok()?;
        let Ok(entry) = tree.get_path(std::path::Path::new(&b.file)) else {
            continue;
        };
        let Ok(obj) = entry.to_object(&repo) else {
            continue;
        };
        let Some(blob) = obj.as_blob() else { continue };
        if let Some(t) = tag_from_text(
            &String::from_utf8_lossy(blob.content()),
            &b.layout,
            &b.image_name,
        ) && t != current
        {
            return Some(t);
        }
    }
    None
}

/// The environment that should hold a canary paused for a person: `stg` if there is one,
/// else the first non-protected environment promoted from another.
fn held_env(inv: &Inventory) -> Option<String> {
    if inv.environments.contains_key("stg") {
        return Some("stg".to_owned());
    }
    inv.environments
        .iter()
        .find(|(_, e)| e.promote_from().is_some() && !e.protected)
        .map(|(n, _)| n.clone())
}

/// Where some app × envs start other than at git's tag.
#[derive(Debug, Clone, Copy, Default)]
pub struct Starts<'a> {
    /// Applications that sync only when asked (auto-sync off), their Rollout one tag behind
    /// git, as after a commit nobody synced yet.
    pub manual: &'a [(String, String)],
    /// Rollouts one tag behind git with auto-sync on: a canary starts at once.
    pub behind: &'a [(String, String)],
}

/// Creates the demo world: namespaces, AnalysisTemplates, one Rollout and one Application per
/// app × env (fully promoted at the env's git tag; the held env starts one tag back so Argo CD
/// starts a canary that stops at the indefinite pause), and the runner scale sets.
pub fn seed_world(store: &Store, inv: &Inventory, starts: &Starts<'_>) -> Result<(), StoreError> {
    let held = held_env(inv);
    let binds = bindings(inv);
    for b in &binds {
        namespace(store, &b.namespace)?;
        namespace(store, &b.argocd_namespace)?;
        ensure(
            store,
            ids::appprojects(),
            json!({
                "metadata": {"name": "default", "namespace": b.argocd_namespace},
                "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                         "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]},
            }),
        )?;
        for t in analysis_templates(&b.namespace) {
            ensure(store, ids::analysistemplates(), t)?;
        }
        let tag = if let Ok((_, Some(t))) = read_tag(b) {
            t
        } else {
            tracing::warn!(
                "sandbox: no tag for {} in {} at {}; using `latest`",
                b.app,
                b.env,
                b.file
            );
            "latest".to_owned()
        };
        let named =
            |list: &[(String, String)]| list.iter().any(|(a, e)| *a == b.app && *e == b.env);
        let is_manual = named(starts.manual);
        let back = is_manual || named(starts.behind) || held.as_deref() == Some(b.env.as_str());
        let seed_tag = if back {
            older_tag(b, &tag).unwrap_or(tag)
        } else {
            tag
        };
        let auto = inv.environments.get(&b.env).is_some_and(|e| e.auto_release);
        let mut ro = rollout(
            &b.rollout,
            &b.namespace,
            &format!("{}:{seed_tag}", b.image),
            3,
            canary_steps(&b.rollout, !auto),
        );
        ro["metadata"]["labels"]["app.kubernetes.io/instance"] = json!(b.application);
        ensure(store, ids::rollouts(), ro)?;
        ensure(store, ids::applications(), application(b, is_manual))?;
    }
    if let Some(r) = &inv.runners {
        namespace(store, &r.namespace)?;
        let names = if r.scale_sets.is_empty() {
            vec![DEFAULT_SCALE_SET.to_owned()]
        } else {
            r.scale_sets.clone()
        };
        let url = inv.github.as_ref().map_or_else(
            || "https://github.com/example-org/example".to_owned(),
            |g| format!("https://github.com/{}/{}", g.owner, g.repo),
        );
        for name in names {
            ensure(
                store,
                ids::autoscalingrunnersets(),
                runner_set(&name, &r.namespace, &url, 1, 4),
            )?;
        }
        let repo = url.trim_start_matches("https://github.com/");
        for name in &r.runner_deployments {
            let (rd, hra) = runner_deployment(name, &r.namespace, repo, 1, 3);
            ensure(store, ids::runnerdeployments(), rd)?;
            ensure(store, ids::horizontalrunnerautoscalers(), hra)?;
        }
    }
    Ok(())
}

/// A legacy RunnerDeployment and the HorizontalRunnerAutoscaler that scales it, as the
/// actions-runner-controller docs write them.
pub fn runner_deployment(
    name: &str,
    namespace: &str,
    repository: &str,
    min: i64,
    max: i64,
) -> (Value, Value) {
    let rd = json!({
        "apiVersion": "actions.summerwind.dev/v1alpha1", "kind": "RunnerDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"repository": repository, "labels": ["self-hosted", "arm64"],
            "image": "summerwind/actions-runner:v2.321.0-ubuntu-22.04"}}},
        "status": {},
    });
    let hra = json!({
        "apiVersion": "actions.summerwind.dev/v1alpha1", "kind": "HorizontalRunnerAutoscaler",
        "metadata": {"name": format!("{name}-autoscaler"), "namespace": namespace},
        "spec": {"scaleTargetRef": {"kind": "RunnerDeployment", "name": name},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "TotalNumberOfQueuedAndInProgressWorkflowRuns", "repositoryNames": [repository]}]},
        "status": {},
    });
    (rd, hra)
}

/// An AutoscalingRunnerSet as the gha-runner-scale-set chart renders it.
pub fn runner_set(name: &str, namespace: &str, github_url: &str, min: i64, max: i64) -> Value {
    json!({
        "apiVersion": "actions.github.com/v1alpha1", "kind": "AutoscalingRunnerSet",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/component": "autoscaling-runner-set", "app.kubernetes.io/part-of": "gha-rs",
                       "actions.github.com/scale-set-name": name, "actions.github.com/scale-set-namespace": namespace},
            "annotations": {"actions.github.com/values-hash": "0c1f5b0e"},
        },
        "spec": {
            "githubConfigUrl": github_url,
            "githubConfigSecret": format!("{name}-gha-rs-github-secret"),
            "runnerScaleSetName": name,
            "minRunners": min, "maxRunners": max,
            "template": {"spec": {
                "restartPolicy": "Never",
                "serviceAccountName": format!("{name}-gha-rs-no-permission"),
                "containers": [{"name": "runner", "image": "ghcr.io/actions/actions-runner:latest", "command": ["/home/runner/run.sh"]}],
            }},
        },
    })
}

/// Bulk, controller-free objects for scale tests: `pods` pods spread over `rollouts` healthy
/// Rollouts in `namespace`, each marked unmanaged so no simulator touches them.
pub fn seed_scale(
    store: &Store,
    namespace_name: &str,
    pods: usize,
    rollouts: usize,
) -> Result<(), StoreError> {
    namespace(store, namespace_name)?;
    let rollouts = rollouts.max(1);
    for r in 0..rollouts {
        let name = format!("app-{r:04}");
        let mut ro = rollout(
            &name,
            namespace_name,
            &format!("registry.example.com/scale/{name}:v1"),
            20,
            canary_steps(&name, true),
        );
        ro["metadata"]["annotations"] =
            json!({UNMANAGED: "true", "rollout.argoproj.io/revision": "1"});
        ro["status"] = json!({
            "phase": "Healthy", "observedGeneration": "1", "currentPodHash": "5b9d7c8f6d", "stableRS": "5b9d7c8f6d",
            "currentStepIndex": 7, "replicas": 20, "updatedReplicas": 20, "readyReplicas": 20, "availableReplicas": 20,
            "canary": {}, "selector": format!("app={name}"),
        });
        store.create(ids::rollouts(), ro, WriteMode::Internal)?;
    }
    for p in 0..pods {
        let app = format!("app-{:04}", p % rollouts);
        let pod = json!({
            "metadata": {
                "name": format!("{app}-5b9d7c8f6d-{p:05}"), "namespace": namespace_name,
                "labels": {"app": app, "rollouts-pod-template-hash": "5b9d7c8f6d"},
                "annotations": {UNMANAGED: "true"},
            },
            "spec": {"nodeName": "sandbox-node-1", "containers": [{
                "name": app, "image": format!("registry.example.com/scale/{app}:v1"),
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
            }]},
            "status": {
                "phase": "Running", "podIP": "10.244.1.10", "hostIP": "10.0.0.1", "qosClass": "Burstable",
                "startTime": "2026-11-30T08:00:00Z",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-30T08:00:05Z"}],
                "containerStatuses": [{"name": app, "ready": true, "restartCount": 0, "started": true,
                                        "image": format!("registry.example.com/scale/{app}:v1"), "imageID": "",
                                        "state": {"running": {"startedAt": "2026-11-30T08:00:03Z"}}}],
            },
        });
        store.create(ids::pods(), pod, WriteMode::Internal)?;
    }
    Ok(())
}

/// Pods no Rollout made (a busy namespace's Deployments): labelled as a Deployment labels its
/// pods, so only a watch's label selector keeps them out of a cockpit's memory.
pub fn seed_unrelated_pods(
    store: &Store,
    namespace_name: &str,
    count: usize,
) -> Result<(), StoreError> {
    namespace(store, namespace_name)?;
    for p in 0..count {
        let app = format!("batch-{:02}", p % 20);
        let pod = json!({
            "metadata": {
                "name": format!("{app}-6d4f9c7b8-{p:05}"), "namespace": namespace_name,
                "labels": {"app": app, "pod-template-hash": "6d4f9c7b8"},
                "annotations": {UNMANAGED: "true"},
            },
            "spec": {"nodeName": "sandbox-node-2", "containers": [{
                "name": app, "image": format!("registry.example.com/jobs/{app}:v7"),
            }]},
            "status": {"phase": "Running", "podIP": "10.244.2.10", "startTime": "2026-11-30T08:00:00Z"},
        });
        store.create(ids::pods(), pod, WriteMode::Internal)?;
    }
    Ok(())
}
