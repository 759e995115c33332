//! CI gates: the report of each env's commit (asked again on one timer per env), the gates of
//! a candidate tag in a confirmation, and the selected gate's link.

use super::super::action::{Action, Effect, TimerKey};
use super::super::state::{EnvRow, Feed, GatesView, State};
use crate::services::github::GateReport;

/// The checks an env requires (empty for an env not on screen).
fn required(state: &State, env: &str) -> Vec<String> {
    state
        .envs
        .iter()
        .find(|r| r.name == env)
        .map(|r| r.required_checks.clone())
        .unwrap_or_default()
}

/// Asks for the gates of `tag` in `env` (the view shows it loading).
pub(super) fn fetch(state: &mut State, env: &str, tag: String) -> Effect {
    let required = required(state, env);
    let view = state.gates.entry(env.to_owned()).or_default();
    if view.tag != tag {
        *view = GatesView {
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

/// The scheduled re-read of an env's gates.
pub(super) fn refresh(state: &mut State, env: &str, effects: &mut Vec<Effect>) {
    let tag = state
        .envs
        .iter()
        .find(|r| r.name == env)
        .and_then(|r| r.git_tag.clone());
    if let Some(tag) = tag {
        effects.push(fetch(state, env, tag));
    }
}

pub(super) fn loaded(
    state: &mut State,
    env: String,
    tag: &str,
    result: Result<GateReport, String>,
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
                let after_ms = u64::try_from(at.as_millisecond().saturating_sub(now_ms))
                    .unwrap_or(0)
                    .max(1_000);
                effects.push(Effect::Schedule {
                    key: TimerKey::Gates { env: env.clone() },
                    after_ms,
                    action: Box::new(Action::RefreshGates { env }),
                });
            }
            view.report = Some(report);
            state.github = Feed::Live;
        }
        Err(e) => view.error = Some(e),
    }
}

/// Shows the gates of the tag about to go in, inside the confirmation.
pub(super) fn candidate(state: &State, env: &EnvRow, tag: &str, effects: &mut Vec<Effect>) {
    if !env.required_checks.is_empty() && !matches!(state.github, Feed::NotConnected(_)) {
        effects.push(Effect::FetchCandidateGates {
            env: env.name.clone(),
            tag: tag.to_owned(),
        });
    }
}

/// The candidate's gates came in. While some still run and the confirmation is open, they
/// are asked again when GitHub's report says a refresh is due: the dialog follows CI.
pub(super) fn candidate_loaded(
    state: &mut State,
    c: super::super::state::CandidateGates,
    effects: &mut Vec<Effect>,
) {
    if let Ok(report) = &c.result
        && let Some(at) = report.refresh_after
    {
        let now_ms = i64::try_from(state.clock.now_ms).unwrap_or(i64::MAX);
        let after_ms = u64::try_from(at.as_millisecond().saturating_sub(now_ms))
            .unwrap_or(0)
            .max(1_000);
        effects.push(Effect::Schedule {
            key: TimerKey::CandidateGates,
            after_ms,
            action: Box::new(Action::RefreshCandidate {
                env: c.env.clone(),
                tag: c.tag.clone(),
            }),
        });
    }
    state.candidate = Some(c);
}

/// The refresh is due: ask again only if that confirmation is still open.
pub(super) fn refresh_candidate(
    state: &State,
    env: String,
    tag: String,
    effects: &mut Vec<Effect>,
) {
    let open = matches!(
        &state.overlay,
        Some(super::super::state::Overlay::Confirm {
            then: super::super::state::Confirmed::Git(change),
            ..
        }) if change.env == env && change.tag.as_deref() == Some(tag.as_str())
    );
    if open {
        effects.push(Effect::FetchCandidateGates { env, tag });
    }
}

/// What an env requires, for a confirmation.
pub(super) fn required_line(state: &State, env: &str) -> String {
    let required = required(state, env);
    if required.is_empty() {
        format!("{env} requires no checks")
    } else {
        format!(
            "{env} requires {}: checked against GitHub before the push",
            required.join(", ")
        )
    }
}

/// `o`: the selected gate's link.
pub(super) fn open_link(state: &mut State, effects: &mut Vec<Effect>) {
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
