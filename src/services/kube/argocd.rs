//! Argo CD through its Application resource alone (no Argo CD API server, no login): refresh
//! by annotation, sync by writing `operation`, terminate by setting the operation's phase, as
//! Argo CD's own server does (`SetAppOperation`, `TerminateOperation`), each after a
//! SelfSubjectAccessReview for `patch applications`. Followed by a watch on the one object.

use std::time::Duration;

use futures::StreamExt as _;
use kube::api::Patch;
use kube::runtime::watcher;
use kube::{Api, Client};
use serde::Serialize;
use serde_json::{Value, json};

use super::client::{Target, describe, patch_params};
use super::model::Application;
use super::{KubeError, Result};
use crate::inventory::Inventory;

/// The annotation the application controller removes once it has refreshed.
pub const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/refresh";

/// How many times a write is tried again when the object changed under it (409).
const CONFLICT_ATTEMPTS: usize = 5;

/// Where an env's Application of an app lives.
#[derive(Debug, Clone)]
pub struct AppRef {
    pub target: Target,
    pub namespace: String,
    pub name: String,
}

impl AppRef {
    /// The Application of `app` in `env`, from the inventory.
    pub fn from_inventory(inv: &Inventory, app: &str, env: &str) -> Result<AppRef> {
        let (a, e, target) = super::client::app_env(inv, app, env)?;
        Ok(AppRef {
            target,
            namespace: e
                .argocd
                .as_ref()
                .map_or_else(|| "argocd".to_owned(), |a| a.namespace.clone()),
            name: a.argocd_application_name(app, env),
        })
    }

    fn api(&self, client: &Client) -> Api<Application> {
        Api::namespaced(client.clone(), &self.namespace)
    }

    fn label(&self) -> String {
        format!("application {}/{}", self.namespace, self.name)
    }
}

/// What a sync asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncSpec {
    /// A commit, branch or tag; `None`: the Application's `targetRevision`.
    pub revision: Option<String>,
    pub prune: bool,
    /// `Validate=false`, `ApplyOutOfSyncOnly=true`, …
    pub sync_options: Vec<String>,
    /// Who asks (Argo CD takes the username as written: our journal is the record).
    pub actor: String,
    pub reason: Option<String>,
}

/// The end of a followed operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OperationEnd {
    pub phase: String,
    pub message: String,
    pub revision: String,
    /// `Kind namespace/name: status (message)` per resource.
    pub resources: Vec<String>,
}

impl OperationEnd {
    pub fn succeeded(&self) -> bool {
        self.phase == "Succeeded"
    }
}

/// Whether this identity may patch Applications where `r` lives.
pub async fn can_patch(client: &Client, r: &AppRef) -> Result<bool> {
    super::actions::can(
        client,
        "argoproj.io",
        "applications",
        None,
        "patch",
        &r.namespace,
    )
    .await
}

async fn checked_client(r: &AppRef, what: &str) -> Result<Client> {
    let client = super::client::request_client(&r.target).await?;
    // A review that cannot be made (older server) is not a refusal: the patch itself will tell.
    if matches!(can_patch(&client, r).await, Ok(false)) {
        return Err(KubeError::Forbidden(format!(
            "{what} on {} is not allowed for this identity ({}): SelfSubjectAccessReview denied patch on applications.argoproj.io",
            r.label(),
            r.target.label()
        )));
    }
    Ok(client)
}

fn forbidden(r: &AppRef, what: &str, e: KubeError) -> KubeError {
    match e {
        KubeError::Forbidden(m) => KubeError::Forbidden(format!(
            "{what} on {} is not allowed for this identity ({}): {m}",
            r.label(),
            r.target.label()
        )),
        KubeError::NotFound(_) => {
            KubeError::NotFound(format!("{} (is the app deployed there?)", r.label()))
        }
        other => other,
    }
}

