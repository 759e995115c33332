//! CI gates from GitHub: check runs, combined status and workflow runs of a commit, matched to
//! an environment's required checks; the promotion guard; a per-SHA cache that is kind to the
//! API (conditional requests, refresh only while something runs, rate limits honoured). And
//! what is in a promote: the commits and pull requests between two environments' tags
//! (`compare`, `pulls`, `changes`, `notes`).
//!
//! The UI holds one [`GatesService`] (cheap to clone) and asks [`GatesService::report`] for the
//! selected env's commit; the report says when a refresh is due ([`GateReport::refresh_after`]).
//! [`GatesService::env_changes`] says what one env's tag would bring to another's;
//! [`EnvChanges::summary`] is what a panel, a dialog or a card shows of it. The fleet view asks
//! [`GatesService::reports`] for hundreds of commits at once (GraphQL, [`BATCH`] per query).

mod batch;
mod changes;
pub(crate) mod client;
mod compare;
mod gates;
mod guard;
mod notes;
mod payload;
mod pulls;
mod rest;
mod tag;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;
use secrecy::SecretString;

pub use batch::{BATCH, GRAPHQL_RESERVE, ShaReport};
pub use changes::{
    ChangeSummary, DEFAULT_CARE_LABELS, EnvChanges, EnvSide, LabelCount, LineKind, SummaryLine,
};
pub use client::TransportError;
pub use compare::{
    ChangeCommit, Changes, CommitList, CompareStatus, MAX_LISTED, PullRequest, RequestCount,
};
pub use gates::{CommitCi, Gate, GateReport, GateSource, GateState, evaluate, summarise};
pub use guard::{FailingGate, GuardPass, GuardRefusal, guard};
pub use payload::{CheckRun, CommitStatus, WorkflowRun};
pub use rest::RateLimitState;
pub use tag::sha_from_tag;
pub use token::{resolve_token, token_from_env, token_from_gh};

use crate::inventory::GithubConfig;
use payload::{CheckRunList, CombinedStatus, CommitRef, WorkflowRunList};

/// Errors talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("the inventory has no `github:` section (owner, repo) to read gates from")]
    NotConfigured,
    #[error("tag `{tag}` does not name a commit: {why}")]
    BadTag { tag: String, why: String },
    #[error("github.tag_sha_regex `{regex}` is not a valid regex: {source}")]
    BadRegex {
        regex: String,
        #[source]
        source: regex::Error,
    },
    #[error("github.api_url `{0}` must start with http:// or https://")]
    BadUrl(String),
    #[error("the GitHub token contains characters not allowed in a header")]
    BadToken,
    #[error("GitHub rate limited until {until}")]
    RateLimited { until: Timestamp },
    #[error("GitHub rejected the token (401 Bad credentials)")]
    Unauthorized,
    #[error("commit {sha} is unknown to GitHub ({owner}/{repo})")]
    UnknownCommit {
        sha: String,
        owner: String,
        repo: String,
    },
    /// An environment's tag names no commit: not a SHA (nor what `tag_sha_regex` reads), or
    /// one GitHub does not know.
    #[error("{app} {env} runs tag `{tag}`, which maps to no commit: {why}")]
    TagNoCommit {
        app: String,
        env: String,
        tag: String,
        why: String,
    },
    #[error(
        "GitHub's GraphQL API (the pull requests of each commit) needs a token: set the variable \
         github.token_env names, or GITHUB_TOKEN, or log in with `gh auth login`"
    )]
    NeedsToken,
    #[error("GitHub's GraphQL API at {url_shown} answered with errors: {message}", url_shown = crate::redact::url(url))]
    Graphql { url: String, message: String },
    #[error("GitHub answered {status} for {url_shown}: {message}", url_shown = crate::redact::url(url))]
    Api {
        status: u16,
        url: String,
        message: String,
    },
    #[error("cannot reach GitHub at {url_shown}: {source}", url_shown = crate::redact::url(url))]
    Transport {
        url: String,
        #[source]
        source: TransportError,
    },
    #[error("unexpected answer from {url_shown}: {source}", url_shown = crate::redact::url(url))]
    Payload {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    /// One failed request that read many commits ([`GatesService::reports`]), the same for
    /// each of them.
    #[error(transparent)]
    Shared(Arc<GithubError>),
}

