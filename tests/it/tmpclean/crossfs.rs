//! Folders mounted from another filesystem are not entered unless allowed.
//! Needs root with CAP_SYS_ADMIN to mount a tmpfs; fails loudly otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipdeck::inventory::TmpConfig;
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean;

use super::{demo_cfg, exists, journal, paths, plan, touch};

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "shipdeck-test"])
            .arg(at)
            .output()
            .unwrap_or_else(|e| panic!("this test needs `mount` (util-linux): {e}"));
        assert!(
            out.status.success(),
            "mounting a tmpfs at {} failed (needs root with CAP_SYS_ADMIN): {}",
            at.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn other_filesystems_are_skipped_unless_allowed() {
    let (dir, root) = super::workspace();
    touch(&root.join("old.log"), 30, "x");
    let _m = Mount::tmpfs(&root.join("mnt"));
    touch(&root.join("mnt/elsewhere.log"), 30, "x");

    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(paths(&p), ["old.log"]);
    assert_eq!(p.skipped.len(), 1);
    assert!(
        p.skipped[0].reason.contains("another filesystem"),
        "{:?}",
        p.skipped
    );

    let cross = TmpConfig {
        cross_filesystems: true,
        ..demo_cfg()
    };
    let p = plan(dir.path(), &cross, 0);
    assert_eq!(paths(&p), ["mnt/elsewhere.log", "old.log"]);
    let r = tmpclean::apply(&p, &journal(dir.path()), &TaskCtl::detached()).unwrap();
    assert_eq!(r.removed_files, 2);
    assert!(exists(&root.join("mnt")), "a mount point is never removed");
}
