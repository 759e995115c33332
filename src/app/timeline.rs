//! The event timeline (`e`) as data: what the watches and the journal delivered for one
//! app × env, and the one merged, newest-first, filtered list the view shows.

use std::collections::BTreeMap;

use crate::audit::Entry;
use crate::services::kube::timeline::ClusterEvent;

/// At most this many rows: the timeline is for the story at hand, the cluster keeps the rest.
pub const MAX_ROWS: usize = 500;

/// One watch's state (the env's namespace, the Argo CD namespace).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The last snapshot (kept, marked, when the watch fails).
    pub events: Vec<ClusterEvent>,
    /// At least one snapshot arrived.
    pub listed: bool,
    /// The watch's last failure, while it retries.
    pub error: Option<String>,
}

/// The timeline view's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimelineView {
    pub app: String,
    pub env: String,
    /// Which opening the answers belong to: a late answer for an earlier opening is dropped.
    pub seq: u64,
    /// Per watched namespace (`cluster`, `argocd`).
    pub sources: BTreeMap<String, Source>,
    /// shipdeck's own journal for the app × env; `None` while it is read.
    pub journal: Option<Result<Vec<Entry>, String>>,
    pub filter: String,
    pub filtering: bool,
    pub selected: usize,
    /// enter: the selected row is shown whole over the view (esc closes it first).
    pub whole: bool,
}

/// The watched namespaces, as the driver names them in its answers.
pub const SOURCES: [&str; 2] = ["cluster", "argocd"];

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub time: Option<jiff::Timestamp>,
    /// `Normal`, `Warning`, or `shipdeck` for our own actions.
    pub kind: String,
    /// `kind/name`, or the actor for ours.
    pub object: String,
    pub reason: String,
    pub message: String,
    /// Ours (from the journal), by this actor.
    pub ours: Option<String>,
}

impl Row {
    fn contains(&self, needle: &str) -> bool {
        [
            &self.kind,
            &self.object,
            &self.reason,
            &self.message,
            self.ours.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|t| t.to_lowercase().contains(needle))
    }

    /// `Warning` rows stand out; a failed action of ours too.
    pub fn warning(&self) -> bool {
        self.kind == "Warning"
    }
}

fn from_event(e: &ClusterEvent) -> Row {
    Row {
        time: e.time,
        kind: e.kind.clone(),
        object: format!("{}/{}", e.object_kind, e.object_name),
        reason: e.reason.clone(),
        message: e.message.clone(),
        ours: None,
    }
}

fn from_entry(e: &Entry) -> Row {
    let change = match (&e.from, &e.to) {
        (Some(f), Some(t)) => format!("{f} → {t}: "),
        (None, Some(t)) => format!("→ {t}: "),
        _ => String::new(),
    };
    Row {
        time: e.time.parse().ok(),
        kind: if e.result == "ok" {
            "shipdeck".to_owned()
        } else {
            "Warning".to_owned()
        },
        object: format!("shipdeck/{}", e.actor),
        reason: e.action.clone(),
        message: format!("{change}{}", e.result),
        ours: Some(e.actor.clone()),
    }
}

impl TimelineView {
    /// Every row, newest first, at most [`MAX_ROWS`], before the filter.
    pub fn all_rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .sources
            .values()
            .flat_map(|s| s.events.iter().map(from_event))
            .collect();
        if let Some(Ok(entries)) = &self.journal {
            rows.extend(
                entries
                    .iter()
                    .filter(|e| {
                        e.app.as_deref() == Some(self.app.as_str())
                            && e.env.as_deref() == Some(self.env.as_str())
                    })
                    .map(from_entry),
            );
        }
        // Newest first; undated rows last; ties keep a stable order by object.
        rows.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.object.cmp(&b.object)));
        rows.truncate(MAX_ROWS);
        rows
    }

    /// The rows the view shows: [`Self::all_rows`] that contain the filter (case aside).
    pub fn rows(&self) -> Vec<Row> {
        let needle = self.filter.to_lowercase();
        self.all_rows()
            .into_iter()
            .filter(|r| needle.is_empty() || r.contains(&needle))
            .collect()
    }

    /// No watch has delivered yet (the view says it is connecting, not "no events").
    pub fn connecting(&self) -> bool {
        !self.sources.values().any(|s| s.listed)
    }

    /// Why the timeline may be incomplete: each failing watch, and a journal that cannot be read.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .sources
            .iter()
            .filter_map(|(name, s)| s.error.as_ref().map(|e| format!("{name} events: {e}")))
            .collect();
        if let Some(Err(e)) = &self.journal {
            out.push(format!("journal: {e}"));
        }
        out
    }
}
