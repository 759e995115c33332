//! The inventory's `guard:` section: how the replicas of `shipdeck guard` elect the one that
//! acts (a `coordination.k8s.io/v1` Lease) and where its health and metrics are served. Which
//! environments it rolls back is each environment's `auto_rollback`.

use serde::Deserialize;

/// Leader election and the health port of `shipdeck guard`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Namespace of the Lease (where the guard's Deployment runs). Default `shipdeck`.
    #[serde(default = "default_lease_namespace")]
    pub lease_namespace: String,
    /// Name of the Lease. Default `shipdeck-guard`.
    #[serde(default = "default_lease_name")]
    pub lease_name: String,
    /// kubeconfig context of the Lease's cluster (default: the current one, or in-cluster).
    #[serde(default)]
    pub kube_context: Option<String>,
    /// A leader that has not renewed for this long has lost the lease. Seconds; default 15.
    #[serde(default = "default_lease_duration")]
    pub lease_duration_secs: u64,
    /// How often the leader renews and a follower looks at the Lease. Seconds; default 5
    /// (must be shorter than the lease duration).
    #[serde(default = "default_renew")]
    pub renew_secs: u64,
    /// Where `/healthz`, `/readyz` and `/metrics` are served. Default `0.0.0.0:8080`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// With a `prometheus:` section: a canary whose SLO is breached on this many reads in a
    /// row is rolled back (0: the SLO does not trigger). Default 3.
    #[serde(default = "default_slo_breaches")]
    pub slo_breaches: u32,
    /// Seconds between the SLO reads of the canaries in flight. Default 15.
    #[serde(default = "default_slo_every")]
    pub slo_every_secs: u64,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            lease_namespace: default_lease_namespace(),
            lease_name: default_lease_name(),
            kube_context: None,
            lease_duration_secs: default_lease_duration(),
            renew_secs: default_renew(),
            listen: default_listen(),
            slo_breaches: default_slo_breaches(),
            slo_every_secs: default_slo_every(),
        }
    }
}

fn default_slo_breaches() -> u32 {
    3
}

fn default_slo_every() -> u64 {
    15
}

fn default_lease_namespace() -> String {
    "shipdeck".to_owned()
}

fn default_lease_name() -> String {
    "shipdeck-guard".to_owned()
}

fn default_lease_duration() -> u64 {
    15
}

fn default_renew() -> u64 {
    5
}

fn default_listen() -> String {
    "0.0.0.0:8080".to_owned()
}

/// Problems of a `guard:` section, as (key, what is wrong, how to fix it).
pub(super) fn problems(g: &GuardConfig) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if g.lease_duration_secs == 0 || g.renew_secs == 0 || g.renew_secs >= g.lease_duration_secs {
        out.push((
            "guard.renew_secs",
            format!(
                "renew_secs ({}) must be at least 1 and shorter than lease_duration_secs ({})",
                g.renew_secs, g.lease_duration_secs
            ),
            "renew a few times per lease, e.g. lease_duration_secs: 15, renew_secs: 5".to_owned(),
        ));
    }
    if g.listen.parse::<std::net::SocketAddr>().is_err() {
        out.push((
            "guard.listen",
            format!("listen `{}` is not an address and port", g.listen),
            "give an IP and port, e.g. 0.0.0.0:8080".to_owned(),
        ));
    }
    out
}
