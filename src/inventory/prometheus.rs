//! The inventory's `prometheus:` section (where canary metrics are read) and an app's `slo:`
//! (which queries measure it, and the thresholds it must stay under).
//!
//! Queries are templates: `{role}` becomes `canary` or `stable` (the pod label Argo Rollouts'
//! ephemeral metadata sets), `{app}`, `{env}` and `{namespace}` the app's name, the environment
//! and its namespace, and `{quantile}` in the latency query 0.5, 0.9 or 0.99. PromQL's own
//! braces (`metric{label="x"}`) are left alone: only these exact words are replaced.

use serde::Deserialize;

/// Default error-rate query: 5xx responses over all responses of one role, over 5 minutes.
pub const DEFAULT_ERROR_RATE_QUERY: &str = concat!(
    r#"sum(rate(http_requests_total{namespace="{namespace}",app="{app}",role="{role}",code=~"5.."}[5m]))"#,
    r#" / sum(rate(http_requests_total{namespace="{namespace}",app="{app}",role="{role}"}[5m]))"#
);

/// Default latency query: a quantile of the request-duration histogram (seconds) of one role.
pub const DEFAULT_LATENCY_QUERY: &str = r#"histogram_quantile({quantile}, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{namespace}",app="{app}",role="{role}"}[5m])))"#;

/// The seed's SLO: fewer than 1 % of requests fail.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;
/// The seed's SLO: p99 under 500 ms.
pub const DEFAULT_MAX_P99_MS: f64 = 500.0;

/// Where the Prometheus HTTP API is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL of the HTTP API (the part before `/api/v1/…`), e.g. `http://prometheus:9090`.
    pub url: String,
    /// Env var holding a bearer token; without it requests carry no credentials.
    #[serde(default)]
    pub token_env: Option<String>,
    /// How long connecting may take. Seconds; default 5.
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// How long one query may take, answer included (Prometheus is asked to give up a second
    /// sooner, so its own 503 arrives first). Seconds; default 15.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// One app's SLO: its queries (templates, see the module notes) and thresholds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// The fraction of failed requests (0..1) of `{role}`. Default: [`DEFAULT_ERROR_RATE_QUERY`].
    #[serde(default)]
    pub error_rate_query: Option<String>,
    /// The `{quantile}` latency of `{role}`, in seconds. Default: [`DEFAULT_LATENCY_QUERY`].
    #[serde(default)]
    pub latency_query: Option<String>,
    /// Breach above this error rate (a fraction: 0.01 is 1 %). Default 0.01.
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    /// Breach above this p50, in milliseconds. Default: no threshold.
    #[serde(default)]
    pub max_p50_ms: Option<f64>,
    /// Breach above this p90, in milliseconds. Default: no threshold.
    #[serde(default)]
    pub max_p90_ms: Option<f64>,
    /// Breach above this p99, in milliseconds. Default 500.
    #[serde(default)]
    pub max_p99_ms: Option<f64>,
}

impl SloConfig {
    pub fn error_rate_query(&self) -> &str {
        self.error_rate_query
            .as_deref()
            .unwrap_or(DEFAULT_ERROR_RATE_QUERY)
    }

    pub fn latency_query(&self) -> &str {
        self.latency_query
            .as_deref()
            .unwrap_or(DEFAULT_LATENCY_QUERY)
    }

    pub fn max_error_rate(&self) -> f64 {
        self.max_error_rate.unwrap_or(DEFAULT_MAX_ERROR_RATE)
    }

    pub fn max_p99_ms(&self) -> f64 {
        self.max_p99_ms.unwrap_or(DEFAULT_MAX_P99_MS)
    }
}

/// Fills a query template for one role of one app in one environment.
pub fn fill(template: &str, app: &str, env: &str, namespace: &str, role: &str) -> String {
    template
        .replace("{role}", role)
        .replace("{app}", app)
        .replace("{env}", env)
        .replace("{namespace}", namespace)
}

/// What is wrong with an app's `slo:` (key, message, fix), for the inventory's checks.
pub(super) fn problems(slo: &SloConfig) -> Vec<(&'static str, String, &'static str)> {
    let mut out = Vec::new();
    for (key, q) in [
        ("error_rate_query", slo.error_rate_query.as_deref()),
        ("latency_query", slo.latency_query.as_deref()),
    ] {
        let Some(q) = q else { continue };
        if !q.contains("{role}") {
            out.push((
                key,
                format!(
                    "slo.{key} has no `{{role}}`: canary and stable would read the same series"
                ),
                "select the role label with {role}, e.g. role=\"{role}\"",
            ));
        }
    }
    if let Some(q) = slo.latency_query.as_deref()
        && !q.contains("{quantile}")
    {
        out.push((
            "latency_query",
            "slo.latency_query has no `{quantile}`: p50, p90 and p99 would be the same".to_owned(),
            "pass the quantile as histogram_quantile({quantile}, …)",
        ));
    }
    if let Some(r) = slo.max_error_rate
        && !(r.is_finite() && (0.0..=1.0).contains(&r))
    {
        out.push((
            "max_error_rate",
            format!("slo.max_error_rate {r} is not a fraction between 0 and 1"),
            "give a fraction: 0.01 is 1 %",
        ));
    }
    for (key, ms) in [
        ("max_p50_ms", slo.max_p50_ms),
        ("max_p90_ms", slo.max_p90_ms),
        ("max_p99_ms", slo.max_p99_ms),
    ] {
        if let Some(ms) = ms
            && !(ms.is_finite() && ms > 0.0)
        {
            out.push((
                key,
                format!("slo.{key} {ms} is not a positive number of milliseconds"),
                "give milliseconds, e.g. 500",
            ));
        }
    }
    out
}
