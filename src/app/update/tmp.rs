//! The tmp view: what the cleanup would remove, which entries to keep, and the clean itself.

use super::super::action::Effect;
use super::super::state::{Confirmed, Overlay, State, TmpRow, TmpSort, TmpView};

pub(super) fn planned(state: &mut State, result: Result<(Vec<TmpRow>, Vec<String>), String>) {
    match result {
        Ok((rows, summary)) => {
            state.tmp.rows = Some(rows);
            state.tmp.summary = summary;
            state.tmp.error = None;
        }
        Err(e) => state.tmp.error = Some(e),
    }
    state.tmp.skip.clear();
    state.tmp.selected = 0;
    sort(&mut state.tmp);
}

/// Space: keep the selected entry (or remove it again).
pub(super) fn toggle(state: &mut State) {
    if state.overlay != Some(Overlay::Tmp) {
        return;
    }
    let idx = state
        .tmp
        .rows
        .as_ref()
        .and_then(|r| r.get(state.tmp.selected))
        .map(|r| r.idx);
    if let Some(idx) = idx
        && !state.tmp.skip.remove(&idx)
    {
        state.tmp.skip.insert(idx);
    }
}

/// `o`: by size, by age, by rule.
pub(super) fn next_order(state: &mut State) {
    state.tmp.sort = match state.tmp.sort {
        TmpSort::Size => TmpSort::Age,
        TmpSort::Age => TmpSort::Rule,
        TmpSort::Rule => TmpSort::Size,
    };
    sort(&mut state.tmp);
}

fn sort(view: &mut TmpView) {
    if let Some(rows) = &mut view.rows {
        match view.sort {
            TmpSort::Size => rows.sort_by_key(|r| std::cmp::Reverse(r.size)),
            TmpSort::Age => rows.sort_by_key(|r| std::cmp::Reverse(r.age_secs)),
            TmpSort::Rule => rows.sort_by(|a, b| a.rule.cmp(&b.rule).then(a.path.cmp(&b.path))),
        }
    }
}

/// Enter: ask before removing what is not kept.
pub(super) fn ask_clean(state: &mut State) {
    let rows = state.tmp.rows.clone().unwrap_or_default();
    let chosen: Vec<&TmpRow> = rows
        .iter()
        .filter(|r| !state.tmp.skip.contains(&r.idx))
        .collect();
    if chosen.is_empty() {
        state.status = Some("tmp: nothing selected to clean".into());
        return;
    }
    let bytes: u64 = chosen.iter().map(|r| r.size).sum();
    state.overlay = Some(Overlay::Confirm {
        title: "Clean tmp".into(),
        lines: vec![
            format!(
                "{} entries, {} (skipped: {})",
                chosen.len(),
                crate::services::tmpclean::format_bytes(bytes),
                state.tmp.skip.len()
            ),
            "only entries unchanged since the preview go; symlink targets are never touched".into(),
        ],
        typed: None,
        input: String::new(),
        then: Confirmed::CleanTmp,
    });
}

pub(super) fn start_clean(state: &mut State, effects: &mut Vec<Effect>) {
    let skip: Vec<usize> = state.tmp.skip.iter().copied().collect();
    let task = state.tasks.start("tmp clean", state.clock.now_ms);
    effects.push(Effect::CleanTmp { task, skip });
    state.overlay = None;
}
