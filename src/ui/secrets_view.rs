//! `s`: every SOPS file with its format, recipients, age and whether my keys open it.

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::style::{dim, sheet};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let view = &state.secrets;
    let order = if view.by_age {
        "oldest first"
    } else {
        "by path"
    };
    let (body, _) = sheet(
        frame,
        format!("Secrets ({order})"),
        super::footer::view_hints(
            state,
            crate::app::keymap::View::Secrets,
            "↑↓ select · esc close",
        ),
    );
    let Some(rows) = &view.rows else {
        let msg = view
            .error
            .clone()
            .unwrap_or_else(|| "reading secret files…".to_owned());
        frame.render_widget(Paragraph::new(Line::styled(msg, dim())), body);
        return;
    };
    let base = state
        .secrets_base
        .as_deref()
        .unwrap_or_else(|| std::path::Path::new(""));
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = f.path.strip_prefix(base).unwrap_or(&f.path);
            let age = f.age_days.map_or("?".to_owned(), |d| format!("{d}d"));
            let status = match (&f.error, f.can_decrypt, f.stale) {
                (Some(e), _, _) => e.clone(),
                (None, false, _) => "no key of mine opens it".to_owned(),
                (None, true, true) => "stale: rotate".to_owned(),
                (None, true, false) => "ok".to_owned(),
            };
            let status_style = match (&f.error, f.can_decrypt, f.stale) {
                (Some(_), _, _) | (None, false, _) => Style::default().fg(Color::Red),
                (None, true, true) => Style::default().fg(Color::Yellow),
                _ => Style::default().fg(Color::Green),
            };
            let recipients = f
                .recipients
                .iter()
                .map(|r| crate::app::state::short_recipient(r))
                .collect::<Vec<_>>()
                .join(" ");
            let row = Row::new(vec![
                Cell::from(path.display().to_string()),
                Cell::from(
                    f.format
                        .map_or("?".to_owned(), |x| format!("{x:?}").to_lowercase()),
                ),
                Cell::from(age),
                Cell::from(recipients),
                Cell::from(status).style(status_style),
            ]);
            if i == view.selected {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        table_rows,
        [
            Constraint::Min(24),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Min(20),
            Constraint::Length(24),
        ],
    )
    .header(
        Row::new(["file", "format", "age", "recipients", "status"])
            .style(Style::default().add_modifier(Modifier::BOLD)),
    );
    frame.render_widget(table, body);
}
