//! The fleet view against a 50-app sandbox over three API servers: every kind of "needs me"
//! line appears from what the clusters, git and GitHub say; a cell opens today's screen and
//! only then are that app's pods watched; the watches are per namespace, not per app; a
//! stopped cluster marks only its own column stale. Snapshots at 80×24 and 200×60.

use std::collections::BTreeMap;

use shipdeck::app::fleet::{self, NeedKind};
use shipdeck::app::state::Feed;
use shipdeck::app::{Action, Command, Overlay};
use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::fleet::{FleetClusters, FleetOpts, Seeded, app_name, seeded};
use shipdeck::sandbox::github::GithubSandbox;
use shipdeck::services::kube::watch::PodScope;

use crate::harness::Cockpit;

const APPS: usize = 50;

struct Fleet {
    dir: tempfile::TempDir,
    inv: Inventory,
    github: GithubSandbox,
    clusters: FleetClusters,
}

/// The fleet sandbox as `shipdeck demo --apps N` builds it, without its CI (tests make the
/// changes they look for).
async fn fleet(apps: usize, speed: f64) -> Fleet {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let opts = FleetOpts {
        apps,
        unrelated_pods: 200,
        speed,
    };
    // GitHub's clock fast: a fresh build's checks finish in seconds.
    let w = shipdeck::demo::fleet_world(dir.path(), opts, 60.0)
        .await
        .unwrap();
    let mut inv = Inventory::load(&w.inventory).unwrap();
    // Drift shows after a short grace here (the default is minutes).
    inv.kube.drift_grace_secs = 2;
    Fleet {
        dir,
        inv,
        github: w.github,
        clusters: w.clusters,
    }
}

/// A cockpit on the fleet, opened on the fleet view, its pods following the app on screen as
/// the TUI's do.
async fn cockpit(
    f: &Fleet,
) -> (
    Cockpit,
    tokio::sync::watch::Sender<Option<String>>,
    tokio::task::JoinHandle<()>,
) {
    let paths = Paths::under(&f.dir.path().join(".shipdeck"));
    let mut c = Cockpit::connect(&f.inv, &paths).await;
    c.timers = true;
    c.state.overlay = Some(Overlay::Fleet);
    let (on_screen, rx) = tokio::sync::watch::channel(c.state.app_on_screen());
    let watches = c
        .runner
        .start_watches_with(&f.inv, &PodScope::OnScreen(rx))
        .unwrap();
    c.apply(Action::RefreshGit);
    (c, on_screen, watches)
}

