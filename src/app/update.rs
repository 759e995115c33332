//! `update(&mut State, Action) -> Vec<Effect>`: the only place state changes. Pure: no IO,
//! no clock reads, no awaits.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::action::{Action, Command, Effect};
use super::state::{ActivityLine, Feed, Overlay, Panel, State};
use super::tasks::TaskOutcome;

/// How far help can scroll: one line per command (22 of them, far below u16::MAX).
#[allow(clippy::cast_possible_truncation)]
const HELP_LINES: u16 = Command::ALL.len() as u16;

/// Applies one action; returns what the driver must do.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut effects = Vec::new();
    // A tick only matters while something on screen depends on time.
    let redraw = !matches!(action, Action::Tick) || state.tasks.any_running();
    match action {
        Action::Command(cmd) => command(state, cmd, &mut effects),
        Action::Input(c) => {
            if let Some(Overlay::Palette { query, selected }) = &mut state.overlay {
                query.push(c);
                *selected = 0;
            }
        }
        Action::Backspace => {
            if let Some(Overlay::Palette { query, selected }) = &mut state.overlay {
                query.pop();
                *selected = 0;
            }
        }
        Action::Submit => submit(state, &mut effects),
        Action::Click { column, row } => {
            if let (None, Some(panel)) = (
                &state.overlay,
                crate::ui::layout::panel_at(state, column, row),
            ) {
                state.focus = panel;
            }
        }
        Action::Resize { width, height } => state.size = (width, height),
        Action::Tick | Action::Resumed => {}
        Action::TaskProgress { id, progress } => state.tasks.progress(id, progress),
        Action::TaskFinished { id, outcome } => {
            let now = state.clock.now_ms;
            if let Some(task) = state.tasks.finish(id, outcome.clone(), now) {
                let title = task.title.clone();
                let secs = task.ended_ms.unwrap_or(now).saturating_sub(task.started_ms);
                let (text, failed) = match outcome {
                    TaskOutcome::Done(line) => (line, false),
                    TaskOutcome::Failed(err) => (format!("{title}: failed: {err}"), true),
                    TaskOutcome::Cancelled => (format!("{title}: cancelled"), true),
                };
                log(
                    state,
                    format!("{text} ({}.{}s)", secs / 1000, secs % 1000 / 100),
                    failed,
                );
            }
        }
        Action::Live(event) => state.live.apply(event),
        Action::GitTags(tags) => {
            for (env, tag) in tags {
                set_git_tag(state, &env, tag, &mut effects);
            }
        }
        Action::GatesLoaded { env, tag, result } => {
            gates_loaded(state, env, &tag, result, &mut effects);
        }
        Action::RefreshGates { env } => {
            let tag = state
                .envs
                .iter()
                .find(|r| r.name == env)
                .and_then(|r| r.git_tag.clone());
            if let Some(tag) = tag {
                effects.push(fetch_gates(state, &env, tag));
            }
        }
        Action::Terminate => effects.push(Effect::Quit),
    }
    let want_tick = state.tasks.any_running();
    if want_tick != state.ticking {
        state.ticking = want_tick;
        effects.push(Effect::SetTicking(want_tick));
    }
    if redraw {
        state.dirty = true;
    }
    effects
}

fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    match cmd {
        Command::Quit => {
            if state.tasks.any_running() {
                state.overlay = Some(Overlay::ConfirmQuit);
            } else {
                effects.push(Effect::Quit);
            }
        }
        Command::FocusNext => state.focus = state.focus.next(),
        Command::FocusPrev => state.focus = state.focus.prev(),
        Command::Zoom => state.zoomed = !state.zoomed,
        Command::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                query: String::new(),
                selected: 0,
            });
        }
        Command::Cancel => {
            if state.overlay.take().is_none() {
                if let Some(id) = state.tasks.cancel_newest() {
                    effects.push(Effect::CancelTask(id));
                } else if state.zoomed {
                    state.zoomed = false;
                } else {
                    state.status = None;
                }
            }
        }
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::Suspend => effects.push(Effect::Suspend),
        Command::Release
        | Command::Promote
        | Command::PromoteFull
        | Command::Abort
        | Command::Retry
        | Command::Pause
        | Command::Restart
        | Command::Rollback
        | Command::Secrets
        | Command::Tmp
        | Command::Feishu => domain(state, cmd),
        Command::OpenLink => open_link(state, effects),
    }
}

/// `o`: the selected gate's link.
fn open_link(state: &mut State, effects: &mut Vec<Effect>) {
    let gate = state
        .selected_gates()
        .and_then(|g| g.report.as_ref())
        .and_then(|r| r.gates.get(state.selected_gate))
        .map(|g| (g.name.clone(), g.url.clone()));
    match gate {
        Some((_, Some(url))) => {
            state.status = Some(format!("opening {url}"));
            effects.push(Effect::OpenUrl(url));
        }
        Some((name, None)) => state.status = Some(format!("{name}: no link (not started)")),
        None => state.status = Some("open-link: select a gate in the Gates panel first".into()),
    }
}

