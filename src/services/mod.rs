//! IO adapters, one module per outside system, each with its own `thiserror` enum.

pub mod feishu;
pub mod github;
pub mod gitops;
pub mod kube;
pub mod retry;
pub mod secrets;
pub mod tmpclean;

use tokio_util::sync::CancellationToken;

/// Progress of a long-running service call, as the Activity panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
    pub note: String,
}

/// Handed to long-running service calls (plain sync functions included): report progress,
/// and notice cancellation between units of work.
#[derive(Debug, Clone, Default)]
pub struct TaskCtl {
    cancel: CancellationToken,
    progress: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
}

impl TaskCtl {
    pub fn new(
        cancel: CancellationToken,
        progress: tokio::sync::mpsc::UnboundedSender<Progress>,
    ) -> Self {
        TaskCtl {
            cancel,
            progress: Some(progress),
        }
    }

    /// A control that reports nowhere and is never cancelled (headless, tests).
    pub fn detached() -> Self {
        TaskCtl::default()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn report(&self, done: u64, total: Option<u64>, note: impl Into<String>) {
        if let Some(tx) = &self.progress {
            let _ = tx.send(Progress {
                done,
                total,
                note: note.into(),
            });
        }
    }
}
