//! `shipdeck feishu notify|sync` (issue 8).

use super::{Ctx, Failure, Outcome};
use crate::cli::feishu::FeishuArgs;

pub async fn run(_ctx: &Ctx, _args: FeishuArgs) -> Outcome {
    Err(Failure::not_built("Feishu"))
}
