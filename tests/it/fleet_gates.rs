//! The fleet's gate reads against the sandbox GitHub over HTTP: many commits per GraphQL
//! query, the same answers as the cockpit's REST path, the shared cache, and rate limits.

use std::time::{Duration, Instant};

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use shipdeck::sandbox::github::{
    GithubSandbox, GithubSandboxOpts, PIPELINE, SandboxStats, Scenario, StatusOutcome, Throttle,
    ThrottleKind,
};
use shipdeck::services::github::{
    GRAPHQL_RESERVE, GateReport, GateState, GatesService, GithubError, GithubSettings,
};

/// Long after the push: everything has finished.
const DONE: Duration = Duration::from_secs(10_000);
/// Everything but codeql has finished (it ends at 405 s).
const CODEQL_RUNNING: Duration = Duration::from_secs(300);

fn required() -> Vec<String> {
    PIPELINE.iter().map(|s| (*s).to_owned()).collect()
}

async fn frozen_sandbox() -> GithubSandbox {
    GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        seed_demo: false,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap()
}

fn settings(url: &str, min_refresh: Duration) -> GithubSettings {
    GithubSettings {
        api_url: url.to_owned(),
        owner: "example-org".to_owned(),
        repo: "miker".to_owned(),
        token: None,
        tag_sha_regex: None,
        min_refresh,
        timeouts: (Some(5), Some(20)),
    }
}

fn service(url: &str, min_refresh: Duration) -> GatesService {
    GatesService::new(settings(url, min_refresh)).unwrap()
}

/// `n` finished green commits with distinct short SHAs from `base`: (short, full).
fn green(sb: &GithubSandbox, base: u32, n: u32) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let short = format!("{:07x}", base + i);
            let full = sb.add_commit_at(&short, Scenario::pipeline(), DONE);
            (short, full)
        })
        .collect()
}

/// (REST requests, GraphQL requests) served since `before`.
fn spent(sb: &GithubSandbox, before: SandboxStats) -> (u64, u64) {
    let now = sb.stats();
    (now.requests - before.requests, now.graphql - before.graphql)
}

