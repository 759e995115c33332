//! `shipdeck gates` (issue 6).

use super::{Ctx, Failure, Outcome};
use crate::cli::gates::GatesArgs;

pub async fn run(_ctx: &Ctx, _args: GatesArgs) -> Outcome {
    Err(Failure::not_built("CI gates"))
}
