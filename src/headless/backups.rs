//! `shipdeck backups` (issue 21): each env's newest object under the backup prefix and its
//! age against `backups.max_age`. Exit 1 when one is stale, 4 when one cannot be read.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::backups::BackupsArgs;
use crate::services::s3::{BackupRead, S3Error};

/// The `--output json` document.
#[derive(Debug, Serialize)]
pub struct BackupsReport {
    pub backups: Vec<BackupRead>,
    /// Envs whose newest backup is too old, or that have none.
    pub stale: Vec<String>,
    /// Envs whose store could not be read.
    pub unreadable: Vec<String>,
}

pub async fn run(ctx: &Ctx, _args: BackupsArgs) -> Outcome {
    let inv = ctx.inventory()?;
    if inv.backups.is_none() {
        return Err(Failure::new(
            Exit::BadInput,
            "the inventory has no `backups:` section: add its endpoint, bucket and prefix (see inventory.example.yaml)",
        ));
    }
    let backups = crate::services::s3::backups(&inv)
        .await
        .map_err(|e| failure(&e))?;
    let stale = backups
        .iter()
        .filter(|b| b.age.as_ref().is_some_and(|a| a.stale))
        .map(|b| b.env.clone())
        .collect::<Vec<_>>();
    let unreadable = backups
        .iter()
        .filter(|b| b.error.is_some())
        .map(|b| b.env.clone())
        .collect::<Vec<_>>();
    let report = BackupsReport {
        backups,
        stale,
        unreadable,
    };
    ctx.emit(&report, human);
    if !report.stale.is_empty() {
        return Err(Failure::new(
            Exit::Failed,
            format!("stale backups in {}", report.stale.join(", ")),
        )
        .after_output());
    }
    if !report.unreadable.is_empty() {
        return Err(Failure::new(
            Exit::Remote,
            format!(
                "cannot read the backups of {}",
                report.unreadable.join(", ")
            ),
        )
        .after_output());
    }
    Ok(())
}

fn failure(e: &S3Error) -> Failure {
    let exit = match e {
        S3Error::BadEndpoint { .. } | S3Error::MissingCredentials { .. } => Exit::BadInput,
        _ => Exit::Remote,
    };
    Failure::new(exit, e.to_string())
}

/// The table people read.
pub fn human(r: &BackupsReport) -> String {
    let rows: Vec<(&str, String, String)> = r
        .backups
        .iter()
        .map(|b| match (&b.age, &b.error) {
            (Some(a), _) => (
                b.env.as_str(),
                a.newest_key.clone().unwrap_or_else(|| "-".to_owned()),
                a.line(),
            ),
            (None, Some(e)) => (b.env.as_str(), "-".to_owned(), format!("unreadable: {e}")),
            (None, None) => (b.env.as_str(), "-".to_owned(), "unknown".to_owned()),
        })
        .collect();
    let width = rows
        .iter()
        .map(|(_, k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .max("newest backup".len());
    let mut out = String::new();
    let _ = writeln!(out, "{:<8}  {:<width$}  age", "env", "newest backup");
    for (env, key, line) in rows {
        let _ = writeln!(out, "{env:<8}  {key:<width$}  {line}");
    }
    out
}
