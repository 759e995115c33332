//! `shipdeck status`: what shipdeck knows per app × environment: the tag git wants, who set it,
//! and the gates of that commit. Live cluster columns come with the cluster view.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Outcome};
use crate::services::github::{GatesService, GithubSettings, resolve_token};
use crate::services::gitops::GitopsEngine;

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
    pub live_image: Option<String>,
    pub sync: Option<String>,
    pub health: Option<String>,
    pub notes: Vec<String>,
}

pub async fn run(ctx: &Ctx) -> Outcome {
    let inv = ctx.inventory()?;
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
    let mut rows = Vec::new();
    for app in inv.apps.keys() {
        for (env_name, env) in &inv.environments {
            let mut notes = vec!["cluster: not connected (live view not built yet)".to_owned()];
            let tag = match &git {
                Ok(tags) => tags
                    .iter()
                    .find(|t| &t.app == app && &t.env == env_name)
                    .cloned(),
                Err(e) => {
                    notes.push(format!("git: {e}"));
                    None
                }
            };
            if let Some(problem) = tag.as_ref().and_then(|t| t.problem.clone()) {
                notes.push(problem);
            }
            let git_tag = tag.as_ref().and_then(|t| t.tag.clone());
            let changed = tag.as_ref().and_then(|t| t.changed.clone());
            let (gates_summary, gates_passed) = match (&gates, &git_tag) {
                (Ok(svc), Some(t)) => match svc.report_for_tag(t, &env.required_checks).await {
                    Ok(r) => (Some(r.summary.clone()), Some(r.all_passed)),
                    Err(e) => {
                        notes.push(format!("gates: {e}"));
                        (None, None)
                    }
                },
                (Err(e), _) => {
                    notes.push(format!("gates: {e}"));
                    (None, None)
                }
                (Ok(_), None) => (None, None),
            };
            rows.push(StatusRow {
                app: app.clone(),
                env: env_name.clone(),
                namespace: env.namespace.clone(),
                protected: env.protected,
                required_checks: env.required_checks.clone(),
                git_tag,
                changed_commit: changed.as_ref().map(|c| c.short.clone()),
                changed_by: changed.as_ref().map(|c| c.author.clone()),
                changed_at: changed.map(|c| c.time),
                gates: gates_summary,
                gates_passed,
                live_image: None,
                sync: None,
                health: None,
                notes,
            });
        }
    }
    ctx.emit(&rows, |rows| render(rows));
    Ok(())
}

fn render(rows: &[StatusRow]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<5} {:<10} {:<9} {:<16} {:<34} {:<8} {:<8}",
        "APP", "ENV", "GIT TAG", "COMMIT", "BY", "GATES", "SYNC", "HEALTH"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<12} {:<5} {:<10} {:<9} {:<16} {:<34} {:<8} {:<8}",
            r.app,
            r.env,
            dash(&r.git_tag),
            dash(&r.changed_commit),
            dash(&r.changed_by),
            dash(&r.gates),
            dash(&r.sync),
            dash(&r.health)
        );
    }
    let notes: std::collections::BTreeSet<&String> = rows.iter().flat_map(|r| &r.notes).collect();
    for n in notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
