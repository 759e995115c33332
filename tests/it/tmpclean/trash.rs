//! Trash mode: entries move into `<root>/.trash/<timestamp>/`, old batches are purged.

use std::fs;
use std::os::unix::fs::symlink;

use shipdeck::inventory::{TmpConfig, TrashConfig};
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, CleanMode, TmpError};

use super::{demo_cfg, exists, journal, paths, plan, touch};

fn trash_cfg() -> TmpConfig {
    TmpConfig {
        trash: Some(TrashConfig {
            purge_after_days: 7,
        }),
        ..demo_cfg()
    }
}

#[test]
fn entries_move_into_a_batch_and_old_batches_are_purged() {
    let (dir, root) = super::workspace();
    touch(&root.join("old.log"), 30, "old");
    touch(&root.join("sub/older.log"), 40, "older");
    touch(&root.join("new.log"), 0, "new");
    touch(
        &root.join(".trash/20200101T000000Z/ancient.log"),
        2000,
        "ancient",
    );
    touch(
        &root.join(".trash/notes/mine.txt"),
        2000,
        "not a batch shipdeck made",
    );
    let p = plan(dir.path(), &trash_cfg(), 0);
    assert_eq!(p.mode, CleanMode::Trash);
    assert_eq!(
        paths(&p),
        ["old.log", "sub/older.log"],
        ".trash is never walked"
    );
    assert_eq!(p.purge.len(), 1);
    assert_eq!(p.purge[0].name, "20200101T000000Z");

    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.removed_files, 2);
    assert_eq!(r.purged, ["20200101T000000Z"]);
    let batch = root.join(r.trash_batch.as_deref().unwrap());
    assert!(batch.starts_with(root.join(".trash")));
    assert_eq!(fs::read_to_string(batch.join("old.log")).unwrap(), "old");
    assert_eq!(
        fs::read_to_string(batch.join("sub/older.log")).unwrap(),
        "older"
    );
    assert!(!exists(&root.join("old.log")) && !exists(&root.join("sub")));
    assert!(exists(&root.join("new.log")));
    assert!(!exists(&root.join(".trash/20200101T000000Z")));
    assert!(exists(&root.join(".trash/notes/mine.txt")));

    // The fresh batch is not purged by the next run, nor walked.
    let again = plan(dir.path(), &trash_cfg(), 0);
    assert!(again.is_empty(), "{:?}", paths(&again));
    // Eight days later it is.
    let later = plan(dir.path(), &trash_cfg(), 8);
    assert_eq!(later.purge.len(), 1);
    assert_eq!(
        Some(format!(".trash/{}", later.purge[0].name)),
        r.trash_batch
    );
}

#[test]
fn a_trash_folder_that_is_a_symlink_is_refused() {
    let (dir, root) = super::workspace();
    touch(&root.join("old.log"), 30, "old");
    fs::create_dir(dir.path().join("elsewhere")).unwrap();
    symlink("../elsewhere", root.join(".trash")).unwrap();
    let p = plan(dir.path(), &trash_cfg(), 0);
    let e = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap_err();
    assert!(matches!(e, TmpError::TrashUnsafe { .. }), "{e}");
    assert!(exists(&root.join("old.log")));
    assert_eq!(
        fs::read_dir(dir.path().join("elsewhere")).unwrap().count(),
        0
    );
}
