//! `s`: every SOPS file with its format, recipients, age and whether my keys open it.

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fit;
use super::style::{dim, sheet};
use crate::services::secrets::ops::FileInfo;

const HEADER: [&str; 5] = ["file", "format", "age", "recipients", "status"];
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
    // Each column as wide as its widest cell when the screen allows; else the widest narrow
    // first, and every cell is cut to its column here: paths in the middle (their folder and
    // their file name both matter), the rest with `…`.
    let cells: Vec<[String; 5]> = rows.iter().map(|f| cells(f, base)).collect();
    let want: Vec<usize> = (0..5)
        .map(|c| fit::widest(cells.iter().map(|r| r[c].as_str()).chain([HEADER[c]])))
        .collect();
    let widths = fit::columns(usize::from(body.width), &want, &[12, 6, 4, 8, 6]);
    let table_rows: Vec<Row> = rows
        .iter()
        .zip(&cells)
        .enumerate()
        .map(|(i, (f, cells))| {
            let status_style = match (&f.error, f.can_decrypt, f.stale) {
                (Some(_), _, _) | (None, false, _) => Style::default().fg(Color::Red),
                (None, true, true) => Style::default().fg(Color::Yellow),
                _ => Style::default().fg(Color::Green),
            };
            let fitted: Vec<Cell> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (text, w))| {
                    let text = if c == 0 {
                        fit::elide_middle(text, *w)
                    } else {
                        fit::cut(text, *w)
                    };
                    let cell = Cell::from(text);
                    if c == 4 {
                        cell.style(status_style)
                    } else {
                        cell
                    }
                })
                .collect();
            let row = Row::new(fitted);
            if i == view.selected {
                row.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                row
            }
        })
        .collect();
    let constraints = widths
        .iter()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)));
    let table = Table::new(table_rows, constraints)
        .header(Row::new(HEADER).style(Style::default().add_modifier(Modifier::BOLD)));
    frame.render_widget(table, body);
}

/// One file's cells, in full: file (relative to the secrets folder), format, age,
/// recipients, status.
fn cells(f: &FileInfo, base: &std::path::Path) -> [String; 5] {
    let path = f.path.strip_prefix(base).unwrap_or(&f.path);
    let status = match (&f.error, f.can_decrypt, f.stale) {
        (Some(e), _, _) => e.clone(),
        (None, false, _) => "no key of mine opens it".to_owned(),
        (None, true, true) => "stale: rotate".to_owned(),
        (None, true, false) => "ok".to_owned(),
    };
    let recipients = f
        .recipients
        .iter()
        .map(|r| crate::app::state::short_recipient(r))
        .collect::<Vec<_>>()
        .join(" ");
    [
        path.display().to_string(),
        f.format
            .map_or("?".to_owned(), |x| format!("{x:?}").to_lowercase()),
        f.age_days.map_or("?".to_owned(), |d| format!("{d}d")),
        recipients,
        status,
    ]
}
