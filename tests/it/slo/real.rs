//! A real Prometheus (Debian's `prometheus`) on 127.0.0.1 scraping an exporter of ours every
//! second. Every scrape advances canary and stable counters and histogram buckets by fixed
//! amounts, so the error rates and the histogram quantiles Prometheus computes are known:
//! ratios of rates, which `rate()`'s extrapolation scales alike for every series of a scrape.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shipdeck::inventory::SloConfig;
use shipdeck::services::prometheus::{Metric, PromClient, QueryResult, SloService};

/// Bucket bounds (seconds) and the cumulative count each scrape adds, per role.
const LE: [&str; 5] = ["0.1", "0.25", "0.5", "1", "+Inf"];
const CANARY_BUCKETS: [u64; 5] = [50, 80, 90, 100, 100];
const STABLE_BUCKETS: [u64; 5] = [90, 99, 100, 100, 100];
/// Requests per scrape: (2xx, 5xx).
const CANARY_CODES: (u64, u64) = (95, 5);
const STABLE_CODES: (u64, u64) = (100, 0);
/// Counters start high: `rate()` stops extrapolating where a counter would reach zero, and
/// that point must lie far outside the window for every series alike.
const OFFSET: u64 = 1_000_000;

/// Startup under load (a shared build machine) can take several seconds.
const DEADLINE: Duration = Duration::from_secs(60);

fn exposition(scrapes: u64) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("# TYPE http_requests_total counter\n");
    let labels = |role: &str| format!(r#"namespace="web-stg",app="web",role="{role}""#);
    for (role, (ok, bad)) in [("canary", CANARY_CODES), ("stable", STABLE_CODES)] {
        let _ = writeln!(
            s,
            "http_requests_total{{{},code=\"200\"}} {}",
            labels(role),
            OFFSET + ok * scrapes
        );
        let _ = writeln!(
            s,
            "http_requests_total{{{},code=\"500\"}} {}",
            labels(role),
            OFFSET + bad * scrapes
        );
    }
    s.push_str("# TYPE http_request_duration_seconds histogram\n");
    for (role, buckets) in [("canary", CANARY_BUCKETS), ("stable", STABLE_BUCKETS)] {
        for (le, n) in LE.iter().zip(buckets) {
            let _ = writeln!(
                s,
                "http_request_duration_seconds_bucket{{{},le=\"{le}\"}} {}",
                labels(role),
                OFFSET + n * scrapes
            );
        }
        let _ = writeln!(
            s,
            "http_request_duration_seconds_count{{{}}} {}",
            labels(role),
            OFFSET + 100 * scrapes
        );
        let _ = writeln!(
            s,
            "http_request_duration_seconds_sum{{{}}} {}",
            labels(role),
            10 * scrapes
        );
    }
    s
}

/// The exporter: every GET of /metrics is one more scrape.
async fn exporter() -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let scrapes = Arc::new(AtomicU64::new(0));
    let n = scrapes.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let k = n.fetch_add(1, Ordering::SeqCst) + 1;
            async move { exposition(k) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, scrapes)
}

/// A `prometheus` process, killed when dropped.
struct Prometheus {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("prometheus")).find(|p| p.is_file()))
        .unwrap_or_else(|| {
            panic!(
                "the `prometheus` binary is not installed (on PATH): this test runs a real Prometheus. \
                 Install Debian's package (`apt-get install -y prometheus`; .ci/run does)"
            )
        })
}

fn start(target: std::net::SocketAddr) -> Prometheus {
    let bin = binary();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = std::process::Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    }
}

fn log_of(p: &Prometheus) -> String {
    std::fs::read_to_string(p.dir.path().join("prometheus.log")).unwrap_or_default()
}

