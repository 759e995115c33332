//! Rendering: pure functions of `State`, one file per panel or dialog.

pub mod activity;
pub mod confirm_dialog;
pub mod environments;
pub mod feishu_view;
pub mod footer;
pub mod gates;
pub mod layout;
pub mod overlays;
pub mod release_dialog;
pub mod rollback_dialog;
pub mod rollout;
pub mod runners;
pub mod secrets_view;
mod style;
pub mod tmp_view;

use ratatui::Frame;

use crate::app::{Panel, State};

/// Draws the whole screen.
pub fn render(frame: &mut Frame<'_>, state: &State) {
    let areas = layout::areas(frame.area(), state);
    for (panel, rect) in &areas.panels {
        let focused = state.focus == *panel;
        match panel {
            Panel::Environments => environments::render(frame, *rect, state, focused),
            Panel::Rollout => rollout::render(frame, *rect, state, focused),
            Panel::Gates => gates::render(frame, *rect, state, focused),
            Panel::Runners => runners::render(frame, *rect, state, focused),
            Panel::Activity => activity::render(frame, *rect, state, focused),
        }
    }
    if let Some(rect) = areas.status {
        footer::render_status(frame, rect, state);
    }
    footer::render_keys(frame, areas.footer, state);
    overlays::render(frame, state);
}
