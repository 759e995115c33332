//! Arguments of `shipdeck guard` (issue 20).

use clap::Args;

#[derive(Debug, Args)]
#[command(after_help = "\
Runs until SIGTERM or ctrl-c. Guards the environments with `auto_rollback: true`; the
inventory's `guard:` section names the Lease (several replicas: one acts) and the port of
/healthz, /readyz and /metrics. Without a kubeconfig it uses the pod's service account.")]
pub struct GuardArgs {
    /// Say what it would roll back, and write nothing (no git, no cluster, no journal, no card).
    #[arg(long)]
    pub dry_run: bool,
    /// This replica's name in the Lease (default: the host name and process id).
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Serve health and metrics here instead of `guard.listen` (e.g. 127.0.0.1:9090).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}
