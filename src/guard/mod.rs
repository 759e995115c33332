//! `shipdeck guard`: the release guard. A headless, long-running service that watches the
//! environments with `auto_rollback: true` and, when a canary is aborted by its analysis or a
//! new revision goes Degraded, runs the rollback op (`ops::gitops::change`, the same as the
//! cockpit's `b` and `shipdeck rollback`): abort in the cluster, the last good tag written to
//! git, journaled as `shipdeck-guard`, a Feishu card with the failing metric.
//!
//! Several replicas may run; one acts (`elector`). Once per failed revision, whatever
//! restarts or reconnects happen: each failure is keyed by the rollout's UID, the canary's
//! pod-template-hash and its tag (`detect`); before acting the guard reads git, and a git
//! that no longer names the bad tag means someone (a former leader) already rolled back; the
//! write itself is conditional on the env's tag still being the bad one (`expected_from`),
//! so a replica that lost the Lease mid-action cannot write a second time.

pub mod detect;
pub mod elector;
pub mod health;
pub mod slo;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::inventory::Inventory;
use crate::ops::gitops::{ChangeSpec, plan_rollback};
use crate::ops::{Actor, Fault, OpCtx};
use crate::paths::Paths;
use crate::services::TaskCtl;
use crate::services::gitops::Action;
use crate::services::kube::client::Target;
use crate::services::kube::watch::run_env;
use crate::services::kube::{Conn, LiveEvent};

pub use detect::Failure;
pub use health::Stats;

/// The actor of every write the guard makes: journal, commit trailer, card.
pub const ACTOR: &str = "shipdeck-guard";

/// A failed rollback is tried again after this long (the git remote or cluster was away).
const RETRY: Duration = Duration::from_secs(5);

/// Why the guard cannot run.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("no environment has `auto_rollback: true`: the guard has nothing to watch")]
    NothingToGuard,
    #[error("cannot serve health on {0}: {1}")]
    Listen(String, String),
    #[error("the Lease: {0}")]
    Lease(String),
}

/// How one guard replica runs.
#[derive(Debug, Clone)]
pub struct GuardOpts {
    /// Log and print what would be done; write nothing (no git, no cluster, no journal).
    pub dry_run: bool,
    /// This replica's name in the Lease.
    pub identity: String,
    /// Where health and metrics are served (default: `guard.listen`).
    pub listen: Option<String>,
    /// Print each decision on stdout (the CLI; kubectl logs shows it).
    pub echo: bool,
}

impl GuardOpts {
    pub fn new(identity: impl Into<String>) -> GuardOpts {
        GuardOpts {
            dry_run: false,
            identity: identity.into(),
            listen: None,
            echo: false,
        }
    }
}

/// The name of this replica when none is given: the host's (the pod's name in a cluster),
/// with the process id so two replicas on one machine differ.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "shipdeck".to_owned());
    format!("{host}-{}", std::process::id())
}

/// A running replica.
pub struct Guard {
    /// Where `/healthz`, `/readyz` and `/metrics` answer.
    pub addr: std::net::SocketAddr,
    pub stats: Arc<Stats>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Guard {
    /// Starts the watches, the election and the health server.
    pub async fn start(
        inv: Arc<Inventory>,
        paths: Paths,
        opts: GuardOpts,
    ) -> Result<Guard, GuardError> {
        let envs: Vec<String> = inv
            .environments
            .iter()
            .filter(|(_, e)| e.auto_rollback)
            .map(|(n, _)| n.clone())
            .collect();
        if envs.is_empty() {
            return Err(GuardError::NothingToGuard);
        }
        let cfg = inv.guard.clone().unwrap_or_default();
        let stats = Arc::new(Stats::new(envs.len()));
        let stop = CancellationToken::new();
        let listen = opts.listen.clone().unwrap_or_else(|| cfg.listen.clone());
        let addr = health::serve(&listen, stats.clone(), stop.clone()).await?;
        let lease = elector::LeaseSpecOpts {
            target: Target::from_inventory(&inv, cfg.kube_context.as_deref()),
            namespace: cfg.lease_namespace.clone(),
            name: cfg.lease_name.clone(),
            identity: opts.identity.clone(),
            duration: Duration::from_secs(cfg.lease_duration_secs.max(1)),
            renew: Duration::from_secs(cfg.renew_secs.max(1)),
        };
        tracing::info!(identity = %opts.identity, envs = ?envs, dry_run = opts.dry_run, %addr, "guard starting");
        let (leader_tx, leader_rx) = watch::channel(false);
        let ctx = op_ctx(&inv, &paths);
        let mut r = Replica {
            inv,
            ctx,
            opts,
            stats: stats.clone(),
            handled: HashSet::new(),
            pending: BTreeMap::new(),
            listed: HashSet::new(),
            slo: None,
        };
        r.slo = slo::SloWatch::from_inventory(&r.inv);
        let (s1, s2) = (stats.clone(), stop.clone());
        let task = tokio::spawn(async move {
            // Dropping the set (a kill aborts this task) aborts every watch and the election.
            let mut set = tokio::task::JoinSet::new();
            let elector = set.spawn(elector::run(lease, leader_tx, s1, s2.clone()));
            let (tx, rx) = unbounded_channel();
            // No pods: a failure is read from the Rollout, its ReplicaSets and AnalysisRuns,
            // and a platform's namespaces hold thousands of pods (no app is ever "on screen").
            let (_no_app, on_screen) = watch::channel(None);
            let pods = crate::services::kube::watch::PodScope::OnScreen(on_screen);
            let (specs, _) = crate::services::kube::watch::specs(&r.inv, &pods);
            for spec in specs.into_iter().filter(|s| envs.contains(&s.env)) {
                set.spawn(run_env(spec, tx.clone()));
            }
            drop(tx);
            r.run(rx, leader_rx, s2).await;
            // A clean stop: the elector gives the Lease up, then the watches end.
            while let Some(done) = set.join_next_with_id().await {
                if done.map_or_else(|e| e.id(), |(id, ())| id) == elector.id() {
                    break;
                }
            }
        });
        Ok(Guard {
            addr,
            stats,
            stop,
            task,
        })
    }

    /// A clean stop: the Lease is given up, so a follower takes over at its next look.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }

    /// Ends the replica at once, as a crash or `kill -9` would: the Lease stays until it expires.
    pub fn kill(self) {
        self.task.abort();
        self.stop.cancel();
    }

    /// Runs until `stop` (the CLI passes SIGTERM/SIGINT through it), then stops cleanly.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) {
        stop.await;
        self.stop().await;
    }
}

