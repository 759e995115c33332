//! The guard's SLO trigger: a canary in flight whose SLO (the app's `slo:` queries, read from
//! the inventory's `prometheus:`) is breached on `guard.slo_breaches` reads in a row is rolled
//! back as if its analysis had failed, before the analysis step is even reached. One breach
//! is noise; a streak is a bad build. Read by the leader only, every `guard.slo_every_secs`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::inventory::{EventKind, Inventory};
use crate::services::kube::{RolloutInfo, image_tag};
use crate::services::prometheus::SloService;

use super::detect::Failure;

/// A canary the SLO reads watch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Canary {
    /// The same key the analysis trigger gives this revision: one rollback per revision,
    /// whichever trigger sees it first.
    key: String,
    tag: String,
    namespace: String,
}

/// The SLO reads of the guarded canaries.
pub struct SloWatch {
    service: SloService,
    needed: u32,
    pub every: Duration,
    canaries: BTreeMap<(String, String), Canary>,
    /// Breached reads in a row, per canary key.
    streak: HashMap<String, u32>,
}

impl SloWatch {
    /// `None` without a `prometheus:` section (or with `guard.slo_breaches: 0`).
    pub fn from_inventory(inv: &Inventory) -> Option<SloWatch> {
        inv.prometheus.as_ref()?;
        let cfg = inv.guard.clone().unwrap_or_default();
        if cfg.slo_breaches == 0 {
            return None;
        }
        let service = match SloService::from_inventory(inv, None) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "guard: no SLO reads");
                return None;
            }
        };
        Some(SloWatch {
            service,
            needed: cfg.slo_breaches,
            every: Duration::from_secs(cfg.slo_every_secs.max(1)),
            canaries: BTreeMap::new(),
            streak: HashMap::new(),
        })
    }

    /// Takes in one namespace's rollouts of `env`: which canaries are in flight now (an
    /// aborted or Degraded one is the analysis trigger's).
    pub fn note(
        &mut self,
        inv: &Inventory,
        env: &str,
        rollouts: &BTreeMap<String, Option<RolloutInfo>>,
    ) {
        for (app, ro) in rollouts {
            let k = (app.clone(), env.to_owned());
            match ro.as_ref().and_then(|r| in_flight(inv, app, env, r)) {
                Some(c) => {
                    self.canaries.insert(k, c);
                }
                None => {
                    if let Some(gone) = self.canaries.remove(&k) {
                        self.streak.remove(&gone.key);
                    }
                }
            }
        }
    }

    /// Reads every canary's SLO once; returns those breached on enough reads in a row.
    pub async fn read(&mut self, inv: &Inventory) -> Vec<Failure> {
        let mut out = Vec::new();
        for ((app, env), c) in &self.canaries {
            let Some(slo) = inv.apps.get(app).map(crate::inventory::App::slo) else {
                continue;
            };
            let breaches = match self.service.read(app, env, &c.namespace, &slo, None).await {
                // The stable's numbers are the baseline, not the build's: only the canary's
                // breaches count against it.
                Ok(r) => r
                    .breaches()
                    .into_iter()
                    .filter(|b| b.starts_with("canary "))
                    .collect::<Vec<_>>(),
                Err(e) => {
                    // No read is no evidence: the streak neither grows nor ends.
                    tracing::warn!(app = %app, env = %env, error = %e, "guard: SLO read failed");
                    continue;
                }
            };
            let streak = self.streak.entry(c.key.clone()).or_insert(0);
            if breaches.is_empty() {
                *streak = 0;
                continue;
            }
            *streak += 1;
            tracing::info!(app = %app, env = %env, streak = *streak, breaches = ?breaches, "guard: canary SLO breached");
            if *streak >= self.needed {
                out.push(Failure {
                    key: c.key.clone(),
                    app: app.clone(),
                    env: env.clone(),
                    tag: c.tag.clone(),
                    kind: EventKind::Degraded,
                    analysis: format!(
                        "SLO breached on {} reads in a row: {}",
                        *streak,
                        breaches.join(", ")
                    ),
                    slo: true,
                });
            }
        }
        out
    }
}

/// The canary `ro` has in flight (not aborted, not Degraded), if any.
fn in_flight(inv: &Inventory, app: &str, env: &str, ro: &RolloutInfo) -> Option<Canary> {
    if ro.aborted || ro.status == "Degraded" || ro.fully_promoted {
        return None;
    }
    let canary = ro.canary_rs().filter(|c| !c.stable)?;
    let tag = canary.images.first().and_then(|i| image_tag(i))?.to_owned();
    Some(Canary {
        key: format!("{}/{}/{tag}", ro.uid, canary.pod_hash),
        tag,
        namespace: inv.namespace_of(app, env),
    })
}
