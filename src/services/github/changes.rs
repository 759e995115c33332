//! What is in a promote: the changes one environment's tag brings to another's, in the words
//! and shapes the views need. [`GatesService::env_changes`] maps both tags to commits (a SHA
//! tag, or what `github.tag_sha_regex` reads) and compares them; [`EnvChanges::summary`] is
//! the pure summary a panel, a dialog or a chat card shows (counts, authors, labels, the
//! first lines). How people read them (text, Markdown) is `notes`.

use serde::Serialize;

use super::compare::{ChangeCommit, Changes, CommitList, CompareStatus, PullRequest, Tally};
use super::{GatesService, GithubError, Result};

/// Labels worth a warning when no other set is given (`breaking` changes, data `migration`s).
pub const DEFAULT_CARE_LABELS: [&str; 2] = ["breaking", "migration"];

/// One side of a comparison: the env, the tag git says it runs, the commit the tag names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvSide {
    pub env: String,
    pub tag: String,
    /// Full SHA.
    pub sha: String,
}

/// What `to`'s tag would bring to `from` (the env promoted into): the commits and pull
/// requests it adds, and those it takes out when it is behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvChanges {
    pub app: String,
    /// The env promoted into: the comparison's base.
    pub from: EnvSide,
    /// The env whose tag goes there: the comparison's head.
    pub to: EnvSide,
    #[serde(flatten)]
    pub changes: Changes,
}

/// A label and the pull requests that carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelCount {
    pub label: String,
    pub pull_requests: Vec<u64>,
}

/// What a summary line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    PullRequest,
    /// A commit that came in through no pull request.
    Commit,
}

/// One line of a summary: a pull request, or a commit in none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryLine {
    pub kind: LineKind,
    /// `#482` or a short SHA.
    pub id: String,
    pub title: String,
    pub author: Option<String>,
    pub labels: Vec<String>,
    /// Where `o` should go: the pull request or the commit on GitHub.
    pub url: Option<String>,
}

/// The changes as one short block: what the Environments panel, the promote dialog and the
/// chat card show. Pure data; nothing in it needs GitHub again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSummary {
    /// `12 commits, 5 PRs ahead`, `3 commits, 1 PR behind (a downgrade)`, `no changes`.
    pub headline: String,
    pub status: CompareStatus,
    /// Commits the promote brings (`ahead_by`).
    pub commits: u64,
    /// Pull requests among the listed commits.
    pub pull_requests: usize,
    /// Commits it takes out (`behind_by`).
    pub behind: u64,
    /// Commits counted but not listed (GitHub's cap, or [`super::MAX_LISTED`]).
    pub not_listed: u64,
    /// The lines below are what a downgrade takes out, not what it brings.
    pub taken_out: bool,
    /// Authors of the listed commits, most commits first.
    pub authors: Vec<String>,
    /// Every label on the pull requests, most used first.
    pub labels: Vec<LabelCount>,
    /// Of those, the ones asked to be cared about (e.g. `breaking`, `migration`).
    pub care: Vec<LabelCount>,
    /// The first lines: pull requests, then commits in none.
    pub lines: Vec<SummaryLine>,
    /// Lines beyond `lines`.
    pub more: usize,
    pub compare_url: Option<String>,
}

impl GatesService {
    /// What `to_env` (running `to_tag`) would bring to `from_env` (running `from_tag`) of
    /// `app`. A tag that names no commit (not a SHA, not what `tag_sha_regex` reads, or a SHA
    /// GitHub does not know) is [`GithubError::TagNoCommit`], naming the env and the tag.
    pub async fn env_changes(
        &self,
        app: &str,
        (from_env, from_tag): (&str, &str),
        (to_env, to_tag): (&str, &str),
    ) -> Result<EnvChanges> {
        let tally = Tally::default();
        let (from_sha, to_sha) = futures::try_join!(
            self.env_sha(app, from_env, from_tag, &tally),
            self.env_sha(app, to_env, to_tag, &tally)
        )?;
        let changes = self.compare_counted(&from_sha, &to_sha, tally).await?;
        Ok(EnvChanges {
            app: app.to_owned(),
            from: EnvSide {
                env: from_env.to_owned(),
                tag: from_tag.to_owned(),
                sha: from_sha,
            },
            to: EnvSide {
                env: to_env.to_owned(),
                tag: to_tag.to_owned(),
                sha: to_sha,
            },
            changes: (*changes).clone(),
        })
    }

