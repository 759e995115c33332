//! A Prometheus stand-in: `/api/v1/query` and `/api/v1/query_range` (GET or POST form) for the
//! SLO queries the demo's inventory sends, with canary and stable series. It parses just
//! enough PromQL to tell the role, the app, the namespace and the metric (the error rate, or a
//! `histogram_quantile`), and answers in Prometheus' JSON shapes; anything else is refused
//! the way Prometheus refuses (400, `bad_data`). A canary whose image tag starts with `bad`
//! (as the sandbox cluster's analysis treats it) fails more and answers slower.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Serving;

/// The canary's image tag of an app in a namespace, when one runs.
pub type TagSource = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// Prometheus refuses range queries with more points per series than this.
const MAX_POINTS: f64 = 11_000.0;

/// The running stand-in.
pub struct PromSandbox {
    addr: SocketAddr,
    url: String,
    serving: Serving,
}

impl PromSandbox {
    /// Starts on a free port of 127.0.0.1; `tags` says which canary runs where.
    pub async fn start(tags: TagSource) -> std::io::Result<PromSandbox> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .route("/api/v1/query", get(instant).post(instant))
            .route("/api/v1/query_range", get(range).post(range))
            .with_state(tags);
        Ok(PromSandbox {
            addr,
            url: format!("http://{addr}"),
            serving: Serving::start(listener, app, "prometheus"),
        })
    }

    /// The base URL (the inventory's `prometheus.url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

/// The parameters of a request: the query string and, for a form POST, the body.
fn params(raw: Option<&str>, body: &str) -> Vec<(String, String)> {
    raw.into_iter()
        .chain(std::iter::once(body))
        .flat_map(|s| s.split('&'))
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param<'a>(ps: &'a [(String, String)], name: &str) -> Option<&'a str> {
    ps.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn bad_data(message: impl Into<String>) -> Response {
    let body = json!({"status": "error", "errorType": "bad_data", "error": message.into()});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn success(result_type: &str, result: &Value) -> Response {
    axum::Json(json!({"status": "success", "data": {"resultType": result_type, "result": result}}))
        .into_response()
}

/// What a query asks for.
#[derive(Debug, Clone, PartialEq)]
enum Asked {
    ErrorRate,
    Quantile(f64),
}

/// The demo query's role, app, namespace and metric.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    asked: Asked,
    role: String,
    app: String,
    namespace: String,
}

/// The value of `label="…"` in a query (the first).
fn label(q: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let mut from = 0;
    while let Some(at) = q[from..].find(&pat) {
        let start = from + at;
        // A whole label name: `app` must not match inside `myapp`.
        let whole = start == 0
            || !q.as_bytes()[start - 1].is_ascii_alphanumeric() && q.as_bytes()[start - 1] != b'_';
        let rest = &q[start + pat.len()..];
        if whole {
            return rest.find('"').map(|end| rest[..end].to_owned());
        }
        from = start + pat.len();
    }
    None
}

fn parse(q: &str) -> Result<Parsed, String> {
    let q = q.trim();
    let asked = if let Some(rest) = q.strip_prefix("histogram_quantile(") {
        if !q.contains("http_request_duration_seconds_bucket") {
            return Err(
                "the sandbox Prometheus has quantiles of http_request_duration_seconds only"
                    .to_owned(),
            );
        }
        let phi = rest.split(',').next().unwrap_or("").trim();
        let phi: f64 = phi
            .parse()
            .map_err(|_| format!("histogram_quantile: `{phi}` is not a number"))?;
        Asked::Quantile(phi)
    } else if q.contains("http_requests_total") && q.contains(r#"code=~"5.."#) {
        Asked::ErrorRate
    } else {
        return Err(format!(
            "the sandbox Prometheus evaluates the demo's SLO queries only (an error rate over http_requests_total, or histogram_quantile over http_request_duration_seconds_bucket), not `{q}`"
        ));
    };
    let role = label(q, "role")
        .ok_or("the query selects no role label (role=\"canary\" or role=\"stable\")")?;
    if role != "canary" && role != "stable" {
        return Err(format!(
            "unknown role `{role}`: the sandbox has canary and stable"
        ));
    }
    Ok(Parsed {
        asked,
        role,
        app: label(q, "app").unwrap_or_default(),
        namespace: label(q, "namespace").unwrap_or_default(),
    })
}

/// The simulated value at `t`: a healthy level with a slow wiggle, or a degraded canary.
fn value(p: &Parsed, bad: bool, t: f64) -> f64 {
    // ±10 % over ten minutes, out of phase between the roles, so series are not flat lines.
    let phase = if p.role == "canary" { 0.0 } else { 1.7 };
    let wiggle = 1.0 + 0.1 * (t / 600.0 * std::f64::consts::TAU + phase).sin();
    match (&p.asked, bad) {
        (Asked::ErrorRate, false) => (if p.role == "canary" { 0.002 } else { 0.001 }) * wiggle,
        (Asked::ErrorRate, true) => 0.08 * wiggle,
        (Asked::Quantile(phi), bad) => {
            // Seconds: a log-normal-ish shape from p50 ~45 ms to p99 ~210 ms when healthy.
            let (p50, p99) = if bad {
                (0.18, 1.4)
            } else if p.role == "canary" {
                (0.045, 0.21)
            } else {
                (0.04, 0.19)
            };
            let phi = phi.clamp(0.0, 1.0);
            let shape = ((phi - 0.5).max(0.0) / 0.49).powf(2.0);
            (p50 + (p99 - p50) * shape) * wiggle
        }
    }
}

