//! From parsed arguments to an exit code.

use clap::CommandFactory;

use crate::cli::{Cli, Command, InventoryCommand};
use crate::headless::{self, Ctx, Failure, Outcome};
use crate::paths::Paths;

/// Runs shipdeck and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    // reqwest is built without a default crypto provider; install ring once, before any client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let paths = Paths::from_env();
    let _log_guard = crate::logging::init(&paths.log_dir());
    let ctx = Ctx {
        output: cli.output,
        yes: cli.yes,
        confirm_env: cli.confirm_env.clone(),
        read_only: cli.read_only,
        inventory_path: cli.inventory.clone(),
        paths,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shipdeck: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let outcome = runtime.block_on(dispatch(&ctx, cli.command));
    match outcome {
        Ok(()) => 0,
        Err(f) => ctx.report_failure(&f),
    }
}

async fn dispatch(ctx: &Ctx, command: Option<Command>) -> Outcome {
    match command {
        None => Err(Failure::not_built("the cockpit")),
        Some(Command::Status) => headless::status::run(ctx).await,
        Some(Command::Release(a)) => headless::gitops::release(ctx, a).await,
        Some(Command::Promote(a)) => headless::gitops::promote(ctx, a).await,
        Some(Command::Rollback(a)) => headless::gitops::rollback(ctx, a).await,
        Some(Command::History(a)) => headless::gitops::history(ctx, a).await,
        Some(Command::Rollout(a)) => headless::rollout::run(ctx, a).await,
        Some(Command::Gates(a)) => headless::gates::run(ctx, a).await,
        Some(Command::Secrets(a)) => headless::secrets::run(ctx, a).await,
        Some(Command::Keygen(a)) => headless::secrets::keygen(ctx, a).await,
        Some(Command::Tmp(a)) => headless::tmp::run(ctx, a).await,
        Some(Command::Feishu(a)) => headless::feishu::run(ctx, a).await,
        Some(Command::Inventory(a)) => match a.command {
            InventoryCommand::Check { path } => headless::inventory::check(ctx, path),
        },
        Some(Command::Paths) => {
            ctx.emit(&ctx.paths, |p| {
                format!(
                    "config  {}\ndata    {}\nstate   {}\nlogs    {}\naudit   {}",
                    p.config_dir.display(),
                    p.data_dir.display(),
                    p.state_dir.display(),
                    p.log_dir().display(),
                    p.audit_journal().display()
                )
            });
            Ok(())
        }
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "shipdeck", &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Demo(_)) => Err(Failure::not_built("the demo")),
    }
}
