//! A 100,000-file tree: half of it old, spread over 200 folders.

use std::fs::{self, File};

use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean;

use super::{age, demo_cfg, journal, plan};

#[test]
fn hundred_thousand_files() {
    let (dir, root) = super::workspace();
    for d in 0..200 {
        let folder = root.join(format!("d{d:03}"));
        fs::create_dir(&folder).unwrap();
        for f in 0..500 {
            let file = File::create(folder.join(format!("f{f:03}.dat"))).unwrap();
            if f % 2 == 0 {
                age(&file, 10);
            }
        }
    }
    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(p.total_files, 50_000);
    assert_eq!(p.kept.young, 50_000);
    assert_eq!(p.dirs.len(), 200);
    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert!(r.is_clean(), "{:?}", (&r.failed, &r.changed.len()));
    assert_eq!(r.removed_files, 50_000);
    let left: usize = fs::read_dir(&root)
        .unwrap()
        .map(|d| fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(left, 50_000);
    let again = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(again.total_files, 0);
}
