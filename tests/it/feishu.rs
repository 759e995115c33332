//! Feishu against the sandbox Feishu (and the sandbox GitHub's GraphQL) over real HTTP:
//! signatures, cards, the notifier, the member sync at scale and under a 429 storm, and the
//! real binary for `shipdeck feishu notify|sync`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use shipdeck::sandbox::feishu::{
    ChatSeed, FeishuSandbox, FeishuSandboxOpts, FeishuUser, open_id_for,
};
use shipdeck::sandbox::github::{GithubSandbox, GithubSandboxOpts, OrgSeed};
use shipdeck::services::TaskCtl;
use shipdeck::services::feishu::{
    Delivery, FeishuApi, FeishuError, Mapping, MemberSync, Membership, Notification, Notifier,
    NotifierPolicy, NotifyOutcome, RetryPolicy, SyncChat, SyncSettings, WebhookClient,
    WebhookTarget, sign,
};
use tokio::sync::mpsc;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

async fn github(org: OrgSeed) -> GithubSandbox {
    GithubSandbox::start(GithubSandboxOpts {
        speed: 0.0,
        seed_demo: false,
        org,
        ..GithubSandboxOpts::default()
    })
    .await
    .unwrap()
}

fn target(fs: &FeishuSandbox, chat: &str, secret_value: Option<&str>) -> WebhookTarget {
    WebhookTarget {
        chat: chat.to_owned(),
        url: secret(&fs.webhook_url(chat).unwrap()),
        secret: secret_value.map(secret),
        events: None,
    }
}

/// Receives outcomes until `n` final ones (delivered or failed) have arrived.
async fn finals(rx: &mut mpsc::UnboundedReceiver<NotifyOutcome>, n: usize) -> Vec<NotifyOutcome> {
    let mut out = Vec::new();
    while out.len() < n {
        let o = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("notifier outcome within 2 minutes")
            .expect("outcome channel open");
        if !matches!(o.delivery, Delivery::Retrying { .. }) {
            out.push(o);
        }
    }
    out
}

#[test]
fn signature_equals_the_reference_vector() {
    assert_eq!(
        sign(1_599_360_473, "demo"),
        "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
    );
}

