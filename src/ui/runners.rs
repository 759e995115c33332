//! Runners: the self-hosted Actions runner scale sets and their pods.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, dim, feed_line};
use crate::app::State;
use crate::services::kube::info::human_duration;
use crate::services::kube::{Conn, RunnerMode};

fn phase_color(phase: &str) -> Color {
    match phase {
        "Running" => Color::Green,
        "Pending" => Color::Yellow,
        "Failed" => Color::Red,
        _ => Color::Gray,
    }
}

/// Why the panel is empty: no ARC at all, or none of its objects in the namespace.
fn empty_message(served: &[RunnerMode]) -> &'static str {
    match served {
        [] => {
            "no ARC on this cluster: neither actions.github.com nor actions.summerwind.dev is served"
        }
        [RunnerMode::ScaleSet] => "no AutoscalingRunnerSet in this namespace",
        [RunnerMode::Legacy] => "no RunnerDeployment in this namespace",
        _ => "no AutoscalingRunnerSet or RunnerDeployment in this namespace",
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let Some(ns) = &state.runners_namespace else {
        frame.render_widget(
            Paragraph::new(vec![Line::styled(
                "no `runners` section in the inventory",
                dim(),
            )])
            .wrap(Wrap { trim: true })
            .block(block("Runners", focused)),
            area,
        );
        return;
    };
    let title = format!("Runners ({ns})");
    let now = i64::try_from(state.clock.now_ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok());
    let mut lines: Vec<Line> = Vec::new();
    match &state.live.runners {
        None => lines.extend(feed_line("cluster", &state.cluster)),
        Some(r) => {
            if let Conn::Stale { since, error } = &r.conn {
                lines.push(Line::styled(
                    format!("stale since {}: {error}", since.strftime("%H:%M:%S")),
                    Style::default().fg(Color::Yellow),
                ));
            }
            if r.sets.is_empty() && r.conn == Conn::Live {
                lines.push(Line::styled(empty_message(&r.served), dim()));
            }
            for s in &r.sets {
                let max = s.max.map_or_else(|| "∞".to_owned(), |m| m.to_string());
                // Units that move to the next line whole: `(min 1/max 4, now 1)` never splits.
                let mut name = vec![Span::styled(
                    s.name.clone(),
                    Style::default().fg(Color::Cyan),
                )];
                if s.mode == RunnerMode::Legacy {
                    name.push(Span::styled(" (legacy)", dim()));
                }
                let counts = [
                    format!("running {}", s.running),
                    format!("pending {}", s.pending),
                    format!("failed {}", s.failed),
                    format!("(min {}/max {max}, now {})", s.min, s.current),
                ];
                let items = std::iter::once(name)
                    .chain(counts.into_iter().map(|c| vec![Span::raw(c)]))
                    .collect();
                lines.extend(super::fit::units(
                    items,
                    "  ",
                    usize::from(area.width.saturating_sub(2)),
                ));
                for run in &s.runners {
                    let phase = run.pod_phase.clone().unwrap_or_else(|| run.phase.clone());
                    let age = match (now, run.created) {
                        (Some(n), Some(c)) => human_duration(n.duration_since(c)),
                        _ => String::new(),
                    };
                    let serves = run.serves();
                    // Name, phase and age, and what it serves: units that wrap whole.
                    let items = vec![
                        vec![Span::raw(format!("  {}", run.name))],
                        vec![
                            Span::styled(phase.clone(), Style::default().fg(phase_color(&phase))),
                            Span::styled(format!(" {age}"), dim()),
                        ],
                        vec![Span::raw(if serves.is_empty() {
                            "idle".to_owned()
                        } else {
                            serves
                        })],
                    ];
                    lines.extend(super::fit::units(
                        items,
                        "  ",
                        usize::from(area.width.saturating_sub(2)),
                    ));
                }
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, focused)),
        area,
    );
}
