//! `t`: what the tmp cleanup would remove (size, age, rule, why), before anything goes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::style::{dim, sheet};
use crate::app::State;
use crate::app::state::TmpSort;
use crate::services::tmpclean::{format_age, format_bytes};

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let view = &state.tmp;
    let order = match view.sort {
        TmpSort::Size => "largest first",
        TmpSort::Age => "oldest first",
        TmpSort::Rule => "by rule",
    };
    let (body, _) = sheet(
        frame,
        format!("Tidy tmp ({order})"),
        super::footer::view_hints(
            state,
            crate::app::keymap::View::Tmp,
            "↑↓ select · esc close",
        ),
    );
    let Some(rows) = &view.rows else {
        let msg = view
            .error
            .clone()
            .unwrap_or_else(|| "walking the tmp folder…".to_owned());
        frame.render_widget(Paragraph::new(Line::styled(msg, dim())), body);
        return;
    };
    let summary_h = u16::try_from(view.summary.len())
        .unwrap_or(0)
        .min(body.height / 3);
    let summary = Rect {
        height: summary_h,
        ..body
    };
    frame.render_widget(
        Paragraph::new(
            view.summary
                .iter()
                .map(|l| Line::styled(l.clone(), dim()))
                .collect::<Vec<_>>(),
        ),
        summary,
    );
    let list = Rect {
        y: body.y + summary_h,
        height: body.height.saturating_sub(summary_h),
        ..body
    };
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("nothing to clean", dim())),
            list,
        );
        return;
    }
    let room = usize::from(list.height.saturating_sub(1));
    let first = view.selected.saturating_sub(room.saturating_sub(1));
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(i, r)| {
            let kept = view.skip.contains(&r.idx);
            let mark = if kept { "keep" } else { "del " };
            let mut style = if kept {
                Style::default().fg(Color::DarkGray)
            } else {
                Style::default()
            };
            if i == view.selected {
                style = style.add_modifier(Modifier::REVERSED);
            }
            Row::new(vec![
                Cell::from(mark).style(if kept {
                    dim()
                } else {
                    Style::default().fg(Color::Red)
                }),
                Cell::from(format_bytes(r.size)),
                Cell::from(format_age(r.age_secs)),
                Cell::from(r.rule.clone()),
                Cell::from(r.path.clone()),
                Cell::from(r.reason.clone()),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        table_rows,
        [
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(24),
            Constraint::Min(24),
            Constraint::Min(16),
        ],
    )
    .header(
        Row::new(["", "size", "age", "rule", "path", "why"])
            .style(Style::default().add_modifier(Modifier::BOLD)),
    );
    frame.render_widget(table, list);
}