/// Sets the refresh annotation (`hard` also drops Argo CD's manifest cache). Returns the client
/// to follow it with.
pub async fn refresh(r: &AppRef, hard: bool) -> Result<Client> {
    let client = checked_client(r, "refresh").await?;
    let kind = if hard { "hard" } else { "normal" };
    let body = json!({"metadata": {"annotations": {REFRESH_ANNOTATION: kind}}});
    r.api(&client)
        .patch(&r.name, &patch_params(), &Patch::Merge(&body))
        .await
        .map_err(|e| forbidden(r, "refresh", describe(&e)))?;
    Ok(client)
}

/// The `operation` a sync writes.
pub fn sync_operation(spec: &SyncSpec) -> Value {
    let mut sync = json!({"prune": spec.prune});
    if let Some(rev) = &spec.revision {
        sync["revision"] = json!(rev);
    }
    if !spec.sync_options.is_empty() {
        sync["syncOptions"] = json!(spec.sync_options);
    }
    let mut op = json!({
        "initiatedBy": {"username": spec.actor},
        "sync": sync,
    });
    if let Some(reason) = spec.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        op["info"] = json!([{"name": "Reason", "value": reason}]);
    }
    op
}

/// Writes the sync operation unless one is already asked for, conditional on the object not
/// having changed since it was read (a 409 reads it again, a bounded number of times).
pub async fn sync(r: &AppRef, spec: &SyncSpec) -> Result<Client> {
    let client = checked_client(r, "sync").await?;
    let api = r.api(&client);
    for _ in 0..CONFLICT_ATTEMPTS {
        let app = api
            .get(&r.name)
            .await
            .map_err(|e| forbidden(r, "sync", describe(&e)))?;
        if app.operation.is_some() {
            return Err(KubeError::Refused(format!(
                "sync {}: another operation is already in progress{}",
                r.label(),
                app.status
                    .operation_state
                    .as_ref()
                    .filter(|o| !o.message.is_empty())
                    .map(|o| format!(" ({})", o.message))
                    .unwrap_or_default()
            )));
        }
        let body = json!({
            "metadata": {"resourceVersion": app.metadata.resource_version},
            "operation": sync_operation(spec),
            "status": {"operationState": null},
        });
        match api
            .patch(&r.name, &patch_params(), &Patch::Merge(&body))
            .await
        {
            Ok(_) => return Ok(client),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(forbidden(r, "sync", describe(&e))),
        }
    }
    Err(KubeError::Refused(format!(
        "sync {}: the Application kept changing under the write ({CONFLICT_ATTEMPTS} conflicts)",
        r.label()
    )))
}

/// Asks the controller to stop the running operation; refused when none runs.
pub async fn terminate(r: &AppRef) -> Result<Client> {
    let client = checked_client(r, "terminate").await?;
    let api = r.api(&client);
    for _ in 0..CONFLICT_ATTEMPTS {
        let app = api
            .get(&r.name)
            .await
            .map_err(|e| forbidden(r, "terminate", describe(&e)))?;
        let running = app
            .status
            .operation_state
            .as_ref()
            .is_some_and(|o| o.phase == "Running");
        if app.operation.is_none() || !running {
            return Err(KubeError::Refused(format!(
                "terminate {}: no operation is running{}",
                r.label(),
                app.status
                    .operation_state
                    .as_ref()
                    .map(|o| format!(" (the last one {})", o.phase.to_lowercase()))
                    .unwrap_or_default()
            )));
        }
        let body = json!({
            "metadata": {"resourceVersion": app.metadata.resource_version},
            "status": {"operationState": {"phase": "Terminating"}},
        });
        match api
            .patch(&r.name, &patch_params(), &Patch::Merge(&body))
            .await
        {
            Ok(_) => return Ok(client),
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(forbidden(r, "terminate", describe(&e))),
        }
    }
    Err(KubeError::Refused(format!(
        "terminate {}: the Application kept changing under the write ({CONFLICT_ATTEMPTS} conflicts)",
        r.label()
    )))
}

