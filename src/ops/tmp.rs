//! Tidying `tmp/`: the plan a person previewed, applied (entries changed since the preview
//! stay). The service journals each apply itself, even a cancelled one, through the op's
//! journal (which names the actor).

use super::{Fault, OpCtx, OpError};
use crate::services::TaskCtl;
use crate::services::tmpclean::{self, ApplyReport, Plan, TmpError};

/// A tmp error as an op failure.
pub fn tmp_error(e: &TmpError) -> OpError {
    let fault = match e {
        TmpError::DangerousRoot { .. } | TmpError::TrashUnsafe { .. } => Fault::Refused,
        TmpError::RootChanged(_) => Fault::Conflict,
        TmpError::NotConfigured
        | TmpError::RootMissing(_)
        | TmpError::RootNotDir(_)
        | TmpError::Pattern { .. }
        | TmpError::RuleWithoutRetention(_) => Fault::BadInput,
        TmpError::Cancelled => Fault::Cancelled,
        TmpError::Io { .. } => Fault::Failed,
    };
    OpError::new(fault, e.to_string())
}

/// Removes (or moves to the trash) what `plan` lists.
pub async fn clean(ctx: &OpCtx, plan: Plan, task: TaskCtl) -> Result<ApplyReport, OpError> {
    ctx.check_writable("tmp-clean", None, None).await?;
    ctx.settle_actor(None).await;
    let journal = ctx.journal();
    tokio::task::spawn_blocking(move || tmpclean::apply(&plan, &journal, &task))
        .await
        .map_err(|e| OpError::failed(format!("tmp clean task failed: {e}")))?
        .map_err(|e| tmp_error(&e))
}
