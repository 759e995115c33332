//! What one commit has that another lacks: GitHub's compare API
//! (`GET /repos/{o}/{r}/compare/{base}...{head}`) walked page by page, each commit's pull
//! requests from GraphQL (one query per page, see [`super::pulls`]), cached per pair of SHAs.
//!
//! GitHub's paging rules, as its REST reference states them: without `per_page`/`page` the
//! list stops at 250 commits; with them, commits come oldest first, `per_page` (≤ 100) at a
//! time, and the changed files (at most 300) with page 1 only. So every page is asked for
//! explicitly, up to [`MAX_LISTED`] commits; `total_commits` says how many there are, and
//! what was not listed is counted ([`CommitList::not_listed`]), never silently dropped. A
//! server that ignores the paging parameters (GitHub Enterprise Server 3.0 and older) answers
//! page 1 with up to 250 commits: that is taken as all it will list.
//!
//! Two SHAs name an immutable comparison, so a result is kept and served without asking again
//! ([`GatesService::compare`]); [`GatesService::compare_fresh`] asks again with the pages'
//! entity tags (GitHub answers 304, which costs no rate limit) and reads the pull requests
//! anew (their titles and labels may have changed).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt, stream};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;

use super::payload::{ComparedCommit, Comparison};
use super::{GatesService, GithubError, Result, is_full_sha, lock, parse};

/// Commits asked for per compare page (GitHub's most).
pub const PER_PAGE: usize = 100;
/// Most commits listed per side of a comparison (10 compare pages and 10 GraphQL queries);
/// beyond it they are counted, not listed.
pub const MAX_LISTED: usize = 1000;
/// Compare pages or GraphQL queries in flight at once (GitHub asks clients to keep it low).
const IN_FLIGHT: usize = 3;
/// Comparisons kept; the oldest goes (with its pages' entity tags) when one more arrives.
const CACHE_LIMIT: usize = 16;

/// How `head` relates to `base`, as GitHub says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompareStatus {
    /// `head` has commits `base` lacks, and nothing is taken out.
    Ahead,
    /// `head` is older: moving `base` to it takes commits out (a downgrade).
    Behind,
    /// Both have commits the other lacks.
    Diverged,
    /// The same commit.
    Identical,
}

impl CompareStatus {
    pub(super) fn from_counts(ahead: u64, behind: u64) -> Self {
        match (ahead, behind) {
            (0, 0) => CompareStatus::Identical,
            (_, 0) => CompareStatus::Ahead,
            (0, _) => CompareStatus::Behind,
            _ => CompareStatus::Diverged,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompareStatus::Ahead => "ahead",
            CompareStatus::Behind => "behind",
            CompareStatus::Diverged => "diverged",
            CompareStatus::Identical => "identical",
        }
    }
}

/// One commit of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeCommit {
    pub sha: String,
    /// First 7 characters, for display.
    pub short: String,
    /// The GitHub account GitHub matched to the author, if any.
    pub author_login: Option<String>,
    /// The name in the commit.
    pub author_name: Option<String>,
    /// Author time.
    pub date: Option<Timestamp>,
    /// The first line of the message.
    pub title: String,
    pub url: Option<String>,
    /// Numbers of the pull requests that brought it in (none: pushed directly).
    pub pull_requests: Vec<u64>,
}

impl ChangeCommit {
    /// The login, else the name in the commit.
    pub fn author(&self) -> Option<&str> {
        self.author_login.as_deref().or(self.author_name.as_deref())
    }
}

/// One pull request, once however many of the listed commits it brought in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    pub author: Option<String>,
    pub labels: Vec<String>,
    pub merged_by: Option<String>,
    pub url: String,
    /// How many of the listed commits it holds.
    pub commits: usize,
}

/// The commits one side has that the other lacks, and their pull requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommitList {
    /// How many there are (GitHub's count), listed or not.
    pub total: u64,
    /// Oldest first, as GitHub lists them; at most [`MAX_LISTED`].
    pub commits: Vec<ChangeCommit>,
    /// In the order their first commit appears.
    pub pull_requests: Vec<PullRequest>,
    /// Counted but not listed: `total` beyond what the pages held.
    pub not_listed: u64,
}

