//! CI gates against the sandbox GitHub over real HTTP: octocrab's typed calls for the payload
//! shapes and GraphQL, shipdeck's gates service (octocrab's raw requests) for paging, ETags,
//! rate limits and the guard, and the real binary for `shipdeck gates`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};
use shipdeck::inventory::Inventory;
use shipdeck::sandbox::github::{
    Conclusion, GithubSandbox, GithubSandboxOpts, OrgSeed, PIPELINE, Scenario, Throttle,
    ThrottleKind,
};
use shipdeck::services::github::{GateState, GatesService, GithubError, GithubSettings, guard};

/// Long enough after the push that the whole pipeline has finished.
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
        timeouts: (None, None),
    }
}

fn service(url: &str, min_refresh: Duration) -> GatesService {
    GatesService::new(settings(url, min_refresh)).unwrap()
}

fn octocrab(url: &str) -> octocrab::Octocrab {
    let _ = rustls::crypto::ring::default_provider().install_default();
    octocrab::Octocrab::builder()
        .base_uri(url)
        .unwrap()
        .personal_token("sandbox-token".to_owned())
        .build()
        .unwrap()
}

fn fixture_inventory(dir: &Path, api_url: &str) -> PathBuf {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gates/inventory.yaml"),
    )
    .unwrap()
    .replace("API_URL", api_url);
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn inventory(api_url: &str) -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_inventory(dir.path(), api_url);
    let inv = Inventory::load(&path).unwrap();
    (dir, inv)
}

#[tokio::test]
async fn payloads_parse_as_octocrab_models() {
    let sb = frozen_sandbox().await;
    let sha = sb.add_commit_at("5d2e8a1", Scenario::pipeline(), CODEQL_RUNNING);
    let gh = octocrab(sb.url());
    let runs = gh
        .checks("example-org", "miker")
        .list_check_runs_for_git_ref(octocrab::params::repos::Commitish("5d2e8a1".to_owned()))
        .per_page(100u8)
        .send()
        .await
        .unwrap();
    assert_eq!(runs.total_count, 7);
    let codeql = runs.check_runs.iter().find(|c| c.name == "codeql").unwrap();
    assert_eq!(codeql.head_sha, sha);
    assert!(codeql.conclusion.is_none() && codeql.completed_at.is_none());
    // octocrab's combined_status_for_ref only takes branches and tags: the generic GET.
    let status: octocrab::models::CombinedStatus = gh
        .get(
            format!("/repos/example-org/miker/commits/{sha}/status"),
            None::<&()>,
        )
        .await
        .unwrap();
    assert_eq!(status.sha, sha);
    let wf = gh
        .workflows("example-org", "miker")
        .list_all_runs()
        .head_sha(sha.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wf.items.len(), 1);
    assert_eq!(wf.items[0].status, "in_progress");
    assert_eq!(wf.items[0].head_sha, sha);
    sb.shutdown().await;
}

