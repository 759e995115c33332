//! `shipdeck tmp plan|clean` (issue 9).

use super::{Ctx, Failure, Outcome};
use crate::cli::tmp::TmpArgs;

pub async fn run(_ctx: &Ctx, _args: TmpArgs) -> Outcome {
    Err(Failure::not_built("tmp cleanup"))
}
