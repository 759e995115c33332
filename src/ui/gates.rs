//! Gates: the CI checks of the commit the selected env's tag names, against its required checks.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, dim, feed_line};
use crate::app::State;
use crate::services::github::{GateReport, GateState};

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let env = state.selected_env();
    let title = match env.and_then(|e| e.git_tag.as_deref().map(|t| (t, &e.name))) {
        Some((tag, env)) => format!("Gates: {tag} ({env})"),
        None => "Gates".to_owned(),
    };
    let mut lines = Vec::new();
    if let Some(env) = env {
        if env.required_checks.is_empty() {
            lines.push(Line::styled(
                format!("{} requires no checks", env.name),
                dim(),
            ));
        }
        match state.selected_gates() {
            Some(view) => {
                if let Some(report) = &view.report {
                    lines.extend(report_lines(
                        report,
                        focused.then_some(state.selected_gate),
                        usize::from(area.width.saturating_sub(2)),
                    ));
                } else if view.loading {
                    lines.push(Line::styled("fetching gates…", dim()));
                }
                if let Some(err) = &view.error {
                    lines.push(Line::styled(
                        format!("github: {err}"),
                        Style::default().fg(Color::Red),
                    ));
                }
            }
            None if env.git_tag.is_none() => {
                if !env.required_checks.is_empty() {
                    lines.push(Line::from(vec![
                        Span::styled(format!("{} requires: ", env.name), dim()),
                        Span::raw(env.required_checks.join(", ")),
                    ]));
                }
                lines.push(Line::styled("no tag known for this env yet", dim()));
            }
            None => {}
        }
    }
    lines.extend(feed_line("github", &state.github));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, focused)),
        area,
    );
}

fn color(s: GateState) -> Color {
    match s {
        GateState::Passed => Color::Green,
        GateState::Failed => Color::Red,
        GateState::Running => Color::Cyan,
        GateState::Missing => Color::Yellow,
        GateState::Neutral => Color::DarkGray,
    }
}

fn duration(secs: Option<u64>) -> String {
    match secs {
        None => String::new(),
        Some(s) if s >= 60 => format!(" {}m{:02}s", s / 60, s % 60),
        Some(s) => format!(" {s}s"),
    }
}

fn report_lines(report: &GateReport, selected: Option<usize>, width: usize) -> Vec<Line<'static>> {
    // Each check is one unit (`✔ lint 30s`): it moves to the next line whole.
    let mut items = Vec::new();
    for (i, g) in report.gates.iter().enumerate() {
        let mut style = Style::default();
        if selected == Some(i) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        items.push(vec![
            Span::styled(format!("{} ", g.state.symbol()), style.fg(color(g.state))),
            Span::styled(format!("{}{}", g.name, duration(g.duration_s)), style),
        ]);
    }
    let summary_style = if report.all_passed {
        Style::default().fg(Color::Green)
    } else {
        Style::default().fg(Color::Yellow)
    };
    let mut lines = super::fit::units(items, "  ", width);
    lines.extend([Line::from(vec![
        Span::styled(report.summary.clone(), summary_style),
        Span::styled(format!("  {}", report.short_sha()), dim()),
    ])]);
    if let Some(until) = report.rate_limited_until {
        lines.push(Line::styled(
            format!("rate limited until {}", until.strftime("%H:%M:%S")),
            Style::default().fg(Color::Yellow),
        ));
    }
    lines
}
