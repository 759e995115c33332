//! `release`, `promote`, `rollback`, `history` (issue 3).

use std::fmt::Write as _;

use super::{Ctx, Exit, Failure, Outcome};
use std::sync::Arc;

use crate::cli::gitops::{GateOverride, HistoryArgs, PromoteArgs, ReleaseArgs, RollbackArgs};
use crate::inventory::Inventory;
use crate::services::TaskCtl;
use crate::services::github::{GatesService, GithubSettings, resolve_token};
use crate::services::gitops::{
    Action, ChangeRequest, ErrorKind, GitopsEngine, GitopsError, TagChange, validate_tag,
};
use crate::services::release::{ReleaseError, guarded_change, notifications};

/// The exit code an engine error means.
pub fn failure(e: &GitopsError) -> Failure {
    let exit = match e.kind() {
        ErrorKind::BadInput => Exit::BadInput,
        ErrorKind::Conflict => Exit::Conflict,
        ErrorKind::Remote => Exit::Remote,
        ErrorKind::Refused => Exit::Refused,
        ErrorKind::Failed => Exit::Failed,
    };
    Failure::new(exit, e.to_string())
}

pub async fn release(ctx: &Ctx, args: ReleaseArgs) -> Outcome {
    validate_tag(&args.tag).map_err(|e| failure(&e))?;
    let mut req = ChangeRequest::new(Action::Release, &args.app, &args.env, Some(&args.tag));
    req.reason.clone_from(&args.gates.reason);
    let question = format!("Release {} {} → {}?", args.app, args.env, args.tag);
    change(ctx, req, &question, override_reason(&args.gates)).await
}

pub async fn promote(ctx: &Ctx, args: PromoteArgs) -> Outcome {
    let mut req = ChangeRequest::new(Action::Promote, &args.app, &args.to, None);
    req.source_env = args.from.clone();
    req.reason.clone_from(&args.gates.reason);
    let from = args.from.as_deref().unwrap_or("its promote_from env");
    let question = format!("Promote {} {from} → {}?", args.app, args.to);
    change(ctx, req, &question, override_reason(&args.gates)).await
}

pub async fn rollback(ctx: &Ctx, args: RollbackArgs) -> Outcome {
    if let Some(t) = &args.to {
        validate_tag(t).map_err(|e| failure(&e))?;
    }
    let req = ChangeRequest::new(Action::Rollback, &args.app, &args.env, args.to.as_deref());
    let to = args.to.as_deref().unwrap_or("the previous tag");
    let question = format!("Roll {} {} back to {to}?", args.app, args.env);
    change(ctx, req, &question, None).await
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

async fn change(
    ctx: &Ctx,
    req: ChangeRequest,
    question: &str,
    override_reason: Option<String>,
) -> Outcome {
    let inv = ctx.inventory()?;
    inv.app(&req.app)?;
    let env = inv.env(&req.env)?;
    if let Some(src) = &req.source_env {
        inv.env(src)?;
    }
    if inv.read_only {
        return Err(Failure::refused("read-only: writes are disabled"));
    }
    ctx.confirm(question, env.protected.then_some(req.env.as_str()))?;
    let gates = gates_service(&inv).await;
    let engine = {
        let (inv, paths) = (inv.clone(), ctx.paths.clone());
        tokio::task::spawn_blocking(move || GitopsEngine::open(&inv, &paths))
            .await
            .map_err(|e| Failure::new(Exit::Failed, e.to_string()))?
            .map_err(|e| failure(&e))?
    };
    let result = guarded_change(
        Arc::new(engine),
        gates.as_ref(),
        &inv,
        req.clone(),
        override_reason.as_deref(),
        TaskCtl::detached(),
    )
    .await;
    let shown = result
        .as_ref()
        .map(Clone::clone)
        .map_err(ToString::to_string);
    super::notify(&inv, &notifications(&req, &inv, &shown)).await;
    match result {
        Ok(g) => {
            ctx.emit(&g.outcome, |o| o.message.clone());
            Ok(())
        }
        Err(ReleaseError::Gates(refusal)) => Err(Failure::refused(refusal.message)),
        Err(e @ ReleaseError::GatesUnavailable { .. }) => {
            Err(Failure::new(Exit::Remote, e.to_string()))
        }
        Err(ReleaseError::Git(e)) => Err(failure(&e)),
        Err(e @ ReleaseError::Join(_)) => Err(Failure::new(Exit::Failed, e.to_string())),
    }
}

/// The gates client when the inventory has a `github:` section.
async fn gates_service(inv: &Inventory) -> Option<GatesService> {
    let cfg = inv.github.as_ref()?;
    let api = cfg.api_url.as_deref().unwrap_or("https://api.github.com");
    let token = resolve_token(cfg.token_env.as_deref(), api).await;
    GithubSettings::from_config(cfg, token)
        .and_then(GatesService::new)
        .ok()
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
