//! The Feishu view: the member sync's plan, and applying it.

use super::super::state::{Confirmed, Overlay, State};

pub(super) fn planned(state: &mut State, result: Result<(Vec<String>, usize), String>) {
    match result {
        Ok((lines, writes)) => {
            state.feishu.lines = Some(lines);
            state.feishu.writes = writes;
            state.feishu.error = None;
        }
        Err(e) => state.feishu.error = Some(e),
    }
}

/// Enter: ask before the membership writes.
pub(super) fn ask_apply(state: &mut State) {
    match (&state.feishu.lines, state.feishu.writes) {
        (None, _) => state.status = Some("feishu: the plan is not ready yet".into()),
        (Some(_), 0) => {
            state.status = Some("feishu: chats already match: nothing to apply".into());
        }
        (Some(_), writes) => {
            state.overlay = Some(Overlay::Confirm {
                title: "Apply the Feishu member sync".into(),
                lines: vec![
                    format!("{writes} membership write(s) to Feishu, in batches of ≤ 50 per chat"),
                    "only members the sync manages are ever removed".into(),
                ],
                typed: None,
                input: String::new(),
                then: Confirmed::FeishuApply,
            });
        }
    }
}