    /// The full SHA an env's tag names.
    async fn env_sha(&self, app: &str, env: &str, tag: &str, tally: &Tally) -> Result<String> {
        let none = |why: String| GithubError::TagNoCommit {
            app: app.to_owned(),
            env: env.to_owned(),
            tag: tag.to_owned(),
            why,
        };
        let sha = self.sha_for_tag(tag).map_err(|e| match e {
            GithubError::BadTag { why, .. } => none(why),
            other => other,
        })?;
        self.resolve_counted(&sha, tally)
            .await
            .map_err(|e| match e {
                GithubError::UnknownCommit { sha, owner, repo } => {
                    none(format!("GitHub knows no commit {sha} in {owner}/{repo}"))
                }
                GithubError::Api {
                    status: 404 | 422, ..
                } => none(format!(
                    "GitHub knows no commit {sha} in {}/{}",
                    self.inner.owner, self.inner.repo
                )),
                other => other,
            })
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Changes {
    /// `12 commits, 5 PRs ahead` and its kin (a `+` after the PR count when not every commit
    /// was listed, so some pull requests may be missing).
    pub fn headline(&self) -> String {
        let prs = |l: &CommitList| {
            let n = l.pull_requests.len() as u64;
            let more = if l.not_listed > 0 { "+" } else { "" };
            format!("{n}{more} {}", if n == 1 { "PR" } else { "PRs" })
        };
        let ahead = format!(
            "{}, {}",
            plural(self.ahead_by, "commit", "commits"),
            prs(&self.ahead)
        );
        match self.status {
            CompareStatus::Identical => "no changes (the same commit)".to_owned(),
            CompareStatus::Ahead => format!("{ahead} ahead"),
            CompareStatus::Behind => format!(
                "{}, {} behind (a downgrade)",
                plural(self.behind_by, "commit", "commits"),
                prs(&self.behind)
            ),
            CompareStatus::Diverged => {
                format!("{ahead} ahead, {} behind (diverged)", self.behind_by)
            }
        }
    }

    /// The summary with at most `max_lines` lines; labels in `care` are called out.
    pub fn summary(&self, max_lines: usize, care: &[&str]) -> ChangeSummary {
        let taken_out = self.status == CompareStatus::Behind;
        let list = if taken_out { &self.behind } else { &self.ahead };
        let mut all: Vec<SummaryLine> = list.pull_requests.iter().map(pr_line).collect();
        all.extend(list.direct().map(commit_line));
        let more = all.len().saturating_sub(max_lines);
        all.truncate(max_lines);
        let labels = label_counts(&list.pull_requests);
        ChangeSummary {
            headline: self.headline(),
            status: self.status,
            commits: self.ahead_by,
            pull_requests: self.ahead.pull_requests.len(),
            behind: self.behind_by,
            not_listed: list.not_listed,
            taken_out,
            authors: authors(&list.commits),
            care: labels
                .iter()
                .filter(|l| care.iter().any(|c| c.eq_ignore_ascii_case(&l.label)))
                .cloned()
                .collect(),
            labels,
            lines: all,
            more,
            compare_url: self.compare_url.clone(),
        }
    }
}

fn pr_line(p: &PullRequest) -> SummaryLine {
    SummaryLine {
        kind: LineKind::PullRequest,
        id: format!("#{}", p.number),
        title: p.title.clone(),
        author: p.author.clone(),
        labels: p.labels.clone(),
        url: Some(p.url.clone()),
    }
}

fn commit_line(c: &ChangeCommit) -> SummaryLine {
    SummaryLine {
        kind: LineKind::Commit,
        id: c.short.clone(),
        title: c.title.clone(),
        author: c.author().map(str::to_owned),
        labels: Vec::new(),
        url: c.url.clone(),
    }
}

/// Authors by number of commits, most first (ties: first seen first).
fn authors(commits: &[ChangeCommit]) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for a in commits.iter().filter_map(ChangeCommit::author) {
        match counts.iter_mut().find(|(n, _)| n == a) {
            Some((_, c)) => *c += 1,
            None => counts.push((a.to_owned(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().map(|(a, _)| a).collect()
}

fn label_counts(pulls: &[PullRequest]) -> Vec<LabelCount> {
    let mut out: Vec<LabelCount> = Vec::new();
    for p in pulls {
        for l in &p.labels {
            match out.iter_mut().find(|c| &c.label == l) {
                Some(c) => c.pull_requests.push(p.number),
                None => out.push(LabelCount {
                    label: l.clone(),
                    pull_requests: vec![p.number],
                }),
            }
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.pull_requests.len()));
    out
}

impl EnvChanges {
    /// `miker-web stg → prod: 12 commits, 5 PRs ahead`.
    pub fn headline(&self) -> String {
        format!(
            "{} {} → {}: {}",
            self.app,
            self.to.env,
            self.from.env,
            self.changes.headline()
        )
    }

    /// See [`Changes::summary`].
    pub fn summary(&self, max_lines: usize, care: &[&str]) -> ChangeSummary {
        self.changes.summary(max_lines, care)
    }
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::services::github::RequestCount;

    pub(in crate::services::github) fn commit(
        short: &str,
        author: &str,
        prs: &[u64],
    ) -> ChangeCommit {
        ChangeCommit {
            sha: format!("{short}{}", "0".repeat(33)),
            short: short.to_owned(),
            author_login: Some(author.to_owned()),
            author_name: None,
            date: None,
            title: format!("title of {short}"),
            url: Some(format!("https://gh/c/{short}")),
            pull_requests: prs.to_vec(),
        }
    }

    pub(in crate::services::github) fn pr(n: u64, labels: &[&str]) -> PullRequest {
        PullRequest {
            number: n,
            title: format!("PR *{n}*"),
            author: Some("carol".to_owned()),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            merged_by: Some("alice".to_owned()),
            url: format!("https://gh/pull/{n}"),
            commits: 1,
        }
    }

    pub(in crate::services::github) fn changes(
        ahead: Vec<ChangeCommit>,
        prs: Vec<PullRequest>,
        behind_by: u64,
    ) -> Changes {
        let n = ahead.len() as u64;
        Changes {
            base_sha: "a".repeat(40),
            head_sha: "b".repeat(40),
            merge_base_sha: None,
            status: CompareStatus::from_counts(n, behind_by),
            ahead_by: n,
            behind_by,
            files_changed: 4,
            files_capped: false,
            compare_url: Some("https://gh/compare/a...b".to_owned()),
            ahead: CommitList {
                total: n,
                commits: ahead,
                pull_requests: prs,
                not_listed: 0,
            },
            behind: CommitList {
                total: behind_by,
                ..CommitList::default()
            },
            fetched_at: jiff::Timestamp::UNIX_EPOCH,
            requests: RequestCount::default(),
        }
    }

    /// The cockpit spawns these reads: their futures must be `Send` (a compile-time check).
    #[allow(dead_code)]
    fn env_changes_can_be_spawned(svc: GatesService) {
        tokio::spawn(async move {
            let _ = svc.env_changes("a", ("b", "c"), ("d", "e")).await;
            let _ = svc.compare_fresh("c", "e").await;
        });
    }

    #[test]
    fn headline_and_summary() {
        let c = changes(
            vec![
                commit("1111111", "carol", &[7]),
                commit("2222222", "bob", &[]),
                commit("3333333", "carol", &[8]),
            ],
            vec![pr(7, &["breaking", "web"]), pr(8, &["web"])],
            0,
        );
        assert_eq!(c.headline(), "3 commits, 2 PRs ahead");
        let s = c.summary(2, &DEFAULT_CARE_LABELS);
        assert_eq!(s.authors, ["carol", "bob"]);
        assert_eq!(s.labels[0].label, "web");
        assert_eq!(
            s.care,
            [LabelCount {
                label: "breaking".into(),
                pull_requests: vec![7]
            }]
        );
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0].id, "#7");
        assert_eq!(s.more, 1, "the direct commit did not fit");
        let one = changes(vec![commit("1111111", "carol", &[])], Vec::new(), 0);
        assert_eq!(one.headline(), "1 commit, 0 PRs ahead");
        let same = changes(Vec::new(), Vec::new(), 0);
        assert_eq!(same.headline(), "no changes (the same commit)");
        let down = changes(Vec::new(), Vec::new(), 3);
        assert_eq!(down.headline(), "3 commits, 0 PRs behind (a downgrade)");
        assert!(down.summary(5, &[]).taken_out);
    }
}
