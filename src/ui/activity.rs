//! Activity: running tasks with progress, then the log of what happened, newest last.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::{block, dim};
use crate::app::State;
use crate::app::tasks::TaskState;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let block = block("Activity".to_owned(), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
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
    let start = state.activity.len().saturating_sub(room);
    for a in &state.activity[start..] {
        let style = if a.failed {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", a.time), dim()),
            Span::styled(a.text.clone(), style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
