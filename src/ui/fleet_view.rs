//! `F`: the fleet. On top, what waits for a person, newest first, each with the key that acts
//! on it; below, every app × env as one cell (tag, health, drift, canary, next gates).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::fit;
use super::style::{dim, sheet};
use crate::app::State;
use crate::app::fleet::{self, Cell, FleetPart, FleetRow, Need};

/// The app column's width at most (names longer are cut with `…`).
const APP_COL: usize = 22;

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let f = &state.fleet;
    let mut title = format!(
        "Fleet: {} apps × {} envs · order: {}",
        state.apps.len(),
        state.envs.len(),
        f.sort.label()
    );
    if let Some(g) = &f.group {
        title.push_str(" · by ");
        title.push_str(g);
    }
    let tail = if f.filtering {
        "type to filter · enter keeps · esc clears"
    } else {
        "↑↓ move · ←→ env · tab needs/matrix · enter open"
    };
    let (body, _) = sheet(
        frame,
        title,
        super::footer::view_hints(state, crate::app::keymap::View::Fleet, tail),
    );
    let needs = &state.fleet.needs;
    // Needs-me takes at most a third of the height, and what it does not need.
    let cap = (usize::from(body.height) / 3).max(2);
    let shown = needs.len().min(cap);
    let needs_h = u16::try_from(shown + 1).unwrap_or(u16::MAX);
    let top = Rect {
        height: needs_h.min(body.height),
        ..body
    };
    needs_list(frame, state, top, needs, shown);
    let rest = Rect {
        y: body.y + top.height,
        height: body.height.saturating_sub(top.height),
        ..body
    };
    let list = super::style::head_and_filter(frame, rest, Vec::new(), &f.filter, f.filtering);
    matrix(frame, state, list);
}

/// How long ago, to the minute (the view redraws for ages once a minute).
fn when(state: &State, ms: u64) -> String {
    let mins = state.clock.now_ms.saturating_sub(ms) / 60_000;
    if mins < 1 {
        "<1m".to_owned()
    } else if mins < 60 {
        format!("{mins}m")
    } else if mins < 48 * 60 {
        format!("{}h", mins / 60)
    } else {
        format!("{}d", mins / (24 * 60))
    }
}

fn needs_list(frame: &mut Frame<'_>, state: &State, area: Rect, needs: &[Need], shown: usize) {
    let width = usize::from(area.width);
    let active = state.fleet.part == FleetPart::Needs;
    let head = if needs.is_empty() {
        "Needs me: nothing waits for a person".to_owned()
    } else if needs.len() > shown {
        format!(
            "Needs me ({}, {} not shown)",
            needs.len(),
            needs.len() - shown
        )
    } else {
        format!("Needs me ({})", needs.len())
    };
    let mut lines = vec![Line::styled(
        fit::cut(&head, width),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    let sel = state.fleet.need.min(needs.len().saturating_sub(1));
    // Keep the selected line in view.
    let first = sel.saturating_sub(shown.saturating_sub(1));
    for (i, n) in needs.iter().enumerate().skip(first).take(shown) {
        let colour = match n.kind {
            fleet::NeedKind::Failed | fleet::NeedKind::GatesFailed | fleet::NeedKind::Runners => {
                Color::Red
            }
            fleet::NeedKind::Backup | fleet::NeedKind::Paused | fleet::NeedKind::Drift => {
                Color::Yellow
            }
            fleet::NeedKind::GatesGreen => Color::Green,
        };
        let who = if n.kind == fleet::NeedKind::Backup {
            "backups".to_owned()
        } else if n.app.is_empty() {
            "runners".to_owned()
        } else {
            format!("{} · {}", n.app, n.env)
        };
        let key = n.kind.key();
        let left = format!(
            "{} {:>3} {who}  {}",
            n.kind.glyph(),
            when(state, n.since_ms),
            n.what
        );
        let room = width.saturating_sub(key.width() + 2);
        let text = format!("{:<room$}  {key}", fit::cut(&left, room));
        let mut style = Style::default().fg(colour);
        if active && i == sel {
            style = style.add_modifier(Modifier::REVERSED);
        }
        lines.push(Line::styled(fit::cut(&text, width), style));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn cell_text(c: &Cell) -> String {
    let mut s = format!("{} {}", c.tag, c.health);
    if c.drift {
        s.push('≠');
    }
    if let Some(k) = &c.canary {
        s.push(' ');
        s.push_str(k);
    }
    if let Some(g) = c.next_gates {
        s.push_str(" ▸");
        s.push_str(g);
    }
    if c.stale {
        s.push_str(" ⚠");
    }
    s
}

fn matrix(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let width = usize::from(area.width);
    let envs = &state.envs;
    let app_w = APP_COL.min(width / (envs.len() + 1).max(2));
    let col_w = (width.saturating_sub(app_w)) / envs.len().max(1);
    let mut head = vec![Span::styled(
        format!("{:<app_w$}", "app"),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    for e in envs {
        let mark = fleet::column_state(state, &e.name);
        let text = match &mark {
            Some(m) => format!("{} ⚠ {m}", e.name),
            None => e.name.clone(),
        };
        let style = if mark.is_some() {
            Style::default().fg(Color::Red)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        };
        head.push(Span::styled(
            format!("{:<col_w$}", fit::cut(&text, col_w.saturating_sub(1))),
            style,
        ));
    }
    let rows = fleet::rows(state);
    let apps = rows
        .iter()
        .filter(|r| matches!(r, FleetRow::App(_)))
        .count();
    let mut lines = vec![Line::from(head)];
    if apps == 0 {
        let msg = if state.fleet.filter.is_empty() {
            "no apps in the inventory"
        } else {
            "no app matches the filter"
        };
        lines.push(Line::styled(msg, dim()));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let active = state.fleet.part == FleetPart::Matrix;
    let sel_row = state.fleet.row.min(apps - 1);
    let sel_col = state.fleet.col.min(envs.len().saturating_sub(1));
    // Scroll so the selected app stays in view (rows include group headings).
    let room = usize::from(area.height).saturating_sub(1).max(1);
    let sel_line = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, FleetRow::App(_)))
        .nth(sel_row)
        .map_or(0, |(i, _)| i);
    let first = sel_line.saturating_sub(room.saturating_sub(1));
    let mut app_i = rows[..first]
        .iter()
        .filter(|r| matches!(r, FleetRow::App(_)))
        .count();
    for r in rows.iter().skip(first).take(room) {
        match r {
            FleetRow::Group(g) => lines.push(Line::styled(
                fit::cut(g, width),
                Style::default().fg(Color::Cyan),
            )),
            FleetRow::App(app) => {
                let mut spans = vec![Span::raw(format!(
                    "{:<app_w$}",
                    fit::cut(app, app_w.saturating_sub(1))
                ))];
                for (ci, e) in envs.iter().enumerate() {
                    let c = fleet::cell(state, app, &e.name);
                    let mut style = match c.health {
                        _ if c.stale => dim(),
                        "✖" => Style::default().fg(Color::Red),
                        "◐" | "‖" => Style::default().fg(Color::Yellow),
                        _ if c.drift => Style::default().fg(Color::Yellow),
                        _ => Style::default(),
                    };
                    if active && app_i == sel_row && ci == sel_col {
                        style = style.add_modifier(Modifier::REVERSED);
                    }
                    let text = fit::cut(&cell_text(&c), col_w.saturating_sub(1));
                    spans.push(Span::styled(format!("{text:<col_w$}"), style));
                }
                lines.push(Line::from(spans));
                app_i += 1;
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
