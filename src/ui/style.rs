//! Shared looks: borders, focus, and the "not connected" line.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::app::state::Feed;

pub fn block(title: impl Into<String>, focused: bool) -> Block<'static> {
    let (border, title_style) = if focused {
        (
            Style::default().fg(Color::Cyan),
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        )
    } else {
        (Style::default().fg(Color::DarkGray), Style::default())
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(Span::styled(format!(" {} ", title.into()), title_style))
}

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// A line saying why a source shows nothing, or `None` when it is live.
pub fn feed_line(what: &str, feed: &Feed) -> Option<Line<'static>> {
    match feed {
        Feed::Live => None,
        Feed::Connecting => Some(Line::from(Span::styled(
            format!("{what}: connecting…"),
            dim(),
        ))),
        Feed::NotConnected(reason) => Some(Line::from(vec![
            Span::styled(format!("{what}: "), dim()),
            Span::styled("not connected", Style::default().fg(Color::Yellow)),
            Span::styled(format!(": {reason}"), dim()),
        ])),
        Feed::Stale { since } => Some(Line::from(Span::styled(
            format!("{what}: stale since {since}"),
            Style::default().fg(Color::Yellow),
        ))),
    }
}
