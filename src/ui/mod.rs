//! Rendering: pure functions of `State`, one file per panel or dialog.

pub mod activity;
pub mod changes_view;
pub mod confirm_dialog;
pub mod environments;
pub mod feishu_view;
mod fit;
pub mod fleet_view;
pub mod footer;
pub mod gates;
pub mod layout;
pub mod logs_view;
pub mod overlays;
pub mod release_dialog;
pub mod rollback_dialog;
pub mod rollout;
pub mod runners;
pub mod secrets_view;
pub mod slo_panel;
mod style;
pub mod timeline_view;
pub mod tmp_view;

use ratatui::Frame;

use crate::app::{Panel, State};

/// How a panel draws itself: its area, the state, whether it has focus.
type RenderPanel = fn(&mut Frame<'_>, ratatui::layout::Rect, &State, bool);

/// Every panel and the file that draws it. A new panel is a line here, a `Panel` variant and
/// its file.
const PANELS: [(Panel, RenderPanel); 5] = [
    (Panel::Environments, environments::render),
    (Panel::Rollout, rollout::render),
    (Panel::Gates, gates::render),
    (Panel::Runners, runners::render),
    (Panel::Activity, activity::render),
];

/// Draws the whole screen.
pub fn render(frame: &mut Frame<'_>, state: &State) {
    let areas = layout::areas(frame.area(), state);
    for (panel, rect) in &areas.panels {
        let focused = state.focus == *panel;
        if let Some((_, draw)) = PANELS.iter().find(|(p, _)| p == panel) {
            draw(frame, *rect, state, focused);
        }
    }
    if let Some(rect) = areas.status {
        footer::render_status(frame, rect, state);
    }
    footer::render_keys(frame, areas.footer, state);
    overlays::render(frame, state);
}
