//! Keys inside overlays: typing, backspace, enter, esc, and moving a selection.

use super::super::action::{Command, Effect};
use super::super::state::{Confirmed, Overlay, Panel, State};
use super::{command, step};

/// How far help can scroll: one line per command and a heading per view (far below u16::MAX).
#[allow(clippy::cast_possible_truncation)]
const HELP_LINES: u16 = Command::ALL.len() as u16 + 6;

pub(super) fn typed(state: &mut State, c: char) {
    if state.overlay == Some(Overlay::Fleet) {
        super::fleet::edit_filter(state, |f| f.push(c));
        return;
    }
    if state.overlay == Some(Overlay::Logs) {
        state.logs.filter.push(c);
        return;
    }
    if state.overlay == Some(Overlay::Changes) {
        state.changes.filter.push(c);
        state.changes.selected = 0;
        return;
    }
    if state.overlay == Some(Overlay::Timeline) {
        state.timeline.filter.push(c);
        state.timeline.selected = 0;
        return;
    }
    match &mut state.overlay {
        Some(Overlay::Palette { query, selected }) => {
            query.push(c);
            *selected = 0;
        }
        Some(Overlay::Release {
            input, selected, ..
        }) => {
            input.push(c);
            *selected = None;
        }
        Some(Overlay::Confirm { input, .. } | Overlay::Reason { input, .. }) => input.push(c),
        Some(Overlay::Recipient { input, error, .. }) => {
            input.push(c);
            *error = None;
        }
        _ => {}
    }
}

pub(super) fn backspace(state: &mut State) {
    if state.overlay == Some(Overlay::Fleet) {
        super::fleet::edit_filter(state, |f| {
            f.pop();
        });
        return;
    }
    if state.overlay == Some(Overlay::Logs) {
        state.logs.filter.pop();
        return;
    }
    if state.overlay == Some(Overlay::Changes) {
        state.changes.filter.pop();
        state.changes.selected = 0;
        return;
    }
    if state.overlay == Some(Overlay::Timeline) {
        state.timeline.filter.pop();
        state.timeline.selected = 0;
        return;
    }
    match &mut state.overlay {
        Some(Overlay::Palette { query, selected }) => {
            query.pop();
            *selected = 0;
        }
        Some(Overlay::Release {
            input, selected, ..
        }) => {
            input.pop();
            *selected = None;
        }
        Some(
            Overlay::Confirm { input, .. }
            | Overlay::Reason { input, .. }
            | Overlay::Recipient { input, .. },
        ) => {
            input.pop();
        }
        _ => {}
    }
}

/// ctrl-u: empty the text field (as in a shell).
pub(super) fn clear(state: &mut State) {
    if state.overlay == Some(Overlay::Fleet) {
        super::fleet::edit_filter(state, String::clear);
        return;
    }
    if state.overlay == Some(Overlay::Logs) {
        state.logs.filter.clear();
        return;
    }
    if state.overlay == Some(Overlay::Changes) {
        state.changes.filter.clear();
        state.changes.selected = 0;
        return;
    }
    if state.overlay == Some(Overlay::Timeline) {
        state.timeline.filter.clear();
        state.timeline.selected = 0;
        return;
    }
    match &mut state.overlay {
        Some(Overlay::Palette { query, selected }) => {
            query.clear();
            *selected = 0;
        }
        Some(Overlay::Release {
            input, selected, ..
        }) => {
            input.clear();
            *selected = None;
        }
        Some(
            Overlay::Confirm { input, .. }
            | Overlay::Reason { input, .. }
            | Overlay::Recipient { input, .. },
        ) => input.clear(),
        _ => {}
    }
}

