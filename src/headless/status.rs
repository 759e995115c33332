//! `shipdeck status`: what shipdeck knows per app × environment.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Outcome};

/// One row of the status table. Fields a service has not filled yet are `null`, with the
/// reason in `notes`: never invented.
#[derive(Debug, Serialize)]
pub struct StatusRow {
    pub app: String,
    pub env: String,
    pub namespace: String,
    pub protected: bool,
    pub required_checks: Vec<String>,
    pub git_tag: Option<String>,
    pub live_image: Option<String>,
    pub sync: Option<String>,
    pub health: Option<String>,
    pub notes: Vec<String>,
}

pub async fn run(ctx: &Ctx) -> Outcome {
    let inv = ctx.inventory()?;
    let mut rows = Vec::new();
    for app in inv.apps.keys() {
        for (env_name, env) in &inv.environments {
            rows.push(StatusRow {
                app: app.clone(),
                env: env_name.clone(),
                namespace: env.namespace.clone(),
                protected: env.protected,
                required_checks: env.required_checks.clone(),
                git_tag: None,
                live_image: None,
                sync: None,
                health: None,
                notes: vec![
                    "git tag: not connected (GitOps engine not built yet)".to_owned(),
                    "cluster: not connected (live view not built yet)".to_owned(),
                ],
            });
        }
    }
    ctx.emit(&rows, |rows| render(rows));
    Ok(())
}

fn render(rows: &[StatusRow]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut out = format!(
        "{:<16} {:<6} {:<12} {:<12} {:<10} {:<10}\n",
        "APP", "ENV", "GIT TAG", "LIVE", "SYNC", "HEALTH"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<16} {:<6} {:<12} {:<12} {:<10} {:<10}",
            r.app,
            r.env,
            dash(&r.git_tag),
            dash(&r.live_image),
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
