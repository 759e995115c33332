//! Everything the screen shows, as plain data.

use super::action::Command;
use super::keymap::{InputMode, Keymap, View};
use super::tasks::Tasks;
use crate::inventory::Inventory;

pub use super::views::{
    ChangesEntry, ChangesView, FeishuView, SecretsView, TmpRow, TmpSort, TmpView,
};

/// The panels of the main screen, in focus order (the declaration is the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::VariantArray, strum::IntoStaticStr)]
pub enum Panel {
    Environments,
    Rollout,
    Gates,
    Runners,
    Activity,
}

impl Panel {
    pub const ALL: &'static [Panel] = <Panel as strum::VariantArray>::VARIANTS;

    /// Its name, as its border shows it.
    pub fn title(self) -> &'static str {
        self.into()
    }

    #[must_use]
    pub fn next(self) -> Panel {
        let i = Panel::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Panel::ALL[(i + 1) % Panel::ALL.len()]
    }

    #[must_use]
    pub fn prev(self) -> Panel {
        let i = Panel::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Panel::ALL[(i + Panel::ALL.len() - 1) % Panel::ALL.len()]
    }
}

/// A data source as a panel sees it. Panels never show invented data: until a source delivers,
/// they say which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// This build or this inventory has no such source; the reason is shown verbatim.
    NotConnected(String),
    /// Asked, no answer yet.
    Connecting,
    /// Delivering.
    Live,
    /// Lost since the given time; the last data stays on screen, marked.
    Stale { since: String },
}

impl Feed {
    pub fn not_connected(reason: impl Into<String>) -> Self {
        Feed::NotConnected(reason.into())
    }
}

/// One environment row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvRow {
    pub name: String,
    pub namespace: String,
    pub kube_context: Option<String>,
    pub protected: bool,
    pub promote_from: Option<String>,
    pub required_checks: Vec<String>,
    /// Failing gates may be overridden with a typed reason (`allow_gate_override`).
    pub allow_override: bool,
    /// What git says the env runs. (What the cluster runs is read from `State::live`, never
    /// kept here, so a row cannot show a leftover value.)
    pub git_tag: Option<String>,
}

/// The gates of the commit an environment's tag names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GatesView {
    /// The tag the report is for.
    pub tag: String,
    pub report: Option<crate::services::github::GateReport>,
    /// The last fetch failed (the previous report, if any, stays on screen).
    pub error: Option<String>,
    pub loading: bool,
}

/// A change to the GitOps repo the user is about to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub action: crate::services::gitops::Action,
    pub app: String,
    pub env: String,
    /// New tag; `None` for promote (the source env's tag).
    pub tag: Option<String>,
    /// What the user saw in `env` when deciding (a change meanwhile is a conflict).
    pub expected_from: Option<String>,
    /// Promote only.
    pub source_env: Option<String>,
    /// Go in although gates are red (where the inventory allows it), for this typed reason.
    pub override_reason: Option<String>,
}

/// The gates of the tag a confirmation is about to send somewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateGates {
    pub env: String,
    pub tag: String,
    pub result: Result<crate::services::github::GateReport, String>,
}

