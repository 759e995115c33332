//! Feishu: apply a GitHub team → chat member-sync plan a person has seen, and send a plain
//! message to one chat.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Fault, OpCtx, OpError};
use crate::audit::Entry;
use crate::services::TaskCtl;
use crate::services::feishu::{
    Credentials, Delivery, FeishuError, MemberSync, Notification, Notifier, NotifierPolicy,
    PlannedMember, SyncPlan, SyncSummary, targets_from_config,
};

/// A Feishu error as an op failure.
pub fn feishu_error(e: &FeishuError) -> OpError {
    let fault = if e.is_bad_input() {
        Fault::BadInput
    } else if matches!(e, FeishuError::Cancelled) {
        Fault::Cancelled
    } else {
        Fault::Remote
    };
    OpError::new(fault, e.to_string())
}

/// What applying a member-sync plan did.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SyncApplied(pub SyncSummary);

impl std::fmt::Display for SyncApplied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.0;
        write!(
            f,
            "feishu sync: {} added, {} removed in {} chats ({} writes)",
            s.added(),
            s.removed(),
            s.chats.len(),
            s.writes
        )?;
        let failed: Vec<String> = s
            .chats
            .iter()
            .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.chat)))
            .collect();
        if !failed.is_empty() {
            write!(f, "; some chats failed: {}", failed.join("; "))?;
        }
        Ok(())
    }
}

/// Applies exactly `plan` (made by `sync`), one journal line for the whole sync.
pub async fn apply_sync(
    ctx: &OpCtx,
    sync: &MemberSync,
    plan: &SyncPlan,
    task: TaskCtl,
) -> Result<SyncApplied, OpError> {
    ctx.check_writable("feishu-sync", None, None).await?;
    let started = Instant::now();
    let task = ctx.bound(task);
    let result = sync
        .apply(plan, &task)
        .await
        .map_err(|e| feishu_error(&e))
        .and_then(|s| {
            if s.cancelled {
                Err(OpError::new(Fault::Cancelled, "feishu sync cancelled"))
            } else {
                Ok(SyncApplied(s))
            }
        });
    let mut entry = Entry::new("feishu-sync");
    if let Ok(SyncApplied(s)) = &result {
        entry.detail = serde_json::json!({
            "added": s.added(),
            "removed": s.removed(),
            "writes": s.writes,
            "chats": s.chats.iter().map(|c| serde_json::json!({
                "chat": c.chat, "added": c.added, "removed": c.removed, "error": c.error,
            })).collect::<Vec<_>>(),
        });
        if s.failed() {
            "partial: some chats failed".clone_into(&mut entry.result);
        }
    }
    ctx.record(entry, started, &result).await;
    result
}

/// Whether a plain message reached its chat.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyReport {
    pub chat: String,
    pub delivered: bool,
    pub attempts: u32,
    pub error: Option<String>,
}

impl std::fmt::Display for NotifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.delivered {
            write!(f, "sent to {} (attempt {})", self.chat, self.attempts)
        } else {
            write!(
                f,
                "not sent to {}: {}",
                self.chat,
                self.error.as_deref().unwrap_or("no answer")
            )
        }
    }
}

/// How long `feishu notify` tries, retries included, before it gives up (unless
/// `feishu.webhook_timeout_secs` says otherwise).
const NOTIFY_DEADLINE: Duration = Duration::from_secs(20);

/// Sends `text` to one chat whatever its event filter, and waits (bounded) for the answer. A
/// message Feishu did not take is still a report (`delivered: false`, with its error).
pub async fn notify_text(ctx: &OpCtx, chat: &str, text: &str) -> Result<NotifyReport, OpError> {
    if text.trim().is_empty() {
        return Err(OpError::bad_input(
            "the message is empty: give the text to send with --text",
        ));
    }
    let inv = ctx.inventory()?.clone();
    let cfg = inv
        .feishu
        .as_ref()
        .ok_or_else(|| OpError::bad_input("the inventory has no `feishu:` section"))?;
    let conf = cfg
        .chats
        .get(chat)
        .ok_or_else(|| feishu_error(&FeishuError::UnknownChat(chat.to_owned())))?;
    if conf.webhook_env.is_none() {
        return Err(OpError::bad_input(format!(
            "feishu.chats.{chat} has no webhook_env: name the variable holding its bot webhook URL"
        )));
    }
    ctx.check_writable("feishu-notify", None, None).await?;
    let creds = Credentials::from_env(cfg, inv.base_dir()).map_err(|e| feishu_error(&e))?;
    let (targets, errors) = targets_from_config(cfg, &creds);
    let Some(target) = targets.into_iter().find(|t| t.chat == chat) else {
        let e = errors.first().map_or_else(
            || format!("chat `{chat}` has no usable webhook"),
            ToString::to_string,
        );
        return Err(OpError::bad_input(e));
    };
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let notifier = Notifier::start(vec![target], tx, NotifierPolicy::default())
        .map_err(|e| feishu_error(&e))?;
    let actor = ctx.actor().to_string();
    notifier
        .notify_chat(chat, &Notification::text(text, &actor))
        .map_err(|e| feishu_error(&e))?;
    let limit = ctx.limit(
        cfg.webhook_timeout_secs
            .map_or(NOTIFY_DEADLINE, |s| Duration::from_secs(s.max(1))),
    );
    notifier.close(limit).await;
    let mut report = NotifyReport {
        chat: chat.to_owned(),
        delivered: false,
        attempts: 0,
        error: None,
    };
    let mut answered = false;
    while let Some(o) = rx.recv().await {
        answered = answered || !matches!(o.delivery, Delivery::Retrying { .. });
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
    if !answered {
        let last = report
            .error
            .take()
            .map_or_else(String::new, |e| format!(" (last: {e})"));
        report.error = Some(format!(
            "the Feishu bot webhook of chat `{chat}` did not take the message within {} s{last}",
            limit.as_secs()
        ));
    }
    let mut entry = Entry::new("feishu-notify");
    entry.detail = serde_json::json!({ "chat": chat, "attempts": report.attempts, "chars": text.chars().count() });
    if !report.delivered {
        entry.result = format!("error: {}", report.error.as_deref().unwrap_or("not sent"));
    }
    ctx.record::<()>(entry, started, &Ok(())).await;
    Ok(report)
}

fn who(m: &PlannedMember) -> String {
    match (&m.login, &m.name) {
        (Some(l), Some(n)) => format!("{l} ({n})"),
        (Some(l), None) => l.clone(),
        (None, Some(n)) => format!("{n} [{}]", m.open_id),
        (None, None) => m.open_id.clone(),
    }
}

/// The plan as people read it: the headless output and the cockpit's Feishu view.
pub fn plan_text(p: &SyncPlan) -> String {
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
