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

/// `GET /repos/{o}/{r}/compare/{base}...{head}` (one page).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Comparison {
    /// `ahead`, `behind`, `diverged` or `identical`.
    pub status: String,
    #[serde(default)]
    pub ahead_by: u64,
    #[serde(default)]
    pub behind_by: u64,
    /// Commits in the whole comparison (not only this page).
    #[serde(default)]
    pub total_commits: u64,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub merge_base_commit: Option<CommitRef>,
    #[serde(default)]
    pub commits: Vec<ComparedCommit>,
    /// Page 1 only (GitHub lists at most 300); counted, never read.
    #[serde(default)]
    pub files: Option<Vec<serde::de::IgnoredAny>>,
}

/// One commit of a comparison.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ComparedCommit {
    pub sha: String,
    #[serde(default)]
    pub html_url: Option<String>,
    pub commit: GitCommit,
    /// The GitHub account of the author, when GitHub matched one.
    #[serde(default)]
    pub author: Option<Account>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GitCommit {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub author: Option<GitPerson>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GitPerson {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub date: Option<Timestamp>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Account {
    pub login: String,
}