#[tokio::test]
async fn signed_messages_pass_and_a_wrong_secret_surfaces_19021() {
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    let client = WebhookClient::new().unwrap();
    let url = secret(&fs.webhook_url("releases").unwrap());
    let now = jiff::Timestamp::now().as_second();
    let body = Notification::text("hello", "alice").body();
    let ok = client
        .send(
            "releases",
            &url,
            Some(&secret("demo-releases-secret")),
            &body,
            now,
        )
        .await
        .unwrap();
    assert_eq!(ok.chat, "releases");

    let err = client
        .send("releases", &url, Some(&secret("wrong")), &body, now)
        .await
        .unwrap_err();
    assert!(matches!(err, FeishuError::Signature { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("19021") && text.contains("secret"), "{text}");
    assert!(
        !text.contains("demo-releases-hook"),
        "the URL token leaked: {text}"
    );

    // Unsigned, and signed two hours ago: both 19021.
    let err = client
        .send("releases", &url, None, &body, now)
        .await
        .unwrap_err();
    assert!(matches!(err, FeishuError::Signature { .. }));
    let err = client
        .send(
            "releases",
            &url,
            Some(&secret("demo-releases-secret")),
            &body,
            now - 7200,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FeishuError::Signature { .. }));

    let msgs = fs.messages();
    assert_eq!(msgs.len(), 4);
    assert!(msgs[0].accepted && msgs[0].title == "hello");
    assert!(msgs[1..].iter().all(|m| !m.accepted && m.code == 19021));

    // Through the notifier: reported as failed at once, not retried.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let n = Notifier::start(
        vec![target(&fs, "releases", Some("wrong"))],
        tx,
        NotifierPolicy::default(),
    )
    .unwrap();
    let (_, chats) = n.notify(&Notification::abort("miker-web", "stg", "9f1c2ab", "bob"));
    assert_eq!(chats, ["releases"]);
    let out = finals(&mut rx, 1).await;
    assert_eq!(out[0].attempt, 1);
    match &out[0].delivery {
        Delivery::Failed { error } => assert!(error.contains("19021"), "{error}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    fs.shutdown().await;
}

#[tokio::test]
async fn cards_for_every_release_action_reach_their_chats() {
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut platform = target(&fs, "platform", Some("demo-platform-secret"));
    platform.events = Some(vec![
        shipdeck::services::feishu::EventKind::ReleaseFailed,
        shipdeck::services::feishu::EventKind::Rollback,
    ]);
    let notifier = Notifier::start(
        vec![
            target(&fs, "releases", Some("demo-releases-secret")),
            platform,
        ],
        tx,
        NotifierPolicy::default(),
    )
    .unwrap();
    let commit = "https://github.com/example-org/miker/commit/9f1c2ab";
    let events = [
        Notification::release_started("miker-web", "stg", "71be0e3", "9f1c2ab", "alice")
            .with_commit_url(commit)
            .with_gates("7/7 passed"),
        Notification::release_succeeded("miker-web", "stg", "71be0e3", "9f1c2ab", "alice"),
        Notification::release_failed("miker-web", "stg", "71be0e3", "9f1c2ab", "alice")
            .with_detail("analysis success-rate 0.82 < 0.95"),
        Notification::promote("miker-web", "stg", "prod", "9f1c2ab", "frank"),
        Notification::rollback("miker-web", "prod", "9f1c2ab", "71be0e3", "carol")
            .with_commit_url(commit)
            .with_gates("codeql failed"),
        Notification::abort("miker-web", "prod", "9f1c2ab", "carol"),
        Notification::gate_override("miker-web", "prod", "71be0e3", "9f1c2ab", "frank", "hotfix"),
        Notification::secret_rotation(Some("prod"), "apps/miker-web/secret.enc.yaml", "erin"),
    ];
    let mut queued = 0;
    for e in &events {
        queued += notifier.notify(e).1.len();
    }
    assert_eq!(queued, 10, "8 to releases, 2 to platform (its filter)");
    let out = finals(&mut rx, queued).await;
    assert!(
        out.iter().all(|o| o.delivery == Delivery::Delivered),
        "{out:?}"
    );
    notifier.close(Duration::from_secs(5)).await;

    let msgs = fs.messages();
    assert_eq!(msgs.len(), 10);
    assert!(
        msgs.iter()
            .all(|m| m.accepted && m.msg_type == "interactive")
    );
    let releases: Vec<_> = msgs.iter().filter(|m| m.chat == "releases").collect();
    let colours: Vec<&str> = releases
        .iter()
        .map(|m| m.template.as_deref().unwrap())
        .collect();
    assert_eq!(
        colours,
        [
            "blue", "green", "red", "blue", "red", "red", "orange", "purple"
        ]
    );
    let started = &releases[0];
    assert_eq!(
        started.title,
        "Release started: miker-web stg 71be0e3 → 9f1c2ab"
    );
    for needle in [
        "miker-web",
        "stg",
        "71be0e3 → 9f1c2ab",
        "alice",
        "7/7 passed",
    ] {
        assert!(
            started.text.contains(needle),
            "{needle} missing in {}",
            started.text
        );
    }
    assert!(started.body.to_string().contains(commit));
    assert!(releases[4].title.starts_with("Rolled back: miker-web prod"));
    let platform: Vec<&str> = msgs
        .iter()
        .filter(|m| m.chat == "platform")
        .map(|m| m.title.as_str())
        .collect();
    assert_eq!(platform.len(), 2);
    assert!(platform[0].starts_with("Release failed") && platform[1].starts_with("Rolled back"));
    fs.shutdown().await;
}

#[tokio::test]
async fn a_bot_flood_gets_11232_and_the_notifier_still_delivers_everything() {
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        bot_per_minute: 3,
        ..FeishuSandboxOpts::demo()
    })
    .await
    .unwrap();
    let client = WebhookClient::new().unwrap();
    let url = secret(&fs.webhook_url("releases").unwrap());
    let key = secret("demo-releases-secret");
    let body = Notification::text("x", "a").body();
    let now = jiff::Timestamp::now().as_second();
    for _ in 0..3 {
        client
            .send("releases", &url, Some(&key), &body, now)
            .await
            .unwrap();
    }
    let err = client
        .send("releases", &url, Some(&key), &body, now)
        .await
        .unwrap_err();
    assert!(matches!(err, FeishuError::BotRateLimited { .. }), "{err:?}");
    assert!(err.to_string().contains("11232"));
    fs.shutdown().await;

    // A per-second flood: no pacing, so the bot refuses some and the notifier retries them.
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        bot_per_second: 2,
        ..FeishuSandboxOpts::demo()
    })
    .await
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let notifier = Notifier::start(
        vec![target(&fs, "releases", Some("demo-releases-secret"))],
        tx,
        NotifierPolicy {
            spacing: Duration::ZERO,
            base: Duration::from_millis(600),
            ..NotifierPolicy::default()
        },
    )
    .unwrap();
    for i in 0..6 {
        notifier.notify(&Notification::text(&format!("m{i}"), "a"));
    }
    let out = finals(&mut rx, 6).await;
    assert!(
        out.iter().all(|o| o.delivery == Delivery::Delivered),
        "{out:?}"
    );
    let accepted: Vec<String> = fs
        .messages()
        .into_iter()
        .filter(|m| m.accepted)
        .map(|m| m.title)
        .collect();
    assert_eq!(
        accepted,
        ["m0", "m1", "m2", "m3", "m4", "m5"],
        "in order, once each"
    );
    fs.shutdown().await;
}