pub type Result<T, E = GithubError> = std::result::Result<T, E>;

/// Default refresh spacing while something runs.
pub const MIN_REFRESH: Duration = Duration::from_secs(10);

/// How to reach the repository whose CI produces the gates.
#[derive(Debug, Clone)]
pub struct GithubSettings {
    /// REST base URL (`https://api.github.com`, `https://HOST/api/v3`, or the sandbox's).
    pub api_url: String,
    pub owner: String,
    pub repo: String,
    pub token: Option<SecretString>,
    pub tag_sha_regex: Option<Regex>,
    /// Refresh spacing for a commit whose gates still run (default 10 s).
    pub min_refresh: Duration,
    /// `github.connect_timeout_secs` and `github.timeout_secs` (per request).
    pub timeouts: (Option<u64>, Option<u64>),
}

impl GithubSettings {
    /// From the inventory's `github:` section; the token is resolved by the caller
    /// ([`resolve_token`] at the edge, explicitly in tests).
    pub fn from_config(cfg: &GithubConfig, token: Option<SecretString>) -> Result<Self> {
        let tag_sha_regex = cfg
            .tag_sha_regex
            .as_deref()
            .map(|r| {
                Regex::new(r).map_err(|source| GithubError::BadRegex {
                    regex: r.to_owned(),
                    source,
                })
            })
            .transpose()?;
        Ok(GithubSettings {
            api_url: cfg
                .api_url
                .clone()
                .unwrap_or_else(|| "https://api.github.com".to_owned()),
            owner: cfg.owner.clone(),
            repo: cfg.repo.clone(),
            token,
            tag_sha_regex,
            min_refresh: MIN_REFRESH,
            timeouts: (cfg.connect_timeout_secs, cfg.timeout_secs),
        })
    }
}

struct Entry {
    ci: CommitCi,
    fetched_at: Timestamp,
    /// Set by [`GatesService::invalidate`]: refetch on the next ask.
    stale: bool,
}