/// Polls until Prometheus holds at least three scrapes of the exporter (two rates' worth).
async fn wait_for_scrapes(p: &Prometheus, client: &PromClient) {
    let start = Instant::now();
    loop {
        let held = client
            .query(r#"count_over_time(up{job="exporter"}[5m])"#, None)
            .await
            .ok()
            .and_then(|r| r.single());
        if held.is_some_and(|n| n >= 3.0) {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "Prometheus at {} held {held:?} scrapes after {DEADLINE:?}; its log:\n{}",
            p.url,
            log_of(p)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (got - want).abs() < 1e-6 * want.abs().max(1.0),
        "{what}: {got} != {want}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_gives_the_known_rates_and_quantiles() {
    let (target, scrapes) = exporter().await;
    let prom = start(target);
    let client = PromClient::new(&prom.url, None, None, Some(Duration::from_secs(15))).unwrap();
    wait_for_scrapes(&prom, &client).await;
    assert!(scrapes.load(Ordering::SeqCst) >= 3);

    let svc = SloService::new(client.clone());
    let slo = SloConfig::default();
    let t0 = Instant::now();
    let r = svc
        .read("web", "stg", "web-stg", &slo, Some(unix_now() - 120.0))
        .await
        .unwrap();
    let ms = t0.elapsed().as_millis();
    let get = |m: Metric| r.metrics.iter().find(|x| x.metric == m).unwrap().clone();
    close(
        get(Metric::ErrorRate).canary.current,
        0.05,
        "canary error rate",
    );
    close(
        get(Metric::ErrorRate).stable.current,
        0.0,
        "stable error rate",
    );
    close(get(Metric::P50).canary.current, 100.0, "canary p50 ms");
    close(get(Metric::P90).canary.current, 500.0, "canary p90 ms");
    close(get(Metric::P99).canary.current, 950.0, "canary p99 ms");
    close(
        get(Metric::P50).stable.current,
        100.0 * 50.0 / 90.0,
        "stable p50 ms",
    );
    close(get(Metric::P90).stable.current, 100.0, "stable p90 ms");
    close(get(Metric::P99).stable.current, 250.0, "stable p99 ms");
    // 5 % of requests fail and p99 is 950 ms: the canary breaches both, stable neither.
    assert!(r.breached);
    assert!(get(Metric::ErrorRate).canary.breached && get(Metric::P99).canary.breached);
    assert!(!get(Metric::ErrorRate).stable.breached && !get(Metric::P99).stable.breached);
    assert!(!get(Metric::P99).canary.series.is_empty());
    println!("real Prometheus SLO read: {} queries in {ms} ms", r.queries);

    // A query Prometheus cannot parse comes back as its 400, named.
    let e = client
        .query("rate(http_requests_total[5m", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refused the query `rate(http_requests_total[5m` as bad (HTTP 400, bad_data)"),
        "{e}"
    );

    // One it can parse but not execute (both sides match many series): its 422, named.
    let e = client
        .query("http_requests_total + on() http_requests_total", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            shipdeck::services::prometheus::PromError::CannotExecute { .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("(HTTP 422, execution): "), "{e}");

    contract(&client).await;
}

/// The sandbox answers the same queries in the same shapes as the real Prometheus.
async fn contract(real: &PromClient) {
    let sb = shipdeck::sandbox::prometheus::PromSandbox::start(Arc::new(|_, _| None))
        .await
        .unwrap();
    let fake = PromClient::new(sb.url(), None, None, None).unwrap();
    let slo = SloConfig::default();
    let now = unix_now();
    for m in Metric::ALL {
        for role in ["canary", "stable"] {
            let q = m.query(&slo, "web", "stg", "web-stg", role);
            let (a, b) = (
                real.query(&q, Some(now)).await.unwrap(),
                fake.query(&q, Some(now)).await.unwrap(),
            );
            assert_eq!(shape(&a), shape(&b), "instant {q}");
            let step = Duration::from_secs(5);
            let (a, b) = (
                real.query_range(&q, now - 30.0, now, step).await.unwrap(),
                fake.query_range(&q, now - 30.0, now, step).await.unwrap(),
            );
            assert_eq!(shape(&a), shape(&b), "range {q}");
        }
    }
    sb.shutdown().await;
}

/// The result type, the series count and each series' label names.
fn shape(r: &QueryResult) -> (String, Vec<Vec<String>>) {
    match r {
        QueryResult::Vector(v) => (
            "vector".into(),
            v.iter()
                .map(|s| s.metric.keys().cloned().collect())
                .collect(),
        ),
        QueryResult::Matrix(m) => (
            "matrix".into(),
            m.iter()
                .map(|s| s.metric.keys().cloned().collect())
                .collect(),
        ),
        QueryResult::Scalar(_) => ("scalar".into(), Vec::new()),
        QueryResult::String { .. } => ("string".into(), Vec::new()),
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
