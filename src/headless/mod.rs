//! Headless subcommands: the same core as the TUI, printed for people or scripts.

pub mod argocd;
pub mod backups;
pub mod changes;
pub mod events;
pub mod feishu;
pub mod gates;
pub mod gitops;
pub mod guard;
pub mod inventory;
pub mod logs;
pub mod rollout;
pub mod secrets;
pub mod slo;
pub mod status;
pub mod tmp;
pub mod wait;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::inventory::{Inventory, InventoryError};
use crate::paths::Paths;

/// Process exit codes (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    BadInput = 2,
    Conflict = 3,
    Remote = 4,
    Refused = 5,
    /// `rollout wait`: not reached in time (as `timeout(1)` exits).
    Timeout = 124,
    /// Ended by SIGHUP, SIGINT (ctrl-c) or SIGTERM: 128 + the signal, as shells report it.
    HungUp = 129,
    Interrupted = 130,
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why a headless command did not succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// The command already printed its result document; in JSON mode nothing more goes to stdout.
    pub emitted: bool,
}

impl Failure {
    /// The message is printed: URLs in it lose their credentials.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: crate::redact::text(&message.into()),
            emitted: false,
        }
    }

    /// Marks a failure whose result was already printed (e.g. a gate report that is not green),
    /// so scripts get exactly one JSON document.
    #[must_use]
    pub fn after_output(mut self) -> Self {
        self.emitted = true;
        self
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Exit::BadInput, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Exit::Refused, message)
    }

    /// For areas whose service has not landed yet: say so plainly.
    pub fn not_built(what: &str) -> Self {
        Self::new(
            Exit::Failed,
            format!("{what} is not built yet in this version of shipdeck"),
        )
    }
}

impl From<crate::ops::OpError> for Failure {
    fn from(e: crate::ops::OpError) -> Self {
        use crate::ops::Fault;
        let exit = match e.fault {
            Fault::BadInput => Exit::BadInput,
            Fault::Conflict => Exit::Conflict,
            Fault::Remote => Exit::Remote,
            Fault::Refused | Fault::Forbidden => Exit::Refused,
            Fault::Cancelled | Fault::Failed => Exit::Failed,
        };
        Failure::new(exit, e.message)
    }
}

impl From<InventoryError> for Failure {
    fn from(e: InventoryError) -> Self {
        Failure::bad_input(e.to_string())
    }
}

pub type Outcome = Result<(), Failure>;

/// What every headless command gets: the global flags and the folders.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub output: OutputFormat,
    pub yes: bool,
    pub confirm_env: Option<String>,
    pub read_only: bool,
    /// `--timeout`: the longest any op of this command waits.
    pub timeout: Option<std::time::Duration>,
    pub inventory_path: Option<PathBuf>,
    pub paths: Paths,
}

impl Ctx {
    /// Locates and loads the inventory.
    pub fn inventory(&self) -> Result<Inventory, Failure> {
        let path =
            crate::inventory::locate(self.inventory_path.as_deref(), &self.paths.config_dir)?;
        Ok(Inventory::load(&path)?)
    }

    pub fn json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// Prints a result: JSON for scripts, the human rendering otherwise.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) {
        let text = if self.json() {
            serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        } else {
            printable(&human(value))
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
    }

