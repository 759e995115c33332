//! `t`: what the tmp cleanup would remove (size, age, rule, why), before anything goes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fit;
use super::style::{dim, sheet};
use crate::app::State;
use crate::app::state::TmpSort;
use crate::services::tmpclean::{format_age, format_bytes};

const HEADER: [&str; 6] = ["", "size", "age", "rule", "path", "why"];

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
    // Each column as wide as its widest cell when the screen allows; else the widest narrow
    // first. Cells are cut to their column here: the path in the middle so its name stays.
    let texts: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                format_bytes(r.size),
                format_age(r.age_secs),
                r.rule.clone(),
                r.path.clone(),
                r.reason.clone(),
            ]
        })
        .collect();
    let want: Vec<usize> = std::iter::once(4)
        .chain(
            (0..5).map(|c| fit::widest(texts.iter().map(|t| t[c].as_str()).chain([HEADER[c + 1]]))),
        )
        .collect();
    let widths = fit::columns(usize::from(list.width), &want, &[4, 4, 3, 8, 12, 10]);
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
            let text = &texts[i];
            let mut cells = vec![Cell::from(mark).style(if kept {
                dim()
            } else {
                Style::default().fg(Color::Red)
            })];
            for (c, w) in widths.iter().skip(1).enumerate() {
                cells.push(Cell::from(if c == 3 {
                    fit::elide_middle(&text[c], *w)
                } else {
                    fit::cut(&text[c], *w)
                }));
            }
            Row::new(cells).style(style)
        })
        .collect();
    let constraints = widths.iter().map(|w| Constraint::Length(width(*w)));
    let table = Table::new(table_rows, constraints)
        .header(Row::new(HEADER).style(Style::default().add_modifier(Modifier::BOLD)));
    frame.render_widget(table, list);
}

fn width(w: usize) -> u16 {
    u16::try_from(w).unwrap_or(u16::MAX)
}
