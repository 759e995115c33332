//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several guard replicas one
//! acts. Hand-rolled on purpose: kube 5 ships no elector, the crates that add one pull their
//! own kube versions, and the rules fit in one page: the holder renews every `renew`; another
//! replica takes the Lease only after it has seen the same record unchanged for the lease's
//! duration (timed on its own clock, as client-go does, so clock skew between nodes does not
//! shorten a lease); every write is a replace conditional on the resourceVersion read, so
//! two replicas racing for an expired Lease cannot both win (the loser gets 409 Conflict).
//! The Lease has to be read on a timer: its renewals are the heartbeat, there is no state
//! to watch for.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::GuardError;
use super::health::Stats;
use crate::services::kube::client::{Target, describe, post_params, request_client};

/// Where the Lease is and how long it holds.
#[derive(Debug, Clone)]
pub struct LeaseSpecOpts {
    pub target: Target,
    pub namespace: String,
    pub name: String,
    /// This replica's name in `holderIdentity` (the pod name in the cluster).
    pub identity: String,
    pub duration: Duration,
    pub renew: Duration,
}

/// What this replica last saw of someone else's Lease, and since when (our clock).
struct Seen {
    holder: String,
    version: String,
    since: Instant,
}

/// Runs the election until `stop`; `leader` says whether this replica holds the Lease now.
/// On `stop` a holder gives the Lease up (so a rolling update fails over at once); a replica
/// that dies without stopping leaves it to expire.
pub async fn run(
    opts: LeaseSpecOpts,
    leader: watch::Sender<bool>,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let mut seen: Option<Seen> = None;
    loop {
        let client = tokio::select! {
            () = stop.cancelled() => break,
            c = request_client(&opts.target) => c,
        };
        let verdict = match client {
            Ok(client) => {
                let api: Api<Lease> = Api::namespaced(client, &opts.namespace);
                let round = round(&api, &opts, &mut seen, *leader.borrow());
                match tokio::time::timeout(opts.target.timeouts.action_deadline(), round).await {
                    Ok(v) => v,
                    Err(_) => Err(GuardError::Lease("the API server did not answer".into())),
                }
            }
            Err(e) => Err(GuardError::Lease(e.to_string())),
        };
        let now_leader = match verdict {
            Ok(held) => {
                stats.lease_ok();
                held
            }
            Err(e) => {
                tracing::warn!(error = %e, "lease round failed");
                // Without a renewal the others take over after the duration: stop acting
                // before that, at the latest when our own renewal is overdue.
                *leader.borrow() && stats.lease_fresh(opts.duration.saturating_sub(opts.renew))
            }
        };
        if now_leader != *leader.borrow() {
            tracing::info!(identity = %opts.identity, leader = now_leader, "leadership changed");
            let _ = leader.send(now_leader);
        }
        stats.set_leader(now_leader);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(opts.renew) => {}
        }
    }
    if *leader.borrow() {
        let _ = leader.send(false);
        stats.set_leader(false);
        release(&opts).await;
    }
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// One look at the Lease: create it, renew it, or take it over when it expired. Returns
/// whether we hold it afterwards.
async fn round(
    api: &Api<Lease>,
    opts: &LeaseSpecOpts,
    seen: &mut Option<Seen>,
    was_leader: bool,
) -> Result<bool, GuardError> {
    let secs = i32::try_from(opts.duration.as_secs()).unwrap_or(i32::MAX);
    let current = api
        .get_opt(&opts.name)
        .await
        .map_err(|e| GuardError::Lease(describe(&e).to_string()))?;
    let Some(mut lease) = current else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(opts.name.clone()),
                namespace: Some(opts.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(opts.identity.clone()),
                lease_duration_seconds: Some(secs),
                acquire_time: Some(now()),
                renew_time: Some(now()),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return conditional(api.create(&post_params(), &lease).await);
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let version = lease.metadata.resource_version.clone().unwrap_or_default();
    if holder == opts.identity {
        spec.renew_time = Some(now());
        spec.lease_duration_seconds = Some(secs);
        return conditional(
            api.replace(&opts.name, &PostParams::default(), &lease)
                .await,
        );
    }
    if was_leader {
        tracing::warn!(holder = %holder, "the Lease names another holder");
    }
    // Someone else's (or nobody's) Lease: expired once it stood unchanged for its duration.
    let theirs = Duration::from_secs(
        spec.lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(opts.duration.as_secs()),
    );
    let unchanged = seen
        .as_ref()
        .is_some_and(|s| s.holder == holder && s.version == version);
    if !unchanged {
        *seen = Some(Seen {
            holder: holder.clone(),
            version,
            since: Instant::now(),
        });
    }
    let expired = holder.is_empty() || seen.as_ref().is_some_and(|s| s.since.elapsed() >= theirs);
    if !expired {
        return Ok(false);
    }
    spec.holder_identity = Some(opts.identity.clone());
    spec.lease_duration_seconds = Some(secs);
    spec.acquire_time = Some(now());
    spec.renew_time = Some(now());
    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
    let won = conditional(
        api.replace(&opts.name, &PostParams::default(), &lease)
            .await,
    )?;
    if won {
        tracing::info!(from = %holder, identity = %opts.identity, "took over the Lease");
    }
    Ok(won)
}

/// A conditional write: done (we hold it), or someone else wrote first (409: we do not).
fn conditional(r: Result<Lease, kube::Error>) -> Result<bool, GuardError> {
    match r {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(GuardError::Lease(describe(&e).to_string())),
    }
}

/// Gives the Lease up on a clean stop: holder cleared, so a follower takes it at its next look.
async fn release(opts: &LeaseSpecOpts) {
    let give_up = async {
        let client = request_client(&opts.target).await.ok()?;
        let api: Api<Lease> = Api::namespaced(client, &opts.namespace);
        let mut lease = api.get_opt(&opts.name).await.ok()??;
        let spec = lease.spec.as_mut()?;
        if spec.holder_identity.as_deref() != Some(opts.identity.as_str()) {
            return None;
        }
        spec.holder_identity = None;
        api.replace(&opts.name, &PostParams::default(), &lease)
            .await
            .ok()
    };
    if tokio::time::timeout(opts.target.timeouts.action_deadline(), give_up)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        tracing::debug!("the Lease was not released (it expires by itself)");
    }
}
