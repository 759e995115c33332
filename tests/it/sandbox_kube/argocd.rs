//! The simulated Argo CD against a real git repository, and the world seeded from an inventory.

use std::path::Path;

use kube::api::{ListParams, Patch, PatchParams};
use serde_json::Value;
use shipdeck::inventory::Inventory;

use super::*;

fn commit_tags(repo: &git2::Repository, web: &str, api_dev: &str, api_stg: &str) {
    let root = repo.workdir().unwrap();
    let files = [
        (
            "apps/web/overlays/dev/kustomization.yaml",
            format!(
                "resources: [../../base]\nimages:\n  - name: example.com/web\n    newTag: \"{web}\"\n"
            ),
        ),
        (
            "apps/web/overlays/stg/kustomization.yaml",
            format!(
                "resources: [../../base]\nimages:\n  - name: example.com/web\n    newTag: \"{web}\"\n"
            ),
        ),
        (
            "apps/api/values-dev.yaml",
            format!("image:\n  repository: example.com/api\n  tag: \"{api_dev}\"\n"),
        ),
        (
            "apps/api/values-stg.yaml",
            format!("image:\n  repository: example.com/api\n  tag: \"{api_stg}\"\n"),
        ),
    ];
    let mut index = repo.index().unwrap();
    for (p, text) in files {
        let full = root.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, text).unwrap();
        index.add_path(Path::new(p)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("refs/heads/main"), &sig, &sig, "tags", &tree, &parents)
        .unwrap();
}

fn inventory(dir: &Path) -> Inventory {
    let text = format!(
        "gitops:\n  url: file://{}\n  branch: main\napps:\n  web:\n    image: example.com/web\n    layout:\n      kind: kustomize\n      path: apps/{{app}}/overlays/{{env}}/kustomization.yaml\n  api:\n    image: example.com/api\n    layout:\n      kind: helm\n      path: apps/api/values-{{env}}.yaml\n      key: image.tag\nenvironments:\n  dev:\n    namespace: shop-dev\n    kube_context: dev-cluster\n    auto_release: true\n  stg:\n    namespace: shop-stg\n    promote_from: dev\nrunners:\n  namespace: arc-runners\n  scale_sets: [shop-runners]\n",
        dir.join("gitops").display()
    );
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, &text).unwrap();
    Inventory::from_str_at(&text, &path).unwrap()
}

fn image(ro: &DynamicObject) -> String {
    ro.data["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_follows_git_and_world_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path().join("gitops")).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    commit_tags(&repo, "v1", "a1", "a1");
    commit_tags(&repo, "v2", "a2", "a1");
    let mut o = opts(dir.path());
    o.controllers = true;
    o.speed = 40.0;
    o.inventory = Some(inventory(dir.path()));
    let sb = KubeSandbox::start(o).await.unwrap();
    // The kubeconfig also names the inventory's contexts.
    let kc = std::fs::read_to_string(sb.kubeconfig_path()).unwrap();
    assert!(kc.contains("dev-cluster"), "{kc}");
    let c = client(&sb).await;
    let dev = rollouts(&c, "shop-dev");
    let stg = rollouts(&c, "shop-stg");
    let apps: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "argocd",
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "argoproj.io",
            "v1alpha1",
            "Application",
        )),
    );
    eventually(30, "dev web Healthy at v2", || async {
        let ro = dev.get("web").await.unwrap();
        (image(&ro) == "example.com/web:v2" && ro.data["status"]["phase"] == "Healthy")
            .then_some(())
    })
    .await;
    // stg started one tag back and Argo CD moved it to git's tag: a canary held at the pause.
    let st = eventually(30, "stg web paused at the indefinite pause", || async {
        let ro = stg.get("web").await.unwrap();
        (image(&ro) == "example.com/web:v2" && ro.data["status"]["message"] == "CanaryPauseStep")
            .then_some(ro.data["status"].clone())
    })
    .await;
    assert_ne!(st["stableRS"], st["currentPodHash"]);
    let app = apps.get("web-stg").await.unwrap();
    assert_eq!(app.data["status"]["sync"]["status"], "Synced");
    assert_eq!(
        app.data["status"]["sync"]["revision"],
        repo.head().unwrap().target().unwrap().to_string()
    );
    // A helm layout works the same way; stg api stays at a1 (git says so).
    assert_eq!(image(&stg.get("api").await.unwrap()), "example.com/api:a1");

    // A new commit: Argo CD sets the new image, history grows, health follows the Rollout.
    commit_tags(&repo, "v3", "a3", "a1");
    eventually(
        30,
        "dev api at a3 and Healthy, Application history 2",
        || async {
            let ro = dev.get("api").await.unwrap();
            let app = apps.get("api-dev").await.unwrap();
            (image(&ro) == "example.com/api:a3"
                && ro.data["status"]["phase"] == "Healthy"
                && app.data["status"]["history"].as_array().map(Vec::len) == Some(2)
                && app.data["status"]["health"]["status"] == "Healthy"
                && app.data["status"]["summary"]["images"]
                    == Value::from(vec!["example.com/api:a3"]))
            .then_some(())
        },
    )
    .await;
    // Runners from the inventory.
    let sets: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "arc-runners",
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "actions.github.com",
            "v1alpha1",
            "AutoscalingRunnerSet",
        )),
    );
    assert_eq!(
        sets.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    // Promote stg through /status as the plugin does; it completes.
    stg.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&serde_json::json!({"status": {"pauseConditions": null}})),
    )
    .await
    .unwrap();
    eventually(30, "stg web Healthy", || async {
        let ro = stg.get("web").await.unwrap();
        (ro.data["status"]["phase"] == "Healthy").then_some(())
    })
    .await;
    sb.shutdown().await;
}
