//! Performing a reviewed plan: per chat, adds then removes in batches, one call at a time.

use serde::Serialize;

use crate::services::TaskCtl;
use crate::services::feishu::api::ApiStats;
use crate::services::feishu::{FeishuError, Result};

use super::plan::SyncPlan;
use super::{BATCH, MemberSync};

/// What applying did to one chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatResult {
    pub chat: String,
    pub added: usize,
    pub removed: usize,
    /// Add/remove calls made.
    pub writes: usize,
    /// Ids Feishu refused (resigned, invisible to the app, not existing).
    pub invalid: Vec<String>,
    /// Adds waiting for an owner's approval.
    pub pending_approval: Vec<String>,
    /// The chat stopped on this error (other chats went on).
    pub error: Option<String>,
}

/// The result of [`MemberSync::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub chats: Vec<ChatResult>,
    pub writes: usize,
    pub cancelled: bool,
    pub api: ApiStats,
}

impl SyncSummary {
    pub fn failed(&self) -> bool {
        self.chats.iter().any(|c| c.error.is_some())
    }

    pub fn added(&self) -> usize {
        self.chats.iter().map(|c| c.added).sum()
    }

    pub fn removed(&self) -> usize {
        self.chats.iter().map(|c| c.removed).sum()
    }
}

impl MemberSync {
    /// Performs `plan`: per chat, adds then removes, ≤ 50 per call, strictly one call at a
    /// time. A chat that fails is reported and the others go on. Cancellation stops between
    /// calls and returns what was done.
    pub async fn apply(&self, plan: &SyncPlan, ctl: &TaskCtl) -> Result<SyncSummary> {
        let total = plan.writes() as u64;
        let mut done = 0u64;
        let mut out = Vec::new();
        let mut cancelled = false;
        for chat in &plan.chats {
            let mut r = ChatResult {
                chat: chat.chat.clone(),
                ..ChatResult::default()
            };
            let adds: Vec<String> = chat.add.iter().map(|m| m.open_id.clone()).collect();
            let removes: Vec<String> = chat.remove.iter().map(|m| m.open_id.clone()).collect();
            let result: Result<()> = async {
                for batch in adds.chunks(BATCH) {
                    stop_check(ctl, done, total)?;
                    let o = within(ctl, done, total, self.api.add_members(&chat.chat_id, batch))
                        .await?;
                    r.writes += 1;
                    done += 1;
                    let refused = o.invalid.len() + o.not_existed.len() + o.pending_approval.len();
                    r.added += batch.len().saturating_sub(refused);
                    r.invalid.extend(o.invalid);
                    r.invalid.extend(o.not_existed);
                    r.pending_approval.extend(o.pending_approval);
                    ctl.report(
                        done,
                        Some(total),
                        format!("{}: added {}", chat.chat, r.added),
                    );
                }
                for batch in removes.chunks(BATCH) {
                    stop_check(ctl, done, total)?;
                    let invalid = within(
                        ctl,
                        done,
                        total,
                        self.api.remove_members(&chat.chat_id, batch),
                    )
                    .await?;
                    r.writes += 1;
                    done += 1;
                    r.removed += batch.len().saturating_sub(invalid.len());
                    r.invalid.extend(invalid);
                    ctl.report(
                        done,
                        Some(total),
                        format!("{}: removed {}", chat.chat, r.removed),
                    );
                }
                Ok(())
            }
            .await;
            match result {
                Ok(()) => {}
                Err(FeishuError::Cancelled) => {
                    cancelled = true;
                    out.push(r);
                    break;
                }
                // Out of time: what was written is reported; the sync as a whole failed.
                Err(e @ FeishuError::OutOfTime { .. }) => {
                    out.push(r);
                    tracing::warn!(error = %e, "feishu sync: out of time");
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(chat = %chat.chat, error = %e, "feishu sync: chat failed");
                    r.error = Some(e.to_string());
                }
            }
            out.push(r);
        }
        Ok(SyncSummary {
            writes: out.iter().map(|c| c.writes).sum(),
            chats: out,
            cancelled,
            api: self.api.stats(),
        })
    }
}

/// Before a call: cancelled or out of time stops here, between calls.
fn stop_check(ctl: &TaskCtl, done: u64, total: u64) -> Result<()> {
    if ctl.is_cancelled() {
        return Err(FeishuError::Cancelled);
    }
    if ctl.expired() {
        return Err(out_of_time(ctl, done, total));
    }
    Ok(())
}

/// One call, cut short at the op's deadline (each call has its own, shorter or not).
async fn within<T>(
    ctl: &TaskCtl,
    done: u64,
    total: u64,
    call: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match ctl.deadline() {
        Some(end) => tokio::time::timeout_at(end.into(), call)
            .await
            .unwrap_or_else(|_| Err(out_of_time(ctl, done, total))),
        None => call.await,
    }
}

fn out_of_time(ctl: &TaskCtl, done: u64, total: u64) -> FeishuError {
    FeishuError::OutOfTime {
        secs: ctl.budget_secs().unwrap_or(0),
        done,
        total,
    }
}
