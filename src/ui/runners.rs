//! Runners: the self-hosted Actions runner scale sets and their pods.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{block, dim, feed_line};
use crate::app::State;

pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, focused: bool) {
    let (title, lines) = match &state.runners_namespace {
        Some(ns) => (
            format!("Runners ({ns})"),
            feed_line("cluster", &state.cluster).into_iter().collect(),
        ),
        None => (
            "Runners".to_owned(),
            vec![Line::styled("no `runners` section in the inventory", dim())],
        ),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(title, focused)),
        area,
    );
}
