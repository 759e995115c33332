//! `L`: canary and stable pod logs side by side (the newest at the bottom of each pane), what
//! each reads or why it reads nothing, the filter, and a pause that says how much it holds
//! back.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use super::fit;
use super::style::{dim, sheet};
use crate::app::State;
use crate::services::kube::logs::Role;

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let v = &state.logs;
    let mut title = format!("Logs {} ({})", v.app, v.env);
    if let Some(c) = &v.container {
        title = format!("{title} · container {c}");
    }
    let tail = if v.filtering {
        format!("filter: {}▏ · enter keeps · esc clears", v.filter)
    } else if !v.filter.is_empty() {
        format!("filter: {} · esc clears", v.filter)
    } else {
        "esc close".to_owned()
    };
    let (body, _) = sheet(
        frame,
        title,
        super::footer::view_hints(state, crate::app::keymap::View::Logs, &tail),
    );
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    for (role, area) in [(Role::Canary, left), (Role::Stable, right)] {
        let pane = match role {
            Role::Canary => &v.canary,
            Role::Stable => &v.stable,
        };
        let mut name = role.name().to_owned();
        if v.paused.is_some() {
            name = format!("{name} · paused, {} new", pane.unseen);
        }
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            format!(" {name} "),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let width = usize::from(inner.width);
        let height = usize::from(inner.height);
        let mut lines = vec![Line::styled(fit::cut(&pane.status, width), dim())];
        let shown = v.shown(role);
        let room = height.saturating_sub(1);
        // The newest lines that fit; each cut to the pane (zoom is for reading one whole).
        for l in &shown[shown.len().saturating_sub(room)..] {
            let style = if l.contains(" ERROR ") || l.contains(" WARN") {
                Style::default().fg(Color::Red)
            } else {
                Style::default()
            };
            lines.push(Line::styled(fit::cut(&short_pod(l), width), style));
        }
        if shown.is_empty() && !pane.lines.is_empty() {
            lines.push(Line::styled("no line matches the filter", dim()));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// `miker-web-56j87lf7vf-llczt: text` → `llczt text`: the pod's own suffix is what tells the
/// pods of one ReplicaSet apart (the status line names them whole).
fn short_pod(line: &str) -> String {
    match line.split_once(": ") {
        Some((pod, text)) => {
            let suffix = pod.rsplit('-').next().unwrap_or(pod);
            format!("{suffix} {text}")
        }
        None => line.to_owned(),
    }
}
