//! The confirmation before a write. A protected env asks for its name to be typed.

use ratatui::Frame;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::overlays::centered;
use super::style::{block, dim};
use crate::app::Overlay;
use crate::app::state::Confirmed;

pub fn render(frame: &mut Frame<'_>, state: &crate::app::State, overlay: &Overlay) {
    let Overlay::Confirm {
        title,
        lines: body,
        typed,
        input,
        ..
    } = overlay
    else {
        return;
    };
    let width: u16 = 76;
    let inner = usize::from(width.saturating_sub(2));
    let warn = Style::default().fg(Color::Yellow);
    let mut lines: Vec<Line> = body
        .iter()
        .map(|l| {
            if l.starts_with(crate::app::update::WARN) {
                Line::styled(l.clone(), warn)
            } else {
                Line::from(l.clone())
            }
        })
        .collect();
    let mut block_reason = None;
    let mut allows_override = false;
    if let Overlay::Confirm {
        then: Confirmed::Git(change),
        ..
    } = overlay
    {
        allows_override = state
            .envs
            .iter()
            .any(|e| e.name == change.env && e.allow_override && !e.required_checks.is_empty());
        block_reason = state.gates_block(change);
        let asked = state
            .candidate
            .as_ref()
            .filter(|c| c.env == change.env && Some(&c.tag) == change.tag.as_ref());
        let requires = state
            .envs
            .iter()
            .any(|e| e.name == change.env && !e.required_checks.is_empty());
        // What it brings, from GitHub's comparison of the two tags.
        if let (Some(from), Some(to)) = (&change.expected_from, &change.tag) {
            for l in crate::app::update::changes_confirm_lines(state, from, to) {
                lines.push(if l.starts_with(crate::app::update::WARN) {
                    Line::styled(l, warn)
                } else {
                    Line::styled(l, dim())
                });
            }
        }
        match asked {
            Some(c) => lines.extend(gate_lines(state, &c.tag, &c.result, inner)),
            None if requires && change.override_reason.is_none() => {
                lines.push(Line::styled("gates: asking GitHub…", dim()));
            }
            None => {}
        }
    }
    lines.push(Line::from(""));
    match (&block_reason, typed) {
        // Not passed: no yes on offer, only the override where the env has one.
        (Some(_), _) if allows_override => lines.push(Line::styled(
            "gates not passed: enter gives a reason to override    esc: cancel",
            warn,
        )),
        (Some(_), _) => lines.push(Line::styled(
            "gates not passed and this env allows no override: esc",
            warn,
        )),
        (None, Some(env)) => {
            lines.push(Line::from(vec![
                Span::styled("type ", dim()),
                Span::styled(env.clone(), warn),
                Span::styled(" and press enter to confirm: ", dim()),
                Span::raw(input.clone()),
                Span::styled("▏", Style::default().fg(Color::Cyan)),
            ]));
        }
        (None, None) => lines.push(Line::styled(
            "y / enter: go ahead    n / esc: cancel",
            dim(),
        )),
    }
    // As tall as what it says (within the screen), wrapped at words.
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX).max(6);
    let area = centered(frame.area(), width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title.clone(), true)),
        area,
    );
}

