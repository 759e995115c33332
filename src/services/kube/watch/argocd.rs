//! One Argo CD location's watch: the Applications of the environments it serves.

use std::collections::BTreeMap;
use std::fmt::Debug;

use tokio::sync::mpsc::UnboundedSender;

use crate::services::kube::client::Target;
use crate::services::kube::model::Application;
use crate::services::kube::{ArgoApp, FeedId, LiveEvent};

use super::{connect, drive, watch};

/// Where one environment's Argo CD Applications live.
#[derive(Debug, Clone)]
pub struct ArgoSpec {
    pub env: String,
    pub target: Target,
    pub namespace: String,
    /// app name → Application name.
    pub apps: Vec<(String, String)>,
}

/// Watches one environment's Argo CD Applications.
pub async fn run_argocd(spec: ArgoSpec, tx: UnboundedSender<LiveEvent>) {
    let feed = FeedId::ArgoCd(spec.env.clone());
    let Some(client) = connect(&spec.target, &feed, &tx).await else {
        return;
    };
    let (apps, s0) = watch::<Application>(&client, &spec.namespace, None, 0);
    let env = spec.env.clone();
    drive(
        futures::stream::select_all([s0]),
        1,
        feed,
        tx,
        || {
            let all = apps.state();
            spec.apps
                .iter()
                .map(|(app, name)| {
                    let found = all
                        .iter()
                        .find(|a| a.metadata.name.as_deref() == Some(name.as_str()))
                        .map(|a| ArgoApp {
                            name: name.clone(),
                            sync: a.status.sync.status.clone(),
                            health: a.status.health.status.clone(),
                            revision: a.status.sync.revision.clone(),
                            images: a.status.summary.images.clone(),
                            operation: a.status.operation_state.as_ref().map(|o| o.phase.clone()),
                            operation_started: a
                                .status
                                .operation_state
                                .as_ref()
                                .map(|o| o.started_at.clone()),
                            operation_message: a
                                .status
                                .operation_state
                                .as_ref()
                                .map(|o| o.message.clone()),
                        });
                    (app.clone(), found)
                })
                .collect::<BTreeMap<_, _>>()
        },
        |apps| LiveEvent::ArgoCd {
            env: env.clone(),
            apps,
        },
    )
    .await;
}
