//! The SLO read: for one app in one environment, the error rate and the p50/p90/p99 latency of
//! the canary and of the stable pods, now (instant queries) and since a start (range queries),
//! each against its threshold. Sixteen queries with a series, eight without, all at once.

use std::time::{Duration, Instant};

use futures::future::try_join_all;
use secrecy::SecretString;
use serde::Serialize;

use super::value::{Point, number_or_word};
use super::{PromClient, PromError, Result, step_for};
use crate::inventory::{Inventory, SloConfig, fill_slo_query};

/// The roles Argo Rollouts' ephemeral metadata labels pods with, in the order shown.
pub const ROLES: [&str; 2] = ["canary", "stable"];

/// How many points a series since the start is drawn with (a sparkline's width, about).
const SERIES_POINTS: u64 = 120;

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ErrorRate,
    P50,
    P90,
    P99,
}

impl Metric {
    pub const ALL: [Metric; 4] = [Metric::ErrorRate, Metric::P50, Metric::P90, Metric::P99];

    pub fn label(self) -> &'static str {
        match self {
            Metric::ErrorRate => "error rate",
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
        }
    }

    /// `ratio` (0..1) for the error rate, `ms` for latencies.
    pub fn unit(self) -> &'static str {
        if self == Metric::ErrorRate {
            "ratio"
        } else {
            "ms"
        }
    }

    fn quantile(self) -> Option<&'static str> {
        match self {
            Metric::ErrorRate => None,
            Metric::P50 => Some("0.5"),
            Metric::P90 => Some("0.9"),
            Metric::P99 => Some("0.99"),
        }
    }

    /// The query's value in this metric's unit (latency queries answer in seconds).
    fn scale(self, v: f64) -> f64 {
        if self == Metric::ErrorRate {
            v
        } else {
            v * 1000.0
        }
    }

    fn threshold(self, slo: &SloConfig) -> Option<f64> {
        match self {
            Metric::ErrorRate => Some(slo.max_error_rate()),
            Metric::P50 => slo.max_p50_ms,
            Metric::P90 => slo.max_p90_ms,
            Metric::P99 => Some(slo.max_p99_ms()),
        }
    }

    /// The PromQL of this metric for one role.
    pub fn query(
        self,
        slo: &SloConfig,
        app: &str,
        env: &str,
        namespace: &str,
        role: &str,
    ) -> String {
        let template = match self.quantile() {
            None => slo.error_rate_query().to_owned(),
            Some(q) => slo.latency_query().replace("{quantile}", q),
        };
        fill_slo_query(&template, app, env, namespace, role)
    }
}

/// One role's reading of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleReading {
    /// Now; `None` when the query matched no series (no such pods), NaN when it matched but
    /// had nothing to divide (no traffic in the window).
    #[serde(serialize_with = "opt_number_or_word")]
    pub current: Option<f64>,
    /// Since the read's start, in the metric's unit (empty without a start).
    pub series: Vec<Point>,
    /// The current value is above the threshold.
    pub breached: bool,
}

/// One metric, canary beside stable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloMetric {
    pub metric: Metric,
    pub unit: &'static str,
    /// Breach above this (in `unit`); `None`: no threshold for this metric.
    pub threshold: Option<f64>,
    pub canary: RoleReading,
    pub stable: RoleReading,
    /// Either role is above the threshold.
    pub breached: bool,
}

/// The SLO read of one app in one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloReport {
    pub app: String,
    pub env: String,
    pub namespace: String,
    /// The Prometheus read, credentials removed.
    pub endpoint: String,
    /// When the current values were read (Unix seconds).
    pub at: f64,
    /// Where the series start (Unix seconds), when asked for.
    pub since: Option<f64>,
    /// The series' step in seconds, when asked for.
    pub step_secs: Option<u64>,
    pub metrics: Vec<SloMetric>,
    /// Any metric of either role is above its threshold.
    pub breached: bool,
    /// Queries sent for this read.
    pub queries: u32,
    /// How long the read took.
    pub elapsed_ms: u64,
}

impl SloReport {
    /// The breaches, in words: `canary p99 1400 ms > 500 ms`.
    pub fn breaches(&self) -> Vec<String> {
        let mut out = Vec::new();
        for m in &self.metrics {
            let Some(t) = m.threshold else { continue };
            for (role, r) in [("canary", &m.canary), ("stable", &m.stable)] {
                if r.breached {
                    out.push(format!(
                        "{role} {} {} > {}",
                        m.metric.label(),
                        shown(m.metric, r.current),
                        shown(m.metric, Some(t))
                    ));
                }
            }
        }
        out
    }
}

/// A value as people read it: `0.42 %`, `212 ms`, `NaN` (no traffic), `-` (no series).
pub fn shown(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if !v.is_finite() => super::value::word(v),
        Some(v) if metric == Metric::ErrorRate => format!("{:.2} %", v * 100.0),
        Some(v) => format!("{v:.0} ms"),
    }
}

