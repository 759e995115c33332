//! `r`: the release dialog. Type a tag, or pick one known from other envs and the history.

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::fit;
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
            lines.push(Line::styled(
                format!(
                    "  {:<14} {:<16} {:<12} {}",
                    "tag", "last set", "runs in", "gates · history"
                ),
                Style::default().add_modifier(Modifier::BOLD),
            ));
            let room = usize::from(area.height.saturating_sub(8));
            let first = selected.unwrap_or(0).saturating_sub(room.saturating_sub(1));
            let notes_w =
                usize::from(area.width.saturating_sub(2)).saturating_sub(2 + 15 + 17 + 13);
            for (i, t) in tags.iter().enumerate().skip(first).take(room) {
                let style = if *selected == Some(i) {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                let (notes, bad) = notes(state, t);
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<14}", t.tag), style),
                    Span::styled(format!(" {:<16}", short_time(&t.last_seen)), dim()),
                    Span::styled(
                        format!(" {:<12}", fit::cut(&t.current_in.join(","), 12)),
                        dim(),
                    ),
                    Span::styled(
                        format!(" {}", fit::cut(&notes, notes_w)),
                        if bad {
                            Style::default().fg(Color::Yellow)
                        } else {
                            dim()
                        },
                    ),
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

/// What is known against a tag: its gates where an env running it has them, and where it
/// was rolled back or aborted. `true` when something there is bad.
fn notes(state: &State, t: &crate::services::gitops::KnownTag) -> (String, bool) {
    let mut notes = Vec::new();
    let mut bad = false;
    if let Some(report) = state
        .gates
        .values()
        .find(|g| g.tag == t.tag)
        .and_then(|g| g.report.as_ref())
    {
        bad |= !report.all_passed;
        notes.push(format!("gates {}", report.summary));
    }
    if !t.rolled_back_in.is_empty() {
        bad = true;
        notes.push(format!("rolled back in {}", t.rolled_back_in.join(",")));
    }
    let app = state.selected_app().unwrap_or_default();
    let aborted = state.aborted_in(app, &t.tag);
    if !aborted.is_empty() {
        bad = true;
        notes.push(format!("aborted in {}", aborted.join(",")));
    }
    (notes.join(" · "), bad)
}

/// `2026-11-30T13:02:11Z` → `2026-11-30 13:02`.
pub(super) fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map_or_else(|| rfc3339.to_owned(), |s| s.replace('T', " "))
}
