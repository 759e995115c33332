//! What is in a promote (issue 16), over real HTTP against the sandbox GitHub on 127.0.0.1:
//! GitHub's compare API page by page and the pull requests of each page in one GraphQL query,
//! through the library (request counts, 304s, the cache) and the real binary (`shipdeck
//! changes`: text, JSON, Markdown, exit codes). The env tags come from a seeded GitOps remote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipdeck::sandbox::github::{
    GithubSandbox, GithubSandboxOpts, SandboxStats, Throttle, ThrottleKind, full_sha,
};
use shipdeck::services::TaskCtl;
use shipdeck::services::github::{
    CompareStatus, DEFAULT_CARE_LABELS, GatesService, GithubError, GithubSettings,
};
use shipdeck::services::gitops::{Action, ChangeRequest, GitopsEngine};

/// No binary run may take longer than this; a hang fails the test instead of stalling it.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// A sandbox GitHub with the demo's history, a seeded GitOps remote (prod 71be0e3, stg and
/// dev 9f1c2ab) and the demo's inventory pointing at both.
struct World {
    dir: tempfile::TempDir,
    gh: GithubSandbox,
    inventory: PathBuf,
}

impl World {
    async fn start() -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let gh = GithubSandbox::start(GithubSandboxOpts {
            owner: "miker-org".into(),
            repo: "miker".into(),
            speed: 0.0,
            ..GithubSandboxOpts::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        shipdeck::sandbox::gitremote::seed(dir.path()).unwrap();
        let inventory = shipdeck::demo::write_inventory(
            dir.path(),
            &shipdeck::demo::Endpoints {
                github_api: Some(gh.url().to_owned()),
                ..shipdeck::demo::Endpoints::default()
            },
        )
        .unwrap();
        World { dir, gh, inventory }
    }

    /// Sets an env's tag in the GitOps remote, as a release by someone else would.
    async fn set_tag(&self, app: &str, env: &str, tag: &str) {
        let inv = shipdeck::inventory::Inventory::load(&self.inventory).unwrap();
        let paths = shipdeck::paths::Paths::under(&self.dir.path().join("bot"));
        let (app, env, tag) = (app.to_owned(), env.to_owned(), tag.to_owned());
        tokio::task::spawn_blocking(move || {
            let engine = GitopsEngine::open(&inv, &paths).unwrap();
            let mut req = ChangeRequest::new(Action::Release, &app, &env, Some(&tag));
            "test-bot".clone_into(&mut req.actor);
            engine.apply(&req, &TaskCtl::detached()).unwrap();
        })
        .await
        .unwrap();
    }

    /// Adds a line under `github:` in the inventory.
    fn github_line(&self, line: &str) {
        let text = std::fs::read_to_string(&self.inventory).unwrap();
        let text = text.replacen("github:\n", &format!("github:\n  {line}\n"), 1);
        std::fs::write(&self.inventory, text).unwrap();
    }

    fn service(&self) -> GatesService {
        GatesService::new(GithubSettings {
            api_url: self.gh.url().to_owned(),
            owner: "miker-org".to_owned(),
            repo: "miker".to_owned(),
            token: None,
            tag_sha_regex: None,
            min_refresh: Duration::from_secs(10),
            timeouts: (None, None),
        })
        .unwrap()
    }

    /// Runs `shipdeck --inventory … ARGS` with its folders in the world; exit code, stdout,
    /// stderr and how long it took.
    async fn shipdeck(&self, args: &[&str]) -> (i32, String, String, Duration) {
        shipdeck_at(&self.inventory, self.dir.path(), args).await
    }
}

async fn shipdeck_at(
    inventory: &Path,
    home: &Path,
    args: &[&str],
) -> (i32, String, String, Duration) {
    let home = home.join("home");
    let started = Instant::now();
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env_remove("SHIPDECK_DEMO_GITHUB_TOKEN")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(RUN_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("shipdeck {args:?} ran longer than {RUN_DEADLINE:?}"))
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

fn delta(after: SandboxStats, before: SandboxStats) -> (u64, u64, u64, u64) {
    (
        after.requests - before.requests,
        after.compare_pages - before.compare_pages,
        after.not_modified - before.not_modified,
        after.graphql - before.graphql,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_promote_as_json_and_markdown_release_notes() {
    let w = World::start().await;
    let (code, out, err, _) = w
        .shipdeck(&[
            "changes",
            "miker-web",
            "--from",
            "prod",
            "--to",
            "stg",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["app"], "miker-web");
    assert_eq!(j["from"]["env"], "prod");
    assert_eq!(j["from"]["tag"], "71be0e3");
    assert_eq!(j["from"]["sha"], full_sha("71be0e3"));
    assert_eq!(j["to"]["env"], "stg");
    assert_eq!(j["to"]["tag"], "9f1c2ab");
    assert_eq!(j["to"]["sha"], full_sha("9f1c2ab"));
    assert_eq!(j["status"], "ahead");
    assert_eq!(
        (j["ahead_by"].as_u64(), j["behind_by"].as_u64()),
        (Some(12), Some(0))
    );
    let url = j["compare_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/miker-org/miker/compare/", w.gh.url())),
        "{url}"
    );
    let commits = j["ahead"]["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 12);
    assert_eq!(commits[0]["title"], "checkout: list the saved cards");
    assert_eq!(commits[0]["author_login"], "carol");
    assert_eq!(
        commits[11]["sha"],
        full_sha("9f1c2ab"),
        "oldest first, head last"
    );
    assert_eq!(j["ahead"]["not_listed"], 0);
    let prs = j["ahead"]["pull_requests"].as_array().unwrap();
    let numbers: Vec<u64> = prs.iter().map(|p| p["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [442, 445, 447, 448, 451], "each PR once, in order");
    assert_eq!(prs[0]["commits"], 3);
    assert_eq!(
        prs[1]["labels"],
        serde_json::json!(["breaking", "migration", "api"])
    );
    assert_eq!(prs[1]["merged_by"], "bob");
    assert_eq!(prs[1]["author"], "dave");
    assert!(prs[1]["url"].as_str().unwrap().ends_with("/pull/445"));
    let direct: Vec<&str> = commits
        .iter()
        .filter(|c| c["pull_requests"].as_array().unwrap().is_empty())
        .map(|c| c["short"].as_str().unwrap())
        .collect();
    assert_eq!(direct, ["5f2a8c1", "9f1c2ab"]);

    let (code, md, err, _) = w
        .shipdeck(&[
            "changes",
            "miker-web",
            "--from",
            "prod",
            "--to",
            "stg",
            "--output",
            "markdown",
        ])
        .await;
    assert_eq!(code, 0, "{md}{err}");
    assert!(
        md.starts_with("## miker-web: stg → prod\n\n12 commits, 5 PRs ahead"),
        "{md}"
    );
    assert!(md.contains("[compare on GitHub](http://"), "{md}");
    assert!(md.contains(&format!(
        "- [#445]({}/miker-org/miker/pull/445) Drop the legacy sessions table (@dave) `breaking` `migration` `api`",
        w.gh.url()
    )), "{md}");
    assert!(
        md.contains("Orders: add a shipped\\_at column"),
        "markdown escaped: {md}"
    );
    let direct_at = md
        .find("### Commits not in a pull request")
        .expect("direct commits section");
    assert!(md[direct_at..].contains("[`5f2a8c1`]("), "{md}");
    assert!(
        !md[direct_at..].contains("a3f81c2"),
        "commits of a PR are not repeated: {md}"
    );

    let (code, text, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "prod", "--to", "stg"])
        .await;
    assert_eq!(code, 0, "{text}{err}");
    assert!(
        text.starts_with("miker-web stg → prod: 12 commits, 5 PRs ahead\n"),
        "{text}"
    );
    assert!(text.contains("#445 dave"), "{text}");
    // --to alone: the env it promotes into (stg → prod) is found from the inventory.
    let (code, alone, err, _) = w.shipdeck(&["changes", "miker-web", "--to", "stg"]).await;
    assert_eq!(
        (code, alone.lines().next()),
        (0, text.lines().next()),
        "{err}"
    );

    // Markdown is for this command only; the others say so.
    let (code, _, err, _) = w.shipdeck(&["status", "--output", "markdown"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--output markdown is for `shipdeck changes`"),
        "{err}"
    );
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_commits_are_all_listed_a_page_and_a_query_per_hundred() {
    let w = World::start().await;
    let range = w.gh.add_history_range(Some("9f1c2ab"), 600, 4);
    let tip = &range[599][..7];
    w.set_tag("miker-web", "dev", tip).await;
    let before = w.gh.stats();
    let (code, out, err, took) = w
        .shipdeck(&[
            "changes",
            "miker-web",
            "--from",
            "stg",
            "--to",
            "dev",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let (requests, pages, _, queries) = delta(w.gh.stats(), before);
    eprintln!(
        "MEASURE changes 600 commits cold: {requests} REST ({pages} compare pages) + {queries} GraphQL, {took:.2?} (binary, incl. the git fetch)"
    );
    let j = json(&out);
    assert_eq!(j["status"], "ahead");
    assert_eq!(j["ahead_by"], 600);
    assert_eq!(j["ahead"]["total"], 600);
    assert_eq!(j["ahead"]["not_listed"], 0, "nothing silently dropped");
    let listed: Vec<&str> = j["ahead"]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(listed, range, "every commit once, oldest first");
    // Every seventh commit is pushed directly; the others come four to a pull request.
    let direct = j["ahead"]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pull_requests"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(direct, 600 / 7);
    let prs = j["ahead"]["pull_requests"].as_array().unwrap();
    assert_eq!(prs.len(), (600 - 600 / 7_usize).div_ceil(4));
    assert!(
        prs.iter()
            .any(|p| p["labels"].as_array().unwrap().contains(&"breaking".into()))
    );
    // Six pages of 100, one GraphQL query per page, two short SHAs resolved.
    assert_eq!((pages, queries), (6, 6));
    assert_eq!(requests, 6 + 2);
    assert_eq!(j["requests"]["rest"], 8);
    assert_eq!(j["requests"]["graphql"], 6);

    // GitHub's own rule, as octocrab's typed call sees it: no paging parameter, 250 commits,
    // the newest of the comparison last; with paging, files on page 1 only.
    let octo = octocrab::Octocrab::builder()
        .base_uri(w.gh.url())
        .unwrap()
        .build()
        .unwrap();
    let unpaged = octo
        .commits("miker-org", "miker")
        .compare(full_sha("9f1c2ab"), range[599].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unpaged.total_commits, 600);
    assert_eq!(unpaged.commits.len(), 250);
    assert_eq!(unpaged.commits[249].sha, range[599]);
    assert_eq!(unpaged.commits[0].sha, range[350]);
    let page2 = octo
        .commits("miker-org", "miker")
        .compare(full_sha("9f1c2ab"), range[599].clone())
        .per_page(100u8)
        .page(2u32)
        .send()
        .await
        .unwrap();
    assert_eq!(page2.commits[0].sha, range[100]);
    assert!(page2.files.is_none(), "files come with page 1 only");
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_paging_lists_250_and_says_how_many_more() {
    let w = World::start().await;
    let range = w.gh.add_history_range(Some("9f1c2ab"), 600, 0);
    w.gh.set_compare_paging(false);
    let changes = w.service().compare("9f1c2ab", &range[599]).await.unwrap();
    assert_eq!(changes.ahead_by, 600);
    assert_eq!(changes.ahead.commits.len(), 250);
    assert_eq!(changes.ahead.not_listed, 350);
    assert_eq!(changes.ahead.commits[249].sha, range[599]);
    assert_eq!(
        changes.requests.rest,
        1 + 1,
        "a short SHA, and one page: all the server lists"
    );
    w.set_tag("miker-web", "dev", &range[599][..7]).await;
    let (code, text, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "stg", "--to", "dev"])
        .await;
    assert_eq!(code, 0, "{text}{err}");
    assert!(text.contains("600 commits, 0+ PRs ahead"), "{text}");
    assert!(
        text.contains("350 more not listed (GitHub listed 250 of 600)"),
        "{text}"
    );

    // Paging again, past shipdeck's own bound: a thousand listed, the rest counted.
    w.gh.set_compare_paging(true);
    let more = w.gh.add_history_range(None, 450, 5);
    let big = w.service().compare(&range[0], &more[449]).await.unwrap();
    assert_eq!(big.ahead_by, 599 + 450);
    assert_eq!(
        big.ahead.commits.len(),
        shipdeck::services::github::MAX_LISTED
    );
    assert_eq!(big.ahead.not_listed, 49);
    assert_eq!(
        big.ahead.not_listed_why().unwrap(),
        "shipdeck lists at most 1000 of 1049"
    );
    assert_eq!(big.ahead.commits[0].sha, range[1], "the oldest are listed");
    assert_eq!((big.requests.rest, big.requests.graphql), (10, 10));
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgrade_is_behind_and_lists_what_it_takes_out() {
    let w = World::start().await;
    // stg's tag into prod is a promote; prod's tag into stg takes stg's 12 commits out.
    let (code, out, err, _) = w
        .shipdeck(&[
            "changes",
            "miker-web",
            "--from",
            "stg",
            "--to",
            "prod",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["status"], "behind");
    assert_eq!(
        (j["ahead_by"].as_u64(), j["behind_by"].as_u64()),
        (Some(0), Some(12))
    );
    assert!(j["ahead"]["commits"].as_array().unwrap().is_empty());
    assert_eq!(j["behind"]["commits"].as_array().unwrap().len(), 12);
    assert_eq!(j["behind"]["pull_requests"].as_array().unwrap().len(), 5);
    let (code, text, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "stg", "--to", "prod"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        text.starts_with("miker-web prod → stg: 12 commits, 5 PRs behind (a downgrade)"),
        "{text}"
    );
    assert!(
        text.contains("Taken out (stg has them, prod does not)"),
        "{text}"
    );

    // A hotfix straight on prod's commit: prod and stg have diverged.
    let hotfix = w.gh.add_history_range(Some("71be0e3"), 2, 0);
    w.set_tag("miker-web", "prod", &hotfix[1][..7]).await;
    let (code, out, err, _) = w
        .shipdeck(&[
            "changes",
            "miker-web",
            "--from",
            "prod",
            "--to",
            "stg",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    let j = json(&out);
    assert_eq!(j["status"], "diverged");
    assert_eq!(
        (j["ahead_by"].as_u64(), j["behind_by"].as_u64()),
        (Some(12), Some(2))
    );
    assert_eq!(j["merge_base_sha"], full_sha("71be0e3"));
    let behind: Vec<&str> = j["behind"]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap())
        .collect();
    assert_eq!(behind, hotfix);
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_that_names_no_commit_is_exit_2_naming_the_tag_and_the_regex() {
    let w = World::start().await;
    w.set_tag("miker-web", "dev", "latest").await;
    let (code, out, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "stg", "--to", "dev"])
        .await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("miker-web dev runs tag `latest`, which maps to no commit"),
        "{err}"
    );
    assert!(err.contains("github.tag_sha_regex"), "{err}");

    w.github_line(r"tag_sha_regex: '^v[0-9.]+-(?<sha>[0-9a-f]{7,40})$'");
    w.set_tag("miker-web", "stg", "v1.42.0-9f1c2ab").await;
    w.set_tag("miker-web", "prod", "v1.41.0-71be0e3").await;
    let (code, out, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "prod", "--to", "stg"])
        .await;
    assert_eq!(code, 0, "the regex reads both tags: {out}{err}");
    assert!(out.contains("prod runs v1.41.0-71be0e3 (71be0e3)"), "{out}");
    let (code, _, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "stg", "--to", "dev"])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`latest`") && err.contains(r"^v[0-9.]+-(?<sha>[0-9a-f]{7,40})$"),
        "the tag and the regex are named: {err}"
    );

    // A SHA GitHub does not know: exit 2 as well, naming it and the repository.
    w.set_tag("miker-web", "dev", "v9.9.9-abcdef0").await;
    let (code, _, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "stg", "--to", "dev"])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("GitHub knows no commit abcdef0 in miker-org/miker"),
        "{err}"
    );

    for args in [
        ["changes", "miker-web", "--from", "qa", "--to", "stg"],
        ["changes", "miker-nope", "--from", "prod", "--to", "stg"],
    ] {
        let (code, _, err, _) = w.shipdeck(&args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("unknown"), "{args:?}: {err}");
    }
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_read_comes_from_the_cache_and_a_fresh_one_is_answered_304() {
    let w = World::start().await;
    let range = w.gh.add_history_range(Some("9f1c2ab"), 230, 3);
    let svc = w.service();
    let s0 = w.gh.stats();
    let first = svc.compare("9f1c2ab", &range[229]).await.unwrap();
    let s1 = w.gh.stats();
    assert_eq!(
        delta(s1, s0),
        (1 + 3, 3, 0, 3),
        "a short SHA resolved, 3 pages, 3 queries"
    );
    assert_eq!(first.ahead.commits.len(), 230);

    // Two SHAs name an immutable comparison: asked again, nothing is sent.
    let again = svc.compare("9f1c2ab", &range[229]).await.unwrap();
    assert_eq!(delta(w.gh.stats(), s1), (0, 0, 0, 0));
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    assert!(
        svc.compare_cached(&full_sha("9f1c2ab"), &range[229])
            .is_some()
    );

    // A fresh read revalidates every page: 304s, which cost no rate limit.
    let s2 = w.gh.stats();
    let fresh = svc.compare_fresh("9f1c2ab", &range[229]).await.unwrap();
    let s3 = w.gh.stats();
    assert_eq!(delta(s3, s2), (3, 3, 3, 3), "{s3:?}");
    assert_eq!(s3.rate_used, s2.rate_used, "304s are free");
    assert_eq!(fresh.requests.not_modified, 3);
    assert_eq!(fresh.ahead, first.ahead);

    // The summary the cockpit and the card show, from the demo's promote.
    let prod_stg = svc
        .env_changes("miker-web", ("prod", "71be0e3"), ("stg", "9f1c2ab"))
        .await
        .unwrap();
    let s = prod_stg.summary(4, &DEFAULT_CARE_LABELS);
    assert_eq!(s.headline, "12 commits, 5 PRs ahead");
    assert_eq!((s.commits, s.pull_requests, s.more), (12, 5, 3));
    assert_eq!(s.lines[0].id, "#442");
    assert_eq!(s.authors[0], "carol");
    let care: Vec<(&str, &[u64])> = s
        .care
        .iter()
        .map(|l| (l.label.as_str(), l.pull_requests.as_slice()))
        .collect();
    assert_eq!(
        care,
        [("migration", &[445_u64, 451][..]), ("breaking", &[445][..])]
    );
    assert_eq!(prod_stg.changes.status, CompareStatus::Ahead);
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_exit_4_naming_the_reset() {
    let w = World::start().await;
    w.gh.set_throttle(Some(Throttle {
        status: 403,
        kind: ThrottleKind::Primary,
        lasting: Duration::from_secs(600),
    }));
    let asked = jiff::Timestamp::now();
    let (code, out, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "prod", "--to", "stg"])
        .await;
    assert_eq!(code, 4, "{out}{err}");
    let at = err
        .find("rate limited until ")
        .unwrap_or_else(|| panic!("{err}"));
    let reset: jiff::Timestamp = err[at + "rate limited until ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {err}"));
    let wait = reset.duration_since(asked).as_secs();
    assert!(
        (598..=602).contains(&wait),
        "the reset GitHub named: {reset} ({wait} s): {err}"
    );

    // A secondary limit (429 + retry-after) through the library: the same error, its end.
    w.gh.set_throttle(Some(Throttle {
        status: 429,
        kind: ThrottleKind::Secondary,
        lasting: Duration::from_secs(90),
    }));
    match w.service().compare("71be0e3", "9f1c2ab").await {
        Err(GithubError::RateLimited { until }) => {
            let wait = until.duration_since(jiff::Timestamp::now()).as_secs();
            assert!((85..=91).contains(&wait), "{until}");
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    w.gh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_github_is_exit_4_within_the_timeout() {
    let w = World::start().await;
    // Nothing listens on a port just freed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = std::fs::read_to_string(&w.inventory).unwrap();
    std::fs::write(
        &w.inventory,
        text.replace(w.gh.url(), &format!("http://{closed}")),
    )
    .unwrap();
    let (code, _, err, _) = w
        .shipdeck(&["changes", "miker-web", "--from", "prod", "--to", "stg"])
        .await;
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("cannot reach GitHub") && err.contains(&closed.to_string()),
        "{err}"
    );

    // One that accepts and never answers: --timeout ends the wait, naming what it waited for.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = hole.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut socks = Vec::new();
        while let Ok((s, _)) = hole.accept().await {
            socks.push(s);
        }
    });
    let text = std::fs::read_to_string(&w.inventory).unwrap();
    std::fs::write(
        &w.inventory,
        text.replace(&closed.to_string(), &addr.to_string()),
    )
    .unwrap();
    let (code, _, err, took) = w
        .shipdeck(&[
            "--timeout",
            "2",
            "changes",
            "miker-web",
            "--from",
            "prod",
            "--to",
            "stg",
        ])
        .await;
    assert_eq!(code, 4, "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        err.contains(&format!("GitHub at http://{addr} did not answer within 2 s while comparing prod 71be0e3...stg 9f1c2ab")),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    held.abort();
    w.gh.shutdown().await;
}
