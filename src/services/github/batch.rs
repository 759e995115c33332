//! The gates of many commits at once, for the fleet view (hundreds of tags): GraphQL's
//! `Commit.statusCheckRollup` and `Commit.checkSuites`, one query per [`BATCH`] commits, each an
//! alias on `repository.object(expression:)` (which takes short SHAs and answers the full
//! `oid`). REST would cost three requests per commit; a batch costs GitHub about one point.
//!
//! The answers become the same [`CommitCi`] the REST path builds, in the same cache, so
//! [`evaluate`](super::evaluate) and the cockpit's single-commit path agree with the fleet.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};

use super::gates::CommitCi;
use super::payload::{CheckRun, CommitStatus, WorkflowRun};
use super::{Entry, GateReport, GatesService, GithubError, Result, is_full_sha, lock};

/// Commits per query: 50 aliases with a 100-node connection each stay far below GitHub's
/// 500,000-node limit and round to a cost of one point.
pub const BATCH: usize = 50;
/// Contexts (check runs and statuses) read per page; a commit with more is paged.
const CONTEXTS: u32 = 100;
/// Check suites read per commit (each app that reported has one; Actions runs hang off them).
const SUITES: u32 = 20;
/// Pages of contexts followed per commit before we stop (a server that never ends).
const MAX_PAGES: usize = 10;
/// GraphQL points the fleet leaves unspent in each window, so the cockpit's own queries (the
/// pull requests of a promote) still fit when the fleet has read all it could.
pub const GRAPHQL_RESERVE: u64 = 100;
/// Without a reset time from GitHub, a limit is waited out this long.
const DEFAULT_WAIT: SignedDuration = SignedDuration::from_secs(60);

/// One SHA's answer of [`GatesService::reports`]: the SHA as asked, and its report.
pub type ShaReport = (String, Result<GateReport>);

impl GatesService {
    /// The gates of many commits (full or short SHAs) against the same `required` checks, in
    /// the order asked (duplicates answered each time, fetched once).
    ///
    /// Commits in the cache that need no refresh (settled, or fetched within the refresh
    /// spacing) cost nothing, as with [`report`](Self::report); the rest are read with one
    /// GraphQL query per [`BATCH`] commits, one query after the other. A SHA GitHub does not
    /// know is [`GithubError::UnknownCommit`] for that SHA only. When GraphQL's points run low
    /// (fewer than [`GRAPHQL_RESERVE`] left) or GitHub refuses with a rate limit, no further
    /// query is sent: commits with cached gates come back with `rate_limited_until` set, the
    /// others as [`GithubError::RateLimited`]. Any other failure of a query (GitHub down, a
    /// timeout) is that error for every commit it and the queries after it would have read.
    pub async fn reports(&self, shas: &[String], required: &[String]) -> Vec<ShaReport> {
        let mut answers: Vec<Option<Result<GateReport>>> = shas.iter().map(|_| None).collect();
        // The commits to read, by the expression sent (each once), and who asked for each.
        let mut wanted: Vec<String> = Vec::new();
        let mut askers: HashMap<String, Vec<usize>> = HashMap::new();
        let now = Timestamp::now();
        for (i, raw) in shas.iter().enumerate() {
            let sha = raw.trim().to_ascii_lowercase();
            // Only hex goes into the query text (and nothing else names a commit here).
            if !(4..=40).contains(&sha.len()) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                answers[i] = Some(Err(self.unknown(&sha)));
                continue;
            }
            let full = self.known_full(&sha);
            if let Some((ci, fetched_at)) = full.as_deref().and_then(|f| self.fresh(f, now)) {
                answers[i] = Some(Ok(self.finish(&ci, required, fetched_at, None)));
                continue;
            }
            let asked = askers.entry(sha.clone()).or_default();
            if asked.is_empty() {
                wanted.push(sha);
            }
            asked.push(i);
        }

        let mut stop: Option<Stop> = self.low_points(Timestamp::now()).map(Stop::Limited);
        for chunk in wanted.chunks(BATCH) {
            if stop.is_some() {
                break;
            }
            match self.read_batch(chunk).await {
                Ok(read) => {
                    for (sha, commit) in chunk.iter().zip(read.commits) {
                        let report = match commit {
                            Read::Commit(ci) => Ok(self.remember_batched(sha, ci, required)),
                            Read::Unknown => Err(()),
                            // Left for the limit's answer below, and not cached half read.
                            Read::Unfinished => continue,
                        };
                        for &i in askers.get(sha).into_iter().flatten() {
                            answers[i] = Some(match &report {
                                Ok(r) => Ok(r.clone()),
                                Err(()) => Err(self.unknown(sha)),
                            });
                        }
                    }
                    stop = read.low.map(Stop::Limited);
                }
                Err(GithubError::RateLimited { until }) => stop = Some(Stop::Limited(until)),
                Err(e) => stop = Some(Stop::Failed(Arc::new(e))),
            }
        }

