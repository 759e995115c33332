//! The source repository's history in the sandbox GitHub: commits with parents, authors, dates
//! and touched files, and the pull requests that merged them. It answers compare (what one
//! commit has that another lacks) and `associatedPullRequests`.
//!
//! Commits are kept in the order they were added, parents first, so that order is a
//! topological one and compare lists commits as GitHub does: oldest first.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use super::full_sha;

/// Who wrote a commit or opened a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The GitHub login (`None`: an author GitHub cannot match to an account).
    pub login: Option<String>,
    pub name: String,
    pub email: String,
}

impl Person {
    pub fn new(login: &str, name: &str) -> Self {
        Person {
            login: Some(login.to_owned()),
            name: name.to_owned(),
            email: format!("{login}@users.noreply.example.com"),
        }
    }
}

/// One commit of the source repository.
#[derive(Debug, Clone)]
pub(crate) struct HistCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author: Person,
    pub date: Timestamp,
    pub message: String,
    pub files: Vec<String>,
}

/// One merged (or open) pull request.
#[derive(Debug, Clone)]
pub(crate) struct Pull {
    pub number: u64,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
    pub merged_by: Option<String>,
    pub merged_at: Option<Timestamp>,
}

/// What compare finds between two commits.
pub(crate) struct Comparison<'a> {
    pub merge_base: Option<&'a HistCommit>,
    /// Commits `head` has and `base` lacks, oldest first.
    pub ahead: Vec<&'a HistCommit>,
    /// How many commits `base` has and `head` lacks.
    pub behind: usize,
}

#[derive(Debug, Default)]
pub(crate) struct History {
    commits: IndexMap<String, HistCommit>,
    pulls: Vec<Pull>,
    /// Commit → indices into `pulls`.
    pulls_by_commit: HashMap<String, Vec<usize>>,
    next_pull: u64,
}

/// The people of generated history (logins of the demo organisation, and a bot).
const PEOPLE: [(&str, &str); 7] = [
    ("alice", "Alice Liu"),
    ("bob", "Bob Chen"),
    ("carol", "Carol Wang"),
    ("dave", "Dave Zhao"),
    ("erin", "Erin Sun"),
    ("frank", "Frank Wu"),
    ("dependabot[bot]", "dependabot[bot]"),
];

/// Titles of generated commits: area, then what changed.
const AREAS: [&str; 8] = [
    "checkout", "orders", "search", "images", "auth", "api", "web", "db",
];
const CHANGES: [&str; 8] = [
    "handle an empty basket",
    "log slow queries over 200 ms",
    "retry the carrier webhook",
    "tidy the header spacing",
    "cache the category tree",
    "paginate the admin list",
    "validate postcodes on entry",
    "drop an unused feature flag",
];

/// Labels of generated pull requests, by PR number modulo the list (empty: none).
const LABELS: [&[&str]; 10] = [
    &["feature"],
    &["bug"],
    &[],
    &["feature", "web"],
    &["breaking"],
    &[],
    &["migration", "db"],
    &["dependencies"],
    &["bug", "api"],
    &[],
];

impl History {
    pub(crate) fn len(&self) -> usize {
        self.commits.len()
    }

    /// The newest commit added.
    pub(crate) fn tip(&self) -> Option<&HistCommit> {
        self.commits.last().map(|(_, c)| c)
    }

    /// A full or unique short (at least 4 hex digits) SHA.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&HistCommit> {
        let r = reference.trim().to_ascii_lowercase();
        if r.len() < 4 || !r.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        if let Some(c) = self.commits.get(&r) {
            return Some(c);
        }
        let mut found = self.commits.values().filter(|c| c.sha.starts_with(&r));
        match (found.next(), found.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }

    fn short_taken(&self, sha: &str) -> bool {
        self.commits.keys().any(|k| k[..7] == sha[..7])
    }

    /// Adds a commit (its parents must be known; unknown ones are dropped). A SHA already
    /// known is left as it is.
    pub(crate) fn push(&mut self, mut c: HistCommit) {
        if self.commits.contains_key(&c.sha) {
            return;
        }
        c.parents.retain(|p| self.commits.contains_key(p));
        self.commits.insert(c.sha.clone(), c);
    }

    /// Records a pull request that merged `commits` (full SHAs); returns its number.
    pub(crate) fn add_pull(&mut self, mut pull: Pull, commits: &[String]) -> u64 {
        if pull.number == 0 {
            pull.number = self.next_number();
        }
        self.next_pull = self.next_pull.max(pull.number + 1);
        let number = pull.number;
        let i = self.pulls.len();
        self.pulls.push(pull);
        for sha in commits {
            self.pulls_by_commit.entry(sha.clone()).or_default().push(i);
        }
        number
    }

