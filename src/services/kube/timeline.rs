//! The event timeline's cluster side: Kubernetes Events of one namespace, watched (kube-runtime
//! watcher + reflector store) and reduced to the few fields the timeline shows. events.k8s.io/v1
//! is preferred; a server that does not serve it (404 on the first list) is read through core/v1.

use std::fmt::Debug;

use futures::StreamExt;
use kube::api::ListParams;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event as EventsV1;

use super::client::{Target, error_line, watch_error_line};
use crate::inventory::Inventory;

/// One Kubernetes Event as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterEvent {
    /// When it last happened (series/last timestamp, else event time, else creation).
    pub time: Option<jiff::Timestamp>,
    /// `Normal` or `Warning`.
    pub kind: String,
    /// The object it is about (`regarding` / `involvedObject`).
    pub object_kind: String,
    pub object_name: String,
    pub reason: String,
    pub message: String,
    /// Its object name and namespace (the identity of the event itself, for de-duplication).
    pub uid: String,
}

/// Which objects of the namespace belong to one app × env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub rollout: String,
    pub application: String,
}

impl Scope {
    /// Whether the event is about the app's Rollout, its ReplicaSets, Pods, AnalysisRuns, or its
    /// Argo CD Application. The owned kinds match by the name prefix `<rollout>-`, not by the
    /// names in the live RolloutInfo: the controllers name them so (`<rollout>-<hash>`,
    /// `<rollout>-<hash>-<suffix>`), and an event outlives its object (a deleted pod's events
    /// still belong to the story the timeline tells), which a live name list would drop.
    pub fn matches(&self, ev: &ClusterEvent) -> bool {
        let prefixed = || {
            ev.object_name
                .strip_prefix(self.rollout.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
        };
        match ev.object_kind.as_str() {
            "Rollout" => ev.object_name == self.rollout,
            "Application" => ev.object_name == self.application,
            "ReplicaSet" | "Pod" | "AnalysisRun" => prefixed(),
            _ => false,
        }
    }
}

/// Where one source of the timeline is read: `cluster` (the env's namespace) or `argocd`.
#[derive(Debug, Clone)]
pub struct Watched {
    pub source: &'static str,
    pub target: Target,
    pub namespace: String,
}

/// The scope and the namespaces of `app` in `env` (the Argo CD namespace is the env's
/// `argocd.namespace`, default `argocd`), or the inventory's refusal in words.
///
/// # Errors
/// An unknown app or env.
pub fn plan(inv: &Inventory, app: &str, env: &str) -> Result<(Scope, Vec<Watched>), String> {
    let a = inv.app(app).map_err(|e| e.to_string())?;
    let e = inv.env(env).map_err(|e| e.to_string())?;
    let scope = Scope {
        rollout: a.rollout_name(app).to_owned(),
        application: a.argocd_application_name(app, env),
    };
    let (argo_ctx, argo_ns) = match &e.argocd {
        Some(r) => (
            r.kube_context.as_deref().or(e.kube_context.as_deref()),
            r.namespace.clone(),
        ),
        None => (e.kube_context.as_deref(), "argocd".to_owned()),
    };
    let watched = vec![
        Watched {
            source: "cluster",
            target: Target::from_inventory(inv, e.kube_context.as_deref()),
            namespace: a.namespace_in(app, env, &e.namespace),
        },
        Watched {
            source: "argocd",
            target: Target::from_inventory(inv, argo_ctx),
            namespace: argo_ns,
        },
    ];
    Ok((scope, watched))
}

fn from_v1(e: &EventsV1) -> ClusterEvent {
    let time = e
        .series
        .as_ref()
        .map(|s| s.last_observed_time.0)
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.deprecated_last_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let regarding = e.regarding.clone().unwrap_or_default();
    ClusterEvent {
        time,
        kind: e.type_.clone().unwrap_or_else(|| "Normal".to_owned()),
        object_kind: regarding.kind.unwrap_or_default(),
        object_name: regarding.name.unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.note.clone().unwrap_or_default(),
        uid: e.metadata.name.clone().unwrap_or_default(),
    }
}

fn from_core(e: &CoreEvent) -> ClusterEvent {
    let time = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    ClusterEvent {
        time,
        kind: e.type_.clone().unwrap_or_else(|| "Normal".to_owned()),
        object_kind: e.involved_object.kind.clone().unwrap_or_default(),
        object_name: e.involved_object.name.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        uid: e.metadata.name.clone().unwrap_or_default(),
    }
}

/// Whether the server serves events.k8s.io/v1 in `ns`: a 404 on a one-item list says no.
async fn serves_v1(client: &Client, ns: &str) -> Result<bool, String> {
    let api: Api<EventsV1> = Api::namespaced(client.clone(), ns);
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(error_line(&e)),
    }
}

