//! Gates: the CI checks of the commit the selected env runs, against its required checks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, dim, feed_line};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let env = state.selected_env();
    let title = match env.and_then(|e| e.git_tag.as_deref()) {
        Some(tag) => format!("Gates: {tag}"),
        None => "Gates".to_owned(),
    };
    let mut lines = Vec::new();
    if let Some(env) = env {
        let required = if env.required_checks.is_empty() {
            "none".to_owned()
        } else {
            env.required_checks.join(", ")
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} requires: ", env.name), dim()),
            Span::raw(required),
        ]));
    }
    lines.extend(feed_line("github", &state.github));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, focused)),
        area,
    );
}
