//! Help, the command palette and the quit confirmation, drawn over the panels.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::style::{block, dim};
use crate::app::{Command, Overlay, State};

/// One line per command, the mouse hint, and the borders (22 commands: no truncation).
#[allow(clippy::cast_possible_truncation)]
const HELP_HEIGHT: u16 = Command::ALL.len() as u16 + 4;

pub fn render(frame: &mut Frame<'_>, state: &State) {
    match &state.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => help(frame, state, *scroll),
        Some(Overlay::Palette { query, selected }) => palette(frame, state, query, *selected),
        Some(Overlay::ConfirmQuit) => confirm_quit(frame, state),
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

fn help(frame: &mut Frame<'_>, state: &State, scroll: u16) {
    let area = centered(frame.area(), 64, HELP_HEIGHT);
    let mut lines: Vec<Line> = Command::ALL
        .iter()
        .map(|cmd| {
            Line::from(vec![
                Span::styled(
                    format!("{:>14}  ", keys_label(state, *cmd)),
                    Style::default().fg(Color::Cyan),
                ),
                Span::styled(format!("{:<13}", cmd.name()), Style::default()),
                Span::styled(cmd.describe(), dim()),
            ])
        })
        .collect();
    lines.push(Line::styled(
        "  mouse: click a panel to focus it · esc closes",
        dim(),
    ));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(block("Help: keys".to_owned(), true)),
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
        Line::from(""),
    ];
    let room = usize::from(area.height.saturating_sub(4));
    let first = selected.saturating_sub(room.saturating_sub(1));
    for (i, cmd) in matches.iter().enumerate().skip(first).take(room) {
        let style = if i == selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<13}", cmd.name()), style),
            Span::styled(format!(" {}", cmd.describe()), dim()),
        ]));
    }
    if matches.is_empty() {
        lines.push(Line::styled(" no action matches", dim()));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block("Run an action".to_owned(), true)),
        area,
    );
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
