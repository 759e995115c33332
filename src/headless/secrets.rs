//! `shipdeck secrets …` and `shipdeck keygen` (issue 7).

use super::{Ctx, Failure, Outcome};
use crate::cli::secrets::{KeygenArgs, SecretsArgs};

pub async fn run(_ctx: &Ctx, _args: SecretsArgs) -> Outcome {
    Err(Failure::not_built("secrets"))
}

pub async fn keygen(_ctx: &Ctx, _args: KeygenArgs) -> Outcome {
    Err(Failure::not_built("keygen"))
}
