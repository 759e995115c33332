//! The event timeline (`e`): opening starts its watches and reads the journal, answers fill it,
//! a finished task re-reads the journal, closing stops the watches.

use super::super::action::Effect;
use super::super::state::{Overlay, State};
use super::super::timeline::{SOURCES, Source, TimelineView};
use crate::audit::Entry;
use crate::services::kube::timeline::ClusterEvent;

/// `e`: the timeline of the selected app in the selected env.
pub(super) fn open(state: &mut State, effects: &mut Vec<Effect>) {
    let Some((app, env)) = state.selection() else {
        return;
    };
    let seq = state.timeline.seq + 1;
    state.timeline = TimelineView {
        app: app.clone(),
        env: env.name.clone(),
        seq,
        sources: SOURCES
            .iter()
            .map(|s| ((*s).to_owned(), Source::default()))
            .collect(),
        ..TimelineView::default()
    };
    state.overlay = Some(Overlay::Timeline);
    effects.push(Effect::WatchTimeline {
        seq,
        app,
        env: env.name,
    });
    effects.push(Effect::ReadTimelineJournal { seq });
}

/// The view closed: its watches stop (nothing watches what nobody looks at).
pub(super) fn close(state: &mut State, effects: &mut Vec<Effect>) {
    state.timeline.filtering = false;
    state.timeline.filter.clear();
    effects.push(Effect::StopTimeline);
}

pub(super) fn events(
    state: &mut State,
    seq: u64,
    source: String,
    result: Result<Vec<ClusterEvent>, String>,
) {
    if seq != state.timeline.seq || state.overlay != Some(Overlay::Timeline) {
        return;
    }
    let s = state.timeline.sources.entry(source).or_default();
    match result {
        Ok(events) => {
            s.events = events;
            s.listed = true;
            s.error = None;
        }
        // The last rows stay, marked by the error, rather than an empty list.
        Err(e) => s.error = Some(e),
    }
    clamp(state);
}

pub(super) fn journal(state: &mut State, seq: u64, result: Result<Vec<Entry>, String>) {
    if seq == state.timeline.seq {
        state.timeline.journal = Some(result);
        clamp(state);
    }
}

/// A task ended: it wrote a journal line, which the open timeline shows.
pub(super) fn after_task(state: &State, effects: &mut Vec<Effect>) {
    if state.overlay == Some(Overlay::Timeline) {
        effects.push(Effect::ReadTimelineJournal {
            seq: state.timeline.seq,
        });
    }
}

pub(super) fn move_selection(state: &mut State, delta: i32) {
    let n = state.timeline.rows().len();
    state.timeline.selected = super::step(state.timeline.selected, delta, n);
}

fn clamp(state: &mut State) {
    let n = state.timeline.rows().len();
    state.timeline.selected = state.timeline.selected.min(n.saturating_sub(1));
}
