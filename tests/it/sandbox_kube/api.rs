//! The REST API through kube-rs: list/watch/resume, 410, conflicts, status and generation
//! rules, selectors, pagination, auth and deny rules.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use shipdeck::sandbox::kube::{DenyRule, seed};

use super::*;

fn pod(ns: &str, name: &str, labels: &[(&str, &str)]) -> Pod {
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}
    }))
    .unwrap()
}

async fn make_rollout(c: &Client, ns: &str, name: &str) -> DynamicObject {
    let ro = seed::rollout(
        name,
        ns,
        "example.com/web:v1",
        2,
        seed::canary_steps(name, true),
    );
    rollouts(c, ns)
        .create(&PostParams::default(), &serde_json::from_value(ro).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_conflict_and_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "a");
    let created = pods
        .create(&PostParams::default(), &pod("a", "p1", &[]))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    // Recorded as the API server does; kube-rs sends no User-Agent by default.
    let managers: Vec<_> = created
        .managed_fields()
        .iter()
        .map(|m| m.manager.as_deref())
        .collect();
    assert_eq!(managers, [Some("unknown")]);
    let err = pods
        .create(&PostParams::default(), &pod("a", "p1", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );
    // Update with a stale resourceVersion is a conflict.
    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh.labels_mut().insert("x".into(), "1".into());
    let updated = pods
        .replace("p1", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(updated.resource_version(), created.resource_version());
    stale.labels_mut().insert("x".into(), "2".into());
    let err = pods
        .replace("p1", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );
    let err = pods.get("nope").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
    pods.delete("p1", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    assert!(pods.get_opt("p1").await.unwrap().is_none());
    // Server-side apply is refused with a Status.
    let err = pods
        .patch(
            "p2",
            &PatchParams::apply("t"),
            &Patch::Apply(pod("a", "p2", &[])),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 415),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_subresource_and_generation_rules() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let ros = rollouts(&c, "ns");
    let ro = make_rollout(&c, "ns", "web").await;
    assert_eq!(ro.metadata.generation, Some(1));
    assert!(
        ro.data.get("status").is_none(),
        "status is dropped on create"
    );
    // A status write changes only status, and not the generation.
    let p = json!({"status": {"phase": "Paused"}, "spec": {"replicas": 9}, "metadata": {"labels": {"z": "1"}}});
    let after = ros
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
    assert_eq!(after.data["status"]["phase"], "Paused");
    assert_eq!(after.data["spec"]["replicas"], 2);
    assert!(!after.labels().contains_key("z"));
    assert_eq!(after.metadata.generation, Some(1));
    // A main write ignores status; metadata-only changes keep the generation.
    let p = json!({"status": {"phase": "Healthy"}, "metadata": {"labels": {"z": "1"}}});
    let after = ros
        .patch("web", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
    assert_eq!(after.data["status"]["phase"], "Paused");
    assert_eq!(after.labels()["z"], "1");
    assert_eq!(after.metadata.generation, Some(1));
    // A spec change bumps it.
    let after = ros
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap();
    assert_eq!(after.metadata.generation, Some(2));
    // A no-op write keeps the resourceVersion.
    let again = ros
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"paused": true}})),
        )
        .await
        .unwrap();
    assert_eq!(again.resource_version(), after.resource_version());
    // Strategic merge is accepted as a merge patch.
    let after = ros
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(after.data["spec"]["replicas"], 5);
    // Applications have no status subresource: /status is 404 (the plugin then patches the main resource).
    let apps: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "argocd",
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "argoproj.io",
            "v1alpha1",
            "Application",
        )),
    );
    let app = serde_json::from_value(json!({"metadata": {"name": "a", "namespace": "argocd"}, "spec": {"project": "default", "destination": {}}, "status": {"sync": {"status": "Synced"}}})).unwrap();
    let created = apps.create(&PostParams::default(), &app).await.unwrap();
    assert_eq!(created.data["status"]["sync"]["status"], "Synced");
    let err = apps
        .patch_status(
            "a",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_patch_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    make_rollout(&c, "ns", "web").await;
    let req = axum::http::Request::patch("/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/web")
        .header("content-type", "application/json-patch+json")
        .body(serde_json::to_vec(&json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "example.com/web:v0"}])).unwrap())
        .unwrap();
    let out: DynamicObject = c.request(req).await.unwrap();
    assert_eq!(
        out.data["spec"]["template"]["spec"]["containers"][0]["image"],
        "example.com/web:v0"
    );
    assert_eq!(out.metadata.generation, Some(2));
    let bad = axum::http::Request::patch("/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/web")
        .header("content-type", "application/json-patch+json")
        .body(serde_json::to_vec(&json!([{"op": "remove", "path": "/spec/nope"}])).unwrap())
        .unwrap();
    let err = c.request::<DynamicObject>(bad).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_and_pagination() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    for ns in ["a", "b"] {
        let pods: Api<Pod> = Api::namespaced(c.clone(), ns);
        for i in 0..5 {
            let tier = if i % 2 == 0 { "front" } else { "back" };
            pods.create(
                &PostParams::default(),
                &pod(ns, &format!("p{i}"), &[("app", "web"), ("tier", tier)]),
            )
            .await
            .unwrap();
        }
    }
    let a: Api<Pod> = Api::namespaced(c.clone(), "a");
    let all: Api<Pod> = Api::all(c.clone());
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        10
    );
    assert_eq!(
        a.list(&ListParams::default().labels("tier=front"))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    assert_eq!(
        a.list(&ListParams::default().labels("tier in (back),app"))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(
        a.list(&ListParams::default().labels("tier notin (back,front)"))
            .await
            .unwrap()
            .items
            .len(),
        0
    );
    assert_eq!(
        all.list(&ListParams::default().fields("metadata.name=p1"))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(
        all.list(&ListParams::default().fields("metadata.namespace=b,metadata.name!=p1"))
            .await
            .unwrap()
            .items
            .len(),
        4
    );
    let err = all
        .list(&ListParams::default().fields("spec.nodeName=x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
    // Pages of 3 over 10 pods: 4 pages, every pod once, one resourceVersion.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut rv = None;
    loop {
        let mut lp = ListParams::default().limit(3);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = all.list(&lp).await.unwrap();
        pages += 1;
        rv.get_or_insert(page.metadata.resource_version.clone());
        assert_eq!(rv.as_ref().unwrap(), &page.metadata.resource_version);
        names.extend(
            page.items
                .iter()
                .map(|p| format!("{}/{}", p.namespace().unwrap(), p.name_any())),
        );
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 4);
    names.dedup();
    assert_eq!(names.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resume_bookmarks_and_gone() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "a");
    pods.create(&PostParams::default(), &pod("a", "p0", &[("app", "web")]))
        .await
        .unwrap();
    let list = pods.list(&ListParams::default()).await.unwrap();
    let rv0 = list.metadata.resource_version.clone().unwrap();
    pods.create(&PostParams::default(), &pod("a", "p1", &[("app", "web")]))
        .await
        .unwrap();
    pods.create(&PostParams::default(), &pod("a", "other", &[("app", "db")]))
        .await
        .unwrap();
    pods.delete("p0", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    // Resume from rv0: the missed events arrive in order, filtered by the selector.
    let wp = WatchParams::default().labels("app=web").timeout(2);
    let mut stream = pods.watch(&wp, &rv0).await.unwrap().boxed();
    let mut seen = Vec::new();
    while let Some(ev) = stream.try_next().await.unwrap() {
        match ev {
            WatchEvent::Added(p) => seen.push(format!("ADDED {}", p.name_any())),
            WatchEvent::Deleted(p) => seen.push(format!("DELETED {}", p.name_any())),
            WatchEvent::Modified(p) => seen.push(format!("MODIFIED {}", p.name_any())),
            WatchEvent::Bookmark(_) => seen.push("BOOKMARK".into()),
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    let events: Vec<&String> = seen.iter().filter(|s| *s != "BOOKMARK").collect();
    assert_eq!(events, ["ADDED p1", "DELETED p0"]);
    // Bookmarks when asked.
    let mut wp = WatchParams::default().timeout(2);
    wp.bookmarks = true;
    let mut stream = pods.watch(&wp, &rv0).await.unwrap().boxed();
    let mut bookmark = false;
    while let Some(ev) = stream.try_next().await.unwrap() {
        bookmark |= matches!(ev, WatchEvent::Bookmark(_));
    }
    assert!(bookmark, "no BOOKMARK within the watch");
    // After compaction the old version is 410 Gone (an Expired Status).
    sb.expire_history("pods");
    let mut stream = pods
        .watch(&WatchParams::default().timeout(2), &rv0)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await {
        Ok(Some(WatchEvent::Error(s))) => assert_eq!((s.code, s.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_watcher_relists_after_gone_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "a");
    pods.create(&PostParams::default(), &pod("a", "p0", &[]))
        .await
        .unwrap();
    let (reader, writer) = kube::runtime::reflector::store::<Pod>();
    let stream = kube::runtime::reflector(
        writer,
        watcher(pods.clone(), watcher::Config::default()).default_backoff(),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    let has = |n: &'static str| {
        let reader = reader.clone();
        move || {
            let found = reader.state().iter().any(|p| p.name_any() == n);
            async move { found.then_some(()) }
        }
    };
    eventually(20, "p0 in the reflector", has("p0")).await;
    // 410: history dropped and watches cut; the watcher re-lists and keeps up.
    sb.expire_history("pods");
    pods.create(&PostParams::default(), &pod("a", "p1", &[]))
        .await
        .unwrap();
    eventually(20, "p1 after a re-list", has("p1")).await;
    // API server down mid-watch, then back on the same port.
    sb.stop_listener().await;
    let pods2: Api<Pod> = Api::namespaced(c.clone(), "a");
    assert!(
        pods2.list(&ListParams::default()).await.is_err(),
        "the server should be down"
    );
    sb.store()
        .create(
            shipdeck::sandbox::kube::RESOURCES
                .iter()
                .position(|r| r.kind == "Pod")
                .unwrap(),
            serde_json::to_value(pod("a", "p2", &[])).unwrap(),
            shipdeck::sandbox::kube::WriteMode::Main,
        )
        .unwrap();
    sb.restart_listener().await.unwrap();
    eventually(30, "p2 after the restart", has("p2")).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_and_deny_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.token = Some("s3cret-token".into());
    let sb = KubeSandbox::start(o).await.unwrap();
    let c = client(&sb).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "a");
    pods.list(&ListParams::default()).await.unwrap();
    // Wrong token: a kubeconfig pointing at the same server with another token.
    let text = std::fs::read_to_string(sb.kubeconfig_path())
        .unwrap()
        .replace("s3cret-token", "wrong");
    let other = dir.path().join("wrong-kubeconfig");
    std::fs::write(&other, text).unwrap();
    let bad: Api<Pod> = Api::namespaced(client_at(&other).await, "a");
    let err = bad.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 401 && s.reason == "Unauthorized"),
        "{err:?}"
    );

    make_rollout(&c, "ns", "web").await;
    sb.deny(DenyRule {
        verb: Some("patch".into()),
        resource: Some("rollouts".into()),
        subresource: Some("status".into()),
        ..Default::default()
    });
    let ssar = |sub: &str| SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("patch".into()),
                group: Some("argoproj.io".into()),
                resource: Some("rollouts".into()),
                subresource: Some(sub.into()),
                namespace: Some("ns".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let reviews: Api<SelfSubjectAccessReview> = Api::all(c.clone());
    let denied = reviews
        .create(&PostParams::default(), &ssar("status"))
        .await
        .unwrap();
    assert!(!denied.status.unwrap().allowed);
    let allowed = reviews
        .create(&PostParams::default(), &ssar(""))
        .await
        .unwrap();
    assert!(allowed.status.unwrap().allowed);
    let ros = rollouts(&c, "ns");
    let err = ros
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"abort": true}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.reason == "Forbidden"),
        "{err:?}"
    );
    ros.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
}