        // What was not read: the last known gates under a limit, else the reason.
        for sha in &wanted {
            for &i in askers.get(sha).into_iter().flatten() {
                if answers[i].is_some() {
                    continue;
                }
                answers[i] = Some(match &stop {
                    Some(Stop::Limited(until)) => {
                        let cached = self.known_full(sha).and_then(|full| {
                            lock(&self.inner.cache)
                                .get(&full)
                                .map(|e| (e.ci.clone(), e.fetched_at))
                        });
                        match cached {
                            Some((ci, at)) => Ok(self.finish(&ci, required, at, Some(*until))),
                            None => Err(GithubError::RateLimited { until: *until }),
                        }
                    }
                    Some(Stop::Failed(e)) => Err(shared(e)),
                    // Every batch was read: an answer exists for every asker.
                    None => Err(self.unknown(sha)),
                });
            }
        }
        shas.iter()
            .zip(answers)
            .map(|(raw, a)| {
                let a = a.unwrap_or_else(|| Err(self.unknown(raw)));
                (raw.clone(), a)
            })
            .collect()
    }

    /// [`reports`](Self::reports) for image tags (what the fleet's cells hold), keyed by tag
    /// in the order given: a tag that names no commit is [`GithubError::BadTag`] (see
    /// [`sha_for_tag`](Self::sha_for_tag)), the others are read as their commits.
    pub async fn reports_for_tags(&self, tags: &[String], required: &[String]) -> Vec<ShaReport> {
        let mapped: Vec<Result<String>> = tags.iter().map(|t| self.sha_for_tag(t)).collect();
        let shas: Vec<String> = mapped
            .iter()
            .filter_map(|m| m.as_ref().ok())
            .cloned()
            .collect();
        let mut read = self.reports(&shas, required).await.into_iter();
        tags.iter()
            .zip(mapped)
            .map(|(tag, m)| {
                let report = match m {
                    Ok(_) => read
                        .next()
                        .map_or_else(|| Err(self.unknown(tag)), |(_, r)| r),
                    Err(e) => Err(e),
                };
                (tag.clone(), report)
            })
            .collect()
    }

    /// The full SHA of `sha` when it is one or was resolved before (no network).
    fn known_full(&self, sha: &str) -> Option<String> {
        if is_full_sha(sha) {
            Some(sha.to_owned())
        } else {
            lock(&self.inner.full_shas).get(sha).cloned()
        }
    }

    /// The cached gates of `full` when no refresh is due (the rule of `report`).
    fn fresh(&self, full: &str, now: Timestamp) -> Option<(CommitCi, Timestamp)> {
        lock(&self.inner.cache).get(full).and_then(|e| {
            let due = e.stale || (!e.ci.settled() && now >= e.fetched_at + self.inner.min_refresh);
            (!due).then(|| (e.ci.clone(), e.fetched_at))
        })
    }

    fn unknown(&self, sha: &str) -> GithubError {
        GithubError::UnknownCommit {
            sha: sha.to_owned(),
            owner: self.inner.owner.clone(),
            repo: self.inner.repo.clone(),
        }
    }

    /// Caches a commit read by GraphQL (and its short SHA's resolution) and reports it.
    fn remember_batched(&self, asked: &str, ci: CommitCi, required: &[String]) -> GateReport {
        let fetched_at = Timestamp::now();
        let full = ci.sha.clone();
        if asked != full {
            lock(&self.inner.full_shas).insert(asked.to_owned(), full.clone());
        }
        if ci.settled() {
            // The REST path will not ask again either: its entity tags would only take room.
            self.inner.rest.forget(|u| u.contains(&full));
        }
        let report = self.finish(&ci, required, fetched_at, None);
        lock(&self.inner.cache).insert(
            full,
            Entry {
                ci,
                fetched_at,
                stale: false,
            },
        );
        report
    }

    /// Until when GraphQL should be left alone, judged from what GitHub last said.
    fn low_points(&self, now: Timestamp) -> Option<Timestamp> {
        let rate = self.inner.rest.graphql_rate();
        if let Some(until) = rate.blocked_at(now) {
            return Some(until);
        }
        let reset = rate.reset.filter(|r| *r > now)?;
        (rate.remaining? < GRAPHQL_RESERVE + 1).then_some(reset)
    }

    /// Reads the CI of `shas` (one query, plus one per further page of contexts that some
    /// commit has): for each SHA its commit, unknown, or unfinished.
    async fn read_batch(&self, shas: &[String]) -> Result<BatchRead> {
        let vars = json!({ "owner": self.inner.owner, "name": self.inner.repo });
        let data = self.inner.rest.graphql(&query(shas), vars.clone()).await?;
        let mut low = low_after(&data["rateLimit"]);
        let repository = &data["repository"];
        let mut commits: Vec<Read> = Vec::with_capacity(shas.len());
        // (index into `commits`, cursor) of the commits whose contexts go on.
        let mut more: Vec<(usize, String)> = Vec::new();
        for i in 0..shas.len() {
            let node = &repository[format!("c{i}")];
            let Some(oid) = node["oid"].as_str() else {
                commits.push(Read::Unknown);
                continue;
            };
            let mut ci = CommitCi {
                sha: oid.to_ascii_lowercase(),
                ..CommitCi::default()
            };
            let contexts = &node["statusCheckRollup"]["contexts"];
            add_contexts(&mut ci, contexts);
            ci.workflow_runs = node["checkSuites"]["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(workflow_run)
                .collect();
            if let Some(cursor) = next_cursor(contexts) {
                more.push((i, cursor));
            }
            commits.push(Read::Commit(ci));
        }
        let mut pages = 1;
        while !more.is_empty() && pages < MAX_PAGES && low.is_none() {
            pages += 1;
            let data = self
                .inner
                .rest
                .graphql(&more_query(shas, &more), vars.clone())
                .await?;
            low = low_after(&data["rateLimit"]);
            let mut next = Vec::new();
            for (k, (i, _)) in more.iter().enumerate() {
                let contexts =
                    &data["repository"][format!("m{k}")]["statusCheckRollup"]["contexts"];
                if let Some(Read::Commit(ci)) = commits.get_mut(*i) {
                    add_contexts(ci, contexts);
                }
                if let Some(cursor) = next_cursor(contexts) {
                    next.push((*i, cursor));
                }
            }
            more = next;
        }
        // Points ran out mid-way: a commit missing some contexts would look settled with
        // gates missing, and stay so. (Past MAX_PAGES, a thousand contexts are kept as read.)
        if low.is_some() {
            for (i, _) in &more {
                if let Some(c) = commits.get_mut(*i) {
                    *c = Read::Unfinished;
                }
            }
        }
        Ok(BatchRead { commits, low })
    }
}

