//! Headless subcommands: the same core as the TUI, printed for people or scripts.

pub mod feishu;
pub mod gates;
pub mod gitops;
pub mod inventory;
pub mod rollout;
pub mod secrets;
pub mod status;
pub mod tmp;

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
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
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
        let mut out = std::io::stdout().lock();
        let text = if self.json() {
            serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        } else {
            human(value)
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(out, "{}", text.trim_end());
    }

    /// Whether a write may go ahead: read-only refuses; a protected environment needs its
    /// name, typed at the prompt or given as `--confirm-env`; `--yes` skips the prompt otherwise.
    pub fn confirm(&self, question: &str, protected_env: Option<&str>) -> Outcome {
        if self.read_only {
            return Err(Failure::refused("read-only: writes are disabled"));
        }
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
        eprintln!("shipdeck: {}", failure.message);
        failure.exit.code()
    }
}

fn prompt(text: &str) -> String {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line
}

/// Sends the chat messages and waits (bounded) for them to go out: a notification never
/// fails the action, but a script's process should not exit before it is sent.
pub(crate) async fn notify(inv: &Inventory, cards: &[crate::services::feishu::Notification]) {
    if cards.is_empty() {
        return;
    }
    let (started, problems) = crate::services::feishu::notifier_for_inventory(inv);
    for p in problems {
        eprintln!("shipdeck: feishu: {p}");
    }
    let Some((notifier, mut outcomes)) = started else {
        return;
    };
    for c in cards {
        notifier.notify(c);
    }
    let drain = tokio::spawn(async move {
        while let Some(o) = outcomes.recv().await {
            if let crate::services::feishu::Delivery::Failed { error } = &o.delivery {
                eprintln!("shipdeck: feishu {}: {error}", o.chat);
            }
        }
    });
    notifier.close(std::time::Duration::from_secs(20)).await;
    let _ = drain.await;
}
