//! `Action` is the UI's public API: user intents and async results. `Effect` is what `update`
//! asks the driver to do.

use serde::Deserialize;

use super::tasks::{TaskId, TaskOutcome};
use crate::services::Progress;

/// What a user can bind a key to. Names are the keymap's vocabulary (kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Leave shipdeck (asks first while a task runs).
    Quit,
    /// Move focus to the next panel.
    FocusNext,
    /// Move focus to the previous panel.
    FocusPrev,
    /// Show the focused panel full-screen, or go back.
    Zoom,
    /// Show every key.
    Help,
    /// Fuzzy-find and run any action.
    Palette,
    /// Close the overlay, or cancel the newest running task.
    Cancel,
    /// Move the selection up.
    Up,
    /// Move the selection down.
    Down,
    /// Suspend to the shell (resume with `fg`).
    Suspend,
    /// Set an environment's image tag.
    Release,
    /// Promote the previous environment's tag into the selected one; with the Rollout panel
    /// focused, promote the canary to its next step.
    Promote,
    /// Skip the remaining canary steps.
    PromoteFull,
    /// Abort the canary: traffic back on stable.
    Abort,
    /// Retry an aborted rollout.
    Retry,
    /// Pause the rollout.
    Pause,
    /// Restart the rollout's pods.
    Restart,
    /// Abort in the cluster and put the previous tag back in git.
    Rollback,
    /// Secrets: SOPS files, recipients, rotation.
    Secrets,
    /// Tidy the tmp folder.
    Tmp,
    /// GitHub teams → Feishu chats.
    Feishu,
    /// Open the selected item's link.
    OpenLink,
    /// Show the next app.
    NextApp,
    /// Show the previous app.
    PrevApp,
}

impl Command {
    /// Every command, in the order help and the palette list them.
    pub const ALL: [Command; 24] = [
        Command::Release,
        Command::Promote,
        Command::PromoteFull,
        Command::Abort,
        Command::Retry,
        Command::Pause,
        Command::Restart,
        Command::Rollback,
        Command::Secrets,
        Command::Tmp,
        Command::Feishu,
        Command::OpenLink,
        Command::NextApp,
        Command::PrevApp,
        Command::FocusNext,
        Command::FocusPrev,
        Command::Zoom,
        Command::Up,
        Command::Down,
        Command::Help,
        Command::Palette,
        Command::Cancel,
        Command::Suspend,
        Command::Quit,
    ];

    /// The keymap name.
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::FocusNext => "focus-next",
            Command::FocusPrev => "focus-prev",
            Command::Zoom => "zoom",
            Command::Help => "help",
            Command::Palette => "palette",
            Command::Cancel => "cancel",
            Command::Up => "up",
            Command::Down => "down",
            Command::Suspend => "suspend",
            Command::Release => "release",
            Command::Promote => "promote",
            Command::PromoteFull => "promote-full",
            Command::Abort => "abort",
            Command::Retry => "retry",
            Command::Pause => "pause",
            Command::Restart => "restart",
            Command::Rollback => "rollback",
            Command::Secrets => "secrets",
            Command::Tmp => "tmp",
            Command::Feishu => "feishu",
            Command::OpenLink => "open-link",
            Command::NextApp => "next-app",
            Command::PrevApp => "prev-app",
        }
    }

    /// One line for help and the palette.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit (asks while a task runs)",
            Command::FocusNext => "focus the next panel",
            Command::FocusPrev => "focus the previous panel",
            Command::Zoom => "zoom the focused panel / back",
            Command::Help => "this help",
            Command::Palette => "command palette",
            Command::Cancel => "close overlay / cancel newest task",
            Command::Up => "selection up",
            Command::Down => "selection down",
            Command::Suspend => "suspend to the shell",
            Command::Release => "release a tag to the selected env",
            Command::Promote => "promote prev env's tag (Rollout panel: canary step)",
            Command::PromoteFull => "canary: skip remaining steps",
            Command::Abort => "canary: abort, traffic to stable",
            Command::Retry => "canary: retry an aborted rollout",
            Command::Pause => "canary: pause",
            Command::Restart => "canary: restart pods",
            Command::Rollback => "abort + previous tag back in git",
            Command::Secrets => "secrets (SOPS + age)",
            Command::Tmp => "tidy tmp/",
            Command::Feishu => "GitHub teams → Feishu chats",
            Command::OpenLink => "open the selected link",
            Command::NextApp => "show the next app",
            Command::PrevApp => "show the previous app",
        }
    }
}

