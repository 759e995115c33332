//! IO adapters, one module per outside system, each with its own `thiserror` enum.

pub mod feishu;
pub mod github;
pub mod gitops;
pub mod kube;
pub mod prometheus;
pub mod retry;
pub mod s3;
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
/// and notice cancellation or the end of the op's time between units of work.
#[derive(Debug, Clone, Default)]
pub struct TaskCtl {
    cancel: CancellationToken,
    progress: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
    /// When the op's time is up, and how long it was given; `None`: the service's own
    /// deadlines alone bound it.
    deadline: Option<(std::time::Instant, std::time::Duration)>,
}

impl TaskCtl {
    pub fn new(
        cancel: CancellationToken,
        progress: tokio::sync::mpsc::UnboundedSender<Progress>,
    ) -> Self {
        TaskCtl {
            cancel,
            progress: Some(progress),
            deadline: None,
        }
    }

    /// The same control, with its time up `budget` from now or earlier (the earlier end wins).
    #[must_use]
    pub fn within(mut self, budget: std::time::Duration) -> Self {
        let end = std::time::Instant::now() + budget;
        if self.deadline.is_none_or(|(d, _)| end < d) {
            self.deadline = Some((end, budget));
        }
        self
    }

    /// When the op's time is up, if it is bounded.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.deadline.map(|(d, _)| d)
    }

    /// How long the op was given, in whole seconds (rounded up), if it is bounded.
    pub fn budget_secs(&self) -> Option<u64> {
        self.deadline
            .map(|(_, b)| b.as_secs() + u64::from(b.subsec_nanos() > 0))
    }

    /// The op's time is up.
    pub fn expired(&self) -> bool {
        self.deadline
            .is_some_and(|(d, _)| std::time::Instant::now() >= d)
    }

    /// Cancelled or out of time: a long call stops at its next unit of work.
    pub fn should_stop(&self) -> bool {
        self.is_cancelled() || self.expired()
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
