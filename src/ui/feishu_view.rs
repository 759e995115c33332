//! `f`: the GitHub team → Feishu chat member sync, planned (a dry run) before anything changes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::style::{block, dim};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let full = frame.area();
    let area = Rect {
        x: full.x + 2,
        y: full.y + 1,
        width: full.width.saturating_sub(4),
        height: full.height.saturating_sub(3),
    };
    frame.render_widget(Clear, area);
    let view = &state.feishu;
    let mut lines: Vec<Line> = Vec::new();
    match (&view.lines, &view.error) {
        (_, Some(e)) => lines.push(Line::styled(e.clone(), Style::default().fg(Color::Red))),
        (None, None) => lines.push(Line::styled(
            "planning: reading GitHub teams and Feishu chats…",
            dim(),
        )),
        (Some(plan), None) => {
            lines.extend(plan.iter().map(|l| {
                let style = if l.trim_start().starts_with('+') {
                    Style::default().fg(Color::Green)
                } else if l.trim_start().starts_with('-') {
                    Style::default().fg(Color::Red)
                } else {
                    Style::default()
                };
                Line::styled(l.clone(), style)
            }));
        }
    }
    let title = match (&view.lines, view.writes) {
        (Some(_), 0) => "Feishu member sync: nothing to change".to_owned(),
        (Some(_), n) => format!("Feishu member sync: {n} write(s) planned"),
        (None, _) => "Feishu member sync".to_owned(),
    };
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
    frame.render_widget(Paragraph::new(lines).scroll((view.scroll, 0)), body);
    frame.render_widget(
        Paragraph::new(Line::styled(
            "enter: apply (asks first) · ↑↓ scroll · esc close · the schedule lives in cron or Actions",
            dim(),
        )),
        foot,
    );
}
