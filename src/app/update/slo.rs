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
    match result {
        Ok(report) => {
            entry.report = Some(*report);
            entry.error = None;
        }
        Err(e) => entry.error = Some(e),
    }
    state.dirty = true;
}
