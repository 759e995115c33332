//! The real `kubectl` against the sandbox.

use std::process::Command;

use serde_json::{Value, json};

use super::*;

fn kubectl(sb: &KubeSandbox, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(sb.kubeconfig_path())
        .args(args)
        .output()
        .expect("`kubectl` must be installed for these tests (it is on the dev machine and in CI)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn seed_pod(c: &Client, ns: &str, name: &str) {
    let pods: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        ns,
        &ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Pod")),
    );
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}
    }))
    .unwrap();
    pods.create(&Default::default(), &obj).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_all_namespaces_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    seed_pod(&c, "a", "p1").await;
    seed_pod(&c, "b", "p2").await;
    let (ok, out, err) = tokio::task::spawn_blocking({
        let sb_cfg = sb.kubeconfig_path().to_path_buf();
        move || {
            let o = Command::new("kubectl").arg("--kubeconfig").arg(&sb_cfg).args(["get", "pods", "-A"]).output().unwrap();
            (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
        }
    })
    .await
    .unwrap();
    assert!(ok, "kubectl get -A failed: {err}");
    assert!(out.contains("p1") && out.contains("p2"), "{out}");
    let (ok, out, err) = tokio::task::block_in_place(|| kubectl(&sb, &["get", "pods", "-n", "a", "-o", "json"]));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"][0]["metadata"]["name"], "p1");
}
