//! `release`, `promote`, `rollback`, `history` (issue 3).

use super::{Ctx, Failure, Outcome};
use crate::cli::gitops::{HistoryArgs, PromoteArgs, ReleaseArgs, RollbackArgs};

pub async fn release(_ctx: &Ctx, _args: ReleaseArgs) -> Outcome {
    Err(Failure::not_built("the GitOps engine (release)"))
}

pub async fn promote(_ctx: &Ctx, _args: PromoteArgs) -> Outcome {
    Err(Failure::not_built("the GitOps engine (promote)"))
}

pub async fn rollback(_ctx: &Ctx, _args: RollbackArgs) -> Outcome {
    Err(Failure::not_built("the GitOps engine (rollback)"))
}

pub async fn history(_ctx: &Ctx, _args: HistoryArgs) -> Outcome {
    Err(Failure::not_built("the GitOps engine (history)"))
}
