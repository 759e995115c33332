//! `b`: the rollback dialog. Pick the tag to go back to from the env's history.

use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::overlays::centered;
use super::release_dialog::short_time;
use super::style::{block, dim};
use crate::app::{Overlay, State};

pub fn render(frame: &mut Frame<'_>, state: &State, overlay: &Overlay) {
    let Overlay::Rollback {
        app,
        env,
        history,
        selected,
        error,
    } = overlay
    else {
        return;
    };
    let area = centered(frame.area(), 90, 16);
    let current = state
        .envs
        .iter()
        .find(|r| &r.name == env)
        .and_then(|r| r.git_tag.clone());
    let mut lines = vec![Line::styled(
        format!("{env} history, newest first (↑↓ pick, enter confirm, esc cancel):"),
        dim(),
    )];
    if let Some(e) = error {
        lines.push(Line::styled(e.clone(), Style::default().fg(Color::Red)));
    }
    match history {
        None => lines.push(Line::styled("  reading git…", dim())),
        Some(h) if h.is_empty() => lines.push(Line::styled("  no history", dim())),
        Some(h) => {
            let room = usize::from(area.height.saturating_sub(4));
            let first = selected.saturating_sub(room.saturating_sub(1));
            for (i, c) in h.iter().enumerate().skip(first).take(room) {
                let style = if i == *selected {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                let now = if current.as_deref() == Some(c.tag.as_str()) {
                    " (current)"
                } else {
                    ""
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<12}{now:<10}", c.tag), style),
                    Span::styled(
                        super::fit::cut(
                            &format!(
                                " {} {} by {}: {}",
                                short_time(&c.commit.time),
                                c.commit.short,
                                c.commit.author,
                                c.commit.subject
                            ),
                            // The box less its borders and the tag's 24 columns.
                            usize::from(area.width.saturating_sub(2)).saturating_sub(24),
                        ),
                        dim(),
                    ),
                ]));
            }
        }
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block(format!("Roll back {app} in {env}"), true)),
        area,
    );
}