impl CommitList {
    /// Why some commits are not listed, if some are not: `shipdeck lists at most 1000`, or
    /// `GitHub listed 250 of 600`.
    pub fn not_listed_why(&self) -> Option<String> {
        (self.not_listed > 0).then(|| {
            if self.commits.len() >= MAX_LISTED {
                format!("shipdeck lists at most {MAX_LISTED} of {}", self.total)
            } else {
                format!("GitHub listed {} of {}", self.commits.len(), self.total)
            }
        })
    }
}

impl CommitList {
    /// The listed commits that came in through no pull request.
    pub fn direct(&self) -> impl Iterator<Item = &ChangeCommit> {
        self.commits.iter().filter(|c| c.pull_requests.is_empty())
    }
}

/// What a comparison cost: requests sent (a 304 among them costs no rate limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestCount {
    /// REST requests: compare pages, and short SHAs resolved.
    pub rest: u32,
    /// Of those, answered 304 Not Modified.
    pub not_modified: u32,
    /// GraphQL queries (one per page of commits).
    pub graphql: u32,
}

/// Everything between two commits: what `head` brings to `base` and what it takes out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub base_sha: String,
    pub head_sha: String,
    pub merge_base_sha: Option<String>,
    pub status: CompareStatus,
    /// Commits `head` has and `base` lacks.
    pub ahead_by: u64,
    /// Commits `base` has and `head` lacks (a downgrade takes them out).
    pub behind_by: u64,
    /// Files the comparison touches; GitHub lists at most 300 (`files_capped`: that many).
    pub files_changed: u64,
    pub files_capped: bool,
    /// The comparison on GitHub's web pages (the API's `html_url`).
    pub compare_url: Option<String>,
    /// What `head` brings.
    pub ahead: CommitList,
    /// What `head` lacks (listed only when `behind_by` > 0).
    pub behind: CommitList,
    pub fetched_at: Timestamp,
    /// What fetching it cost (a cached answer cost nothing more).
    pub requests: RequestCount,
}

/// Kept comparisons by (base, head) full SHAs, oldest first.
#[derive(Default)]
pub(super) struct CompareCache {
    entries: Mutex<IndexMap<(String, String), Arc<Changes>>>,
}

/// Requests counted while one comparison is fetched.
#[derive(Default)]
pub(super) struct Tally {
    rest: AtomicU32,
    not_modified: AtomicU32,
    graphql: AtomicU32,
}

impl Tally {
    fn count(&self) -> RequestCount {
        RequestCount {
            rest: self.rest.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
            graphql: self.graphql.load(Ordering::Relaxed),
        }
    }
}

/// One walk of `base...head`: the first page's facts and every commit listed.
struct Walk {
    first: Comparison,
    commits: Vec<ComparedCommit>,
}

impl GatesService {
    /// The changes from `base` to `head` (full or short SHAs), from the cache when this pair
    /// was compared before (two SHAs name an immutable comparison).
    pub async fn compare(&self, base: &str, head: &str) -> Result<Arc<Changes>> {
        self.compare_counted(base, head, Tally::default()).await
    }

    /// [`compare`](Self::compare), counting into `tally` (which may hold requests made for it
    /// already: the tags' SHAs resolved).
    pub(super) async fn compare_counted(
        &self,
        base: &str,
        head: &str,
        tally: Tally,
    ) -> Result<Arc<Changes>> {
        let (base, head) = self.resolve_pair(base, head, &tally).await?;
        if let Some(hit) = self.cached(&base, &head) {
            return Ok(hit);
        }
        self.fetch_changes(base, head, tally).await
    }

    /// Like [`compare`](Self::compare) but asks GitHub again: the compare pages with their
    /// entity tags (304s, free) and the pull requests anew (labels and titles change).
    pub async fn compare_fresh(&self, base: &str, head: &str) -> Result<Arc<Changes>> {
        let tally = Tally::default();
        let (base, head) = self.resolve_pair(base, head, &tally).await?;
        self.fetch_changes(base, head, tally).await
    }

