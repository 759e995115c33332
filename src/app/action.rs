//! `Action` is the UI's public API: user intents and async results. `Effect` is what `update`
//! asks the driver to do.

use serde::Deserialize;

use super::tasks::{TaskId, TaskOutcome};
use crate::services::Progress;

/// What a user can bind a key to. Names are the keymap's vocabulary (kebab-case); the list,
/// the names and the one-line descriptions all come from this one declaration.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Deserialize,
    PartialOrd,
    Ord,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumMessage,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Command {
    /// Set an environment's image tag.
    #[strum(message = "release a tag to the selected env")]
    Release,
    /// Promote the previous environment's tag into the selected one; with the Rollout panel
    /// focused, promote the canary to its next step.
    #[strum(message = "promote prev env's tag (Rollout panel: canary step)")]
    Promote,
    /// Skip the remaining canary steps.
    #[strum(message = "canary: skip remaining steps")]
    PromoteFull,
    /// Abort the canary: traffic back on stable.
    #[strum(message = "canary: abort, traffic to stable")]
    Abort,
    /// Retry an aborted rollout.
    #[strum(message = "canary: retry an aborted rollout")]
    Retry,
    /// Pause the rollout.
    #[strum(message = "canary: pause")]
    Pause,
    /// Restart the rollout's pods.
    #[strum(message = "canary: restart pods")]
    Restart,
    /// Abort in the cluster and put the previous tag back in git.
    #[strum(message = "abort + previous tag back in git")]
    Rollback,
    /// Secrets: SOPS files, recipients, rotation.
    #[strum(message = "secrets (SOPS + age)")]
    Secrets,
    /// Tidy the tmp folder.
    #[strum(message = "tidy tmp/")]
    Tmp,
    /// GitHub teams → Feishu chats.
    #[strum(message = "GitHub teams → Feishu chats")]
    Feishu,
    /// The commits and pull requests the selected env's promote would bring.
    #[strum(message = "changes: commits and PRs between envs")]
    Changes,
    /// One time-ordered list of the selected app's cluster events and shipdeck's own actions.
    #[strum(message = "timeline: the app's events + our actions")]
    Timeline,
    /// Ask Argo CD to compare the selected env's Application with git again.
    #[strum(message = "Argo CD: refresh the env's Application")]
    Refresh,
    /// Sync the selected env's Application now (through its `operation`).
    #[strum(message = "Argo CD: sync the env's Application")]
    Sync,
    /// Stop the Application's running operation.
    #[strum(message = "Argo CD: terminate the running sync")]
    TerminateSync,
    /// On the Rollout panel, canary and stable pod logs side by side; elsewhere the next app
    /// (`l` is both, as `p` is the canary's promote only on the Rollout panel).
    #[strum(message = "pod logs (Rollout panel) / next app")]
    Logs,
    /// Open the selected item's link.
    #[strum(message = "open the selected link")]
    OpenLink,
    /// Show the next app.
    #[strum(message = "show the next app")]
    NextApp,
    /// Show the previous app.
    #[strum(message = "show the previous app")]
    PrevApp,
    /// Move focus to the next panel.
    #[strum(message = "focus the next panel")]
    FocusNext,
    /// Move focus to the previous panel.
    #[strum(message = "focus the previous panel")]
    FocusPrev,
    /// Show the focused panel full-screen, or go back.
    #[strum(message = "zoom the focused panel / back")]
    Zoom,
    /// Open the selected item: an Activity line whole; elsewhere, zoom.
    #[strum(message = "open the selected Activity line whole (else zoom)")]
    Open,
    /// Move the selection up.
    #[strum(message = "selection up")]
    Up,
    /// Move the selection down.
    #[strum(message = "selection down")]
    Down,
    /// Show every key.
    #[strum(message = "this help")]
    Help,
    /// Fuzzy-find and run any action.
    #[strum(message = "command palette")]
    Palette,
    /// Every app × env on one screen, what needs a person on top (or back to the app).
    #[strum(message = "fleet: every app × env, needs-me first / back")]
    Fleet,
    /// Fleet view: group the rows by the next label key (`apps.*.labels`), or not at all.
    #[strum(message = "fleet: group rows by the next label")]
    Group,
    /// Show an app by name (`app NAME` in the palette).
    #[strum(message = "show an app by name: app NAME")]
    App,
    /// Select an env by name (`env NAME` in the palette).
    #[strum(message = "select an env by name: env NAME")]
    Env,
    /// Close the overlay, or cancel the newest running task.
    #[strum(message = "close overlay / cancel newest task")]
    Cancel,
    /// Suspend to the shell (resume with `fg`).
    #[strum(message = "suspend to the shell")]
    Suspend,
    /// Leave shipdeck (asks first while a task runs).
    #[strum(message = "quit (asks while a task runs)")]
    Quit,
    /// Secrets view: rotate the selected file's data key.
    #[strum(message = "secrets view: rotate the selected file")]
    Rotate,
    /// Secrets view: rotate every file past its rotation age.
    #[strum(message = "secrets view: rotate every stale file")]
    RotateStale,
    /// Secrets view: rotate every listed file.
    #[strum(message = "secrets view: rotate every listed file")]
    RotateAll,
    /// Secrets view: give an age recipient access to every listed file.
    #[strum(message = "secrets view: give an age recipient access")]
    AddRecipient,
    /// Secrets view: take an age recipient out (and rotate its files' data keys).
    #[strum(message = "secrets view: take an age recipient out")]
    RemoveRecipient,
    /// A view: change the order of its rows.
    #[strum(message = "view: change the order")]
    Order,
    /// Tmp view: keep the selected entry, or remove it again.
    #[strum(message = "tmp view: keep / remove the entry")]
    Toggle,
    /// A view: apply what it shows (tmp clean, Feishu member sync); asks first.
    #[strum(message = "view: apply (tmp clean, Feishu sync; asks first)")]
    Apply,
    /// A view: type to keep only the rows that contain it.
    #[strum(message = "view: filter the rows (enter keeps, esc clears)")]
    Filter,
    /// Logs view: pause or resume the panes.
    #[strum(message = "logs: pause / follow again")]
    PauseLogs,
    /// Logs view: the next container of multi-container pods.
    #[strum(message = "logs: next container")]
    Container,
}

