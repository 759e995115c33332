//! Shared looks: borders, focus, and the "not connected" line.

use ratatui::layout::Rect;
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

/// A full-screen view over the panels: its inner body and a one-line key hint at the bottom.
pub fn sheet(frame: &mut ratatui::Frame<'_>, title: String, hint: Line<'static>) -> (Rect, Rect) {
    let full = frame.area();
    let area = Rect {
        x: full.x + 2,
        y: full.y + 1,
        width: full.width.saturating_sub(4),
        height: full.height.saturating_sub(3),
    };
    frame.render_widget(ratatui::widgets::Clear, area);
    let block = block(title, true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let foot = Rect {
        y: inner.y + inner.height.saturating_sub(1),
        height: 1.min(inner.height),
        ..inner
    };
    frame.render_widget(ratatui::widgets::Paragraph::new(hint), foot);
    (body, foot)
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

/// A view's head (its summary lines, then the filter being typed or kept) drawn at the top of
/// `body`; returns the area left under it for the rows.
pub fn head_and_filter(
    frame: &mut ratatui::Frame<'_>,
    body: Rect,
    mut head: Vec<Line<'static>>,
    filter: &str,
    filtering: bool,
) -> Rect {
    if filtering || !filter.is_empty() {
        head.push(Line::from(vec![
            Span::styled("/ ", Style::default().fg(Color::Cyan)),
            Span::raw(filter.to_owned()),
            Span::styled(
                if filtering { "▏" } else { "" },
                Style::default().fg(Color::Cyan),
            ),
        ]));
    }
    let head_h = u16::try_from(head.len())
        .unwrap_or(u16::MAX)
        .min(body.height);
    frame.render_widget(
        ratatui::widgets::Paragraph::new(head),
        Rect {
            height: head_h,
            ..body
        },
    );
    Rect {
        y: body.y + head_h,
        height: body.height.saturating_sub(head_h),
        ..body
    }
}
