//! Who is asking and who wrote: SelfSubjectReview, the request log, and
//! `metadata.managedFields` kept per field manager, read back by kube-rs and the real kubectl.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Patch, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use shipdeck::sandbox::kube::{RequestRecord, seed};

use super::*;

const USER_AGENT: &str = "shipdeck-it/0.1 (sandbox tests)";

/// A kube-rs client that sends [`USER_AGENT`].
async fn client_with_agent(sb: &KubeSandbox) -> Client {
    let kc = Kubeconfig::read_from(sb.kubeconfig_path()).unwrap();
    let mut cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    cfg.headers.push((
        axum::http::header::USER_AGENT,
        axum::http::HeaderValue::from_static(USER_AGENT),
    ));
    Client::try_from(cfg).unwrap()
}

fn managed_fields(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `(manager, operation, subresource)` of every entry, in order.
fn manager_keys(obj: &Value) -> Vec<(String, String, String)> {
    managed_fields(obj)
        .iter()
        .map(|e| {
            let f = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (f("manager"), f("operation"), f("subresource"))
        })
        .collect()
}

fn key(manager: &str, subresource: &str) -> (String, String, String) {
    (
        manager.to_owned(),
        "Update".to_owned(),
        subresource.to_owned(),
    )
}

fn entry_of<'a>(entries: &'a [Value], manager: &str, subresource: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| {
            e["manager"] == manager
                && e.get("subresource").and_then(Value::as_str).unwrap_or("") == subresource
        })
        .unwrap_or_else(|| {
            panic!("no managedFields entry for {manager}/{subresource}: {entries:?}")
        })
}

fn time_of(entry: &Value) -> jiff::Timestamp {
    let t = entry["time"].as_str().unwrap();
    // RFC 3339 in whole seconds, as the API server writes it.
    assert!(
        t.len() == "2026-01-01T00:00:00Z".len() && t.ends_with('Z'),
        "{t}"
    );
    t.parse().unwrap()
}

async fn create_rollout(c: &Client, ns: &str, name: &str) -> Value {
    let ro = seed::rollout(name, ns, "example.com/web:v1", 1, json!([]));
    let created = rollouts(c, ns)
        .create(&PostParams::default(), &serde_json::from_value(ro).unwrap())
        .await
        .unwrap();
    serde_json::to_value(created).unwrap()
}