    /// A comparison fetched before, without asking GitHub (full or already resolved SHAs).
    pub fn compare_cached(&self, base: &str, head: &str) -> Option<Arc<Changes>> {
        let full = |s: &str| {
            let s = s.trim().to_ascii_lowercase();
            if is_full_sha(&s) {
                Some(s)
            } else {
                lock(&self.inner.full_shas).get(&s).cloned()
            }
        };
        self.cached(&full(base)?, &full(head)?)
    }

    fn cached(&self, base: &str, head: &str) -> Option<Arc<Changes>> {
        let key = (base.to_owned(), head.to_owned());
        lock(&self.inner.compares.entries).get(&key).cloned()
    }

    async fn resolve_pair(
        &self,
        base: &str,
        head: &str,
        tally: &Tally,
    ) -> Result<(String, String)> {
        futures::try_join!(
            self.resolve_counted(base, tally),
            self.resolve_counted(head, tally)
        )
    }

    /// [`resolve_sha`](Self::resolve_sha), counting the request it makes for a short SHA not
    /// seen before.
    pub(super) async fn resolve_counted(&self, sha: &str, tally: &Tally) -> Result<String> {
        let s = sha.trim().to_ascii_lowercase();
        if !is_full_sha(&s) && !lock(&self.inner.full_shas).contains_key(&s) {
            tally.rest.fetch_add(1, Ordering::Relaxed);
        }
        self.resolve_sha(sha).await
    }

    async fn fetch_changes(
        &self,
        base: String,
        head: String,
        tally: Tally,
    ) -> Result<Arc<Changes>> {
        let forward = self.walk(&base, &head, &tally).await?;
        let first = &forward.first;
        let behind_by = first.behind_by;
        let (ahead, behind) = futures::try_join!(self.listed(&forward, &tally), async {
            if behind_by == 0 {
                return Ok(CommitList::default());
            }
            let back = self.walk(&head, &base, &tally).await?;
            self.listed(&back, &tally).await
        })?;
        let files = first.files.as_ref().map_or(0, Vec::len);
        let changes = Arc::new(Changes {
            merge_base_sha: first.merge_base_commit.as_ref().map(|c| c.sha.clone()),
            status: match first.status.as_str() {
                "ahead" => CompareStatus::Ahead,
                "behind" => CompareStatus::Behind,
                "diverged" => CompareStatus::Diverged,
                "identical" => CompareStatus::Identical,
                _ => CompareStatus::from_counts(first.ahead_by, behind_by),
            },
            ahead_by: first.ahead_by,
            behind_by,
            files_changed: files as u64,
            files_capped: files >= 300,
            compare_url: first.html_url.clone(),
            ahead,
            behind,
            fetched_at: Timestamp::now(),
            requests: tally.count(),
            base_sha: base,
            head_sha: head,
        });
        self.remember(&changes);
        Ok(changes)
    }

    fn remember(&self, changes: &Arc<Changes>) {
        let key = (changes.base_sha.clone(), changes.head_sha.clone());
        let evicted = {
            let mut entries = lock(&self.inner.compares.entries);
            entries.shift_remove(&key);
            entries.insert(key, changes.clone());
            let over = entries.len().saturating_sub(CACHE_LIMIT);
            entries.drain(..over).map(|(k, _)| k).collect::<Vec<_>>()
        };
        for (b, h) in evicted {
            // Its pages' entity tags go too; the reverse walk's only if that pair is not kept.
            let there = format!("/compare/{b}...{h}");
            let back = (self.cached(&h, &b).is_none()).then(|| format!("/compare/{h}...{b}"));
            self.inner.rest.forget(|u| {
                u.contains(&there) || back.as_ref().is_some_and(|x| u.contains(x.as_str()))
            });
        }
    }