/// Why reading stopped before the end.
enum Stop {
    Limited(Timestamp),
    Failed(Arc<GithubError>),
}

/// One commit of a batch.
enum Read {
    Commit(CommitCi),
    /// GitHub has no such commit.
    Unknown,
    /// Some of its contexts were not read (the points ran low).
    Unfinished,
}

struct BatchRead {
    /// In the order asked.
    commits: Vec<Read>,
    /// GraphQL's points ran low: the reset to wait for.
    low: Option<Timestamp>,
}

/// The reset to wait for when `rateLimit { cost remaining resetAt }` leaves less than the
/// reserve plus one more query of the same cost.
fn low_after(rate: &Json) -> Option<Timestamp> {
    let remaining = rate["remaining"].as_u64()?;
    let cost = rate["cost"].as_u64().unwrap_or(1);
    if remaining >= GRAPHQL_RESERVE + cost {
        return None;
    }
    let now = Timestamp::now();
    Some(
        timestamp(&rate["resetAt"])
            .filter(|t| *t > now)
            .unwrap_or(now + DEFAULT_WAIT),
    )
}

/// What every commit is asked: its full SHA, its contexts (check runs and statuses, their
/// first page) and its check suites (the Actions workflow run of each).
const COMMIT_FRAGMENT: &str = "fragment ci on Commit {\n  oid\n  statusCheckRollup { contexts(first: CONTEXTS) { ...contexts } }\n  checkSuites(first: SUITES) { nodes { status conclusion workflowRun { databaseId url createdAt updatedAt workflow { name } } } }\n}\n";
const CONTEXTS_FRAGMENT: &str = "fragment contexts on StatusCheckRollupContextConnection {\n  pageInfo { hasNextPage endCursor }\n  nodes {\n    __typename\n    ... on CheckRun { databaseId name status conclusion startedAt completedAt detailsUrl url }\n    ... on StatusContext { context state targetUrl createdAt }\n  }\n}\n";