/// The ops context of the guard: the inventory, its own folders, the guard as actor, chats.
fn op_ctx(inv: &Arc<Inventory>, paths: &Paths) -> OpCtx {
    let notifier = inv
        .feishu
        .as_ref()
        .map(|cfg| crate::services::feishu::notifier_for(cfg, inv.base_dir()))
        .and_then(|(started, problems)| {
            for p in problems {
                tracing::warn!(problem = %p, "feishu");
            }
            started.map(|(n, mut outcomes)| {
                tokio::spawn(async move {
                    while let Some(o) = outcomes.recv().await {
                        if let crate::services::feishu::Delivery::Failed { error } = &o.delivery {
                            tracing::warn!(chat = %o.chat, %error, "feishu card not delivered");
                        }
                    }
                });
                Arc::new(n)
            })
        });
    OpCtx::new(inv.clone(), paths.clone(), false)
        .with_actor(Actor {
            name: ACTOR.to_owned(),
            source: "shipdeck guard".to_owned(),
            kube_user: None,
        })
        .with_notifier(notifier)
}

/// One replica's state: what it has seen fail and what it has settled.
struct Replica {
    inv: Arc<Inventory>,
    ctx: OpCtx,
    opts: GuardOpts,
    stats: Arc<Stats>,
    /// Failure keys settled (rolled back, found rolled back, or planned in a dry run).
    handled: HashSet<String>,
    /// Failures seen and not settled yet: a follower keeps them for when it leads.
    pending: BTreeMap<String, Failure>,
    listed: HashSet<String>,
    /// The SLO reads, with a `prometheus:` section.
    slo: Option<slo::SloWatch>,
}