// serde's `serialize_with` hands a reference to the field.
#[allow(clippy::ref_option)]
fn opt_number_or_word<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => number_or_word(v, s),
        None => s.serialize_none(),
    }
}

/// Reads SLOs from one Prometheus.
#[derive(Debug, Clone)]
pub struct SloService {
    client: PromClient,
}

impl SloService {
    pub fn new(client: PromClient) -> Self {
        SloService { client }
    }

    /// The service for the inventory's `prometheus:` section; `request` (a command's
    /// `--timeout`) shortens the per-query bound when it is the shorter.
    pub fn from_inventory(inv: &Inventory, request: Option<Duration>) -> Result<Self> {
        let cfg = inv.prometheus.as_ref().ok_or(PromError::NotConfigured)?;
        let token = match cfg.token_env.as_deref() {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_owned())),
                _ => return Err(PromError::MissingToken(var.to_owned())),
            },
        };
        let configured = cfg.timeout_secs.map(Duration::from_secs);
        let request = match (configured, request) {
            (Some(c), Some(r)) => Some(c.min(r)),
            (c, r) => c.or(r.map(|r| r.min(super::REQUEST_TIMEOUT))),
        };
        let client = PromClient::new(
            &cfg.url,
            token,
            cfg.connect_timeout_secs.map(Duration::from_secs),
            request,
        )?;
        Ok(SloService { client })
    }

    pub fn client(&self) -> &PromClient {
        &self.client
    }

    /// The SLO of `app` in `env` (whose pods live in `namespace`): current values, and series
    /// from `since` (Unix seconds) to now when given.
    pub async fn read(
        &self,
        app: &str,
        env: &str,
        namespace: &str,
        slo: &SloConfig,
        since: Option<f64>,
    ) -> Result<SloReport> {
        let t0 = Instant::now();
        let now = unix_now();
        let step =
            since.map(|s| step_for(Duration::from_secs_f64((now - s).max(1.0)), SERIES_POINTS));
        let mut jobs = Vec::new();
        for metric in Metric::ALL {
            for role in ROLES {
                let q = metric.query(slo, app, env, namespace, role);
                jobs.push(async move {
                    let current = self.client.query(&q, Some(now)).await?.single();
                    let series = match (since, step) {
                        (Some(start), Some(step)) => self
                            .client
                            .query_range(&q, start, now, step)
                            .await?
                            .first_series(),
                        _ => Vec::new(),
                    };
                    Ok::<_, PromError>((current, series))
                });
            }
        }
        // Instant and range of one pair run one after the other; all pairs run at once.
        let answers = try_join_all(jobs).await?;
        let mut metrics = Vec::new();
        let mut it = answers.into_iter();
        for metric in Metric::ALL {
            let threshold = metric.threshold(slo);
            let mut reading = || {
                let (current, series) = it.next().unwrap_or((None, Vec::new()));
                let current = current.map(|v| metric.scale(v));
                let breached = match (threshold, current) {
                    (Some(t), Some(v)) => v > t,
                    _ => false,
                };
                RoleReading {
                    current,
                    series: series
                        .into_iter()
                        .map(|p| Point {
                            t: p.t,
                            v: metric.scale(p.v),
                        })
                        .collect(),
                    breached,
                }
            };
            let canary = reading();
            let stable = reading();
            metrics.push(SloMetric {
                metric,
                unit: metric.unit(),
                threshold,
                breached: canary.breached || stable.breached,
                canary,
                stable,
            });
        }
        let per_pair = if since.is_some() { 2 } else { 1 };
        Ok(SloReport {
            app: app.to_owned(),
            env: env.to_owned(),
            namespace: namespace.to_owned(),
            endpoint: crate::redact::url(self.client.base()),
            at: now,
            since,
            step_secs: step.map(|s| s.as_secs()),
            breached: metrics.iter().any(|m| m.breached),
            metrics,
            queries: u32::try_from(Metric::ALL.len() * ROLES.len()).unwrap_or(u32::MAX) * per_pair,
            elapsed_ms: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_fill_role_quantile_and_names() {
        let slo = SloConfig::default();
        let q = Metric::P99.query(&slo, "web", "stg", "miker-stg", "canary");
        assert_eq!(
            q,
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="miker-stg",app="web",role="canary"}[5m])))"#
        );
        let e = Metric::ErrorRate.query(&slo, "web", "stg", "ns", "stable");
        assert!(
            e.contains(r#"{namespace="ns",app="web",role="stable",code=~"5.."}"#),
            "{e}"
        );
        assert!(!e.contains("{role}") && !e.contains("{app}"), "{e}");
        assert_eq!(shown(Metric::ErrorRate, Some(0.0042)), "0.42 %");
        assert_eq!(shown(Metric::P99, Some(f64::INFINITY)), "+Inf");
        assert_eq!(shown(Metric::P50, None), "-");
    }
}
