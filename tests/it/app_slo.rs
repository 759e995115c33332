//! The cockpit's SLO read: `RefreshSlo` → one numbered `ReadSlo` → the driver reads the
//! sandbox's Prometheus → `SloLoaded` lands in `State::slo` (newest request wins; an error is
//! kept beside the last good report).

use std::sync::{Arc, Mutex};

use shipdeck::app::{Action, Effect, Keymap, State, update};
use shipdeck::inventory::Inventory;
use shipdeck::sandbox::prometheus::PromSandbox;

use crate::harness::Cockpit;

fn refresh(app: &str, env: &str) -> Action {
    Action::RefreshSlo {
        app: app.into(),
        env: env.into(),
        since: None,
    }
}

#[test]
fn without_prometheus_nothing_is_asked() {
    let mut s = crate::app_core::demo_state();
    assert!(!s.slo.configured);
    assert!(update(&mut s, refresh("miker-web", "stg")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_reads_the_slo_and_keeps_only_the_newest_answer() {
    let tag = Arc::new(Mutex::new("9f1c2ab".to_owned()));
    let t = tag.clone();
    let sb = PromSandbox::start(Arc::new(move |app, ns| {
        (app == "miker-web" && ns == "miker-stg").then(|| t.lock().unwrap().clone())
    }))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ws = shipdeck::demo::prepare(
        Some(dir.path()),
        &shipdeck::demo::Endpoints {
            prometheus_url: Some(sb.url().to_owned()),
            ..Default::default()
        },
    )
    .unwrap();
    let inv = Inventory::load(&ws.inventory_path).unwrap();

    // Pure: two requests for one pair, the older answer is dropped.
    let mut s = State::new(&inv, "test", Keymap::default());
    let first = update(&mut s, refresh("miker-web", "stg"));
    let second = update(&mut s, refresh("miker-web", "stg"));
    let seq_of = |e: &[Effect]| match e {
        [Effect::ReadSlo { seq, .. }] => *seq,
        other => panic!("{other:?}"),
    };
    let (old, new) = (seq_of(&first), seq_of(&second));
    assert!(new > old);
    update(
        &mut s,
        Action::SloLoaded {
            app: "miker-web".into(),
            env: "stg".into(),
            seq: old,
            result: Err("late".into()),
        },
    );
    let e = s.slo.get("miker-web", "stg").unwrap();
    assert!(e.loading && e.error.is_none(), "{e:?}");

    // Through the driver against the sandbox.
    let paths = shipdeck::paths::Paths::under(&dir.path().join(".shipdeck"));
    let mut c = Cockpit::connect(&inv, &paths).await;
    assert!(c.state.slo.configured && c.state.slo.unavailable.is_none());
    c.apply(Action::RefreshSlo {
        app: "miker-web".into(),
        env: "stg".into(),
        since: Some(now() - 600.0),
    });
    c.until("the SLO read", |s| {
        s.slo.get("miker-web", "stg").is_some_and(|e| !e.loading)
    })
    .await;
    let e = c.state.slo.get("miker-web", "stg").unwrap().clone();
    let report = e.report.expect("a report");
    assert!(!report.breached && report.queries == 16, "{report:?}");
    assert!(report.metrics.iter().all(|m| !m.canary.series.is_empty()));

    // A bad canary: the next read breaches; a dead Prometheus keeps that report beside the error.
    *tag.lock().unwrap() = "bad0003".into();
    c.apply(refresh("miker-web", "stg"));
    c.until("the second read", |s| {
        s.slo.get("miker-web", "stg").is_some_and(|e| !e.loading)
    })
    .await;
    assert!(
        c.state
            .slo
            .get("miker-web", "stg")
            .unwrap()
            .report
            .as_ref()
            .unwrap()
            .breached
    );
    sb.shutdown().await;
    c.apply(refresh("miker-web", "stg"));
    c.until("the failed read", |s| {
        s.slo.get("miker-web", "stg").is_some_and(|e| !e.loading)
    })
    .await;
    let e = c.state.slo.get("miker-web", "stg").unwrap();
    assert!(
        e.error
            .as_deref()
            .unwrap()
            .starts_with("cannot connect to Prometheus at "),
        "{e:?}"
    );
    assert!(e.report.as_ref().unwrap().breached);
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
