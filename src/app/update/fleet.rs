//! The fleet view (`F`): moving over needs-me and the matrix, opening a cell as today's screen,
//! acting on a needs-me line with the key it names, and asking for the gates it shows.

use super::super::action::{Command, Effect};
use super::super::fleet::{self, FleetPart, FleetSort};
use super::super::state::{Overlay, Panel, State};

/// `F`: the fleet, or back to the app on screen.
pub(super) fn toggle(state: &mut State, effects: &mut Vec<Effect>) {
    if state.overlay == Some(Overlay::Fleet) {
        state.overlay = None;
    } else {
        state.overlay = Some(Overlay::Fleet);
        fleet::note_needs(state);
        want_gates(state, effects);
    }
}

/// The commands the fleet view answers itself; the rest go to the main screen's handlers.
pub(super) fn handles(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::Up
            | Command::Down
            | Command::NextApp
            | Command::PrevApp
            | Command::FocusNext
            | Command::FocusPrev
            | Command::Open
            | Command::Order
            | Command::Group
            | Command::Filter
            | Command::Promote
            | Command::Rollback
            | Command::Sync
            | Command::Release
    )
}

pub(super) fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    let f = &mut state.fleet;
    match cmd {
        Command::Up => move_cursor(state, -1),
        Command::Down => move_cursor(state, 1),
        Command::NextApp => f.col = (f.col + 1).min(state.envs.len().saturating_sub(1)),
        Command::PrevApp => f.col = f.col.saturating_sub(1),
        Command::FocusNext | Command::FocusPrev => {
            f.part = match f.part {
                FleetPart::Needs => FleetPart::Matrix,
                FleetPart::Matrix => FleetPart::Needs,
            };
        }
        Command::Open => open(state, effects),
        Command::Order => {
            f.sort = match f.sort {
                FleetSort::Attention => FleetSort::Name,
                FleetSort::Name => FleetSort::Attention,
            };
        }
        Command::Group => {
            let keys = f.label_keys();
            f.group = match &f.group {
                None => keys.first().cloned(),
                Some(g) => keys
                    .iter()
                    .position(|k| k == g)
                    .and_then(|i| keys.get(i + 1))
                    .cloned(),
            };
            f.row = 0;
        }
        Command::Filter => f.filtering = true,
        _ => act(state, cmd, effects),
    }
}

fn move_cursor(state: &mut State, delta: i32) {
    match state.fleet.part {
        FleetPart::Needs => {
            let n = state.fleet.needs.len();
            state.fleet.need = super::step(state.fleet.need, delta, n);
        }
        FleetPart::Matrix => {
            let n = fleet::app_rows(state).len();
            state.fleet.row = super::step(state.fleet.row, delta, n);
        }
    }
}

/// The app × env under the cursor.
fn target(state: &State) -> Option<(String, String)> {
    match state.fleet.part {
        FleetPart::Needs => {
            let n = state.fleet.needs.get(state.fleet.need)?;
            Some((n.app.clone(), n.env.clone()))
        }
        FleetPart::Matrix => {
            let app = fleet::app_rows(state).into_iter().nth(state.fleet.row)?;
            let env = state.envs.get(state.fleet.col)?.name.clone();
            Some((app, env))
        }
    }
}

/// Today's screen for `app` with `env` selected (its pods start being watched).
fn show(state: &mut State, app: &str, env: &str, effects: &mut Vec<Effect>) -> bool {
    let (Some(a), Some(e)) = (
        state.apps.iter().position(|x| x == app),
        state.envs.iter().position(|x| x.name == env),
    ) else {
        return false;
    };
    state.selected_app = a;
    state.selected_env = e;
    state.selected_gate = 0;
    state.overlay = None;
    super::git::sync_rows(state, effects);
    super::changes::want_pairs(state, effects);
    true
}

