//! From parsed arguments to an exit code.

use clap::CommandFactory;

use crate::app::{Keymap, State};
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
        timeout: cli.timeout.map(std::time::Duration::from_secs),
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
    // A blocking call left behind at its deadline (libgit2 on a dripping server) must not
    // hold the exit: what it might still write is checked by the next command, which fetches
    // first.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match outcome {
        Ok(()) => 0,
        Err(f) => ctx.report_failure(&f),
    }
}

async fn dispatch(ctx: &Ctx, command: Option<Command>) -> Outcome {
    if ctx.output == crate::cli::OutputFormat::Markdown
        && !matches!(command, Some(Command::Changes(_)))
    {
        return Err(Failure::bad_input(
            "--output markdown is for `shipdeck changes`; this command prints a table or JSON",
        ));
    }
    match command {
        None => cockpit(ctx).await,
        Some(Command::Status(a)) => headless::status::run(ctx, a).await,
        Some(Command::Release(a)) => headless::gitops::release(ctx, a).await,
        Some(Command::Promote(a)) => headless::gitops::promote(ctx, a).await,
        Some(Command::Rollback(a)) => Box::pin(headless::gitops::rollback(ctx, a)).await,
        Some(Command::History(a)) => headless::gitops::history(ctx, a).await,
        Some(Command::Rollout(a)) => headless::rollout::run(ctx, a).await,
        Some(Command::Guard(a)) => headless::guard::run(ctx, a).await,
        Some(Command::Argocd(a)) => headless::argocd::run(ctx, a).await,
        Some(Command::Events(a)) => headless::events::run(ctx, a).await,
        Some(Command::Logs(a)) => headless::logs::run(ctx, a).await,
        Some(Command::Gates(a)) => headless::gates::run(ctx, a).await,
        Some(Command::Changes(a)) => headless::changes::run(ctx, a).await,
        Some(Command::Slo(a)) => headless::slo::run(ctx, a).await,
        Some(Command::Backups(a)) => headless::backups::run(ctx, a).await,
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
            // Into memory first: clap_complete panics on a write error, and a closed pipe
            // (`| head -1`) is no error worth one.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "shipdeck", &mut script);
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
            Ok(())
        }
        Some(Command::Demo(a)) => crate::demo::run(ctx, a).await,
    }
}

/// The default keymap overlaid by the user's `keymap.yaml`; a broken override is reported in
/// the log and ignored rather than locking the user out of their keys.
/// The keymap, with the user's overrides if they parse; else the defaults and the reason,
/// for the status line at start (a log line alone would go unseen).
pub fn load_keymap(paths: &Paths) -> (Keymap, Option<String>) {
    let path = paths.keymap_override();
    match std::fs::read_to_string(&path) {
        Ok(text) => match Keymap::with_overrides(&text) {
            Ok(k) => (k, None),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "keymap override ignored");
                (
                    Keymap::default(),
                    Some(format!(
                        "keymap override ignored, default keys in use: {}: {e}",
                        path.display()
                    )),
                )
            }
        },
        Err(_) => (Keymap::default(), None),
    }
}

async fn cockpit(ctx: &Ctx) -> Outcome {
    let inventory = ctx.inventory()?;
    let label = inventory.source.display().to_string();
    let (keymap, keymap_problem) = load_keymap(&ctx.paths);
    let mut state = State::new(&inventory, label, keymap);
    state.status = keymap_problem;
    state.read_only = crate::ops::read_only_reason(ctx.read_only, Some(&inventory));
    match crate::driver::run_tui(state, &inventory, &ctx.paths, ctx.read_only).await {
        Ok(None) => Ok(()),
        Ok(Some(signal)) => Err(Failure::new(signal, "")),
        Err(e) => Err(Failure::new(crate::headless::Exit::Failed, e.to_string())),
    }
}
