//! The REST side of the sandbox: routes, payloads, entity tags, rate limits and pagination.
// Handlers answer with a `Response` either way; boxing the refusal would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::scenario::{Phase, check_phase, status_phase};
use super::{Commit, Shared, State, ThrottleKind, graphql};

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
    let t = sim_now(&st, c);
    let mut runs: Vec<(usize, Phase)> = c
        .scenario
        .checks
        .iter()
        .enumerate()
        .map(|(i, s)| (i, check_phase(s, t)))
        .filter(|(_, p)| *p != Phase::NotYet)
        .collect();
    if let Some(name) = query.get("check_name") {
        runs.retain(|(i, _)| &c.scenario.checks[*i].name == name);
    }
    if let Some(status) = query.get("status") {
        runs.retain(|(_, p)| phase_str(*p) == status);
    }
    if query.get("filter").map_or("latest", String::as_str) == "latest" {
        // The newest run of each name (a re-run supersedes the earlier one).
        let mut keep: Vec<(usize, Phase)> = Vec::new();
        for (i, p) in runs {
            let name = &c.scenario.checks[i].name;
            keep.retain(|(k, _)| &c.scenario.checks[*k].name != name);
            keep.push((i, p));
        }
        keep.sort_by_key(|(i, _)| *i);
        runs = keep;
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
    let t = sim_now(&st, c);
    let api = format!("{}/repos/{}/{}", sh.base_url, st.owner, st.repo);
    let all: Vec<Json> = c
        .scenario
        .statuses
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let phase = status_phase(s, t);
            let (state, updated) = match phase {
                Phase::NotYet => return None,
                Phase::Completed => (s.outcome.as_str(), s.start_at + s.run_for),
                Phase::Queued | Phase::InProgress => ("pending", s.start_at),
            };
            let id = c.first_id + (c.scenario.checks.len() + i) as u64;
            Some(json!({
                "url": format!("{api}/statuses/{}", c.sha),
                "avatar_url": "https://avatars.githubusercontent.com/oa/4808451?v=4",
                "id": id,
                "node_id": format!("SC_{id}"),
                "state": state,
                "description": format!("{} is {state}", s.context),
                "target_url": format!("{}/ci/{}/{}", sh.base_url, s.context, &c.sha[..7]),
                "context": s.context,
                "created_at": wall(&st, c, s.start_at).to_string(),
                "updated_at": wall(&st, c, updated).to_string(),
                "creator": user_json(&sh.base_url, "ci-bot", 1001),
            }))
        })
        .collect();
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
    let rate = graphql::RateInfo {
        limit: 5000,
        remaining: 5000u64.saturating_sub(st.stats.graphql),
        used: st.stats.graphql,
        reset_at: window_reset(&st),
    };
    let out = graphql::execute(&st.org, &request, rate);
    (StatusCode::OK, axum::Json(out)).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

// ---- payloads ------------------------------------------------------------------------------

fn check_run_json(base: &str, st: &State, c: &Commit, i: usize, phase: Phase) -> Json {
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

fn workflow_run_json(base: &str, st: &State, c: &Commit) -> Json {
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
                super::Conclusion::Failure
                    | super::Conclusion::Cancelled
                    | super::Conclusion::TimedOut
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
            "tree_id": super::full_sha(&format!("7{}", &c.sha[..6])),
            "message": c.scenario.message,
            "timestamp": created,
            "author": author,
            "committer": author,
        },
        "repository": repo_json(base, st),
        "head_repository": repo_json(base, st),
    })
}

fn user_json(base: &str, login: &str, id: u64) -> Json {
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

fn repo_json(base: &str, st: &State) -> Json {
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

fn phase_str(p: Phase) -> &'static str {
    match p {
        Phase::NotYet | Phase::Queued => "queued",
        Phase::InProgress => "in_progress",
        Phase::Completed => "completed",
    }
}

// ---- time ----------------------------------------------------------------------------------

/// Simulated seconds since the commit's CI began.
fn sim_now(st: &State, c: &Commit) -> Duration {
    let real = Timestamp::now()
        .duration_since(c.added_at)
        .as_secs_f64()
        .max(0.0);
    Duration::from_secs_f64((c.base_elapsed + real * st.speed).max(0.0))
}

/// The wall-clock time of a simulated instant, to whole seconds (as GitHub prints them).
fn wall(st: &State, c: &Commit, t: Duration) -> Timestamp {
    let scale = if st.speed > 0.0 { st.speed } else { 1.0 };
    let offset = (t.as_secs_f64() - c.base_elapsed) / scale;
    #[allow(clippy::cast_possible_truncation)]
    let secs = c.added_at.as_second() + offset.floor() as i64;
    Timestamp::from_second(secs).unwrap_or(c.added_at)
}

// ---- admission, rate limits, ETags ---------------------------------------------------------

fn authorise(st: &State, headers: &HeaderMap) -> Result<(), Response> {
    let Some(want) = &st.token else {
        return Ok(());
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")
        })
        .map(|(_, t)| t.trim());
    if given == Some(want.as_str()) {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, "Bad credentials"))
    }
}

fn window_reset(st: &State) -> Timestamp {
    Timestamp::from_second(st.window_start.as_second() + 3600).unwrap_or(st.window_start)
}

fn reset_epoch(st: &State) -> i64 {
    window_reset(st).as_second()
}