/// `age1qy…7k3d`: enough of a recipient to tell it apart on one line.
pub fn short_recipient(r: &str) -> String {
    let chars: Vec<char> = r.chars().collect();
    if chars.len() <= 14 {
        return r.to_owned();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// What a confirmation starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// A commit to the GitOps repo.
    Git(PendingChange),
    /// A batch over these SOPS files: a new data key, or a recipient added or removed.
    Secrets {
        files: Vec<std::path::PathBuf>,
        op: crate::ops::secrets::SecretsChange,
    },
    /// Apply the planned GitHub → Feishu member changes.
    FeishuApply,
    /// Delete (or move to trash) the planned tmp entries but the skipped ones.
    CleanTmp,
    /// An Argo CD action on an env's Application.
    Argo {
        app: String,
        env: String,
        action: crate::ops::argocd::ArgoAction,
    },
    /// One of the plugin's rollout actions.
    Rollout {
        app: String,
        env: String,
        action: crate::services::kube::actions::RolloutAction,
    },
}

/// A modal on top of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// Every key, from the keymap.
    Help { scroll: u16 },
    /// Fuzzy command search.
    Palette { query: String, selected: usize },
    /// One Activity line, whole (enter on it): long results and errors read in full here.
    Line {
        time: String,
        text: String,
        failed: bool,
    },
    /// Quit while tasks run?
    ConfirmQuit,
    /// `r`: type a tag, or pick one known from other envs and history.
    Release {
        app: String,
        env: String,
        input: String,
        known: Option<Vec<crate::services::gitops::KnownTag>>,
        selected: Option<usize>,
        error: Option<String>,
    },
    /// `b`: pick the tag to go back to from the env's history.
    Rollback {
        app: String,
        env: String,
        history: Option<Vec<crate::services::gitops::TagChange>>,
        selected: usize,
        error: Option<String>,
    },
    /// The last word before a write: y/enter, or the env's name typed for a protected env.
    Confirm {
        title: String,
        lines: Vec<String>,
        /// For a protected environment: its name, which must be typed.
        typed: Option<String>,
        input: String,
        then: Confirmed,
    },
    /// `s`: the Secrets view (its data lives in `State::secrets`).
    Secrets,
    /// `f`: the Feishu member sync plan (its data lives in `State::feishu`).
    Feishu,
    /// `t`: the tmp cleanup preview (its data lives in `State::tmp`).
    Tmp,
    /// `c`: the commits and pull requests between two envs (data in `State::changes`).
    Changes,
    /// Canary and stable pod logs (`L`).
    Logs,
    /// `e`: the event timeline (data in `State::timeline`).
    Timeline,
    /// `F`: every app × env (data in `State::fleet`).
    Fleet,
    /// From the Secrets view: the age recipient to add (`add`) or to remove, typed or pasted
    /// (for a removal, any unique part of one the files list).
    Recipient {
        add: bool,
        input: String,
        error: Option<String>,
    },
    /// The gates refused a change the env lets you override: type why.
    Reason {
        change: PendingChange,
        message: String,
        input: String,
    },
}

/// One line of the Activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLine {
    pub time: String,
    pub text: String,
    pub failed: bool,
}

/// The clock the driver stamps before each batch of actions, so `update` stays pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clock {
    pub now_ms: u64,
    /// Local wall time, `HH:MM`.
    pub hhmm: String,
    /// The zone times on screen are shown in (`None`: this machine's).
    pub zone: Option<jiff::tz::TimeZone>,
}

