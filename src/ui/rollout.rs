//! Rollout: the canary's status, step, weights, pods and analysis for the selected env.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, feed_line};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let title = match (state.selected_app(), state.selected_env()) {
        (Some(app), Some(env)) => format!("Rollout: {app} ({})", env.name),
        _ => "Rollout".to_owned(),
    };
    let lines: Vec<_> = feed_line("cluster", &state.cluster).into_iter().collect();
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, focused)),
        area,
    );
}
