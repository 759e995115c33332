//! The REST side of the sandbox: routes, payloads, entity tags, rate limits and pagination.
// Handlers answer with a `Response` either way; boxing the refusal would buy nothing.
#![allow(clippy::result_large_err)]

mod admission;
mod ci;
mod compare;
mod payload;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

use super::{Shared, graphql};

use admission::{
    admit, authorise, error, finish, paginate, put_rate_headers, repo_known, reset_epoch, resolve,
    roll_window, window_reset,
};
use payload::{check_run_json, phase_str, repo_json, wall, workflow_run_json};

type Shd = AxState<Arc<Shared>>;
type Params = Query<BTreeMap<String, String>>;

const RATE_DOC: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/repos/{owner}/{repo}/commits/{ref}", get(commit))
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            get(check_runs),
        )
        .route(
            "/repos/{owner}/{repo}/commits/{ref}/status",
            get(combined_status),
        )
        .route("/repos/{owner}/{repo}/actions/runs", get(workflow_runs))
        .route(
            "/repos/{owner}/{repo}/compare/{basehead}",
            get(compare_commits),
        )
        .route("/rate_limit", get(rate_limit))
        .route("/graphql", post(graphql_endpoint))
        .fallback(not_found)
        .with_state(shared)
}

// ---- handlers ------------------------------------------------------------------------------

async fn commit(
    AxState(sh): Shd,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = admit(&mut st, &headers).and_then(|()| repo_known(&st, &owner, &repo)) {
        return resp;
    }
    // A commit of the source history answers with its author, message and parents.
    if let Some(h) = st.history.resolve(&reference) {
        let body = compare::commit_json(&sh.base_url, &st, h);
        return finish(&mut st, &headers, &body, None);
    }
    let c = match resolve(&st, &reference) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let date = wall(&st, c, Duration::ZERO).to_string();
    let api = format!("{}/repos/{}/{}", sh.base_url, st.owner, st.repo);
    let body = json!({
        "sha": c.sha,
        "node_id": format!("C_{}", &c.sha[..12]),
        "commit": {
            "author": { "name": "Alice Liu", "email": "alice@example.com", "date": date },
            "committer": { "name": "GitHub", "email": "noreply@github.com", "date": date },
            "message": c.scenario.message,
            "tree": { "sha": super::full_sha(&format!("7{}", &c.sha[..6])), "url": format!("{api}/git/trees/{}", c.sha) },
            "url": format!("{api}/git/commits/{}", c.sha),
            "comment_count": 0,
        },
        "url": format!("{api}/commits/{}", c.sha),
        "html_url": format!("{}/{}/{}/commit/{}", sh.base_url, st.owner, st.repo, c.sha),
        "author": null,
        "committer": null,
        "parents": [],
    });
    finish(&mut st, &headers, &body, None)
}

async fn check_runs(
    AxState(sh): Shd,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    Query(query): Params,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = admit(&mut st, &headers).and_then(|()| repo_known(&st, &owner, &repo)) {
        return resp;
    }
    st.stats.check_run_pages += 1;
    let c = match resolve(&st, &reference) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let mut runs = ci::appeared(&st, c);
    if let Some(name) = query.get("check_name") {
        runs.retain(|(i, _)| &c.scenario.checks[*i].name == name);
    }
    if let Some(status) = query.get("status") {
        runs.retain(|(_, p)| phase_str(*p) == status);
    }
    if query.get("filter").map_or("latest", String::as_str) == "latest" {
        runs = ci::latest(c, runs);
    }
    let total = runs.len();
    let (range, link) = paginate(&sh.base_url, &uri, &query, total);
    let items: Vec<Json> = runs[range]
        .iter()
        .map(|(i, p)| check_run_json(&sh.base_url, &st, c, *i, *p))
        .collect();
    let body = json!({ "total_count": total, "check_runs": items });
    finish(&mut st, &headers, &body, link)
}

async fn combined_status(
    AxState(sh): Shd,
    Path((owner, repo, reference)): Path<(String, String, String)>,
    Query(query): Params,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = admit(&mut st, &headers).and_then(|()| repo_known(&st, &owner, &repo)) {
        return resp;
    }
    let c = match resolve(&st, &reference) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let api = format!("{}/repos/{}/{}", sh.base_url, st.owner, st.repo);
    let all = ci::statuses_json(&sh.base_url, &st, c);
    let states: Vec<&str> = all.iter().filter_map(|s| s["state"].as_str()).collect();
    let combined = if states.iter().any(|s| matches!(*s, "failure" | "error")) {
        "failure"
    } else if states.is_empty() || states.contains(&"pending") {
        "pending"
    } else {
        "success"
    };
    let total = all.len();
    let (range, link) = paginate(&sh.base_url, &uri, &query, total);
    let body = json!({
        "state": combined,
        "statuses": all[range].to_vec(),
        "sha": c.sha,
        "total_count": total,
        "repository": repo_json(&sh.base_url, &st),
        "commit_url": format!("{api}/commits/{}", c.sha),
        "url": format!("{api}/commits/{}/status", c.sha),
    });
    finish(&mut st, &headers, &body, link)
}