fn header(q: &mut String) {
    q.push_str("query($owner: String!, $name: String!) {\n  rateLimit { cost remaining resetAt }\n  repository(owner: $owner, name: $name) {\n");
}

/// The query for `shas` (hex only, checked by the caller): aliases `c0`, `c1`, … in order.
pub(super) fn query(shas: &[String]) -> String {
    let mut q = String::new();
    header(&mut q);
    for (i, sha) in shas.iter().enumerate() {
        let _ = writeln!(q, "    c{i}: object(expression: \"{sha}\") {{ ...ci }}");
    }
    q.push_str("  }\n}\n");
    q.push_str(
        &COMMIT_FRAGMENT
            .replace("CONTEXTS", &CONTEXTS.to_string())
            .replace("SUITES", &SUITES.to_string()),
    );
    q.push_str(CONTEXTS_FRAGMENT);
    q
}

/// The next page of contexts for some of `shas`: aliases `m0`, `m1`, … in the order of `more`.
fn more_query(shas: &[String], more: &[(usize, String)]) -> String {
    let mut q = String::new();
    header(&mut q);
    for (k, (i, cursor)) in more.iter().enumerate() {
        // A JSON string literal is a valid GraphQL one: the cursor is escaped either way.
        let cursor = Json::String(cursor.clone()).to_string();
        let _ = writeln!(
            q,
            "    m{k}: object(expression: \"{}\") {{ ... on Commit {{ statusCheckRollup {{ contexts(first: {CONTEXTS}, after: {cursor}) {{ ...contexts }} }} }} }}",
            shas[*i]
        );
    }
    q.push_str("  }\n}\n");
    q.push_str(CONTEXTS_FRAGMENT);
    q
}

fn next_cursor(contexts: &Json) -> Option<String> {
    let info = &contexts["pageInfo"];
    if info["hasNextPage"].as_bool() != Some(true) {
        return None;
    }
    info["endCursor"].as_str().map(str::to_owned)
}

fn timestamp(v: &Json) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

fn text(v: &Json) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// GraphQL's enum spelling back to REST's (`IN_PROGRESS` → `in_progress`), which `evaluate`
/// reads.
fn lower(v: &Json) -> Option<String> {
    v.as_str().map(str::to_ascii_lowercase)
}

fn add_contexts(ci: &mut CommitCi, contexts: &Json) {
    for node in contexts["nodes"].as_array().into_iter().flatten() {
        match node["__typename"].as_str() {
            Some("CheckRun") => {
                let (Some(name), Some(status)) = (text(&node["name"]), lower(&node["status"]))
                else {
                    continue;
                };
                ci.check_runs.push(CheckRun {
                    id: node["databaseId"].as_u64().unwrap_or_default(),
                    name,
                    status,
                    conclusion: lower(&node["conclusion"]),
                    started_at: timestamp(&node["startedAt"]),
                    completed_at: timestamp(&node["completedAt"]),
                    html_url: text(&node["url"]),
                    details_url: text(&node["detailsUrl"]),
                });
            }
            Some("StatusContext") => {
                let Some(state) = lower(&node["state"]) else {
                    continue;
                };
                // A status is immutable (a new state is a new status): its creation is when
                // the current state was posted, what REST calls both created and updated.
                let posted = timestamp(&node["createdAt"]);
                ci.statuses.push(CommitStatus {
                    id: 0,
                    context: text(&node["context"]).unwrap_or_default(),
                    state,
                    target_url: text(&node["targetUrl"]),
                    created_at: posted,
                    updated_at: posted,
                });
            }
            _ => {}
        }
    }
}

/// The Actions workflow run of a check suite (suites of other apps have none).
fn workflow_run(suite: &Json) -> Option<WorkflowRun> {
    let run = &suite["workflowRun"];
    Some(WorkflowRun {
        id: run["databaseId"].as_u64()?,
        name: text(&run["workflow"]["name"]),
        status: lower(&suite["status"]),
        conclusion: lower(&suite["conclusion"]),
        html_url: text(&run["url"]),
        run_started_at: None,
        created_at: timestamp(&run["createdAt"]),
        updated_at: timestamp(&run["updatedAt"]),
    })
}