    /// Every page of `base...head`, up to [`MAX_LISTED`] commits.
    async fn walk(&self, base: &str, head: &str, tally: &Tally) -> Result<Walk> {
        let (o, r) = (&self.inner.owner, &self.inner.repo);
        let url = |page: usize| {
            self.inner.rest.url(&format!(
                "/repos/{o}/{r}/compare/{base}...{head}?per_page={PER_PAGE}&page={page}"
            ))
        };
        let mut first: Comparison = self.page(&url(1), tally).await?;
        let mut commits = std::mem::take(&mut first.commits);
        let want = usize::try_from(first.total_commits)
            .unwrap_or(usize::MAX)
            .min(MAX_LISTED);
        // More than a page on page 1: the server ignored the paging; that is all it lists.
        if commits.len() == PER_PAGE && want > PER_PAGE {
            let pages: Vec<Vec<ComparedCommit>> = stream::iter(2..=want.div_ceil(PER_PAGE))
                .map(|p| {
                    let u = url(p);
                    async move { Ok::<_, GithubError>(self.page(&u, tally).await?.commits) }
                })
                .buffered(IN_FLIGHT)
                .try_collect()
                .await?;
            let mut seen: HashSet<String> = commits.iter().map(|c| c.sha.clone()).collect();
            // A page that repeats commits (the range moved under us) adds only the new ones.
            commits.extend(
                pages
                    .into_iter()
                    .flatten()
                    .filter(|c| seen.insert(c.sha.clone())),
            );
        }
        commits.truncate(MAX_LISTED);
        Ok(Walk { first, commits })
    }

    async fn page(&self, url: &str, tally: &Tally) -> Result<Comparison> {
        tally.rest.fetch_add(1, Ordering::Relaxed);
        let page = self.inner.rest.get(url).await?;
        if page.not_modified {
            tally.not_modified.fetch_add(1, Ordering::Relaxed);
        }
        parse(url, &page.body)
    }

    /// The walk's commits with their pull requests (one GraphQL query per page of them).
    async fn listed(&self, walk: &Walk, tally: &Tally) -> Result<CommitList> {
        // Owned chunks: the futures must be `Send` for any caller that spawns them.
        let chunks: Vec<Vec<String>> = walk
            .commits
            .chunks(PER_PAGE)
            .map(|c| c.iter().map(|c| c.sha.clone()).collect())
            .collect();
        let found: Vec<HashMap<String, Vec<PullRequest>>> = stream::iter(chunks)
            .map(|chunk: Vec<String>| {
                tally.graphql.fetch_add(1, Ordering::Relaxed);
                let inner = &self.inner;
                async move {
                    super::pulls::of_commits(&inner.rest, &inner.owner, &inner.repo, &chunk).await
                }
            })
            .buffered(IN_FLIGHT)
            .try_collect()
            .await?;
        let by_commit: HashMap<String, Vec<PullRequest>> = found.into_iter().flatten().collect();
        let mut pulls: IndexMap<u64, PullRequest> = IndexMap::new();
        let commits = walk
            .commits
            .iter()
            .map(|c| {
                let mine = by_commit.get(&c.sha).map(Vec::as_slice).unwrap_or_default();
                for p in mine {
                    pulls
                        .entry(p.number)
                        .or_insert_with(|| PullRequest {
                            commits: 0,
                            ..p.clone()
                        })
                        .commits += 1;
                }
                let author = c.commit.author.as_ref();
                ChangeCommit {
                    short: c.sha.chars().take(7).collect(),
                    author_login: c.author.as_ref().map(|a| a.login.clone()),
                    author_name: author.and_then(|a| a.name.clone()),
                    date: author.and_then(|a| a.date),
                    title: c
                        .commit
                        .message
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned(),
                    url: c.html_url.clone(),
                    pull_requests: mine.iter().map(|p| p.number).collect(),
                    sha: c.sha.clone(),
                }
            })
            .collect::<Vec<_>>();
        let total = walk.first.ahead_by.max(walk.first.total_commits);
        Ok(CommitList {
            total,
            not_listed: total.saturating_sub(commits.len() as u64),
            commits,
            pull_requests: pulls.into_values().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_counts() {
        assert_eq!(CompareStatus::from_counts(0, 0), CompareStatus::Identical);
        assert_eq!(CompareStatus::from_counts(3, 0), CompareStatus::Ahead);
        assert_eq!(CompareStatus::from_counts(0, 2), CompareStatus::Behind);
        assert_eq!(CompareStatus::from_counts(1, 1), CompareStatus::Diverged);
        assert_eq!(CompareStatus::Behind.as_str(), "behind");
    }
}
