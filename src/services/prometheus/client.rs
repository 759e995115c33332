//! The HTTP API client: `POST /api/v1/query` and `/api/v1/query_range`, form-encoded (long
//! queries do not meet URL length limits), each with Prometheus' own `timeout` parameter set
//! a second below ours so its 503 (which says what happened) arrives before our deadline.

use std::fmt::Write as _;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::value::{Envelope, QueryResult, result};
use super::{CONNECT_TIMEOUT, PromError, REQUEST_TIMEOUT, Result, shown_query};

/// Prometheus refuses a range query with more points per series than this.
pub const MAX_POINTS: u64 = 11_000;

/// The step for a range of `range` drawn with about `wanted` points: at least one second,
/// and never so small that the range would pass [`MAX_POINTS`] (`range / step + 1` points).
pub fn step_for(range: Duration, wanted: u64) -> Duration {
    let secs = range.as_secs_f64();
    let wanted = wanted.clamp(2, MAX_POINTS);
    // Both counts are at most 11,000: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    let (by_wish, by_limit) = (secs / (wanted - 1) as f64, secs / (MAX_POINTS - 1) as f64);
    // Whole seconds read better in URLs and logs, and rounding up keeps under the limit.
    Duration::from_secs_f64(by_wish.max(by_limit).ceil().max(1.0))
}

/// A client for one Prometheus.
#[derive(Clone)]
pub struct PromClient {
    http: reqwest::Client,
    /// The base URL, without a trailing slash.
    base: String,
    token: Option<SecretString>,
    connect: Duration,
    request: Duration,
}

impl std::fmt::Debug for PromClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromClient")
            .field("base", &crate::redact::url(&self.base))
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl PromClient {
    /// A client for the API at `base` (e.g. `http://prometheus:9090`), with the default
    /// timeouts unless given.
    pub fn new(
        base: &str,
        token: Option<SecretString>,
        connect: Option<Duration>,
        request: Option<Duration>,
    ) -> Result<Self> {
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(PromError::BadUrl(base.to_owned()));
        }
        let connect = connect
            .unwrap_or(CONNECT_TIMEOUT)
            .max(Duration::from_secs(1));
        let request = request
            .unwrap_or(REQUEST_TIMEOUT)
            .max(Duration::from_secs(1));
        // reqwest with rustls and no bundled provider: install ring once, or building panics.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("shipdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect)
            .timeout(request)
            .build()
            .map_err(|e| PromError::Client(e.to_string()))?;
        Ok(PromClient {
            http,
            base: base.to_owned(),
            token,
            connect,
            request,
        })
    }

    /// The base URL (with any credentials in it; show it through `redact::url`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// How long one query may take.
    pub fn request_timeout(&self) -> Duration {
        self.request
    }

    /// An instant query, evaluated at `time` (Unix seconds) or now.
    pub async fn query(&self, query: &str, time: Option<f64>) -> Result<QueryResult> {
        let mut form = vec![("query", query.to_owned())];
        if let Some(t) = time {
            form.push(("time", format!("{t:.3}")));
        }
        self.post("/api/v1/query", query, form).await
    }

    /// A range query from `start` to `end` (Unix seconds), every `step`, raised when needed so
    /// the answer stays within [`MAX_POINTS`] per series.
    pub async fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<QueryResult> {
        let range = Duration::from_secs_f64((end - start).max(0.0));
        let step = step.max(step_for(range, MAX_POINTS));
        let form = vec![
            ("query", query.to_owned()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{}", step.as_secs_f64())),
        ];
        self.post("/api/v1/query_range", query, form).await
    }

    async fn post(
        &self,
        path: &str,
        query: &str,
        mut form: Vec<(&str, String)>,
    ) -> Result<QueryResult> {
        let endpoint = format!("{}{path}", self.base);
        let eval = self
            .request
            .saturating_sub(Duration::from_secs(1))
            .max(Duration::from_secs(1));
        form.push(("timeout", format!("{}s", eval.as_secs())));
        let body = encode_form(&form);
        let mut req = self
            .http
            .post(&endpoint)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(body);
        if let Some(token) = &self.token {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| PromError::BadToken)?;
            v.set_sensitive(true);
            req = req.header(AUTHORIZATION, v);
        }
        let q = shown_query(query);
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport(&endpoint, &q, &e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.transport(&endpoint, &q, &e))?;
        answer(&endpoint, &q, status, &bytes)
    }

    fn transport(&self, endpoint: &str, query: &str, e: &reqwest::Error) -> PromError {
        if e.is_connect() {
            PromError::Unreachable {
                endpoint: endpoint.to_owned(),
                query: query.to_owned(),
                reason: if e.is_timeout() {
                    format!("no connection within {} s", self.connect.as_secs())
                } else {
                    innermost(e)
                },
            }
        } else if e.is_timeout() {
            PromError::NoAnswer {
                endpoint: endpoint.to_owned(),
                query: query.to_owned(),
                secs: self.request.as_secs(),
            }
        } else {
            PromError::Unreachable {
                endpoint: endpoint.to_owned(),
                query: query.to_owned(),
                reason: innermost(e),
            }
        }
    }
}