/// esc: close the overlay (a view's confirmation goes back to its view), else cancel the
/// newest task, else leave the zoom, else clear the status line.
pub(super) fn cancel(state: &mut State, effects: &mut Vec<Effect>) {
    match state.overlay.take() {
        Some(Overlay::Confirm { then, .. }) => {
            state.overlay = match then {
                Confirmed::Secrets { .. } => Some(Overlay::Secrets),
                Confirmed::CleanTmp => Some(Overlay::Tmp),
                Confirmed::FeishuApply => Some(Overlay::Feishu),
                Confirmed::Git(_) | Confirmed::Rollout { .. } | Confirmed::Argo { .. } => None,
            };
        }
        Some(Overlay::Recipient { .. }) => state.overlay = Some(Overlay::Secrets),
        Some(Overlay::Logs) => {
            state.overlay = Some(Overlay::Logs);
            super::logs::close(state, effects);
        }
        // esc while filtering drops the filter and stays in the view.
        Some(Overlay::Changes) if state.changes.filtering => {
            state.changes.filtering = false;
            state.changes.filter.clear();
            state.overlay = Some(Overlay::Changes);
        }
        Some(Overlay::Timeline) if state.timeline.whole => {
            state.timeline.whole = false;
            state.overlay = Some(Overlay::Timeline);
        }
        Some(Overlay::Timeline) if state.timeline.filtering => {
            state.timeline.filtering = false;
            state.timeline.filter.clear();
            state.overlay = Some(Overlay::Timeline);
        }
        Some(Overlay::Timeline) => super::timeline::close(state, effects),
        // esc while filtering drops the filter; otherwise the fleet gives way to the app.
        Some(Overlay::Fleet) if state.fleet.filtering => {
            state.fleet.filtering = false;
            state.fleet.filter.clear();
            state.overlay = Some(Overlay::Fleet);
        }
        Some(_) => {}
        None => {
            if let Some(id) = state.tasks.cancel_newest() {
                effects.push(Effect::CancelTask(id));
            } else if state.zoomed {
                state.zoomed = false;
            } else {
                state.status = None;
            }
        }
    }
}

pub(super) fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    match state.overlay.take() {
        Some(Overlay::Palette { query, selected }) => {
            super::palette::submit(state, query, selected, effects);
        }
        Some(Overlay::ConfirmQuit) => effects.push(Effect::Quit),
        Some(overlay @ Overlay::Release { .. }) => {
            super::git::submit_release(state, overlay, effects);
        }
        Some(overlay @ Overlay::Rollback { .. }) => super::git::submit_rollback(state, overlay),
        Some(Overlay::Confirm {
            typed,
            input,
            then,
            title,
            lines,
        }) => {
            // Gates that did not pass offer no yes: only the override, where the env has one.
            if let Confirmed::Git(change) = &then
                && let Some(why) = state.gates_block(change)
            {
                let allows = state
                    .envs
                    .iter()
                    .any(|e| e.name == change.env && e.allow_override);
                if allows {
                    state.overlay = Some(Overlay::Reason {
                        change: change.clone(),
                        message: why,
                        input: String::new(),
                    });
                } else {
                    state.status = Some(format!(
                        "{why}: {} allows no override; wait for the gates or esc",
                        change.env
                    ));
                    state.overlay = Some(Overlay::Confirm {
                        title,
                        lines,
                        typed,
                        input,
                        then,
                    });
                }
                return;
            }
            if let Some(want) = typed.clone()
                && input.trim() != want
            {
                // Keep the dialog: a mistyped protected env name is not a yes.
                state.overlay = Some(Overlay::Confirm {
                    title,
                    lines,
                    typed,
                    input: String::new(),
                    then,
                });
                state.status = Some(format!("type `{want}` exactly to confirm"));
                return;
            }
            confirmed(state, then, effects);
        }
        // Enter in a view is its main action, through the same gate as its key.
        Some(Overlay::Secrets) => {
            state.overlay = Some(Overlay::Secrets);
            command(state, Command::Rotate, effects);
        }
        Some(view @ (Overlay::Tmp | Overlay::Feishu)) => {
            state.overlay = Some(view);
            command(state, Command::Apply, effects);
        }
        Some(Overlay::Recipient { add, input, .. }) => {
            super::secrets::submit_recipient(state, add, input);
        }
        // enter ends the filter's typing, keeping it.
        Some(Overlay::Logs) => {
            state.overlay = Some(Overlay::Logs);
            state.logs.filtering = false;
        }
        // enter ends the filter's typing (keeping it); otherwise it opens the row's link.
        Some(Overlay::Changes) => {
            state.overlay = Some(Overlay::Changes);
            if state.changes.filtering {
                state.changes.filtering = false;
            } else {
                super::changes::open_link(state, effects);
            }
        }
        // enter ends the filter's typing (keeping it); otherwise it shows the row whole, or
        // closes it again.
        Some(Overlay::Timeline) => {
            state.overlay = Some(Overlay::Timeline);
            let t = &mut state.timeline;
            if t.filtering {
                t.filtering = false;
            } else {
                t.whole = !t.whole && !t.rows().is_empty();
            }
        }
        Some(Overlay::Reason {
            change,
            message,
            input,
        }) => super::git::submit_reason(state, change, message, input),
        // enter ends the filter's typing (keeping it); otherwise it opens the cell.
        Some(Overlay::Fleet) => {
            state.overlay = Some(Overlay::Fleet);
            if state.fleet.filtering {
                state.fleet.filtering = false;
            } else {
                super::command(state, Command::Open, effects);
            }
        }
        Some(Overlay::Help { .. } | Overlay::Line { .. }) | None => {}
    }
}

