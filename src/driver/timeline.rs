//! The timeline's effects: its two event watches (the env's namespace, the Argo CD namespace)
//! under one handle the runner keeps, so closing the view stops them, and the journal read.

use tokio::sync::mpsc::UnboundedSender;

use super::Runner;
use crate::app::Action;
use crate::services::kube::client::client;
use crate::services::kube::timeline::{self, Scope, Watched, plan};

/// Watches one source until aborted; every snapshot or failure goes back as an Action.
async fn watch_one(w: Watched, scope: Scope, seq: u64, tx: UnboundedSender<Action>) {
    let source = w.source.to_owned();
    let send = move |result| {
        tx.send(Action::TimelineEvents {
            seq,
            source: source.clone(),
            result,
        })
        .is_ok()
    };
    match client(&w.target).await {
        Ok(c) => timeline::watch(c, w.namespace, scope, send).await,
        Err(e) => {
            send(Err(e.to_string()));
        }
    }
}

impl Runner {
    /// Starts the timeline's watches, replacing (aborting) any running ones.
    pub(super) fn watch_timeline(&mut self, seq: u64, app: &str, env: &str) {
        self.stop_timeline();
        let tx = self.tx.clone();
        let (scope, watched) = match plan(&self.services.inventory, app, env) {
            Ok(p) => p,
            Err(e) => {
                for source in crate::app::timeline::SOURCES {
                    let _ = tx.send(Action::TimelineEvents {
                        seq,
                        source: source.to_owned(),
                        result: Err(e.clone()),
                    });
                }
                return;
            }
        };
        self.timeline = Some(tokio::spawn(async move {
            let tasks = watched
                .into_iter()
                .map(|w| watch_one(w, scope.clone(), seq, tx.clone()));
            futures::future::join_all(tasks).await;
        }));
    }

    /// Stops the timeline's watches: aborting the task drops the watchers and their connections.
    pub(super) fn stop_timeline(&mut self) {
        if let Some(t) = self.timeline.take() {
            t.abort();
        }
    }

    /// Reads the journal (blocking file IO, off the async workers).
    pub(super) fn read_timeline_journal(&self, seq: u64) {
        let journal = self.services.ops.journal();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = journal.read_all().map_err(|e| e.to_string());
            let _ = tx.send(Action::TimelineJournal { seq, result });
        });
    }
}
