//! The task registry: every background task has an id, a title, progress, a state, and can be
//! cancelled. The Activity panel renders it.

use crate::services::Progress;

pub type TaskId = u64;

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// Done; the line for the Activity log.
    Done(String),
    /// Failed; the error, verbatim.
    Failed(String),
    /// Refused before anything was written (read-only, gates, a rule, RBAC); the reason.
    Refused(String),
    /// Stopped on request.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Running,
    Cancelling,
    Finished(TaskOutcome),
}

/// One background task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub progress: Option<Progress>,
    pub state: TaskState,
    /// When it started, in the clock `State` is given (ms since an arbitrary epoch).
    pub started_ms: u64,
    pub ended_ms: Option<u64>,
}

/// All tasks of this session, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    next_id: TaskId,
    items: Vec<Task>,
}

impl Tasks {
    /// Registers a running task and returns its id.
    pub fn start(&mut self, title: impl Into<String>, now_ms: u64) -> TaskId {
        self.next_id += 1;
        let id = self.next_id;
        self.items.push(Task {
            id,
            title: title.into(),
            progress: None,
            state: TaskState::Running,
            started_ms: now_ms,
            ended_ms: None,
        });
        id
    }

    pub fn progress(&mut self, id: TaskId, progress: Progress) {
        if let Some(t) = self.get_mut(id) {
            t.progress = Some(progress);
        }
    }

    pub fn finish(&mut self, id: TaskId, outcome: TaskOutcome, now_ms: u64) -> Option<&Task> {
        let t = self.get_mut(id)?;
        t.state = TaskState::Finished(outcome);
        t.ended_ms = Some(now_ms);
        Some(t)
    }

    /// Marks the newest running task as cancelling and returns its id.
    pub fn cancel_newest(&mut self) -> Option<TaskId> {
        let t = self
            .items
            .iter_mut()
            .rev()
            .find(|t| t.state == TaskState::Running)?;
        t.state = TaskState::Cancelling;
        Some(t.id)
    }

    pub fn running(&self) -> impl Iterator<Item = &Task> {
        self.items
            .iter()
            .filter(|t| matches!(t.state, TaskState::Running | TaskState::Cancelling))
    }

    pub fn any_running(&self) -> bool {
        self.running().next().is_some()
    }

    pub fn all(&self) -> &[Task] {
        &self.items
    }

    fn get_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        self.items.iter_mut().find(|t| t.id == id)
    }
}
