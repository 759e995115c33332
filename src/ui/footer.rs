//! The key bar and the status line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::dim;
use crate::app::{Command, State};

/// The commands worth a place in the always-visible bar, in product.md's order.
const BAR: [Command; 10] = [
    Command::Help,
    Command::Release,
    Command::Promote,
    Command::PromoteFull,
    Command::Abort,
    Command::Retry,
    Command::Rollback,
    Command::Secrets,
    Command::Tmp,
    Command::Feishu,
];

pub fn render_keys(frame: &mut Frame<'_>, area: Rect, state: &State) {
    let mut spans = Vec::new();
    for cmd in BAR {
        let Some(key) = state.keymap.keys_for(cmd).into_iter().next() else {
            continue;
        };
        let label = match cmd {
            Command::Help => "help",
            Command::PromoteFull => "promote-full",
            other => other.name(),
        };
        spans.push(Span::styled(
            format!(" {key}"),
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {label} ")));
    }
    if state.read_only {
        spans.push(Span::styled(" [read-only]", Style::default().fg(Color::Yellow)));
    }
    spans.push(Span::styled(format!("  {}", state.context_label), dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn render_status(frame: &mut Frame<'_>, area: Rect, state: &State) {
    if let Some(msg) = &state.status {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" {msg}"),
                Style::default().fg(Color::Yellow),
            )),
            area,
        );
    }
}
