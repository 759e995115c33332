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
    let area = centered(frame.area(), 76, 12);
    let mut lines: Vec<Line> = body.iter().map(|l| Line::from(l.clone())).collect();
    if let Overlay::Confirm {
        then: Confirmed::Git(change),
        ..
    } = overlay
        && let Some(c) = state
            .candidate
            .as_ref()
            .filter(|c| c.env == change.env && Some(&c.tag) == change.tag.as_ref())
    {
        lines.push(match &c.result {
            Ok(r) => {
                let failing: Vec<String> = r
                    .failing()
                    .map(|g| format!("{} {}", g.state.symbol(), g.name))
                    .collect();
                let style = if r.all_passed {
                    Style::default().fg(Color::Green)
                } else {
                    Style::default().fg(Color::Yellow)
                };
                Line::styled(
                    if failing.is_empty() {
                        format!("gates of {}: {}", c.tag, r.summary)
                    } else {
                        format!("gates of {}: {} ({})", c.tag, r.summary, failing.join(" "))
                    },
                    style,
                )
            }
            Err(e) => Line::styled(format!("gates: {e}"), Style::default().fg(Color::Red)),
        });
    }
    lines.push(Line::from(""));
    match typed {
        Some(env) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{env} is protected: type "), dim()),
                Span::styled(env.clone(), Style::default().fg(Color::Yellow)),
                Span::styled(" and press enter: ", dim()),
                Span::raw(input.clone()),
                Span::styled("▏", Style::default().fg(Color::Cyan)),
            ]));
        }
        None => lines.push(Line::styled(
            "y / enter: go ahead    n / esc: cancel",
            dim(),
        )),
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title.clone(), true)),
        area,
    );
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
