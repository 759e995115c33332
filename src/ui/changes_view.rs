//! `c`: what a promote brings, head env → base env: a summary line (authors, labels, the ones
//! that need care highlighted), then each pull request and each commit in none.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fit;
use super::style::{dim, sheet};
use crate::app::State;
use crate::services::github::LineKind;

const HEADER: [&str; 4] = ["", "author", "labels", "title"];

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let view = &state.changes;
    let title = format!(
        "Changes {}: {} {} → {} {}",
        view.app, view.head_env, view.head_tag, view.base_env, view.base_tag
    );
    let tail = if view.filtering {
        "type to filter · enter keeps · esc clears".to_owned()
    } else {
        "↑↓ select · esc close".to_owned()
    };
    let (body, _) = sheet(
        frame,
        title,
        super::footer::view_hints(state, crate::app::keymap::View::Changes, &tail),
    );
    let entry = state
        .changes_cache
        .get(&(view.base_tag.clone(), view.head_tag.clone()));
    let summary = match entry {
        Some(Some(Ok(s))) => s,
        Some(Some(Err(e))) => {
            frame.render_widget(
                Paragraph::new(Line::styled(e.clone(), Style::default().fg(Color::Red)))
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                body,
            );
            return;
        }
        Some(None) | None => {
            frame.render_widget(
                Paragraph::new(Line::styled("asking GitHub for the comparison…", dim())),
                body,
            );
            return;
        }
    };
    let width = usize::from(body.width);
    let url_room = width.saturating_sub(summary.headline.chars().count() + 2);
    let mut head: Vec<Line> = vec![Line::from(vec![
        Span::styled(
            summary.headline.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            summary
                .compare_url
                .as_deref()
                .map(|u| format!("  {}", fit::cut(u, url_room)))
                .unwrap_or_default(),
            dim(),
        ),
    ])];
    if !summary.authors.is_empty() {
        head.push(Line::styled(
            fit::cut(&format!("by {}", summary.authors.join(", ")), width),
            dim(),
        ));
    }
    // Labels as units; the ones that need care stand out.
    let care = |l: &str| state.care_labels.iter().any(|c| c.eq_ignore_ascii_case(l));
    let labels: Vec<Vec<Span<'static>>> = summary
        .labels
        .iter()
        .map(|l| {
            let style = if care(&l.label) {
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD)
            } else {
                dim()
            };
            vec![Span::styled(
                format!("{} ×{}", l.label, l.pull_requests.len()),
                style,
            )]
        })
        .collect();
    head.extend(fit::units(labels, "  ", width));
    let list = super::style::head_and_filter(frame, body, head, &view.filter, view.filtering);
    table(frame, state, list, summary.not_listed);
}

fn table(frame: &mut Frame<'_>, state: &State, area: Rect, more: u64) {
    let rows = crate::app::update::changes_rows(state);
    if rows.is_empty() {
        let msg = if state.changes.filter.is_empty() {
            "no pull requests or commits between these tags"
        } else {
            "no row matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, dim())), area);
        return;
    }
    let texts: Vec<[String; 4]> = rows
        .iter()
        .map(|l| {
            [
                l.id.clone(),
                l.author.clone().unwrap_or_default(),
                l.labels.join(","),
                l.title.clone(),
            ]
        })
        .collect();
    let want: Vec<usize> = (0..4)
        .map(|c| fit::widest(texts.iter().map(|t| t[c].as_str()).chain([HEADER[c]])))
        .collect();
    let widths = fit::columns(usize::from(area.width), &want, &[7, 6, 6, 20]);
    let room = usize::from(area.height.saturating_sub(2));
    let selected = state.changes.selected.min(rows.len().saturating_sub(1));
    let first = selected.saturating_sub(room.saturating_sub(1));
    let care = |l: &str| state.care_labels.iter().any(|c| c.eq_ignore_ascii_case(l));
    let table_rows: Vec<Row> = rows
        .iter()
        .zip(&texts)
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, (line, text))| {
            let id_style = match line.kind {
                LineKind::PullRequest => Style::default().fg(Color::Cyan),
                LineKind::Commit => dim(),
            };
            let label_style = if line.labels.iter().any(|l| care(l)) {
                Style::default().fg(Color::Yellow)
            } else {
                dim()
            };
            let styles = [id_style, Style::default(), label_style, Style::default()];
            let cells: Vec<Cell> = text
                .iter()
                .zip(&widths)
                .zip(styles)
                .map(|((t, w), st)| Cell::from(Span::styled(fit::cut(t, *w), st)))
                .collect();
            let row = Row::new(cells);
            if i == selected {
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
    let table_h = area.height.saturating_sub(u16::from(more > 0));
    frame.render_widget(
        table,
        Rect {
            height: table_h,
            ..area
        },
    );
    if more > 0 {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("… {more} more commits GitHub did not list"),
                dim(),
            )),
            Rect {
                y: area.y + table_h,
                height: 1,
                ..area
            },
        );
    }
}
