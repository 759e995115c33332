//! What the guard tells its platform: `/healthz` (the process serves), `/readyz` (every
//! environment's watch has listed once and the Lease has been read: it can judge and, if
//! leader, act) and `/metrics` in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::GuardError;

/// Counters and gauges shared by the guard's tasks (atomics: the HTTP side only reads).
#[derive(Debug)]
pub struct Stats {
    pub rollbacks: AtomicU64,
    pub dry_runs: AtomicU64,
    pub failures_seen: AtomicU64,
    pub rollback_errors: AtomicU64,
    /// Failures found already rolled back in git (by a former leader or a person).
    pub already_rolled_back: AtomicU64,
    pub watch_reconnects: AtomicU64,
    /// Failures seen and not settled yet.
    pending: AtomicU64,
    leader: AtomicBool,
    /// Envs still waiting for their first snapshot.
    unlisted: AtomicU64,
    lease_seen: AtomicBool,
    last_lease_ok: Mutex<Option<Instant>>,
}

impl Stats {
    pub fn new(envs: usize) -> Stats {
        Stats {
            rollbacks: AtomicU64::new(0),
            dry_runs: AtomicU64::new(0),
            failures_seen: AtomicU64::new(0),
            rollback_errors: AtomicU64::new(0),
            already_rolled_back: AtomicU64::new(0),
            watch_reconnects: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            leader: AtomicBool::new(false),
            unlisted: AtomicU64::new(u64::try_from(envs).unwrap_or(u64::MAX)),
            lease_seen: AtomicBool::new(false),
            last_lease_ok: Mutex::new(None),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }

    /// Failures seen and not settled yet (a follower keeps them for when it leads).
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::SeqCst)
    }

    pub(super) fn set_pending(&self, n: usize) {
        self.pending
            .store(u64::try_from(n).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    pub(super) fn set_leader(&self, on: bool) {
        self.leader.store(on, Ordering::SeqCst);
    }

    /// A lease round answered.
    pub(super) fn lease_ok(&self) {
        self.lease_seen.store(true, Ordering::SeqCst);
        *self
            .last_lease_ok
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    }

    /// The last answered lease round is younger than `within`.
    pub(super) fn lease_fresh(&self, within: Duration) -> bool {
        self.last_lease_ok
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|t| t.elapsed() < within)
    }

    /// One more environment has listed once.
    pub(super) fn env_listed(&self) {
        let _ = self
            .unlisted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn ready(&self) -> bool {
        self.unlisted.load(Ordering::SeqCst) == 0 && self.lease_seen.load(Ordering::SeqCst)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let n = |a: &AtomicU64| a.load(Ordering::SeqCst);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        metric(
            "shipdeck_guard_rollbacks_total",
            "counter",
            "Rollbacks the guard wrote to git.",
            n(&self.rollbacks),
        );
        metric(
            "shipdeck_guard_dry_run_rollbacks_total",
            "counter",
            "Rollbacks the guard would have written (--dry-run).",
            n(&self.dry_runs),
        );
        metric(
            "shipdeck_guard_rollback_errors_total",
            "counter",
            "Rollbacks that failed.",
            n(&self.rollback_errors),
        );
        metric(
            "shipdeck_guard_already_rolled_back_total",
            "counter",
            "Failed revisions found already rolled back in git (nothing written).",
            n(&self.already_rolled_back),
        );
        metric(
            "shipdeck_guard_failed_rollouts_seen_total",
            "counter",
            "Failed canary revisions seen (each once).",
            n(&self.failures_seen),
        );
        metric(
            "shipdeck_guard_watch_reconnects_total",
            "counter",
            "Times a watch lost its API server and reconnected.",
            n(&self.watch_reconnects),
        );
        metric(
            "shipdeck_guard_pending_failures",
            "gauge",
            "Failed revisions seen and not settled yet.",
            n(&self.pending),
        );
        metric(
            "shipdeck_guard_leader",
            "gauge",
            "1 while this replica holds the Lease.",
            u64::from(self.is_leader()),
        );
        metric(
            "shipdeck_guard_ready",
            "gauge",
            "1 once every watch has listed and the Lease was read.",
            u64::from(self.ready()),
        );
        out
    }
}

fn router(stats: Arc<Stats>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(s): State<Arc<Stats>>| async move {
                if s.ready() {
                    (StatusCode::OK, "ready\n").into_response()
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not ready: watches or Lease not read yet\n",
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(s): State<Arc<Stats>>| async move {
                let body = s.render();
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/plain; version=0.0.4")
                    .body(axum::body::Body::from(body))
                    .unwrap_or_default()
            }),
        )
        .with_state(stats)
}

/// Binds `listen` and serves until `stop`; returns the bound address (port 0 picks one).
pub async fn serve(
    listen: &str,
    stats: Arc<Stats>,
    stop: CancellationToken,
) -> Result<std::net::SocketAddr, GuardError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| GuardError::Listen(listen.to_owned(), e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| GuardError::Listen(listen.to_owned(), e.to_string()))?;
    tokio::spawn(async move {
        let server = axum::serve(listener, router(stats))
            .with_graceful_shutdown(async move { stop.cancelled().await });
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "guard health server stopped");
        }
    });
    Ok(addr)
}
