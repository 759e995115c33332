//! `shipdeck status`: per app × environment, the tag git wants and who set it, what the cluster
//! runs (live image, Argo CD sync and health, the rollout's phase and step), and the gates of
//! that commit. Every source is asked; one that does not answer is named and the exit is 4.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::StatusArgs;
use crate::inventory::Inventory;
use crate::services::github::{GatesService, GithubError, GithubSettings, resolve_token};
use crate::services::gitops::GitopsEngine;
use crate::services::kube::{Conn, FeedId, LiveEvent, LiveState};

/// One row of the status table. A field no source filled is `null`, with the reason in
/// `notes`: never invented.
#[derive(Debug, Serialize)]
pub struct StatusRow {
    pub app: String,
    pub env: String,
    pub namespace: String,
    pub protected: bool,
    pub required_checks: Vec<String>,
    pub git_tag: Option<String>,
    /// Short commit that last set the tag, its author and time (RFC 3339).
    pub changed_commit: Option<String>,
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
    /// "5/7 passed, 1 running, 1 missing".
    pub gates: Option<String>,
    pub gates_passed: Option<bool>,
    /// The tag the cluster runs (the canary's during a rollout).
    pub live_image: Option<String>,
    /// While a canary shares traffic: both revisions and their weights.
    pub split: Option<crate::services::kube::TrafficSplit>,
    /// Argo CD's sync status and health of the app's Application.
    pub sync: Option<String>,
    pub health: Option<String>,
    /// The Rollout's phase as the plugin derives it (`Healthy`, `Paused`, …) and its step.
    pub rollout_phase: Option<String>,
    pub rollout_step: Option<String>,
    pub notes: Vec<String>,
}

pub async fn run(ctx: &Ctx, _args: StatusArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let live = tokio::spawn(live_snapshot(
        inv.clone(),
        ctx.timeout.unwrap_or(Duration::from_secs(10)),
    ));
    let git = {
        let (inv, paths) = (inv.clone(), ctx.paths.clone());
        tokio::task::spawn_blocking(move || {
            GitopsEngine::open(&inv, &paths).and_then(|e| e.snapshot())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    };
    let gates = match &inv.github {
        None => Err("no `github:` section in the inventory".to_owned()),
        Some(cfg) => {
            let api = cfg.api_url.as_deref().unwrap_or("https://api.github.com");
            let token = resolve_token(cfg.token_env.as_deref(), api).await;
            GithubSettings::from_config(cfg, token)
                .and_then(GatesService::new)
                .map_err(|e| e.to_string())
        }
    };
    let (live, mut unreachable) = live
        .await
        .unwrap_or_else(|e| (LiveState::default(), vec![format!("cluster: {e}")]));
    if let Err(e) = &git {
        unreachable.push(format!("git: {e}"));
    }
    let mut gates_failed = None;
    let mut rows = Vec::new();
    for app in inv.apps.keys() {
        for (env_name, env) in &inv.environments {
            let mut notes = Vec::new();
            let tag = git.as_ref().ok().and_then(|tags| {
                tags.iter()
                    .find(|t| &t.app == app && &t.env == env_name)
                    .cloned()
            });
            if let Some(problem) = tag.as_ref().and_then(|t| t.problem.clone()) {
                notes.push(problem);
            }
            let git_tag = tag.as_ref().and_then(|t| t.tag.clone());
            let changed = tag.as_ref().and_then(|t| t.changed.clone());
            let (gates_summary, gates_passed) = match (&gates, &git_tag) {
                (Ok(svc), Some(t)) => match svc.report_for_tag(t, &env.required_checks).await {
                    Ok(r) => (Some(r.summary.clone()), Some(r.all_passed)),
                    // GitHub answered, about this tag: a fact of the row, not an outage.
                    Err(e @ (GithubError::UnknownCommit { .. } | GithubError::BadTag { .. })) => {
                        notes.push(format!("gates: {e}"));
                        (None, None)
                    }
                    Err(e) => {
                        gates_failed.get_or_insert_with(|| format!("GitHub: {e}"));
                        (None, None)
                    }
                },
                (Err(e), _) => {
                    notes.push(format!("gates: {e}"));
                    (None, None)
                }
                (Ok(_), None) => (None, None),
            };
            let el = live.env_live(app, env_name);
            let ro = live.rollout(app, env_name);
            if let Some(since) = el.as_ref().and_then(|l| l.stale_since) {
                notes.push(format!("cluster of {env_name}: stale since {since}"));
            }
            if let Some(split) = el.as_ref().and_then(|l| l.split.as_ref()) {
                notes.push(format!("{app} {env_name}: {split}"));
            }
            for feed in [
                FeedId::Cluster(env_name.clone()),
                FeedId::ArgoCd(env_name.clone()),
            ] {
                notes.extend(
                    live.denied(&feed)
                        .iter()
                        .map(|d| format!("{env_name}: {d}")),
                );
            }
            rows.push(StatusRow {
                app: app.clone(),
                env: env_name.clone(),
                namespace: inv.namespace_of(app, env_name),
                protected: env.protected,
                required_checks: env.required_checks.clone(),
                git_tag,
                changed_commit: changed.as_ref().map(|c| c.short.clone()),
                changed_by: changed.as_ref().map(|c| c.author.clone()),
                changed_at: changed.map(|c| c.time),
                gates: gates_summary,
                gates_passed,
                live_image: el.as_ref().and_then(|l| l.live_tag.clone()),
                split: el.as_ref().and_then(|l| l.split.clone()),
                sync: el.as_ref().and_then(|l| l.sync.clone()),
                health: el.as_ref().and_then(|l| l.health.clone()),
                rollout_phase: ro.map(|r| r.status.clone()),
                rollout_step: ro.map(|r| r.step.clone()).filter(|s| !s.is_empty()),
                notes,
            });
        }
    }
    unreachable.extend(gates_failed);
    // Whoever reads the rows (a person, `jq`) sees in each the sources that did not answer.
    for r in &mut rows {
        r.notes
            .extend(unreachable.iter().map(|u| format!("unreachable: {u}")));
    }
    ctx.emit(&rows, |rows| render(rows));
    if unreachable.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            Exit::Remote,
            format!("not every source answered: {}", unreachable.join("; ")),
        )
        .after_output())
    }
}

