//! Scripted CI for one commit: which check runs and statuses appear, when they start and
//! finish, and how. Times are simulated seconds since the commit was pushed; the sandbox maps
//! them onto the wall clock with its speed factor.

use std::time::Duration;

/// How a finished check run ended (GitHub's `conclusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    Skipped,
    Cancelled,
    TimedOut,
}

impl Conclusion {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
            Conclusion::Skipped => "skipped",
            Conclusion::Cancelled => "cancelled",
            Conclusion::TimedOut => "timed_out",
        }
    }

    fn is_bad(self) -> bool {
        matches!(
            self,
            Conclusion::Failure | Conclusion::Cancelled | Conclusion::TimedOut
        )
    }
}

/// One check run's script.
#[derive(Debug, Clone)]
pub struct CheckScript {
    pub name: String,
    /// When the run appears, queued.
    pub queued_at: Duration,
    /// When it starts (`in_progress`).
    pub start_at: Duration,
    /// How long it runs before it completes.
    pub run_for: Duration,
    pub conclusion: Conclusion,
}

impl CheckScript {
    pub fn new(name: &str, start_at: u64, run_for: u64, conclusion: Conclusion) -> Self {
        CheckScript {
            name: name.to_owned(),
            queued_at: Duration::ZERO,
            start_at: Duration::from_secs(start_at),
            run_for: Duration::from_secs(run_for),
            conclusion,
        }
    }

    pub(crate) fn end_at(&self) -> Duration {
        self.start_at + self.run_for
    }
}

/// Final state of a commit status (`success`, `failure`, `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOutcome {
    Success,
    Failure,
    Error,
}

impl StatusOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusOutcome::Success => "success",
            StatusOutcome::Failure => "failure",
            StatusOutcome::Error => "error",
        }
    }
}

/// One commit status context: `pending` from `start_at`, then its outcome after `run_for`.
#[derive(Debug, Clone)]
pub struct StatusScript {
    pub context: String,
    pub start_at: Duration,
    pub run_for: Duration,
    pub outcome: StatusOutcome,
}

/// The CI of one commit.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Workflow name of the Actions run that owns the check runs.
    pub workflow: String,
    pub message: String,
    pub checks: Vec<CheckScript>,
    pub statuses: Vec<StatusScript>,
}

/// The seed pipeline's jobs in order.
pub const PIPELINE: [&str; 7] = [
    "lint",
    "type-check",
    "test",
    "build",
    "trivy",
    "codeql",
    "gitleaks",
];

impl Scenario {
    /// The seed's pipeline, all green: lint, type-check and test in parallel, then build,
    /// then trivy, codeql and gitleaks in parallel. codeql is the slow one (ends at 405 s).
    pub fn pipeline() -> Self {
        use Conclusion::Success;
        Scenario {
            workflow: "ci".to_owned(),
            message: "build".to_owned(),
            checks: vec![
                CheckScript::new("lint", 5, 30, Success),
                CheckScript::new("type-check", 5, 45, Success),
                CheckScript::new("test", 5, 90, Success),
                CheckScript::new("build", 95, 70, Success),
                CheckScript::new("trivy", 165, 40, Success),
                CheckScript::new("codeql", 165, 240, Success),
                CheckScript::new("gitleaks", 165, 15, Success),
            ],
            statuses: Vec::new(),
        }
    }

    /// When everything in the scenario has finished.
    pub fn end(&self) -> Duration {
        let checks = self.checks.iter().map(CheckScript::end_at);
        let statuses = self.statuses.iter().map(|s| s.start_at + s.run_for);
        checks.chain(statuses).max().unwrap_or_default()
    }

    /// The named check ends with `conclusion` instead.
    #[must_use]
    pub fn concluding(mut self, name: &str, conclusion: Conclusion) -> Self {
        for c in self.checks.iter_mut().filter(|c| c.name == name) {
            c.conclusion = conclusion;
        }
        self
    }

    /// The named check fails.
    #[must_use]
    pub fn failing(self, name: &str) -> Self {
        self.concluding(name, Conclusion::Failure)
    }

    /// The named check never reports (a gate that will stay missing).
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.checks.retain(|c| c.name != name);
        self
    }

    /// The named check runs for `run_for` instead.
    #[must_use]
    pub fn slow(mut self, name: &str, run_for: Duration) -> Self {
        for c in self.checks.iter_mut().filter(|c| c.name == name) {
            c.run_for = run_for;
        }
        self
    }

    /// The named check first fails, then is re-run and ends as scripted: the newer run wins.
    #[must_use]
    pub fn rerun(mut self, name: &str) -> Self {
        if let Some(pos) = self.checks.iter().position(|c| c.name == name) {
            let mut first = self.checks[pos].clone();
            first.conclusion = Conclusion::Failure;
            let second = &mut self.checks[pos];
            second.queued_at = first.end_at();
            second.start_at = first.end_at() + Duration::from_secs(5);
            self.checks.insert(pos, first);
        }
        self
    }

    /// Adds `n` extra matrix check runs (`matrix-000`, ...), listed before the pipeline's.
    #[must_use]
    pub fn with_matrix(mut self, n: usize) -> Self {
        let extra =
            (0..n).map(|i| CheckScript::new(&format!("matrix-{i:03}"), 5, 20, Conclusion::Success));
        self.checks.splice(0..0, extra);
        self
    }

    /// Adds a commit status context.
    #[must_use]
    pub fn with_status(mut self, context: &str, run_for: u64, outcome: StatusOutcome) -> Self {
        self.statuses.push(StatusScript {
            context: context.to_owned(),
            start_at: Duration::from_secs(5),
            run_for: Duration::from_secs(run_for),
            outcome,
        });
        self
    }

    /// Whether the scenario ends red.
    pub fn fails(&self) -> bool {
        self.checks.iter().any(|c| c.conclusion.is_bad())
            || self
                .statuses
                .iter()
                .any(|s| s.outcome != StatusOutcome::Success)
    }
}

/// Where one scripted item stands at a simulated instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    NotYet,
    Queued,
    InProgress,
    Completed,
}

pub(crate) fn check_phase(c: &CheckScript, t: Duration) -> Phase {
    if t < c.queued_at {
        Phase::NotYet
    } else if t < c.start_at {
        Phase::Queued
    } else if t < c.end_at() {
        Phase::InProgress
    } else {
        Phase::Completed
    }
}

pub(crate) fn status_phase(s: &StatusScript, t: Duration) -> Phase {
    if t < s.start_at {
        Phase::NotYet
    } else if t < s.start_at + s.run_for {
        Phase::InProgress
    } else {
        Phase::Completed
    }
}