fn roll_window(st: &mut State) {
    if Timestamp::now() >= window_reset(st) {
        st.window_start = Timestamp::now();
        st.stats.rate_used = 0;
    }
}

/// Counts the request, checks credentials, the throttle and the primary limit.
fn admit(st: &mut State, headers: &HeaderMap) -> Result<(), Response> {
    st.stats.requests += 1;
    authorise(st, headers)?;
    roll_window(st);
    let now = Timestamp::now();
    if let Some((t, until)) = st.throttle {
        if now < until {
            st.stats.throttled += 1;
            let status = StatusCode::from_u16(t.status).unwrap_or(StatusCode::FORBIDDEN);
            let wait_s = until.duration_since(now).as_secs_f64().ceil().max(1.0);
            let mut h = HeaderMap::new();
            let message = match t.kind {
                ThrottleKind::Primary => {
                    put(&mut h, "x-ratelimit-limit", st.limit.to_string());
                    put(&mut h, "x-ratelimit-remaining", "0");
                    put(&mut h, "x-ratelimit-used", st.limit.to_string());
                    put(&mut h, "x-ratelimit-resource", "core");
                    let reset = until.as_second() + i64::from(until.subsec_nanosecond() > 0);
                    put(&mut h, "x-ratelimit-reset", reset.to_string());
                    "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID."
                }
                ThrottleKind::Secondary => {
                    put_rate_headers(&mut h, st);
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    put(&mut h, "retry-after", (wait_s as u64).to_string());
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                }
            };
            return Err((
                status,
                h,
                axum::Json(json!({ "message": message, "documentation_url": RATE_DOC })),
            )
                .into_response());
        }
        st.throttle = None;
    }
    if st.stats.rate_used >= st.limit {
        st.stats.throttled += 1;
        let mut h = HeaderMap::new();
        put_rate_headers(&mut h, st);
        return Err((
            StatusCode::FORBIDDEN,
            h,
            axum::Json(json!({ "message": "API rate limit exceeded for user ID 1.", "documentation_url": RATE_DOC })),
        )
            .into_response());
    }
    Ok(())
}

fn repo_known(st: &State, owner: &str, repo: &str) -> Result<(), Response> {
    if owner.eq_ignore_ascii_case(&st.owner) && repo.eq_ignore_ascii_case(&st.repo) {
        Ok(())
    } else {
        Err(error(StatusCode::NOT_FOUND, "Not Found"))
    }
}

/// A full or unique short SHA; GitHub answers 422 for one it does not know.
fn resolve<'a>(st: &'a State, reference: &str) -> Result<&'a Commit, Response> {
    let r = reference.to_ascii_lowercase();
    let unknown = || {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {reference}"),
        )
    };
    if r.len() < 4 || !r.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unknown());
    }
    let mut found = st.commits.values().filter(|c| c.sha.starts_with(&r));
    match (found.next(), found.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(unknown()),
    }
}

fn put(h: &mut HeaderMap, name: &'static str, value: impl AsRef<str>) {
    if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
        h.insert(HeaderName::from_static(name), v);
    }
}

fn put_rate_headers(h: &mut HeaderMap, st: &State) {
    put(h, "x-ratelimit-limit", st.limit.to_string());
    put(
        h,
        "x-ratelimit-remaining",
        st.limit.saturating_sub(st.stats.rate_used).to_string(),
    );
    put(h, "x-ratelimit-used", st.stats.rate_used.to_string());
    put(h, "x-ratelimit-reset", reset_epoch(st).to_string());
    put(h, "x-ratelimit-resource", "core");
}

/// 200 with an `ETag`, or 304 when the client already has it (free, as on GitHub).
fn finish(st: &mut State, headers: &HeaderMap, body: &Json, link: Option<String>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex = super::hex(&digest[..16]);
    let etag = format!("W/\"{hex}\"");
    let matches = headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').map(str::trim).any(|t| {
                t == "*" || t == etag || t.trim_start_matches("W/") == etag.trim_start_matches("W/")
            })
        });
    let mut h = HeaderMap::new();
    put(&mut h, "etag", etag);
    put(&mut h, "cache-control", "private, max-age=60, s-maxage=60");
    put(&mut h, "vary", "Accept, Authorization, Cookie");
    if let Some(link) = link {
        put(&mut h, "link", link);
    }
    if matches {
        st.stats.not_modified += 1;
        put_rate_headers(&mut h, st);
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    st.stats.rate_used += 1;
    put_rate_headers(&mut h, st);
    put(&mut h, "content-type", "application/json; charset=utf-8");
    (StatusCode::OK, h, Body::from(bytes)).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        ),
    )
        .into_response()
}

/// The slice of `total` items one page holds, and its `Link` header.
fn paginate(
    base: &str,
    uri: &Uri,
    q: &BTreeMap<String, String>,
    total: usize,
) -> (std::ops::Range<usize>, Option<String>) {
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = q
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = total.div_ceil(per_page).max(1);
    let start = ((page - 1) * per_page).min(total);
    let end = (start + per_page).min(total);
    let url_for = |p: usize| {
        let mut params = q.clone();
        params.insert("per_page".to_owned(), per_page.to_string());
        params.insert("page".to_owned(), p.to_string());
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{base}{}?{}", uri.path(), query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", url_for(page - 1)));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", url_for(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", url_for(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", url_for(1)));
    }
    (start..end, (!links.is_empty()).then(|| links.join(", ")))
}