/// Watches every environment's Rollouts and Argo CD Applications until each has answered
/// once, or `timeout` passes; returns what arrived and the environments that did not answer,
/// each with the last error its watch saw.
async fn live_snapshot(inv: Inventory, timeout: Duration) -> (LiveState, Vec<String>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (envs, argos) =
        crate::services::kube::watch::specs(&inv, &crate::services::kube::watch::PodScope::All);
    let mut waiting_rollouts: BTreeSet<String> = envs.iter().map(|s| s.env.clone()).collect();
    let mut waiting_argo: BTreeSet<String> = argos.iter().map(|s| s.env.clone()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for spec in envs {
        tasks.spawn(crate::services::kube::watch::run_env(spec, tx.clone()));
    }
    for spec in argos {
        tasks.spawn(crate::services::kube::watch::run_argocd(spec, tx.clone()));
    }
    drop(tx);
    let mut live = LiveState::default();
    let mut errors: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !(waiting_rollouts.is_empty() && waiting_argo.is_empty()) {
        let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            break;
        };
        match &ev {
            LiveEvent::Rollouts { env, .. } => {
                waiting_rollouts.remove(env);
            }
            LiveEvent::ArgoCd { env, .. } => {
                waiting_argo.remove(env);
            }
            LiveEvent::Connection {
                feed: FeedId::Cluster(env) | FeedId::ArgoCd(env),
                conn: Conn::Stale { error, .. },
            } => {
                errors.insert(env.clone(), error.clone());
            }
            _ => {}
        }
        live.apply(ev);
    }
    tasks.abort_all();
    let secs = timeout.as_secs();
    let mut unreachable = Vec::new();
    for env in waiting_rollouts.union(&waiting_argo) {
        let why = errors
            .get(env)
            .cloned()
            .unwrap_or_else(|| format!("no answer within {secs} s"));
        unreachable.push(format!("cluster of `{env}`: {why}"));
    }
    (live, unreachable)
}

fn render(rows: &[StatusRow]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<5} {:<10} {:<10} {:<9} {:<16} {:<30} {:<9} {:<12} ROLLOUT",
        "APP", "ENV", "GIT TAG", "LIVE", "COMMIT", "BY", "GATES", "SYNC", "HEALTH"
    );
    for r in rows {
        let rollout = match (&r.rollout_phase, &r.rollout_step) {
            (Some(p), Some(s)) => format!("{p} {s}"),
            (Some(p), None) => p.clone(),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<12} {:<5} {:<10} {:<10} {:<9} {:<16} {:<30} {:<9} {:<12} {rollout}",
            r.app,
            r.env,
            dash(&r.git_tag),
            dash(&r.live_image),
            dash(&r.changed_commit),
            dash(&r.changed_by),
            dash(&r.gates),
            dash(&r.sync),
            dash(&r.health),
        );
    }
    let notes: BTreeSet<&String> = rows.iter().flat_map(|r| &r.notes).collect();
    for n in notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
