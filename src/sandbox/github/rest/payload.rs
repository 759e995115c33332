//! The JSON GitHub answers with (check runs, workflow runs, users, repositories), timed
//! by the simulated CI clock of each commit.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use crate::sandbox::github::scenario::{Phase, check_phase};
use crate::sandbox::github::{Commit, State};

pub(super) fn check_run_json(base: &str, st: &State, c: &Commit, i: usize, phase: Phase) -> Json {
    let s = &c.scenario.checks[i];
    let id = c.first_id + i as u64;
    let api = format!("{base}/repos/{}/{}", st.owner, st.repo);
    let html = format!(
        "{base}/{}/{}/actions/runs/{}/job/{id}",
        st.owner, st.repo, c.run_id
    );
    let started = (phase != Phase::Queued).then(|| wall(st, c, s.start_at).to_string());
    let completed = (phase == Phase::Completed).then(|| wall(st, c, s.end_at()).to_string());
    let conclusion = (phase == Phase::Completed).then(|| s.conclusion.as_str());
    json!({
        "id": id,
        "head_sha": c.sha,
        "node_id": format!("CR_kwDO{id}"),
        "external_id": format!("{:08x}-{id}", c.run_id),
        "url": format!("{api}/check-runs/{id}"),
        "html_url": html,
        "details_url": html,
        "status": phase_str(phase),
        "conclusion": conclusion,
        "started_at": started,
        "completed_at": completed,
        "output": {
            "title": conclusion.map(|c| format!("{} {c}", s.name)),
            "summary": null,
            "text": null,
            "annotations_count": 0,
            "annotations_url": format!("{api}/check-runs/{id}/annotations"),
        },
        "name": s.name,
        "check_suite": { "id": c.suite_id },
        "app": { "id": 15368, "slug": "github-actions", "node_id": "MDM6QXBwMTUzNjg=", "name": "GitHub Actions" },
        "pull_requests": [],
    })
}

pub(super) fn workflow_run_json(base: &str, st: &State, c: &Commit) -> Json {
    let t = sim_now(st, c);
    let phases: Vec<Phase> = c
        .scenario
        .checks
        .iter()
        .map(|s| check_phase(s, t))
        .collect();
    let done = phases.iter().all(|p| *p == Phase::Completed);
    let started = phases
        .iter()
        .any(|p| matches!(p, Phase::InProgress | Phase::Completed));
    let status = if done {
        "completed"
    } else if started {
        "in_progress"
    } else {
        "queued"
    };
    let conclusion = done.then(|| {
        if c.scenario.checks.iter().any(|s| {
            matches!(
                s.conclusion,
                super::super::Conclusion::Failure
                    | super::super::Conclusion::Cancelled
                    | super::super::Conclusion::TimedOut
            )
        }) {
            "failure"
        } else {
            "success"
        }
    });
    // The last moment something changed, so a frozen timeline gives byte-identical payloads.
    let updated = c
        .scenario
        .checks
        .iter()
        .flat_map(|s| [s.queued_at, s.start_at, s.end_at()])
        .filter(|x| *x <= t)
        .max()
        .unwrap_or_default();
    let api = format!("{base}/repos/{}/{}", st.owner, st.repo);
    let run = c.run_id;
    let created = wall(st, c, Duration::ZERO).to_string();
    let author = json!({ "name": "Alice Liu", "email": "alice@example.com" });
    json!({
        "id": run,
        "name": c.scenario.workflow,
        "node_id": format!("WFR_kwLO{run}"),
        "head_branch": "main",
        "head_sha": c.sha,
        "path": format!(".github/workflows/{}.yml", c.scenario.workflow),
        "display_title": c.scenario.message,
        "run_number": c.run_number,
        "event": "push",
        "status": status,
        "conclusion": conclusion,
        "workflow_id": 161_335,
        "check_suite_id": c.suite_id,
        "check_suite_node_id": format!("CS_kwDO{}", c.suite_id),
        "url": format!("{api}/actions/runs/{run}"),
        "html_url": format!("{base}/{}/{}/actions/runs/{run}", st.owner, st.repo),
        "pull_requests": [],
        "created_at": created,
        "updated_at": wall(st, c, updated).to_string(),
        "run_attempt": 1,
        "run_started_at": created,
        "jobs_url": format!("{api}/actions/runs/{run}/jobs"),
        "logs_url": format!("{api}/actions/runs/{run}/logs"),
        "check_suite_url": format!("{api}/check-suites/{}", c.suite_id),
        "artifacts_url": format!("{api}/actions/runs/{run}/artifacts"),
        "cancel_url": format!("{api}/actions/runs/{run}/cancel"),
        "rerun_url": format!("{api}/actions/runs/{run}/rerun"),
        "workflow_url": format!("{api}/actions/workflows/161335"),
        "head_commit": {
            "id": c.sha,
            "tree_id": super::super::full_sha(&format!("7{}", &c.sha[..6])),
            "message": c.scenario.message,
            "timestamp": created,
            "author": author,
            "committer": author,
        },
        "repository": repo_json(base, st),
        "head_repository": repo_json(base, st),
    })
}

pub(super) fn user_json(base: &str, login: &str, id: u64) -> Json {
    let u = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("{base}/avatars/{login}"),
        "gravatar_id": "",
        "url": u,
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"),
        "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": "Organization",
        "site_admin": false,
    })
}

pub(super) fn repo_json(base: &str, st: &State) -> Json {
    json!({
        "id": 1_296_269,
        "node_id": "R_kgDOBPnIvQ",
        "name": st.repo,
        "full_name": format!("{}/{}", st.owner, st.repo),
        "private": true,
        "owner": user_json(base, &st.owner, 9_919),
        "html_url": format!("{base}/{}/{}", st.owner, st.repo),
        "description": null,
        "fork": false,
        "url": format!("{base}/repos/{}/{}", st.owner, st.repo),
    })
}

pub(super) fn phase_str(p: Phase) -> &'static str {
    match p {
        Phase::NotYet | Phase::Queued => "queued",
        Phase::InProgress => "in_progress",
        Phase::Completed => "completed",
    }
}

/// Simulated seconds since the commit's CI began.
pub(super) fn sim_now(st: &State, c: &Commit) -> Duration {
    let real = Timestamp::now()
        .duration_since(c.added_at)
        .as_secs_f64()
        .max(0.0);
    Duration::from_secs_f64((c.base_elapsed + real * st.speed).max(0.0))
}

/// The wall-clock time of a simulated instant, to whole seconds (as GitHub prints them).
pub(super) fn wall(st: &State, c: &Commit, t: Duration) -> Timestamp {
    let scale = if st.speed > 0.0 { st.speed } else { 1.0 };
    let offset = (t.as_secs_f64() - c.base_elapsed) / scale;
    #[allow(clippy::cast_possible_truncation)]
    let secs = c.added_at.as_second() + offset.floor() as i64;
    Timestamp::from_second(secs).unwrap_or(c.added_at)
}
