//! The migration Job a release runs (sandbox only): when an app that the inventory's
//! `migrations:` covers gets a new tag in a namespace (its Rollout's image changes), a
//! `batch/v1` Job labelled for the app and the tag is created with one pod, runs for a few
//! simulated seconds, and completes, or fails when the tag starts with `badmig`. The pod's
//! log (served by the sandbox's pods/log) is the migration tool's output.

use std::time::Instant;

use serde_json::{Value, json};

use super::{Clock, Marks, create, managed, s, write};
use crate::inventory::{Inventory, MigrationsConfig};
use crate::sandbox::kube::resources::{ResId, ids};
use crate::sandbox::kube::store::{Store, now_rfc3339};

/// The annotation whose value a sandbox pod's log is (instead of generated request lines).
pub const LOG_ANNOTATION: &str = "sandbox.shipdeck.dev/log";
/// Simulated seconds a migration runs.
const RUNS_FOR: f64 = 38.0;

/// One watched app: its Rollout in each namespace.
struct Watched {
    app: String,
    rollout: String,
    namespace: String,
}

pub struct MigrationsSim {
    store: std::sync::Arc<Store>,
    clock: Clock,
    cfg: Option<MigrationsConfig>,
    watched: Vec<Watched>,
    marks: Marks,
}

pub fn jobs() -> ResId {
    crate::sandbox::kube::resources::by_kind("Job")
}

impl MigrationsSim {
    pub fn new(store: std::sync::Arc<Store>, clock: Clock, inv: Option<&Inventory>) -> Self {
        let cfg = inv.and_then(|i| i.migrations.clone());
        let watched = match (inv, &cfg) {
            (Some(inv), Some(cfg)) => inv
                .apps
                .iter()
                .filter(|(name, _)| cfg.covers(name))
                .flat_map(|(name, app)| {
                    inv.environments.values().map(move |e| Watched {
                        app: name.clone(),
                        rollout: app.rollout_name(name).to_owned(),
                        namespace: e.namespace.clone(),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        MigrationsSim {
            store,
            clock,
            cfg,
            watched,
            marks: Marks::default(),
        }
    }

    pub fn tick(&mut self) {
        let Some(cfg) = self.cfg.clone() else {
            return;
        };
        let all = managed(&self.store, jobs());
        for w in &self.watched {
            let Some(tag) =
                crate::sandbox::kube::rollout_tag(&self.store, &w.namespace, &w.rollout)
            else {
                continue;
            };
            let exists = all.iter().any(|j| {
                s(j, "/metadata/namespace") == w.namespace
                    && label(j, cfg.app_label()) == w.app
                    && label(j, cfg.tag_label()) == tag
            });
            if !exists && let Err(e) = self.start(&cfg, w, &tag) {
                tracing::debug!("sandbox migration job not created: {e}");
            }
        }
        for job in all {
            if job.pointer("/status/completionTime").is_some()
                || s(&job, "/status/conditions/0/type") == "Failed"
            {
                continue;
            }
            let key = format!(
                "{}/{}",
                s(&job, "/metadata/namespace"),
                s(&job, "/metadata/name")
            );
            let born: Instant = self.marks.first_seen(&key);
            if self.clock.since(born) < RUNS_FOR {
                continue;
            }
            let tag = label(&job, cfg.tag_label()).to_owned();
            if let Err(e) = finish(&self.store, job, !tag.starts_with("badmig")) {
                tracing::debug!("sandbox migration job not finished: {e}");
            }
            self.marks.forget(&key);
        }
    }

    fn start(
        &self,
        cfg: &MigrationsConfig,
        w: &Watched,
        tag: &str,
    ) -> Result<(), crate::sandbox::kube::store::StoreError> {
        let name = format!("{}-migrate-{}", w.app, tag.to_ascii_lowercase());
        let now = now_rfc3339();
        let labels = json!({ cfg.app_label(): w.app, cfg.tag_label(): tag });
        let job = create(
            &self.store,
            jobs(),
            json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": w.namespace, "labels": labels},
                "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "migrate", "image": format!("harbor.sandbox.local/miker/{}-migrations:{tag}", w.app)}]}}},
            }),
        )?;
        let mut running = job.clone();
        running["status"] = json!({"active": 1, "startTime": now, "ready": 1});
        write(&self.store, jobs(), running)?;
        create(
            &self.store,
            ids::pods(),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": format!("{name}-x7k2p"), "namespace": w.namespace,
                    "labels": {"job-name": name, "batch.kubernetes.io/job-name": name},
                    "annotations": {LOG_ANNOTATION: log_text(tag, None)},
                    "ownerReferences": [super::owner_ref(&job)],
                },
                "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": format!("harbor.sandbox.local/miker/{}-migrations:{tag}", w.app)}]},
                "status": {"phase": "Running", "startTime": now},
            }),
        )?;
        Ok(())
    }
}

fn label<'a>(v: &'a Value, key: &str) -> &'a str {
    v.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Flyway's output for a tag; with `ok` known, how it ended.
fn log_text(tag: &str, ok: Option<bool>) -> String {
    let mut out = format!(
        "Flyway Community Edition 10.17.0 by Redgate\n\
         Database: jdbc:mysql://mysql.shared-svc:3306/miker (MySQL 8.0)\n\
         Successfully validated 42 migrations\n\
         Current version of schema `miker`: 41\n\
         Migrating schema `miker` to version \"42 - release {tag}\"\n"
    );
    match ok {
        None => {}
        Some(true) => {
            out.push_str(
                "Successfully applied 1 migration to schema `miker`, now at version v42\n",
            );
        }
        Some(false) => out.push_str(
            "ERROR: Migration V42__release.sql failed\n\
             SQL State  : 42S21\n\
             Error Code : 1060\n\
             Message    : Duplicate column name 'discount_code'\n\
             Location   : db/migration/V42__release.sql\n",
        ),
    }
    out
}

/// Completes or fails a running Job and its pod, as the Job controller and kubelet report it.
fn finish(
    store: &Store,
    mut job: Value,
    ok: bool,
) -> Result<(), crate::sandbox::kube::store::StoreError> {
    let now = now_rfc3339();
    let start = s(&job, "/status/startTime").to_owned();
    job["status"] = if ok {
        json!({"succeeded": 1, "startTime": start, "completionTime": now, "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
            {"type": "Complete", "status": "True", "lastTransitionTime": now}]})
    } else {
        json!({"failed": 1, "startTime": start, "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit", "lastTransitionTime": now}]})
    };
    let (ns, name) = (
        s(&job, "/metadata/namespace").to_owned(),
        s(&job, "/metadata/name").to_owned(),
    );
    let tag = s(&job, "/spec/template/spec/containers/0/image")
        .rsplit_once(':')
        .map_or("", |(_, t)| t)
        .to_owned();
    write(store, jobs(), job)?;
    let pod_name = format!("{name}-x7k2p");
    if let Some(pod) = store.get(ids::pods(), &ns, &pod_name) {
        let mut pod = pod.value();
        pod["metadata"]["annotations"][LOG_ANNOTATION] = json!(log_text(&tag, Some(ok)));
        pod["status"] = json!({"phase": if ok { "Succeeded" } else { "Failed" }, "containerStatuses": [{
            "name": "migrate", "image": s(&pod, "/spec/containers/0/image"), "imageID": "", "ready": false,
            "restartCount": 0, "started": false,
            "state": {"terminated": {"exitCode": i64::from(!ok), "reason": if ok { "Completed" } else { "Error" }, "finishedAt": now}}}]});
        write(store, ids::pods(), pod)?;
    }
    Ok(())
}
