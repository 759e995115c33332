//! What a promote brings, for its commit trailer and its chat card: GitHub's comparison of the
//! target env's tag with the source env's. It informs, it does not gate: asked within a bound,
//! and a GitHub that does not answer leaves the promote as it was (the journal says why).

use std::time::Duration;

use super::OpCtx;
use crate::services::feishu::{CARD_CHANGE_LINES, CardChanges};
use crate::services::github::ChangeSummary;

/// How long a promote waits for the comparison before it goes on without it.
const BOUND: Duration = Duration::from_secs(10);

/// The changes `source` (running `to`) brings to `env` (running `from`), or `None` when
/// GitHub is not configured, the tags name no commits, or it did not answer in time.
pub(super) async fn of_promote(
    ctx: &OpCtx,
    app: &str,
    (env, from): (&str, &str),
    (source, to): (&str, &str),
) -> Option<ChangeSummary> {
    let svc = ctx.gates()?;
    if from == to {
        return None;
    }
    let care = ctx
        .inventory()
        .ok()
        .and_then(|i| i.github.as_ref())
        .map(crate::inventory::GithubConfig::care_labels)
        .unwrap_or_default();
    let care: Vec<&str> = care.iter().map(String::as_str).collect();
    match tokio::time::timeout(BOUND, svc.env_changes(app, (env, from), (source, to))).await {
        Ok(Ok(c)) => Some(c.summary(CARD_CHANGE_LINES, &care)),
        Ok(Err(e)) => {
            tracing::warn!("promote {app} {env}: changes unknown: {e}");
            None
        }
        Err(_) => {
            tracing::warn!(
                "promote {app} {env}: changes unknown: GitHub did not answer within {} s",
                BOUND.as_secs()
            );
            None
        }
    }
}

/// The `Shipdeck-Changes` trailer: `12 commits, 5 PRs` (or what a downgrade takes out).
pub(super) fn trailer(s: &ChangeSummary) -> String {
    let n = |count: u64, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let prs = u64::try_from(s.pull_requests).unwrap_or(u64::MAX);
    if s.taken_out {
        format!(
            "{}, {} taken out (a downgrade)",
            n(s.behind, "commit", "commits"),
            n(prs, "PR", "PRs")
        )
    } else {
        format!(
            "{}, {}",
            n(s.commits, "commit", "commits"),
            n(prs, "PR", "PRs")
        )
    }
}

/// The card's block: the headline, the first lines, the compare page.
pub(super) fn card(s: &ChangeSummary) -> CardChanges {
    CardChanges {
        headline: s.headline.clone(),
        lines: s
            .lines
            .iter()
            .map(|l| format!("{} {}", l.id, l.title))
            .collect(),
        more: s.more,
        compare_url: s.compare_url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::github::{CompareStatus, LineKind, SummaryLine};

    fn summary(commits: u64, prs: usize, behind: u64) -> ChangeSummary {
        ChangeSummary {
            headline: format!("{commits} commits, {prs} PRs ahead"),
            status: CompareStatus::Ahead,
            commits,
            pull_requests: prs,
            behind,
            not_listed: 0,
            taken_out: behind > 0,
            authors: vec![],
            labels: vec![],
            care: vec![],
            lines: vec![SummaryLine {
                kind: LineKind::PullRequest,
                id: "#482".into(),
                title: "Checkout: pay by invoice".into(),
                author: None,
                labels: vec![],
                url: None,
            }],
            more: 4,
            compare_url: Some("https://github.example/o/r/compare/a...b".into()),
        }
    }

    #[test]
    fn the_trailer_counts_what_goes_out_or_comes_out() {
        assert_eq!(trailer(&summary(12, 5, 0)), "12 commits, 5 PRs");
        assert_eq!(trailer(&summary(1, 1, 0)), "1 commit, 1 PR");
        assert_eq!(
            trailer(&summary(0, 2, 3)),
            "3 commits, 2 PRs taken out (a downgrade)"
        );
    }

    #[test]
    fn the_card_block_lists_the_first_lines_and_the_compare_page() {
        let block = card(&summary(12, 5, 0));
        let card = crate::services::feishu::Notification::promote(
            "miker-web",
            "stg",
            "prod",
            "9f1c2ab",
            "alice",
        )
        .with_changes(block)
        .card()
        .to_string();
        assert!(
            card.contains("**Changes** 12 commits, 5 PRs ahead"),
            "{card}"
        );
        assert!(card.contains("#482 Checkout: pay by invoice"), "{card}");
        assert!(card.contains("… and 4 more"), "{card}");
        assert!(
            card.contains("[compare on GitHub](https://github.example/o/r/compare/a...b)"),
            "{card}"
        );
    }
}