    /// One record of a stream (`--watch`): JSON on one line (NDJSON), else the human text.
    /// `false` once the reader has gone (a closed pipe): the stream should stop.
    pub fn emit_record<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> bool {
        let text = if self.json() {
            serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        } else {
            printable(&human(value))
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", text.trim_end()).is_ok() && out.flush().is_ok()
    }

    /// Whether a write may go ahead: a protected environment needs its name, typed at the
    /// prompt or given as `--confirm-env`; `--yes` skips the prompt otherwise. (Whether writes
    /// are on at all is the op's to say: `OpCtx::check_writable` before asking.)
    pub fn confirm(&self, question: &str, protected_env: Option<&str>) -> Outcome {
        if let Some(env) = protected_env {
            if self.confirm_env.as_deref() == Some(env) {
                return Ok(());
            }
            if self.confirm_env.is_some() {
                return Err(Failure::refused(format!(
                    "--confirm-env does not match the protected environment `{env}`"
                )));
            }
            if self.yes || !std::io::stdin().is_terminal() {
                return Err(Failure::refused(format!(
                    "`{env}` is protected: pass --confirm-env {env} as well"
                )));
            }
            let typed = prompt(&format!("{question}\nType `{env}` to confirm: "));
            return if typed.trim() == env {
                Ok(())
            } else {
                Err(Failure::refused("not confirmed"))
            };
        }
        if self.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::refused(
                "confirmation needed: pass --yes when running without a terminal",
            ));
        }
        let typed = prompt(&format!("{question} [y/N] "));
        if matches!(typed.trim(), "y" | "Y" | "yes") {
            Ok(())
        } else {
            Err(Failure::refused("not confirmed"))
        }
    }

    /// Prints a failure the way the output format asks; returns the exit code.
    pub fn report_failure(&self, failure: &Failure) -> u8 {
        if self.json() && !failure.emitted {
            let body = serde_json::json!({
                "ok": false,
                "exit": failure.exit.code(),
                "error": failure.message,
            });
            println!("{body:#}");
        }
        // A signal's exit says it all; there is nothing to add.
        if !failure.message.is_empty() {
            eprintln!("shipdeck: {}", printable(&failure.message));
        }
        failure.exit.code()
    }
}

/// Text for a terminal: control characters other than newline and tab are shown escaped, so
/// input echoed back (a tag `\x1b[31mRED`) cannot drive the terminal.
pub fn printable(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn prompt(text: &str) -> String {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line
}

/// The ops context of one headless command, with the chat notifier it owns: closing the
/// session waits (bounded) for queued cards, so a script's process does not exit before they
/// are sent.
pub(crate) struct OpSession {
    pub ops: crate::ops::OpCtx,
    notifier: Option<(
        std::sync::Arc<crate::services::feishu::Notifier>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl OpSession {
    /// The context for `inv`; with `gates`, a GitHub client for the promotion guard.
    pub async fn open(ctx: &Ctx, inv: Inventory, gates: bool) -> OpSession {
        let inv = std::sync::Arc::new(inv);
        let (started, problems) = inv
            .feishu
            .as_ref()
            .map(|cfg| crate::services::feishu::notifier_for(cfg, inv.base_dir()))
            .unwrap_or_default();
        for p in problems {
            eprintln!("shipdeck: feishu: {p}");
        }
        let notifier = started.map(|(n, mut outcomes)| {
            let drain = tokio::spawn(async move {
                while let Some(o) = outcomes.recv().await {
                    if let crate::services::feishu::Delivery::Failed { error } = &o.delivery {
                        eprintln!("shipdeck: feishu {}: {error}", o.chat);
                    }
                }
            });
            (std::sync::Arc::new(n), drain)
        });
        let gates = if gates {
            crate::ops::gitops::gates_service(&inv).await
        } else {
            None
        };
        let ops = crate::ops::OpCtx::new(inv, ctx.paths.clone(), ctx.read_only)
            .with_notifier(notifier.as_ref().map(|(n, _)| n.clone()))
            .with_gates(gates)
            .with_timeout(ctx.timeout);
        OpSession { ops, notifier }
    }

    /// Before an app × env write: writes on (a refusal is journaled by the op context), then
    /// the question (a protected env's name typed or given as `--confirm-env`).
    pub async fn may_write(
        &self,
        ctx: &Ctx,
        op: &str,
        (app, env): (&str, &str),
        question: &str,
        protected_env: Option<&str>,
    ) -> Outcome {
        self.ops
            .check_writable(op, Some(app), Some(env))
            .await
            .map_err(Failure::from)?;
        ctx.confirm(question, protected_env)
    }

    /// A context without an inventory (secrets commands on explicit files): no chats.
    pub fn without_inventory(ctx: &Ctx) -> OpSession {
        OpSession {
            ops: crate::ops::OpCtx::without_inventory(ctx.paths.clone(), ctx.read_only)
                .with_timeout(ctx.timeout),
            notifier: None,
        }
    }

    /// Waits for the cards the op queued.
    pub async fn close(self) {
        let OpSession { ops, notifier } = self;
        drop(ops);
        if let Some((n, drain)) = notifier
            && let Ok(n) = std::sync::Arc::try_unwrap(n)
        {
            n.close(std::time::Duration::from_secs(20)).await;
            let _ = drain.await;
        }
    }
}
