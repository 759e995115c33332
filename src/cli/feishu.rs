//! Arguments of `shipdeck feishu …` (issue 8).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct FeishuArgs {
    #[command(subcommand)]
    pub command: FeishuCommand,
}

#[derive(Debug, Subcommand)]
pub enum FeishuCommand {
    /// Send a text message to a chat's bot webhook (signed when the chat has a secret).
    Notify {
        /// Chat name from the inventory's `feishu.chats`.
        #[arg(long)]
        chat: String,
        /// The message (plain text).
        #[arg(long)]
        text: String,
    },
    /// Sync GitHub team members into Feishu chats: a dry run shows the plan; --apply performs
    /// it (with --yes when there is no terminal, e.g. from cron or an Actions schedule).
    Sync {
        /// Show the plan only (the default).
        #[arg(long, conflicts_with = "apply")]
        dry_run: bool,
        /// Perform the plan.
        #[arg(long)]
        apply: bool,
    },
}
