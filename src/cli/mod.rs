//! Command-line definitions: the TUI (no subcommand) and every headless subcommand.
//! Each area's arguments live in their own file so the areas can grow independently.

pub mod argocd;
pub mod backups;
pub mod changes;
pub mod events;
pub mod feishu;
pub mod gates;
pub mod gitops;
pub mod guard;
pub mod logs;
pub mod rollout;
pub mod secrets;
pub mod slo;
pub mod tmp;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, shown in `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  failed (see the message)
  2  bad input (arguments, inventory, tag, unknown app or env)
  3  conflict (someone else changed it meanwhile; review and retry)
  4  remote error (git remote, API server, GitHub, Feishu)
  5  refused (gates not green, confirmation missing, read-only)
  124  `rollout wait`: the state was not reached within --timeout
  129/130/143  ended by SIGHUP / SIGINT (ctrl-c) / SIGTERM";

#[derive(Debug, Parser)]
#[command(
    name = "shipdeck",
    version,
    about = "A terminal release cockpit for GitOps on Kubernetes.",
    long_about = "A terminal release cockpit for GitOps on Kubernetes.\n\nWithout a subcommand it opens the cockpit on the inventory's environments. Every action is also a headless subcommand for scripts (`--output json`).",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Inventory file (else $SHIPDECK_INVENTORY, else <config dir>/inventory.yaml).
    #[arg(long, global = true, value_name = "PATH")]
    pub inventory: Option<PathBuf>,
    /// Output format of headless commands.
    /// (No short form: `-o` is `keygen`'s output file, as in `age-keygen -o`.)
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Skip confirmations (a protected env also needs --confirm-env NAME).
    #[arg(long, global = true)]
    pub yes: bool,
    /// Type the protected environment's name, as the TUI asks you to.
    #[arg(long, global = true, value_name = "ENV")]
    pub confirm_env: Option<String>,
    /// Disable every write.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Give up after this many seconds (or `90s`, `10m`, `1h`), with exit 4 naming what it
    /// waited for (`rollout wait`: exit 124). Without it each far end's own deadline from the
    /// inventory holds (`status`: 10 s for the clusters).
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<u64>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How headless commands print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Human-readable table.
    #[default]
    #[value(alias = "human", alias = "text")]
    Table,
    /// One JSON document on stdout.
    Json,
    /// Markdown, ready to paste (`changes`: release notes).
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// What shipdeck knows per app × environment: git, the cluster (live image, Argo CD sync and
    /// health, the rollout's phase and step) and the gates. Exits 4 naming any source that did
    /// not answer.
    Status(StatusArgs),
    /// Set an environment's image tag in the GitOps repo.
    Release(gitops::ReleaseArgs),
    /// Copy one environment's tag into the next (behind its gates).
    Promote(gitops::PromoteArgs),
    /// Abort the canary and put the previous good tag back in git.
    Rollback(gitops::RollbackArgs),
    /// An environment's tag history.
    History(gitops::HistoryArgs),
    /// Inspect or act on an Argo Rollout, or wait for it to reach a state.
    Rollout(rollout::RolloutArgs),
    /// The release guard: watch the environments with `auto_rollback: true` and roll a failed
    /// canary back in git by itself (a long-running service; several replicas elect a leader).
    Guard(guard::GuardArgs),
    /// Refresh, sync or terminate an Argo CD Application (through the Kubernetes API).
    Argocd(argocd::ArgocdArgs),
    /// The event timeline, listed once: the app's Kubernetes Events in the env (Rollout,
    /// ReplicaSets, Pods, AnalysisRuns, Argo CD Application) and shipdeck's own journaled
    /// actions, newest first. Exits 4 when a cluster does not answer.
    Events(events::EventsArgs),
    /// Print (or follow) the logs of a Rollout's canary or stable pods.
    Logs(logs::LogsArgs),
    /// CI gates of the commit an environment runs or would run.
    Gates(gates::GatesArgs),
    /// What is in a promote: the commits and pull requests one environment's tag would bring
    /// to another (GitHub's compare), as text, JSON or Markdown release notes.
    Changes(changes::ChangesArgs),
    /// Canary vs stable SLO from Prometheus: error rate and p50/p90/p99 against the
    /// thresholds. Exits 1 when any is breached, 4 when Prometheus does not answer.
    Slo(slo::SloArgs),
    /// Each environment's newest backup on the object store and its age against
    /// backups.max_age. Exits 1 when one is stale, 4 when the store does not answer.
    Backups(backups::BackupsArgs),
    /// SOPS + age secret files.
    Secrets(secrets::SecretsArgs),
    /// Generate an age identity (like age-keygen).
    Keygen(secrets::KeygenArgs),
    /// Tidy the tmp folder by pattern and age.
    Tmp(tmp::TmpArgs),
    /// Feishu notifications and GitHub team → chat member sync.
    Feishu(feishu::FeishuArgs),
    /// Check an inventory file.
    Inventory(InventoryArgs),
    /// Print the config, data and state folders.
    Paths,
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Start the built-in sandbox and open the cockpit on it.
    Demo(DemoArgs),
}

/// A number of seconds, bare or with a unit: `30`, `90s`, `10m`, `1h`; at least 1.
pub fn parse_secs(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: give seconds, or e.g. 90s, 10m, 1h"))?;
    let secs = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(|| format!("`{text}` is not a duration: give seconds, or e.g. 90s, 10m, 1h"))?;
    if secs == 0 {
        return Err("the timeout must be at least 1 second".to_owned());
    }
    Ok(secs)
}

#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(subcommand)]
    pub command: InventoryCommand,
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Validate an inventory; prints file:line:col and the fix for each problem.
    Check {
        /// The file (default: the inventory shipdeck would use).
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Workspace folder (default: a fresh temp dir).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Prepare the sandbox and keep it running without opening the cockpit.
    #[arg(long)]
    pub no_tui: bool,
    /// Time-scale of the simulated world (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// A fleet instead of the two demo apps: N apps × dev/stg/prod over three simulated
    /// clusters and N/10 team namespaces, a build a minute per ten apps.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4000))]
    pub apps: Option<u16>,
    /// With --apps: pods no Rollout made in each namespace of each cluster (other workloads).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "apps")]
    pub unrelated_pods: usize,
}
