//! `GET /repos/{o}/{r}/compare/{base}...{head}` from the seeded source history, shaped like
//! GitHub's `commit-comparison`, with its documented paging rules:
//!
//! - without `per_page` or `page`, at most 250 commits: the newest ones, so the last commit
//!   listed is the newest of the whole comparison;
//! - with either, `per_page` (default 30, at most 100) commits per page, oldest first, and a
//!   `Link` header; the changed files (at most 300) come with page 1 only.
//!
//! `total_commits`, `ahead_by` and `behind_by` always count the whole comparison.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::admission::{error, paginate};
use super::payload::user_json;
use crate::sandbox::github::State;
use crate::sandbox::github::history::{Comparison, HistCommit};

/// Commits GitHub lists when no paging parameter is given.
const UNPAGED_CAP: usize = 250;
/// Changed files GitHub lists at most.
const FILES_CAP: usize = 300;

/// The body of one compare answer (and its `Link` header), or GitHub's 404.
pub(super) fn answer(
    base_url: &str,
    st: &State,
    basehead: &str,
    query: &BTreeMap<String, String>,
    uri: &Uri,
) -> Result<(Json, Option<String>), Response> {
    let not_found = || error(StatusCode::NOT_FOUND, "Not Found");
    let (base_ref, head_ref) = basehead.split_once("...").ok_or_else(not_found)?;
    let base = st.history.resolve(base_ref).ok_or_else(not_found)?;
    let head = st.history.resolve(head_ref).ok_or_else(not_found)?;
    let cmp = st
        .history
        .compare(&base.sha, &head.sha)
        .ok_or_else(not_found)?;
    let Some(merge_base) = cmp.merge_base else {
        return Err(error(
            StatusCode::NOT_FOUND,
            &format!("No common ancestor between {base_ref} and {head_ref}."),
        ));
    };
    let total = cmp.ahead.len();
    let paged = st.compare_paging && (query.contains_key("per_page") || query.contains_key("page"));
    let page_one = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .is_none_or(|p| p <= 1);
    let (listed, link, with_files): (&[&HistCommit], Option<String>, bool) = if paged {
        let (range, link) = paginate(base_url, uri, query, total);
        (&cmp.ahead[range], link, page_one)
    } else {
        (&cmp.ahead[total.saturating_sub(UNPAGED_CAP)..], None, true)
    };
    let status = match (total, cmp.behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let repo_url = format!("{base_url}/{}/{}", st.owner, st.repo);
    let api = format!("{base_url}/repos/{}/{}", st.owner, st.repo);
    let mut body = json!({
        "url": format!("{api}/compare/{basehead}"),
        "html_url": format!("{repo_url}/compare/{basehead}"),
        "permalink_url": format!("{repo_url}/compare/{}:{}...{}:{}", st.owner, &base.sha[..7], st.owner, &head.sha[..7]),
        "diff_url": format!("{repo_url}/compare/{basehead}.diff"),
        "patch_url": format!("{repo_url}/compare/{basehead}.patch"),
        "base_commit": commit_json(base_url, st, base),
        "merge_base_commit": commit_json(base_url, st, merge_base),
        "status": status,
        "ahead_by": total,
        "behind_by": cmp.behind,
        "total_commits": total,
        "commits": listed.iter().map(|c| commit_json(base_url, st, c)).collect::<Vec<_>>(),
    });
    if with_files {
        body["files"] = Json::Array(files_json(base_url, st, &cmp, &head.sha));
    }
    Ok((body, link))
}

/// The files the comparison touches (each once, at most 300), as GitHub's diff entries.
fn files_json(base_url: &str, st: &State, cmp: &Comparison<'_>, head: &str) -> Vec<Json> {
    let names: BTreeSet<&str> = cmp
        .ahead
        .iter()
        .flat_map(|c| c.files.iter().map(String::as_str))
        .collect();
    let repo_url = format!("{base_url}/{}/{}", st.owner, st.repo);
    let api = format!("{base_url}/repos/{}/{}", st.owner, st.repo);
    names
        .into_iter()
        .take(FILES_CAP)
        .enumerate()
        .map(|(i, name)| {
            let touched = cmp
                .ahead
                .iter()
                .filter(|c| c.files.iter().any(|f| f == name))
                .count();
            let (additions, deletions) = (3 * touched + i % 7, touched + i % 3);
            json!({
                "sha": super::super::full_sha(&format!("f{i:06x}")),
                "filename": name,
                "status": "modified",
                "additions": additions,
                "deletions": deletions,
                "changes": additions + deletions,
                "blob_url": format!("{repo_url}/blob/{head}/{name}"),
                "raw_url": format!("{repo_url}/raw/{head}/{name}"),
                "contents_url": format!("{api}/contents/{name}?ref={head}"),
                "patch": format!("@@ -1,{deletions} +1,{additions} @@"),
            })
        })
        .collect()
}

/// One commit as GitHub lists it (compare's `commits`, `GET /commits/{ref}`).
pub(super) fn commit_json(base_url: &str, st: &State, c: &HistCommit) -> Json {
    let api = format!("{base_url}/repos/{}/{}", st.owner, st.repo);
    let repo_url = format!("{base_url}/{}/{}", st.owner, st.repo);
    let date = c.date.to_string();
    let person = json!({ "name": c.author.name, "email": c.author.email, "date": date });
    let user = c.author.login.as_deref().map_or(Json::Null, |login| {
        let mut u = user_json(base_url, login, login_id(login));
        u["type"] = json!(if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        });
        u
    });
    json!({
        "sha": c.sha,
        "node_id": format!("C_{}", &c.sha[..12]),
        "commit": {
            "author": person,
            "committer": { "name": "GitHub", "email": "noreply@github.com", "date": date },
            "message": c.message,
            "tree": { "sha": super::super::full_sha(&format!("7{}", &c.sha[..6])), "url": format!("{api}/git/trees/{}", c.sha) },
            "url": format!("{api}/git/commits/{}", c.sha),
            "comment_count": 0,
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null },
        },
        "url": format!("{api}/commits/{}", c.sha),
        "html_url": format!("{repo_url}/commit/{}", c.sha),
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "author": user,
        "committer": user_json(base_url, "web-flow", 19_864_447),
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{api}/commits/{p}"),
            "html_url": format!("{repo_url}/commit/{p}"),
        })).collect::<Vec<_>>(),
    })
}

/// A stable numeric id for a login.
fn login_id(login: &str) -> u64 {
    login.bytes().fold(7_000_000_u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 90_000_000
        + 1_000_000
}
