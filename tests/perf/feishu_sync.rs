//! Member sync at scale against the sandboxes: 2,000 GitHub members over 5 teams into 3 chats.
//! Prints wall time of plan, apply and the no-op re-plan, and the calls each made.
//! Run: `cargo bench --bench feishu_sync`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Instant;

use secrecy::SecretString;
use shipdeck::sandbox::feishu::{ChatSeed, FeishuSandbox, FeishuSandboxOpts, FeishuUser};
use shipdeck::sandbox::github::{GithubSandbox, GithubSandboxOpts, OrgSeed};
use shipdeck::services::TaskCtl;
use shipdeck::services::feishu::{
    Mapping, MemberSync, Membership, RetryPolicy, SyncChat, SyncSettings,
};

const MEMBERS: usize = 2000;
const TEAMS: usize = 5;

#[tokio::main]
async fn main() {
    let org = OrgSeed::generated("big-org", TEAMS, MEMBERS);
    let mut users = Vec::new();
    let mut mapping = String::new();
    for u in &org.users {
        let email = format!("{}@corp.example.com", u.login);
        users.push(FeishuUser::new(&u.login, &u.login, Some(&email), None));
        if u.verified_emails.is_empty() {
            writeln!(mapping, "{}: {{ email: {email} }}", u.login).unwrap();
        }
    }
    let chats: [(&str, &[&str]); 3] = [
        ("alpha", &["team-0", "team-1"]),
        ("beta", &["team-2", "team-3"]),
        ("gamma", &["team-4"]),
    ];
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        users,
        chats: chats
            .iter()
            .map(|(n, _)| ChatSeed {
                name: (*n).to_owned(),
                chat_id: format!("oc_{n}"),
                webhook_token: format!("hook-{n}"),
                secret: None,
                members: Vec::new(),
            })
            .collect(),
        ..FeishuSandboxOpts::default()
    })
    .await
    .unwrap();
    let gh = GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        seed_demo: false,
        org,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap();
    let sync = MemberSync::new(SyncSettings {
        feishu_api: fs.url().to_owned(),
        app_id: SecretString::from("cli_sandbox".to_owned()),
        app_secret: SecretString::from("sandbox-app-secret".to_owned()),
        github_api: gh.url().to_owned(),
        github_token: None,
        org: "big-org".to_owned(),
        membership: Membership::All,
        mapping: Mapping::parse(&mapping).unwrap(),
        verified_domain_emails: true,
        chats: chats
            .iter()
            .map(|(n, teams)| SyncChat {
                name: (*n).to_owned(),
                chat_id: format!("oc_{n}"),
                teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            })
            .collect(),
        prune: true,
        protected: Vec::new(),
        retry: RetryPolicy::default(),
    })
    .unwrap();
    let ctl = TaskCtl::detached();

    let t = Instant::now();
    let plan = sync.plan(&ctl).await.unwrap();
    let plan_time = t.elapsed();
    let after_plan = fs.stats();
    let graphql_pages = gh.stats().graphql;
    let t = Instant::now();
    let summary = sync.apply(&plan, &ctl).await.unwrap();
    let apply_time = t.elapsed();
    let t = Instant::now();
    let again = sync.plan(&ctl).await.unwrap();
    let replan_time = t.elapsed();
    let stats = fs.stats();
    println!(
        "feishu_sync: {MEMBERS} members, {TEAMS} teams, {} chats, {} matched, {} adds",
        chats.len(),
        plan.matched,
        plan.adds()
    );
    println!(
        "  plan    {:>8.1} ms  ({} GraphQL pages, {} batch_get_id, {} member list calls)",
        plan_time.as_secs_f64() * 1e3,
        graphql_pages,
        after_plan.batch_get_id_calls,
        after_plan.list_calls
    );
    println!(
        "  apply   {:>8.1} ms  ({} write calls, {} rate-limit waits)",
        apply_time.as_secs_f64() * 1e3,
        summary.writes,
        stats.rate_limited
    );
    println!(
        "  re-plan {:>8.1} ms  (no-op: {})",
        replan_time.as_secs_f64() * 1e3,
        again.is_noop()
    );
    gh.shutdown().await;
    fs.shutdown().await;
}