#[tokio::test]
async fn concurrent_adds_to_one_chat_are_refused_with_232019() {
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        add_hold: Duration::from_millis(400),
        ..FeishuSandboxOpts::demo()
    })
    .await
    .unwrap();
    let api = FeishuApi::new(
        fs.url(),
        secret("cli_demo_shipdeck"),
        secret("demo-app-secret"),
        RetryPolicy::default(),
    )
    .unwrap();
    let bob = vec![open_id_for("bob")];
    let erin = vec![open_id_for("erin")];
    let (first, second) = tokio::join!(
        api.add_members("oc_demo_releases", &bob),
        api.add_members("oc_demo_releases", &erin)
    );
    let codes: Vec<Option<i64>> = [first, second]
        .into_iter()
        .map(|r| match r {
            Ok(_) => None,
            Err(FeishuError::Api { code, .. }) => Some(code),
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert!(
        codes.contains(&None) && codes.contains(&Some(232_019)),
        "{codes:?}"
    );
    assert_eq!(fs.stats().concurrent_add_conflicts, 1);
    fs.shutdown().await;
}

// ---- member sync at scale ------------------------------------------------------------------

/// How generated user i is known to Feishu (see `OrgSeed::generated`: i % 4 = 0 public email
/// only, 1 verified only, 2 both, 3 none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Verified,
    MapEmail,
    MapMobile,
    MapOpenId,
    /// Verified email, but no such Feishu user (resigned / outside the app's scope).
    Gone,
    /// Only a public email: never trusted, so unmatched.
    None,
}

fn route(i: usize) -> Route {
    match (i % 4, i % 8) {
        (1 | 2, _) if i % 100 == 1 => Route::Gone,
        (1 | 2, _) => Route::Verified,
        (_, 0) => Route::MapEmail,
        (_, 3) => Route::MapMobile,
        (_, 7) => Route::MapOpenId,
        _ => Route::None,
    }
}

