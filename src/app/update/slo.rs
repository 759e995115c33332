//! The SLO read's transitions: a request becomes one `Effect::ReadSlo` (numbered, so only the
//! newest answer per app × env lands), and its answer is stored.

use crate::app::action::Effect;
use crate::app::slo::SloEntry;
use crate::app::state::State;
use crate::services::prometheus::SloReport;

/// Asks for the SLO of `app` in `env` (series from `since`, Unix seconds, when given).
pub(super) fn refresh(
    state: &mut State,
    app: String,
    env: String,
    since: Option<f64>,
    effects: &mut Vec<Effect>,
) {
    if !state.slo.configured || state.slo.unavailable.is_some() {
        return;
    }
    state.slo.seq += 1;
    let seq = state.slo.seq;
    let entry = state
        .slo
        .entries
        .entry((app.clone(), env.clone()))
        .or_default();
    entry.loading = true;
    entry.seq = seq;
    entry.asked_ms = state.clock.now_ms;
    effects.push(Effect::ReadSlo {
        app,
        env,
        since,
        seq,
    });
}

/// Stores an answer, unless a newer request for the same pair is out.
pub(super) fn loaded(
    state: &mut State,
    app: String,
    env: String,
    seq: u64,
    result: Result<Box<SloReport>, String>,
) {
    let entry: &mut SloEntry = state.slo.entries.entry((app, env)).or_default();
    if seq < entry.seq {
        return;
    }
    entry.loading = false;
    // The panel's clock counts from the answer: a slow Prometheus is not asked back to back.
    entry.asked_ms = state.clock.now_ms;
    match result {
        Ok(report) => {
            entry.report = Some(*report);
            entry.error = None;
        }
        Err(e) => entry.error = Some(e),
    }
    state.dirty = true;
}

/// How often the SLO panel asks again while it is on screen (issue 17: a 10-15 s clock).
pub const REFRESH_MS: u64 = 12_000;

/// The app × env whose canary the Rollout panel shows now, and when that canary started
/// (Unix seconds): the SLO panel is drawn for it, so it is the one to keep fresh.
pub fn visible(state: &State) -> Option<(String, String, Option<f64>)> {
    let visible = !state.zoomed || state.focus == crate::app::state::Panel::Rollout;
    if !visible || state.overlay.is_some() {
        return None;
    }
    let (app, env) = (state.selected_app()?, state.selected_env()?);
    let r = state.live.rollout(app, &env.name)?;
    let canary = r.canary_rs().filter(|c| !c.stable)?;
    if r.fully_promoted || r.aborted {
        return None;
    }
    let since = canary.created.map(|t| t.as_duration().as_secs_f64());
    Some((app.to_owned(), env.name.clone(), since))
}

/// After every action: while a canary's SLO is on screen, ask for it when it is missing or
/// older than the panel's clock, and wake up again when that clock runs out. Nothing is
/// asked while nothing shows it.
pub(super) fn keep_fresh(state: &mut State, effects: &mut Vec<Effect>) {
    let Some((app, env, since)) = visible(state) else {
        return;
    };
    if !state.slo.configured || state.slo.unavailable.is_some() {
        return;
    }
    let now = state.clock.now_ms;
    let due = state
        .slo
        .get(&app, &env)
        .is_none_or(|e| !e.loading && now.saturating_sub(e.asked_ms) >= REFRESH_MS);
    if !due {
        return;
    }
    refresh(state, app, env, since, effects);
}

/// After an answer: wake up when the panel's clock runs out (`keep_fresh` then decides).
pub(super) fn next_tick(effects: &mut Vec<Effect>) {
    effects.push(Effect::Schedule {
        key: crate::app::action::TimerKey::Slo,
        after_ms: REFRESH_MS,
        action: Box::new(crate::app::action::Action::Recheck),
    });
}