/// The same failure for another commit: plain variants copied, the rest shared.
fn shared(e: &Arc<GithubError>) -> GithubError {
    copy(e).unwrap_or_else(|| GithubError::Shared(e.clone()))
}

fn copy(e: &GithubError) -> Option<GithubError> {
    Some(match e {
        GithubError::RateLimited { until } => GithubError::RateLimited { until: *until },
        GithubError::Unauthorized => GithubError::Unauthorized,
        GithubError::NeedsToken => GithubError::NeedsToken,
        GithubError::BadToken => GithubError::BadToken,
        GithubError::UnknownCommit { sha, owner, repo } => GithubError::UnknownCommit {
            sha: sha.clone(),
            owner: owner.clone(),
            repo: repo.clone(),
        },
        GithubError::Graphql { url, message } => GithubError::Graphql {
            url: url.clone(),
            message: message.clone(),
        },
        GithubError::Api {
            status,
            url,
            message,
        } => GithubError::Api {
            status: *status,
            url: url.clone(),
            message: message.clone(),
        },
        GithubError::Shared(inner) => GithubError::Shared(inner.clone()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn one_alias_per_commit_with_rate_limit_and_fragments() {
        let q = query(&["71be0e3".to_owned(), "a".repeat(40)]);
        assert!(q.contains("rateLimit { cost remaining resetAt }"));
        assert!(q.contains("c0: object(expression: \"71be0e3\") { ...ci }"));
        assert!(q.contains(&format!(
            "c1: object(expression: \"{}\") {{ ...ci }}",
            "a".repeat(40)
        )));
        assert!(q.contains("contexts(first: 100) { ...contexts }"));
        assert!(q.contains("checkSuites(first: 20)"));
        let m = more_query(&["71be0e3".to_owned()], &[(0, "Y3Vyc29y\"x".to_owned())]);
        assert!(m.contains("m0: object(expression: \"71be0e3\")"));
        assert!(m.contains("after: \"Y3Vyc29y\\\"x\""), "{m}");
    }

    #[test]
    fn nodes_map_to_rest_shapes() {
        let mut ci = CommitCi::default();
        add_contexts(
            &mut ci,
            &json!({ "nodes": [
                { "__typename": "CheckRun", "databaseId": 7, "name": "lint", "status": "IN_PROGRESS",
                  "conclusion": null, "startedAt": "2026-11-30T12:00:00Z", "completedAt": null,
                  "detailsUrl": "https://ci/7", "url": "https://gh/runs/7" },
                { "__typename": "StatusContext", "context": "deploy", "state": "PENDING",
                  "targetUrl": null, "createdAt": "2026-11-30T12:00:05Z" },
                { "__typename": "CheckRun", "status": "QUEUED" },
                { "__typename": "Other" }
            ]}),
        );
        assert_eq!(ci.check_runs.len(), 1, "a run without a name is skipped");
        assert_eq!(ci.check_runs[0].status, "in_progress");
        assert_eq!(
            ci.check_runs[0].html_url.as_deref(),
            Some("https://gh/runs/7")
        );
        assert_eq!(ci.statuses[0].state, "pending");
        assert_eq!(ci.statuses[0].created_at, ci.statuses[0].updated_at);
        let run = workflow_run(&json!({ "status": "COMPLETED", "conclusion": "SUCCESS",
            "workflowRun": { "databaseId": 9, "url": "u", "workflow": { "name": "ci" } } }))
        .unwrap();
        assert_eq!(
            (
                run.status.as_deref(),
                run.conclusion.as_deref(),
                run.name.as_deref()
            ),
            (Some("completed"), Some("success"), Some("ci"))
        );
        assert!(workflow_run(&json!({ "status": "COMPLETED", "workflowRun": null })).is_none());
    }

    #[test]
    fn low_points_name_the_reset() {
        let reset = Timestamp::now() + SignedDuration::from_secs(600);
        let at = |remaining: u64| {
            low_after(&json!({ "cost": 1, "remaining": remaining, "resetAt": reset.to_string() }))
        };
        assert_eq!(at(GRAPHQL_RESERVE + 1), None);
        let low = at(GRAPHQL_RESERVE).unwrap();
        assert_eq!(low.as_second(), reset.as_second());
        assert_eq!(
            low_after(&Json::Null),
            None,
            "no rateLimit (rate limits off)"
        );
    }
}