fn login(i: usize) -> String {
    format!("user{i:04}")
}

struct Scale {
    org: OrgSeed,
    users: Vec<FeishuUser>,
    mapping: String,
}

fn scale(teams: usize, members: usize) -> Scale {
    let org = OrgSeed::generated("big-org", teams, members);
    let mut users = Vec::new();
    let mut mapping = String::new();
    for i in 0..members {
        let l = login(i);
        let corp = format!("{l}@corp.example.com");
        let mobile = format!("+86138{i:08}");
        match route(i) {
            Route::Verified | Route::MapEmail => {
                users.push(FeishuUser::new(&l, &l, Some(&corp), None));
            }
            Route::MapMobile | Route::MapOpenId => {
                users.push(FeishuUser::new(&l, &l, None, Some(&mobile)));
            }
            Route::Gone | Route::None => {}
        }
        match route(i) {
            Route::MapEmail => writeln!(mapping, "{l}: {{ email: {corp} }}").unwrap(),
            Route::MapMobile => writeln!(mapping, "{l}: {{ mobile: \"{mobile}\" }}").unwrap(),
            Route::MapOpenId => {
                writeln!(mapping, "{l}: {{ open_id: {} }}", open_id_for(&l)).unwrap();
            }
            _ => {}
        }
    }
    // People in the chats who are not on GitHub at all.
    for p in 0..5 {
        let key = format!("outsider{p}");
        users.push(FeishuUser::new(
            &key,
            &key,
            Some(&format!("{key}@corp.example.com")),
            None,
        ));
    }
    Scale {
        org,
        users,
        mapping,
    }
}

/// Logins of a team with ALL membership (its own members and its child teams').
fn team_logins(org: &OrgSeed, slug: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in &org.teams {
        if t.slug == slug || t.parent.as_deref() == Some(slug) {
            out.extend(t.members.iter().map(|(l, _)| l.clone()));
        }
    }
    out
}

fn matchable(l: &str) -> bool {
    let i: usize = l.trim_start_matches("user").parse().unwrap();
    !matches!(route(i), Route::Gone | Route::None)
}

fn settings(
    gh: &GithubSandbox,
    fs: &FeishuSandbox,
    mapping: &str,
    chats: &[(&str, &[&str])],
) -> SyncSettings {
    SyncSettings {
        feishu_api: fs.url().to_owned(),
        app_id: secret("cli_sandbox"),
        app_secret: secret("sandbox-app-secret"),
        github_api: gh.url().to_owned(),
        github_token: None,
        org: "big-org".to_owned(),
        membership: Membership::All,
        mapping: Mapping::parse(mapping).unwrap(),
        verified_domain_emails: true,
        chats: chats
            .iter()
            .map(|(name, teams)| SyncChat {
                name: (*name).to_owned(),
                chat_id: format!("oc_{name}"),
                teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            })
            .collect(),
        prune: true,
        protected: vec![login(3)],
        retry: RetryPolicy::default(),
    }
}

fn chat(name: &str, members: Vec<String>) -> ChatSeed {
    ChatSeed {
        name: name.to_owned(),
        chat_id: format!("oc_{name}"),
        webhook_token: format!("hook-{name}"),
        secret: None,
        members,
    }
}

