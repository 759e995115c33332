//! The real `kubectl` against the sandbox.

use std::process::Command;

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

/// Runs the real `kubectl` on the sandbox: success, stdout, stderr.
pub(super) fn kubectl(sb: &KubeSandbox, args: &[&str]) -> (bool, String, String) {
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
    pods.create(&kube::api::PostParams::default(), &obj)
        .await
        .unwrap();
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
            let o = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&sb_cfg)
                .args(["get", "pods", "-A"])
                .output()
                .unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        }
    })
    .await
    .unwrap();
    assert!(ok, "kubectl get -A failed: {err}");
    assert!(out.contains("p1") && out.contains("p2"), "{out}");
    let (ok, out, err) =
        tokio::task::block_in_place(|| kubectl(&sb, &["get", "pods", "-n", "a", "-o", "json"]));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"][0]["metadata"]["name"], "p1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_status_watch_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let ro =
        shipdeck::sandbox::kube::seed::rollout("web", "shop", "example.com/web:v1", 1, json!([]));
    rollouts(&c, "shop")
        .create(
            &kube::api::PostParams::default(),
            &serde_json::from_value(ro).unwrap(),
        )
        .await
        .unwrap();
    // `get -w` in the background sees a change made by `patch --subresource=status`.
    let cfg = sb.kubeconfig_path().to_path_buf();
    let mut watch = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cfg)
        .args([
            "get",
            "rollouts",
            "-n",
            "shop",
            "-w",
            "-o",
            "json",
            "--request-timeout=10s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("`kubectl` must be installed for these tests");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (ok, _, err) = tokio::task::block_in_place(|| {
        kubectl(
            &sb,
            &[
                "patch",
                "rollout",
                "web",
                "-n",
                "shop",
                "--type",
                "merge",
                "--subresource=status",
                "-p",
                r#"{"status":{"abort":true}}"#,
            ],
        )
    });
    assert!(ok, "kubectl patch --subresource=status failed: {err}");
    let ro = rollouts(&c, "shop").get("web").await.unwrap();
    assert_eq!(ro.data["status"]["abort"], true);
    let (ok, out, err) = tokio::task::block_in_place(|| {
        kubectl(
            &sb,
            &[
                "get",
                "ro",
                "web",
                "-n",
                "shop",
                "-o",
                "jsonpath={.status.abort}",
            ],
        )
    });
    assert!(ok, "{err}");
    assert_eq!(out, "true");
    let (ok, _, err) =
        tokio::task::block_in_place(|| kubectl(&sb, &["delete", "rollout", "web", "-n", "shop"]));
    assert!(ok, "kubectl delete failed: {err}");
    assert!(rollouts(&c, "shop").get_opt("web").await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(500)).await;
    watch.kill().unwrap();
    let out = tokio::task::block_in_place(|| watch.wait_with_output()).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The initial object, then the status change (kubectl prints each as a JSON document).
    assert!(
        text.matches("\"name\": \"web\"").count() >= 2,
        "kubectl get -w printed: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("\"abort\": true"), "{text}");
}
