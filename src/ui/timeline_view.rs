//! `e`: the event timeline, newest first: the cluster's events about the app in the env and
//! shipdeck's own actions (marked as ours), one table, with a filter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fit;
use super::style::{dim, sheet};
use crate::app::State;

const HEADER: [&str; 5] = ["time", "type", "object", "reason", "message"];

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let view = &state.timeline;
    let title = format!("Timeline {} in {}", view.app, view.env);
    let tail = if view.filtering {
        "type to filter · enter keeps · esc clears"
    } else {
        "↑↓ select · enter whole · esc close"
    };
    let (body, _) = sheet(
        frame,
        title,
        super::footer::view_hints(state, crate::app::keymap::View::Timeline, tail),
    );
    let width = usize::from(body.width);
    let mut head: Vec<Line> = view
        .problems()
        .into_iter()
        .map(|p| {
            Line::styled(
                fit::cut(&format!("stale: {p}"), width),
                Style::default().fg(Color::Red),
            )
        })
        .collect();
    if view.journal.is_none() {
        head.push(Line::styled("reading the journal…", dim()));
    }
    let list = super::style::head_and_filter(frame, body, head, &view.filter, view.filtering);
    table(frame, state, list);
    if view.whole
        && let Some(row) = view.rows().get(view.selected)
    {
        let time = row.time.map_or_else(
            || "an unknown time".to_owned(),
            |t| {
                t.to_zoned(state.clock.zone())
                    .strftime("%H:%M:%S")
                    .to_string()
            },
        );
        let text = format!(
            "{} {} {}: {}",
            row.kind, row.object, row.reason, row.message
        );
        super::overlays::whole_line(frame, format!("Event at {time}"), &text, row.warning());
    }
}

fn table(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let view = &state.timeline;
    let rows = view.rows();
    if rows.is_empty() {
        // Never an empty list that reads as "nothing happened" while we do not know yet.
        let msg = if view.connecting() && view.problems().is_empty() {
            "connecting to the cluster's events…"
        } else if view.connecting() {
            "no events read yet (see above)"
        } else if view.filter.is_empty() {
            "no events for this app in this env"
        } else {
            "no row matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, dim())), area);
        return;
    }
    let zone = state.clock.zone();
    let texts: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let time = r.time.map_or_else(
                || "--:--:--".to_owned(),
                |t| t.to_zoned(zone.clone()).strftime("%H:%M:%S").to_string(),
            );
            [
                time,
                r.kind.clone(),
                r.object.clone(),
                r.reason.clone(),
                r.message.clone(),
            ]
        })
        .collect();
    let want: Vec<usize> = (0..5)
        .map(|c| fit::widest(texts.iter().map(|t| t[c].as_str()).chain([HEADER[c]])))
        .collect();
    let widths = fit::columns(usize::from(area.width), &want, &[8, 7, 12, 8, 16]);
    let room = usize::from(area.height.saturating_sub(1));
    let selected = view.selected.min(rows.len().saturating_sub(1));
    let first = selected.saturating_sub(room.saturating_sub(1));
    let table_rows: Vec<Row> = rows
        .iter()
        .zip(&texts)
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, (row, text))| {
            let kind = if row.warning() {
                Style::default().fg(Color::Yellow)
            } else if row.ours.is_some() {
                Style::default().fg(Color::Cyan)
            } else {
                dim()
            };
            let styles = [
                dim(),
                kind,
                Style::default(),
                Style::default(),
                Style::default(),
            ];
            let cells: Vec<Cell> = text
                .iter()
                .zip(&widths)
                .zip(styles)
                .map(|((t, w), st)| Cell::from(Span::styled(fit::cut(t, *w), st)))
                .collect();
            let r = Row::new(cells);
            if i == selected {
                r.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                r
            }
        })
        .collect();
    let constraints = widths
        .iter()
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)));
    let table = Table::new(table_rows, constraints)
        .header(Row::new(HEADER).style(Style::default().add_modifier(Modifier::BOLD)));
    frame.render_widget(table, area);
}
