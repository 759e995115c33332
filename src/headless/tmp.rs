//! `shipdeck tmp plan|clean` (issue 9).

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::tmp::{TmpArgs, TmpCommand};
use crate::services::TaskCtl;
use crate::services::tmpclean::{
    self, ApplyReport, CleanMode, Plan, PlanOptions, TmpError, format_age, format_bytes,
};

pub async fn run(ctx: &Ctx, args: TmpArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let opts = PlanOptions::default();
    // The walk is blocking filesystem work: keep it off the async workers.
    let planned = {
        let inv = inv.clone();
        tokio::task::spawn_blocking(move || {
            let cfg = inv.tmp.as_ref().ok_or(TmpError::NotConfigured)?;
            tmpclean::plan(cfg, inv.base_dir(), &opts, &TaskCtl::detached())
        })
        .await
        .map_err(|e| Failure::new(Exit::Failed, format!("tmp plan task failed: {e}")))?
    };
    let plan = planned.map_err(|e| Failure::from(crate::ops::tmp::tmp_error(&e)))?;
    match args.command {
        TmpCommand::Plan | TmpCommand::Clean { dry_run: true } => {
            ctx.emit(&plan, render_plan);
            Ok(())
        }
        TmpCommand::Clean { dry_run: false } => {
            let session = OpSession::open(ctx, inv, false).await;
            let result = clean(ctx, &session.ops, plan).await;
            session.close().await;
            result
        }
    }
}

/// The JSON document of `tmp clean`.
#[derive(Serialize)]
struct CleanOutput<'a> {
    ok: bool,
    plan: &'a Plan,
    applied: Option<&'a ApplyReport>,
}

async fn clean(ctx: &Ctx, ops: &crate::ops::OpCtx, plan: Plan) -> Outcome {
    ops.check_writable("tmp-clean", None, None).await?;
    if plan.is_empty() {
        let out = CleanOutput {
            ok: true,
            plan: &plan,
            applied: None,
        };
        ctx.emit(&out, |o| {
            format!("Nothing to clean under {}.", o.plan.root.display())
        });
        return Ok(());
    }
    let verb = if plan.mode == CleanMode::Trash {
        "Move to the trash"
    } else {
        "Delete"
    };
    ctx.confirm(
        &format!(
            "{verb} {} entries ({}) under {}?",
            plan.total_files,
            format_bytes(plan.total_bytes),
            plan.root.display()
        ),
        None,
    )?;
    let report = crate::ops::tmp::clean(ops, plan.clone(), TaskCtl::detached()).await?;
    let out = CleanOutput {
        ok: report.is_clean(),
        plan: &plan,
        applied: Some(&report),
    };
    ctx.emit(&out, |o| render_report(o.plan, &report));
    if report.failed.is_empty() && report.journal_error.is_none() {
        Ok(())
    } else if let Some(e) = &report.journal_error {
        Err(Failure::new(
            Exit::Failed,
            format!("cleaned, but the audit journal could not be written: {e}"),
        ))
    } else {
        Err(Failure::new(
            Exit::Failed,
            format!(
                "{} of {} entries could not be removed (listed above)",
                report.failed.len(),
                report.planned_files
            ),
        ))
    }
}

/// The human table: one line per candidate, then the totals per rule.
pub fn render_plan(plan: &Plan) -> String {
    let mut s = String::new();
    let verb = if plan.mode == CleanMode::Trash {
        "to move to the trash"
    } else {
        "to delete"
    };
    if plan.candidates.is_empty() {
        let _ = writeln!(s, "Nothing {verb} under {}.", plan.root.display());
    } else {
        let width = plan
            .candidates
            .iter()
            .map(|c| c.rule.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(s, "{:>9}  {:>5}  {:<width$}  PATH", "SIZE", "AGE", "RULE");
        for c in &plan.candidates {
            let target = c
                .link_target
                .as_ref()
                .map(|t| format!(" -> {} (link only)", t.display()))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "{:>9}  {:>5}  {:<width$}  {}{target}",
                format_bytes(c.size),
                format_age(c.age_secs),
                c.rule,
                c.path.display()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "Per rule:");
        for t in &plan.totals {
            let _ = writeln!(
                s,
                "  {:<width$}  {:>7} files  {:>9}",
                t.rule,
                t.files,
                format_bytes(t.bytes)
            );
        }
    }
    for b in &plan.purge {
        let _ = writeln!(
            s,
            "Trash batch {} ({} old) will be purged.",
            b.name,
            format_age(b.age_secs)
        );
    }
    for k in &plan.skipped {
        let _ = writeln!(s, "Skipped {}: {}", k.path.display(), k.reason);
    }
    let _ = writeln!(
        s,
        "Total: {} files, {} {verb} under {}. Kept: {} protected, {} newest, {} young, {} unmatched.",
        plan.total_files,
        format_bytes(plan.total_bytes),
        plan.root.display(),
        plan.kept.never_delete,
        plan.kept.newest,
        plan.kept.young,
        plan.kept.unmatched,
    );
    s
}

fn render_report(plan: &Plan, r: &ApplyReport) -> String {
    let mut s = String::new();
    let verb = if r.mode == CleanMode::Trash {
        "Moved to the trash"
    } else {
        "Removed"
    };
    let _ = write!(
        s,
        "{verb} {} of {} entries ({}) under {}",
        r.removed_files,
        r.planned_files,
        format_bytes(r.removed_bytes),
        plan.root.display()
    );
    if let Some(b) = &r.trash_batch {
        let _ = write!(s, " into {b}");
    }
    let _ = writeln!(s, "; {} emptied folders removed.", r.dirs_removed);
    for p in &r.purged {
        let _ = writeln!(s, "Purged trash batch {p}.");
    }
    for c in &r.changed {
        let _ = writeln!(s, "Kept {}: {}", c.path, c.why);
    }
    for f in &r.failed {
        let _ = writeln!(s, "Failed {}: {}", f.path, f.error);
    }
    if r.cancelled {
        let _ = writeln!(s, "Cancelled: {} entries not attempted.", r.not_attempted);
    }
    s
}