#[tokio::test]
async fn check_runs_progress_queued_in_progress_completed() {
    let sb = frozen_sandbox().await;
    let at = |short: &str, secs: u64, scenario: Scenario| {
        sb.add_commit_at(short, scenario, Duration::from_secs(secs))
    };
    let queued = at("a000001", 0, Scenario::pipeline());
    let testing = at("a000002", 60, Scenario::pipeline());
    let failed = at("a000003", 1000, Scenario::pipeline().failing("trivy"));
    let svc = service(sb.url(), Duration::ZERO);

    let r = svc.report(&queued, &required()).await.unwrap();
    let detail: Vec<Option<&str>> = r.gates.iter().map(|g| g.detail.as_deref()).collect();
    assert!(
        r.gates.iter().all(|g| g.state == GateState::Running),
        "{r:?}"
    );
    assert_eq!(detail[0], Some("queued"));

    let r = svc.report(&testing, &required()).await.unwrap();
    let by = |n: &str| r.gates.iter().find(|g| g.name == n).unwrap().state;
    assert_eq!(by("lint"), GateState::Passed);
    assert_eq!(by("test"), GateState::Running);
    assert_eq!(r.summary, "2/7 passed, 5 running");

    let r = svc.report(&failed, &required()).await.unwrap();
    assert_eq!(r.summary, "6/7 passed, 1 failed");
    assert!(r.settled && !r.all_passed && r.refresh_after.is_none());
    let trivy = r.gates.iter().find(|g| g.name == "trivy").unwrap();
    assert_eq!(trivy.duration_s, Some(40));
    assert!(trivy.url.as_deref().unwrap().starts_with(sb.url()));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_running_timeline_reaches_its_end() {
    // 405 simulated seconds at speed 400: about a second of real time.
    let sb = GithubSandbox::start(GithubSandboxOpts {
        speed: 400.0,
        seed_demo: false,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let sha = sb.add_commit("b000001", Scenario::pipeline().rerun("test"));
    let svc = service(sb.url(), Duration::ZERO);
    let mut seen_running = false;
    let report = loop {
        let r = svc.report(&sha, &required()).await.unwrap();
        seen_running |= r.gates.iter().any(|g| g.state == GateState::Running);
        if r.settled {
            break r;
        }
        assert!(r.refresh_after.is_some());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(seen_running);
    assert!(
        report.all_passed,
        "the re-run of test passed and supersedes the failure: {report:?}"
    );
    assert_eq!(svc.next_refresh_after(&sha), None);
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_beyond_100_check_runs() {
    let sb = frozen_sandbox().await;
    // 150 matrix runs come first, so the pipeline's own checks are on page 2.
    let sha = sb.add_commit_at("c000001", Scenario::pipeline().with_matrix(150), DONE);
    let gh = octocrab(sb.url());
    let checks = gh.checks("example-org", "miker");
    let page1 = checks
        .list_check_runs_for_git_ref(octocrab::params::repos::Commitish(sha.clone()))
        .per_page(100u8)
        .send()
        .await
        .unwrap();
    assert_eq!((page1.total_count, page1.check_runs.len()), (157, 100));
    let page2 = checks
        .list_check_runs_for_git_ref(octocrab::params::repos::Commitish(sha.clone()))
        .per_page(100u8)
        .page(2u32)
        .send()
        .await
        .unwrap();
    assert_eq!(page2.check_runs.len(), 57);
    assert!(page2.check_runs.iter().any(|c| c.name == "gitleaks"));

    let before = sb.stats().check_run_pages;
    let svc = service(sb.url(), Duration::ZERO);
    let r = svc.report(&sha[..7], &required()).await.unwrap();
    assert_eq!(
        sb.stats().check_run_pages - before,
        2,
        "followed Link rel=next once"
    );
    assert_eq!(r.sha, sha);
    assert!(r.all_passed, "{r:?}");
    assert_eq!(r.summary, "7/7 passed");
    // Nothing required: every check seen, across both pages.
    let all = svc.report(&sha, &[]).await.unwrap();
    assert_eq!(all.gates.len(), 157);
    sb.shutdown().await;
}

#[tokio::test]
async fn unchanged_answers_are_304_and_cost_no_rate_limit() {
    let sb = frozen_sandbox().await;
    let sha = sb.add_commit_at("d000001", Scenario::pipeline(), CODEQL_RUNNING);
    let svc = service(sb.url(), Duration::ZERO);
    let first = svc.report(&sha, &required()).await.unwrap();
    let after_first = sb.stats();
    assert_eq!(after_first.not_modified, 0);
    assert_eq!(
        after_first.rate_used, 3,
        "check runs, status, workflow runs"
    );
    let second = svc.report(&sha, &required()).await.unwrap();
    let after_second = sb.stats();
    assert_eq!(after_second.requests - after_first.requests, 3);
    assert_eq!(after_second.not_modified, 3, "all three came back 304");
    assert_eq!(
        after_second.rate_used, after_first.rate_used,
        "a 304 costs nothing"
    );
    assert_eq!(
        first.gates.iter().map(|g| g.state).collect::<Vec<_>>(),
        second.gates.iter().map(|g| g.state).collect::<Vec<_>>()
    );
    assert_eq!(second.summary, "6/7 passed, 1 running");
    assert_eq!(svc.rate_limit().remaining, Some(5000 - 3));
    sb.shutdown().await;
}

#[tokio::test]
async fn refresh_only_while_running_and_at_most_every_10s() {
    let sb = frozen_sandbox().await;
    let running = sb.add_commit_at("e000001", Scenario::pipeline(), CODEQL_RUNNING);
    let done = sb.add_commit_at("e000002", Scenario::pipeline(), DONE);
    let svc = service(sb.url(), shipdeck::services::github::MIN_REFRESH);

    let r = svc.report(&running, &required()).await.unwrap();
    let due = r.refresh_after.expect("running gates refresh");
    assert_eq!(due.duration_since(r.fetched_at).as_secs(), 10);
    assert_eq!(svc.next_refresh_after(&running), Some(due));
    let n = sb.stats().requests;
    svc.report(&running, &required()).await.unwrap();
    assert_eq!(sb.stats().requests, n, "within 10 s: served from the cache");
    // A forced refresh keeps the ETags: it costs requests, not rate limit.
    svc.invalidate(&running);
    svc.report(&running, &required()).await.unwrap();
    assert_eq!(sb.stats().requests, n + 3);
    assert_eq!(sb.stats().not_modified, 3);

    let r = svc.report(&done, &required()).await.unwrap();
    assert!(r.settled && r.refresh_after.is_none());
    assert_eq!(svc.next_refresh_after(&done), None);
    let n = sb.stats().requests;
    let fast = service(sb.url(), Duration::ZERO);
    fast.report(&done, &required()).await.unwrap();
    let m = sb.stats().requests;
    fast.report(&done, &required()).await.unwrap();
    assert_eq!(
        sb.stats().requests,
        m,
        "completed results are immutable: never refetched"
    );
    // Release/promote re-reads even a settled commit before the guard.
    let r = fast.fresh_report(&done[..7], &required()).await.unwrap();
    assert_eq!(
        sb.stats().requests,
        m + 1 + 3,
        "the short SHA resolved, then three reads"
    );
    assert!(r.all_passed);
    assert!(m > n);
    sb.shutdown().await;
}

async fn throttled_then_retried(status: u16, kind: ThrottleKind) {
    let sb = frozen_sandbox().await;
    let sha = sb.add_commit_at("f000001", Scenario::pipeline(), CODEQL_RUNNING);
    let other = sb.add_commit_at("f000002", Scenario::pipeline(), DONE);
    let svc = service(sb.url(), Duration::ZERO);
    let before = svc.report(&sha, &required()).await.unwrap();
    assert!(before.rate_limited_until.is_none());

    sb.set_throttle(Some(Throttle {
        status,
        kind,
        lasting: Duration::from_secs(1),
    }));
    // Known commit: the last gates, marked "rate limited until T".
    let r = svc.report(&sha, &required()).await.unwrap();
    let until = r.rate_limited_until.expect("rate limit shown as state");
    assert!(until > Timestamp::now() - jiff::SignedDuration::from_secs(1));
    assert_eq!(r.summary, before.summary);
    assert_eq!(svc.rate_limit().limited_until, Some(until));
    assert_eq!(
        r.refresh_after,
        Some(until),
        "the scheduler comes back after the limit"
    );
    // The three reads go out together; each may meet the limit, none goes out after it.
    assert!((1..=3).contains(&sb.stats().throttled));
    // Unknown commit while limited: an error naming the instant, and no request sent.
    let sent = sb.stats().requests;
    match svc.report(&other, &required()).await {
        Err(GithubError::RateLimited { until: u }) => assert_eq!(u, until),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        sb.stats().requests,
        sent,
        "nothing is sent before the limit ends"
    );
    // After it: retried and served.
    let r = svc
        .report_waiting(&other, &required(), Duration::from_secs(30))
        .await
        .unwrap();
    assert!(Timestamp::now() >= until);
    assert!(r.all_passed && r.rate_limited_until.is_none());
    let r = svc.report(&sha, &required()).await.unwrap();
    assert!(r.rate_limited_until.is_none());
    sb.shutdown().await;
}

#[tokio::test]
async fn throttled_primary_403_with_reset() {
    throttled_then_retried(403, ThrottleKind::Primary).await;
}

#[tokio::test]
async fn throttled_secondary_429_with_retry_after() {
    throttled_then_retried(429, ThrottleKind::Secondary).await;
}

#[tokio::test]
async fn missing_and_failed_gates() {
    let sb = frozen_sandbox().await;
    let sha = sb.add_commit_at(
        "0a00001",
        Scenario::pipeline()
            .without("codeql")
            .concluding("trivy", Conclusion::TimedOut),
        DONE,
    );
    let svc = service(sb.url(), Duration::ZERO);
    let r = svc.report(&sha, &required()).await.unwrap();
    let codeql = r.gates.iter().find(|g| g.name == "codeql").unwrap();
    assert_eq!(codeql.state, GateState::Missing);
    assert!(codeql.url.is_none() && codeql.duration_s.is_none());
    let trivy = r.gates.iter().find(|g| g.name == "trivy").unwrap();
    assert_eq!(
        (trivy.state, trivy.detail.as_deref()),
        (GateState::Failed, Some("timed_out"))
    );
    assert_eq!(r.summary, "5/7 passed, 1 failed, 1 missing");
    assert!(!r.all_passed);
    // Unknown commits are named as such.
    match svc.report("abcdef0", &required()).await {
        Err(GithubError::UnknownCommit { sha, .. }) => assert_eq!(sha, "abcdef0"),
        other => panic!("expected UnknownCommit, got {other:?}"),
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn guard_refuses_and_overrides_only_where_allowed() {
    let sb = GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let (_dir, inv) = inventory(sb.url());
    let prod = inv.env("prod").unwrap();
    let stg = inv.env("stg").unwrap();
    let dev = inv.env("dev").unwrap();
    let svc =
        GatesService::new(GithubSettings::from_config(inv.github.as_ref().unwrap(), None).unwrap())
            .unwrap();

    // The demo seed: 71be0e3 all green, 9f1c2ab with codeql still running.
    let green = svc
        .report_for_tag("71be0e3", &prod.required_checks)
        .await
        .unwrap();
    let pass = guard(prod, &green, None).unwrap();
    assert!(!pass.overridden);
    assert_eq!(pass.trailer, "7/7 passed at 71be0e3");
    assert_eq!(green.trailer(), "7/7 passed at 71be0e3");

    let red = svc
        .report_for_tag("9f1c2ab", &prod.required_checks)
        .await
        .unwrap();
    assert_eq!(red.summary, "6/7 passed, 1 running");
    let refusal = guard(prod, &red, None).unwrap_err();
    assert_eq!(refusal.failing.len(), 1);
    assert_eq!(refusal.failing[0].name, "codeql");
    assert_eq!(refusal.failing[0].state, GateState::Running);
    assert!(!refusal.override_allowed);
    assert!(refusal.to_string().contains("codeql running"), "{refusal}");
    // prod does not allow an override, reason or not.
    let refusal = guard(prod, &red, Some("hotfix for INC-42")).unwrap_err();
    assert!(refusal.to_string().contains("does not allow overriding"));

    // stg allows it, but only with a reason that says something.
    let refusal = guard(stg, &red, None).unwrap_err();
    assert!(refusal.override_allowed);
    assert!(guard(stg, &red, Some("   ")).is_err());
    let pass = guard(stg, &red, Some("hotfix for\nINC-42")).unwrap();
    assert!(pass.overridden);
    assert_eq!(pass.reason.as_deref(), Some("hotfix for INC-42"));
    assert_eq!(pass.overridden_gates[0].name, "codeql");
    assert_eq!(
        pass.trailer,
        "overridden (hotfix for INC-42): 6/7 passed, 1 running at 9f1c2ab; not passed: codeql=running"
    );
    assert!(!pass.trailer.contains('\n'));
    // A reason with green gates is not an override.
    assert!(!guard(stg, &green, Some("just because")).unwrap().overridden);
    // Nothing required: always through.
    let dev_report = svc
        .report_for_tag("9f1c2ab", &dev.required_checks)
        .await
        .unwrap();
    assert!(!guard(dev, &dev_report, None).unwrap().overridden);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_token_is_sent_and_checked() {
    let sb = GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        token: Some("t0ken-for-tests".to_owned()),
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let mut s = settings(sb.url(), Duration::ZERO);
    s.token = Some(SecretString::from("t0ken-for-tests"));
    let ok = GatesService::new(s).unwrap();
    assert!(ok.report("71be0e3", &required()).await.unwrap().all_passed);
    assert!(!format!("{ok:?}").contains("t0ken"));
    let anonymous = service(sb.url(), Duration::ZERO);
    let err = anonymous.report("71be0e3", &required()).await.unwrap_err();
    assert!(matches!(err, GithubError::Unauthorized), "{err:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn graphql_pages_teams_and_members() {
    let sb = GithubSandbox::start(GithubSandboxOpts {
        seed_demo: false,
        org: OrgSeed::generated("example-org", 5, 2000),
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let gh = octocrab(sb.url());
    let teams_q = r"query($org: String!, $after: String) {
      organization(login: $org) {
        teams(first: 2, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes { slug name
            members(first: 100, membership: IMMEDIATE) {
              totalCount
              pageInfo { hasNextPage endCursor }
              edges { role node { login name email organizationVerifiedDomainEmails(login: $org) } }
            }
          }
        }
      }
      rateLimit { cost remaining resetAt }
    }";
    let members_q = r"query($org: String!, $slug: String!, $after: String) {
      organization(login: $org) { team(slug: $slug) {
        members(first: 100, after: $after, membership: IMMEDIATE) {
          pageInfo { hasNextPage endCursor }
          edges { role node { login name email organizationVerifiedDomainEmails(login: $org) } }
        } } } }";
    let mut after: Option<String> = None;
    let mut memberships = 0usize;
    let mut logins = std::collections::BTreeSet::new();
    let mut teams = Vec::new();
    let mut calls = 0;
    loop {
        let data: Value = gh
            .graphql(
                &json!({ "query": teams_q, "variables": { "org": "example-org", "after": after } }),
            )
            .await
            .unwrap();
        calls += 1;
        let conn = &data["organization"]["teams"];
        for team in conn["nodes"].as_array().unwrap() {
            let slug = team["slug"].as_str().unwrap().to_owned();
            let total = team["members"]["totalCount"].as_u64().unwrap();
            let mut edges: Vec<Value> = team["members"]["edges"].as_array().unwrap().clone();
            let mut page = team["members"]["pageInfo"].clone();
            while page["hasNextPage"] == true {
                let more: Value = gh
                    .graphql(&json!({ "query": members_q, "variables": {
                        "org": "example-org", "slug": slug, "after": page["endCursor"] } }))
                    .await
                    .unwrap();
                calls += 1;
                let m = &more["organization"]["team"]["members"];
                edges.extend(m["edges"].as_array().unwrap().iter().cloned());
                page = m["pageInfo"].clone();
            }
            assert_eq!(edges.len() as u64, total, "team {slug}");
            for e in &edges {
                logins.insert(e["node"]["login"].as_str().unwrap().to_owned());
            }
            memberships += edges.len();
            teams.push((slug, edges));
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(teams.len(), 5);
    assert_eq!(logins.len(), 2000, "every user is in some team");
    assert_eq!(
        memberships,
        2000 + 200,
        "every 10th user is also in the next team"
    );
    assert!(calls > 5 + 3, "members were paged beyond the first 100");
    let (_, first_team) = &teams[0];
    assert_eq!(first_team[0]["role"], "MAINTAINER");
    let user0 = &first_team[0]["node"];
    assert_eq!(user0["login"], "user0000");
    assert_eq!(user0["email"], "user0000@users.example.com");
    let user1 = teams[1]
        .1
        .iter()
        .find(|e| e["node"]["login"] == "user0001")
        .unwrap();
    assert_eq!(user1["node"]["email"], "");
    assert_eq!(
        user1["node"]["organizationVerifiedDomainEmails"][0],
        "user0001@corp.example.com"
    );

    // GitHub's rules: first is required and capped at 100; errors surface as octocrab errors.
    let err = gh
        .graphql::<Value>(&json!({ "query": "{ organization(login: \"example-org\") { teams(first: 101) { nodes { slug } } } }" }))
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("exceeds the `first` limit of 100"),
        "{err:?}"
    );
    assert!(sb.stats().graphql >= calls);
    sb.shutdown().await;
}

// ---- the binary ---------------------------------------------------------------------------

async fn shipdeck_gates(inventory: &Path, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .arg("gates")
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn headless_gates_exit_codes_and_json() {
    let sb = GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = fixture_inventory(dir.path(), sb.url());

    let (code, out, err) = shipdeck_gates(
        &inv,
        dir.path(),
        &[
            "miker-web",
            "--env",
            "prod",
            "--tag",
            "71be0e3",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["all_passed"], true);
    assert_eq!(report["summary"], "7/7 passed");
    assert_eq!(report["gates"][0]["name"], "lint");
    assert_eq!(report["gates"][0]["state"], "passed");

    let (code, out, err) = shipdeck_gates(
        &inv,
        dir.path(),
        &["miker-web", "--env", "prod", "--sha", "9f1c2ab"],
    )
    .await;
    assert_eq!(code, 5, "refused: {out}{err}");
    assert!(out.contains("◌ codeql"), "{out}");
    assert!(out.contains("6/7 passed, 1 running"), "{out}");
    assert!(err.contains("codeql running"), "{err}");

    // Without --sha/--tag: the commit prod's tag in git names (the seeded remote: 71be0e3).
    shipdeck::sandbox::gitremote::seed(dir.path()).unwrap();
    let (code, out, err) = shipdeck_gates(&inv, dir.path(), &["miker-web", "--env", "prod"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("7/7 passed") && out.contains("71be0e3"),
        "{out}"
    );

    let (code, _, err) = shipdeck_gates(
        &inv,
        dir.path(),
        &["miker-web", "--env", "prod", "--tag", "v1.2.3"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("tag_sha_regex"), "{err}");

    let (code, _, err) = shipdeck_gates(
        &inv,
        dir.path(),
        &["miker-web", "--env", "prod", "--sha", "abcdef0"],
    )
    .await;
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("unknown to GitHub"), "{err}");
    sb.shutdown().await;
}