impl Replica {
    async fn run(
        &mut self,
        mut rx: tokio::sync::mpsc::UnboundedReceiver<LiveEvent>,
        mut leader: watch::Receiver<bool>,
        stop: CancellationToken,
    ) {
        let mut retry_at: Option<tokio::time::Instant> = None;
        let every = self
            .slo
            .as_ref()
            .map_or(Duration::from_secs(3600), |s| s.every);
        let mut slo_tick = tokio::time::interval(every);
        slo_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let retry = async {
                match retry_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                ev = rx.recv() => match ev {
                    Some(ev) => self.note(ev),
                    None => return,
                },
                changed = leader.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = retry => retry_at = None,
                _ = slo_tick.tick(), if self.slo.is_some() && *leader.borrow() => {
                    self.read_slos().await;
                }
            }
            if *leader.borrow() && !self.pending.is_empty() && retry_at.is_none() {
                let failed = self.settle(&leader).await;
                if failed {
                    retry_at = Some(tokio::time::Instant::now() + RETRY);
                }
            }
        }
    }

    /// One SLO read of every canary in flight; a streak long enough becomes a pending failure.
    async fn read_slos(&mut self) {
        let Some(mut watch) = self.slo.take() else {
            return;
        };
        let found = watch.read(&self.inv).await;
        self.slo = Some(watch);
        for f in found {
            self.add_pending(f);
        }
        self.stats.set_pending(self.pending.len());
    }

    /// A failure seen for the first time goes into `pending` (once per key).
    fn add_pending(&mut self, f: Failure) {
        if self.handled.contains(&f.key) || self.pending.contains_key(&f.key) {
            return;
        }
        self.stats
            .failures_seen
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.say(&format!(
            "{} {}: canary {} {}: {}",
            f.app,
            f.env,
            f.tag,
            f.what(),
            f.analysis
        ));
        self.pending.insert(f.key.clone(), f);
    }

    /// Takes in a watch event: failures into `pending`, reconnects into the metrics.
    fn note(&mut self, ev: LiveEvent) {
        match ev {
            LiveEvent::Connection {
                conn: Conn::Stale { error, .. },
                feed,
            } => {
                self.stats
                    .watch_reconnects
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tracing::warn!(?feed, %error, "watch disconnected, reconnecting");
            }
            LiveEvent::Rollouts { env, rollouts } => {
                if self.listed.insert(env.clone()) {
                    self.stats.env_listed();
                }
                let now: Vec<Failure> = rollouts
                    .iter()
                    .filter_map(|(app, ro)| detect::failure(app, &env, ro.as_ref()?))
                    .collect();
                // A failure the rollout no longer shows (retried, promoted, rolled back) is
                // not rolled back later by a follower that kept it.
                self.pending.retain(|key, f| {
                    // Each snapshot covers one namespace's apps; an SLO failure is not in the
                    // rollout's status at all, and is settled at once anyway.
                    let still = f.env != env
                        || !rollouts.contains_key(&f.app)
                        || f.slo
                        || now.iter().any(|n| n.key == *key);
                    if !still {
                        tracing::info!(key = %key, "failure gone from the rollout before it was settled");
                    }
                    still
                });
                if let Some(s) = self.slo.as_mut() {
                    s.note(&self.inv, &env, &rollouts);
                }
                for f in now {
                    self.add_pending(f);
                }
                self.stats.set_pending(self.pending.len());
            }
            _ => {}
        }
    }

    /// Rolls back every pending failure while we lead. `true`: one failed and waits for a retry.
    async fn settle(&mut self, leader: &watch::Receiver<bool>) -> bool {
        let keys: Vec<String> = self.pending.keys().cloned().collect();
        let mut failed = false;
        for key in keys {
            // Leadership is asked again before each write: a replica that lost the Lease
            // leaves the rest to the new leader.
            if !*leader.borrow() {
                return failed;
            }
            let Some(f) = self.pending.get(&key).cloned() else {
                continue;
            };
            match self.roll_back(&f).await {
                Settled::Done => {
                    self.pending.remove(&key);
                    self.handled.insert(key);
                }
                Settled::Retry => failed = true,
            }
        }
        self.stats.set_pending(self.pending.len());
        failed
    }

    async fn roll_back(&self, f: &Failure) -> Settled {
        let mut spec = ChangeSpec::new(Action::Rollback, &f.app, &f.env, None);
        spec.expected_from = Some(f.tag.clone());
        spec.analysis = Some(f.analysis.clone());
        spec.reason = Some(format!("shipdeck guard: canary {} {}", f.tag, f.what()));
        // What git says now: a tag other than the bad one means it was rolled back already
        // (a former leader, a person) or moved on; either way not ours to write.
        let plan = match plan_rollback(&self.ctx, &spec).await {
            Ok(p) => p,
            Err(e) => {
                self.say(&format!("{} {}: cannot read git: {e}", f.app, f.env));
                return Settled::Retry;
            }
        };
        if plan.git.from != f.tag {
            self.stats
                .already_rolled_back
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.say(&format!(
                "{} {}: git names {} (not the failed {}): already rolled back, nothing to do",
                f.app, f.env, plan.git.from, f.tag
            ));
            return Settled::Done;
        }
        if self.opts.dry_run {
            self.stats
                .dry_runs
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.say(&format!(
                "dry run: would roll back {} {} {} → {} ({}); {}",
                f.app, f.env, f.tag, plan.git.to, f.analysis, plan.cluster
            ));
            return Settled::Done;
        }
        match crate::ops::gitops::change(&self.ctx, spec, TaskCtl::detached()).await {
            Ok(report) => {
                if report.outcome.pushed {
                    self.stats
                        .rollbacks
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                self.say(&format!("{} {}: {report}", f.app, f.env));
                Settled::Done
            }
            // Git moved under us (another writer got there first): not ours to overwrite.
            Err(e) if matches!(e.fault, Fault::Conflict | Fault::Refused | Fault::BadInput) => {
                self.say(&format!("{} {}: not rolled back: {e}", f.app, f.env));
                Settled::Done
            }
            Err(e) => {
                self.stats
                    .rollback_errors
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                self.say(&format!(
                    "{} {}: rollback failed, retrying in {} s: {e}",
                    f.app,
                    f.env,
                    RETRY.as_secs()
                ));
                Settled::Retry
            }
        }
    }

    /// A decision: in the log, and on stdout for the CLI.
    fn say(&self, line: &str) {
        tracing::info!(identity = %self.opts.identity, "{line}");
        if self.opts.echo {
            println!(
                "{} guard {}: {}",
                jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                self.opts.identity,
                crate::headless::printable(line)
            );
        }
    }
}

/// How a rollback attempt ended.
enum Settled {
    Done,
    Retry,
}
