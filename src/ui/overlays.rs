//! Help, the command palette and the quit confirmation, drawn over the panels.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::style::{block, dim};
use crate::app::{Command, Overlay, State};

pub fn render(frame: &mut Frame<'_>, state: &State) {
    match &state.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(frame, state, *scroll),
        Some(Overlay::Palette { query, selected }) => palette(frame, state, query, *selected),
        Some(Overlay::ConfirmQuit) => confirm_quit(frame, state),
        Some(Overlay::Line { time, text, failed }) => {
            whole_line(frame, format!("Activity at {time}"), text, *failed);
        }
        Some(o @ Overlay::Release { .. }) => super::release_dialog::render(frame, state, o),
        Some(o @ Overlay::Rollback { .. }) => super::rollback_dialog::render(frame, state, o),
        Some(o @ Overlay::Confirm { .. }) => super::confirm_dialog::render(frame, state, o),
        Some(o @ Overlay::Reason { .. }) => super::confirm_dialog::render_reason(frame, o),
        Some(o @ Overlay::Recipient { .. }) => {
            // Over the Secrets table it came from.
            super::secrets_view::render(frame, state);
            super::confirm_dialog::render_recipient(frame, state, o);
        }
        Some(Overlay::Secrets) => super::secrets_view::render(frame, state),
        Some(Overlay::Feishu) => super::feishu_view::render(frame, state),
        Some(Overlay::Tmp) => super::tmp_view::render(frame, state),
        Some(Overlay::Changes) => super::changes_view::render(frame, state),
        Some(Overlay::Logs) => super::logs_view::render(frame, state),
        Some(Overlay::Timeline) => super::timeline_view::render(frame, state),
        Some(Overlay::Fleet) => super::fleet_view::render(frame, state),
    }
}

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn keys_label(state: &State, cmd: Command) -> String {
    let keys: Vec<String> = state
        .keymap
        .keys_for(cmd)
        .iter()
        .map(ToString::to_string)
        .collect();
    if keys.is_empty() {
        "(palette)".to_owned()
    } else {
        keys.join(" / ")
    }
}

fn help_line(keys: &str, cmd: Command) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{keys:>14}  "), Style::default().fg(Color::Cyan)),
        Span::styled(format!("{:<16}", cmd.name()), Style::default()),
        // The box is 72 wide: borders, the keys' column and the name's leave 38.
        Span::styled(super::fit::cut(cmd.describe(), 38), dim()),
    ])
}

fn help(frame: &mut Frame<'_>, state: &State, scroll: u16) {
    use crate::app::keymap::View;
    let mut lines: Vec<Line> = Command::ALL
        .iter()
        .filter(|c| !c.view_only())
        .map(|cmd| help_line(&keys_label(state, *cmd), *cmd))
        .collect();
    for (view, name) in [
        (View::Secrets, "secrets"),
        (View::Tmp, "tmp"),
        (View::Feishu, "feishu"),
        (View::Changes, "changes"),
        (View::Logs, "logs"),
        (View::Timeline, "timeline"),
        (View::Fleet, "fleet"),
    ] {
        lines.push(Line::styled(format!("  in the {name} view:"), dim()));
        for (key, cmd) in state.keymap.view_keys(view) {
            lines.push(help_line(&key.to_string(), cmd));
        }
    }
    lines.push(Line::styled(
        "  mouse: click a panel to focus it · esc closes",
        dim(),
    ));
    // What is true now first: a rollout a person paused and how it resumes.
    if let Some(env) = state.paused_by_user() {
        let key = keys_label(state, Command::Promote);
        lines.insert(
            0,
            Line::styled(
                format!("  {env} is paused by a person: {key} on the Rollout panel resumes it"),
                Style::default().fg(Color::Yellow),
            ),
        );
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 72, height);
    let hidden = height.saturating_sub(area.height);
    let title = if hidden > 0 {
        format!("Help: keys (↑↓ scroll, {}/{hidden})", scroll.min(hidden))
    } else {
        "Help: keys".to_owned()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(hidden), 0))
            .block(block(title, true)),
        area,
    );
}

fn palette(frame: &mut Frame<'_>, state: &State, query: &str, selected: usize) {
    let matches = state.palette_matches(query);
    let area = centered(frame.area(), 60, 14);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("> ", Style::default().fg(Color::Cyan)),
            Span::raw(query.to_owned()),
            Span::styled("▏", Style::default().fg(Color::Cyan)),
        ]),
        match state.palette_preview(query, selected) {
            Ok(what) => Line::styled(format!("  ↵ {what}"), dim()),
            Err(why) => Line::styled(format!("  {why}"), Style::default().fg(Color::Yellow)),
        },
    ];
    let room = usize::from(area.height.saturating_sub(4));
    let first = selected.saturating_sub(room.saturating_sub(1));
    for (i, cmd) in matches.iter().enumerate().skip(first).take(room) {
        let style = if i == selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        // The row is the box's width less its borders, the name's column and a space.
        let room = usize::from(area.width.saturating_sub(2)).saturating_sub(16);
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<13}", cmd.name()), style),
            Span::styled(
                format!("  {}", super::fit::cut(cmd.describe(), room)),
                dim(),
            ),
        ]));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block("Run an action (ctrl-u clears)".to_owned(), true)),
        area,
    );
}

/// One Activity line in full, wrapped at words in a box as wide as the screen allows.
/// One long line whole, wrapped, in a box over the screen (Activity's, a timeline row's).
pub(super) fn whole_line(frame: &mut Frame<'_>, title: String, text: &str, failed: bool) {
    let full = frame.area();
    let width = full.width.saturating_sub(4).min(100);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let wrapped = super::fit::wrap_words(text, inner);
    let height = u16::try_from(wrapped.len() + 3).unwrap_or(u16::MAX);
    let area = centered(full, width, height);
    let style = if failed {
        Style::default().fg(Color::Red)
    } else {
        Style::default()
    };
    let mut lines: Vec<Line> = wrapped
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect();
    lines.push(Line::styled("esc / enter closes", dim()));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block(title, true)), area);
}

fn confirm_quit(frame: &mut Frame<'_>, state: &State) {
    let n = state.tasks.running().count();
    let area = centered(frame.area(), 54, 5);
    let lines = vec![
        Line::from(format!(
            "{n} task{} still running. Quit anyway?",
            if n == 1 { " is" } else { "s are" }
        )),
        Line::styled("y / enter: quit    n / esc: stay", dim()),
    ];
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block("Quit".to_owned(), true)),
        area,
    );
}
