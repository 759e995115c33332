//! The SLO read: the sandbox's Prometheus stand-in (its answers, the `bad…` canary, the
//! headless `shipdeck slo` exit codes), and a real Prometheus scraping an exporter of ours
//! with known counters and histogram buckets (`real`).

mod real;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shipdeck::inventory::{Inventory, SloConfig};
use shipdeck::sandbox::prometheus::PromSandbox;
use shipdeck::services::prometheus::{Metric, PromClient, QueryResult, SloService};

/// A sandbox whose canary runs `tag` (changeable).
async fn sandbox(tag: &str) -> (PromSandbox, Arc<Mutex<String>>) {
    let tag = Arc::new(Mutex::new(tag.to_owned()));
    let t = tag.clone();
    let sb = PromSandbox::start(Arc::new(move |app, ns| {
        (app == "web" && ns == "web-stg").then(|| t.lock().unwrap().clone())
    }))
    .await
    .unwrap();
    (sb, tag)
}

/// A small inventory whose `prometheus.url` is `url`.
fn inventory(dir: &Path, url: &str, timeout_secs: u64) -> PathBuf {
    let path = dir.join("inventory.yaml");
    std::fs::write(
        &path,
        format!(
            "gitops:\n  url: file:///nonexistent/gitops.git\nprometheus:\n  url: {url}\n  connect_timeout_secs: 2\n  timeout_secs: {timeout_secs}\n\
             apps:\n  web:\n    image: registry.local/team/web\n    layout:\n      kind: kustomize\n      path: apps/web/{{env}}/kustomization.yaml\n\
             environments:\n  stg:\n    namespace: web-stg\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn sandbox_answers_in_prometheus_shapes_and_refuses_what_it_cannot_evaluate() {
    let (sb, _) = sandbox("1a2b3c4").await;
    let c = PromClient::new(sb.url(), None, None, None).unwrap();
    let q = Metric::P99.query(&SloConfig::default(), "web", "stg", "web-stg", "canary");
    let v = c.query(&q, None).await.unwrap();
    assert!(matches!(&v, QueryResult::Vector(s) if s.len() == 1 && s[0].metric.is_empty()));
    let now = 1_800_000_000.0;
    let m = c
        .query_range(&q, now - 600.0, now, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(m.first_series().len(), 11, "{m:?}");
    // A day at a 1 s step would be 86,401 points: the client raises the step.
    let day = c
        .query_range(&q, now - 86_400.0, now, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(day.first_series().len() <= 11_000);
    // The raw HTTP API: Prometheus' error document and status for what it cannot evaluate.
    let err = c.query("up", None).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "Prometheus at {}/api/v1/query refused the query `up` as bad (HTTP 400, bad_data): ",
            sb.url()
        )),
        "{err}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_bad_canary_breaches_error_rate_and_p99_and_stable_stays_healthy() {
    let (sb, tag) = sandbox("1a2b3c4").await;
    let svc = SloService::new(PromClient::new(sb.url(), None, None, None).unwrap());
    let slo = SloConfig::default();
    let t0 = Instant::now();
    let good = svc
        .read("web", "stg", "web-stg", &slo, Some(unix_now() - 1800.0))
        .await
        .unwrap();
    let ms = t0.elapsed().as_millis();
    assert!(!good.breached, "{good:?}");
    assert_eq!(good.queries, 16);
    assert_eq!(good.metrics.len(), 4);
    assert!(good.metrics.iter().all(|m| m.canary.series.len() >= 100));
    *tag.lock().unwrap() = "bad0001".to_owned();
    let bad = svc.read("web", "stg", "web-stg", &slo, None).await.unwrap();
    assert_eq!(bad.queries, 8);
    let breached: Vec<Metric> = bad
        .metrics
        .iter()
        .filter(|m| m.canary.breached)
        .map(|m| m.metric)
        .collect();
    assert_eq!(breached, [Metric::ErrorRate, Metric::P99]);
    assert!(bad.metrics.iter().all(|m| !m.stable.breached));
    println!("sandbox SLO read: {} queries in {ms} ms", good.queries);
    sb.shutdown().await;
}

async fn shipdeck_slo(
    inventory: &Path,
    home: &Path,
    args: &[&str],
) -> (i32, String, String, Duration) {
    let t0 = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .arg("slo")
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t0.elapsed(),
    )
}

#[tokio::test]
async fn headless_slo_exit_codes() {
    let (sb, tag) = sandbox("1a2b3c4").await;
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), sb.url(), 5);
    Inventory::load(&inv).unwrap();

    let (code, out, err, took) = shipdeck_slo(&inv, dir.path(), &["web", "--env", "stg"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("within the SLO") && out.contains("p99"),
        "{out}"
    );
    println!("shipdeck slo against the sandbox: {took:?}");

    *tag.lock().unwrap() = "bad0002".to_owned();
    let (code, out, err, _) = shipdeck_slo(
        &inv,
        dir.path(),
        &["web", "--env", "stg", "--output", "json"],
    )
    .await;
    assert_eq!(code, 1, "{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["breached"], true);
    assert_eq!(doc["metrics"][3]["metric"], "p99");
    assert_eq!(doc["metrics"][3]["canary"]["breached"], true);
    assert_eq!(doc["metrics"][3]["threshold"], 500.0);
    assert!(
        err.contains("SLO breached for web in stg: canary error rate"),
        "{err}"
    );

    let (code, _, err, _) = shipdeck_slo(&inv, dir.path(), &["nope", "--env", "stg"]).await;
    assert_eq!(code, 2, "{err}");
    let (code, _, err, _) = shipdeck_slo(&inv, dir.path(), &["web", "--env", "prod"]).await;
    assert_eq!(code, 2, "{err}");
    sb.shutdown().await;

    // A listener that accepts and never answers: exit 4 within the 2 s bound, saying so.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let inv = inventory(
        dir.path(),
        &format!("http://{}", hole.local_addr().unwrap()),
        2,
    );
    let (code, _, err, took) = shipdeck_slo(&inv, dir.path(), &["web", "--env", "stg"]).await;
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("reading the SLO of web in stg: Prometheus at http://127.0.0.1:"),
        "{err}"
    );
    assert!(
        err.contains("did not answer the query `") && err.contains("within 2 s"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    drop(hole);

    // Nobody listening: exit 4 at once, naming the far end and what the connection did.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let inv = inventory(dir.path(), &format!("http://{closed}"), 2);
    let (code, _, err, took) = shipdeck_slo(&inv, dir.path(), &["web", "--env", "stg"]).await;
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!(
            "cannot connect to Prometheus at http://{closed}/api/v1/query for the query `"
        )),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // No `prometheus:` section: bad input.
    let plain = dir.path().join("plain.yaml");
    let text = std::fs::read_to_string(&inv).unwrap();
    let start = text.find("prometheus:").unwrap();
    let end = text.find("apps:").unwrap();
    std::fs::write(&plain, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (code, _, err, _) = shipdeck_slo(&plain, dir.path(), &["web", "--env", "stg"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no `prometheus:` section"), "{err}");
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn headless_slo_watch_prints_one_json_record_per_read_until_interrupted() {
    use tokio::io::AsyncBufReadExt as _;
    let (sb, _) = sandbox("1a2b3c4").await;
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), sb.url(), 5);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&inv)
        .args([
            "slo", "web", "--env", "stg", "--watch", "--since", "5m", "--output", "json",
        ])
        .env("SHIPDECK_CONFIG", dir.path().join("config"))
        .env("SHIPDECK_DATA", dir.path().join("data"))
        .env("SHIPDECK_STATE", dir.path().join("state"))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let t0 = Instant::now();
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("a record within 30 s")
            .unwrap()
            .expect("a line");
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["breached"], false, "{line}");
    }
    // The second read came on the 10 s clock.
    assert!(t0.elapsed() >= Duration::from_secs(9), "{:?}", t0.elapsed());
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    sb.shutdown().await;
}

