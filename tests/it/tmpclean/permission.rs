//! Entries that cannot be removed are reported while the rest proceeds.
//!
//! Tests run as root, which bypasses permission bits; two real conditions stand in:
//! the immutable flag (`chattr +i`, refused with EPERM even to root), and the real binary run
//! as `nobody` (via `setpriv`) against a folder it may not write (EACCES). Both fail loudly
//! when their precondition cannot be set up.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;

use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean;

use super::{demo_cfg, exists, journal, plan, touch};

/// Clears the immutable flag again, so the temp folder can be removed.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Self {
        let out = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .output()
            .unwrap_or_else(|e| {
                panic!("this test needs `chattr` (e2fsprogs) to make a file immutable: {e}")
            });
        assert!(
            out.status.success(),
            "chattr +i {} failed (needs CAP_LINUX_IMMUTABLE and a filesystem with the \
             immutable flag, e.g. ext4 — is the temp dir on tmpfs?): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let guard = Immutable(path.to_path_buf());
        // Prove the precondition: even root cannot remove it now.
        let probe = path.with_extension("probe-link");
        assert!(
            fs::hard_link(path, &probe).is_err(),
            "the immutable flag did not take effect on {}",
            path.display()
        );
        guard
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn immutable_file_is_reported_and_the_rest_is_removed() {
    let (dir, root) = super::workspace();
    for name in ["a.log", "b.log", "locked/c.log", "locked/d.log"] {
        touch(&root.join(name), 30, "x");
    }
    let _guard = Immutable::set(&root.join("locked/c.log"));
    let p = plan(dir.path(), &demo_cfg(), 0);
    assert_eq!(p.total_files, 4);
    let j = journal(dir.path());
    let r = tmpclean::apply(&p, &j, &TaskCtl::detached()).unwrap();
    assert_eq!(r.removed_files, 3);
    assert_eq!(r.failed.len(), 1, "{r:?}");
    assert_eq!(r.failed[0].path, "locked/c.log");
    assert!(
        r.failed[0].error.contains("not permitted"),
        "{:?}",
        r.failed
    );
    assert!(!r.is_clean());
    assert!(exists(&root.join("locked/c.log")));
    assert!(
        exists(&root.join("locked")),
        "a folder that is not empty stays"
    );
    assert!(!exists(&root.join("locked/d.log")) && !exists(&root.join("a.log")));
    let e = &j.read_all().unwrap()[0];
    assert_eq!(e.result, "error: 1 entries could not be removed");
    assert_eq!(e.detail["failed"], 1);
    assert_eq!(e.detail["removed_files"], 3);
}

const NOBODY: u32 = 65_534;

#[test]
fn binary_as_unprivileged_user_reports_permission_denied_and_removes_the_rest() {
    let probe = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .unwrap_or_else(|e| {
            panic!("this test needs `setpriv` (util-linux) to drop to nobody: {e}")
        });
    assert!(
        probe.success(),
        "setpriv cannot switch to uid 65534 (needs root)"
    );

    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    let root = base.join("tmp");
    for name in ["a.log", "open/b.log", "locked/c.log"] {
        touch(&root.join(name), 30, "x");
    }
    touch(&root.join("open/fresh.log"), 0, "x");
    fs::write(
        base.join("inventory.yaml"),
        super::headless::inventory_yaml("tmp"),
    )
    .unwrap();
    for d in ["state", "config", "data"] {
        fs::create_dir(base.join(d)).unwrap();
        chown(base.join(d), Some(NOBODY), Some(NOBODY)).unwrap();
    }
    // nobody may write the root and `open/`, but `locked/` stays root's (0755).
    fs::set_permissions(base, fs::Permissions::from_mode(0o755)).unwrap();
    for p in [
        root.clone(),
        root.join("open"),
        root.join("a.log"),
        root.join("open/b.log"),
    ] {
        chown(&p, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(base.join("inventory.yaml"))
        .args(["--yes", "tmp", "clean"])
        .env("HOME", base.join("data"))
        .env("SHIPDECK_STATE", base.join("state"))
        .env("SHIPDECK_CONFIG", base.join("config"))
        .env("SHIPDECK_DATA", base.join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("Failed locked/c.log: Permission denied"),
        "stdout:\n{stdout}"
    );
    assert!(
        stderr.contains("1 of 3 entries could not be removed"),
        "{stderr}"
    );
    assert!(exists(&root.join("locked/c.log")));
    assert!(!exists(&root.join("a.log")) && !exists(&root.join("open/b.log")));
    assert!(exists(&root.join("open/fresh.log")));
    let journal = fs::read_to_string(base.join("state/audit.jsonl")).unwrap();
    assert!(journal.contains("\"removed_files\":2"), "{journal}");
}
