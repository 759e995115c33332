//! The simulated Argo CD's syncs: automated ones (auto-sync on a new revision, self-heal on
//! drift) and the operations people write into the Application (`operation`: Running, then
//! Succeeded or Failed; held while a sync window blocks it; `Terminating` ends it), as the
//! application controller takes them.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::argocd::{AppBinding, read_tag_at};
use super::{s, write};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::store::{Store, StoreError};
use crate::services::kube::syncwindow::{SyncWindow, verdict};

/// What Argo CD's controller writes while a window holds an operation back.
pub const HELD_MESSAGE: &str = "Sync operation blocked by sync window";

/// What one reconcile pass works with.
pub struct SyncCtx<'a> {
    pub store: &'a std::sync::Arc<Store>,
    /// The Application as read this pass (events are about it).
    pub app: &'a Value,
    pub binding: &'a AppBinding,
    pub rollout: Option<&'a Value>,
    pub source: &'a Value,
    pub now: &'a str,
}

/// Whether auto-sync acts on an out-of-sync Application now: it is on, the windows let an
/// automated sync through, and the revision is new (or self-heal puts drift right).
pub fn auto_sync_due(app: &Value, status: &Value, revision: &str, windows: &[SyncWindow]) -> bool {
    let Some(automated) = app.pointer("/spec/syncPolicy/automated") else {
        return false;
    };
    if automated.is_null() {
        return false;
    }
    let refs: Vec<&SyncWindow> = windows.iter().collect();
    if !verdict(&refs, Timestamp::now(), false).is_open() {
        return false;
    }
    let self_heal = automated
        .get("selfHeal")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let last = s(status, "/operationState/syncResult/revision");
    self_heal || last != revision
}

/// Deploys `tag` at `revision` (when `write_image`), records it in the history and as a
/// succeeded operation initiated by `initiated_by`.
pub fn apply_sync(
    cx: &SyncCtx<'_>,
    status: &mut Value,
    revision: &str,
    tag: Option<&str>,
    write_image: bool,
    initiated_by: &Value,
) -> Result<(), StoreError> {
    let b = cx.binding;
    if write_image && let (Some(mut r), Some(tag)) = (cx.rollout.cloned(), tag) {
        r["spec"]["template"]["spec"]["containers"][0]["image"] =
            json!(format!("{}:{tag}", b.image));
        write(cx.store, ids::rollouts(), r)?;
    }
    let mut history: Vec<Value> = status
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let id = history
        .last()
        .and_then(|h| h.get("id"))
        .and_then(Value::as_i64)
        .map_or(0, |i| i + 1);
    let now = cx.now;
    history.push(json!({
        "id": id, "revision": revision, "deployedAt": now, "deployStartedAt": now,
        "source": cx.source, "initiatedBy": initiated_by,
    }));
    if history.len() > 10 {
        history.remove(0);
    }
    status["history"] = json!(history);
    let started = match s(status, "/operationState/phase") {
        "Running" => s(status, "/operationState/startedAt").to_owned(),
        _ => now.to_owned(),
    };
    let who = match initiated_by.get("username").and_then(Value::as_str) {
        Some(u) => format!("Initiated sync to {revision} by {u}"),
        None => format!("Initiated automated sync to '{revision}'"),
    };
    super::event(
        cx.store,
        cx.app,
        "Normal",
        "OperationStarted",
        &who,
        "argocd-application-controller",
    );
    super::event(
        cx.store,
        cx.app,
        "Normal",
        "OperationCompleted",
        &format!("Sync operation to {revision} succeeded"),
        "argocd-application-controller",
    );
    status["operationState"] = json!({
        "operation": {"sync": {"revision": revision, "syncStrategy": {"hook": {}}}, "initiatedBy": initiated_by, "retry": {"limit": 5}},
        "phase": "Succeeded", "message": "successfully synced (all tasks run)",
        "syncResult": {"revision": revision, "source": cx.source, "resources": [{
            "group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "namespace": b.namespace,
            "name": b.rollout, "status": "Synced", "message": format!("rollout.argoproj.io/{} configured", b.rollout),
            "hookPhase": "Running", "syncPhase": "Sync",
        }]},
        "startedAt": started, "finishedAt": now,
    });
    Ok(())
}

/// One step of the operation written into `app`. Returns whether it is over (the caller then
/// removes `operation`, as the controller does when it finishes one).
pub fn operation_step(
    cx: &SyncCtx<'_>,
    app: &mut Value,
    status: &mut Value,
    windows: &[SyncWindow],
) -> Result<bool, StoreError> {
    let op = app.get("operation").cloned().unwrap_or_default();
    let initiated_by = op
        .get("initiatedBy")
        .cloned()
        .unwrap_or_else(|| json!({"username": "unknown"}));
    let now = cx.now;
    let phase = s(status, "/operationState/phase").to_owned();
    let started = match s(status, "/operationState/startedAt") {
        "" => now.to_owned(),
        t => t.to_owned(),
    };
    let state = |phase: &str, message: &str, finished: bool| {
        let mut st =
            json!({"operation": op, "phase": phase, "message": message, "startedAt": started});
        if finished {
            st["finishedAt"] = json!(now);
        }
        st
    };
    if phase == "Terminating" {
        super::event(
            cx.store,
            cx.app,
            "Warning",
            "OperationCompleted",
            "Sync operation failed: Operation terminated",
            "argocd-application-controller",
        );
        status["operationState"] = state("Failed", "Operation terminated", true);
        return Ok(true);
    }
    let manual = !initiated_by
        .get("automated")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let refs: Vec<&SyncWindow> = windows.iter().collect();
    if !verdict(&refs, Timestamp::now(), manual).is_open() {
        status["operationState"] = state("Running", HELD_MESSAGE, false);
        return Ok(false);
    }
    if phase != "Running" || s(status, "/operationState/message") == HELD_MESSAGE {
        // Taken up: Running for a pass, so a watcher sees it (and may terminate it).
        status["operationState"] = state("Running", "one or more tasks are running", false);
        return Ok(false);
    }
    let b = cx.binding;
    let revision = match s(&op, "/sync/revision") {
        "" => format!("refs/heads/{}", b.branch),
        r => r.to_owned(),
    };
    match read_tag_at(b, &revision) {
        Err(e) => {
            let msg = format!(
                "ComparisonError: revision {revision} cannot be resolved: {}",
                e.message()
            );
            status["operationState"] = state("Failed", &msg, true);
        }
        Ok((sha, tag)) => {
            let live = super::argocd::live_image(cx.rollout);
            let desired = tag.as_ref().map(|t| format!("{}:{t}", b.image));
            let changes = desired.is_some() && desired != live;
            apply_sync(cx, status, &sha, tag.as_deref(), changes, &initiated_by)?;
        }
    }
    Ok(true)
}
