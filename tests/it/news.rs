//! The cluster's own news in the cockpit: a release of a bad build is aborted by its analysis
//! in the (simulated) cluster, and that is told once in Activity and once per chat that wants
//! it, and not again by a cockpit started afterwards.

use std::time::Duration;

use shipdeck::app::{Action, Command};

use crate::harness::Cockpit;
use crate::ops::{World, cockpit};

const ABORTED: &str = "aborted by analysis";

fn abort_lines(c: &Cockpit) -> Vec<String> {
    c.state
        .activity
        .iter()
        .filter(|a| a.text.contains(ABORTED))
        .map(|a| a.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_by_analysis_is_told_once_per_chat_and_not_again_after_a_restart() {
    let w = World::start_at(true, 20.0).await;
    let mut c = cockpit(&w).await;
    let watches = c.runner.start_watches(&w.inv).unwrap();
    c.until("dev's first snapshot", |s| {
        s.live.rollout("miker-web", "dev").is_some()
    })
    .await;
    // A build whose success rate is bad (the sandbox's analysis fails tags containing "bad").
    c.select_env("dev");
    c.press(Command::Release);
    c.type_text("bad1234");
    c.apply(Action::Submit);
    c.apply(Action::Submit);
    let line = c.finish_task().await;
    assert!(line.contains("pushed"), "{line}");
    c.until("the analysis to abort the canary", |s| {
        s.activity.iter().any(|a| a.text.contains(ABORTED))
    })
    .await;
    let lines = abort_lines(&c);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0]
            .starts_with("miker-web dev: canary bad1234 aborted by analysis: success-rate = [0."),
        "{lines:#?}"
    );
    // One card per chat: `releases` takes every kind, `platform` lists auto_abort.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let cards = loop {
        let cards: Vec<(String, String)> = w
            .cards()
            .into_iter()
            .filter(|(_, title)| title.contains("Canary aborted by analysis"))
            .collect();
        if cards.len() >= 2 {
            break cards;
        }
        assert!(tokio::time::Instant::now() < deadline, "cards: {cards:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let chats: Vec<&str> = cards.iter().map(|(chat, _)| chat.as_str()).collect();
    assert_eq!(chats, ["platform", "releases"], "{cards:#?}");
    assert!(cards[0].1.contains("miker-web dev bad1234"), "{cards:#?}");

    // A cockpit started afterwards on the same state folder reads the aborted rollout and
    // tells nothing: the fact was told.
    watches.abort();
    let mut again = Cockpit::connect(&w.inv, &w.cockpit_paths()).await;
    let watches = again.runner.start_watches(&w.inv).unwrap();
    again
        .until("the aborted rollout, read again", |s| {
            s.live
                .rollout("miker-web", "dev")
                .is_some_and(|r| r.aborted)
        })
        .await;
    assert!(abort_lines(&again).is_empty(), "{:#?}", abort_lines(&again));
    let total = w
        .cards()
        .into_iter()
        .filter(|(_, title)| title.contains("Canary aborted by analysis"))
        .count();
    assert_eq!(total, 2);
    watches.abort();
}