#[tokio::test]
async fn sync_of_2000_members_converges_in_minimal_batches_and_a_rerun_writes_nothing() {
    let s = scale(5, 2000);
    let chats: [(&str, &[&str]); 3] = [
        ("alpha", &["team-0", "team-1"]),
        ("beta", &["team-2", "team-3"]),
        ("gamma", &["team-4"]),
    ];
    let want: BTreeMap<&str, BTreeSet<String>> = chats
        .iter()
        .map(|(c, teams)| {
            let all: BTreeSet<String> = teams
                .iter()
                .flat_map(|t| team_logins(&s.org, t))
                .filter(|l| matchable(l))
                .map(|l| open_id_for(&l))
                .collect();
            (*c, all)
        })
        .collect();
    // alpha starts with 120 members it should have, 60 of beta's people (managed: to go),
    // user0003 (protected, not in alpha's teams) and 5 outsiders (unmanaged: stay).
    let beta_only: Vec<String> = want["beta"]
        .difference(&want["alpha"])
        .take(60)
        .cloned()
        .collect();
    let outsiders: Vec<String> = (0..5)
        .map(|p| open_id_for(&format!("outsider{p}")))
        .collect();
    let protected = open_id_for(&login(3));
    assert!(!want["alpha"].contains(&protected));
    let mut alpha: Vec<String> = want["alpha"].iter().take(120).cloned().collect();
    alpha.extend(beta_only.iter().cloned());
    alpha.push(protected.clone());
    alpha.extend(outsiders.iter().cloned());
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        users: s.users.clone(),
        chats: vec![
            chat("alpha", alpha),
            chat("beta", Vec::new()),
            chat("gamma", outsiders[..2].to_vec()),
        ],
        ..FeishuSandboxOpts::default()
    })
    .await
    .unwrap();
    let gh = github(s.org.clone()).await;
    let sync = MemberSync::new(settings(&gh, &fs, &s.mapping, &chats)).unwrap();
    let ctl = TaskCtl::detached();

    let plan = sync.plan(&ctl).await.unwrap();
    assert_eq!(
        fs.stats().add_calls + fs.stats().remove_calls,
        0,
        "a plan writes nothing"
    );
    assert_eq!(plan.github_members, 2000);
    // Unmatched: exactly the users with neither a usable verified email nor a mapping, each
    // with a reason; none of them is guessed into a chat.
    let expected_unmatched: BTreeSet<String> = (0..2000)
        .filter(|i| !matchable(&login(*i)))
        .map(login)
        .collect();
    let unmatched: BTreeSet<String> = plan.unmatched.iter().map(|u| u.login.clone()).collect();
    assert_eq!(unmatched, expected_unmatched);
    for u in &plan.unmatched {
        let i: usize = u.login[4..].parse().unwrap();
        match route(i) {
            Route::None => assert!(
                u.reason.contains("public profile emails are not trusted"),
                "{u:?}"
            ),
            Route::Gone => assert!(u.reason.contains("not found in Feishu"), "{u:?}"),
            r => panic!("{} ({r:?}) should have matched", u.login),
        }
        assert!(!u.teams.is_empty());
    }
    assert_eq!(plan.matched, 2000 - expected_unmatched.len());
    let by_chat: BTreeMap<&str, _> = plan.chats.iter().map(|c| (c.chat.as_str(), c)).collect();
    let alpha_plan = by_chat["alpha"];
    let removed: BTreeSet<String> = alpha_plan
        .remove
        .iter()
        .map(|m| m.open_id.clone())
        .collect();
    assert_eq!(removed, beta_only.iter().cloned().collect());
    assert_eq!(alpha_plan.protected.len(), 1);
    assert_eq!(alpha_plan.protected[0].open_id, protected);
    assert_eq!(alpha_plan.unmanaged, 5);

    let summary = sync.apply(&plan, &ctl).await.unwrap();
    assert!(!summary.failed() && !summary.cancelled, "{summary:?}");
    let stats = fs.stats();
    assert_eq!(stats.concurrent_add_conflicts, 0);
    for c in &plan.chats {
        let writes =
            usize::try_from(stats.writes_per_chat.get(&c.chat).copied().unwrap_or(0)).unwrap();
        let bound = c.add.len().div_ceil(50) + c.remove.len().div_ceil(50);
        assert_eq!(
            writes,
            bound,
            "{}: {} adds, {} removes",
            c.chat,
            c.add.len(),
            c.remove.len()
        );
        assert!(
            c.add.len() > 50,
            "{} should need several add batches",
            c.chat
        );
    }
    // Converged: each chat holds exactly its matched team members plus what must stay.
    for (name, wanted) in &want {
        let now: BTreeSet<String> = fs.chat_members(name).into_iter().collect();
        let mut expected = wanted.clone();
        match *name {
            "alpha" => {
                expected.insert(protected.clone());
                expected.extend(outsiders.iter().cloned());
            }
            "gamma" => expected.extend(outsiders[..2].iter().cloned()),
            _ => {}
        }
        assert_eq!(now, expected, "chat {name}");
    }

    let again = sync.plan(&ctl).await.unwrap();
    assert!(again.is_noop(), "{again:?}");
    let before = fs.stats().writes_per_chat;
    let summary = sync.apply(&again, &ctl).await.unwrap();
    assert_eq!(summary.writes, 0);
    assert_eq!(fs.stats().writes_per_chat, before);
    gh.shutdown().await;
    fs.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_and_server_errors_still_complete() {
    let s = scale(3, 300);
    let chats: [(&str, &[&str]); 2] = [("alpha", &["team-0"]), ("beta", &["team-1", "team-2"])];
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        users: s.users.clone(),
        chats: vec![chat("alpha", Vec::new()), chat("beta", Vec::new())],
        api_per_second: 2,
        fail_every: Some(5),
        // Tokens shorter than the refresh margin: every call fetches a fresh one.
        token_ttl: Duration::from_secs(60),
        ..FeishuSandboxOpts::default()
    })
    .await
    .unwrap();
    let gh = github(s.org.clone()).await;
    let mut settings = settings(&gh, &fs, &s.mapping, &chats);
    settings.retry.base = Duration::from_millis(100);
    let sync = MemberSync::new(settings).unwrap();
    let (tx, mut progress) = mpsc::unbounded_channel();
    let ctl = TaskCtl::new(tokio_util::sync::CancellationToken::new(), tx);
    let plan = sync.plan(&ctl).await.unwrap();
    let summary = sync.apply(&plan, &ctl).await.unwrap();
    assert!(!summary.failed(), "{summary:?}");
    assert!(summary.writes > 0);
    let stats = fs.stats();
    assert!(stats.rate_limited > 0, "the storm happened: {stats:?}");
    assert!(stats.server_errors > 0, "{stats:?}");
    assert!(stats.tokens_issued > 1, "tokens were refreshed: {stats:?}");
    assert_eq!(stats.concurrent_add_conflicts, 0);
    assert!(sync.plan(&ctl).await.unwrap().is_noop());
    let mut last = None;
    while let Ok(p) = progress.try_recv() {
        last = Some(p);
    }
    let last = last.unwrap();
    assert_eq!(Some(last.done), last.total, "{last:?}");
    gh.shutdown().await;
    fs.shutdown().await;
}

