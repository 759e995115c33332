//! The confirmation before a write. A protected env asks for its name to be typed.

use ratatui::Frame;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::overlays::centered;
use super::style::{block, dim};
use crate::app::Overlay;

pub fn render(frame: &mut Frame<'_>, overlay: &Overlay) {
    let Overlay::Confirm {
        title,
        lines: body,
        typed,
        input,
        ..
    } = overlay
    else {
        return;
    };
    let area = centered(frame.area(), 72, 9);
    let mut lines: Vec<Line> = body.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    match typed {
        Some(env) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{env} is protected: type "), dim()),
                Span::styled(env.clone(), Style::default().fg(Color::Yellow)),
                Span::styled(" and press enter: ", dim()),
                Span::raw(input.clone()),
                Span::styled("▏", Style::default().fg(Color::Cyan)),
            ]));
        }
        None => lines.push(Line::styled(
            "y / enter: go ahead    n / esc: cancel",
            dim(),
        )),
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title.clone(), true)),
        area,
    );
}
