//! `r`: the release dialog. Type a tag, or pick one known from other envs and the history.

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::overlays::centered;
use super::style::{block, dim};
use crate::app::{Overlay, State};

pub fn render(frame: &mut Frame<'_>, state: &State, overlay: &Overlay) {
    let Overlay::Release {
        app,
        env,
        input,
        known,
        selected,
        error,
    } = overlay
    else {
        return;
    };
    let area = centered(frame.area(), 70, 18);
    let current = state
        .envs
        .iter()
        .find(|r| &r.name == env)
        .and_then(|r| r.git_tag.clone())
        .unwrap_or_else(|| "(none)".into());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{env} runs "), dim()),
            Span::raw(current),
            Span::styled("  new tag:", dim()),
        ]),
        Line::from(vec![
            Span::styled("> ", Style::default().fg(Color::Cyan)),
            Span::raw(input.clone()),
            Span::styled("▏", Style::default().fg(Color::Cyan)),
        ]),
    ];
    if let Some(e) = error {
        lines.push(Line::styled(e.clone(), Style::default().fg(Color::Red)));
    }
    lines.push(Line::styled("known tags (↑↓ to pick):", dim()));
    match known {
        None => lines.push(Line::styled("  reading git…", dim())),
        Some(tags) if tags.is_empty() => lines.push(Line::styled("  none", dim())),
        Some(tags) => {
            let room = usize::from(area.height.saturating_sub(7));
            let first = selected.unwrap_or(0).saturating_sub(room.saturating_sub(1));
            for (i, t) in tags.iter().enumerate().skip(first).take(room) {
                let style = if *selected == Some(i) {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                let where_ = if t.current_in.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", t.current_in.join(", "))
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<14}", t.tag), style),
                    Span::styled(format!(" {}{where_}", short_time(&t.last_seen)), dim()),
                ]));
            }
        }
    }
    lines.push(Line::styled(
        "enter: review and confirm · esc: cancel",
        dim(),
    ));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block(format!("Release {app} to {env}"), true)),
        area,
    );
}

/// `2026-11-30T13:02:11Z` → `2026-11-30 13:02`.
pub(super) fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map_or_else(|| rfc3339.to_owned(), |s| s.replace('T', " "))
}