async fn workflow_runs(
    AxState(sh): Shd,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Params,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = admit(&mut st, &headers).and_then(|()| repo_known(&st, &owner, &repo)) {
        return resp;
    }
    let mut runs: Vec<Json> = st
        .commits
        .values()
        .rev()
        .filter(|c| {
            query
                .get("head_sha")
                .is_none_or(|h| h.eq_ignore_ascii_case(&c.sha))
        })
        .map(|c| workflow_run_json(&sh.base_url, &st, c))
        .collect();
    if let Some(want) = query.get("status") {
        runs.retain(|r| r["status"] == **want || r["conclusion"] == **want);
    }
    if let Some(branch) = query.get("branch") {
        runs.retain(|r| r["head_branch"] == **branch);
    }
    if let Some(event) = query.get("event") {
        runs.retain(|r| r["event"] == **event);
    }
    let total = runs.len();
    let (range, link) = paginate(&sh.base_url, &uri, &query, total);
    let body = json!({ "total_count": total, "workflow_runs": runs[range].to_vec() });
    finish(&mut st, &headers, &body, link)
}

async fn compare_commits(
    AxState(sh): Shd,
    Path((owner, repo, basehead)): Path<(String, String, String)>,
    Query(query): Params,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    st.stats.compare_pages += 1;
    if let Err(resp) = admit(&mut st, &headers).and_then(|()| repo_known(&st, &owner, &repo)) {
        return resp;
    }
    match compare::answer(&sh.base_url, &st, &basehead, &query, &uri) {
        Ok((body, link)) => finish(&mut st, &headers, &body, link),
        Err(resp) => resp,
    }
}

async fn rate_limit(AxState(sh): Shd, headers: HeaderMap) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = authorise(&st, &headers) {
        return resp;
    }
    roll_window(&mut st);
    // GitHub: "Accessing this endpoint does not count against your REST API rate limit."
    let core = json!({
        "limit": st.limit,
        "used": st.stats.rate_used,
        "remaining": st.limit.saturating_sub(st.stats.rate_used),
        "reset": reset_epoch(&st),
    });
    let body = json!({ "resources": { "core": core.clone() }, "rate": core });
    let mut h = HeaderMap::new();
    put_rate_headers(&mut h, &st);
    (StatusCode::OK, h, axum::Json(body)).into_response()
}

async fn graphql_endpoint(
    AxState(sh): Shd,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut st = sh.lock();
    if let Err(resp) = authorise(&st, &headers) {
        return resp;
    }
    st.stats.graphql += 1;
    let Ok(request) = serde_json::from_slice::<Json>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    if let Some(refused) = graphql_admit(&mut st) {
        return refused;
    }
    // Every query costs a point here (GitHub charges at least one, and a query of 50 aliased
    // commits with one 100-node connection each rounds to one).
    st.graphql_used += 1;
    let rate = graphql_rate(&st);
    let base = sh.base_url.as_str();
    let state: &super::State = &st;
    let ci = |full: &str| ci::view(base, state, full);
    let repo = graphql::RepoView {
        owner: &state.owner,
        name: &state.repo,
        base_url: base,
        history: &state.history,
        ci: &ci,
    };
    let out = graphql::execute(&state.org, &repo, &request, rate);
    let mut h = HeaderMap::new();
    put_graphql_rate_headers(&mut h, rate);
    (StatusCode::OK, h, axum::Json(out)).into_response()
}

fn graphql_rate(st: &super::State) -> graphql::RateInfo {
    graphql::RateInfo {
        limit: st.graphql_limit,
        remaining: st.graphql_limit.saturating_sub(st.graphql_used),
        used: st.graphql_used,
        reset_at: window_reset(st),
    }
}

/// GitHub's GraphQL answers carry the headers of its own rate limit.
fn put_graphql_rate_headers(h: &mut HeaderMap, rate: graphql::RateInfo) {
    admission::put(h, "x-ratelimit-limit", rate.limit.to_string());
    admission::put(h, "x-ratelimit-remaining", rate.remaining.to_string());
    admission::put(h, "x-ratelimit-used", rate.used.to_string());
    admission::put(
        h,
        "x-ratelimit-reset",
        rate.reset_at.as_second().to_string(),
    );
    admission::put(h, "x-ratelimit-resource", "graphql");
}

/// GraphQL's own limits: its points spent (GitHub answers 200 with a `RATE_LIMITED` error),
/// or the GraphQL throttle (primary: the same error until the throttle's end; secondary: 403
/// with `retry-after`).
fn graphql_admit(st: &mut super::State) -> Option<Response> {
    roll_window(st);
    let now = jiff::Timestamp::now();
    let mut rate = graphql_rate(st);
    let throttled = match st.graphql_throttle {
        Some((t, until)) if now < until => Some((t, until)),
        Some(_) => {
            st.graphql_throttle = None;
            None
        }
        None => None,
    };
    if let Some((t, until)) = throttled {
        st.stats.throttled += 1;
        if t.kind == super::ThrottleKind::Secondary {
            let wait_s = until.duration_since(now).as_secs_f64().ceil().max(1.0);
            let status = StatusCode::from_u16(t.status).unwrap_or(StatusCode::FORBIDDEN);
            let mut h = HeaderMap::new();
            put_graphql_rate_headers(&mut h, rate);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            admission::put(&mut h, "retry-after", (wait_s as u64).to_string());
            let body = json!({ "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": RATE_DOC });
            return Some((status, h, axum::Json(body)).into_response());
        }
        rate.remaining = 0;
        rate.reset_at = jiff::Timestamp::from_second(
            until.as_second() + i64::from(until.subsec_nanosecond() > 0),
        )
        .unwrap_or(until);
    } else if rate.remaining > 0 {
        return None;
    } else {
        st.stats.throttled += 1;
    }
    let mut h = HeaderMap::new();
    put_graphql_rate_headers(&mut h, rate);
    let body = json!({ "errors": [ { "type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1." } ] });
    Some((StatusCode::OK, h, axum::Json(body)).into_response())
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}
