//! Entries that changed between plan and apply are kept and reported.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::{Duration, SystemTime};

use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean;

use super::{demo_cfg, exists, journal, plan, touch};

#[test]
fn modified_replaced_or_gone_entries_are_kept_and_reported() {
    let (dir, root) = super::workspace();
    for name in [
        "grown.log",
        "touched.log",
        "replaced.log",
        "gone.log",
        "plain.log",
    ] {
        touch(&root.join(name), 30, "same");
    }
    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(p.total_files, 5);

    OpenOptions::new()
        .append(true)
        .open(root.join("grown.log"))
        .unwrap()
        .write_all(b" and more")
        .unwrap();
    // Same size, new mtime (someone rewrote it in place).
    OpenOptions::new()
        .write(true)
        .open(root.join("touched.log"))
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    // Replaced atomically (write aside, rename over), as editors and tools do.
    touch(&root.join("replaced.log.new"), 30, "same");
    fs::rename(root.join("replaced.log.new"), root.join("replaced.log")).unwrap();
    fs::remove_file(root.join("gone.log")).unwrap();

    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert_eq!(r.removed_files, 1, "{r:?}");
    assert!(!exists(&root.join("plain.log")));
    let why: Vec<(&str, &str)> = r
        .changed
        .iter()
        .map(|c| (c.path.as_str(), c.why.as_str()))
        .collect();
    assert_eq!(why.len(), 4, "{why:?}");
    assert!(
        why[0].0 == "gone.log" && why[0].1.contains("gone"),
        "{why:?}"
    );
    assert!(
        why[1].0 == "grown.log" && why[1].1.contains("size changed"),
        "{why:?}"
    );
    assert!(
        why[2].0 == "replaced.log" && why[2].1.contains("replaced"),
        "{why:?}"
    );
    assert!(
        why[3].0 == "touched.log" && why[3].1.contains("modified"),
        "{why:?}"
    );
    for kept in ["grown.log", "touched.log", "replaced.log"] {
        assert!(exists(&root.join(kept)), "{kept}");
    }
    assert!(r.failed.is_empty());
}
