//! A local GitHub API (REST for CI gates and compare, GraphQL for org teams, the pull
//! requests of commits and the CI of many commits at once) on 127.0.0.1.
//!
//! It serves what shipdeck reads, shaped like GitHub's documented payloads:
//! `GET /repos/{o}/{r}/commits/{ref}` (short SHAs resolve), `…/commits/{ref}/check-runs`,
//! `…/commits/{ref}/status`, `GET /repos/{o}/{r}/actions/runs?head_sha=`,
//! `GET /repos/{o}/{r}/compare/{base}...{head}`, `GET /rate_limit` and `POST /graphql`. Lists
//! page with `per_page` (≤ 100) / `page` and a `Link` header; compare without paging
//! parameters lists the newest 250 commits, as GitHub documents it.
//! Every answer carries an `ETag` and the `x-ratelimit-*` headers; a matching `If-None-Match`
//! gets a 304 that costs nothing, as on GitHub. A throttle switch answers 403/429 with
//! `x-ratelimit-reset` (primary) or `retry-after` (secondary) until it expires. GraphQL has
//! its own points ([`GithubSandbox::set_graphql_limit`]) and throttle
//! ([`GithubSandbox::set_graphql_throttle`]), as GitHub counts the two APIs apart; its CI
//! answers (`statusCheckRollup`, `checkSuites`) are read from the REST payloads of the moment.
//!
//! Each commit runs a [`Scenario`]: its check runs go `queued` → `in_progress` → `completed` on a
//! timeline scaled by the speed factor (speed 10 runs a 400 s pipeline in 40 s; speed 0
//! freezes every commit where it was added, which tests use for byte-stable payloads).

pub mod graphql;
mod history;
mod org;
mod rest;
mod scenario;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use history::Person;
pub use org::{OrgSeed, TeamRole, TeamSeed, UserSeed};
pub use scenario::{CheckScript, Conclusion, PIPELINE, Scenario, StatusOutcome, StatusScript};

/// How the sandbox starts.
#[derive(Debug, Clone)]
pub struct GithubSandboxOpts {
    pub owner: String,
    pub repo: String,
    /// Simulated seconds per real second (0 freezes the timelines).
    pub speed: f64,
    /// When set, every request must carry `Authorization: Bearer <token>` (or `token <token>`).
    pub token: Option<String>,
    /// Core requests per hour before the primary limit answers 403.
    pub rate_limit: u64,
    /// Seed the demo's commits (71be0e3, 9f1c2ab, 5d2e8a1, 3c9b7f0).
    pub seed_demo: bool,
    pub org: OrgSeed,
}

impl Default for GithubSandboxOpts {
    fn default() -> Self {
        GithubSandboxOpts {
            owner: "example-org".to_owned(),
            repo: "miker".to_owned(),
            speed: 1.0,
            token: None,
            rate_limit: 5000,
            seed_demo: true,
            org: OrgSeed::demo(),
        }
    }
}

/// Which rate limit the throttle imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    /// `x-ratelimit-remaining: 0` and `x-ratelimit-reset` at the throttle's end.
    Primary,
    /// A secondary limit: `retry-after` seconds.
    Secondary,
}

/// A throttle: every REST request is refused with `status` until `lasting` has passed.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// 403 or 429 (GitHub uses both).
    pub status: u16,
    pub kind: ThrottleKind,
    pub lasting: Duration,
}

/// What the sandbox has served, for tests and the demo.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SandboxStats {
    /// REST requests received (GraphQL counted separately).
    pub requests: u64,
    /// Answered 304 Not Modified (free).
    pub not_modified: u64,
    /// Refused by the throttle or the primary limit.
    pub throttled: u64,
    /// Core rate-limit points spent in the current window.
    pub rate_used: u64,
    /// Requests to `…/check-runs` (each page counts).
    pub check_run_pages: u64,
    /// Requests to `…/compare/{basehead}` (each page counts, a 304 too).
    pub compare_pages: u64,
    pub graphql: u64,
}