/// Actions on outside systems. Until a service is wired in, say so instead of pretending.
fn domain(state: &mut State, cmd: Command) {
    if state.read_only && !matches!(cmd, Command::Secrets | Command::Tmp) {
        state.status = Some(format!("{}: read-only, writes are disabled", cmd.name()));
        return;
    }
    let feed = match cmd {
        Command::Release | Command::Promote | Command::Rollback => &state.gitops,
        _ => &state.cluster,
    };
    let why = match feed {
        super::state::Feed::NotConnected(reason) => reason.clone(),
        _ => "not available yet".to_owned(),
    };
    state.status = Some(format!("{}: not connected: {why}", cmd.name()));
}

fn move_selection(state: &mut State, delta: i32) {
    match &mut state.overlay {
        Some(Overlay::Palette { query, selected }) => {
            let n = fuzzy(query).len();
            *selected = step(*selected, delta, n);
        }
        Some(Overlay::Help { scroll }) => {
            *scroll = if delta < 0 {
                scroll.saturating_sub(1)
            } else {
                scroll.saturating_add(1).min(HELP_LINES)
            };
        }
        Some(Overlay::ConfirmQuit) => {}
        None => match state.focus {
            Panel::Environments => {
                state.selected_env = step(state.selected_env, delta, state.envs.len());
                state.selected_gate = 0;
            }
            Panel::Gates => {
                let n = state
                    .selected_gates()
                    .and_then(|g| g.report.as_ref())
                    .map_or(0, |r| r.gates.len());
                state.selected_gate = step(state.selected_gate, delta, n);
            }
            _ => {}
        },
    }
}

fn step(current: usize, delta: i32, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    if delta < 0 {
        current.saturating_sub(1)
    } else {
        (current + 1).min(len - 1)
    }
}

fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    match state.overlay.take() {
        Some(Overlay::Palette { query, selected }) => {
            if let Some(cmd) = fuzzy(&query).get(selected).copied() {
                command(state, cmd, effects);
            }
        }
        Some(Overlay::ConfirmQuit) => effects.push(Effect::Quit),
        Some(Overlay::Help { .. }) | None => {}
    }
}

/// Records an env's tag in git; a new tag means new gates to fetch.
fn set_git_tag(state: &mut State, env: &str, tag: String, effects: &mut Vec<Effect>) {
    let Some(row) = state.envs.iter_mut().find(|r| r.name == env) else {
        return;
    };
    if row.git_tag.as_ref() == Some(&tag) {
        return;
    }
    row.git_tag = Some(tag.clone());
    if !matches!(state.github, Feed::NotConnected(_)) {
        effects.push(fetch_gates(state, env, tag));
    }
}

fn fetch_gates(state: &mut State, env: &str, tag: String) -> Effect {
    let required = state
        .envs
        .iter()
        .find(|r| r.name == env)
        .map(|r| r.required_checks.clone())
        .unwrap_or_default();
    let view = state.gates.entry(env.to_owned()).or_default();
    if view.tag != tag {
        *view = super::state::GatesView {
            tag: tag.clone(),
            ..Default::default()
        };
    }
    view.loading = true;
    Effect::FetchGates {
        env: env.to_owned(),
        tag,
        required,
    }
}

fn gates_loaded(
    state: &mut State,
    env: String,
    tag: &str,
    result: Result<crate::services::github::GateReport, String>,
    effects: &mut Vec<Effect>,
) {
    let view = state.gates.entry(env.clone()).or_default();
    if view.tag != tag {
        // An answer for a tag the env no longer has: newest request wins.
        return;
    }
    view.loading = false;
    match result {
        Ok(report) => {
            view.error = None;
            if let Some(at) = report.refresh_after {
                let now_ms = i64::try_from(state.clock.now_ms).unwrap_or(i64::MAX);
                let delay_ms = u64::try_from(at.as_millisecond().saturating_sub(now_ms))
                    .unwrap_or(0)
                    .max(1_000);
                effects.push(Effect::After {
                    delay_ms,
                    action: Box::new(Action::RefreshGates { env }),
                });
            }
            view.report = Some(report);
            state.github = Feed::Live;
        }
        Err(e) => view.error = Some(e),
    }
}

fn log(state: &mut State, text: String, failed: bool) {
    state.activity.push(ActivityLine {
        time: state.clock.hhmm.clone(),
        text,
        failed,
    });
    // The log is for the session at hand; the audit journal keeps history.
    let excess = state.activity.len().saturating_sub(500);
    state.activity.drain(..excess);
}

/// Commands matching a palette query, best first (all of them for an empty query).
pub fn fuzzy(query: &str) -> Vec<Command> {
    if query.trim().is_empty() {
        return Command::ALL.to_vec();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut score =
        |text: &str| pattern.score(nucleo_matcher::Utf32Str::new(text, &mut buf), &mut matcher);
    // A hit in the name counts for more than one in the description: `rol` means rollback.
    let mut scored: Vec<(u32, Command)> = Command::ALL
        .iter()
        .filter_map(|c| {
            let name = score(c.name()).map(|s| s * 3);
            let desc = score(c.describe());
            let best = name.into_iter().chain(desc).max()?;
            Some((best, *c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    scored.into_iter().map(|(_, c)| c).collect()
}