fn kubectl(sb: &KubeSandbox, args: &[&str]) -> String {
    let (ok, out, err) = super::kubectl::kubectl(sb, args);
    assert!(ok, "kubectl {args:?} failed: {err}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_subject_review_names_the_sandbox_user_and_discovery_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client(&sb).await;
    let review: SelfSubjectReview = serde_json::from_value(json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {}
    }))
    .unwrap();
    let answered = Api::<SelfSubjectReview>::all(c.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    let user = answered.status.and_then(|s| s.user_info).unwrap();
    assert_eq!(user.username.as_deref(), Some("sandbox-user"));
    assert_eq!(user.groups, Some(vec!["system:authenticated".to_owned()]));

    let raw: Value = c
        .request(
            axum::http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
                .header(axum::http::header::CONTENT_TYPE, "application/json")
                .body(
                    br#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#
                        .to_vec(),
                )
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(raw["kind"], "SelfSubjectReview");
    assert_eq!(raw["apiVersion"], "authentication.k8s.io/v1");

    let groups = c.list_api_groups().await.unwrap();
    assert!(
        groups
            .groups
            .iter()
            .any(|g| g.name == "authentication.k8s.io"),
        "{:?}",
        groups.groups.iter().map(|g| &g.name).collect::<Vec<_>>()
    );
    let resources = c
        .list_api_group_resources("authentication.k8s.io/v1")
        .await
        .unwrap();
    let listed = resources
        .resources
        .iter()
        .find(|r| r.name == "selfsubjectreviews")
        .unwrap();
    assert_eq!(listed.kind, "SelfSubjectReview");
    assert_eq!(listed.verbs, ["create"]);
    assert!(!listed.namespaced);

    // `kubectl auth whoami` goes through discovery and the same endpoint.
    let out = tokio::task::block_in_place(|| kubectl(&sb, &["auth", "whoami", "-o", "json"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"]["userInfo"]["username"], "sandbox-user", "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_recorded_with_user_agent_and_field_manager() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client_with_agent(&sb).await;
    create_rollout(&c, "shop", "web").await;
    // The parameters shipdeck's own writes use.
    let pp = shipdeck::services::kube::client::patch_params();
    rollouts(&c, "shop")
        .patch("web", &pp, &Patch::Merge(json!({"spec": {"paused": true}})))
        .await
        .unwrap();

    let log = sb.requests();
    let create = log
        .iter()
        .find(|r| r.method == "POST" && r.path_and_query.contains("/rollouts"))
        .unwrap_or_else(|| panic!("no POST recorded: {log:?}"));
    assert_eq!(
        create,
        &RequestRecord {
            method: "POST".to_owned(),
            path_and_query: create.path_and_query.clone(),
            user_agent: Some(USER_AGENT.to_owned()),
            field_manager: None,
        }
    );
    assert!(
        create
            .path_and_query
            .starts_with("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts"),
        "{create:?}"
    );
    let patch = log
        .iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap_or_else(|| panic!("no PATCH recorded: {log:?}"));
    assert_eq!(patch.field_manager.as_deref(), Some("shipdeck"));
    assert_eq!(patch.user_agent.as_deref(), Some(USER_AGENT));
    assert!(
        patch
            .path_and_query
            .starts_with("/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web?")
            && patch.path_and_query.contains("fieldManager=shipdeck"),
        "{patch:?}"
    );
    // Every request, not only writes: the GET below is the newest record.
    rollouts(&c, "shop").get("web").await.unwrap();
    let newest = sb.requests().pop().unwrap();
    assert_eq!(newest.method, "GET");
    assert_eq!(
        newest.path_and_query,
        "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_keep_one_managed_fields_entry_per_manager_and_subresource() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client_with_agent(&sb).await;
    let api = rollouts(&c, "shop");
    let created = create_rollout(&c, "shop", "web").await;
    // Without a fieldManager, the User-Agent's product token names the manager.
    assert_eq!(manager_keys(&created), [key("shipdeck-it", "")]);
    let first = &managed_fields(&created)[0];
    assert_eq!(first["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(first["fieldsType"], "FieldsV1");
    assert_eq!(first["fieldsV1"], json!({}));
    let created_at = time_of(first);

    // The parameters shipdeck's own writes use.
    let pp = shipdeck::services::kube::client::patch_params();
    api.patch("web", &pp, &Patch::Merge(json!({"spec": {"paused": true}})))
        .await
        .unwrap();
    api.patch_status(
        "web",
        &pp,
        &Patch::Merge(json!({"status": {"abort": true}})),
    )
    .await
    .unwrap();
    let ro = serde_json::to_value(
        api.patch(
            "web",
            &pp,
            &Patch::Merge(json!({"spec": {"paused": false}})),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    // The repeated spec write replaced its entry instead of adding one.
    assert_eq!(
        manager_keys(&ro),
        [
            key("shipdeck-it", ""),
            key("shipdeck", ""),
            key("shipdeck", "status")
        ]
    );
    let entries = managed_fields(&ro);
    assert!(time_of(entry_of(&entries, "shipdeck", "")) >= created_at);
    assert_eq!(
        entry_of(&entries, "shipdeck", "status")["apiVersion"],
        "argoproj.io/v1alpha1"
    );

    // A PUT is an Update too; a write that changes nothing leaves the entries alone.
    let mut obj = api.get("web").await.unwrap();
    obj.metadata
        .labels
        .get_or_insert_default()
        .insert("tier".into(), "front".into());
    let pp_put = PostParams {
        field_manager: Some("editor".into()),
        ..PostParams::default()
    };
    let replaced = serde_json::to_value(api.replace("web", &pp_put, &obj).await.unwrap()).unwrap();
    assert_eq!(
        manager_keys(&replaced).len(),
        4,
        "{:?}",
        manager_keys(&replaced)
    );
    assert_eq!(manager_keys(&replaced)[3], key("editor", ""));
    let unchanged = serde_json::to_value(
        api.patch(
            "web",
            &pp,
            &Patch::Merge(json!({"spec": {"paused": false}})),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(managed_fields(&unchanged), managed_fields(&replaced));
    assert_eq!(
        unchanged["metadata"]["resourceVersion"],
        replaced["metadata"]["resourceVersion"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_the_managed_fields_and_writes_under_its_own_manager() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start(dir.path()).await;
    let c = client_with_agent(&sb).await;
    create_rollout(&c, "shop", "web").await;
    // The parameters shipdeck's own writes use.
    let pp = shipdeck::services::kube::client::patch_params();
    rollouts(&c, "shop")
        .patch_status(
            "web",
            &pp,
            &Patch::Merge(json!({"status": {"abort": true}})),
        )
        .await
        .unwrap();
    // kubectl label sends fieldManager=kubectl-label and its own User-Agent.
    tokio::task::block_in_place(|| {
        kubectl(
            &sb,
            &["label", "rollout", "web", "-n", "shop", "tier=front"],
        )
    });
    let out = tokio::task::block_in_place(|| {
        kubectl(
            &sb,
            &[
                "get",
                "rollout",
                "web",
                "-n",
                "shop",
                "-o",
                "json",
                "--show-managed-fields",
            ],
        )
    });
    let ro: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        manager_keys(&ro),
        [
            key("shipdeck-it", ""),
            key("shipdeck", "status"),
            key("kubectl-label", "")
        ],
        "{out}"
    );
    let kubectl_write = sb
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    assert!(
        kubectl_write
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("kubectl/")),
        "{kubectl_write:?}"
    );
    assert_eq!(
        kubectl_write.field_manager.as_deref(),
        Some("kubectl-label")
    );
    // Without the flag kubectl hides them, as it does against a real cluster.
    let out = tokio::task::block_in_place(|| {
        kubectl(&sb, &["get", "rollout", "web", "-n", "shop", "-o", "json"])
    });
    let hidden: Value = serde_json::from_str(&out).unwrap();
    assert!(hidden.pointer("/metadata/managedFields").is_none(), "{out}");
}
