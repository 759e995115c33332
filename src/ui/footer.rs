//! The key bar and the status line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::dim;
use crate::app::{Command, State};

/// The commands worth a place in the always-visible bar, in product.md's order.
const BAR: [Command; 10] = [
    Command::Help,
    Command::Release,
    Command::Promote,
    Command::PromoteFull,
    Command::Abort,
    Command::Retry,
    Command::Rollback,
    Command::Secrets,
    Command::Tmp,
    Command::Feishu,
];

/// Short labels for narrow terminals.
fn short(cmd: Command) -> &'static str {
    match cmd {
        Command::Release => "rel",
        Command::Promote => "prom",
        Command::PromoteFull => "full",
        Command::Rollback => "back",
        Command::Secrets => "sec",
        Command::Feishu => "chat",
        other => other.name(),
    }
}

fn greyed() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn render_keys(frame: &mut Frame<'_>, area: Rect, state: &State) {
    let bound: Vec<(String, Command)> = BAR
        .iter()
        .filter_map(|c| {
            Some((
                state.keymap.keys_for(*c).into_iter().next()?.to_string(),
                *c,
            ))
        })
        .collect();
    let full_width: usize = bound
        .iter()
        .map(|(k, c)| k.chars().count() + c.name().len() + 3)
        .sum();
    let narrow = full_width + state.context_label.len() + 2 > usize::from(area.width);
    let mut spans = Vec::new();
    // A rollout a person paused resumes with the canary's `p` (as the plugin's promote).
    let paused = state.paused_by_user().is_some();
    let on_rollout = state.focus == crate::app::Panel::Rollout;
    // First, so a narrow bar cuts the least used keys rather than this.
    if paused && !on_rollout {
        let key = state
            .keymap
            .keys_for(Command::Promote)
            .into_iter()
            .next()
            .map_or_else(|| ":promote".to_owned(), |k| k.to_string());
        spans.push(Span::styled(
            format!(" paused: tab to Rollout, {key} resumes "),
            Style::default().fg(Color::Yellow),
        ));
    }
    for (key, cmd) in bound {
        let label = match cmd {
            Command::Promote if paused && on_rollout => "resume",
            _ if narrow => short(cmd),
            _ => cmd.name(),
        };
        // A key that would only be refused now is greyed out; pressing it says why.
        if crate::app::key_blocked(state, cmd).is_some() {
            spans.push(Span::styled(format!(" {key} {label} "), greyed()));
            continue;
        }
        spans.push(Span::styled(
            format!(" {key}"),
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {label} ")));
    }
    if state.read_only.is_some() {
        spans.push(Span::styled(
            " [read-only]",
            Style::default().fg(Color::Yellow),
        ));
    }
    spans.push(Span::styled(format!("  {}", state.context_label), dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn render_status(frame: &mut Frame<'_>, area: Rect, state: &State) {
    if let Some(msg) = &state.status {
        frame.render_widget(
            Paragraph::new(Line::styled(
                // Cut where it ends, with `…`: Activity (enter on the line) has it whole.
                format!(
                    " {}",
                    super::fit::cut(msg, usize::from(area.width.saturating_sub(1)))
                ),
                Style::default().fg(Color::Yellow),
            )),
            area,
        );
    }
}

/// A view's hint line from its keymap section: one entry per command (its keys joined), a
/// write that would be refused now greyed out, then `tail`.
pub fn view_hints(state: &State, view: crate::app::keymap::View, tail: &str) -> Line<'static> {
    let mut by_cmd: Vec<(Command, Vec<String>)> = Vec::new();
    for (key, cmd) in state.keymap.view_keys(view) {
        match by_cmd.iter_mut().find(|(c, _)| *c == cmd) {
            Some((_, keys)) => keys.push(key.to_string()),
            None => by_cmd.push((cmd, vec![key.to_string()])),
        }
    }
    by_cmd.sort_by_key(|(cmd, _)| *cmd);
    let mut spans = Vec::new();
    for (cmd, keys) in by_cmd {
        let keys = keys.join("/");
        if crate::app::key_blocked(state, cmd).is_some() {
            spans.push(Span::styled(format!("{keys} {} · ", cmd.name()), greyed()));
        } else {
            spans.push(Span::styled(keys, Style::default().fg(Color::Cyan)));
            spans.push(Span::raw(format!(" {} · ", cmd.name())));
        }
    }
    spans.push(Span::styled(tail.to_owned(), dim()));
    Line::from(spans)
}
