//! From what GitHub reports for a commit to gates: one state per required check.

use std::collections::HashMap;
use std::fmt::Write;

use jiff::Timestamp;
use serde::Serialize;

use super::payload::{CheckRun, CommitStatus, WorkflowRun};

/// Where a gate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GateState {
    Passed,
    Failed,
    /// Queued, in progress or pending.
    Running,
    /// Nothing by that name reported on the commit.
    Missing,
    /// Concluded `neutral` or `skipped`: counts as passing, as for GitHub's required checks.
    Neutral,
}

impl GateState {
    /// Whether the gate lets a commit through.
    pub fn is_ok(self) -> bool {
        matches!(self, GateState::Passed | GateState::Neutral)
    }

    /// One-cell symbol for the panel.
    pub fn symbol(self) -> &'static str {
        match self {
            GateState::Passed => "✔",
            GateState::Failed => "✘",
            GateState::Running => "◌",
            GateState::Missing => "?",
            GateState::Neutral => "–",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GateState::Passed => "passed",
            GateState::Failed => "failed",
            GateState::Running => "running",
            GateState::Missing => "missing",
            GateState::Neutral => "neutral",
        }
    }
}

/// What a gate was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateSource {
    CheckRun,
    Status,
    WorkflowRun,
}

/// One gate of a commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    pub name: String,
    pub state: GateState,
    /// Run time; for a running gate, so far. `None` when it has not started.
    pub duration_s: Option<u64>,
    /// When it finished (passed or failed); `None` while it runs or before it starts.
    pub finished_at: Option<Timestamp>,
    /// Where to look (opened with `o`).
    pub url: Option<String>,
    pub source: Option<GateSource>,
    /// GitHub's own word when it says more than the state (`timed_out`, `skipped`, `queued`).
    pub detail: Option<String>,
}

/// The gates of one commit, as the panel, the guard and `shipdeck gates` use them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    /// Full commit SHA.
    pub sha: String,
    /// The required checks in inventory order (every check seen when none is required).
    pub gates: Vec<Gate>,
    /// "5/7 passed, 1 running, 1 missing".
    pub summary: String,
    /// Every required gate passed (or was neutral/skipped). True when nothing is required.
    pub all_passed: bool,
    /// Nothing is running any more: this result will not change and is not refetched.
    pub settled: bool,
    pub fetched_at: Timestamp,
    /// When a refresh is worth asking for; `None` once settled.
    pub refresh_after: Option<Timestamp>,
    /// GitHub refused us until then; the gates shown are from the last good fetch.
    pub rate_limited_until: Option<Timestamp>,
}

impl GateReport {
    /// Gates that keep the commit out.
    pub fn failing(&self) -> impl Iterator<Item = &Gate> {
        self.gates.iter().filter(|g| !g.state.is_ok())
    }

    /// Seven characters of the SHA.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// The value of the `Shipdeck-Gates` commit trailer: one line, e.g.
    /// `7/7 passed at 71be0e3` or `5/7 passed, 1 running, 1 missing at 9f1c2ab; not passed: codeql=running, trivy=missing`.
    pub fn trailer(&self) -> String {
        let mut out = format!("{} at {}", self.summary, self.short_sha());
        let failing: Vec<String> = self
            .failing()
            .map(|g| format!("{}={}", g.name, g.state.label()))
            .collect();
        if !failing.is_empty() {
            out.push_str("; not passed: ");
            out.push_str(&failing.join(", "));
        }
        one_line(&out)
    }

    /// How long until a refresh is due (zero when overdue); `None` once settled.
    pub fn next_refresh_in(&self, now: Timestamp) -> Option<std::time::Duration> {
        let at = self.refresh_after?;
        Some(
            std::time::Duration::try_from(at.duration_since(now))
                .unwrap_or(std::time::Duration::ZERO),
        )
    }
}

/// Collapses whitespace so a value is safe in a trailer or a one-line message.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Everything GitHub reported for one commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitCi {
    pub sha: String,
    pub check_runs: Vec<CheckRun>,
    pub statuses: Vec<CommitStatus>,
    pub workflow_runs: Vec<WorkflowRun>,
}

