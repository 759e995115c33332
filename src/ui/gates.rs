//! Gates: the CI checks of the commit the selected env's tag names, against its required checks.

use std::fmt::Write as _;

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
        lines.extend(pipeline_lines(state, env));
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

/// The seed's other checkpoints of the env's tag, beside the CI checks: its artifacts on the
/// store and its migration Job, each as the far end says now (reading, unreachable, stale).
fn pipeline_lines(state: &State, env: &crate::app::state::EnvRow) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let (Some(app), Some(tag)) = (state.selected_app(), env.git_tag.as_deref()) else {
        return out;
    };
    let p = &state.pipeline;
    let red = Style::default().fg(Color::Red);
    let yellow = Style::default().fg(Color::Yellow);
    let green = Style::default().fg(Color::Green);
    if p.artifacts_configured {
        let required = p.artifacts_required_in.iter().any(|e| e == &env.name);
        let entry = p.artifacts_of(app, &env.name).filter(|e| e.tag == tag);
        let (symbol, text, style) = match entry.and_then(|e| e.result.as_ref()) {
            None => ("◌", "artifacts: listing…".to_owned(), dim()),
            Some(Ok(s)) if s.missing() => (
                "✖",
                format!("artifacts {}", s.line()),
                if required { red } else { yellow },
            ),
            Some(Ok(s)) => ("✔", format!("artifacts {}", s.line()), green),
            Some(Err(e)) => ("?", format!("artifacts: unreachable ({e})"), yellow),
        };
        let note = if required { " (required here)" } else { "" };
        out.push(Line::from(vec![
            Span::styled(format!("{symbol} "), style),
            Span::styled(format!("{text}{note}"), style),
        ]));
    }
    if p.migrates(app) {
        let live = state.live.envs.get(&env.name);
        let conn = live.map(|l| &l.migrations_conn);
        let row = match (live.and_then(|l| l.migrations.as_ref()), conn) {
            (_, Some(crate::services::kube::Conn::Stale { error, .. })) => {
                Line::styled(format!("migration: stale ({error})"), yellow)
            }
            (None, _) if matches!(state.cluster, crate::app::state::Feed::NotConnected(_)) => {
                Line::styled("migration: not watched (no cluster connection)", dim())
            }
            (None, _) => Line::styled("migration: connecting…", dim()),
            (Some(jobs), _) => match crate::services::kube::migrations::for_tag(jobs, app, tag) {
                None => Line::styled(format!("· migration: no Job for {tag} here"), dim()),
                Some(j) => {
                    use crate::services::kube::migrations::MigrationState as M;
                    let style = match j.state {
                        M::Succeeded => green,
                        M::Running => Style::default().fg(Color::Cyan),
                        M::Failed => red,
                    };
                    let mut text = j.line();
                    if j.state == M::Failed {
                        // The pod's last line says why; until it is read, where to read it.
                        let key = format!("{}/{}", j.namespace, j.name);
                        let logs = match p.migration_logs.get(&key) {
                            Some(Some(Ok(lines))) => lines
                                .iter()
                                .rev()
                                .find(|l| l.contains("ERROR") || l.contains("Message"))
                                .or_else(|| lines.last())
                                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")),
                            Some(Some(Err(e))) => Some(format!("cannot be read: {e}")),
                            _ => None,
                        };
                        let _ = match logs {
                            Some(l) => write!(text, " (logs: {l})"),
                            None => write!(
                                text,
                                " (logs: kubectl -n {} logs job/{})",
                                j.namespace, j.name
                            ),
                        };
                    }
                    Line::styled(text, style)
                }
            },
        };
        out.push(row);
        if let Some(line) = candidate_migration(state, env, app) {
            out.push(line);
        }
    }
    out
}

/// For an env that takes a tag only after its migration passed elsewhere: the candidate's
/// (the promote source's tag) Job there, as the guard will judge it.
fn candidate_migration(
    state: &State,
    env: &crate::app::state::EnvRow,
    app: &str,
) -> Option<Line<'static>> {
    use crate::services::kube::migrations::{MigrationState as M, for_tag};
    let p = &state.pipeline;
    if !p.migrations_required_for.iter().any(|e| e == &env.name) {
        return None;
    }
    let src = p.migrations_must_pass_in.as_str();
    let from = env.promote_from.as_deref()?;
    let tag = state
        .envs
        .iter()
        .find(|e| e.name == from)
        .and_then(|e| e.git_tag.as_deref())?;
    let jobs = state.live.envs.get(src).and_then(|l| l.migrations.as_ref());
    let (text, style) = match jobs.map(|j| for_tag(j, app, tag)) {
        None => (
            format!("needs: migration {tag} in {src} (not read yet)"),
            dim(),
        ),
        Some(None) => (
            format!("needs: migration {tag} in {src}: no Job (blocks a promote)"),
            Style::default().fg(Color::Yellow),
        ),
        Some(Some(j)) => (
            format!("needs: {} in {src}", j.line()),
            match j.state {
                M::Succeeded => Style::default().fg(Color::Green),
                M::Running => Style::default().fg(Color::Cyan),
                M::Failed => Style::default().fg(Color::Red),
            },
        ),
    };
    Some(Line::styled(text, style))
}
