//! Far ends that accept a connection and never answer (a blackhole on 127.0.0.1): every
//! command against one ends within its deadline, with exit 4 and one line naming what it was
//! waiting for.

use std::time::{Duration, Instant};

mod cockpit;
mod git;
mod http;
mod kube;
mod proxy;

/// Accepts connections and holds them open without reading or writing a byte.
pub(super) async fn blackhole() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (addr, task)
}

/// Runs the binary (`--yes`, no terminal, its folders under `dir`); returns its exit code,
/// its stderr and how long it took.
async fn shipdeck(
    dir: &std::path::Path,
    inv: &std::path::Path,
    args: &[&str],
    env: Option<(&str, &str)>,
) -> (Option<i32>, String, Duration) {
    let home = dir.join("home");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    cmd.arg("--inventory")
        .arg(inv)
        .arg("--yes")
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .stdin(std::process::Stdio::null());
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

fn kubeconfig(dir: &std::path::Path, addr: std::net::SocketAddr) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hole\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: hole\n  context:\n    cluster: hole\n    user: u\ncurrent-context: hole\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_kubernetes_api_ends_rollout_promote_within_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, hole) = blackhole().await;
    let kc = kubeconfig(dir.path(), addr);
    let inv = dir.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        format!(
            "gitops:\n  url: ./gitops.git\nkube:\n  kubeconfig: {}\n  connect_timeout_secs: 1\n  request_timeout_secs: 2\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/kustomization.yaml'}}\nenvironments:\n  stg:\n    kube_context: hole\n    namespace: shop\n",
            kc.display()
        ),
    )
    .unwrap();
    let (code, err, took) = shipdeck(
        dir.path(),
        &inv,
        &["rollout", "promote", "web", "--env", "stg"],
        None,
    )
    .await;
    eprintln!(
        "FAULT Kubernetes API | Blackhole | rollout promote | {took:.2?} | exit {} | {err}",
        exit_text(code)
    );
    assert_eq!(code, Some(4), "{err}");
    // The action's deadline is connect + one request (3 s), and nothing else waits on the
    // silent server after it (the journal's identity is not asked again); one second of slack.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(err.contains("Kubernetes API of `stg`"), "{err}");
    assert!(err.contains("did not answer within"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    hole.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_feishu_webhook_ends_feishu_notify_within_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, hole) = blackhole().await;
    let inv = dir.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        "gitops:\n  url: ./gitops.git\napps:\n  web:\n    image: example.com/web\n    layout: {kind: kustomize, path: 'envs/{env}/kustomization.yaml'}\nenvironments:\n  stg:\n    namespace: shop\nfeishu:\n  chats:\n    releases:\n      webhook_env: SHIPDECK_TEST_HOOK\n",
    )
    .unwrap();
    let hook = format!("http://{addr}/open-apis/bot/v2/hook/x");
    let (code, err, took) = shipdeck(
        dir.path(),
        &inv,
        &["feishu", "notify", "--chat", "releases", "--text", "hello"],
        Some(("SHIPDECK_TEST_HOOK", hook.as_str())),
    )
    .await;
    eprintln!(
        "FAULT Feishu bot webhook | Blackhole | feishu notify | {took:.2?} | exit {} | {err}",
        exit_text(code)
    );
    assert_eq!(code, Some(4), "{err}");
    // The deadline is 20 s (before, six attempts of 30 s each with backoff: 209 s).
    assert!(took < Duration::from_secs(21), "took {took:?}");
    assert!(
        err.contains("Feishu bot webhook of chat `releases` did not take the message within 20 s"),
        "{err}"
    );
    hole.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_feishu_app_api_ends_feishu_sync_within_its_deadline() {
    let w = crate::ops::World::start(false).await;
    let (addr, hole) = blackhole().await;
    // The demo's Feishu section, pointed at the blackhole with a 2 s deadline per call.
    let text = std::fs::read_to_string(&w.inventory_path).unwrap();
    let (head, feishu) = text.split_once("\nfeishu:\n").unwrap();
    let feishu: String = feishu
        .lines()
        .map(|l| {
            if l.starts_with("  api_url: ") {
                format!("  api_url: http://{addr}\n  timeout_secs: 2\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&w.inventory_path, format!("{head}\nfeishu:\n{feishu}")).unwrap();
    let started = Instant::now();
    let (code, _, err) = w.shipdeck(&["feishu", "sync"]).await;
    let took = started.elapsed();
    eprintln!("FAULT Feishu app API | Blackhole | feishu sync | {took:.2?} | exit {code} | {err}");
    assert_eq!(code, 4, "{err}");
    // Before: ten attempts of 30 s each with backoff (393 s).
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(
        err.contains("the Feishu app API did not answer") && err.contains("within 2 s"),
        "{err}"
    );
    hole.abort();
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_cluster_does_not_hold_the_git_half_of_a_rollback() {
    let w = crate::ops::World::start(false).await;
    let (addr, hole) = blackhole().await;
    let text = std::fs::read_to_string(&w.inventory_path)
        .unwrap()
        .replacen(
            "\nkube:\n",
            "\nkube:\n  connect_timeout_secs: 1\n  request_timeout_secs: 2\n",
            1,
        );
    std::fs::write(&w.inventory_path, text).unwrap();
    let kc = w.kube.kubeconfig_path().to_path_buf();
    let kubeconfig = std::fs::read_to_string(&kc)
        .unwrap()
        .replace(&w.kube.url(), &format!("http://{addr}"));
    std::fs::write(&kc, kubeconfig).unwrap();
    let before = w.remote_main();
    let started = Instant::now();
    let (code, out, err) = w.shipdeck(&["rollback", "miker-web", "--env", "dev"]).await;
    let took = started.elapsed();
    eprintln!(
        "FAULT Kubernetes API | Blackhole | rollback (git half written) | {took:.2?} | exit {code} | {out}{err}"
    );
    // The abort is bounded (connect 1 s + request 2 s); git is not held by it, and the
    // failed half makes it a remote error.
    assert_eq!(code, 4, "{out}{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        format!("{out}{err}").contains("did not answer within 3 s"),
        "{out}{err}"
    );
    assert_ne!(w.remote_main(), before, "the git half was written");
    hole.abort();
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_tls_handshakes_end_gates_and_notify_within_their_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, hole) = blackhole().await;
    let inv = dir.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        format!(
            "gitops:\n  url: ./gitops.git\ngithub:\n  owner: o\n  repo: r\n  api_url: https://{addr}\n  connect_timeout_secs: 1\n  timeout_secs: 2\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/kustomization.yaml'}}\nenvironments:\n  stg:\n    namespace: shop\nfeishu:\n  webhook_timeout_secs: 2\n  chats:\n    releases:\n      webhook_env: SHIPDECK_TEST_HOOK\n"
        ),
    )
    .unwrap();
    let hook = format!("https://{addr}/open-apis/bot/v2/hook/x");
    let runs: [(&str, &[&str], &str); 2] = [
        (
            "GitHub API (https)",
            &["gates", "web", "--env", "stg", "--sha", "9f1c2ab"],
            "(the TCP or TLS handshake did not finish)",
        ),
        (
            "Feishu bot webhook (https)",
            &["feishu", "notify", "--chat", "releases", "--text", "hi"],
            "did not take the message within 2 s",
        ),
    ];
    for (far_end, args, says) in runs {
        let (code, err, took) = shipdeck(
            dir.path(),
            &inv,
            args,
            Some(("SHIPDECK_TEST_HOOK", hook.as_str())),
        )
        .await;
        eprintln!(
            "FAULT {far_end} | stalled TLS handshake | {} | {took:.2?} | exit {} | {err}",
            args[0],
            exit_text(code)
        );
        assert_eq!(code, Some(4), "{far_end}: {err}");
        assert!(took < Duration::from_secs(3), "{far_end} took {took:?}");
        assert!(err.contains(says), "{far_end}: {err}");
    }
    hole.abort();
}

/// An exit status as the fault table prints it: the code, or "signal" when a signal ended it.
fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "signal".to_owned(), |c| c.to_string())
}