pub(crate) struct Commit {
    pub sha: String,
    pub scenario: Scenario,
    pub added_at: Timestamp,
    /// Simulated seconds already elapsed when it was added.
    pub base_elapsed: f64,
    pub first_id: u64,
    pub suite_id: u64,
    pub run_id: u64,
    pub run_number: u64,
}

pub(crate) struct State {
    pub owner: String,
    pub repo: String,
    pub speed: f64,
    pub token: Option<String>,
    pub limit: u64,
    pub window_start: Timestamp,
    pub commits: IndexMap<String, Commit>,
    pub next_id: u64,
    pub next_run_number: u64,
    pub throttle: Option<(Throttle, Timestamp)>,
    /// GraphQL's limit is counted apart from REST's, as on GitHub: points per window.
    pub graphql_limit: u64,
    pub graphql_used: u64,
    pub graphql_throttle: Option<(Throttle, Timestamp)>,
    pub stats: SandboxStats,
    pub org: OrgSeed,
    /// The source repository's commits and pull requests (compare, `associatedPullRequests`).
    pub history: history::History,
    /// Compare honours `per_page`/`page` (false: it ignores them and lists at most 250
    /// commits, as GitHub Enterprise Server 3.0 and older did).
    pub compare_paging: bool,
}

pub(crate) struct Shared {
    pub base_url: String,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler must not take the whole sandbox down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running sandbox GitHub. Dropping it stops the server too.
pub struct GithubSandbox {
    url: String,
    shared_state: Arc<Shared>,
    serving: super::Serving,
}

/// The demo's commits: the short SHA tags of the `GitOps` seed.
pub const DEMO_PROD_SHA: &str = "71be0e3";
pub const DEMO_STG_SHA: &str = "9f1c2ab";
pub const DEMO_OLDER_SHAS: [&str; 2] = ["5d2e8a1", "3c9b7f0"];

impl GithubSandbox {
    /// Binds 127.0.0.1 on a free port and serves until [`shutdown`](Self::shutdown).
    pub async fn start(opts: GithubSandboxOpts) -> std::io::Result<GithubSandbox> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let now = Timestamp::now();
        let shared = Arc::new(Shared {
            base_url: url.clone(),
            state: Mutex::new(State {
                owner: opts.owner,
                repo: opts.repo,
                speed: opts.speed.max(0.0),
                token: opts.token,
                limit: opts.rate_limit,
                window_start: now,
                commits: IndexMap::new(),
                next_id: 4_000_000_001,
                next_run_number: 801,
                throttle: None,
                graphql_limit: 5000,
                graphql_used: 0,
                graphql_throttle: None,
                stats: SandboxStats::default(),
                org: opts.org,
                history: history::History::default(),
                compare_paging: true,
            }),
        });
        if opts.seed_demo {
            seed_demo(&shared);
        }
        let shared_for_handle = shared.clone();
        let app = rest::router(shared);
        let serving = super::Serving::start(listener, app, "github");
        Ok(GithubSandbox {
            url,
            shared_state: shared_for_handle,
            serving,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (use it as the inventory's `github.api_url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new commit whose CI starts now. A short SHA is expanded to a stable full one; the
    /// full SHA is returned.
    pub fn add_commit(&self, sha: &str, scenario: Scenario) -> String {
        self.add_commit_at(sha, scenario, Duration::ZERO)
    }

    /// A commit whose CI started `elapsed` (simulated) ago.
    pub fn add_commit_at(&self, sha: &str, scenario: Scenario, elapsed: Duration) -> String {
        add_commit_at(&self.shared_state, sha, scenario, elapsed)
    }

    /// Starts (or with `None` ends) a throttle.
    pub fn set_throttle(&self, throttle: Option<Throttle>) {
        let mut st = self.shared_state.lock();
        st.throttle = throttle.map(|t| {
            let until = Timestamp::now()
                .checked_add(jiff::SignedDuration::try_from(t.lasting).unwrap_or_default())
                .unwrap_or_else(|_| Timestamp::now());
            (t, until)
        });
    }

    /// Starts (or with `None` ends) a throttle of the GraphQL endpoint only (GitHub limits the
    /// two APIs apart). Primary: `200` with a `RATE_LIMITED` error and `x-ratelimit-remaining:
    /// 0` until its end; secondary: `status` with `retry-after`.
    pub fn set_graphql_throttle(&self, throttle: Option<Throttle>) {
        let mut st = self.shared_state.lock();
        st.graphql_throttle = throttle.map(|t| {
            let until = Timestamp::now()
                .checked_add(jiff::SignedDuration::try_from(t.lasting).unwrap_or_default())
                .unwrap_or_else(|_| Timestamp::now());
            (t, until)
        });
    }

    /// GraphQL points per window (default 5000; each query costs one). What `rateLimit` and
    /// the `x-ratelimit-*` headers of GraphQL answers count down from.
    pub fn set_graphql_limit(&self, points: u64) {
        self.shared_state.lock().graphql_limit = points;
    }

    /// `n` commits on top of `parent` (a known SHA, full or short; `None`: the newest commit),
    /// every `per_pull` of them merged through one pull request (0: none; every seventh is
    /// pushed directly either way). Returns their full SHAs, oldest first; their 7-digit
    /// prefixes are unique, so short SHAs name them.
    pub fn add_history_range(
        &self,
        parent: Option<&str>,
        n: usize,
        per_pull: usize,
    ) -> Vec<String> {
        self.shared_state.lock().history.range(parent, n, per_pull)
    }

    /// Whether compare honours `per_page`/`page` (the default), or ignores them and lists at
    /// most 250 commits as GitHub Enterprise Server 3.0 and older did.
    pub fn set_compare_paging(&self, on: bool) {
        self.shared_state.lock().compare_paging = on;
    }

    /// What has been served so far.
    pub fn stats(&self) -> SandboxStats {
        self.shared_state.lock().stats
    }

    /// Full SHAs of the known commits, oldest first.
    pub fn commits(&self) -> Vec<String> {
        self.shared_state.lock().commits.keys().cloned().collect()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

fn add_commit_at(shared: &Shared, sha: &str, scenario: Scenario, elapsed: Duration) -> String {
    let full = full_sha(sha);
    let mut st = shared.lock();
    let first_id = st.next_id;
    let n = scenario.checks.len() + scenario.statuses.len() + 2;
    st.next_id += n as u64;
    let run_number = st.next_run_number;
    st.next_run_number += 1;
    // A build of a commit the source history lacks lands on its tip, through a pull request.
    st.history.build(&full, Timestamp::now());
    let commit = Commit {
        sha: full.clone(),
        added_at: Timestamp::now(),
        base_elapsed: elapsed.as_secs_f64(),
        suite_id: first_id,
        run_id: first_id + 1,
        first_id: first_id + 2,
        run_number,
        scenario,
    };
    st.commits.insert(full.clone(), commit);
    full
}

fn seed_demo(shared: &Shared) {
    shared.lock().history = history::demo();
    let long_ago = Duration::from_secs(3 * 24 * 3600);
    for sha in DEMO_OLDER_SHAS {
        add_commit_at(shared, sha, Scenario::pipeline(), long_ago);
    }
    add_commit_at(
        shared,
        DEMO_PROD_SHA,
        Scenario::pipeline(),
        Duration::from_secs(26 * 3600),
    );
    // Everything but codeql has finished; codeql ends at 405 s, i.e. in 105 simulated s.
    add_commit_at(
        shared,
        DEMO_STG_SHA,
        Scenario::pipeline(),
        Duration::from_secs(300),
    );
}

/// The full SHA the sandbox uses for a (possibly short) SHA: the prefix is kept, the rest is
/// derived from it, so the same short SHA always expands the same way.
pub fn full_sha(sha: &str) -> String {
    let sha = sha.trim().to_ascii_lowercase();
    if sha.len() >= 40 {
        return sha[..40].to_owned();
    }
    let digest = Sha256::digest(sha.as_bytes());
    let hex = hex(&digest);
    format!("{sha}{}", &hex[..40 - sha.len()])
}

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
