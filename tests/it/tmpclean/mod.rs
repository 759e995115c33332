//! Tidy tmp/ (issue 9): plans and applies against real trees in temp folders, and the real
//! binary for `shipdeck tmp plan|clean`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod big;
mod changed;
mod crossfs;
mod headless;
mod permission;
mod retention;
mod roots;
mod symlinks;
mod trash;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use shipdeck::audit::Journal;
use shipdeck::inventory::{TmpConfig, TmpRule};
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, Plan, PlanOptions};

pub const DAY: u64 = 86_400;

/// Writes `content` at `path` (parents created) and ages it by `days`.
pub fn touch(path: &Path, days: u64, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = File::create(path).unwrap();
    f.write_all(content.as_bytes()).unwrap();
    age(&f, days);
}

pub fn age(f: &File, days: u64) {
    f.set_modified(SystemTime::now() - Duration::from_secs(days * DAY + 60))
        .unwrap();
}

/// The demo inventory's rules, with the root at `tmp`.
pub fn demo_cfg() -> TmpConfig {
    TmpConfig {
        root: "tmp".into(),
        default_keep_days: Some(7),
        rules: vec![
            TmpRule {
                pattern: "actions-runner-*.tar.gz".into(),
                keep_latest: Some(2),
                ..TmpRule::default()
            },
            TmpRule {
                pattern: "*.tgz".into(),
                keep_days: Some(14),
                ..TmpRule::default()
            },
        ],
        never_delete: vec!["*.keep".into()],
        ..TmpConfig::default()
    }
}

/// Plan options with a pinned clock `ahead_days` in the future and no home folder.
pub fn opts(ahead_days: u64) -> PlanOptions {
    PlanOptions {
        now: SystemTime::now() + Duration::from_secs(ahead_days * DAY),
        home: None,
        threads: 3,
    }
}

pub fn plan(base: &Path, cfg: &TmpConfig, ahead_days: u64) -> Plan {
    tmpclean::plan(cfg, base, &opts(ahead_days), &TaskCtl::detached()).unwrap()
}

pub fn journal(base: &Path) -> Journal {
    Journal::new(base.join("state").join("audit.jsonl"))
}

pub fn paths(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .candidates
        .iter()
        .map(|c| c.path.display().to_string())
        .collect();
    v.sort();
    v
}

pub fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

/// A fresh folder holding `tmp/` (the root) next to things that must survive.
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tmp");
    fs::create_dir(&root).unwrap();
    (dir, root)
}