/// Everything that changes state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A user intent from the keymap, the palette or a click.
    Command(Command),
    /// A typed character while a text field has focus.
    Input(char),
    /// Backspace in a text field.
    Backspace,
    /// Enter in an overlay: accept.
    Submit,
    /// A left click at a terminal cell.
    Click { column: u16, row: u16 },
    /// The terminal changed size.
    Resize { width: u16, height: u16 },
    /// A second passed while something time-dependent is on screen.
    Tick,
    /// A background task moved on.
    TaskProgress { id: TaskId, progress: Progress },
    /// A background task ended.
    TaskFinished { id: TaskId, outcome: TaskOutcome },
    /// The environments' tags in git for the selected app, by env name.
    GitTags(Vec<(String, String)>),
    /// Ask git again (after an action, and every so often: a remote has no watch).
    RefreshGit,
    /// What the GitOps engine read: every app × env.
    GitSnapshot(Result<Vec<crate::services::gitops::EnvTag>, String>),
    /// Tags the release picker can offer.
    KnownTags {
        app: String,
        result: Result<Vec<crate::services::gitops::KnownTag>, String>,
    },
    /// An env's tag history, for the rollback picker.
    History {
        app: String,
        env: String,
        result: Result<Vec<crate::services::gitops::TagChange>, String>,
    },
    /// A release or promote reached the GitOps remote; the cluster will tell how it ends.
    Pushed {
        app: String,
        env: String,
        from: String,
        to: String,
        actor: String,
    },
    /// The gates of a release/promote candidate, for the confirmation.
    CandidateGates(crate::app::state::CandidateGates),
    /// The gates refused a change whose env allows an override: ask for a reason.
    GateRefused {
        change: crate::app::state::PendingChange,
        message: String,
    },
    /// The tmp cleanup plan: its rows and summary lines.
    TmpPlanned(Result<(Vec<crate::app::state::TmpRow>, Vec<String>), String>),
    /// The member sync plan: its lines and the writes it needs.
    FeishuPlanned(Result<(Vec<String>, usize), String>),
    /// A Feishu notification's fate in one chat.
    Notified { line: String, failed: bool },
    /// Read the secret files again (after a rotation).
    RefreshSecrets,
    /// The Secrets view's rows.
    SecretsLoaded(Result<Vec<crate::services::secrets::ops::FileInfo>, String>),
    /// A gate report arrived (or failed) for an env's tag.
    GatesLoaded {
        env: String,
        tag: String,
        result: Result<crate::services::github::GateReport, String>,
    },
    /// Time to ask again for an env's gates (scheduled from the report's `refresh_after`).
    RefreshGates { env: String },
    /// A cluster watch delivered something.
    Live(crate::services::kube::LiveEvent),
    /// The process was asked to stop (SIGTERM/SIGINT).
    Terminate,
    /// The driver is back from a suspend.
    Resumed,
}

/// What `update` asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave the event loop and restore the terminal.
    Quit,
    /// Restore the terminal, stop the process (SIGTSTP), re-enter on resume.
    Suspend,
    /// Cancel a background task.
    CancelTask(TaskId),
    /// Open a URL with the system opener.
    OpenUrl(String),
    /// Read every app × env from the GitOps repo (fetch first).
    RefreshGit,
    /// Tags for the release picker.
    LoadKnownTags { app: String },
    /// An env's history for the rollback picker.
    LoadHistory { app: String, env: String },
    /// Write a change to the GitOps repo as a background task.
    GitChange {
        task: TaskId,
        change: crate::app::state::PendingChange,
    },
    /// Send a rollout action (the plugin's patches) as a background task.
    RolloutAction {
        task: TaskId,
        app: String,
        env: String,
        action: crate::services::kube::actions::RolloutAction,
    },
    /// Tell the chats (the notifier never blocks the action).
    Notify(crate::services::feishu::Notification),
    /// Fetch the gates of a candidate tag against an env's required checks (fresh).
    FetchCandidateGates { env: String, tag: String },
    /// Plan the tmp cleanup (a preview).
    PlanTmp,
    /// Apply the last tmp plan without the skipped entries, as a background task.
    CleanTmp { task: TaskId, skip: Vec<usize> },
    /// Plan the GitHub → Feishu member sync (a dry run).
    PlanFeishu,
    /// Apply the last plan as a background task.
    ApplyFeishu { task: TaskId },
    /// List the inventory's SOPS files.
    LoadSecrets,
    /// A batch over SOPS files (rotate, add or remove a recipient) as a background task.
    SecretsBatch {
        task: TaskId,
        files: Vec<std::path::PathBuf>,
        op: super::state::SecretsOp,
    },
    /// Fetch the gates of an env's tag against its required checks.
    FetchGates {
        env: String,
        tag: String,
        required: Vec<String>,
    },
    /// Feed an action back after a delay (scheduled refreshes).
    After { delay_ms: u64, action: Box<Action> },
    /// Start or stop the 1 Hz tick (only while something on screen depends on time).
    SetTicking(bool),
}
