//! Every object the simulators produce validates against the real CRD openAPIV3Schema
//! (shared/fixtures/crds), with unknown fields rejected as the API server's pruning would drop them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shipdeck::sandbox::kube::{RESOURCES, seed};

use super::*;

fn crd_dir() -> std::path::PathBuf {
    crate::shared_fixtures().join("crds")
}

/// Rejects unknown fields wherever the schema lists properties and does not preserve unknowns.
fn close(schema: &mut Value) {
    if let Value::Object(m) = schema {
        let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
        if m.contains_key("properties") && !preserve && !m.contains_key("additionalProperties") {
            m.insert("additionalProperties".into(), json!(false));
        }
        for v in m.values_mut() {
            close(v);
        }
    } else if let Value::Array(a) = schema {
        a.iter_mut().for_each(close);
    }
}

pub(crate) fn schemas() -> BTreeMap<String, jsonschema::Validator> {
    let mut out = BTreeMap::new();
    let dir = crd_dir();
    for sub in ["argo-rollouts", "argo-cd", "actions-runner-controller"] {
        for entry in std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("CRD fixtures missing at {}: {e}", dir.display()))
        {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let crd: Value = serde_saphyr::from_str(&text).unwrap();
            if crd["kind"] != "CustomResourceDefinition" {
                continue;
            }
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_owned();
            let mut schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
            close(&mut schema);
            // metadata is validated by the API server itself, not by the CRD schema.
            schema["properties"]["metadata"] = json!({"type": "object"});
            out.insert(kind, jsonschema::validator_for(&schema).unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_objects_match_the_real_crds() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.controllers = true;
    o.speed = 40.0;
    let sb = KubeSandbox::start(o).await.unwrap();
    let c = client(&sb).await;
    // A good canary, a bad one (failed analysis, aborted), runners, and an Application.
    let st = sb.store();
    let id = |kind: &str| RESOURCES.iter().position(|r| r.kind == kind).unwrap();
    let internal = shipdeck::sandbox::kube::WriteMode::Internal;
    for t in seed::analysis_templates("shop") {
        st.create(id("AnalysisTemplate"), t, internal).unwrap();
    }
    for (name, steps) in [
        ("good", seed::canary_steps("good", false)),
        ("bad", seed::canary_steps("bad", false)),
    ] {
        st.create(
            id("Rollout"),
            seed::rollout(name, "shop", "example.com/web:v1", 2, steps),
            internal,
        )
        .unwrap();
    }
    st.create(
        id("AutoscalingRunnerSet"),
        seed::runner_set("runners", "arc", "https://github.com/o/r", 2, 3),
        internal,
    )
    .unwrap();
    let ros = rollouts(&c, "shop");
    eventually(30, "both rollouts healthy", || async {
        let l = ros.list(&kube::api::ListParams::default()).await.unwrap();
        l.items
            .iter()
            .all(|r| r.data["status"]["phase"] == "Healthy")
            .then_some(())
    })
    .await;
    for (name, tag) in [("good", "v2"), ("bad", "v2-bad")] {
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": name, "image": format!("example.com/web:{tag}")}]}}}});
        ros.patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&p),
        )
        .await
        .unwrap();
    }
    eventually(30, "good Healthy at v2, bad Degraded", || async {
        let good = ros.get("good").await.unwrap();
        let bad = ros.get("bad").await.unwrap();
        (good.data["status"]["phase"] == "Healthy"
            && good.data["status"]["stableRS"] == good.data["status"]["currentPodHash"]
            && bad.data["status"]["phase"] == "Degraded")
            .then_some(())
    })
    .await;
    eventually(30, "a runner with a job", || async {
        st.list(id("EphemeralRunner"), None)
            .0
            .iter()
            .any(|r| r.value()["status"]["workflowRunId"].is_i64())
            .then_some(())
    })
    .await;
    let inv_dir = tempfile::tempdir().unwrap();
    let b = shipdeck::sandbox::kube::sim::argocd::AppBinding {
        app: "web".into(),
        env: "dev".into(),
        application: "web-dev".into(),
        argocd_namespace: "argocd".into(),
        namespace: "shop".into(),
        rollout: "good".into(),
        image: "example.com/web".into(),
        image_name: "example.com/web".into(),
        layout: shipdeck::inventory::Layout::Helm {
            path: "values.yaml".into(),
            key: "image.tag".into(),
        },
        file: "values.yaml".into(),
        repo_url: "file:///nowhere".into(),
        repo_path: inv_dir.path().join("missing"),
        branch: "main".into(),
    };
    st.create(id("Application"), seed::application(&b, false), internal)
        .unwrap();
    let mut argocd = shipdeck::sandbox::kube::sim::argocd::ArgoCdSim::new(st.clone(), vec![b]);
    argocd.tick();

    let validators = schemas();
    let mut checked = BTreeMap::<String, usize>::new();
    for (i, def) in RESOURCES.iter().enumerate() {
        let Some(v) = validators.get(def.kind) else {
            continue;
        };
        for o in st.list(i, None).0 {
            let obj = o.value();
            let errors: Vec<String> = v
                .iter_errors(&obj)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} {}/{} does not match its CRD:\n{}\n{obj:#}",
                def.kind,
                o.namespace,
                o.name,
                errors.join("\n")
            );
            *checked.entry(def.kind.to_owned()).or_default() += 1;
        }
    }
    for kind in [
        "Rollout",
        "AnalysisRun",
        "AnalysisTemplate",
        "Application",
        "AutoscalingRunnerSet",
        "EphemeralRunnerSet",
        "EphemeralRunner",
        "AutoscalingListener",
    ] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} was produced to check: {checked:?}"
        );
    }
    // The fixture objects of the plugin's own tests pass the same validators (the check is sound).
    let mut fixture: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(
            crate::shared_fixtures().join("argo-rollouts/info-testdata/canary/canary-rollout.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    // `creationTimestamp: null` in the pod template is what the server prunes on write.
    fixture["spec"]["template"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("creationTimestamp");
    let errs: Vec<String> = validators["Rollout"]
        .iter_errors(&fixture)
        .map(|e| e.to_string())
        .collect();
    assert!(errs.is_empty(), "{errs:?}");
    sb.shutdown().await;
}
