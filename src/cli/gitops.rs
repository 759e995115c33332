//! Arguments of the GitOps commands (issue 3).

// "GitOps" is the field's name, not an identifier to put in backticks.
#![allow(clippy::doc_markdown)]

use clap::Args;

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose tag to set.
    #[arg(long)]
    pub env: String,
    /// The image tag to release (a commit SHA, or what `github.tag_sha_regex` reads).
    #[arg(long)]
    pub tag: String,
    #[command(flatten)]
    pub gates: GateOverride,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment to copy the tag from (default: the target's `promote_from`).
    #[arg(long)]
    pub from: Option<String>,
    /// The environment to promote into.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub gates: GateOverride,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment to roll back.
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
    /// The app, as the inventory names it.
    pub app: String,
    /// The environment whose tag changes to list, newest first.
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
