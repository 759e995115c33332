//! Prometheus: the HTTP API's instant and range queries ([`PromClient`]) and the SLO read of
//! one app in one environment, canary against stable ([`SloService`]).
//!
//! Every error is one line that names the endpoint (credentials removed) and the query, and
//! says whether the fault is the query (400, 422), Prometheus giving up (503), or the way to
//! it (no connection, no answer in time).

mod client;
pub mod slo;
mod value;

use std::time::Duration;

pub use client::{MAX_POINTS, PromClient, step_for};
pub use slo::{Metric, RoleReading, SloMetric, SloReport, SloService};
pub use value::{Point, QueryResult, Sample, Series, parse_value, word};

/// Default bound on connecting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on one query, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What can go wrong reading Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("the inventory has no `prometheus:` section: add its url (see inventory.example.yaml)")]
    NotConfigured,
    #[error("prometheus.url `{}` must start with http:// or https://", crate::redact::url(.0))]
    BadUrl(String),
    #[error("prometheus.token_env names `{0}`, which is not set")]
    MissingToken(String),
    #[error("the Prometheus token has characters a header cannot hold (a newline?)")]
    BadToken,
    /// 400: the query or a parameter is malformed.
    #[error(
        "Prometheus at {} refused the query `{query}` as bad (HTTP 400, {kind}): {message}",
        crate::redact::url(endpoint)
    )]
    BadQuery {
        endpoint: String,
        query: String,
        kind: String,
        message: String,
    },
    /// 422: well-formed, but it cannot be executed.
    #[error(
        "Prometheus at {} cannot execute the query `{query}` (HTTP 422, {kind}): {message}",
        crate::redact::url(endpoint)
    )]
    CannotExecute {
        endpoint: String,
        query: String,
        kind: String,
        message: String,
    },
    /// 503: Prometheus timed out or was aborted evaluating it.
    #[error(
        "Prometheus at {} gave up on the query `{query}` (HTTP 503, {kind}): {message}",
        crate::redact::url(endpoint)
    )]
    Unavailable {
        endpoint: String,
        query: String,
        kind: String,
        message: String,
    },
    #[error(
        "Prometheus at {} answered HTTP {status} to the query `{query}`: {body}",
        crate::redact::url(endpoint)
    )]
    Http {
        endpoint: String,
        query: String,
        status: u16,
        body: String,
    },
    #[error(
        "cannot connect to Prometheus at {} for the query `{query}`: {reason}",
        crate::redact::url(endpoint)
    )]
    Unreachable {
        endpoint: String,
        query: String,
        /// What the connection did: refused, reset, or none within the connect bound.
        reason: String,
    },
    #[error(
        "Prometheus at {} did not answer the query `{query}` within {secs} s",
        crate::redact::url(endpoint)
    )]
    NoAnswer {
        endpoint: String,
        query: String,
        secs: u64,
    },
    #[error(
        "Prometheus at {} answered the query `{query}` with something that is not its API's JSON: {message}",
        crate::redact::url(endpoint)
    )]
    Payload {
        endpoint: String,
        query: String,
        message: String,
    },
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
}

pub type Result<T, E = PromError> = std::result::Result<T, E>;

impl PromError {
    /// The configuration is at fault (exit 2), not the far end.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            PromError::NotConfigured
                | PromError::BadUrl(_)
                | PromError::MissingToken(_)
                | PromError::BadToken
        )
    }

    /// The far end did not answer at all (exit 4): connection refused or timed out, or no answer
    /// in time. A refusal of the query is an answer.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            PromError::Unreachable { .. } | PromError::NoAnswer { .. }
        )
    }
}

/// A query as an error line shows it: on one line, and not longer than a line.
pub(crate) fn shown_query(q: &str) -> String {
    const MAX: usize = 160;
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= MAX {
        one
    } else {
        let mut cut: String = one.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}
