//! What one commit's CI looks like right now, in REST's shapes: the check runs (the latest of
//! each name), the commit statuses and the workflow runs. The REST handlers page and filter
//! these; GraphQL's `statusCheckRollup` and `checkSuites` read the very same values, so the two
//! APIs never disagree about a commit.

use serde_json::{Value as Json, json};

use crate::sandbox::github::graphql::CiView;
use crate::sandbox::github::scenario::{Phase, check_phase, status_phase};
use crate::sandbox::github::{Commit, State};

use super::payload::{check_run_json, sim_now, user_json, wall, workflow_run_json};

/// The check runs of `c` that have appeared by now, in script order, as (index, phase).
pub(super) fn appeared(st: &State, c: &Commit) -> Vec<(usize, Phase)> {
    let t = sim_now(st, c);
    c.scenario
        .checks
        .iter()
        .enumerate()
        .map(|(i, s)| (i, check_phase(s, t)))
        .filter(|(_, p)| *p != Phase::NotYet)
        .collect()
}

/// The newest run of each name (a re-run supersedes the earlier one), in script order.
pub(super) fn latest(c: &Commit, runs: Vec<(usize, Phase)>) -> Vec<(usize, Phase)> {
    let mut keep: Vec<(usize, Phase)> = Vec::new();
    for (i, p) in runs {
        let name = &c.scenario.checks[i].name;
        keep.retain(|(k, _)| &c.scenario.checks[*k].name != name);
        keep.push((i, p));
    }
    keep.sort_by_key(|(i, _)| *i);
    keep
}

/// The latest status of each context. A status is immutable on GitHub: a new state is a new
/// status, so `created_at` and `updated_at` are both when the current state was posted.
pub(super) fn statuses_json(base: &str, st: &State, c: &Commit) -> Vec<Json> {
    let t = sim_now(st, c);
    let api = format!("{base}/repos/{}/{}", st.owner, st.repo);
    c.scenario
        .statuses
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let (state, posted) = match status_phase(s, t) {
                Phase::NotYet => return None,
                Phase::Completed => (s.outcome.as_str(), s.start_at + s.run_for),
                Phase::Queued | Phase::InProgress => ("pending", s.start_at),
            };
            let id = c.first_id + (c.scenario.checks.len() + i) as u64;
            let posted = wall(st, c, posted).to_string();
            Some(json!({
                "url": format!("{api}/statuses/{}", c.sha),
                "avatar_url": "https://avatars.githubusercontent.com/oa/4808451?v=4",
                "id": id,
                "node_id": format!("SC_{id}"),
                "state": state,
                "description": format!("{} is {state}", s.context),
                "target_url": format!("{base}/ci/{}/{}", s.context, &c.sha[..7]),
                "context": s.context,
                "created_at": posted,
                "updated_at": posted,
                "creator": user_json(base, "ci-bot", 1001),
            }))
        })
        .collect()
}

/// Everything REST would list for the commit `full` (a full SHA), for GraphQL to answer from.
pub(super) fn view(base: &str, st: &State, full: &str) -> Option<CiView> {
    let c = st.commits.get(full)?;
    let check_runs = latest(c, appeared(st, c))
        .into_iter()
        .map(|(i, p)| check_run_json(base, st, c, i, p))
        .collect();
    Some(CiView {
        check_runs,
        statuses: statuses_json(base, st, c),
        workflow_runs: vec![workflow_run_json(base, st, c)],
    })
}
