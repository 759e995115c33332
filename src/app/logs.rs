//! The logs view's state: canary and stable side by side, each a bounded ring of lines (memory
//! stays flat however long it follows), a filter, a pause that freezes what is shown while the
//! rings keep filling, and a generation so lines from a closed or restarted follow are dropped.

use std::collections::VecDeque;

use crate::services::kube::logs::Role;

/// Lines kept per pane.
pub const PANE_LINES: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsView {
    pub app: String,
    pub env: String,
    /// Which follow the lines belong to; older ones are ignored.
    pub generation: u64,
    pub canary: LogPane,
    pub stable: LogPane,
    pub filter: String,
    pub filtering: bool,
    /// Frozen: what each pane showed when paused (the rings go on filling).
    pub paused: Option<(Vec<String>, Vec<String>)>,
    /// The container chosen for multi-container pods (`None`: each pod's first).
    pub container: Option<String>,
    /// The containers the pods have (from the follow).
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPane {
    pub lines: VecDeque<String>,
    /// Pods being read, or why none are.
    pub status: String,
    /// Lines that fell off the ring.
    pub dropped: u64,
    /// Lines received while paused.
    pub unseen: u64,
}

impl LogPane {
    pub fn push(&mut self, line: String, paused: bool) {
        if self.lines.len() == PANE_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
        if paused {
            self.unseen += 1;
        }
    }
}

impl LogsView {
    pub fn pane_mut(&mut self, role: Role) -> &mut LogPane {
        match role {
            Role::Canary => &mut self.canary,
            Role::Stable => &mut self.stable,
        }
    }

    /// The lines a pane shows now: frozen while paused, filtered by the filter's text.
    pub fn shown(&self, role: Role) -> Vec<&str> {
        let (pane, frozen) = match (role, &self.paused) {
            (Role::Canary, Some((c, _))) => (&self.canary, Some(c)),
            (Role::Stable, Some((_, s))) => (&self.stable, Some(s)),
            (Role::Canary, None) => (&self.canary, None),
            (Role::Stable, None) => (&self.stable, None),
        };
        let needle = self.filter.to_lowercase();
        let keep = |l: &&str| needle.is_empty() || l.to_lowercase().contains(&needle);
        match frozen {
            Some(f) => f.iter().map(String::as_str).filter(keep).collect(),
            None => pane.lines.iter().map(String::as_str).filter(keep).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pane_keeps_the_newest_lines_and_counts_the_rest() {
        let mut p = LogPane::default();
        for i in 0..PANE_LINES + 5 {
            p.push(format!("l{i}"), false);
        }
        assert_eq!(p.lines.len(), PANE_LINES);
        assert_eq!(p.dropped, 5);
        assert_eq!(p.lines.front().map(String::as_str), Some("l5"));
    }

    #[test]
    fn pause_freezes_and_the_filter_narrows() {
        let mut v = LogsView::default();
        v.canary.push("a: INFO ok".into(), false);
        v.canary.push("a: ERROR boom".into(), false);
        v.paused = Some((v.canary.lines.iter().cloned().collect(), Vec::new()));
        v.canary.push("a: ERROR later".into(), true);
        assert_eq!(v.shown(Role::Canary).len(), 2);
        v.filter = "error".into();
        assert_eq!(v.shown(Role::Canary), ["a: ERROR boom"]);
        v.paused = None;
        assert_eq!(v.shown(Role::Canary), ["a: ERROR boom", "a: ERROR later"]);
    }
}