    fn next_number(&self) -> u64 {
        self.next_pull.max(500)
    }

    /// The pull requests a commit is part of.
    pub(crate) fn pulls_of(&self, sha: &str) -> Vec<&Pull> {
        self.pulls_by_commit
            .get(sha)
            .into_iter()
            .flatten()
            .filter_map(|i| self.pulls.get(*i))
            .collect()
    }

    /// Indices of `sha` and every commit it descends from.
    fn ancestors(&self, sha: &str) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut stack: Vec<&str> = vec![sha];
        while let Some(s) = stack.pop() {
            let Some((i, _, c)) = self.commits.get_full(s) else {
                continue;
            };
            if seen.insert(i) {
                stack.extend(c.parents.iter().map(String::as_str));
            }
        }
        seen
    }

    /// `git log base..head` (oldest first), the commits `base` has beyond `head`, and the
    /// newest common ancestor. `None` when either commit is unknown.
    pub(crate) fn compare(&self, base: &str, head: &str) -> Option<Comparison<'_>> {
        if !(self.commits.contains_key(base) && self.commits.contains_key(head)) {
            return None;
        }
        let from_base = self.ancestors(base);
        let from_head = self.ancestors(head);
        let mut ahead: Vec<usize> = from_head.difference(&from_base).copied().collect();
        ahead.sort_unstable();
        let merge_base = from_base.intersection(&from_head).max().copied();
        let at = |i: usize| self.commits.get_index(i).map(|(_, c)| c);
        Some(Comparison {
            merge_base: merge_base.and_then(at),
            ahead: ahead.into_iter().filter_map(at).collect(),
            behind: from_base.difference(&from_head).count(),
        })
    }

    /// A generated commit on top of `parent` (the tip when `None`), by the `n`th person, with
    /// a title and files of its own; returns its full SHA. `short` names it (else one is
    /// derived from `seed`).
    pub(crate) fn generate(
        &mut self,
        short: Option<&str>,
        parent: Option<&str>,
        seed: &str,
        n: usize,
        date: Timestamp,
    ) -> String {
        let sha = match short {
            Some(s) => full_sha(s),
            None => self.fresh_sha(seed),
        };
        let (login, name) = PEOPLE[n % (PEOPLE.len() - 1)];
        let area = AREAS[n % AREAS.len()];
        let change = CHANGES[(n / AREAS.len() + n) % CHANGES.len()];
        let parent = parent
            .map(str::to_owned)
            .or_else(|| self.tip().map(|c| c.sha.clone()));
        self.push(HistCommit {
            sha: sha.clone(),
            parents: parent.into_iter().collect(),
            author: Person::new(login, name),
            date,
            message: format!("{area}: {change}"),
            files: vec![
                format!("src/{area}/mod.rs"),
                format!("src/{area}/{}.rs", change.split(' ').next().unwrap_or("x")),
            ],
        });
        sha
    }

    /// A SHA no commit has and whose 7-digit prefix is free too (short SHAs stay unique).
    fn fresh_sha(&self, seed: &str) -> String {
        for attempt in 0u32.. {
            let digest = Sha256::digest(format!("{seed}/{attempt}").as_bytes());
            let sha = super::hex(&digest)[..40].to_owned();
            if !self.short_taken(&sha) {
                return sha;
            }
        }
        unreachable!("u32 attempts cannot all collide")
    }

    /// `n` generated commits on top of `parent` (the tip when `None`), every `per_pull` of
    /// them merged through one pull request (0: none) and every seventh pushed directly.
    /// Returns their full SHAs, oldest first.
    pub(crate) fn range(&mut self, parent: Option<&str>, n: usize, per_pull: usize) -> Vec<String> {
        let start = Timestamp::now() - SignedDuration::from_mins(i64::try_from(n).unwrap_or(0));
        let mut parent = parent
            .and_then(|p| self.resolve(p))
            .map(|c| c.sha.clone())
            .or_else(|| self.tip().map(|c| c.sha.clone()));
        let salt = self.len();
        let mut out = Vec::with_capacity(n);
        let mut group: Vec<String> = Vec::new();
        for i in 0..n {
            let date = start + SignedDuration::from_mins(i64::try_from(i).unwrap_or(0));
            let sha = self.generate(
                None,
                parent.as_deref(),
                &format!("range/{salt}/{i}"),
                salt + i,
                date,
            );
            parent = Some(sha.clone());
            out.push(sha.clone());
            if per_pull == 0 || i % 7 == 6 {
                continue;
            }
            group.push(sha);
            if group.len() == per_pull || i + 1 == n {
                self.pull_for(&std::mem::take(&mut group), date);
            }
        }
        out
    }

    /// A pull request over `commits`, titled after its first, by its author.
    fn pull_for(&mut self, commits: &[String], merged_at: Timestamp) -> u64 {
        let Some(first) = commits.first().and_then(|s| self.commits.get(s)) else {
            return 0;
        };
        let number = self.next_number();
        let idx = usize::try_from(number).unwrap_or(0);
        let (title, author) = (
            first.message.clone(),
            first.author.login.clone().unwrap_or_default(),
        );
        let merged_by = PEOPLE[(idx + 1) % (PEOPLE.len() - 1)].0.to_owned();
        let pull = Pull {
            number,
            title,
            author,
            labels: LABELS[idx % LABELS.len()]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            merged_by: Some(merged_by),
            merged_at: Some(merged_at),
        };
        self.add_pull(pull, commits)
    }

    /// A CI build that was not seeded: a commit on the tip merged through a pull request of
    /// its own (as the demo's simulated CI makes them).
    pub(crate) fn build(&mut self, short: &str, date: Timestamp) -> String {
        let full = full_sha(short);
        if self.commits.contains_key(&full) {
            return full;
        }
        let n = self.len();
        let sha = self.generate(Some(short), None, short, n, date);
        self.pull_for(std::slice::from_ref(&sha), date);
        sha
    }
}

