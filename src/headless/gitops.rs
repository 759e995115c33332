//! `release`, `promote`, `rollback`, `history`: thin over `ops::gitops`.

use std::fmt::Write as _;

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::gitops::{GateOverride, HistoryArgs, PromoteArgs, ReleaseArgs, RollbackArgs};
use crate::ops::gitops::{self as op, ChangeSpec};
use crate::services::TaskCtl;
use crate::services::gitops::{Action, GitopsEngine, GitopsError, TagChange, validate_tag};

/// The exit code an engine error means.
pub fn failure(e: &GitopsError) -> Failure {
    Failure::from(op::git_error(e))
}

pub async fn release(ctx: &Ctx, args: ReleaseArgs) -> Outcome {
    validate_tag(&args.tag).map_err(|e| failure(&e))?;
    let mut spec = ChangeSpec::new(Action::Release, &args.app, &args.env, Some(&args.tag));
    spec.reason.clone_from(&args.gates.reason);
    spec.override_reason = override_reason(&args.gates);
    let question = format!("Release {} {} → {}?", args.app, args.env, args.tag);
    change(ctx, spec, &question).await
}

pub async fn promote(ctx: &Ctx, args: PromoteArgs) -> Outcome {
    let mut spec = ChangeSpec::new(Action::Promote, &args.app, &args.to, None);
    spec.source_env.clone_from(&args.from);
    spec.reason.clone_from(&args.gates.reason);
    spec.override_reason = override_reason(&args.gates);
    let from = args.from.as_deref().unwrap_or("its promote_from env");
    let question = format!("Promote {} {from} → {}?", args.app, args.to);
    change(ctx, spec, &question).await
}

/// The cockpit's `b`: abort the canary if one is in flight, then write the last good tag.
pub async fn rollback(ctx: &Ctx, args: RollbackArgs) -> Outcome {
    if let Some(t) = &args.to {
        validate_tag(t).map_err(|e| failure(&e))?;
    }
    let spec = ChangeSpec::new(Action::Rollback, &args.app, &args.env, args.to.as_deref());
    if args.dry_run {
        let session = OpSession::open(ctx, ctx.inventory()?, false).await;
        let plan = op::plan_rollback(&session.ops, &spec).await;
        session.close().await;
        let plan = plan?;
        ctx.emit(&plan, ToString::to_string);
        return Ok(());
    }
    let to = args
        .to
        .as_deref()
        .unwrap_or("the tag that ran before the current one");
    let question = format!(
        "Roll {} {} back to {to} (and abort its canary if one is in flight)?",
        args.app, args.env
    );
    change(ctx, spec, &question).await
}

pub async fn history(ctx: &Ctx, args: HistoryArgs) -> Outcome {
    let inv = ctx.inventory()?;
    inv.app(&args.app)?;
    inv.env(&args.env)?;
    let paths = ctx.paths.clone();
    let changes = tokio::task::spawn_blocking(move || {
        GitopsEngine::open(&inv, &paths)?.history(&args.app, &args.env)
    })
    .await
    .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
    .map_err(|e| failure(&e))?;
    ctx.emit(&changes, |c| render_history(c));
    Ok(())
}

/// The override reason, only when `--override-gates` was given.
fn override_reason(g: &GateOverride) -> Option<String> {
    g.override_gates.then(|| g.reason.clone()).flatten()
}

async fn change(ctx: &Ctx, spec: ChangeSpec, question: &str) -> Outcome {
    let inv = ctx.inventory()?;
    inv.app(&spec.app)?;
    let env = inv.env(&spec.env)?.clone();
    if let Some(src) = &spec.source_env {
        inv.env(src)?;
    }
    let session = OpSession::open(ctx, inv, spec.action != Action::Rollback).await;
    let result = match session
        .ops
        .check_writable(spec.action.as_str(), Some(&spec.app), Some(&spec.env))
        .await
    {
        Err(e) => Err(Failure::from(e)),
        Ok(()) => match ctx.confirm(question, env.protected.then_some(spec.env.as_str())) {
            Err(f) => Err(f),
            Ok(()) => op::change(&session.ops, spec, TaskCtl::detached())
                .await
                .map_err(Failure::from),
        },
    };
    session.close().await;
    let report = result?;
    ctx.emit(&report, ToString::to_string);
    if report.complete() {
        Ok(())
    } else {
        Err(Failure::new(Exit::Remote, report.to_string()).after_output())
    }
}

fn render_history(changes: &[TagChange]) -> String {
    let mut out = format!(
        "{:<12} {:<12} {:<8} {:<20} {:<18} {}\n",
        "TAG", "FROM", "COMMIT", "TIME", "AUTHOR", "SUBJECT"
    );
    for c in changes {
        let _ = writeln!(
            out,
            "{:<12} {:<12} {:<8} {:<20} {:<18} {}",
            c.tag,
            c.previous.as_deref().unwrap_or("-"),
            c.commit.short,
            c.commit.time,
            c.commit.author,
            c.commit.subject
        );
    }
    if changes.is_empty() {
        out.push_str("(no tag changes in history)\n");
    }
    out
}