/// Watches the Application until `done` says so (returning what it returned), calling `seen`
/// on every version. Gives up after `limit`, naming what it waited for.
pub async fn follow<T>(
    client: &Client,
    r: &AppRef,
    limit: Duration,
    waiting_for: &str,
    mut seen: impl FnMut(&Application),
    mut done: impl FnMut(&Application) -> Option<T>,
) -> Result<T> {
    let mut stream = std::pin::pin!(
        watcher::watch_object(r.api(client), &r.name).take_until(tokio::time::sleep(limit))
    );
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(Some(app)) => {
                seen(&app);
                if let Some(t) = done(&app) {
                    return Ok(t);
                }
            }
            Ok(None) => {
                return Err(KubeError::NotFound(format!(
                    "{} was deleted while waiting for {waiting_for}",
                    r.label()
                )));
            }
            Err(e) => tracing::debug!("following {}: {e}", r.label()),
        }
    }
    Err(KubeError::Api(format!(
        "{} did not show {waiting_for} within {} s",
        r.label(),
        limit.as_secs()
    )))
}

/// The end of the operation, once the controller has finished it (`None` while it runs).
pub fn operation_end(app: &Application) -> Option<OperationEnd> {
    if app.operation.is_some() {
        return None;
    }
    let op = app.status.operation_state.as_ref()?;
    if !matches!(op.phase.as_str(), "Succeeded" | "Failed" | "Error") {
        return None;
    }
    let sr = op.sync_result.as_ref();
    Some(OperationEnd {
        phase: op.phase.clone(),
        message: op.message.clone(),
        revision: sr.map(|s| s.revision.clone()).unwrap_or_default(),
        resources: sr
            .map(|s| {
                s.resources
                    .iter()
                    .map(|x| {
                        let mut line =
                            format!("{} {}/{}: {}", x.kind, x.namespace, x.name, x.status);
                        if !x.message.is_empty() {
                            line = format!("{line} ({})", x.message);
                        }
                        line
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// What the sync windows of the Application's project say now about a manual sync, read
/// from the cluster (`None` when the project cannot be read: the controller will tell).
pub async fn window_verdict(client: &Client, r: &AppRef) -> Option<super::syncwindow::Verdict> {
    let app = r.api(client).get(&r.name).await.ok()?;
    let projects: Api<super::model::AppProject> = Api::namespaced(client.clone(), &r.namespace);
    let project = if app.spec.project.is_empty() {
        "default"
    } else {
        app.spec.project.as_str()
    };
    let p = projects.get(project).await.ok()?;
    let d = &app.spec.destination;
    let target = super::syncwindow::Target {
        application: &r.name,
        namespace: &d.namespace,
        server: &d.server,
        cluster_name: &d.name,
    };
    let windows = super::syncwindow::matching(&p.spec.sync_windows, target);
    Some(super::syncwindow::verdict(
        &windows,
        jiff::Timestamp::now(),
        true,
    ))
}

/// `until 14:00 CST` in `zone` (`until Tue 14:00 CST` when not on `now`'s day).
pub fn until_text(t: jiff::Timestamp, now: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    let when = t.to_zoned(zone.clone());
    let today = now.to_zoned(zone.clone()).date();
    let format = if when.date() == today {
        "%H:%M %Z"
    } else {
        "%a %H:%M %Z"
    };
    format!("until {}", when.strftime(format))
}

/// The refresh annotation is gone: the controller has compared again.
pub fn refreshed(app: &Application) -> bool {
    app.metadata
        .annotations
        .as_ref()
        .is_none_or(|a| !a.contains_key(REFRESH_ANNOTATION))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_names_the_actor_the_reason_and_the_revision() {
        let op = sync_operation(&SyncSpec {
            revision: Some("abc1234".into()),
            prune: true,
            sync_options: vec!["ApplyOutOfSyncOnly=true".into()],
            actor: "alice".into(),
            reason: Some("INC-7 roll back".into()),
        });
        assert_eq!(
            op,
            json!({
                "initiatedBy": {"username": "alice"},
                "sync": {"prune": true, "revision": "abc1234", "syncOptions": ["ApplyOutOfSyncOnly=true"]},
                "info": [{"name": "Reason", "value": "INC-7 roll back"}],
            })
        );
        let bare = sync_operation(&SyncSpec {
            actor: "bob".into(),
            ..SyncSpec::default()
        });
        assert_eq!(
            bare,
            json!({"initiatedBy": {"username": "bob"}, "sync": {"prune": false}})
        );
    }
}
