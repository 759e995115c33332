//! One environment's migration Jobs, watched (never polled) by the inventory's labels.

use k8s_openapi::api::batch::v1::Job;
use tokio::sync::mpsc::UnboundedSender;

use crate::inventory::MigrationsConfig;
use crate::services::kube::client::Target;
use crate::services::kube::migrations::{from_job, selector};
use crate::services::kube::{FeedId, LiveEvent};

use super::{connect, drive, watch};

/// What one environment's migration watch needs.
#[derive(Debug, Clone)]
pub struct MigrationSpec {
    pub env: String,
    pub target: Target,
    pub namespace: String,
    pub cfg: MigrationsConfig,
}

/// Watches the Jobs carrying both labels in the env's namespace.
pub async fn run_migrations(spec: MigrationSpec, tx: UnboundedSender<LiveEvent>) {
    let feed = FeedId::Migrations(spec.env.clone());
    let Some(client) = connect(&spec.target, &feed, &tx).await else {
        return;
    };
    let labels = selector(&spec.cfg, None);
    let (jobs, s0) = watch::<Job>(&client, &spec.namespace, Some(&labels), 0);
    let (env, cfg) = (spec.env.clone(), spec.cfg.clone());
    drive(
        futures::stream::select_all([s0]),
        1,
        feed,
        tx,
        || {
            let mut all: Vec<_> = jobs
                .state()
                .iter()
                .filter_map(|j| from_job(&cfg, j))
                .filter(|j| cfg.covers(&j.app))
                .collect();
            all.sort_by(|a, b| (&a.app, a.started, &a.name).cmp(&(&b.app, b.started, &b.name)));
            all
        },
        |jobs| LiveEvent::Migrations {
            env: env.clone(),
            jobs,
        },
    )
    .await;
}
