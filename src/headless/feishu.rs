//! `shipdeck feishu notify|sync` (issue 8).

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::feishu::{FeishuArgs, FeishuCommand};
use crate::inventory::Inventory;
use crate::services::TaskCtl;
use crate::services::feishu::{
    Credentials, Delivery, FeishuConfig, FeishuError, MemberSync, Notification, Notifier,
    NotifierPolicy, PlannedMember, SyncPlan, SyncSummary, targets_from_config,
};

pub async fn run(ctx: &Ctx, args: FeishuArgs) -> Outcome {
    let inv = ctx.inventory()?;
    let cfg = inv
        .feishu
        .as_ref()
        .ok_or_else(|| Failure::bad_input("the inventory has no `feishu:` section"))?;
    let creds = Credentials::from_env(cfg, inv.base_dir()).map_err(|e| failure(&e))?;
    match args.command {
        FeishuCommand::Notify { chat, text } => {
            notify(ctx, cfg, &creds, &chat, &text, inv.read_only).await
        }
        FeishuCommand::Sync { apply, .. } => sync(ctx, &inv, &creds, apply).await,
    }
}

/// Maps a service error to the headless exit codes.
pub fn failure(e: &FeishuError) -> Failure {
    let exit = if e.is_bad_input() {
        Exit::BadInput
    } else if matches!(e, FeishuError::Cancelled) {
        Exit::Failed
    } else {
        Exit::Remote
    };
    Failure::new(exit, e.to_string())
}

#[derive(Debug, Serialize)]
struct NotifyReport {
    chat: String,
    delivered: bool,
    attempts: u32,
    error: Option<String>,
}

async fn notify(
    ctx: &Ctx,
    cfg: &FeishuConfig,
    creds: &Credentials,
    chat: &str,
    text: &str,
    cfg_read_only: bool,
) -> Outcome {
    let conf = cfg
        .chats
        .get(chat)
        .ok_or_else(|| failure(&FeishuError::UnknownChat(chat.to_owned())))?;
    if conf.webhook_env.is_none() {
        return Err(Failure::bad_input(format!(
            "feishu.chats.{chat} has no webhook_env: name the variable holding its bot webhook URL"
        )));
    }
    if ctx.read_only || cfg_read_only {
        return Err(Failure::refused("read-only: writes are disabled"));
    }
    let (targets, errors) = targets_from_config(cfg, creds);
    let Some(target) = targets.into_iter().find(|t| t.chat == chat) else {
        let e = errors.first().map_or_else(
            || format!("chat `{chat}` has no usable webhook"),
            ToString::to_string,
        );
        return Err(Failure::bad_input(e));
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let notifier =
        Notifier::start(vec![target], tx, NotifierPolicy::default()).map_err(|e| failure(&e))?;
    let actor = std::env::var("USER").unwrap_or_else(|_| "shipdeck".to_owned());
    notifier
        .notify_chat(chat, &Notification::text(text, &actor))
        .map_err(|e| failure(&e))?;
    notifier.close(Duration::from_secs(300)).await;
    let mut report = NotifyReport {
        chat: chat.to_owned(),
        delivered: false,
        attempts: 0,
        error: Some("no answer from the notifier".to_owned()),
    };
    while let Some(o) = rx.recv().await {
        report.attempts = o.attempt;
        match o.delivery {
            Delivery::Delivered => {
                report.delivered = true;
                report.error = None;
            }
            Delivery::Retrying { error, .. } | Delivery::Failed { error } => {
                report.error = Some(error);
            }
        }
    }
    ctx.emit(&report, |r| {
        if r.delivered {
            format!("sent to {} (attempt {})", r.chat, r.attempts)
        } else {
            format!("not sent to {}", r.chat)
        }
    });
    if report.delivered {
        Ok(())
    } else {
        Err(Failure::new(Exit::Remote, report.error.unwrap_or_default()).after_output())
    }
}

#[derive(Debug, Serialize)]
struct SyncReport<'a> {
    mode: &'static str,
    plan: &'a SyncPlan,
    summary: Option<&'a SyncSummary>,
}

async fn sync(ctx: &Ctx, inv: &Inventory, creds: &Credentials, apply: bool) -> Outcome {
    let service = MemberSync::for_inventory(inv, creds)
        .await
        .map_err(|e| failure(&e))?;
    let ctl = TaskCtl::detached();
    let plan = service.plan(&ctl).await.map_err(|e| failure(&e))?;
    if !apply || plan.is_noop() {
        let report = SyncReport {
            mode: if apply { "apply" } else { "dry-run" },
            plan: &plan,
            summary: None,
        };
        ctx.emit(&report, |r| human_plan(r.plan));
        return Ok(());
    }
    if inv.read_only {
        return Err(Failure::refused(
            "the inventory is read-only (read_only: true): sync --dry-run shows the plan",
        ));
    }
    ctx.confirm(
        &format!(
            "{}\nApply: {} adds, {} removes in {} calls?",
            human_plan(&plan),
            plan.adds(),
            plan.removes(),
            plan.writes()
        ),
        None,
    )?;
    let summary = service.apply(&plan, &ctl).await.map_err(|e| failure(&e))?;
    let report = SyncReport {
        mode: "apply",
        plan: &plan,
        summary: Some(&summary),
    };
    ctx.emit(&report, |r| {
        let mut s = human_plan(r.plan);
        s.push('\n');
        s.push_str(&human_summary(&summary));
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

fn who(m: &PlannedMember) -> String {
    match (&m.login, &m.name) {
        (Some(l), Some(n)) => format!("{l} ({n})"),
        (Some(l), None) => l.clone(),
        (None, Some(n)) => format!("{n} [{}]", m.open_id),
        (None, None) => m.open_id.clone(),
    }
}

/// The plan as people read it (also usable by the TUI's plan view).
pub fn human_plan(p: &SyncPlan) -> String {
    let mut s = format!(
        "GitHub {} ({}): {} members, {} matched{}\n",
        p.org,
        p.membership.as_str(),
        p.github_members,
        p.matched,
        if p.prune { ", prune on" } else { ", prune off" }
    );
    for c in &p.chats {
        let _ = writeln!(
            s,
            "chat {} ({}) ← {}: {} now, {} wanted",
            c.chat,
            c.chat_id,
            c.teams.join(", "),
            c.current,
            c.desired
        );
        for m in &c.add {
            let _ = writeln!(s, "  + {}", who(m));
        }
        for m in &c.remove {
            let _ = writeln!(s, "  - {}", who(m));
        }
        for m in &c.stale {
            let _ = writeln!(s, "  ~ {} (left the teams; kept, prune is off)", who(m));
        }
        for m in &c.protected {
            let _ = writeln!(s, "  = {} (protected)", who(m));
        }
        if c.unmanaged > 0 {
            let _ = writeln!(
                s,
                "  {} member(s) not managed by the sync, left alone",
                c.unmanaged
            );
        }
    }
    if !p.unmatched.is_empty() {
        let _ = writeln!(s, "unmatched ({}):", p.unmatched.len());
        for u in &p.unmatched {
            let _ = writeln!(s, "  ? {} [{}]: {}", u.login, u.teams.join(", "), u.reason);
        }
    }
    let _ = write!(
        s,
        "plan: {} adds, {} removes in {} calls",
        p.adds(),
        p.removes(),
        p.writes()
    );
    s
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