/// A confirmation said yes: start the task.
fn confirmed(state: &mut State, then: Confirmed, effects: &mut Vec<Effect>) {
    match then {
        Confirmed::Git(change) => super::git::start(state, change, effects),
        Confirmed::Rollout { app, env, action } => {
            super::rollout::start(state, app, env, action, effects);
        }
        Confirmed::Argo { app, env, action } => {
            super::argocd::start(state, app, env, action, effects);
        }
        Confirmed::CleanTmp => super::tmp::start_clean(state, effects),
        Confirmed::FeishuApply => {
            let task = state.tasks.start("feishu member sync", state.clock.now_ms);
            effects.push(Effect::ApplyFeishu { task });
            state.overlay = Some(Overlay::Feishu);
        }
        Confirmed::Secrets { files, op } => {
            let title = op.title(files.len());
            let task = state.tasks.start(title, state.clock.now_ms);
            effects.push(Effect::SecretsBatch { task, files, op });
            // Back to the table, which refreshes when the batch reports.
            state.overlay = Some(Overlay::Secrets);
        }
    }
}

pub(super) fn move_selection(state: &mut State, delta: i32) {
    match &mut state.overlay {
        Some(Overlay::Release {
            input,
            known,
            selected,
            ..
        }) => {
            let n = known.as_ref().map_or(0, Vec::len);
            if n > 0 {
                let next = match *selected {
                    None if delta > 0 => 0,
                    None => n - 1,
                    Some(i) => step(i, delta, n),
                };
                *selected = Some(next);
                if let Some(t) = known.as_ref().and_then(|k| k.get(next)) {
                    input.clone_from(&t.tag);
                }
            }
        }
        Some(Overlay::Rollback {
            history, selected, ..
        }) => {
            let n = history.as_ref().map_or(0, Vec::len);
            *selected = step(*selected, delta, n);
        }
        Some(Overlay::Palette { query, selected }) => {
            let n = super::fuzzy(query).len();
            *selected = step(*selected, delta, n);
        }
        Some(Overlay::Help { scroll }) => {
            *scroll = if delta < 0 {
                scroll.saturating_sub(1)
            } else {
                scroll.saturating_add(1).min(HELP_LINES)
            };
        }
        Some(Overlay::Tmp) => {
            let n = state.tmp.rows.as_ref().map_or(0, Vec::len);
            state.tmp.selected = step(state.tmp.selected, delta, n);
        }
        Some(Overlay::Feishu) => {
            state.feishu.scroll = if delta < 0 {
                state.feishu.scroll.saturating_sub(1)
            } else {
                state.feishu.scroll.saturating_add(1)
            };
        }
        Some(Overlay::Changes) => super::changes::move_selection(state, delta),
        Some(Overlay::Timeline) => super::timeline::move_selection(state, delta),
        Some(Overlay::Secrets) => {
            let n = state.secrets.rows.as_ref().map_or(0, Vec::len);
            state.secrets.selected = step(state.secrets.selected, delta, n);
        }
        Some(
            Overlay::ConfirmQuit
            | Overlay::Line { .. }
            | Overlay::Confirm { .. }
            | Overlay::Reason { .. }
            | Overlay::Recipient { .. }
            | Overlay::Logs
            // The fleet moves its own cursor (`fleet::command`).
            | Overlay::Fleet,
        ) => {}
        None => match state.focus {
            Panel::Environments => {
                state.selected_env = step(state.selected_env, delta, state.envs.len());
                state.selected_gate = 0;
            }
            Panel::Activity => {
                let n = state.activity.len();
                if n > 0 {
                    // The first ↑ picks the newest line; ↓ past it goes back to following.
                    state.selected_activity = match state.selected_activity {
                        None if delta < 0 => Some(n - 1),
                        None => None,
                        Some(i) if delta > 0 && i + 1 >= n => None,
                        Some(i) => Some(step(i, delta, n)),
                    };
                }
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