impl Clock {
    pub fn zone(&self) -> jiff::tz::TimeZone {
        self.zone.clone().unwrap_or_else(jiff::tz::TimeZone::system)
    }
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct State {
    /// Shown in the top border: inventory path, or "demo".
    pub context_label: String,
    pub apps: Vec<String>,
    pub selected_app: usize,
    pub envs: Vec<EnvRow>,
    pub selected_env: usize,
    pub runners_namespace: Option<String>,
    /// Where each app runs per env, where that is not the env's namespace: (app, env) → ns.
    pub app_namespaces: std::collections::HashMap<(String, String), String>,
    pub gitops: Feed,
    pub cluster: Feed,
    pub github: Feed,
    /// What git says each app × env runs, keyed by (app, env).
    pub git: std::collections::HashMap<(String, String), crate::services::gitops::EnvTag>,
    /// The Secrets view's data.
    pub secrets: SecretsView,
    /// The Feishu view's data.
    pub feishu: FeishuView,
    /// The tmp view's data.
    pub tmp: TmpView,
    /// The Changes view's pair and its filter.
    pub changes: ChangesView,
    /// The logs view's panes.
    pub logs: crate::app::logs::LogsView,
    /// The event timeline's data (its watches run only while it is open).
    pub timeline: crate::app::timeline::TimelineView,
    /// The fleet view's data.
    pub fleet: crate::app::fleet::FleetView,
    /// SLO reads (canary vs stable) per app × env.
    pub slo: crate::app::slo::SloView,
    /// Changes between two tags (base, head), asked once per pair: both name commits, so the
    /// answer never changes.
    pub changes_cache: std::collections::HashMap<(String, String), ChangesEntry>,
    /// Pull-request labels that need care (inventory `github.care_labels`).
    pub care_labels: Vec<String>,
    /// Releases pushed and not yet finished in the cluster: (app, env) → (from, to, actor).
    pub in_flight: std::collections::BTreeMap<(String, String), (String, String, String)>,
    /// Gates of the tag the open confirmation would release.
    pub candidate: Option<CandidateGates>,
    /// Paths in the Secrets view are shown relative to this (the inventory's folder).
    pub secrets_base: Option<std::path::PathBuf>,
    /// Gates per environment name.
    pub gates: std::collections::HashMap<String, GatesView>,
    /// The selected gate in the Gates panel (for `o`).
    pub selected_gate: usize,
    /// The Activity line `enter` would open whole; `None`: the newest, unselected.
    pub selected_activity: Option<usize>,
    /// What the cluster watches delivered (rollout, pods, analysis, Argo CD, runners).
    pub live: crate::services::kube::LiveState,
    pub focus: Panel,
    pub zoomed: bool,
    pub overlay: Option<Overlay>,
    pub tasks: Tasks,
    pub activity: Vec<ActivityLine>,
    /// A one-line message under the panels (why a key did nothing, a result). It gives way to
    /// the next one, and goes after a few seconds.
    pub status: Option<String>,
    /// Counts status messages, so an expiry clears only the one it was scheduled for.
    pub status_seq: u64,
    /// The remote branch's tip as the last ref check saw it.
    pub git_tip: Option<String>,
    /// Since when (ms) git and the cluster have disagreed, per (app, env).
    pub drift_since: std::collections::HashMap<(String, String), u64>,
    /// How long a disagreement may last before it is drift (a sync takes a moment).
    pub drift_grace_ms: u64,
    /// The keys of the cluster's news already told (this session and, loaded at start, before).
    pub news_seen: std::collections::HashSet<String>,
    /// The watches (`cluster/<env>`, `argocd/<env>`) whose first snapshot has been read: news
    /// in a first snapshot predates this session, so it goes to Activity but not to the chats.
    pub news_primed: std::collections::HashSet<String>,
    /// Why writes are off (`--read-only`, or the inventory's `read_only`); `None`: they are on.
    pub read_only: Option<String>,
    pub keymap: Keymap,
    pub clock: Clock,
    /// Terminal size, for click hit-testing.
    pub size: (u16, u16),
    /// Something changed since the last frame.
    pub dirty: bool,
    pub ticking: bool,
}

impl State {
    /// The state of a freshly opened cockpit on an inventory.
    pub fn new(inv: &Inventory, context_label: impl Into<String>, keymap: Keymap) -> State {
        let envs = inv
            .environments
            .iter()
            .map(|(name, e)| EnvRow {
                name: name.clone(),
                namespace: e.namespace.clone(),
                kube_context: e.kube_context.clone(),
                protected: e.protected,
                promote_from: e.promote_from().map(str::to_owned),
                required_checks: e.required_checks.clone(),
                allow_override: e.allow_gate_override,
                ..EnvRow::default()
            })
            .collect();
        State {
            context_label: context_label.into(),
            apps: inv.apps.keys().cloned().collect(),
            selected_app: 0,
            envs,
            selected_env: 0,
            runners_namespace: inv.runners.as_ref().map(|r| r.namespace.clone()),
            app_namespaces: inv
                .apps
                .iter()
                .filter(|(_, a)| a.namespace.is_some())
                .flat_map(|(app, _)| {
                    inv.environments
                        .keys()
                        .map(move |env| ((app.clone(), env.clone()), inv.namespace_of(app, env)))
                })
                .collect(),
            // The driver replaces these as soon as it has opened each client.
            gitops: Feed::not_connected("the GitOps repo has not been read yet"),
            cluster: Feed::not_connected("no cluster watch is running"),
            github: Feed::not_connected(if inv.github.is_some() {
                "GitHub has not been asked yet"
            } else {
                "no `github:` section in the inventory"
            }),
            git: std::collections::HashMap::new(),
            gates: std::collections::HashMap::new(),
            secrets: SecretsView::default(),
            feishu: FeishuView::default(),
            tmp: TmpView::default(),
            changes: ChangesView::default(),
            logs: crate::app::logs::LogsView::default(),
            timeline: crate::app::timeline::TimelineView::default(),
            fleet: crate::app::fleet::FleetView {
                labels: inv
                    .apps
                    .iter()
                    .map(|(n, a)| (n.clone(), a.labels.clone()))
                    .collect(),
                ..crate::app::fleet::FleetView::default()
            },
            slo: crate::app::slo::SloView {
                configured: inv.prometheus.is_some(),
                ..crate::app::slo::SloView::default()
            },
            changes_cache: std::collections::HashMap::new(),
            care_labels: inv.github.as_ref().map_or_else(
                || {
                    crate::services::github::DEFAULT_CARE_LABELS
                        .map(str::to_owned)
                        .to_vec()
                },
                crate::inventory::GithubConfig::care_labels,
            ),
            candidate: None,
            in_flight: std::collections::BTreeMap::new(),
            secrets_base: Some(inv.base_dir().to_path_buf()),
            selected_gate: 0,
            selected_activity: None,
            live: crate::services::kube::LiveState::default(),
            focus: Panel::Environments,
            zoomed: false,
            overlay: None,
            tasks: Tasks::default(),
            activity: Vec::new(),
            status: None,
            status_seq: 0,
            git_tip: None,
            drift_since: std::collections::HashMap::new(),
            news_seen: std::collections::HashSet::new(),
            news_primed: std::collections::HashSet::new(),
            drift_grace_ms: inv.kube.drift_grace_secs.saturating_mul(1000),
            read_only: crate::ops::read_only_reason(false, Some(inv)),
            keymap,
            clock: Clock::default(),
            size: (0, 0),
            dirty: true,
            ticking: false,
        }
    }

