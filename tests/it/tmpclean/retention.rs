//! The demo seed under the demo inventory's rules: keep_latest, keep_days, default, never_delete.

use std::fs;

use shipdeck::inventory::{TmpConfig, TmpRule};
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, SortKey, demo};
use tokio_util::sync::CancellationToken;

use super::{demo_cfg, exists, journal, paths, plan, touch};

#[test]
fn demo_seed_plans_by_rule_and_applies() {
    let ws = tempfile::tempdir().unwrap();
    demo::seed(ws.path()).unwrap();
    let p = plan(ws.path(), &demo_cfg(), 0);
    assert_eq!(
        paths(&p),
        [
            "actions-runner-linux-x64-2.311.0.tar.gz",
            "actions-runner-linux-x64-2.314.1.tar.gz",
            "actions-runner-linux-x64-2.317.0.tar.gz",
            "kubectl-v1.30.4",
            "miker-api-1.2.0.tgz",
            "miker-web-0.4.2.tgz",
            "scratch/debug-pod.yaml",
            "scratch/old-logs/ci-812.log",
            "scratch/old-logs/ci-813.log",
            "sops-v3.9.0.linux.amd64",
            "values-override.yaml",
        ]
    );
    let runner = &p.totals[0];
    assert_eq!(
        (runner.rule.as_str(), runner.rule_index, runner.files),
        ("actions-runner-*.tar.gz", Some(0), 3)
    );
    assert_eq!(runner.bytes, (178 + 181 + 183) * 1024 * 1024);
    assert_eq!((p.totals[1].rule.as_str(), p.totals[1].files), ("*.tgz", 2));
    assert_eq!(
        (p.totals[2].rule.as_str(), p.totals[2].files),
        ("default", 6)
    );
    assert_eq!(p.total_files, 11);
    assert_eq!(p.kept.newest, 2);
    assert_eq!(p.kept.never_delete, 1);
    let c = p
        .candidates
        .iter()
        .find(|c| c.path.ends_with("actions-runner-linux-x64-2.317.0.tar.gz"))
        .unwrap();
    assert_eq!(c.reason, "not among the 2 newest");
    assert!(c.age_secs >= 23 * super::DAY);

    // The preview's orderings.
    let mut sorted = p.clone();
    sorted.sort(SortKey::Size, true);
    assert!(
        sorted.candidates[0]
            .path
            .ends_with("actions-runner-linux-x64-2.317.0.tar.gz")
    );
    sorted.sort(SortKey::Age, false);
    assert!(sorted.candidates[0].path.ends_with("values-override.yaml"));
    sorted.sort(SortKey::Rule, false);
    assert_eq!(sorted.candidates[0].rule_index, Some(0));
    assert_eq!(sorted.candidates[10].rule_index, None);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctl = TaskCtl::new(CancellationToken::new(), tx);
    let j = journal(ws.path());
    let r = tmpclean::apply(&p, &j, &ctl).unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!((r.removed_files, r.removed_bytes), (11, p.total_bytes));
    // scratch/old-logs then scratch emptied: removed bottom-up; the root stays.
    assert_eq!(r.dirs_removed, 2);
    let tmp = ws.path().join("tmp");
    assert!(!exists(&tmp.join("scratch")));
    assert!(tmp.is_dir());
    for kept in [
        ".keep",
        "actions-runner-linux-x64-2.320.0.tar.gz",
        "actions-runner-linux-x64-2.319.1.tar.gz",
        "miker-web-0.5.0.tgz",
        "argo-rollouts-2.37.7.tgz",
        "yq_linux_amd64",
        "kubeconfig-scratch.yaml",
        "runbook-link.md",
    ] {
        assert!(exists(&tmp.join(kept)), "{kept} must be kept");
    }
    assert!(
        fs::read_to_string(ws.path().join(demo::LINK_TARGET))
            .unwrap()
            .contains("never touch")
    );

    let mut last = None;
    while let Ok(pr) = rx.try_recv() {
        last = Some(pr);
    }
    let last = last.expect("progress was reported");
    assert_eq!((last.done, last.total), (11, Some(11)));

    let entries = j.read_all().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "tmp-clean");
    assert_eq!(entries[0].result, "ok");
    assert_eq!(entries[0].detail["removed_files"], 11);
    assert_eq!(entries[0].detail["removed_bytes"], p.total_bytes);
}

#[test]
fn keep_latest_with_keep_days_and_protected_folders() {
    let (dir, root) = super::workspace();
    for (i, days) in [1, 3, 20, 30, 40].iter().enumerate() {
        touch(&root.join(format!("build-{i}.zip")), *days, "z");
    }
    touch(&root.join("pinned/very-old.txt"), 400, "keep me");
    touch(&root.join("deep/pinned/also-old.txt"), 400, "keep me");
    touch(&root.join("loose.txt"), 400, "no default: kept");
    let cfg = TmpConfig {
        root: "tmp".into(),
        default_keep_days: None,
        rules: vec![TmpRule {
            pattern: "build-*.zip".into(),
            keep_days: Some(2),
            keep_latest: Some(2),
        }],
        never_delete: vec!["pinned".into()],
        ..TmpConfig::default()
    };
    let p = plan(dir.path(), &cfg, 0);
    // Two newest (1d, 3d) kept by keep_latest, nothing else is younger than 2 days.
    assert_eq!(paths(&p), ["build-2.zip", "build-3.zip", "build-4.zip"]);
    assert_eq!(p.candidates[0].reason, "older than 2 days");
    assert_eq!(p.kept.newest, 2);
    assert_eq!(
        p.kept.never_delete, 2,
        "both `pinned` folders are protected"
    );
    assert_eq!(p.kept.unmatched, 1);

    // The TUI's toggles: apply only a subset.
    let chosen = p.subset(|_, c| !c.path.ends_with("build-3.zip"));
    assert_eq!(chosen.total_files, 2);
    let r = tmpclean::apply(&chosen, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert_eq!(r.removed_files, 2);
    assert!(exists(&root.join("build-3.zip")));
    assert!(!exists(&root.join("build-2.zip")));
    assert!(exists(&root.join("pinned/very-old.txt")));
    assert!(exists(&root.join("deep/pinned/also-old.txt")));
    assert!(exists(&root.join("loose.txt")));
}

#[test]
fn cancelled_apply_stops_and_is_journaled() {
    let (dir, root) = super::workspace();
    for i in 0..50 {
        touch(&root.join(format!("f{i}.log")), 30, "x");
    }
    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(p.total_files, 50);
    let token = CancellationToken::new();
    token.cancel();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let j = journal(dir.path());
    let r = tmpclean::apply(&p, &j, &TaskCtl::new(token, tx)).unwrap();
    assert!(r.cancelled);
    assert_eq!((r.removed_files, r.not_attempted), (0, 50));
    assert_eq!(fs::read_dir(&root).unwrap().count(), 50);
    assert_eq!(j.read_all().unwrap()[0].result, "cancelled");
}
