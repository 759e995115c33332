//! `shipdeck feishu notify|sync` (issue 8).

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::feishu::{FeishuArgs, FeishuCommand};
use crate::inventory::{FeishuConfig, Inventory};
use crate::services::TaskCtl;
use crate::services::feishu::{Credentials, FeishuError, MemberSync, SyncPlan, SyncSummary};

pub async fn run(ctx: &Ctx, args: FeishuArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let cfg = inv
        .feishu
        .as_ref()
        .ok_or_else(|| Failure::bad_input("the inventory has no `feishu:` section"))?;
    let creds = Credentials::from_env(cfg, inv.base_dir()).map_err(|e| failure(&e))?;
    let session = OpSession::open(ctx, inv.clone(), false).await;
    let result = match args.command {
        FeishuCommand::Notify { chat, text } => {
            match crate::ops::feishu::notify_text(&session.ops, &chat, &text).await {
                Ok(report) => {
                    ctx.emit(&report, ToString::to_string);
                    match &report.error {
                        Some(e) if !report.delivered => {
                            Err(Failure::new(Exit::Remote, e.clone()).after_output())
                        }
                        _ => Ok(()),
                    }
                }
                Err(e) => Err(Failure::from(e)),
            }
        }
        FeishuCommand::Sync { apply, .. } => {
            sync(ctx, &session.ops, &inv, cfg, &creds, apply).await
        }
    };
    session.close().await;
    result
}

/// Maps a service error to the headless exit codes.
pub fn failure(e: &FeishuError) -> Failure {
    Failure::from(crate::ops::feishu::feishu_error(e))
}

#[derive(Debug, Serialize)]
struct SyncReport<'a> {
    mode: &'static str,
    plan: &'a SyncPlan,
    summary: Option<&'a SyncSummary>,
}

async fn sync(
    ctx: &Ctx,
    ops: &crate::ops::OpCtx,
    inv: &Inventory,
    cfg: &FeishuConfig,
    creds: &Credentials,
    apply: bool,
) -> Outcome {
    let service = MemberSync::from_config(cfg, inv.github.as_ref(), inv.base_dir(), creds)
        .await
        .map_err(|e| failure(&e))?;
    let plan = service
        .plan(&TaskCtl::detached())
        .await
        .map_err(|e| failure(&e))?;
    if !apply || plan.is_noop() {
        let report = SyncReport {
            mode: if apply { "apply" } else { "dry-run" },
            plan: &plan,
            summary: None,
        };
        ctx.emit(&report, |r| crate::ops::feishu::plan_text(r.plan));
        return Ok(());
    }
    ops.check_writable("feishu-sync", None, None).await?;
    ctx.confirm(
        &format!(
            "{}\nApply: {} adds, {} removes in {} calls?",
            crate::ops::feishu::plan_text(&plan),
            plan.adds(),
            plan.removes(),
            plan.writes()
        ),
        None,
    )?;
    let applied = crate::ops::feishu::apply_sync(ops, &service, &plan, TaskCtl::detached()).await?;
    let summary = &applied.0;
    let report = SyncReport {
        mode: "apply",
        plan: &plan,
        summary: Some(summary),
    };
    ctx.emit(&report, |r| {
        let mut s = crate::ops::feishu::plan_text(r.plan);
        s.push('\n');
        s.push_str(&human_summary(summary));
        s
    });
    if summary.failed() {
        let failed: Vec<String> = summary
            .chats
            .iter()
            .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.chat)))
            .collect();
        return Err(Failure::new(Exit::Remote, failed.join("; ")).after_output());
    }
    Ok(())
}

fn human_summary(r: &SyncSummary) -> String {
    let mut s = String::new();
    for c in &r.chats {
        let _ = write!(
            s,
            "{}: added {}, removed {} in {} calls",
            c.chat, c.added, c.removed, c.writes
        );
        if !c.invalid.is_empty() {
            let _ = write!(s, "; refused ids: {}", c.invalid.join(", "));
        }
        if !c.pending_approval.is_empty() {
            let _ = write!(s, "; awaiting approval: {}", c.pending_approval.join(", "));
        }
        if let Some(e) = &c.error {
            let _ = write!(s, "; FAILED: {e}");
        }
        s.push('\n');
    }
    let _ = write!(
        s,
        "applied: {} calls ({} rate-limit waits, {} server errors retried){}",
        r.writes,
        r.api.rate_limited,
        r.api.server_errors,
        if r.cancelled { ", cancelled" } else { "" }
    );
    s
}