impl CommitCi {
    /// Nothing is running and something was reported: the result is final.
    pub fn settled(&self) -> bool {
        let anything = !(self.check_runs.is_empty()
            && self.statuses.is_empty()
            && self.workflow_runs.is_empty());
        anything
            && self.check_runs.iter().all(|c| c.status == "completed")
            && self.statuses.iter().all(|s| s.state != "pending")
            && self
                .workflow_runs
                .iter()
                .all(|r| r.status.as_deref().is_none_or(|s| s == "completed"))
    }

    /// The newest check run of each name (a re-run supersedes the earlier attempt).
    fn latest_check_runs(&self) -> Vec<&CheckRun> {
        let mut by_name: HashMap<&str, &CheckRun> = HashMap::new();
        for c in &self.check_runs {
            // GitHub's ids grow with creation: a queued re-run (no start yet) is still newer.
            let newer = by_name
                .get(c.name.as_str())
                .is_none_or(|seen| c.id > seen.id);
            if newer {
                by_name.insert(&c.name, c);
            }
        }
        let mut out: Vec<&CheckRun> = by_name.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn conclusion_state(conclusion: Option<&str>) -> GateState {
    match conclusion {
        Some("success") => GateState::Passed,
        Some("neutral" | "skipped") => GateState::Neutral,
        // failure, cancelled, timed_out, action_required, stale, startup_failure, or none.
        _ => GateState::Failed,
    }
}

fn secs_between(from: Option<Timestamp>, to: Option<Timestamp>) -> Option<u64> {
    let d = to?.duration_since(from?);
    u64::try_from(d.as_secs()).ok()
}

fn check_gate(name: &str, c: &CheckRun, now: Timestamp) -> Gate {
    let (state, end, detail) = if c.status == "completed" {
        let state = conclusion_state(c.conclusion.as_deref());
        let detail = c
            .conclusion
            .as_deref()
            .filter(|k| !matches!(*k, "success" | "failure" | "neutral"))
            .map(str::to_owned);
        (state, c.completed_at, detail)
    } else {
        let detail = (c.status != "in_progress").then(|| c.status.clone());
        (GateState::Running, Some(now), detail)
    };
    Gate {
        name: name.to_owned(),
        state,
        duration_s: secs_between(c.started_at, end),
        finished_at: (c.status == "completed")
            .then_some(c.completed_at)
            .flatten(),
        url: c.html_url.clone().or_else(|| c.details_url.clone()),
        source: Some(GateSource::CheckRun),
        detail,
    }
}

fn status_gate(name: &str, s: &CommitStatus, now: Timestamp) -> Gate {
    let (state, end) = match s.state.as_str() {
        "success" => (GateState::Passed, s.updated_at),
        "pending" => (GateState::Running, Some(now)),
        _ => (GateState::Failed, s.updated_at),
    };
    Gate {
        name: name.to_owned(),
        state,
        duration_s: secs_between(s.created_at, end),
        finished_at: (s.state != "pending").then_some(s.updated_at).flatten(),
        url: s.target_url.clone(),
        source: Some(GateSource::Status),
        detail: (s.state == "error").then(|| "error".to_owned()),
    }
}

fn run_gate(name: &str, r: &WorkflowRun, now: Timestamp) -> Gate {
    let completed = r.status.as_deref() == Some("completed");
    let (state, end) = if completed {
        (conclusion_state(r.conclusion.as_deref()), r.updated_at)
    } else {
        (GateState::Running, Some(now))
    };
    Gate {
        name: name.to_owned(),
        state,
        duration_s: secs_between(r.run_started_at.or(r.created_at), end),
        finished_at: completed.then_some(r.updated_at).flatten(),
        url: r.html_url.clone(),
        source: Some(GateSource::WorkflowRun),
        detail: None,
    }
}

fn same_name(seen: &str, wanted: &str) -> bool {
    // Actions names check runs by job; people often write `workflow / job` in branch rules.
    seen.eq_ignore_ascii_case(wanted)
        || seen
            .rsplit_once(" / ")
            .is_some_and(|(_, job)| job.eq_ignore_ascii_case(wanted))
        || wanted
            .rsplit_once(" / ")
            .is_some_and(|(_, job)| job.eq_ignore_ascii_case(seen))
}

/// Matches the required checks against what GitHub reported. A required name is looked for
/// among check runs (latest per name), then status contexts, then workflow names. With no
/// required checks, every check run and status is listed.
pub fn evaluate(ci: &CommitCi, required: &[String], now: Timestamp) -> GateReport {
    let latest = ci.latest_check_runs();
    let gates: Vec<Gate> = if required.is_empty() {
        let runs = latest.iter().map(|c| check_gate(&c.name, c, now));
        let statuses = ci.statuses.iter().map(|s| status_gate(&s.context, s, now));
        runs.chain(statuses).collect()
    } else {
        required
            .iter()
            .map(|name| {
                if let Some(c) = latest.iter().find(|c| same_name(&c.name, name)) {
                    check_gate(name, c, now)
                } else if let Some(s) = ci.statuses.iter().find(|s| same_name(&s.context, name)) {
                    status_gate(name, s, now)
                } else if let Some(r) = ci
                    .workflow_runs
                    .iter()
                    .filter(|r| r.name.as_deref().is_some_and(|n| same_name(n, name)))
                    .max_by_key(|r| (r.created_at, r.id))
                {
                    run_gate(name, r, now)
                } else {
                    Gate {
                        name: name.clone(),
                        state: GateState::Missing,
                        duration_s: None,
                        finished_at: None,
                        url: None,
                        source: None,
                        detail: None,
                    }
                }
            })
            .collect()
    };
    let all_passed = required.is_empty() || gates.iter().all(|g| g.state.is_ok());
    GateReport {
        sha: ci.sha.clone(),
        summary: summarise(&gates),
        gates,
        all_passed,
        settled: ci.settled(),
        fetched_at: now,
        refresh_after: None,
        rate_limited_until: None,
    }
}

/// "5/7 passed, 1 running, 1 missing".
pub fn summarise(gates: &[Gate]) -> String {
    let count = |s: GateState| gates.iter().filter(|g| g.state == s).count();
    let mut out = format!("{}/{} passed", count(GateState::Passed), gates.len());
    for state in [
        GateState::Failed,
        GateState::Running,
        GateState::Missing,
        GateState::Neutral,
    ] {
        let n = count(state);
        if n > 0 {
            let _ = write!(out, ", {n} {}", state.label());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn run(
        id: u64,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
        start: &str,
        end: Option<&str>,
    ) -> CheckRun {
        CheckRun {
            id,
            name: name.to_owned(),
            status: status.to_owned(),
            conclusion: conclusion.map(str::to_owned),
            started_at: Some(ts(start)),
            completed_at: end.map(ts),
            html_url: Some(format!("https://example.test/job/{id}")),
            details_url: None,
        }
    }

    fn req(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn states_durations_and_summary() {
        let ci = CommitCi {
            sha: "9f1c2ab".repeat(6)[..40].to_owned(),
            check_runs: vec![
                run(
                    1,
                    "lint",
                    "completed",
                    Some("success"),
                    "2026-11-30T12:00:00Z",
                    Some("2026-11-30T12:00:35Z"),
                ),
                run(
                    2,
                    "test",
                    "completed",
                    Some("failure"),
                    "2026-11-30T12:00:00Z",
                    Some("2026-11-30T12:01:00Z"),
                ),
                run(
                    3,
                    "codeql",
                    "in_progress",
                    None,
                    "2026-11-30T12:00:00Z",
                    None,
                ),
                run(
                    4,
                    "trivy",
                    "completed",
                    Some("skipped"),
                    "2026-11-30T12:00:00Z",
                    Some("2026-11-30T12:00:01Z"),
                ),
            ],
            statuses: vec![CommitStatus {
                id: 9,
                context: "deploy/preview".to_owned(),
                state: "success".to_owned(),
                target_url: Some("https://ci.test/9".to_owned()),
                created_at: Some(ts("2026-11-30T12:00:00Z")),
                updated_at: Some(ts("2026-11-30T12:00:10Z")),
            }],
            workflow_runs: vec![],
        };
        let now = ts("2026-11-30T12:02:00Z");
        let r = evaluate(
            &ci,
            &req(&[
                "lint",
                "test",
                "codeql",
                "trivy",
                "deploy/preview",
                "gitleaks",
            ]),
            now,
        );
        let states: Vec<GateState> = r.gates.iter().map(|g| g.state).collect();
        assert_eq!(
            states,
            [
                GateState::Passed,
                GateState::Failed,
                GateState::Running,
                GateState::Neutral,
                GateState::Passed,
                GateState::Missing
            ]
        );
        assert_eq!(r.gates[0].duration_s, Some(35));
        assert_eq!(r.gates[2].duration_s, Some(120), "running: time so far");
        assert_eq!(r.gates[4].source, Some(GateSource::Status));
        assert_eq!(
            r.summary,
            "2/6 passed, 1 failed, 1 running, 1 missing, 1 neutral"
        );
        assert!(!r.all_passed);
        assert!(!r.settled);
        assert_eq!(
            r.trailer(),
            "2/6 passed, 1 failed, 1 running, 1 missing, 1 neutral at 9f1c2ab; not passed: test=failed, codeql=running, gitleaks=missing"
        );
    }

    #[test]
    fn the_latest_run_of_a_name_wins() {
        let ci = CommitCi {
            sha: "a".repeat(40),
            check_runs: vec![
                run(
                    10,
                    "test",
                    "completed",
                    Some("failure"),
                    "2026-11-30T12:00:00Z",
                    Some("2026-11-30T12:01:00Z"),
                ),
                run(
                    11,
                    "test",
                    "completed",
                    Some("success"),
                    "2026-11-30T12:02:00Z",
                    Some("2026-11-30T12:03:00Z"),
                ),
            ],
            ..CommitCi::default()
        };
        let r = evaluate(&ci, &req(&["test"]), ts("2026-11-30T13:00:00Z"));
        assert_eq!(r.gates[0].state, GateState::Passed);
        assert_eq!(
            r.gates[0].url.as_deref(),
            Some("https://example.test/job/11")
        );
        assert!(r.all_passed && r.settled);
        assert_eq!(r.summary, "1/1 passed");
    }

    #[test]
    fn workflow_names_and_slash_names_match() {
        let ci = CommitCi {
            sha: "b".repeat(40),
            check_runs: vec![run(
                1,
                "ci / lint",
                "completed",
                Some("success"),
                "2026-11-30T12:00:00Z",
                Some("2026-11-30T12:00:05Z"),
            )],
            workflow_runs: vec![WorkflowRun {
                id: 5,
                name: Some("release".to_owned()),
                status: Some("queued".to_owned()),
                conclusion: None,
                html_url: Some("https://example.test/run/5".to_owned()),
                run_started_at: None,
                created_at: Some(ts("2026-11-30T12:00:00Z")),
                updated_at: None,
            }],
            ..CommitCi::default()
        };
        let r = evaluate(&ci, &req(&["lint", "release"]), ts("2026-11-30T12:00:30Z"));
        assert_eq!(r.gates[0].state, GateState::Passed);
        assert_eq!(r.gates[1].state, GateState::Running);
        assert_eq!(r.gates[1].source, Some(GateSource::WorkflowRun));
        assert!(!r.settled, "a queued workflow run may still add checks");
    }

    #[test]
    fn nothing_required_lists_everything_and_passes() {
        let ci = CommitCi {
            sha: "c".repeat(40),
            check_runs: vec![run(
                1,
                "lint",
                "completed",
                Some("failure"),
                "2026-11-30T12:00:00Z",
                Some("2026-11-30T12:00:05Z"),
            )],
            ..CommitCi::default()
        };
        let r = evaluate(&ci, &[], ts("2026-11-30T12:00:30Z"));
        assert_eq!(r.gates.len(), 1);
        assert!(r.all_passed);
        assert_eq!(r.summary, "0/1 passed, 1 failed");
    }

    #[test]
    fn an_empty_commit_is_not_settled() {
        let ci = CommitCi {
            sha: "d".repeat(40),
            ..CommitCi::default()
        };
        assert!(!ci.settled());
    }
}
