//! Where each panel goes. Shared by rendering and click hit-testing, so they never disagree.

use ratatui::layout::{Constraint, Direction, Layout, Position, Rect};

use crate::app::{Panel, State};

/// The screen's regions.
pub struct Areas {
    pub panels: Vec<(Panel, Rect)>,
    pub status: Option<Rect>,
    pub footer: Rect,
}

/// Splits the screen as product.md sketches it, or gives the focused panel everything when zoomed.
pub fn areas(full: Rect, state: &State) -> Areas {
    let status_h = u16::from(state.status.is_some());
    let [body, status, footer] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Min(3),
            Constraint::Length(status_h),
            Constraint::Length(1),
        ])
        .areas(full);
    let status = (status_h > 0).then_some(status);
    if state.zoomed {
        return Areas {
            panels: vec![(state.focus, body)],
            status,
            footer,
        };
    }
    // An empty Activity panel needs one line: the others take the room it would leave blank.
    let idle = state.activity.is_empty() && !state.tasks.any_running();
    let (top_h, mid_h) = if idle {
        let rest = body.height.saturating_sub(3);
        ((rest * 4 / 7).max(6), (rest * 3 / 7).max(4))
    } else {
        ((body.height * 2 / 5).max(6), (body.height * 3 / 10).max(4))
    };
    let [top, mid, bottom] = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(top_h),
            Constraint::Length(mid_h),
            Constraint::Min(3),
        ])
        .areas(body);
    // The environments table needs ~42 columns to show full short SHAs; narrow screens give it more.
    let left = if full.width < 100 { 57 } else { 48 };
    let halves = |r: Rect| -> [Rect; 2] {
        Layout::default()
            .direction(Direction::Horizontal)
            .constraints([
                Constraint::Percentage(left),
                Constraint::Percentage(100 - left),
            ])
            .areas(r)
    };
    let [envs, rollout] = halves(top);
    let [gates, runners] = halves(mid);
    Areas {
        panels: vec![
            (Panel::Environments, envs),
            (Panel::Rollout, rollout),
            (Panel::Gates, gates),
            (Panel::Runners, runners),
            (Panel::Activity, bottom),
        ],
        status,
        footer,
    }
}

/// The panel under a terminal cell, for mouse clicks.
pub fn panel_at(state: &State, column: u16, row: u16) -> Option<Panel> {
    let full = Rect::new(0, 0, state.size.0, state.size.1);
    areas(full, state)
        .panels
        .into_iter()
        .find(|(_, r)| r.contains(Position::new(column, row)))
        .map(|(p, _)| p)
}
