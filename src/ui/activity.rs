//! Activity: running tasks with progress, then the log of what happened, newest last.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::{block, dim};
use crate::app::State;
use crate::app::tasks::TaskState;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let title = if focused && !state.activity.is_empty() {
        "Activity (↑↓ select · enter opens a line whole)"
    } else {
        "Activity"
    };
    let block = block(title.to_owned(), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    // Zoomed, a line wraps whole at words; on the main screen it is cut with `…` (enter opens it).
    let wrap = state.zoomed && focused;
    let mut lines: Vec<Line> = Vec::new();
    for t in state.tasks.running() {
        let progress = match &t.progress {
            Some(p) => match p.total {
                Some(total) if total > 0 => format!(" {}/{} {}", p.done, total, p.note),
                _ => format!(" {}", p.note),
            },
            None => String::new(),
        };
        // How long it has waited: the far end the note names may be silent.
        let secs = state.clock.now_ms.saturating_sub(t.started_ms) / 1000;
        let waited = if secs >= 1 {
            format!(" ({secs} s)")
        } else {
            String::new()
        };
        let cancelling = if t.state == TaskState::Cancelling {
            " (cancelling…)"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled("◌ ", Style::default().fg(Color::Cyan)),
            Span::raw(format!("{}{progress}{waited}{cancelling}", t.title)),
            Span::styled("  esc cancels", dim()),
        ]));
    }
    if state.activity.is_empty() && lines.is_empty() {
        lines.push(Line::styled(
            "nothing yet: actions and their results appear here",
            dim(),
        ));
    }
    let room = usize::from(inner.height).saturating_sub(lines.len());
    // The newest lines that fit, ending at the selected one when there is one.
    let end = state
        .selected_activity
        .map_or(state.activity.len(), |i| (i + 1).min(state.activity.len()));
    let mut rows: Vec<Line> = Vec::new();
    for (i, a) in state.activity[..end].iter().enumerate().rev() {
        let mut style = if a.failed {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        };
        if focused && state.selected_activity == Some(i) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let text_room = width.saturating_sub(a.time.len() + 1);
        let parts = if wrap {
            super::fit::wrap_words(&a.text, text_room)
        } else {
            vec![super::fit::cut(&a.text, text_room)]
        };
        let indent = " ".repeat(a.time.len() + 1);
        let mut entry: Vec<Line> = parts
            .into_iter()
            .enumerate()
            .map(|(n, part)| {
                let lead = if n == 0 {
                    Span::styled(format!("{} ", a.time), dim())
                } else {
                    Span::raw(indent.clone())
                };
                Line::from(vec![lead, Span::styled(part, style)])
            })
            .collect();
        if rows.len() + entry.len() > room {
            // The oldest one that does not fit whole shows its last rows.
            let keep = room.saturating_sub(rows.len());
            entry.drain(..entry.len() - keep);
            entry.reverse();
            rows.extend(entry);
            break;
        }
        entry.reverse();
        rows.extend(entry);
    }
    rows.reverse();
    lines.extend(rows);
    frame.render_widget(Paragraph::new(lines), inner);
}
