//! The logs view's follow: both sides of the canary read by `services::kube::logs`, their
//! lines gathered for a tenth of a second and sent as one action per side, so a chatty pod
//! costs the UI ten wake-ups a second, not one a line. One follow at a time.

use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use super::runner::Runner;
use crate::app::Action;
use crate::app::logs::PANE_LINES;
use crate::services::kube::actions::RolloutRef;
use crate::services::kube::logs::{LogOpts, Role, SideEvent, follow_side};

/// How long lines gather before they go to the UI.
const BATCH: Duration = Duration::from_millis(100);
/// Lines each pane starts with.
const TAIL: i64 = 200;

impl Runner {
    pub(super) fn follow_logs(
        &mut self,
        app: String,
        env: String,
        generation: u64,
        container: Option<String>,
    ) {
        self.stop_logs();
        let cancel = CancellationToken::new();
        self.logs = Some(cancel.clone());
        let (inv, tx) = (self.services.inventory.clone(), self.tx.clone());
        tokio::spawn(async move {
            let problem = |why: String| {
                for role in [Role::Canary, Role::Stable] {
                    let _ = tx.send(Action::Logs {
                        generation,
                        role,
                        events: vec![SideEvent::Problem(why.clone())],
                    });
                }
            };
            let r = match RolloutRef::from_inventory(&inv, &app, &env) {
                Ok(r) => r,
                Err(e) => return problem(e.to_string()),
            };
            let client = match crate::services::kube::client::request_client(&r.target).await {
                Ok(c) => c,
                Err(e) => return problem(e.to_string()),
            };
            let opts = LogOpts {
                follow: true,
                tail: Some(TAIL),
                container,
            };
            for role in [Role::Canary, Role::Stable] {
                let (etx, erx) = unbounded_channel();
                tokio::spawn(batch(erx, tx.clone(), generation, role, cancel.clone()));
                let sink = move |e: SideEvent| etx.send(e).is_ok();
                tokio::spawn(follow_side(
                    client.clone(),
                    r.clone(),
                    role,
                    opts.clone(),
                    cancel.clone(),
                    sink,
                ));
            }
        });
    }

    pub(super) fn stop_logs(&mut self) {
        if let Some(c) = self.logs.take() {
            c.cancel();
        }
    }
}

/// Gathers a side's events and sends them every [`BATCH`]; more lines than a pane holds are
/// cut to the newest (the pane would drop them anyway).
async fn batch(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<SideEvent>,
    tx: UnboundedSender<Action>,
    generation: u64,
    role: Role,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(BATCH);
    let mut events: Vec<SideEvent> = Vec::new();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            got = rx.recv() => match got {
                Some(e) => events.push(e),
                None => return,
            },
            _ = tick.tick() => {
                if events.is_empty() {
                    continue;
                }
                let lines = events.iter().filter(|e| matches!(e, SideEvent::Line(_))).count();
                if lines > PANE_LINES {
                    let mut skip = lines - PANE_LINES;
                    events.retain(|e| {
                        if skip > 0 && matches!(e, SideEvent::Line(_)) {
                            skip -= 1;
                            false
                        } else {
                            true
                        }
                    });
                }
                let events = std::mem::take(&mut events);
                if tx.send(Action::Logs { generation, role, events }).is_err() {
                    return;
                }
            }
        }
    }
}