/// The demo's source history (miker-org/miker, web and api side by side), oldest first: short
/// SHA | author login | author time | pull request (0: pushed directly) | title | files. The
/// image tags of the GitOps seed name these commits: 2b8e4d1 (miker-api in every env),
/// 5d2e8a1, 6f0a3c9, 71be0e3 (miker-web prod) and 9f1c2ab (miker-web dev and stg).
const DEMO: &str = "\
3c9b7f0|bob|2026-10-28T09:30:00Z|0|Add /healthz and /readyz endpoints|api/src/health.rs,web/src/server.ts
2b8e4d1|alice|2026-10-30T15:12:00Z|418|api: retry payment webhooks with backoff|api/src/payments/webhook.rs
c41d9e2|erin|2026-11-02T11:05:00Z|421|web: lazy-load the product carousel|web/src/components/Carousel.tsx
5d2e8a1|frank|2026-11-04T16:40:00Z|0|Release 1.40.0|CHANGELOG.md,web/package.json
8e7f3a0|dave|2026-11-10T10:21:00Z|431|api: paginate the order history|api/src/orders/history.rs
6f0a3c9|dave|2026-11-11T14:02:00Z|431|api: cursor tokens for the order history|api/src/orders/history.rs,api/src/orders/cursor.rs
d2a9b14|carol|2026-11-13T09:48:00Z|434|web: dark mode for the account pages|web/src/account/theme.css,web/src/account/Settings.tsx
71be0e3|frank|2026-11-15T17:10:00Z|0|Release 1.41.0|CHANGELOG.md,web/package.json
a3f81c2|carol|2026-11-17T10:02:00Z|442|checkout: list the saved cards|web/src/checkout/SavedCards.tsx,api/src/cards/list.rs
4b9de07|carol|2026-11-17T15:44:00Z|442|checkout: pay with a saved card|web/src/checkout/Pay.tsx,api/src/payments/charge.rs
e61c5a8|carol|2026-11-18T09:15:00Z|442|checkout: tests for saved cards|web/src/checkout/SavedCards.test.tsx
0c7b3d9|dave|2026-11-19T11:30:00Z|445|db: drop the legacy sessions table|api/migrations/0042_drop_sessions.sql,api/src/auth/session.rs
92e4f6a|dave|2026-11-19T16:05:00Z|445|auth: read sessions from redis only|api/src/auth/session.rs,api/src/auth/redis.rs
5f2a8c1|frank|2026-11-20T08:50:00Z|0|Fix a typo in the checkout banner|web/src/checkout/Banner.tsx
b8d3e90|erin|2026-11-21T13:37:00Z|447|images: cache product images at the edge|web/src/images/cdn.ts,deploy/cdn.yaml
1e9c7a4|erin|2026-11-22T10:10:00Z|447|images: purge the edge cache on upload|api/src/images/upload.rs
7a4f2d6|dependabot[bot]|2026-11-24T07:02:00Z|448|build(deps): bump axios from 1.7.7 to 1.7.9|web/package.json,web/package-lock.json
c5e0b7f|bob|2026-11-25T14:28:00Z|451|orders: add a shipped_at column|api/migrations/0043_shipped_at.sql,api/src/orders/model.rs
3d8a6e1|bob|2026-11-26T11:19:00Z|451|orders: backfill shipped_at from the carrier events|api/src/orders/backfill.rs
9f1c2ab|alice|2026-11-27T09:55:00Z|0|Release 1.42.0|CHANGELOG.md,web/package.json,api/Cargo.toml
";

