//! `shipdeck rollout …` (issue 5).

use super::{Ctx, Failure, Outcome};
use crate::cli::rollout::RolloutArgs;

pub async fn run(_ctx: &Ctx, _args: RolloutArgs) -> Outcome {
    Err(Failure::not_built("the live cluster view (rollout)"))
}
