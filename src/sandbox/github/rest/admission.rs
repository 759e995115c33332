//! Before and after a handler: token checks, the rate-limit window and its headers, ETags
//! and 304s, errors in GitHub's shape, and Link-header pagination.
// Refusals are whole `Response`s, as the handlers return; boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::sandbox::github::{Commit, State, ThrottleKind};

use super::RATE_DOC;

pub(super) fn authorise(st: &State, headers: &HeaderMap) -> Result<(), Response> {
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

pub(super) fn window_reset(st: &State) -> Timestamp {
    Timestamp::from_second(st.window_start.as_second() + 3600).unwrap_or(st.window_start)
}

pub(super) fn reset_epoch(st: &State) -> i64 {
    window_reset(st).as_second()
}

pub(super) fn roll_window(st: &mut State) {
    if Timestamp::now() >= window_reset(st) {
        st.window_start = Timestamp::now();
        st.stats.rate_used = 0;
        st.graphql_used = 0;
    }
}

/// Counts the request, checks credentials, the throttle and the primary limit.
pub(super) fn admit(st: &mut State, headers: &HeaderMap) -> Result<(), Response> {
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

pub(super) fn repo_known(st: &State, owner: &str, repo: &str) -> Result<(), Response> {
    if owner.eq_ignore_ascii_case(&st.owner) && repo.eq_ignore_ascii_case(&st.repo) {
        Ok(())
    } else {
        Err(error(StatusCode::NOT_FOUND, "Not Found"))
    }
}

/// A full or unique short SHA; GitHub answers 422 for one it does not know.
pub(super) fn resolve<'a>(st: &'a State, reference: &str) -> Result<&'a Commit, Response> {
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

pub(super) fn put(h: &mut HeaderMap, name: &'static str, value: impl AsRef<str>) {
    if let Ok(v) = HeaderValue::from_str(value.as_ref()) {
        h.insert(HeaderName::from_static(name), v);
    }
}

pub(super) fn put_rate_headers(h: &mut HeaderMap, st: &State) {
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
pub(super) fn finish(
    st: &mut State,
    headers: &HeaderMap,
    body: &Json,
    link: Option<String>,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex = super::super::hex(&digest[..16]);
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

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        ),
    )
        .into_response()
}

/// The slice of `total` items one page holds, and its `Link` header.
pub(super) fn paginate(
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
