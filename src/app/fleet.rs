//! The fleet view as data: every app × env as one cell, and above the matrix what waits for a
//! person ("needs me"), newest first. Everything here is derived from what the watches, git
//! and GitHub delivered; a cell says "stale", "connecting" or "no rollout" rather than guess.

use std::collections::{BTreeMap, HashMap};

use super::state::State;
use crate::services::github::GateReport;
use crate::services::kube::Conn;

/// How the matrix orders its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FleetSort {
    /// Apps that need a person first, then by name.
    #[default]
    Attention,
    Name,
}

impl FleetSort {
    pub fn label(self) -> &'static str {
        match self {
            FleetSort::Attention => "needs first",
            FleetSort::Name => "name",
        }
    }
}

/// Which list the cursor is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FleetPart {
    #[default]
    Needs,
    Matrix,
}

/// The fleet view's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetView {
    pub part: FleetPart,
    /// The selected needs-me line.
    pub need: usize,
    /// The selected app row of the (filtered, sorted) matrix, and env column.
    pub row: usize,
    pub col: usize,
    pub filter: String,
    pub filtering: bool,
    pub sort: FleetSort,
    /// The label the rows are grouped by (`None`: one list).
    pub group: Option<String>,
    /// The inventory's labels per app (`apps.*.labels`).
    pub labels: BTreeMap<String, indexmap::IndexMap<String, String>>,
    /// Gates per (tag, env): the tag's commit against that env's required checks.
    pub gates: HashMap<(String, String), Result<GateReport, String>>,
    /// When each need was first seen (its key → ms), for "newest first" and "for how long".
    pub first_seen: HashMap<String, u64>,
    /// The clock's minute at the last tick (ages are shown to the minute).
    pub minute: u64,
    /// What `needs` said at the last change (a frame reads it; a fleet of hundreds is not
    /// worked out again for every frame).
    pub needs: Vec<Need>,
}

impl FleetView {
    /// Every label key the inventory uses, sorted: what `g` cycles through.
    pub fn label_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .labels
            .values()
            .flat_map(|l| l.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// What kind of thing waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeedKind {
    /// A canary paused at a step for someone to promote it.
    Paused,
    /// Aborted (by analysis or a person) or Degraded.
    Failed,
    /// Git and the cluster disagree past the grace period.
    Drift,
    /// The tag a promotion would bring has just passed its gates.
    GatesGreen,
    /// An env runs a tag whose gates failed.
    GatesFailed,
    /// A runner scale set has failed runners.
    Runners,
    /// An env's newest backup is older than `backups.max_age` (or there is none).
    Backup,
}

impl NeedKind {
    pub fn glyph(self) -> &'static str {
        match self {
            NeedKind::Paused => "‖",
            NeedKind::Failed | NeedKind::GatesFailed => "✖",
            NeedKind::Drift => "≠",
            NeedKind::GatesGreen => "✔",
            NeedKind::Runners => "⚙",
            NeedKind::Backup => "⚠",
        }
    }

    /// The key that acts on it (its name as the help shows it) and what it does.
    pub fn key(self) -> &'static str {
        match self {
            NeedKind::Paused => "p promote canary",
            NeedKind::Failed => "b roll back",
            NeedKind::Drift => "S sync",
            NeedKind::GatesGreen => "p promote",
            NeedKind::GatesFailed => "r release another tag",
            NeedKind::Runners => "enter runners",
            NeedKind::Backup => "shipdeck backups",
        }
    }
}

/// One line of "needs me".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub kind: NeedKind,
    pub app: String,
    pub env: String,
    pub what: String,
    /// Since when (ms), as far as anyone can tell: the pause's own start, else first seen.
    pub since_ms: u64,
    /// What `first_seen` keys it by.
    pub key: String,
}

/// The gates of `tag` against `env`'s required checks, as the fleet last read them.
fn gates<'a>(state: &'a State, tag: &str, env: &str) -> Option<&'a Result<GateReport, String>> {
    state.fleet.gates.get(&(tag.to_owned(), env.to_owned()))
}

/// A gate failed (not merely running or missing).
fn failed(r: &GateReport) -> bool {
    r.gates
        .iter()
        .any(|g| g.state == crate::services::github::GateState::Failed)
}

/// The tag git says `app` runs in `env`.
pub fn git_tag<'a>(state: &'a State, app: &str, env: &str) -> Option<&'a str> {
    state
        .git
        .get(&(app.to_owned(), env.to_owned()))
        .and_then(|t| t.tag.as_deref())
}