/// enter: open the cell (or the needs-me line's app × env); a runners line opens the Runners,
/// a backup line the Environments panel on that env (where its warning is).
fn open(state: &mut State, effects: &mut Vec<Effect>) {
    let Some((app, env)) = target(state) else {
        return;
    };
    if app.is_empty() {
        state.overlay = None;
        state.focus = match state.envs.iter().position(|e| e.name == env) {
            Some(i) => {
                state.selected_env = i;
                Panel::Environments
            }
            None => Panel::Runners,
        };
        return;
    }
    if show(state, &app, &env, effects) {
        state.focus = Panel::Environments;
    }
}

/// A needs-me key: open its app × env, then run the command as the main screen would.
fn act(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    let Some((app, env)) = target(state) else {
        return;
    };
    if app.is_empty() || !show(state, &app, &env, effects) {
        return;
    }
    let canary = state
        .live
        .rollout(&app, &env)
        .is_some_and(|r| r.pause_reasons.iter().any(|p| p == "CanaryPauseStep"));
    state.focus = if cmd == Command::Promote && canary {
        Panel::Rollout
    } else {
        Panel::Environments
    };
    super::command(state, cmd, effects);
}

/// Asks for the gates the fleet shows that it has not read (the service caches settled ones).
pub(super) fn want_gates(state: &State, effects: &mut Vec<Effect>) {
    ask_gates(state, effects, |_| false);
}

/// The timer fired: ask again for the gates that were still running or could not be read.
pub(super) fn refresh_gates(state: &State, effects: &mut Vec<Effect>) {
    ask_gates(state, effects, |r| !matches!(r, Ok(r) if r.settled));
}

/// How long until the fleet asks again for gates that were running (GitHub's CI takes
/// minutes; the service's conditional requests make a repeat cheap).
const GATES_AGAIN_MS: u64 = 30_000;

fn ask_gates(
    state: &State,
    effects: &mut Vec<Effect>,
    again: impl Fn(&Result<crate::services::github::GateReport, String>) -> bool,
) {
    if state.overlay != Some(Overlay::Fleet) {
        return;
    }
    let wanted: Vec<(String, String)> = fleet::wanted_gates(state)
        .into_iter()
        .filter(|k| state.fleet.gates.get(k).is_none_or(&again))
        .collect();
    if !wanted.is_empty() {
        effects.push(Effect::FleetGates { wanted });
    }
}

/// Gates arrived.
pub(super) fn gates(
    state: &mut State,
    results: Vec<(
        (String, String),
        Result<crate::services::github::GateReport, String>,
    )>,
    effects: &mut Vec<Effect>,
) {
    let now = state.clock.now_ms;
    // Ask again when the soonest running check may have finished (the service says when it
    // is worth asking); gates that could not be read, after a while.
    let now_ts = i64::try_from(now).unwrap_or(i64::MAX);
    let again = results
        .iter()
        .filter_map(|(_, r)| match r {
            Ok(r) if r.settled => None,
            Ok(r) => Some(r.refresh_after.map_or(GATES_AGAIN_MS, |at| {
                u64::try_from(at.as_millisecond().saturating_sub(now_ts)).unwrap_or(0)
            })),
            Err(_) => Some(GATES_AGAIN_MS),
        })
        .min();
    if let Some(after_ms) = again {
        effects.push(Effect::Schedule {
            key: crate::app::action::TimerKey::FleetGates,
            after_ms: after_ms.max(1_000),
            action: Box::new(crate::app::action::Action::RefreshFleetGates),
        });
    }
    // A read that failed shows as `?` (not read), never as the last answer unmarked.
    state.fleet.gates.extend(results);
}

/// On a tick: whether the fleet's ages (shown to the minute) need drawing again. A redraw a
/// minute, not a second: a fleet of hundreds costs something to draw.
pub(super) fn minute_passed(state: &mut State) -> bool {
    if state.overlay != Some(Overlay::Fleet) {
        return false;
    }
    let minute = state.clock.now_ms / 60_000;
    let passed = minute != state.fleet.minute;
    state.fleet.minute = minute;
    // "Just passed" ends and ages grow with the clock alone.
    if passed {
        fleet::note_needs(state);
    }
    passed
}

/// Typing into the filter.
pub(super) fn edit_filter(state: &mut State, edit: impl FnOnce(&mut String)) {
    edit(&mut state.fleet.filter);
    state.fleet.row = 0;
}