#[tokio::test]
async fn cancelling_an_apply_stops_between_calls() {
    let s = scale(1, 200);
    let chats: [(&str, &[&str]); 1] = [("alpha", &["team-0"])];
    let fs = FeishuSandbox::start(FeishuSandboxOpts {
        users: s.users.clone(),
        chats: vec![chat("alpha", Vec::new())],
        ..FeishuSandboxOpts::default()
    })
    .await
    .unwrap();
    let gh = github(s.org.clone()).await;
    let sync = MemberSync::new(settings(&gh, &fs, &s.mapping, &chats)).unwrap();
    let plan = sync.plan(&TaskCtl::detached()).await.unwrap();
    assert!(plan.writes() > 1);
    let token = tokio_util::sync::CancellationToken::new();
    let (tx, _rx) = mpsc::unbounded_channel();
    let ctl = TaskCtl::new(token.clone(), tx);
    token.cancel();
    let summary = sync.apply(&plan, &ctl).await.unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.writes, 0);
    assert!(fs.chat_members("alpha").is_empty());
    gh.shutdown().await;
    fs.shutdown().await;
}

// ---- the binary, on the demo tenant ---------------------------------------------------------

fn write_inventory(dir: &Path, github_url: &str, feishu_section: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feishu/inventory.yaml"),
    )
    .unwrap()
    .replace("GITHUB_URL", github_url)
    .replace("FEISHU_SECTION", feishu_section);
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn shipdeck(dir: &Path, inventory: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(inventory)
        .args(["--output", "json", "feishu"])
        .args(args)
        .env("SHIPDECK_CONFIG", dir.join("config"))
        .env("SHIPDECK_DATA", dir.join("data"))
        .env("SHIPDECK_STATE", dir.join("state"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (
        out.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn headless_sync_and_notify_on_the_demo_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let fs = FeishuSandbox::start(FeishuSandboxOpts::demo())
        .await
        .unwrap();
    let gh = github(OrgSeed::demo()).await;
    fs.write_demo_files(dir.path()).unwrap();
    let inv = write_inventory(dir.path(), gh.url(), &fs.demo_inventory_section());

    let (code, plan, err) = shipdeck(dir.path(), &inv, &["sync", "--dry-run"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(plan["mode"], "dry-run");
    let chat = |name: &str| {
        plan["plan"]["chats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chat"] == name)
            .unwrap()
            .clone()
    };
    let logins = |c: &Value, k: &str| -> Vec<String> {
        c[k].as_array()
            .unwrap()
            .iter()
            .map(|m| m["login"].as_str().unwrap_or("?").to_owned())
            .collect()
    };
    assert_eq!(logins(&chat("releases"), "add"), ["frank"]);
    assert_eq!(logins(&chat("releases"), "remove"), ["heidi"]);
    let mut platform_adds = logins(&chat("platform"), "add");
    platform_adds.sort();
    assert_eq!(platform_adds, ["carol", "erin"]);
    assert_eq!(chat("platform")["unmanaged"], 1, "grace is not GitHub's");
    let unmatched = plan["plan"]["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["login"], "dave");
    assert_eq!(fs.stats().add_calls, 0);

    // Without --yes and without a terminal, --apply refuses.
    let (code, _, err) = shipdeck(dir.path(), &inv, &["sync", "--apply"]).await;
    assert_eq!(code, 5, "{err}");
    let (code, done, err) = shipdeck(dir.path(), &inv, &["--yes", "sync", "--apply"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(done["summary"]["writes"], 3);
    assert!(fs.chat_members("releases").contains(&open_id_for("frank")));
    assert!(!fs.chat_members("releases").contains(&open_id_for("heidi")));
    let (code, again, _) = shipdeck(dir.path(), &inv, &["--yes", "sync", "--apply"]).await;
    assert_eq!(code, 0);
    assert_eq!(again["summary"], Value::Null, "nothing to do: {again}");

    let (code, sent, err) = shipdeck(
        dir.path(),
        &inv,
        &[
            "notify",
            "--chat",
            "releases",
            "--text",
            "deploy window opens",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(sent["delivered"], true);
    assert!(
        fs.messages()
            .iter()
            .any(|m| m.accepted && m.title == "deploy window opens")
    );

    // A wrong secret in the secret file: exit 4 and 19021 in plain words.
    let secrets = dir.path().join("feishu-secrets.env");
    let text = std::fs::read_to_string(&secrets)
        .unwrap()
        .replace("demo-releases-secret", "not-the-secret");
    std::fs::write(&secrets, text).unwrap();
    let (code, sent, err) = shipdeck(
        dir.path(),
        &inv,
        &["notify", "--chat", "releases", "--text", "x"],
    )
    .await;
    assert_eq!(code, 4, "{err}");
    assert_eq!(sent["delivered"], false);
    assert!(err.contains("19021"), "{err}");
    assert!(!err.contains("not-the-secret"));

    let (code, _, err) = shipdeck(
        dir.path(),
        &inv,
        &["notify", "--chat", "nope", "--text", "x"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    gh.shutdown().await;
    fs.shutdown().await;
}