    /// The app whose details (pods) the screen shows: none while the fleet view is open.
    pub fn app_on_screen(&self) -> Option<String> {
        if matches!(self.overlay, Some(Overlay::Fleet)) {
            return None;
        }
        self.selected_app().map(str::to_owned)
    }

    pub fn selected_app(&self) -> Option<&str> {
        self.apps.get(self.selected_app).map(String::as_str)
    }

    /// Where `app` runs in `env`.
    pub fn namespace_of(&self, app: &str, env: &str) -> &str {
        self.app_namespaces
            .get(&(app.to_owned(), env.to_owned()))
            .map_or_else(
                || {
                    self.envs
                        .iter()
                        .find(|e| e.name == env)
                        .map_or("", |e| e.namespace.as_str())
                },
                String::as_str,
            )
    }

    pub fn selected_env(&self) -> Option<&EnvRow> {
        self.envs.get(self.selected_env)
    }

    /// The selected app and environment, owned (what an action on them takes along).
    pub fn selection(&self) -> Option<(String, EnvRow)> {
        Some((
            self.selected_app()?.to_owned(),
            self.selected_env()?.clone(),
        ))
    }

    /// The selected env's name when a person paused its rollout (`ctrl-p`): the key bar and
    /// help then say how to resume.
    pub fn paused_by_user(&self) -> Option<&str> {
        let env = self.selected_env()?;
        self.live
            .rollout(self.selected_app()?, &env.name)
            .filter(|r| r.paused)
            .map(|_| env.name.as_str())
    }

    /// Why the open confirmation's change cannot simply go ahead: the gates of its tag are in
    /// and have not passed (and no override reason was given). `None` while they are still
    /// being asked (the op checks them again before the push) or when they passed.
    pub fn gates_block(&self, change: &PendingChange) -> Option<String> {
        if change.override_reason.is_some() {
            return None;
        }
        let c = self
            .candidate
            .as_ref()
            .filter(|c| c.env == change.env && Some(&c.tag) == change.tag.as_ref())?;
        // Gates that cannot be read are gates that have not passed: the op refuses them too.
        let report = match &c.result {
            Err(e) => return Some(format!("gates of {} cannot be checked: {e}", c.tag)),
            Ok(r) if r.all_passed => return None,
            Ok(r) => r,
        };
        let failing: Vec<String> = report
            .failing()
            .map(|g| format!("{} {}", g.state.symbol(), g.name))
            .collect();
        Some(format!(
            "gates of {} not passed: {} ({})",
            c.tag,
            report.summary,
            failing.join(" ")
        ))
    }