/// The candidate's gates: each check a unit (`✔ lint 42s, 5m ago`) that wraps whole, then the
/// summary.
fn gate_lines(
    state: &crate::app::State,
    tag: &str,
    result: &Result<crate::services::github::GateReport, String>,
    width: usize,
) -> Vec<Line<'static>> {
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            return vec![Line::styled(
                format!("gates: {e}"),
                Style::default().fg(Color::Red),
            )];
        }
    };
    let now = i64::try_from(state.clock.now_ms / 1000).unwrap_or(i64::MAX);
    let items = r
        .gates
        .iter()
        .map(|g| {
            let took = g.duration_s.map(|s| {
                if s >= 60 {
                    format!(" {}m{:02}s", s / 60, s % 60)
                } else {
                    format!(" {s}s")
                }
            });
            let when = g
                .finished_at
                .map(|t| format!(", {}", crate::app::update::ago(now, t.as_second())));
            let color = match g.state {
                crate::services::github::GateState::Passed => Color::Green,
                crate::services::github::GateState::Failed => Color::Red,
                crate::services::github::GateState::Running => Color::Cyan,
                crate::services::github::GateState::Missing => Color::Yellow,
                crate::services::github::GateState::Neutral => Color::DarkGray,
            };
            vec![
                Span::styled(format!("{} ", g.state.symbol()), Style::default().fg(color)),
                Span::raw(format!(
                    "{}{}{}",
                    g.name,
                    took.unwrap_or_default(),
                    when.unwrap_or_default()
                )),
            ]
        })
        .collect();
    let mut lines = vec![Line::styled(
        format!("gates of {tag}: {}", r.summary),
        if r.all_passed {
            Style::default().fg(Color::Green)
        } else {
            Style::default().fg(Color::Yellow)
        },
    )];
    lines.extend(super::fit::units(items, "  ", width));
    lines
}

/// The gates said no, and the env allows an override: why go in anyway?
pub fn render_reason(frame: &mut Frame<'_>, overlay: &Overlay) {
    let Overlay::Reason {
        change,
        message,
        input,
    } = overlay
    else {
        return;
    };
    let area = centered(frame.area(), 76, 9);
    let lines = vec![
        Line::styled(message.clone(), Style::default().fg(Color::Yellow)),
        Line::from(""),
        Line::from(vec![
            Span::styled("reason (journal, commit trailer, chat): ", dim()),
            Span::raw(input.clone()),
            Span::styled("▏", Style::default().fg(Color::Cyan)),
        ]),
        Line::styled("enter: continue to the confirmation · esc: leave it", dim()),
    ];
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block(
            format!("Override the gates of {} {}?", change.app, change.env),
            true,
        )),
        area,
    );
}

/// From the Secrets view: which age recipient to add or remove.
pub fn render_recipient(frame: &mut Frame<'_>, state: &crate::app::State, overlay: &Overlay) {
    let Overlay::Recipient { add, input, error } = overlay else {
        return;
    };
    let area = centered(frame.area(), 84, 14);
    let mut lines = vec![if *add {
        Line::styled(
            "paste the age public key (age1…) that gets access to every listed file",
            dim(),
        )
    } else {
        Line::styled(
            "type any part of the recipient to take out (its files get new data keys):",
            dim(),
        )
    }];
    if !*add {
        let mut listed: Vec<(&str, usize)> = Vec::new();
        for f in state.secrets.rows.iter().flatten() {
            for r in &f.recipients {
                match listed.iter_mut().find(|(x, _)| x == r) {
                    Some((_, n)) => *n += 1,
                    None => listed.push((r, 1)),
                }
            }
        }
        listed.sort_unstable();
        for (r, n) in listed.iter().take(6) {
            let hit = !input.trim().is_empty() && r.contains(input.trim());
            let style = if hit {
                Style::default().fg(Color::Cyan)
            } else {
                Style::default()
            };
            lines.push(Line::styled(format!("  {r}  ({n} file(s))"), style));
        }
        if listed.len() > 6 {
            lines.push(Line::styled(
                format!("  … and {} more", listed.len() - 6),
                dim(),
            ));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("recipient: ", dim()),
        Span::raw(input.clone()),
        Span::styled("▏", Style::default().fg(Color::Cyan)),
    ]));
    if let Some(e) = error {
        lines.push(Line::styled(e.clone(), Style::default().fg(Color::Red)));
    }
    lines.push(Line::styled(
        "enter: continue to the confirmation · esc: leave it",
        dim(),
    ));
    let title = if *add {
        "Add an age recipient"
    } else {
        "Remove an age recipient"
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, true)),
        area,
    );
}