/// The deepest cause's words (`Connection refused (os error 111)`), not reqwest's wrapper.
fn innermost(e: &reqwest::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// An answer's status and body as a result or the error it says.
fn answer(endpoint: &str, query: &str, status: u16, body: &[u8]) -> Result<QueryResult> {
    let parsed: Option<Envelope> = serde_json::from_slice(body).ok();
    let (kind, message) = parsed.as_ref().map_or_else(
        || ("error".to_owned(), snippet(body)),
        |e| {
            (
                e.error_type.clone().unwrap_or_else(|| "error".to_owned()),
                e.error.clone().unwrap_or_default(),
            )
        },
    );
    let (endpoint, query) = (endpoint.to_owned(), query.to_owned());
    match status {
        200 => {}
        400 => {
            return Err(PromError::BadQuery {
                endpoint,
                query,
                kind,
                message,
            });
        }
        422 => {
            return Err(PromError::CannotExecute {
                endpoint,
                query,
                kind,
                message,
            });
        }
        503 => {
            return Err(PromError::Unavailable {
                endpoint,
                query,
                kind,
                message,
            });
        }
        _ => {
            return Err(PromError::Http {
                endpoint,
                query,
                status,
                body: if message.is_empty() {
                    snippet(body)
                } else {
                    message
                },
            });
        }
    }
    let payload = |message: String| PromError::Payload {
        endpoint: endpoint.clone(),
        query: query.clone(),
        message,
    };
    let env = parsed.ok_or_else(|| payload(format!("not JSON: {}", snippet(body))))?;
    if env.status != "success" {
        return Err(payload(format!(
            "status `{}` with HTTP 200: {message}",
            env.status
        )));
    }
    let data = env.data.ok_or_else(|| payload("no `data`".to_owned()))?;
    result(&data).map_err(payload)
}

/// The start of a body, on one line, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.is_empty() {
        "(empty body)".to_owned()
    } else {
        one.chars().take(200).collect()
    }
}

/// `application/x-www-form-urlencoded`, as browsers write it (reqwest's own form support is
/// an extra feature; this is all of it that we need).
pub(crate) fn encode_form(pairs: &[(&str, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn steps_stay_within_the_points_limit() {
        let day = Duration::from_secs(86_400);
        assert_eq!(
            step_for(Duration::from_secs(600), 121),
            Duration::from_secs(5)
        );
        assert_eq!(
            step_for(Duration::from_secs(10), 1000),
            Duration::from_secs(1)
        );
        // A year at the finest step Prometheus allows still fits.
        for range in [day, day * 30, day * 365] {
            let step = step_for(range, MAX_POINTS);
            assert!(
                range.as_secs() / step.as_secs() < MAX_POINTS,
                "{range:?} / {step:?}"
            );
        }
    }

    #[test]
    fn errors_name_endpoint_query_and_what_prometheus_said() {
        let e = answer(
            "http://u:pw@prom:9090/api/v1/query",
            "rate(x[5m)",
            400,
            br#"{"status":"error","errorType":"bad_data","error":"parse error: unclosed left bracket"}"#,
        )
        .unwrap_err();
        let line = e.to_string();
        assert_eq!(
            line,
            "Prometheus at http://***@prom:9090/api/v1/query refused the query `rate(x[5m)` as bad (HTTP 400, bad_data): parse error: unclosed left bracket"
        );
        assert!(matches!(
            answer(
                "http://p/api/v1/query",
                "q",
                422,
                br#"{"status":"error","errorType":"execution","error":"many-to-many"}"#
            ),
            Err(PromError::CannotExecute { .. })
        ));
        assert!(matches!(
            answer(
                "http://p/api/v1/query",
                "q",
                503,
                br#"{"status":"error","errorType":"timeout","error":"query timed out"}"#
            ),
            Err(PromError::Unavailable { .. })
        ));
        let e = answer(
            "http://p/api/v1/query",
            "q",
            502,
            b"<html>\n bad gateway</html>",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Prometheus at http://p/api/v1/query answered HTTP 502 to the query `q`: <html> bad gateway</html>"
        );
        assert!(matches!(
            answer("http://p/api/v1/query", "q", 200, b"ok"),
            Err(PromError::Payload { .. })
        ));
    }

    #[test]
    fn forms_encode_promql() {
        let f = encode_form(&[("query", r#"sum(rate(x{code=~"5.."}[5m])) / 2"#.to_owned())]);
        assert_eq!(
            f,
            "query=sum%28rate%28x%7Bcode%3D%7E%225..%22%7D%5B5m%5D%29%29+%2F+2"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let c = PromClient::new(
            "http://p:9090/",
            Some(SecretString::from("s3cr3t")),
            None,
            None,
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert_eq!(c.base(), "http://p:9090");
        assert!(matches!(
            PromClient::new("prom:9090", None, None, None),
            Err(PromError::BadUrl(_))
        ));
    }
}
