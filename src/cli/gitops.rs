//! Arguments of the GitOps commands (issue 3).

// "GitOps" is the field's name, not an identifier to put in backticks.
#![allow(clippy::doc_markdown)]

use clap::Args;

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    pub app: String,
    #[arg(long)]
    pub env: String,
    #[arg(long)]
    pub tag: String,
    #[command(flatten)]
    pub gates: GateOverride,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    pub app: String,
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub gates: GateOverride,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub app: String,
    #[arg(long)]
    pub env: String,
    /// Tag to go back to (default: the tag that ran before the current one; a second run after
    /// a rollback changes nothing).
    #[arg(long)]
    pub to: Option<String>,
    /// Print what would happen (git target, canary abort) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub app: String,
    #[arg(long)]
    pub env: String,
}

/// Going in with gates that are not green: only where the inventory allows it, with a reason
/// that lands in the audit journal, the commit trailer and the chat message.
#[derive(Debug, Clone, clap::Args)]
pub struct GateOverride {
    /// Release even though required gates are not all passed (env must allow it).
    #[arg(long, requires = "reason")]
    pub override_gates: bool,
    /// Why (incident, ticket); required with --override-gates.
    #[arg(long)]
    pub reason: Option<String>,
}