fn ok(r: &Result<GateReport, GithubError>) -> &GateReport {
    r.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn many_commits_cost_one_query_per_fifty_and_no_rest() {
    let sb = frozen_sandbox().await;
    let commits = green(&sb, 0xb00_0000, 120);
    // Half asked by short SHA (as image tags name them), half by full.
    let asked: Vec<String> = commits
        .iter()
        .enumerate()
        .map(|(i, (short, full))| {
            if i % 2 == 0 {
                short.clone()
            } else {
                full.clone()
            }
        })
        .collect();
    let svc = service(sb.url(), Duration::from_secs(10));
    let before = sb.stats();
    let first = svc.reports(&asked, &required()).await;
    assert_eq!(
        spent(&sb, before),
        (0, 3),
        "120 commits: 3 GraphQL queries, no REST"
    );
    assert_eq!(first.len(), 120);
    for ((sha, r), (asked_sha, (_, full))) in first.iter().zip(asked.iter().zip(&commits)) {
        assert_eq!(sha, asked_sha, "answers in the order asked, keyed as asked");
        let r = ok(r);
        assert_eq!(&r.sha, full, "the short SHA resolved to the full one");
        assert!(r.all_passed && r.settled, "{}", r.summary);
        assert_eq!(r.summary, "7/7 passed");
        assert!(r.rate_limited_until.is_none());
    }

    // Settled: served from the cache, by batch and by the cockpit's single-commit path (the
    // short SHAs were resolved by the batch, so not even a REST lookup is needed).
    let before = sb.stats();
    let again = svc.reports(&asked, &required()).await;
    assert_eq!(spent(&sb, before), (0, 0));
    for ((_, a), (_, b)) in first.iter().zip(&again) {
        assert_eq!(ok(a), ok(b));
    }
    let single = svc.report(&commits[0].0, &required()).await.unwrap();
    assert_eq!(&single, ok(&first[0].1));
    // By image tag, as the fleet's cells name them; a tag that is no SHA is its own error.
    let tags = vec![
        format!("sha-{}", commits[2].0),
        "latest".to_owned(),
        commits[1].1.clone(),
    ];
    let by_tag = svc.reports_for_tags(&tags, &required()).await;
    assert_eq!(by_tag[0].0, tags[0]);
    assert_eq!(ok(&by_tag[0].1).sha, commits[2].1);
    assert!(matches!(&by_tag[1].1, Err(GithubError::BadTag { tag, .. }) if tag == "latest"));
    assert_eq!(ok(&by_tag[2].1).sha, commits[1].1);
    assert_eq!(spent(&sb, before), (0, 0));
    sb.shutdown().await;
}

/// A report as compared across the two paths: when it was read and when to read it again
/// differ by construction; a running gate's time so far may tick over a second in between.
fn comparable(mut r: GateReport, other: &GateReport) -> GateReport {
    r.fetched_at = other.fetched_at;
    if let (Some(_), Some(b)) = (r.refresh_after, other.refresh_after) {
        r.refresh_after = Some(b);
    }
    for (g, o) in r.gates.iter_mut().zip(&other.gates) {
        let both_running = g.state == GateState::Running && o.state == GateState::Running;
        if let (true, Some(a), Some(b)) = (both_running, g.duration_s, o.duration_s) {
            assert!(a.abs_diff(b) <= 1, "{} ran {a} s vs {b} s", g.name);
            g.duration_s = o.duration_s;
        }
    }
    r
}

#[tokio::test]
async fn rest_and_graphql_give_the_same_report() {
    let sb = frozen_sandbox().await;
    let cases = [
        ("c000001", Scenario::pipeline(), DONE),
        ("c000002", Scenario::pipeline().failing("test"), DONE),
        ("c000003", Scenario::pipeline(), CODEQL_RUNNING),
        ("c000004", Scenario::pipeline(), Duration::ZERO),
        ("c000005", Scenario::pipeline().rerun("lint"), DONE),
        (
            "c000006",
            Scenario::pipeline()
                .with_status("deploy/preview", 30, StatusOutcome::Success)
                .with_status("license/cla", 20, StatusOutcome::Failure),
            DONE,
        ),
        (
            "c000007",
            Scenario::pipeline().with_status("deploy/preview", 100_000, StatusOutcome::Success),
            CODEQL_RUNNING,
        ),
        // More contexts than one page holds: the batch follows the cursor.
        ("c000008", Scenario::pipeline().with_matrix(130), DONE),
        ("c000009", Scenario::pipeline().without("trivy"), DONE),
    ];
    let mut shas: Vec<String> = cases
        .into_iter()
        .map(|(short, scenario, at)| sb.add_commit_at(short, scenario, at))
        .collect();
    shas[3] = "c000004".to_owned(); // a short one
    let unknown = "deadbee".to_owned();
    shas.push(unknown.clone());
    let mut with_more = required();
    with_more.extend(["deploy/preview", "license/cla", "ci", "never-reported"].map(String::from));
    for req in [required(), with_more, Vec::new()] {
        let rest = service(sb.url(), Duration::ZERO);
        let batch = service(sb.url(), Duration::ZERO);
        let before = sb.stats();
        let batched = batch.reports(&shas, &req).await;
        assert_eq!(
            spent(&sb, before),
            (0, 2),
            "one query, and one more page of the matrix commit's contexts"
        );
        for (sha, got) in &batched {
            let want = rest.report(sha, &req).await;
            match (want, got) {
                (Ok(want), Ok(got)) => {
                    assert_eq!(comparable(got.clone(), &want), want, "{sha}");
                }
                (
                    Err(GithubError::UnknownCommit { sha: a, .. }),
                    Err(GithubError::UnknownCommit { sha: b, .. }),
                ) => assert_eq!((a.as_str(), b.as_str()), ("deadbee", "deadbee")),
                (want, got) => panic!("{sha}: REST {want:?}, GraphQL {got:?}"),
            }
        }
    }
    // What the cases cover, read once more through the batch.
    let svc = service(sb.url(), Duration::ZERO);
    let all = svc.reports(&shas, &required()).await;
    let summaries: Vec<String> = all
        .iter()
        .map(|(_, r)| {
            r.as_ref()
                .map_or_else(ToString::to_string, |r| r.summary.clone())
        })
        .collect();
    assert_eq!(summaries[0], "7/7 passed");
    assert_eq!(summaries[1], "6/7 passed, 1 failed");
    assert_eq!(summaries[2], "6/7 passed, 1 running");
    assert_eq!(summaries[3], "0/7 passed, 7 running");
    assert_eq!(summaries[8], "6/7 passed, 1 missing");
    assert!(
        summaries[9].contains("deadbee is unknown"),
        "{}",
        summaries[9]
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn only_what_still_runs_is_read_again() {
    let sb = frozen_sandbox().await;
    let mut shas: Vec<String> = green(&sb, 0xd00_0000, 30)
        .into_iter()
        .map(|c| c.1)
        .collect();
    shas.push(sb.add_commit_at("d100000", Scenario::pipeline(), CODEQL_RUNNING));
    let svc = service(sb.url(), Duration::ZERO);
    let before = sb.stats();
    let first = svc.reports(&shas, &required()).await;
    assert_eq!(spent(&sb, before), (0, 1));
    assert!(!ok(&first[30].1).settled);

    // The refresh spacing is zero: the running commit is read again, alone; the settled not.
    let before = sb.stats();
    let second = svc.reports(&shas, &required()).await;
    assert_eq!(spent(&sb, before), (0, 1));
    assert!(ok(&second[30].1).fetched_at > ok(&first[30].1).fetched_at);
    for i in 0..30 {
        assert_eq!(ok(&second[i].1).fetched_at, ok(&first[i].1).fetched_at);
    }
    let before = sb.stats();
    let settled = svc.reports(&shas[..30], &required()).await;
    assert_eq!(spent(&sb, before), (0, 0), "settled commits cost nothing");
    assert_eq!(settled.len(), 30);
    sb.shutdown().await;
}

async fn limited_then(kind: ThrottleKind, status: u16) {
    let sb = frozen_sandbox().await;
    let known: Vec<String> = green(&sb, 0xe00_0000, 10)
        .into_iter()
        .map(|c| c.1)
        .collect();
    let running = sb.add_commit_at("e100000", Scenario::pipeline(), CODEQL_RUNNING);
    let fresh: Vec<String> = green(&sb, 0xe20_0000, 5).into_iter().map(|c| c.1).collect();
    let svc = service(sb.url(), Duration::ZERO);
    let mut first_ask = known.clone();
    first_ask.push(running.clone());
    let first = svc.reports(&first_ask, &required()).await;
    let running_before = ok(&first[10].1).clone();

    sb.set_graphql_throttle(Some(Throttle {
        status,
        kind,
        lasting: Duration::from_secs(600),
    }));
    let mut ask = first_ask.clone();
    ask.extend(fresh.iter().cloned());
    let before = sb.stats();
    let answers = svc.reports(&ask, &required()).await;
    assert_eq!(
        spent(&sb, before),
        (0, 1),
        "the refused query, and none after it"
    );
    for (_, r) in &answers[..10] {
        let r = ok(r);
        assert!(
            r.settled && r.rate_limited_until.is_none(),
            "settled: from the cache"
        );
    }
    let r = ok(&answers[10].1);
    let until = r
        .rate_limited_until
        .expect("the last gates, marked as limited");
    let wait = until.duration_since(Timestamp::now()).as_secs();
    assert!((590..=601).contains(&wait), "{until}");
    assert_eq!(r.summary, running_before.summary);
    assert_eq!(
        r.fetched_at, running_before.fetched_at,
        "from the last good read"
    );
    for (sha, r) in &answers[11..] {
        match r {
            Err(GithubError::RateLimited { until: u }) => assert_eq!(*u, until, "{sha}"),
            other => panic!("{sha}: expected RateLimited, got {other:?}"),
        }
    }
    // Asked again before the end: nothing is sent at all.
    let before = sb.stats();
    let again = svc.reports(&ask, &required()).await;
    assert_eq!(spent(&sb, before), (0, 0));
    assert!(matches!(again[15].1, Err(GithubError::RateLimited { .. })));
    sb.shutdown().await;
}

#[tokio::test]
async fn graphql_rate_limited_primary() {
    limited_then(ThrottleKind::Primary, 200).await;
}

#[tokio::test]
async fn graphql_rate_limited_secondary_403_retry_after() {
    limited_then(ThrottleKind::Secondary, 403).await;
}

#[tokio::test]
async fn the_reserve_is_left_for_the_cockpit() {
    let sb = frozen_sandbox().await;
    // Two queries' worth above the reserve.
    sb.set_graphql_limit(GRAPHQL_RESERVE + 2);
    let shas: Vec<String> = green(&sb, 0xf00_0000, 120)
        .into_iter()
        .map(|c| c.1)
        .collect();
    let svc = service(sb.url(), Duration::from_secs(10));
    let before = sb.stats();
    let answers = svc.reports(&shas, &required()).await;
    assert_eq!(spent(&sb, before), (0, 2), "stopped with the reserve left");
    assert!(answers[..100].iter().all(|(_, r)| ok(r).all_passed));
    let reset = match &answers[100].1 {
        Err(GithubError::RateLimited { until }) => *until,
        other => panic!("expected RateLimited, got {other:?}"),
    };
    assert!(
        reset > Timestamp::now() + SignedDuration::from_secs(3000),
        "the window's reset"
    );
    assert!(
        answers[100..]
            .iter()
            .all(|(_, r)| matches!(r, Err(GithubError::RateLimited { until }) if *until == reset))
    );
    let rate = svc.graphql_rate_limit();
    assert_eq!(
        (rate.limit, rate.remaining),
        (Some(GRAPHQL_RESERVE + 2), Some(GRAPHQL_RESERVE))
    );
    // Later asks spend none of the reserve either; the cached ones are still served.
    let before = sb.stats();
    let again = svc.reports(&shas, &required()).await;
    assert_eq!(spent(&sb, before), (0, 0));
    assert!(ok(&again[0].1).all_passed);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_failed_query_is_each_commits_error() {
    let sb = GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        seed_demo: false,
        token: Some("s3cret".to_owned()),
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let shas: Vec<String> = green(&sb, 0x900_0000, 120)
        .into_iter()
        .map(|c| c.1)
        .collect();
    // No token: GitHub's GraphQL needs one, and says so for every commit asked.
    let answers = service(sb.url(), Duration::ZERO)
        .reports(&shas, &required())
        .await;
    assert_eq!(answers.len(), 120);
    for (sha, r) in &answers {
        assert!(matches!(r, Err(GithubError::NeedsToken)), "{sha}: {r:?}");
    }
    let wrong = GatesService::new(GithubSettings {
        token: Some(SecretString::from("wrong".to_owned())),
        ..settings(sb.url(), Duration::ZERO)
    })
    .unwrap();
    let answers = wrong.reports(&shas, &required()).await;
    assert!(
        answers
            .iter()
            .all(|(_, r)| matches!(r, Err(GithubError::Unauthorized)))
    );
    let right = GatesService::new(GithubSettings {
        token: Some(SecretString::from("s3cret".to_owned())),
        ..settings(sb.url(), Duration::ZERO)
    })
    .unwrap();
    let before = sb.stats();
    let answers = right.reports(&shas, &required()).await;
    assert_eq!(spent(&sb, before), (0, 3));
    assert!(answers.iter().all(|(_, r)| ok(r).all_passed));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_commit_half_read_when_points_run_low_is_not_kept() {
    let sb = frozen_sandbox().await;
    sb.set_graphql_limit(GRAPHQL_RESERVE + 2);
    // 257 contexts: three pages, and points for two queries.
    let big = sb.add_commit_at("a0b0c0d", Scenario::pipeline().with_matrix(250), DONE);
    let small = sb.add_commit_at("a0b0c0e", Scenario::pipeline(), DONE);
    let svc = service(sb.url(), Duration::ZERO);
    let before = sb.stats();
    let answers = svc.reports(&[big.clone(), small], &required()).await;
    assert_eq!(spent(&sb, before), (0, 2));
    assert!(ok(&answers[1].1).all_passed);
    match &answers[0].1 {
        Err(GithubError::RateLimited { .. }) => {}
        other => panic!("{big}: half read must not be a report, got {other:?}"),
    }
    sb.shutdown().await;
}

/// The figures for the issue: 900 tags (300 apps × 3 envs) through the batch, and the same
/// commits through the REST path for comparison. `cargo test --locked --test it --
/// fleet_gates::measure --nocapture` prints them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_900_commits() {
    let sb = frozen_sandbox().await;
    let mut shas: Vec<String> = green(&sb, 0xa00_0000, 870)
        .into_iter()
        .map(|c| c.1)
        .collect();
    for i in 0..30 {
        shas.push(sb.add_commit_at(
            &format!("{:07x}", 0xa10_0000 + i),
            Scenario::pipeline(),
            CODEQL_RUNNING,
        ));
    }
    let svc = service(sb.url(), Duration::from_secs(10));
    let before = sb.stats();
    let t = Instant::now();
    let cold = svc.reports(&shas, &required()).await;
    let cold_time = t.elapsed();
    let (cold_rest, cold_gql) = spent(&sb, before);
    assert_eq!((cold_rest, cold_gql), (0, 18));
    assert!(cold.iter().all(|(_, r)| r.is_ok()));

    let before = sb.stats();
    let t = Instant::now();
    let warm = svc.reports(&shas, &required()).await;
    let warm_time = t.elapsed();
    let (warm_rest, warm_gql) = spent(&sb, before);
    assert_eq!((warm_rest, warm_gql), (0, 0), "within the refresh spacing");
    assert_eq!(warm.len(), 900);

    let rest = service(sb.url(), Duration::from_secs(10));
    let req = required();
    let before = sb.stats();
    let t = Instant::now();
    let by_rest: Vec<_> = futures::stream::iter(shas.iter())
        .map(|sha| rest.report(sha, &req))
        .buffered(8)
        .collect()
        .await;
    let rest_time = t.elapsed();
    let (rest_rest, rest_gql) = spent(&sb, before);
    assert!(by_rest.iter().all(Result::is_ok));
    assert_eq!((rest_rest, rest_gql), (2700, 0));
    println!(
        "fleet gates, 900 commits (870 settled, 30 running): batch cold {cold_gql} GraphQL + {cold_rest} REST requests in {cold_time:?}; \
         batch warm {warm_gql} + {warm_rest} in {warm_time:?}; REST path (8 at a time) {rest_gql} GraphQL + {rest_rest} REST in {rest_time:?}"
    );
    sb.shutdown().await;
}
