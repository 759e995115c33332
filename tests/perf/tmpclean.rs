//! Plan + apply of a 100,000-file tree (200 folders × 500 files, half 10 days old), in-process,
//! per thread count, against `find ROOT -type f -mtime +7 -delete` on an identical tree.
//!
//!   cargo bench --bench tmpclean          (ROUNDS=3 for medians of three)
//!
//! Warm page cache (each tree was just written). Prints the figures; asserts nothing about time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::{self, File};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use shipdeck::audit::Journal;
use shipdeck::inventory::TmpConfig;
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, PlanOptions};

const DIRS: usize = 200;
const PER_DIR: usize = 500;

fn make_tree(root: &Path) {
    let old = SystemTime::now() - Duration::from_secs(10 * 86_400);
    for d in 0..DIRS {
        let folder = root.join(format!("d{d:03}"));
        fs::create_dir_all(&folder).unwrap();
        for f in 0..PER_DIR {
            let file = File::create(folder.join(format!("f{f:04}.dat"))).unwrap();
            if f % 2 == 0 {
                file.set_modified(old).unwrap();
            }
        }
    }
}

fn find_delete(base: &Path) -> Duration {
    let root = base.join("tree");
    make_tree(&root);
    let t = Instant::now();
    let st = Command::new("find")
        .arg(&root)
        .args(["-type", "f", "-mtime", "+7", "-delete"])
        .status()
        .expect("needs `find`");
    let d = t.elapsed();
    assert!(st.success());
    fs::remove_dir_all(&root).unwrap();
    d
}

fn shipdeck(base: &Path, threads: usize) -> (Duration, Duration, u64) {
    let root = base.join("tree");
    make_tree(&root);
    let cfg = TmpConfig {
        root: "tree".into(),
        default_keep_days: Some(7),
        ..TmpConfig::default()
    };
    let opts = PlanOptions {
        threads,
        home: None,
        ..PlanOptions::default()
    };
    let journal = Journal::new(base.join("audit.jsonl"));
    let t = Instant::now();
    let plan = tmpclean::plan(&cfg, base, &opts, &TaskCtl::detached()).unwrap();
    let planned = t.elapsed();
    let t = Instant::now();
    let report = tmpclean::apply(&plan, &journal, &TaskCtl::detached()).unwrap();
    let applied = t.elapsed();
    assert!(report.is_clean());
    fs::remove_dir_all(&root).unwrap();
    (planned, applied, report.removed_files)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    println!(
        "tmpclean: {} files in {DIRS} folders, half older than 7 days; {rounds} rounds; {} cores",
        DIRS * PER_DIR,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let find = median((0..rounds).map(|_| ms(find_delete(base))).collect());
    println!("find -type f -mtime +7 -delete: {find:.0} ms");
    let mut counts = vec![1, 2, 4, PlanOptions::default().threads];
    counts.sort_unstable();
    counts.dedup();
    for threads in counts {
        let mut plan = Vec::new();
        let mut apply = Vec::new();
        for _ in 0..rounds {
            let (p, a, removed) = shipdeck(base, threads);
            assert_eq!(usize::try_from(removed).unwrap(), DIRS * PER_DIR / 2);
            plan.push(ms(p));
            apply.push(ms(a));
        }
        let total: Vec<f64> = plan.iter().zip(&apply).map(|(p, a)| p + a).collect();
        let t = median(total);
        println!(
            "shipdeck threads={threads}: plan {:.0} ms + apply {:.0} ms = {t:.0} ms  ({:.2}× find)",
            median(plan),
            median(apply),
            t / find
        );
    }
}
