//! Rollout: the canary's status, step, weights, pods and analysis for the selected app × env,
//! as `kubectl argo rollouts get rollout --watch` derives them; the revision tree when zoomed.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, dim, feed_line};
use crate::app::{Panel, State};
use crate::services::kube::info::{ReplicaSetInfo, RolloutInfo};
use crate::services::kube::{Conn, image_tag};

fn status_color(status: &str) -> Color {
    match status {
        "Healthy" => Color::Green,
        "Paused" => Color::Yellow,
        "Degraded" => Color::Red,
        "Progressing" => Color::Cyan,
        _ => Color::Gray,
    }
}

fn now_of(state: &State) -> Timestamp {
    i64::try_from(state.clock.now_ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn rs_summary(
    label: &str,
    rs: &ReplicaSetInfo,
    color: Color,
    pods_listed: bool,
) -> Vec<Span<'static>> {
    let tag = rs
        .images
        .first()
        .and_then(|i| image_tag(i))
        .unwrap_or("?")
        .to_owned();
    // Until its pods are listed, the ReplicaSet's own status counts (never "0/0").
    let counts = if pods_listed {
        let ready = rs.pods.iter().filter(|p| {
            let mut it = p.ready.split('/');
            matches!((it.next(), it.next()), (Some(a), Some(b)) if a == b && a != "0")
        });
        format!("{}/{} ready", ready.count(), rs.pods.len())
    } else {
        format!(
            "{}/{} available (pods: listing…)",
            rs.available, rs.replicas
        )
    };
    vec![
        Span::styled(format!("{label} "), Style::default().fg(color)),
        Span::raw(format!("{tag}  {counts}")),
    ]
}

fn header(r: &RolloutInfo, now: Timestamp, resume_key: &str, width: usize) -> Vec<Line<'static>> {
    // Each fact is one unit that moves to the next line whole (`paused by user (p resumes)`).
    let mut first = vec![vec![Span::styled(
        format!("{} {}", r.icon, r.status),
        Style::default()
            .fg(status_color(&r.status))
            .add_modifier(Modifier::BOLD),
    )]];
    if !r.step.is_empty() {
        first.push(vec![Span::raw(format!("step {}", r.step))]);
    }
    if let (Some(s), Some(a)) = (r.set_weight, r.actual_weight) {
        first.push(vec![Span::raw(format!("set {s}%  actual {a}%"))]);
    }
    // A person's pause holds the rollout whatever the step's timer says: no countdown then.
    if r.paused {
        first.push(vec![Span::styled(
            format!("paused by user ({resume_key} resumes)"),
            Style::default().fg(Color::Yellow),
        )]);
    } else if let Some(end) = r.pause_ends_at {
        let left = end.duration_since(now).as_secs().max(0);
        first.push(vec![Span::styled(
            format!("pause {}:{:02} left", left / 60, left % 60),
            Style::default().fg(Color::Yellow),
        )]);
    }
    first.push(vec![Span::styled(r.strategy.clone(), dim())]);
    let mut lines = super::fit::units(first, "  ", width);
    if !r.message.is_empty() {
        lines.push(Line::styled(r.message.clone(), dim()));
    }
    let mut pods = Vec::new();
    if let Some(c) = r.canary_rs().filter(|c| !c.stable) {
        pods.extend(rs_summary(
            if c.preview { "preview" } else { "canary" },
            c,
            Color::Yellow,
            r.pods_listed,
        ));
        pods.push(Span::raw("   "));
    }
    if let Some(s) = r.stable_rs() {
        pods.extend(rs_summary("stable", s, Color::Green, r.pods_listed));
    }
    if !pods.is_empty() {
        lines.push(Line::from(pods));
    }
    if let Some(ar) = r.current_analysis() {
        let mut spans = vec![Span::styled(
            format!("analysis {} {}", ar.icon, ar.status),
            Style::default().fg(match ar.status.as_str() {
                "Successful" => Color::Green,
                "Failed" | "Error" => Color::Red,
                "Inconclusive" => Color::Yellow,
                _ => Color::Cyan,
            }),
        )];
        for m in &ar.metrics {
            spans.push(Span::raw(format!(
                "  {} {} {}",
                m.name,
                m.last_value.as_deref().unwrap_or("—"),
                m.icon
            )));
        }
        lines.push(Line::from(spans));
    }
    if !r.steps.is_empty() {
        let mut spans = vec![Span::styled("steps:", dim())];
        for s in &r.steps {
            let text = s
                .text
                .replace("setWeight: ", "")
                .replace("pause: ", "pause ");
            let text = if text.chars().all(|c| c.is_ascii_digit()) {
                format!("{text}%")
            } else {
                text
            };
            let (mark, style) = match s.state {
                "done" => ("✔", Style::default().fg(Color::Green)),
                "current" => (
                    "▸",
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ),
                _ => ("·", dim()),
            };
            spans.push(Span::styled(format!(" {mark}{text}"), style));
        }
        lines.push(Line::from(spans));
    }
    lines
}

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let (app, env) = (state.selected_app(), state.selected_env());
    let title = match (app, env) {
        (Some(app), Some(env)) => format!("Rollout: {app} ({})", env.name),
        _ => "Rollout".to_owned(),
    };
    let now = now_of(state);
    let env_state = env.and_then(|e| state.live.envs.get(&e.name));
    let mut lines: Vec<Line> = Vec::new();
    match (app, env, env_state) {
        (Some(app), Some(env), Some(es)) => {
            match &es.cluster {
                Conn::Stale { since, error } => lines.push(Line::styled(
                    format!("stale since {}: {error}", since.strftime("%H:%M:%S")),
                    Style::default().fg(Color::Yellow),
                )),
                Conn::Connecting => lines.push(Line::styled("cluster: connecting…", dim())),
                Conn::Live => {}
            }
            let feed = crate::services::kube::FeedId::Cluster(env.name.clone());
            let denied = state
                .live
                .denied(&feed)
                .iter()
                .map(|d| Line::styled(d.to_string(), Style::default().fg(Color::Yellow)));
            match es.rollouts.get(app) {
                // Refused, not absent: the denial says which permission is missing.
                _ if state.live.rollouts_denied(&env.name).is_some() => lines.extend(denied),
                Some(Some(r)) => {
                    let key = state
                        .keymap
                        .keys_for(crate::app::Command::Promote)
                        .into_iter()
                        .next()
                        .map_or_else(|| ":promote".to_owned(), |k| k.to_string());
                    lines.extend(header(
                        r,
                        now,
                        &key,
                        usize::from(area.width.saturating_sub(2)),
                    ));
                    lines.extend(denied);
                    if let Some(slo) =
                        super::slo_panel::lines(state, usize::from(area.width.saturating_sub(2)))
                    {
                        lines.extend(slo);
                    }
                    if state.zoomed && state.focus == Panel::Rollout {
                        lines.push(Line::from(""));
                        if !r.pods_listed {
                            lines.push(Line::styled("pods: listing…", dim()));
                        }
                        for l in crate::services::kube::print::tree(r, now).lines() {
                            lines.push(Line::from(l.to_owned()));
                        }
                    }
                }
                Some(None) => lines.push(Line::styled(
                    format!(
                        "no Rollout for {app} in {}",
                        state.namespace_of(app, &env.name)
                    ),
                    dim(),
                )),
                None => lines.push(Line::styled("waiting for the first list…", dim())),
            }
        }
        _ => lines.extend(feed_line("cluster", &state.cluster)),
    }
    let zoomed = state.zoomed && state.focus == Panel::Rollout;
    let para = Paragraph::new(lines).block(block(title, focused));
    // The tree is a table: cut long rows rather than wrapping them into the next row.
    let para = if zoomed {
        para
    } else {
        para.wrap(Wrap { trim: false })
    };
    frame.render_widget(para, area);
}