/// The demo's pull requests: number | author | merged by | labels | title.
const DEMO_PULLS: &str = "\
418|alice|bob|bug,api|Retry payment webhooks with backoff
421|erin|carol|performance,web|Lazy-load the product carousel
431|dave|alice|feature,api|Paginate the order history
434|carol|erin|feature,web|Dark mode for the account pages
442|carol|alice|feature,web|Checkout: pay with a saved card
445|dave|bob|breaking,migration,api|Drop the legacy sessions table
447|erin|carol|performance|Cache product images at the edge
448|dependabot[bot]|frank|dependencies|Bump axios from 1.7.7 to 1.7.9
451|bob|alice|migration,api|Orders: add a shipped_at column
";

fn person(login: &str) -> Person {
    let name = PEOPLE
        .iter()
        .find(|(l, _)| *l == login)
        .map_or(login, |(_, n)| n);
    Person::new(login, name)
}

fn list(field: &str) -> Vec<String> {
    field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The demo's seeded history.
pub(crate) fn demo() -> History {
    let mut h = History::default();
    let mut parent: Option<String> = None;
    let mut by_pull: HashMap<u64, Vec<String>> = HashMap::new();
    for line in DEMO.lines() {
        let f: Vec<&str> = line.splitn(6, '|').collect();
        let [short, login, when, pull, title, files] = f[..] else {
            continue;
        };
        let sha = full_sha(short);
        h.push(HistCommit {
            sha: sha.clone(),
            parents: parent.take().into_iter().collect(),
            author: person(login),
            date: when.parse().unwrap_or(Timestamp::UNIX_EPOCH),
            message: title.to_owned(),
            files: list(files),
        });
        let pull: u64 = pull.parse().unwrap_or(0);
        if pull != 0 {
            by_pull.entry(pull).or_default().push(sha.clone());
        }
        parent = Some(sha);
    }
    for line in DEMO_PULLS.lines() {
        let f: Vec<&str> = line.splitn(5, '|').collect();
        let [number, author, merger, labels, title] = f[..] else {
            continue;
        };
        let number: u64 = number.parse().unwrap_or(0);
        let commits = by_pull.get(&number).cloned().unwrap_or_default();
        let merged_at = commits
            .last()
            .and_then(|s| h.commits.get(s))
            .map(|c| c.date);
        h.add_pull(
            Pull {
                number,
                title: title.to_owned(),
                author: author.to_owned(),
                labels: list(labels),
                merged_by: Some(merger.to_owned()),
                merged_at,
            },
            &commits,
        );
    }
    h
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_demo_range_prod_to_stg_is_twelve_commits_in_five_pulls() {
        let h = demo();
        let (prod, stg) = (full_sha("71be0e3"), full_sha("9f1c2ab"));
        let cmp = h.compare(&prod, &stg).unwrap();
        assert_eq!(cmp.ahead.len(), 12);
        assert_eq!(cmp.behind, 0);
        assert_eq!(cmp.merge_base.unwrap().sha, prod);
        let pulls: HashSet<u64> = cmp
            .ahead
            .iter()
            .flat_map(|c| h.pulls_of(&c.sha))
            .map(|p| p.number)
            .collect();
        assert_eq!(pulls.len(), 5);
        let back = h.compare(&stg, &prod).unwrap();
        assert!(back.ahead.is_empty());
        assert_eq!(back.behind, 12);
        assert!(h.resolve("9f1c2ab").is_some() && h.resolve("zz").is_none());
    }

    #[test]
    fn ranges_branch_and_diverge() {
        let mut h = demo();
        let main = h.range(None, 20, 3);
        assert_eq!(main.len(), 20);
        let side = h.range(Some("71be0e3"), 4, 0);
        let cmp = h
            .compare(main.last().unwrap(), side.last().unwrap())
            .unwrap();
        assert_eq!(cmp.ahead.len(), 4);
        assert_eq!(cmp.behind, 12 + 20);
        assert_eq!(cmp.merge_base.unwrap().sha, full_sha("71be0e3"));
        // Every 7-digit prefix stays unique, so short SHAs resolve.
        for sha in main.iter().chain(&side) {
            assert_eq!(h.resolve(&sha[..7]).unwrap().sha, *sha);
        }
        assert!(!h.pulls_of(&main[0]).is_empty());
        assert!(
            h.pulls_of(&main[6]).is_empty(),
            "every seventh is pushed directly"
        );
    }
}
