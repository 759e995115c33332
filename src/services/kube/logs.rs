//! Pod logs of a Rollout's canary or stable side: the pods are those of the ReplicaSet whose
//! `rollouts-pod-template-hash` the Rollout names (`status.currentPodHash` for the canary,
//! `status.stableRS` for stable), read through the API server's `pods/{name}/log` (kube-rs'
//! log stream), each line prefixed with its pod.

use futures::{AsyncBufReadExt as _, StreamExt as _};
use kube::api::{ListParams, LogParams};
use kube::{Api, Client};
use serde::Serialize;

use super::actions::RolloutRef;
use super::client::describe;
use super::model::{Pod, Rollout};
use super::{KubeError, Result};

/// Which side of the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Canary,
    Stable,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Canary => "canary",
            Role::Stable => "stable",
        }
    }
}

/// The pods of one side, and their containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub role: Role,
    /// The pod-template-hash the pods carry.
    pub hash: String,
    /// `(pod, containers)`, by name.
    pub pods: Vec<(String, Vec<String>)>,
}

/// Finds the pods of `role`. With no canary in flight the canary side has no pods of its own
/// (the Rollout's current hash is the stable one): that is refused, saying so, rather than
/// showing the stable pods twice.
pub async fn side(client: &Client, r: &RolloutRef, role: Role) -> Result<Side> {
    let rollouts: Api<Rollout> = Api::namespaced(client.clone(), &r.namespace);
    let ro = rollouts.get(&r.rollout).await.map_err(|e| describe(&e))?;
    let hash = match role {
        Role::Canary => ro.status.current_pod_hash.clone(),
        Role::Stable => ro.status.stable_rs.clone(),
    };
    if role == Role::Canary && !hash.is_empty() && hash == ro.status.stable_rs {
        return Err(KubeError::Refused(format!(
            "no canary in flight: rollout {}/{} runs one ReplicaSet (hash {hash}), its stable pods",
            r.namespace, r.rollout
        )));
    }
    if hash.is_empty() {
        return Err(KubeError::Refused(format!(
            "rollout {}/{} names no {} ReplicaSet yet",
            r.namespace,
            r.rollout,
            role.name()
        )));
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &r.namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("rollouts-pod-template-hash={hash}")))
        .await
        .map_err(|e| describe(&e))?;
    let mut out: Vec<(String, Vec<String>)> = list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            (
                p.metadata.name.clone().unwrap_or_default(),
                p.spec.containers.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .collect();
    out.sort();
    Ok(Side {
        role,
        hash,
        pods: out,
    })
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogOpts {
    pub follow: bool,
    pub tail: Option<i64>,
    pub container: Option<String>,
}

/// Reads one pod's log line by line into `sink` (`pod: line`), until it ends (a pod that
/// goes away ends its stream; following, the caller looks for the new pods).
pub async fn read_pod(
    client: &Client,
    namespace: &str,
    pod: &str,
    opts: &LogOpts,
    mut sink: impl FnMut(String) -> bool,
) -> Result<()> {
    // The log subresource is typed on the full Pod; nothing of it is decoded here.
    let api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let params = LogParams {
        follow: opts.follow,
        tail_lines: opts.tail,
        container: opts.container.clone(),
        ..LogParams::default()
    };
    let stream = api
        .log_stream(pod, &params)
        .await
        .map_err(|e| describe(&e))?;
    let mut lines = stream.lines();
    while let Some(line) = lines.next().await {
        match line {
            Ok(l) => {
                if !sink(format!("{pod}: {l}")) {
                    break;
                }
            }
            Err(e) => {
                return Err(KubeError::Api(format!("log of pod {namespace}/{pod}: {e}")));
            }
        }
    }
    Ok(())
}

/// What a followed side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideEvent {
    /// Reading these pods now; the containers their first one has.
    Pods {
        pods: Vec<String>,
        containers: Vec<String>,
    },
    /// A line (`pod: text`).
    Line(String),
    /// Something is wrong (no pods yet, a request failed); it keeps trying.
    Problem(String),
}

/// Follows the side's pods until `cancel` fires: each pod's stream, and when they have all
/// ended (the pods were replaced: a new canary, a restart) the side is read again, so the new
/// pods are followed. Every event goes to `sink`; a `false` from it stops the follow.
pub async fn follow_side(
    client: Client,
    r: RolloutRef,
    role: Role,
    opts: LogOpts,
    cancel: tokio_util::sync::CancellationToken,
    sink: impl Fn(SideEvent) -> bool + Send + Sync + Clone + 'static,
) {
    let opts = LogOpts {
        follow: true,
        ..opts
    };
    let mut first = true;
    while !cancel.is_cancelled() {
        match side(&client, &r, role).await {
            Err(e) => {
                if !sink(SideEvent::Problem(e.to_string())) {
                    return;
                }
            }
            Ok(s) if s.pods.is_empty() => {
                if !sink(SideEvent::Problem(format!(
                    "no {} pods yet (hash {})",
                    role.name(),
                    s.hash
                ))) {
                    return;
                }
            }
            Ok(s) => {
                let pods = s.pods.iter().map(|(p, _)| p.clone()).collect();
                let containers = s.pods.first().map(|(_, c)| c.clone()).unwrap_or_default();
                if !sink(SideEvent::Pods { pods, containers }) {
                    return;
                }
                // A reconnect starts at the new pods' first lines, not their last N.
                let opts = if first {
                    opts.clone()
                } else {
                    LogOpts {
                        tail: None,
                        ..opts.clone()
                    }
                };
                first = false;
                let readers = s.pods.iter().map(|(pod, containers)| {
                    let mut o = opts.clone();
                    // The first container unless one was chosen (the view can switch).
                    if o.container.is_none() && containers.len() > 1 {
                        o.container = containers.first().cloned();
                    }
                    let (client, ns, pod, sink) = (
                        client.clone(),
                        r.namespace.clone(),
                        pod.clone(),
                        sink.clone(),
                    );
                    async move {
                        let sink2 = sink.clone();
                        if let Err(e) =
                            read_pod(&client, &ns, &pod, &o, move |l| sink2(SideEvent::Line(l)))
                                .await
                        {
                            sink(SideEvent::Problem(e.to_string()));
                        }
                    }
                });
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = futures::future::join_all(readers) => {}
                }
            }
        }
        // Before reading the side again: a moment, so a pod being replaced has a successor.
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
    }
}
