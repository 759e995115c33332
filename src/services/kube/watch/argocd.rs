//! One Argo CD location's watch: the Applications of the environments it serves.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::services::kube::client::Target as KubeTarget;
use crate::services::kube::model::{AppProject, Application};
use crate::services::kube::syncwindow::{Target, matching};
use crate::services::kube::{ArgoApp, FeedId, LiveEvent};

use super::{connect, drive, watch};

/// Where one environment's Argo CD Applications live.
#[derive(Debug, Clone)]
pub struct ArgoSpec {
    pub env: String,
    pub target: KubeTarget,
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
    // The projects' sync windows decide whether a sync (ours or auto-sync's) may run now.
    let (projects, s1) = watch::<AppProject>(&client, &spec.namespace, None, 1);
    let env = spec.env.clone();
    drive(
        futures::stream::select_all([s0, s1]),
        2,
        feed,
        tx,
        || {
            let all = apps.state();
            let projects = projects.state();
            spec.apps
                .iter()
                .map(|(app, name)| {
                    let found = all
                        .iter()
                        .find(|a| a.metadata.name.as_deref() == Some(name.as_str()))
                        .map(|a| argo_app(name, a, &projects));
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

/// The Application as the panels read it, with the windows of its project that name it.
fn argo_app(name: &str, a: &Application, projects: &[Arc<AppProject>]) -> ArgoApp {
    let op = a.status.operation_state.as_ref();
    let project = if a.spec.project.is_empty() {
        "default"
    } else {
        a.spec.project.as_str()
    };
    let dest = &a.spec.destination;
    let target = Target {
        application: name,
        namespace: &dest.namespace,
        server: &dest.server,
        cluster_name: &dest.name,
    };
    let windows = projects
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(project))
        .map(|p| {
            matching(&p.spec.sync_windows, target)
                .into_iter()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    ArgoApp {
        name: name.to_owned(),
        sync: a.status.sync.status.clone(),
        health: a.status.health.status.clone(),
        revision: a.status.sync.revision.clone(),
        images: a.status.summary.images.clone(),
        operation: op.map(|o| o.phase.clone()),
        operation_started: op.map(|o| o.started_at.clone()),
        operation_message: op.map(|o| o.message.clone()),
        operation_finished: op.map(|o| o.finished_at.clone()).filter(|f| !f.is_empty()),
        resources: op
            .and_then(|o| o.sync_result.as_ref())
            .map(|r| r.resources.clone())
            .unwrap_or_default(),
        operation_requested: a.operation.is_some(),
        refresh: a
            .metadata
            .annotations
            .as_ref()
            .and_then(|m| m.get(crate::services::kube::argocd::REFRESH_ANNOTATION))
            .cloned(),
        auto_sync: a.spec.sync_policy.as_ref().and_then(|p| p.automated),
        windows,
    }
}
