//! Drift: git and the cluster disagreeing about an env's tag. A release takes a moment to sync,
//! so a disagreement only becomes drift once it outlives the grace period; a keyed timer
//! draws the screen again when that happens.

use super::super::action::{Action, Effect, TimerKey};
use super::super::state::State;

/// Notes when each app × env started to disagree (and forgets those that agree again).
pub(super) fn track(state: &mut State, effects: &mut Vec<Effect>) {
    let now = state.clock.now_ms;
    let disagree: Vec<(String, String)> = state
        .git
        .iter()
        .filter_map(|((app, env), t)| {
            let git = t.tag.as_deref()?;
            let live = state.live.env_live(app, env)?.live_tag?;
            (git != live).then(|| (app.clone(), env.clone()))
        })
        .collect();
    state.drift_since.retain(|k, _| disagree.contains(k));
    for key in disagree {
        if let std::collections::hash_map::Entry::Vacant(v) = state.drift_since.entry(key) {
            let (app, env) = v.key().clone();
            v.insert(now);
            // A live image git does not explain: perhaps git moved; ask the remote now.
            effects.push(Effect::CheckGitRef);
            effects.push(Effect::Schedule {
                key: TimerKey::Drift { app, env },
                after_ms: state.drift_grace_ms,
                action: Box::new(Action::Recheck),
            });
        }
    }
}
