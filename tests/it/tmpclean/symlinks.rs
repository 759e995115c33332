//! Symlinks are candidates themselves; their targets (files or folders outside) never are.

use std::fs;
use std::os::unix::fs::symlink;

use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, EntryKind};

use super::{demo_cfg, exists, journal, paths, plan, touch};

#[test]
fn links_to_files_and_folders_outside_are_removed_targets_untouched() {
    let (dir, root) = super::workspace();
    let outside = dir.path().join("outside");
    touch(&outside.join("secret.txt"), 90, "secret");
    touch(&outside.join("dir/inner.txt"), 90, "inner");
    touch(&outside.join("dir/sub/deeper.bin"), 90, "deeper");
    symlink("../outside/secret.txt", root.join("link-file")).unwrap();
    symlink("../outside/dir", root.join("link-dir")).unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    symlink(outside.join("secret.txt"), root.join("sub/link-abs")).unwrap();
    symlink(&outside, root.join("sub/link-outside-abs")).unwrap();
    touch(&root.join("old.txt"), 30, "old");

    // The links were just made; look from 30 days ahead so they are old too.
    let p = plan(dir.path(), &demo_cfg(), 30);
    assert_eq!(
        paths(&p),
        [
            "link-dir",
            "link-file",
            "old.txt",
            "sub/link-abs",
            "sub/link-outside-abs"
        ]
    );
    let link = p
        .candidates
        .iter()
        .find(|c| c.path.ends_with("link-dir"))
        .unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(link.link_target.as_deref(), Some("../outside/dir".as_ref()));

    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.removed_files, 5);
    assert_eq!(
        fs::read_to_string(outside.join("secret.txt")).unwrap(),
        "secret"
    );
    assert_eq!(
        fs::read_to_string(outside.join("dir/inner.txt")).unwrap(),
        "inner"
    );
    assert_eq!(
        fs::read_to_string(outside.join("dir/sub/deeper.bin")).unwrap(),
        "deeper"
    );
    assert!(!exists(&root.join("link-dir")) && !exists(&root.join("sub")));
}

#[test]
fn folder_swapped_for_a_symlink_after_planning_is_not_followed() {
    let (dir, root) = super::workspace();
    touch(&root.join("sub/victim.txt"), 30, "planned inside the root");
    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(paths(&p), ["sub/victim.txt"]);

    // Move the folder out of the root and leave a symlink in its place: the very same file
    // (same inode, size, mtime) is now reachable through the root, but lives outside it.
    let outside = dir.path().join("moved-out");
    fs::rename(root.join("sub"), &outside).unwrap();
    symlink(&outside, root.join("sub")).unwrap();

    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert_eq!(r.removed_files, 0);
    assert_eq!(r.changed.len(), 1);
    assert!(r.changed[0].why.contains("folder"), "{:?}", r.changed);
    assert!(exists(&outside.join("victim.txt")));
    assert!(
        exists(&root.join("sub")),
        "the symlink itself is not the planned folder"
    );
}