    /// The envs whose rollout of `app` aborted a canary of `tag` (by analysis or by hand).
    pub fn aborted_in(&self, app: &str, tag: &str) -> Vec<&str> {
        let suffix = format!(":{tag}");
        self.envs
            .iter()
            .filter(|e| {
                self.live.rollout(app, &e.name).is_some_and(|r| {
                    r.aborted
                        && r.canary_rs()
                            .is_some_and(|c| c.images.iter().any(|i| i.ends_with(&suffix)))
                })
            })
            .map(|e| e.name.as_str())
            .collect()
    }

    /// What git says about the selected app in an env.
    pub fn git_for(&self, env: &str) -> Option<&crate::services::gitops::EnvTag> {
        let app = self.selected_app()?;
        self.git.get(&(app.to_owned(), env.to_owned()))
    }

    /// The gates of the selected environment's tag, if fetched.
    pub fn selected_gates(&self) -> Option<&GatesView> {
        let env = self.selected_env()?;
        self.gates
            .get(&env.name)
            .filter(|g| Some(&g.tag) == env.git_tag.as_ref())
    }

    /// Git and the cluster have disagreed about `app` in `env` for longer than the grace
    /// period: which way, in words. `None`: they agree, or not for long enough to say.
    pub fn drift(&self, app: &str, env: &str) -> Option<&'static str> {
        let since = *self.drift_since.get(&(app.to_owned(), env.to_owned()))?;
        if self.clock.now_ms.saturating_sub(since) < self.drift_grace_ms {
            return None;
        }
        let synced = self
            .live
            .env_live(app, env)
            .and_then(|l| l.sync)
            .is_some_and(|s| s == "Synced");
        Some(if synced {
            "live differs from git (out-of-band change)"
        } else {
            "git ahead (Argo CD syncing)"
        })
    }

    /// How the keymap should read keys right now.
    pub fn input_mode(&self) -> InputMode {
        match self.overlay {
            None => InputMode::Normal,
            Some(
                Overlay::Palette { .. }
                | Overlay::Release { .. }
                | Overlay::Reason { .. }
                | Overlay::Recipient { .. }
                | Overlay::Confirm { typed: Some(_), .. },
            ) => InputMode::Text,
            Some(
                Overlay::Help { .. }
                | Overlay::Line { .. }
                | Overlay::ConfirmQuit
                | Overlay::Rollback { .. }
                | Overlay::Confirm { typed: None, .. },
            ) => InputMode::Modal,
            Some(Overlay::Secrets) => InputMode::View(View::Secrets),
            Some(Overlay::Feishu) => InputMode::View(View::Feishu),
            Some(Overlay::Tmp) => InputMode::View(View::Tmp),
            Some(Overlay::Changes) if self.changes.filtering => InputMode::Text,
            Some(Overlay::Changes) => InputMode::View(View::Changes),
            Some(Overlay::Logs) if self.logs.filtering => InputMode::Text,
            Some(Overlay::Logs) => InputMode::View(View::Logs),
            Some(Overlay::Timeline) if self.timeline.filtering => InputMode::Text,
            Some(Overlay::Timeline) => InputMode::View(View::Timeline),
            Some(Overlay::Fleet) if self.fleet.filtering => InputMode::Text,
            Some(Overlay::Fleet) => InputMode::View(View::Fleet),
        }
    }

    /// Commands whose name or description matches the palette query, best first.
    pub fn palette_matches(&self, query: &str) -> Vec<Command> {
        super::update::fuzzy(query)
    }

    /// What enter in the palette would do, in words, or what is wrong with the arguments.
    pub fn palette_preview(&self, query: &str, selected: usize) -> Result<String, String> {
        super::update::palette_plan(self, query, selected).map(|p| p.describe(self))
    }
}
