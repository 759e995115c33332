//! `shipdeck guard`: starts the release guard and runs it until SIGTERM, SIGINT or SIGHUP.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::guard::GuardArgs;
use crate::guard::{Guard, GuardError, GuardOpts, default_identity};

pub async fn run(ctx: &Ctx, args: GuardArgs) -> Outcome {
    let inv = Arc::new(ctx.inventory()?);
    let mut opts = GuardOpts::new(args.identity.unwrap_or_else(default_identity));
    opts.dry_run = args.dry_run;
    opts.listen = args.listen;
    opts.echo = true;
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return Err(Failure::new(Exit::Failed, "cannot listen for signals"));
    };
    let envs: Vec<&str> = inv
        .environments
        .iter()
        .filter(|(_, e)| e.auto_rollback)
        .map(|(n, _)| n.as_str())
        .collect();
    let envs = envs.join(", ");
    let guard = Guard::start(inv.clone(), ctx.paths.clone(), opts.clone())
        .await
        .map_err(|e| match e {
            GuardError::NothingToGuard => Failure::bad_input(e.to_string()),
            _ => Failure::new(Exit::Failed, e.to_string()),
        })?;
    println!(
        "{} guard {}: guarding {envs}{}; health and metrics on http://{}",
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        opts.identity,
        if opts.dry_run { " (dry run)" } else { "" },
        guard.addr
    );
    let ended = tokio::select! {
        _ = term.recv() => Exit::Terminated,
        _ = int.recv() => Exit::Interrupted,
        _ = hup.recv() => Exit::HungUp,
    };
    guard.stop().await;
    Err(Failure::new(ended, ""))
}