/// Every event of `ns` in scope, once (the headless `shipdeck events`).
///
/// # Errors
/// The list's failure, in words.
pub async fn list(client: &Client, ns: &str, scope: &Scope) -> Result<Vec<ClusterEvent>, String> {
    let all: Vec<ClusterEvent> = if serves_v1(client, ns).await? {
        let api: Api<EventsV1> = Api::namespaced(client.clone(), ns);
        let l = api
            .list(&ListParams::default())
            .await
            .map_err(|e| error_line(&e))?;
        l.items.iter().map(from_v1).collect()
    } else {
        let api: Api<CoreEvent> = Api::namespaced(client.clone(), ns);
        let l = api
            .list(&ListParams::default())
            .await
            .map_err(|e| error_line(&e))?;
        l.items.iter().map(from_core).collect()
    };
    Ok(all.into_iter().filter(|e| scope.matches(e)).collect())
}

/// Watches the events of `ns` until the task is aborted, calling `send` with every in-scope
/// event after each change (a snapshot, so a missed message never leaves a gap), or with why the
/// watch failed (it retries with the watcher's backoff; the last rows stay, marked stale).
/// Returns when `send` says the receiver is gone.
pub async fn watch(
    client: Client,
    ns: String,
    scope: Scope,
    send: impl Fn(Result<Vec<ClusterEvent>, String>) -> bool,
) {
    let v1 = loop {
        match serves_v1(&client, &ns).await {
            Ok(v1) => break v1,
            Err(e) => {
                if !send(Err(e)) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }
    };
    if v1 {
        run::<EventsV1>(client, &ns, &scope, from_v1, send).await;
    } else {
        run::<CoreEvent>(client, &ns, &scope, from_core, send).await;
    }
}

async fn run<K>(
    client: Client,
    ns: &str,
    scope: &Scope,
    convert: fn(&K) -> ClusterEvent,
    send: impl Fn(Result<Vec<ClusterEvent>, String>) -> bool,
) where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::namespaced(client, ns);
    let (reader, writer): (Store<K>, _) = reflector::store();
    // The cockpit's reconnect pacing (short, capped, a fresh list after an error), as every
    // other watch has it.
    let start = move || {
        watcher(api.clone(), watcher::Config::default())
            .modify(|o: &mut K| o.meta_mut().managed_fields = None)
            .boxed()
    };
    let mut stream = super::watch::pace::pace(start).reflect(writer).boxed();
    let mut listed = false;
    while let Some(ev) = stream.next().await {
        let report = match ev {
            Ok(watcher::Event::InitDone) => {
                listed = true;
                true
            }
            // During the initial list the store is incomplete: wait for InitDone.
            Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => false,
            Ok(_) => listed,
            Err(e) => {
                if !send(Err(watch_error_line(&e))) {
                    return;
                }
                false
            }
        };
        if report {
            let rows: Vec<ClusterEvent> = reader
                .state()
                .iter()
                .map(|k| convert(k))
                .filter(|e| scope.matches(e))
                .collect();
            if !send(Ok(rows)) {
                return;
            }
        }
    }
}
