//! Arguments of `shipdeck feishu …` (issue 8).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct FeishuArgs {
    #[command(subcommand)]
    pub command: FeishuCommand,
}

#[derive(Debug, Subcommand)]
pub enum FeishuCommand {
    /// Send a text message to a chat's bot webhook.
    Notify {
        #[arg(long)]
        chat: String,
        #[arg(long)]
        text: String,
    },
    /// Sync GitHub team members into Feishu chats.
    Sync {
        #[arg(long, conflicts_with = "apply")]
        dry_run: bool,
        #[arg(long)]
        apply: bool,
    },
}
