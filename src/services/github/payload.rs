//! The parts of GitHub's payloads shipdeck reads. Lenient on purpose: unknown fields are
//! ignored and optional ones may be missing (GitHub Enterprise versions differ).

use jiff::Timestamp;
use serde::Deserialize;

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CheckRunList {
    #[serde(default)]
    pub check_runs: Vec<CheckRun>,
}

/// One check run.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested`, `pending`.
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub details_url: Option<String>,
}

/// `GET /repos/{o}/{r}/commits/{ref}/status`
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CombinedStatus {
    #[serde(default)]
    pub statuses: Vec<CommitStatus>,
}

/// One commit status (the latest of its context).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CommitStatus {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub context: String,
    /// `error`, `failure`, `pending`, `success`.
    pub state: String,
    #[serde(default)]
    pub target_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// `GET /repos/{o}/{r}/actions/runs?head_sha=`
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WorkflowRunList {
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRun>,
}

/// One Actions workflow run.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub run_started_at: Option<Timestamp>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

/// `GET /repos/{o}/{r}/commits/{ref}` (only the resolved SHA matters).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CommitRef {
    pub sha: String,
}