struct Inner {
    owner: String,
    repo: String,
    tag_sha_regex: Option<Regex>,
    min_refresh: SignedDuration,
    rest: rest::Rest,
    full_shas: Mutex<HashMap<String, String>>,
    cache: Mutex<HashMap<String, Entry>>,
    /// Comparisons by (base, head) SHAs ([`GatesService::compare`]).
    compares: compare::CompareCache,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Gates of commits, cached per SHA. Clone it freely: clones share the cache.
#[derive(Clone)]
pub struct GatesService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GatesService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatesService")
            .field("repo", &format!("{}/{}", self.inner.owner, self.inner.repo))
            .finish_non_exhaustive()
    }
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl GatesService {
    pub fn new(settings: GithubSettings) -> Result<Self> {
        let rest = rest::Rest::new(&settings.api_url, settings.token, settings.timeouts)?;
        Ok(GatesService {
            inner: Arc::new(Inner {
                owner: settings.owner,
                repo: settings.repo,
                tag_sha_regex: settings.tag_sha_regex,
                min_refresh: SignedDuration::try_from(settings.min_refresh)
                    .unwrap_or(SignedDuration::from_secs(10)),
                rest,
                full_shas: Mutex::new(HashMap::new()),
                cache: Mutex::new(HashMap::new()),
                compares: compare::CompareCache::default(),
            }),
        })
    }

    /// The commit SHA an image tag names (no network; may be short).
    pub fn sha_for_tag(&self, tag: &str) -> Result<String> {
        sha_from_tag(tag, self.inner.tag_sha_regex.as_ref())
    }

    /// What GitHub last said about the rate limit (for the panel's "rate limited until T").
    pub fn rate_limit(&self) -> RateLimitState {
        self.inner.rest.rate()
    }

    /// The same for GraphQL (counted apart; what [`reports`](Self::reports) spends).
    pub fn graphql_rate_limit(&self) -> RateLimitState {
        self.inner.rest.graphql_rate()
    }

    /// The full SHA of a full or short one (short ones are resolved once, then remembered).
    pub async fn resolve_sha(&self, sha: &str) -> Result<String> {
        let sha = sha.trim().to_ascii_lowercase();
        if is_full_sha(&sha) {
            return Ok(sha);
        }
        if let Some(full) = lock(&self.inner.full_shas).get(&sha) {
            return Ok(full.clone());
        }
        let url = self.inner.rest.url(&format!(
            "/repos/{}/{}/commits/{sha}",
            self.inner.owner, self.inner.repo
        ));
        let page = self
            .inner
            .rest
            .get(&url)
            .await
            .map_err(|e| self.unknown_commit(e, &sha))?;
        let found: CommitRef = parse(&url, &page.body)?;
        let full = found.sha.to_ascii_lowercase();
        lock(&self.inner.full_shas).insert(sha, full.clone());
        // The resolution never changes: no need to keep its ETag.
        self.inner.rest.forget(|u| u == url);
        Ok(full)
    }

    fn unknown_commit(&self, e: GithubError, sha: &str) -> GithubError {
        match e {
            GithubError::Api {
                status: 404 | 422, ..
            } => GithubError::UnknownCommit {
                sha: sha.to_owned(),
                owner: self.inner.owner.clone(),
                repo: self.inner.repo.clone(),
            },
            other => other,
        }
    }

    /// The gates of a commit (full or short SHA) against `required`.
    ///
    /// Served from the cache when the commit's CI is settled (final) or was fetched less than
    /// the refresh spacing ago; otherwise refetched with conditional requests. When GitHub
    /// rate-limits us, the last known gates come back with `rate_limited_until` set; with
    /// nothing cached yet, the error is [`GithubError::RateLimited`].
    pub async fn report(&self, sha: &str, required: &[String]) -> Result<GateReport> {
        let full = self.resolve_sha(sha).await?;
        let now = Timestamp::now();
        let fresh = lock(&self.inner.cache).get(&full).and_then(|e| {
            let due = e.stale || (!e.ci.settled() && now >= e.fetched_at + self.inner.min_refresh);
            (!due).then(|| (e.ci.clone(), e.fetched_at))
        });
        if let Some((ci, fetched_at)) = fresh {
            return Ok(self.finish(&ci, required, fetched_at, None));
        }
        match self.fetch(&full).await {
            Ok(ci) => {
                let fetched_at = Timestamp::now();
                if ci.settled() {
                    self.inner.rest.forget(|u| u.contains(&full));
                }
                lock(&self.inner.cache).insert(
                    full,
                    Entry {
                        ci: ci.clone(),
                        fetched_at,
                        stale: false,
                    },
                );
                let limited = self.inner.rest.rate().blocked_at(fetched_at);
                Ok(self.finish(&ci, required, fetched_at, limited))
            }
            Err(GithubError::RateLimited { until }) => {
                let cached = lock(&self.inner.cache)
                    .get(&full)
                    .map(|e| (e.ci.clone(), e.fetched_at));
                match cached {
                    Some((ci, fetched_at)) => {
                        Ok(self.finish(&ci, required, fetched_at, Some(until)))
                    }
                    None => Err(GithubError::RateLimited { until }),
                }
            }
            Err(e) => Err(self.unknown_commit(e, &full)),
        }
    }

    /// A report read from GitHub now (even for a settled commit, so a job re-run since is not
    /// missed): what release/promote should hand to [`guard`]. Rate limited, it falls back
    /// to the last known gates with `rate_limited_until` set, like [`report`](Self::report).
    pub async fn fresh_report(&self, sha: &str, required: &[String]) -> Result<GateReport> {
        let full = self.resolve_sha(sha).await?;
        self.invalidate(&full);
        self.report(&full, required).await
    }

    /// The gates of the commit an image tag names.
    pub async fn report_for_tag(&self, tag: &str, required: &[String]) -> Result<GateReport> {
        let sha = self.sha_for_tag(tag)?;
        self.report(&sha, required).await
    }

    /// Like [`report`](Self::report), but waits out a rate limit that ends within `max_wait`
    /// (for headless runs, which have no panel to show it in).
    pub async fn report_waiting(
        &self,
        sha: &str,
        required: &[String],
        max_wait: Duration,
    ) -> Result<GateReport> {
        let deadline = Timestamp::now() + SignedDuration::try_from(max_wait).unwrap_or_default();
        loop {
            match self.report(sha, required).await {
                Err(GithubError::RateLimited { until }) if until <= deadline => {
                    let wait = until.duration_since(Timestamp::now());
                    let wait =
                        Duration::try_from(wait).unwrap_or_default() + Duration::from_millis(50);
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// When the commit's gates are worth asking for again: `None` once settled (they will not
    /// change), now for a commit never fetched, else the refresh spacing after the last fetch
    /// or the end of a rate limit, whichever is later.
    pub fn next_refresh_after(&self, sha: &str) -> Option<Timestamp> {
        let now = Timestamp::now();
        let limited = self.inner.rest.rate().blocked_at(now);
        let sha = sha.to_ascii_lowercase();
        let full = if is_full_sha(&sha) {
            Some(sha)
        } else {
            lock(&self.inner.full_shas).get(&sha).cloned()
        };
        let cache = lock(&self.inner.cache);
        let Some(e) = full.and_then(|f| cache.get(&f)) else {
            return Some(limited.unwrap_or(now));
        };
        if e.ci.settled() && !e.stale {
            return None;
        }
        let due = if e.stale {
            now
        } else {
            e.fetched_at + self.inner.min_refresh
        };
        Some(limited.map_or(due, |l| l.max(due)))
    }

    /// Makes the next [`report`](Self::report) of this commit refetch (entity tags are kept, so an
    /// unchanged answer still costs nothing).
    pub fn invalidate(&self, sha: &str) {
        let sha = sha.to_ascii_lowercase();
        let full = lock(&self.inner.full_shas)
            .get(&sha)
            .cloned()
            .unwrap_or(sha);
        if let Some(e) = lock(&self.inner.cache).get_mut(&full) {
            e.stale = true;
        }
    }

    fn finish(
        &self,
        ci: &CommitCi,
        required: &[String],
        fetched_at: Timestamp,
        limited: Option<Timestamp>,
    ) -> GateReport {
        let mut report = evaluate(ci, required, Timestamp::now());
        report.fetched_at = fetched_at;
        report.rate_limited_until = limited;
        report.refresh_after = (!report.settled).then(|| {
            let due = fetched_at + self.inner.min_refresh;
            limited.map_or(due, |l| l.max(due))
        });
        report
    }

    async fn fetch(&self, full: &str) -> Result<CommitCi> {
        let (o, r) = (&self.inner.owner, &self.inner.repo);
        let rest = &self.inner.rest;
        let checks_url = rest.url(&format!(
            "/repos/{o}/{r}/commits/{full}/check-runs?per_page=100"
        ));
        let status_url = rest.url(&format!(
            "/repos/{o}/{r}/commits/{full}/status?per_page=100"
        ));
        let runs_url = rest.url(&format!(
            "/repos/{o}/{r}/actions/runs?head_sha={full}&per_page=100"
        ));
        let (checks, statuses, runs) = futures::try_join!(
            rest.get_all(&checks_url),
            rest.get_all(&status_url),
            rest.get_all(&runs_url),
        )?;
        let mut ci = CommitCi {
            sha: full.to_owned(),
            ..CommitCi::default()
        };
        for page in checks {
            ci.check_runs
                .extend(parse::<CheckRunList>(&checks_url, &page)?.check_runs);
        }
        for page in statuses {
            ci.statuses
                .extend(parse::<CombinedStatus>(&status_url, &page)?.statuses);
        }
        for page in runs {
            ci.workflow_runs
                .extend(parse::<WorkflowRunList>(&runs_url, &page)?.workflow_runs);
        }
        Ok(ci)
    }
}

fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|source| GithubError::Payload {
        url: url.to_owned(),
        source,
    })
}