fn is_bad(tags: &TagSource, p: &Parsed) -> bool {
    p.role == "canary" && tags(&p.app, &p.namespace).is_some_and(|t| t.starts_with("bad"))
}

/// Prometheus' number formatting for a sample value.
fn word(v: f64) -> String {
    crate::services::prometheus::word(v)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn time_param(ps: &[(String, String)], name: &str) -> Result<Option<f64>, Box<Response>> {
    match param(ps, name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<f64>().map(Some).map_err(|_| {
            Box::new(bad_data(format!(
                "invalid parameter \"{name}\": cannot parse \"{v}\" to a valid timestamp"
            )))
        }),
    }
}

async fn instant(State(tags): State<TagSource>, RawQuery(raw): RawQuery, body: String) -> Response {
    let ps = params(raw.as_deref(), &body);
    let Some(q) = param(&ps, "query") else {
        return bad_data(
            "invalid parameter \"query\": unknown position: parse error: no expression found in input",
        );
    };
    let p = match parse(q) {
        Ok(p) => p,
        Err(e) => return bad_data(e),
    };
    let t = match time_param(&ps, "time") {
        Ok(t) => t.unwrap_or_else(now),
        Err(r) => return *r,
    };
    let v = value(&p, is_bad(&tags, &p), t);
    // Aggregations (`sum`, `histogram_quantile … by (le)`) drop every label: `metric` is `{}`.
    success("vector", &json!([{"metric": {}, "value": [t, word(v)]}]))
}

async fn range(State(tags): State<TagSource>, RawQuery(raw): RawQuery, body: String) -> Response {
    let ps = params(raw.as_deref(), &body);
    let Some(q) = param(&ps, "query") else {
        return bad_data("invalid parameter \"query\": parse error: no expression found in input");
    };
    let p = match parse(q) {
        Ok(p) => p,
        Err(e) => return bad_data(e),
    };
    let (start, end) = match (time_param(&ps, "start"), time_param(&ps, "end")) {
        (Ok(Some(s)), Ok(Some(e))) => (s, e),
        (Err(r), _) | (_, Err(r)) => return *r,
        _ => return bad_data("invalid parameter \"start\"/\"end\": both are required"),
    };
    let step = match param(&ps, "step").map(parse_step) {
        Some(Some(s)) if s > 0.0 => s,
        _ => {
            return bad_data(
                "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
            );
        }
    };
    if end < start {
        return bad_data("invalid parameter \"end\": end timestamp must not be before start time");
    }
    if (end - start) / step > MAX_POINTS {
        return bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        );
    }
    let bad = is_bad(&tags, &p);
    let mut values = Vec::new();
    let mut t = start;
    while t <= end {
        values.push(json!([t, word(value(&p, bad, t))]));
        t += step;
    }
    success("matrix", &json!([{"metric": {}, "values": values}]))
}

/// A step as float seconds (`15`, `0.5`) or a duration (`15s`, `1m`, `2h`).
fn parse_step(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demo_queries_parse_to_role_app_and_metric() {
        use crate::services::prometheus::Metric;
        let slo = crate::inventory::SloConfig::default();
        let q = Metric::P99.query(&slo, "miker-web", "stg", "miker-stg", "canary");
        let p = parse(&q).unwrap();
        assert_eq!(p.asked, Asked::Quantile(0.99));
        assert_eq!(
            (p.role.as_str(), p.app.as_str(), p.namespace.as_str()),
            ("canary", "miker-web", "miker-stg")
        );
        let e = parse(&Metric::ErrorRate.query(&slo, "a", "e", "n", "stable")).unwrap();
        assert_eq!(e.asked, Asked::ErrorRate);
        assert!(parse("up").is_err());
        assert!(
            parse("histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))")
                .is_err()
        );
    }

    #[test]
    fn forms_decode() {
        assert_eq!(decode("a+b%7B%22x%22%7D%"), "a b{\"x\"}%");
        assert_eq!(parse_step("15s"), Some(15.0));
        assert_eq!(parse_step("1.5"), Some(1.5));
        assert_eq!(parse_step("1x"), None);
    }

    #[test]
    fn a_bad_canary_breaches_and_a_good_one_does_not() {
        let p = |asked, role: &str| Parsed {
            asked,
            role: role.into(),
            app: "a".into(),
            namespace: "n".into(),
        };
        for t in [0.0, 150.0, 300.0, 450.0] {
            assert!(value(&p(Asked::ErrorRate, "canary"), false, t) < 0.01);
            assert!(value(&p(Asked::Quantile(0.99), "canary"), false, t) < 0.5);
            assert!(value(&p(Asked::ErrorRate, "canary"), true, t) > 0.01);
            assert!(value(&p(Asked::Quantile(0.99), "canary"), true, t) > 0.5);
        }
    }
}
