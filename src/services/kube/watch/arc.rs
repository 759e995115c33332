//! The runners' watch: which ARC modes the cluster serves (scale sets, legacy), then their
//! runner objects and pods.

use std::fmt::Debug;

use kube::Client;
use tokio::sync::mpsc::UnboundedSender;

use crate::services::kube::client::Target;
use crate::services::kube::model::{
    AutoscalingRunnerSet, EphemeralRunner, HorizontalRunnerAutoscaler, LEGACY_RUNNER_POD_LABEL,
    LegacyRunner, Pod, RunnerDeployment,
};
use crate::services::kube::{Conn, FeedId, LiveEvent, RunnerMode, ScaleSetInfo, runners};

use super::{connect, drive, empty, refs, watch};

/// Whether the cluster serves an API group/version: `None` when the server could not be asked.
pub(super) async fn served(client: &Client, group_version: &str) -> Result<bool, String> {
    match client.list_api_group_resources(group_version).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(crate::services::kube::client::error_line(&e)),
    }
}

/// Which ARC modes the cluster serves, asking again on the reconnect schedule while the
/// server is down.
pub(super) async fn runner_modes(
    client: &Client,
    feed: &FeedId,
    tx: &UnboundedSender<LiveEvent>,
) -> Option<Vec<RunnerMode>> {
    let mut retry = 0u32;
    loop {
        let asked = futures::future::join(
            served(client, "actions.github.com/v1alpha1"),
            served(client, "actions.summerwind.dev/v1alpha1"),
        )
        .await;
        match asked {
            (Ok(scale_set), Ok(legacy)) => {
                let mut modes = Vec::new();
                if scale_set {
                    modes.push(RunnerMode::ScaleSet);
                }
                if legacy {
                    modes.push(RunnerMode::Legacy);
                }
                return Some(modes);
            }
            (Err(error), _) | (_, Err(error)) => {
                let conn = Conn::Stale {
                    since: jiff::Timestamp::now(),
                    error,
                };
                let ev = LiveEvent::Connection {
                    feed: feed.clone(),
                    conn,
                };
                if tx.send(ev).is_err() {
                    return None;
                }
                retry = retry.saturating_add(1);
                tokio::time::sleep(super::pace::RECONNECT.delay(retry)).await;
            }
        }
    }
}

/// The inventory's runner names per mode (empty: all in the namespace).
#[derive(Debug, Clone, Default)]
pub struct RunnerNames {
    pub scale_sets: Vec<String>,
    pub runner_deployments: Vec<String>,
}

/// Watches the ARC runner namespace: scale sets, EphemeralRunners and their pods; and, where the
/// cluster still serves the legacy API, RunnerDeployments, their autoscalers, Runners and pods.
/// An API the cluster does not serve is not watched (a watch on it would only ever fail).
pub async fn run_runners(
    target: Target,
    namespace: String,
    only: RunnerNames,
    tx: UnboundedSender<LiveEvent>,
) {
    let feed = FeedId::Runners;
    let Some(client) = connect(&target, &feed, &tx).await else {
        return;
    };
    let Some(modes) = runner_modes(&client, &feed, &tx).await else {
        return;
    };
    let mut streams = Vec::new();
    let has = |m| modes.contains(&m);
    let (sets, ers, pods) = if has(RunnerMode::ScaleSet) {
        let (a, s0) = watch::<AutoscalingRunnerSet>(&client, &namespace, None, streams.len());
        streams.push(s0);
        let (b, s1) = watch::<EphemeralRunner>(&client, &namespace, None, streams.len());
        streams.push(s1);
        let (c, s2) = watch::<Pod>(
            &client,
            &namespace,
            Some("app.kubernetes.io/component=runner"),
            streams.len(),
        );
        streams.push(s2);
        (a, b, c)
    } else {
        (empty(), empty(), empty())
    };
    let (deployments, autoscalers, legacy, legacy_pods) = if has(RunnerMode::Legacy) {
        let (a, s0) = watch::<RunnerDeployment>(&client, &namespace, None, streams.len());
        streams.push(s0);
        let (b, s1) = watch::<HorizontalRunnerAutoscaler>(&client, &namespace, None, streams.len());
        streams.push(s1);
        let (c, s2) = watch::<LegacyRunner>(&client, &namespace, None, streams.len());
        streams.push(s2);
        let (d, s3) = watch::<Pod>(
            &client,
            &namespace,
            Some(LEGACY_RUNNER_POD_LABEL),
            streams.len(),
        );
        streams.push(s3);
        (a, b, c, d)
    } else {
        (empty(), empty(), empty(), empty())
    };
    let count = streams.len();
    if count == 0 {
        // Nothing to watch: say so once, and keep the task (and its feed) alive.
        let _ = tx.send(LiveEvent::Runners {
            served: modes,
            sets: Vec::new(),
        });
        return;
    }
    drive(
        futures::stream::select_all(streams),
        count,
        feed,
        tx,
        || -> Vec<ScaleSetInfo> {
            let (set_objs, er_objs, pod_objs) = (sets.state(), ers.state(), pods.state());
            let mut out = runners::scale_sets(
                &refs(&set_objs),
                &refs(&er_objs),
                &refs(&pod_objs),
                &only.scale_sets,
            );
            let (dep_objs, hra_objs, runner_objs, lpod_objs) = (
                deployments.state(),
                autoscalers.state(),
                legacy.state(),
                legacy_pods.state(),
            );
            out.extend(runners::runner_deployments(
                &refs(&dep_objs),
                &refs(&hra_objs),
                &refs(&runner_objs),
                &refs(&lpod_objs),
                &only.runner_deployments,
            ));
            out
        },
        move |sets| LiveEvent::Runners {
            served: modes.clone(),
            sets,
        },
    )
    .await;
}
