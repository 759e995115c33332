//! The logs view (`L` on the Rollout panel): open follows both sides of the selected app's
//! canary, lines land in their pane's ring, space pauses, `c` switches the container, `/`
//! filters, esc closes (the filter first) and stops the follow.

use super::super::action::Effect;
use super::super::logs::LogsView;
use super::super::state::{Overlay, State};
use crate::services::kube::logs::{Role, SideEvent};

pub(super) fn open(state: &mut State, effects: &mut Vec<Effect>) {
    let Some((app, env)) = state.selection() else {
        return;
    };
    if state.live.rollout(&app, &env.name).is_none() {
        state.status = Some(format!(
            "logs: no Rollout of {app} seen in `{}` yet",
            env.name
        ));
        return;
    }
    let generation = state.logs.generation + 1;
    state.logs = LogsView {
        app: app.clone(),
        env: env.name.clone(),
        generation,
        ..LogsView::default()
    };
    state.logs.canary.status = "connecting…".into();
    state.logs.stable.status = "connecting…".into();
    state.overlay = Some(Overlay::Logs);
    effects.push(Effect::FollowLogs {
        app,
        env: env.name,
        generation,
        container: None,
    });
}

/// esc: the filter first, then the view (and its follow).
pub(super) fn close(state: &mut State, effects: &mut Vec<Effect>) {
    if state.logs.filtering || !state.logs.filter.is_empty() {
        state.logs.filtering = false;
        state.logs.filter.clear();
        state.overlay = Some(Overlay::Logs);
        return;
    }
    state.overlay = None;
    state.logs.generation += 1;
    effects.push(Effect::StopLogs);
}

/// What a side's follow said; a closed or restarted follow's words are dropped.
pub fn event(state: &mut State, generation: u64, role: Role, events: Vec<SideEvent>) {
    if generation != state.logs.generation || state.overlay != Some(Overlay::Logs) {
        return;
    }
    let paused = state.logs.paused.is_some();
    for e in events {
        match e {
            SideEvent::Line(l) => state.logs.pane_mut(role).push(l, paused),
            SideEvent::Pods { pods, containers } => {
                state.logs.pane_mut(role).status = pods.join(", ");
                if !containers.is_empty() {
                    state.logs.containers = containers;
                }
            }
            SideEvent::Problem(why) => state.logs.pane_mut(role).status = why,
        }
    }
}

/// space: freeze what is shown (the rings go on filling) or show the newest again.
pub(super) fn toggle_pause(state: &mut State) {
    let v = &mut state.logs;
    if v.paused.take().is_none() {
        v.paused = Some((
            v.canary.lines.iter().cloned().collect(),
            v.stable.lines.iter().cloned().collect(),
        ));
    } else {
        v.canary.unseen = 0;
        v.stable.unseen = 0;
    }
}

/// `c`: the next container of the pods; the follow restarts on it (each pod's first until
/// one is chosen).
pub(super) fn next_container(state: &mut State, effects: &mut Vec<Effect>) {
    let containers = state.logs.containers.clone();
    if containers.len() < 2 {
        state.status = Some("logs: the pods have one container".into());
        return;
    }
    let next = match &state.logs.container {
        None => containers.get(1),
        Some(c) => containers
            .iter()
            .position(|x| x == c)
            .and_then(|i| containers.get((i + 1) % containers.len())),
    }
    .cloned();
    let (app, env) = (state.logs.app.clone(), state.logs.env.clone());
    state.logs.generation += 1;
    state.logs.container.clone_from(&next);
    state.logs.canary = super::super::logs::LogPane::default();
    state.logs.stable = super::super::logs::LogPane::default();
    effects.push(Effect::FollowLogs {
        app,
        env,
        generation: state.logs.generation,
        container: next,
    });
}
