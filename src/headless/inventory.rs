//! `shipdeck inventory check [PATH]`.

use std::path::PathBuf;

use serde::Serialize;

use super::{Ctx, Failure, Outcome};
use crate::inventory::Inventory;

#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    path: String,
    apps: Vec<String>,
    environments: Vec<String>,
}

pub fn check(ctx: &Ctx, path: Option<PathBuf>) -> Outcome {
    let path = match path {
        Some(p) => p,
        None => crate::inventory::locate(ctx.inventory_path.as_deref(), &ctx.paths.config_dir)?,
    };
    let inv = Inventory::load(&path).map_err(Failure::from)?;
    let report = CheckReport {
        ok: true,
        path: path.display().to_string(),
        apps: inv.apps.keys().cloned().collect(),
        environments: inv.environments.keys().cloned().collect(),
    };
    ctx.emit(&report, |r| {
        format!(
            "{}: ok ({} apps: {}; environments: {})",
            r.path,
            r.apps.len(),
            r.apps.join(", "),
            r.environments.join(" → ")
        )
    });
    Ok(())
}