impl Command {
    /// Every command, in the order help and the palette list them.
    pub const ALL: &'static [Command] = <Command as strum::VariantArray>::VARIANTS;

    /// The keymap name.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// One line for help and the palette.
    pub fn describe(self) -> &'static str {
        strum::EnumMessage::get_message(&self).unwrap_or("")
    }

    /// Bound only inside a view's section of the keymap (meaningless on the main screen).
    pub fn view_only(self) -> bool {
        matches!(
            self,
            Command::Rotate
                | Command::RotateStale
                | Command::RotateAll
                | Command::AddRecipient
                | Command::RemoveRecipient
                | Command::Order
                | Command::Toggle
                | Command::Apply
                | Command::Filter
                | Command::PauseLogs
                | Command::Container
                | Command::Group
        )
    }

    /// Whether the command changes something outside (git, the cluster, files, chats): those
    /// are refused while writes are off.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Command::Release
                | Command::Refresh
                | Command::Sync
                | Command::TerminateSync
                | Command::Promote
                | Command::PromoteFull
                | Command::Abort
                | Command::Retry
                | Command::Pause
                | Command::Restart
                | Command::Rollback
                | Command::Rotate
                | Command::RotateStale
                | Command::RotateAll
                | Command::AddRecipient
                | Command::RemoveRecipient
                | Command::Apply
        )
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
    /// ctrl-u in a text field: clear it.
    ClearInput,
    /// Enter in an overlay: accept.
    Submit,
    /// A left click at a terminal cell (the driver turns it into `Focus` by the layout).
    Click { column: u16, row: u16 },
    /// Focus this panel (a click on it).
    Focus(super::state::Panel),
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
    /// Ask the remote whether its branch moved (the frequent cheap check).
    RefreshGitRef,
    /// What the GitOps engine read: every app × env.
    GitSnapshot(Result<Vec<crate::services::gitops::EnvTag>, String>),
    /// The remote branch's tip (a cheap check: a new tip means a snapshot to fetch).
    GitRef(Result<String, String>),
    /// The tip the last snapshot was read at (so the next check compares against it).
    GitFetched(String),
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
    /// What GitHub said about the changes between two tags.
    ChangesLoaded {
        base_tag: String,
        head_tag: String,
        result: Result<crate::services::github::ChangeSummary, String>,
    },
    /// The fleet's gates, per (tag, env).
    FleetGates(
        Vec<(
            (String, String),
            Result<crate::services::github::GateReport, String>,
        )>,
    ),
    /// Ask again for the fleet's gates that were not settled.
    RefreshFleetGates,
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
    /// The artifacts of `tag` of `app` for `env` were listed (or could not be).
    ArtifactsLoaded {
        app: String,
        env: String,
        tag: String,
        result: Result<crate::services::s3::PrefixSummary, String>,
    },
    /// List the artifacts of `tag` of `app` for `env` again (they were missing or unreadable:
    /// a sync step may land them any time).
    RefreshArtifacts {
        app: String,
        env: String,
        tag: String,
    },
    /// Read every env's newest backup again (on start, then on a timer).
    RefreshBackups,
    /// The last log lines of a failed migration Job (`namespace/name`), or why not.
    MigrationLogs {
        job: String,
        result: Result<Vec<String>, String>,
    },
    /// The backups were read (`Err`: the store could not be asked at all).
    BackupsLoaded(Result<Vec<crate::services::s3::BackupRead>, String>),
    /// Read the SLO of `app` in `env` (canary vs stable) again: the SLO panel's clock, or a
    /// key. `since` (Unix seconds, e.g. when the canary started) asks for series from then.
    RefreshSlo {
        app: String,
        env: String,
        since: Option<f64>,
    },
    /// An SLO read arrived (or failed); `seq` is the request it answers.
    SloLoaded {
        app: String,
        env: String,
        seq: u64,
        result: Result<Box<crate::services::prometheus::SloReport>, String>,
    },
    /// Time to ask again for the gates of an open confirmation's tag (they were running).
    RefreshCandidate { env: String, tag: String },
    /// The timeline's watch of one namespace (`source`: `cluster` or `argocd`) delivered every
    /// in-scope event (a snapshot), or failed; `seq` is the opening it belongs to.
    TimelineEvents {
        seq: u64,
        source: String,
        result: Result<Vec<crate::services::kube::timeline::ClusterEvent>, String>,
    },
    /// The journal's entries, read for the timeline opening `seq`.
    TimelineJournal {
        seq: u64,
        result: Result<Vec<crate::audit::Entry>, String>,
    },
    /// A cluster watch delivered something.
    Live(crate::services::kube::LiveEvent),
    /// The process was asked to stop (SIGTERM/SIGINT).
    Terminate,
    /// The driver is back from a suspend.
    Resumed,
    /// Lines and news of one side of the logs view's follow.
    Logs {
        generation: u64,
        role: crate::services::kube::logs::Role,
        events: Vec<crate::services::kube::logs::SideEvent>,
    },
    /// The status line's message number `n` has been up long enough (a newer one stays).
    StatusExpired(u64),
    /// Something on screen may read differently now (a grace period ran out): draw again.
    Recheck,
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
    /// Ask the remote for its branch's tip only (refs, no objects): cheap enough to do often.
    CheckGitRef,
    /// Tags for the release picker.
    LoadKnownTags { app: String },
    /// The changes `head` (env, tag) would bring to `base` (env, tag), from GitHub.
    LoadChanges {
        app: String,
        base: (String, String),
        head: (String, String),
    },
    /// An env's history for the rollback picker.
    LoadHistory { app: String, env: String },
    /// Write a change to the GitOps repo as a background task.
    GitChange {
        task: TaskId,
        change: crate::app::state::PendingChange,
    },
    /// Send a rollout action (the plugin's patches) as a background task.
    /// Follow both sides' pod logs for the logs view (replacing any follow running).
    FollowLogs {
        app: String,
        env: String,
        generation: u64,
        container: Option<String>,
    },
    /// Stop the logs view's follow.
    StopLogs,
    /// Refresh, sync or terminate an Argo CD Application.
    ArgoAction {
        task: TaskId,
        app: String,
        env: String,
        action: crate::ops::argocd::ArgoAction,
    },
    RolloutAction {
        task: TaskId,
        app: String,
        env: String,
        action: crate::services::kube::actions::RolloutAction,
    },
    /// Remember that these news keys were told (appended to the state folder's list).
    RememberNews(Vec<String>),
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
        op: crate::ops::secrets::SecretsChange,
    },
    /// Read the SLO of an app in an env from Prometheus (request number `seq`).
    ReadSlo {
        app: String,
        env: String,
        since: Option<f64>,
        seq: u64,
    },
    /// Fetch the gates of each tag against that env's required checks, batched.
    FleetGates { wanted: Vec<(String, String)> },
    /// List the artifacts of `tag` of `app` as `env` would get them.
    FetchArtifacts {
        app: String,
        env: String,
        tag: String,
    },
    /// Read every env's newest backup.
    ReadBackups,
    /// Read the last log lines of a failed migration Job in `env`.
    FetchMigrationLogs {
        env: String,
        job: crate::services::kube::migrations::MigrationJob,
    },
    /// Fetch the gates of an env's tag against its required checks.
    FetchGates {
        env: String,
        tag: String,
        required: Vec<String>,
    },
    /// Start the timeline's event watches for `app` in `env` (its namespace and Argo CD's),
    /// replacing any running ones; answers carry `seq`.
    WatchTimeline { seq: u64, app: String, env: String },
    /// Stop the timeline's watches (the view closed).
    StopTimeline,
    /// Read the journal for the timeline opening `seq`.
    ReadTimelineJournal { seq: u64 },
    /// Feed an action back after a delay. Scheduling a key again replaces its timer, so a
    /// refresh can never stack up behind itself.
    Schedule {
        key: TimerKey,
        after_ms: u64,
        action: Box<Action>,
    },
    /// Start or stop the 1 Hz tick (only while something on screen depends on time).
    SetTicking(bool),
}

/// The identity of a scheduled action: one timer per key at most.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKey {
    /// Ask the remote again whether its branch moved (a remote cannot be watched).
    GitRef,
    /// Ask GitHub again for the gates of an env's commit.
    Gates { env: String },
    /// Ask GitHub again for the gates of the tag an open confirmation would write.
    CandidateGates,
    /// Clear the status line once its message is old.
    Status,
    /// Look again once a disagreement between git and the cluster outlived its grace.
    Drift { app: String, env: String },
    /// Ask Prometheus again for the SLO on screen.
    Slo,
    /// Ask GitHub again for the fleet's gates that were still running.
    FleetGates,
    /// Read the backups again.
    Backups,
    /// List an app × env's missing artifacts again.
    Artifacts { app: String, env: String },
}