#[tokio::test]
async fn the_bearer_token_goes_to_prometheus_and_nowhere_else() {
    // A Prometheus stand-in that wants a token: 401 without it, an empty vector with it.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let guarded = |kind: &'static str| {
        let s = seen.clone();
        move |headers: axum::http::HeaderMap| {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            s.lock().unwrap().push(auth.clone());
            async move {
                if auth == "Bearer t0ken-s3cret" {
                    let body = format!(
                        r#"{{"status":"success","data":{{"resultType":"{kind}","result":[]}}}}"#
                    );
                    (axum::http::StatusCode::OK, body)
                } else {
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        "Unauthorized\n".to_owned(),
                    )
                }
            }
        }
    };
    let app = axum::Router::new()
        .route("/api/v1/query", axum::routing::post(guarded("vector")))
        .route(
            "/api/v1/query_range",
            axum::routing::post(guarded("matrix")),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let path = inventory(dir.path(), &url, 5);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "prometheus:\n",
        "prometheus:\n  token_env: SHIPDECK_TEST_PROM_TOKEN\n",
    );
    std::fs::write(&path, text).unwrap();
    let run = |token: Option<&'static str>| {
        let path = path.clone();
        let home = dir.path().to_path_buf();
        async move {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"));
            cmd.arg("--inventory")
                .arg(&path)
                .args(["slo", "web", "--env", "stg"]);
            cmd.env("SHIPDECK_STATE", home.join("state"))
                .env("SHIPDECK_CONFIG", home.join("config"));
            match token {
                Some(t) => cmd.env("SHIPDECK_TEST_PROM_TOKEN", t),
                None => cmd.env_remove("SHIPDECK_TEST_PROM_TOKEN"),
            };
            let out = cmd.output().await.unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        }
    };
    // No series at all (no canary running): no value, no breach.
    let (code, out) = run(Some("t0ken-s3cret")).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|a| a == "Bearer t0ken-s3cret")
    );
    // A wrong token: Prometheus' 401 named, the token not shown.
    let (code, out) = run(Some("wr0ng-s3cret")).await;
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("answered HTTP 401 to the query `") && !out.contains("s3cret"),
        "{out}"
    );
    // The variable unset: bad input, nothing sent.
    let before = seen.lock().unwrap().len();
    let (code, out) = run(None).await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("prometheus.token_env names `SHIPDECK_TEST_PROM_TOKEN`, which is not set"),
        "{out}"
    );
    assert_eq!(seen.lock().unwrap().len(), before);
}
