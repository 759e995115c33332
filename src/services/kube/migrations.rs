//! Migration Jobs: the `batch/v1` Job a release runs before it goes out (Flyway, Liquibase,
//! mongock), found by the inventory's app and tag labels. The cockpit watches them (see
//! `watch::migrations`); the promotion guard lists them once, fresh, and reads a failed one's
//! last log lines through its pod.

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;

use super::client::{Target, describe, request_client};
use super::logs::{LogOpts, read_pod};
use super::{KubeError, Result};
use crate::inventory::{Inventory, MigrationsConfig};

/// Where a migration Job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationState {
    Running,
    Succeeded,
    Failed,
}

/// One migration Job as the gate reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationJob {
    pub name: String,
    pub namespace: String,
    pub app: String,
    pub tag: String,
    pub state: MigrationState,
    pub started: Option<jiff::Timestamp>,
    /// Seconds from start to the end (or to now's snapshot, while running: `None`).
    pub duration_secs: Option<u64>,
    /// The Failed condition's reason and message.
    pub reason: Option<String>,
}

impl MigrationJob {
    /// `migration 9f1c2ab ✔ 38s`, `… ◌ running`, `… ✖ BackoffLimitExceeded`.
    pub fn line(&self) -> String {
        match self.state {
            MigrationState::Succeeded => format!(
                "migration {} ✔ {}",
                self.tag,
                self.duration_secs
                    .map_or_else(String::new, |s| format!("{s}s"))
            ),
            MigrationState::Running => format!("migration {} ◌ running", self.tag),
            // The reason's code only: the message is for the refusal, not a one-line row.
            MigrationState::Failed => format!(
                "migration {} ✖ {}",
                self.tag,
                self.reason
                    .as_deref()
                    .and_then(|r| r.split(':').next())
                    .unwrap_or("failed")
            ),
        }
    }
}

/// The label selector of an app's migration Jobs.
pub fn selector(cfg: &MigrationsConfig, app: Option<&str>) -> String {
    let mut s = match app {
        Some(a) => format!("{}={a}", cfg.app_label()),
        None => cfg.app_label().to_owned(),
    };
    s.push(',');
    s.push_str(cfg.tag_label());
    s
}

/// What a Job says about itself, if it carries both labels.
pub fn from_job(cfg: &MigrationsConfig, job: &Job) -> Option<MigrationJob> {
    let labels = job.metadata.labels.as_ref()?;
    let app = labels.get(cfg.app_label())?.clone();
    let tag = labels.get(cfg.tag_label())?.clone();
    let status = job.status.as_ref();
    let conds = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let holds = |t: &str| conds.iter().any(|c| c.type_ == t && c.status == "True");
    let failed = conds
        .iter()
        .find(|c| c.type_ == "Failed" && c.status == "True");
    let state = if failed.is_some() {
        MigrationState::Failed
    } else if holds("Complete") {
        MigrationState::Succeeded
    } else {
        MigrationState::Running
    };
    let started = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let ended = status
        .and_then(|s| s.completion_time.as_ref())
        .map(|t| t.0)
        .or_else(|| {
            failed
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0)
        });
    let duration_secs = match (started, ended) {
        (Some(s), Some(e)) => u64::try_from(e.duration_since(s).as_secs()).ok(),
        _ => None,
    };
    Some(MigrationJob {
        name: job.metadata.name.clone().unwrap_or_default(),
        namespace: job.metadata.namespace.clone().unwrap_or_default(),
        app,
        tag,
        state,
        started,
        duration_secs,
        reason: failed.map(|c| {
            let reason = c.reason.as_deref().unwrap_or("Failed");
            match c.message.as_deref() {
                Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                _ => reason.to_owned(),
            }
        }),
    })
}

/// The newest Job of `app` for `tag` among `jobs`.
pub fn for_tag<'a>(jobs: &'a [MigrationJob], app: &str, tag: &str) -> Option<&'a MigrationJob> {
    jobs.iter()
        .filter(|j| j.app == app && j.tag == tag)
        .max_by_key(|j| j.started)
}

/// Lists the migration Jobs of `app` in `env` (a fresh read, for the guard).
pub async fn list(inv: &Inventory, env: &str, app: &str) -> Result<Vec<MigrationJob>> {
    let Some(cfg) = &inv.migrations else {
        return Ok(Vec::new());
    };
    let e = inv
        .env(env)
        .map_err(|e| KubeError::NotFound(e.to_string()))?;
    let target = Target::from_inventory(inv, e.kube_context.as_deref());
    let client = request_client(&target).await?;
    let api: Api<Job> = Api::namespaced(client, &e.namespace);
    let jobs = api
        .list(&ListParams::default().labels(&selector(cfg, Some(app))))
        .await
        .map_err(|e| describe(&e))?;
    Ok(jobs.items.iter().filter_map(|j| from_job(cfg, j)).collect())
}

/// The last `n` log lines of a Job's newest pod (`job-name` label, as the Job controller sets).
pub async fn last_lines(
    inv: &Inventory,
    env: &str,
    job: &MigrationJob,
    n: i64,
) -> Result<Vec<String>> {
    let e = inv
        .env(env)
        .map_err(|e| KubeError::NotFound(e.to_string()))?;
    let target = Target::from_inventory(inv, e.kube_context.as_deref());
    let client = request_client(&target).await?;
    let pods: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(client.clone(), &job.namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("job-name={}", job.name)))
        .await
        .map_err(|e| describe(&e))?;
    let Some(pod) = list
        .items
        .iter()
        .max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .and_then(|p| p.metadata.name.clone())
    else {
        return Err(KubeError::NotFound(format!(
            "no pod of job {}/{}",
            job.namespace, job.name
        )));
    };
    let mut lines = Vec::new();
    let opts = LogOpts {
        follow: false,
        tail: Some(n),
        container: None,
    };
    read_pod(&client, &job.namespace, &pod, &opts, |l| {
        // `pod: line` → the line.
        let text = l.split_once(": ").map_or(l.as_str(), |(_, t)| t).to_owned();
        lines.push(text);
        true
    })
    .await?;
    Ok(lines)
}