fn kinds(c: &Cockpit) -> BTreeMap<NeedKind, Vec<String>> {
    let mut out: BTreeMap<NeedKind, Vec<String>> = BTreeMap::new();
    for n in fleet::needs(&c.state) {
        out.entry(n.kind)
            .or_default()
            .push(format!("{} {}", n.app, n.env));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_need_appears_and_a_cell_opens_the_app_with_its_pods() {
    let f = fleet(APPS, 4.0).await;
    let (mut c, on_screen, watches) = cockpit(&f).await;
    c.until("git, three clusters and every app's Rollout", |s| {
        s.gitops == Feed::Live
            && ["dev", "stg", "prod"].iter().all(|e| {
                s.live.envs.get(*e).is_some_and(|l| {
                    l.rollouts.len() == APPS && l.rollouts.values().all(Option::is_some)
                })
            })
    })
    .await;
    // In the fleet no pods are listed: its cells read Rollouts and ReplicaSets only.
    for e in ["dev", "stg", "prod"] {
        for i in 0..APPS {
            let r = c.state.live.rollout(&app_name(i), e).unwrap();
            assert!(
                !r.pods_listed,
                "{} {e}: pods listed in the fleet",
                app_name(i)
            );
        }
    }

    // A dev build whose checks are running now, so its promotion's gates turn green later.
    let calm = (0..APPS).find(|i| seeded(*i) == Seeded::Calm).unwrap();
    let fresh = "f00d123";
    f.github
        .add_commit(fresh, shipdeck::sandbox::github::Scenario::pipeline());
    release(&f, &app_name(calm), "dev", fresh).await;
    c.apply(Action::RefreshGit);

    let wanted = [
        NeedKind::Paused,
        NeedKind::Failed,
        NeedKind::Drift,
        NeedKind::GatesFailed,
        NeedKind::GatesGreen,
    ];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(90);
    while !wanted.iter().all(|w| kinds(&c).contains_key(w)) {
        let next = tokio::time::timeout_at(deadline, c.rx.recv()).await;
        let Ok(Some(action)) = next else {
            panic!("waited for a line of every kind; have {:?}", kinds(&c));
        };
        c.apply(action);
    }
    let k = kinds(&c);
    let of = |kind: NeedKind| k.get(&kind).cloned().unwrap_or_default();
    let by_seed = |want: Seeded, env: &str| -> Vec<String> {
        (0..APPS)
            .filter(|i| seeded(*i) == want)
            .map(|i| format!("{} {env}", app_name(i)))
            .collect()
    };
    assert_eq!(
        of(NeedKind::Paused),
        by_seed(Seeded::Paused, "stg"),
        "{k:?}"
    );
    assert_eq!(
        of(NeedKind::Failed),
        by_seed(Seeded::Aborted, "dev"),
        "{k:?}"
    );
    assert_eq!(
        of(NeedKind::Drift),
        by_seed(Seeded::BehindGit, "prod"),
        "{k:?}"
    );
    assert_eq!(
        of(NeedKind::GatesFailed),
        by_seed(Seeded::FailedGates, "dev"),
        "{k:?}"
    );
    assert_eq!(
        of(NeedKind::GatesGreen),
        vec![format!("{} stg", app_name(calm))],
        "{k:?}"
    );
    // Newest first.
    let needs = fleet::needs(&c.state);
    assert!(needs.windows(2).all(|w| w[0].since_ms >= w[1].since_ms));

    // The aborted canary's line: enter opens that app with dev selected, and its pods only.
    while c.state.fleet.part != fleet::FleetPart::Needs {
        c.press(Command::FocusNext);
    }
    let at = needs
        .iter()
        .position(|n| n.kind == NeedKind::Failed)
        .unwrap();
    for _ in 0..at {
        c.press(Command::Down);
    }
    c.apply(Action::Submit);
    assert_eq!(c.state.overlay, None);
    let aborted = app_name((0..APPS).find(|i| seeded(*i) == Seeded::Aborted).unwrap());
    assert_eq!(c.state.selected_app(), Some(aborted.as_str()));
    assert_eq!(c.state.selected_env().unwrap().name, "dev");
    on_screen.send_replace(c.state.app_on_screen());
    c.until("the opened app's pods", |s| {
        s.live
            .rollout(&aborted, "dev")
            .is_some_and(|r| r.pods_listed)
    })
    .await;
    let others_listed = (0..APPS)
        .map(app_name)
        .filter(|a| *a != aborted)
        .filter(|a| {
            c.state
                .live
                .rollout(a, "dev")
                .is_some_and(|r| r.pods_listed)
        })
        .count();
    assert_eq!(others_listed, 0, "pods of apps not on screen were listed");
    let pods = c.state.live.rollout(&aborted, "dev").unwrap();
    assert!(
        pods.revisions
            .iter()
            .flat_map(|r| &r.replica_sets)
            .any(|rs| !rs.pods.is_empty()),
        "{pods:?}"
    );
    // The pods were asked by the Rollout's own selector, never the namespace's 200 others.
    let dev = f.clusters.cluster("dev").unwrap();
    let pod_reads: Vec<String> = dev
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.contains("/namespaces/team-") && p.contains("/pods?"))
        .collect();
    assert!(!pod_reads.is_empty());
    assert!(
        pod_reads
            .iter()
            .all(|p| p.contains(&format!("app%3D{aborted}"))
                || p.contains(&format!("app={aborted}"))),
        "{pod_reads:?}"
    );
    watches.abort();
}

/// One commit to the fleet's GitOps remote, as CI would make it.
async fn release(f: &Fleet, app: &str, env: &str, tag: &str) {
    let (inv, paths) = (f.inv.clone(), Paths::under(&f.dir.path().join(".ci-bot")));
    let (app, env, tag) = (app.to_owned(), env.to_owned(), tag.to_owned());
    tokio::task::spawn_blocking(move || {
        use shipdeck::services::gitops::{Action as GitAction, ChangeRequest, GitopsEngine};
        let engine = GitopsEngine::open(&inv, &paths).unwrap();
        let req = ChangeRequest::new(GitAction::Release, &app, &env, Some(&tag));
        engine
            .apply(&req, &shipdeck::services::TaskCtl::detached())
            .unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_are_per_namespace_and_a_stopped_cluster_marks_only_its_cells() {
    let f = fleet(APPS, 1.0).await;
    let (mut c, _on_screen, watches) = cockpit(&f).await;
    c.until("every cell", |s| {
        ["dev", "stg", "prod"].iter().all(|e| {
            s.live
                .envs
                .get(*e)
                .is_some_and(|l| l.rollouts.len() == APPS)
        })
    })
    .await;
    // One list per kind per namespace: five team namespaces per cluster, whatever the apps.
    let teams = shipdeck::sandbox::fleet::teams(APPS);
    for (env, cluster) in &f.clusters.clusters {
        let lists = |kind: &str| {
            cluster
                .requests()
                .into_iter()
                .filter(|r| {
                    r.method == "GET"
                        && r.path_and_query.contains("/namespaces/team-")
                        && r.path_and_query.contains(&format!("/{kind}?"))
                        && !r.path_and_query.contains("watch=true")
                })
                .count()
        };
        assert_eq!(lists("rollouts"), teams, "{env}: Rollout lists");
        assert_eq!(lists("replicasets"), teams, "{env}: ReplicaSet lists");
        assert_eq!(lists("analysisruns"), teams, "{env}: AnalysisRun lists");
        assert_eq!(lists("pods"), 0, "{env}: no pods in the fleet");
    }

    let prod = f.clusters.cluster("prod").unwrap();
    prod.stop_listener().await;
    c.until("prod's column stale", |s| {
        fleet::column_state(s, "prod").is_some_and(|m| m.starts_with("stale"))
    })
    .await;
    assert_eq!(fleet::column_state(&c.state, "dev"), None);
    assert_eq!(fleet::column_state(&c.state, "stg"), None);
    for i in 0..APPS {
        let app = app_name(i);
        assert!(fleet::cell(&c.state, &app, "prod").stale, "{app} prod");
        assert!(!fleet::cell(&c.state, &app, "dev").stale, "{app} dev");
        assert!(!fleet::cell(&c.state, &app, "stg").stale, "{app} stg");
        // The last facts stay, marked: the tag git says and the health last seen.
        assert_ne!(
            fleet::cell(&c.state, &app, "prod").health,
            "?",
            "{app} prod"
        );
    }
    let screen = crate::ui_snapshots::draw(&c.state, 200, 60);
    assert!(screen.contains("prod ⚠ stale since"), "{screen}");
    watches.abort();
}

/// A fleet of twelve on screen: calm apps, a canary waiting for promotion, an aborted one, one
/// mid-way, prod stale, drift, gates failed, running and passed.
fn fleet_state() -> shipdeck::app::State {
    use shipdeck::services::github::GateReport;
    use shipdeck::services::gitops::EnvTag;
    use shipdeck::services::kube::{Conn, FeedId, LiveEvent, RolloutInfo};
    let dir = tempfile::tempdir().unwrap();
    let endpoints = shipdeck::demo::Endpoints {
        world: Some(shipdeck::sandbox::fleet::inventory_world(12)),
        ..Default::default()
    };
    let path = shipdeck::demo::write_inventory(dir.path(), &endpoints).unwrap();
    let inv = Inventory::load(&path).unwrap();
    let mut s = shipdeck::app::State::new(&inv, "fleet", shipdeck::app::Keymap::default());
    s.clock.zone = Some(jiff::tz::TimeZone::UTC);
    let t0: u64 = 1_796_000_000_000;
    s.clock.now_ms = t0;
    s.overlay = Some(Overlay::Fleet);
    let tag = |i: usize, b: usize| format!("c{i:03x}{b:03x}");
    let mut tags = Vec::new();
    for i in 0..12 {
        for (k, env) in ["dev", "stg", "prod"].iter().enumerate() {
            tags.push(EnvTag {
                app: app_name(i),
                env: (*env).to_owned(),
                file: format!("apps/{}/overlays/{env}/kustomization.yaml", app_name(i)),
                tag: Some(tag(i, 3 - k)),
                changed: None,
                problem: None,
            });
        }
    }
    shipdeck::app::update(&mut s, Action::GitSnapshot(Ok(tags)));
    let healthy = RolloutInfo {
        status: "Healthy".into(),
        fully_promoted: true,
        ..RolloutInfo::default()
    };
    for env in ["dev", "stg", "prod"] {
        let mut rollouts = BTreeMap::new();
        for i in 0..12 {
            let r = match (i, env) {
                (3, "stg") => RolloutInfo {
                    status: "Paused".into(),
                    step: "1/7".into(),
                    set_weight: Some(20),
                    actual_weight: Some(20),
                    pause_reasons: vec!["CanaryPauseStep".into()],
                    paused_since: Some(
                        jiff::Timestamp::from_millisecond(i64::try_from(t0).unwrap() - 240_000)
                            .unwrap(),
                    ),
                    ..RolloutInfo::default()
                },
                (7, "dev") => RolloutInfo {
                    status: "Degraded".into(),
                    aborted: true,
                    message: "RolloutAborted: metric \"success-rate\" assessed Failed".into(),
                    step: "0/6".into(),
                    set_weight: Some(0),
                    actual_weight: Some(0),
                    ..RolloutInfo::default()
                },
                (9, "dev") => RolloutInfo {
                    status: "Progressing".into(),
                    step: "3/6".into(),
                    set_weight: Some(40),
                    actual_weight: Some(40),
                    ..RolloutInfo::default()
                },
                _ => healthy.clone(),
            };
            rollouts.insert(app_name(i), Some(r));
        }
        shipdeck::app::update(
            &mut s,
            Action::Live(LiveEvent::Rollouts {
                env: env.into(),
                rollouts,
            }),
        );
    }
    shipdeck::app::update(
        &mut s,
        Action::Live(LiveEvent::Connection {
            feed: FeedId::Cluster("prod".into()),
            conn: Conn::Stale {
                since: jiff::Timestamp::from_second(1_795_999_900).unwrap(),
                error: "connection refused".into(),
            },
        }),
    );
    let report = |passed: bool, settled: bool, summary: &str| GateReport {
        sha: "c".repeat(40),
        gates: Vec::new(),
        summary: summary.into(),
        all_passed: passed,
        settled,
        fetched_at: jiff::Timestamp::from_second(1_795_999_990).unwrap(),
        refresh_after: None,
        rate_limited_until: None,
    };
    let mut gates = Vec::new();
    for i in 0..12 {
        let ok = report(true, true, "7/7 passed");
        let stg = match i {
            5 => report(false, false, "5/7 passed, 2 running"),
            // Its last check finished five minutes ago: a promotion that just became possible.
            2 => GateReport {
                gates: vec![shipdeck::services::github::Gate {
                    name: "test".into(),
                    state: shipdeck::services::github::GateState::Passed,
                    duration_s: Some(95),
                    finished_at: Some(jiff::Timestamp::from_second(1_795_999_700).unwrap()),
                    url: None,
                    source: None,
                    detail: None,
                }],
                ..ok.clone()
            },
            _ => ok.clone(),
        };
        gates.push(((tag(i, 3), "stg".to_owned()), Ok(stg)));
        gates.push(((tag(i, 2), "prod".to_owned()), Ok(ok)));
    }
    shipdeck::app::update(&mut s, Action::FleetGates(gates));
    s.drift_since
        .insert((app_name(4), "prod".into()), t0 - 600_000);
    // As the next change would (the drift's own timer, here set by hand).
    fleet::note_needs(&mut s);
    s
}

#[test]
fn fleet_view_snapshots() {
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let mut s = fleet_state();
        s.size = (w, h);
        insta::assert_snapshot!(
            format!("fleet_{w}x{h}"),
            crate::ui_snapshots::draw(&s, w, h)
        );
    }
    // Grouped by team, filtered to one team, the matrix focused.
    let mut s = fleet_state();
    shipdeck::app::update(&mut s, Action::Command(Command::Group));
    shipdeck::app::update(&mut s, Action::Command(Command::FocusNext));
    shipdeck::app::update(&mut s, Action::Command(Command::Filter));
    for c in "team-00".chars() {
        shipdeck::app::update(&mut s, Action::Input(c));
    }
    shipdeck::app::update(&mut s, Action::Submit);
    insta::assert_snapshot!(
        "fleet_grouped_filtered_80x24",
        crate::ui_snapshots::draw(&s, 80, 24)
    );
}

#[test]
fn a_stale_backup_waits_for_a_person_and_enter_shows_its_env() {
    use shipdeck::services::s3::{BackupAge, BackupRead};
    let mut s = fleet_state();
    let read = |env: &str, age_h: u64| BackupRead {
        env: env.into(),
        age: Some(BackupAge {
            env: env.into(),
            bucket: "tos-backups".into(),
            prefix: format!("shared-svc/{env}/backup/"),
            newest_key: Some(format!("shared-svc/{env}/backup/dump.sql.gz")),
            newest: Some(
                jiff::Timestamp::from_second(1_796_000_000 - i64::try_from(age_h * 3600).unwrap())
                    .unwrap(),
            ),
            age_secs: Some(age_h * 3600),
            max_age_secs: 26 * 3600,
            stale: age_h > 26,
            objects: 3,
        }),
        error: None,
    };
    s.pipeline.backups = Some(Ok(vec![read("stg", 3), read("prod", 30)]));
    fleet::note_needs(&mut s);
    let needs = s.fleet.needs.clone();
    let backups: Vec<&fleet::Need> = needs
        .iter()
        .filter(|n| n.kind == NeedKind::Backup)
        .collect();
    assert_eq!(backups.len(), 1, "{needs:?}");
    assert_eq!(backups[0].env, "prod");
    assert!(
        backups[0].what.contains("stale: newest 30h ago (max 26h)"),
        "{}",
        backups[0].what
    );
    // Stale for four hours: newest 30 h ago, allowed 26 h.
    assert_eq!(s.clock.now_ms - backups[0].since_ms, 4 * 3600 * 1000);
    let at = needs
        .iter()
        .position(|n| n.kind == NeedKind::Backup)
        .unwrap();
    for _ in 0..at {
        shipdeck::app::update(&mut s, Action::Command(Command::Down));
    }
    shipdeck::app::update(&mut s, Action::Submit);
    assert_eq!(s.overlay, None);
    assert_eq!(s.selected_env().unwrap().name, "prod");
    assert_eq!(s.focus, shipdeck::app::Panel::Environments);
}
