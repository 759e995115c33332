//! Arguments of `shipdeck argocd …`: Argo CD through the Application resource (issue 18).

use clap::{Args, Subcommand};

use super::rollout::Target;

#[derive(Debug, Args)]
pub struct ArgocdArgs {
    #[command(subcommand)]
    pub command: ArgocdCommand,
}

#[derive(Debug, Subcommand)]
pub enum ArgocdCommand {
    /// Ask Argo CD to compare the Application with git again, and wait until it has.
    Refresh {
        #[command(flatten)]
        target: Target,
        /// Also drop Argo CD's manifest cache (regenerate the manifests).
        #[arg(long)]
        hard: bool,
    },
    /// Sync the Application (write its `operation`) and follow it to its end. Refused while
    /// another operation runs; a sync window that blocks it is named, with until when.
    Sync {
        #[command(flatten)]
        target: Target,
        /// Revision to sync to (a commit, branch or tag; default: the Application's own).
        #[arg(long)]
        revision: Option<String>,
        /// Delete resources that are no longer in git.
        #[arg(long)]
        prune: bool,
        /// A sync option, as Argo CD spells it (`ApplyOutOfSyncOnly=true`); repeatable.
        #[arg(long = "sync-option", value_name = "OPTION")]
        sync_options: Vec<String>,
        /// Why (kept in the operation's info and the journal).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Stop the running operation (only while one runs).
    Terminate(Target),
}