/// The promotions whose gates the fleet shows: per app × env with a `promote_from`, the
/// source's tag against this env's checks; and every env's own tag against its checks.
pub fn wanted_gates(state: &State) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for app in &state.apps {
        for e in &state.envs {
            if let Some(t) = git_tag(state, app, &e.name) {
                out.push((t.to_owned(), e.name.clone()));
            }
            if let Some(t) = e
                .promote_from
                .as_deref()
                .and_then(|s| git_tag(state, app, s))
            {
                out.push((t.to_owned(), e.name.clone()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// When the gates turned green: when their last check finished, as GitHub says (ms).
fn green_at(r: &GateReport) -> Option<u64> {
    r.gates
        .iter()
        .filter_map(|g| g.finished_at)
        .max()
        .and_then(|t| u64::try_from(t.as_millisecond()).ok())
}

/// How long "just went green" lasts.
const GREEN_FOR_MS: u64 = 60 * 60 * 1000;

/// Everything that waits for a person, newest first.
pub fn needs(state: &State) -> Vec<Need> {
    let now = state.clock.now_ms;
    let mut out = Vec::new();
    let mut push = |kind, app: &str, env: &str, what: String, since: Option<u64>| {
        let key = format!("{kind:?}/{app}/{env}");
        let seen = state.fleet.first_seen.get(&key).copied().unwrap_or(now);
        out.push(Need {
            kind,
            app: app.to_owned(),
            env: env.to_owned(),
            what,
            since_ms: since.unwrap_or(seen),
            key,
        });
    };
    for app in &state.apps {
        for e in &state.envs {
            let env = e.name.as_str();
            if let Some(r) = state.live.rollout(app, env) {
                // A pause step without a duration waits for a person; a timed one ends alone.
                let waits = r.pause_reasons.iter().any(|p| p == "CanaryPauseStep")
                    && r.pause_ends_at.is_none();
                if r.aborted || r.status == "Degraded" {
                    let what = if r.aborted {
                        format!("aborted: {}", r.message)
                    } else {
                        format!("Degraded: {}", r.message)
                    };
                    push(NeedKind::Failed, app, env, what, None);
                } else if waits && !r.paused {
                    let since = r
                        .paused_since
                        .and_then(|t| u64::try_from(t.as_millisecond()).ok());
                    let step = if r.step.is_empty() {
                        String::new()
                    } else {
                        format!(" at step {}", r.step)
                    };
                    push(
                        NeedKind::Paused,
                        app,
                        env,
                        format!("canary paused{step} for promotion"),
                        since,
                    );
                }
            }
            // An aborted canary disagrees with git by nature: its line above says what to do.
            let failed_here = state
                .live
                .rollout(app, env)
                .is_some_and(|r| r.aborted || r.status == "Degraded");
            if let Some(d) = state.drift(app, env).filter(|_| !failed_here) {
                let since = state
                    .drift_since
                    .get(&(app.clone(), env.to_owned()))
                    .copied();
                push(NeedKind::Drift, app, env, d.to_owned(), since);
            }
            if let Some(tag) = git_tag(state, app, env)
                && let Some(Ok(r)) = gates(state, tag, env)
                && failed(r)
            {
                push(
                    NeedKind::GatesFailed,
                    app,
                    env,
                    format!("runs {tag}, whose gates failed ({})", r.summary),
                    None,
                );
            }
            let source = e.promote_from.as_deref();
            if let Some((src, tag)) = source.and_then(|s| Some((s, git_tag(state, app, s)?)))
                && git_tag(state, app, env) != Some(tag)
                && let Some(Ok(r)) = gates(state, tag, env)
                && r.all_passed
                && let Some(at) = green_at(r)
                && now.saturating_sub(at) < GREEN_FOR_MS
            {
                push(
                    NeedKind::GatesGreen,
                    app,
                    env,
                    format!("{src} → {env}: gates of {tag} just passed"),
                    Some(at),
                );
            }
        }
    }
    if let Some(r) = &state.live.runners {
        for s in r.sets.iter().filter(|s| s.failed > 0) {
            push(
                NeedKind::Runners,
                "",
                "",
                format!("runners {}: {} failed", s.name, s.failed),
                None,
            );
        }
    }
    for e in &state.envs {
        if let Some(Ok(b)) = state.pipeline.backup_of(&e.name)
            && let Some(age) = b.age.as_ref().filter(|a| a.stale)
        {
            // Since when it has been stale: its newest backup plus the allowed age.
            let since = age
                .newest
                .and_then(|t| u64::try_from(t.as_millisecond()).ok())
                .map(|t| t.saturating_add(age.max_age_secs.saturating_mul(1000)));
            push(
                NeedKind::Backup,
                "",
                &e.name,
                format!("{} backup {}", e.name, age.line()),
                since,
            );
        }
    }
    out.sort_by(|a, b| b.since_ms.cmp(&a.since_ms).then(a.key.cmp(&b.key)));
    out
}

/// Works the needs out again, remembers when each was first seen and forgets the ones gone
/// (pure; called after every change while the fleet is on screen, and once a minute).
pub fn note_needs(state: &mut State) {
    let now = state.clock.now_ms;
    let list = needs(state);
    let keys: std::collections::HashSet<&str> = list.iter().map(|n| n.key.as_str()).collect();
    let seen = &mut state.fleet.first_seen;
    seen.retain(|k, _| keys.contains(k.as_str()));
    for n in &list {
        seen.entry(n.key.clone()).or_insert(now);
    }
    state.fleet.needs = list;
}

/// One matrix row: a group heading, or an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetRow {
    Group(String),
    App(String),
}

/// The apps the filter keeps, ordered and grouped as the view says.
pub fn rows(state: &State) -> Vec<FleetRow> {
    let f = &state.fleet;
    let needle = f.filter.to_lowercase();
    let label = |app: &str, key: &str| {
        f.labels
            .get(app)
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_else(|| format!("(no {key})"))
    };
    let mut apps: Vec<&String> = state
        .apps
        .iter()
        .filter(|a| {
            needle.is_empty()
                || a.to_lowercase().contains(&needle)
                || f.labels
                    .get(a.as_str())
                    .is_some_and(|l| l.values().any(|v| v.to_lowercase().contains(&needle)))
        })
        .collect();
    let attention: HashMap<&str, usize> = if f.sort == FleetSort::Attention {
        let mut m = HashMap::new();
        for n in needs(state) {
            *m.entry(
                state
                    .apps
                    .iter()
                    .find(|a| **a == n.app)
                    .map_or("", String::as_str),
            )
            .or_insert(0) += 1;
        }
        m
    } else {
        HashMap::new()
    };
    apps.sort_by(|a, b| {
        let by_group = f
            .group
            .as_deref()
            .map_or(std::cmp::Ordering::Equal, |k| label(a, k).cmp(&label(b, k)));
        let by_need = attention
            .get(b.as_str())
            .unwrap_or(&0)
            .cmp(attention.get(a.as_str()).unwrap_or(&0));
        by_group.then(by_need).then(a.cmp(b))
    });
    let mut out = Vec::new();
    let mut last: Option<String> = None;
    for a in apps {
        if let Some(k) = f.group.as_deref() {
            let g = label(a, k);
            if last.as_ref() != Some(&g) {
                out.push(FleetRow::Group(format!("{k}: {g}")));
                last = Some(g);
            }
        }
        out.push(FleetRow::App(a.clone()));
    }
    out
}

/// The app rows only (what the cursor moves over).
pub fn app_rows(state: &State) -> Vec<String> {
    rows(state)
        .into_iter()
        .filter_map(|r| match r {
            FleetRow::App(a) => Some(a),
            FleetRow::Group(_) => None,
        })
        .collect()
}

/// How a column's cluster is, for its heading: live, or why not.
pub fn column_state(state: &State, env: &str) -> Option<String> {
    let e = state.live.envs.get(env)?;
    match &e.cluster {
        Conn::Live => None,
        Conn::Connecting => Some("connecting".into()),
        Conn::Stale { since, error } => Some(format!(
            "stale since {} ({error})",
            since.to_zoned(state.clock.zone()).strftime("%H:%M:%S")
        )),
    }
}

/// One cell: what git and the cluster say of an app in an env, in a few glyphs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The tag git says (short), or why there is none.
    pub tag: String,
    /// Health glyph of the rollout (`?` unknown, `·` no rollout).
    pub health: &'static str,
    pub drift: bool,
    /// A canary in flight: `2/8 20%`.
    pub canary: Option<String>,
    /// Gates of the next promotion into this env: `✔` passed, `✖` failed, `◌` running,
    /// `?` not read; `None`: nothing to promote.
    pub next_gates: Option<&'static str>,
    /// The column's cluster is not live: the cell shows its last facts, marked.
    pub stale: bool,
}

fn health_glyph(status: &str, aborted: bool) -> &'static str {
    match status {
        _ if aborted => "✖",
        "Healthy" => "✔",
        "Progressing" => "◐",
        "Paused" => "‖",
        "Degraded" => "✖",
        _ => "?",
    }
}

pub fn cell(state: &State, app: &str, env: &str) -> Cell {
    let tag = match state.git.get(&(app.to_owned(), env.to_owned())) {
        Some(t) => t.tag.as_deref().map_or_else(
            || "no tag".to_owned(),
            |t| t.chars().take(7).collect::<String>(),
        ),
        None => "…".to_owned(),
    };
    let ro = state.live.rollout(app, env);
    let known = state
        .live
        .envs
        .get(env)
        .is_some_and(|e| e.rollouts.contains_key(app));
    let health = match ro {
        Some(r) => health_glyph(&r.status, r.aborted),
        None if known => "·",
        None => "?",
    };
    let canary = ro
        .filter(|r| !r.fully_promoted && !r.step.is_empty())
        .map(|r| {
            let w = r.actual_weight.or(r.set_weight).unwrap_or(0);
            format!("{} {w}%", r.step)
        });
    let row = state.envs.iter().find(|e| e.name == env);
    let next_gates = row
        .and_then(|e| e.promote_from.as_deref())
        .and_then(|s| git_tag(state, app, s))
        .filter(|t| git_tag(state, app, env) != Some(*t))
        .map(|t| match gates(state, t, env) {
            Some(Ok(r)) if r.all_passed => "✔",
            Some(Ok(r)) if failed(r) => "✖",
            Some(Ok(_)) => "◌",
            Some(Err(_)) | None => "?",
        });
    Cell {
        tag,
        health,
        drift: state.drift(app, env).is_some(),
        canary,
        next_gates,
        // As `column_state` says, without its words (this runs for every cell of a frame).
        stale: state
            .live
            .envs
            .get(env)
            .is_some_and(|e| !matches!(e.cluster, Conn::Live)),
    }
}
