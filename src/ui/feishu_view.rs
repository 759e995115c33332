//! `f`: the GitHub team → Feishu chat member sync, planned (a dry run) before anything changes.

use ratatui::Frame;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::style::{dim, sheet};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, state: &State) {
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
    let (body, _) = sheet(
        frame,
        title,
        super::footer::view_hints(
            state,
            crate::app::keymap::View::Feishu,
            "↑↓ scroll · esc close · the schedule lives in cron or Actions",
        ),
    );
    frame.render_widget(Paragraph::new(lines).scroll((view.scroll, 0)), body);
}
