//! Dangerous roots are refused before anything is read.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use shipdeck::inventory::TmpConfig;
use shipdeck::services::TaskCtl;
use shipdeck::services::tmpclean::{self, PlanOptions, TmpError};

use super::{opts, touch};

fn refused(base: &Path, root: &str, home: Option<&Path>) -> String {
    let cfg = TmpConfig {
        root: root.into(),
        default_keep_days: Some(0),
        ..TmpConfig::default()
    };
    let o = PlanOptions {
        home: home.map(Path::to_path_buf),
        ..opts(0)
    };
    match tmpclean::plan(&cfg, base, &o, &TaskCtl::detached()) {
        Err(e @ TmpError::DangerousRoot { .. }) => e.to_string(),
        other => panic!("root {root:?} must be refused, got {other:?}"),
    }
}

#[test]
fn system_roots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    assert!(refused(base, "/", None).contains("filesystem root"));
    assert!(refused(base, "/usr", None).contains("/usr is a system folder"));
    assert!(refused(base, "/etc", None).contains("system folder"));
    assert!(refused(base, "/var", None).contains("/var is a system folder"));
    // Merged-/usr systems make /bin a symlink: refused as such, or as a system folder.
    let bin = refused(base, "/bin", None);
    assert!(
        bin.contains("system folder") || bin.contains("symlink"),
        "{bin}"
    );
    assert!(refused(base, "/usr/local/bin", None).contains("/usr is a system folder"));
    assert!(refused(base, "/tmp", None).contains("system folder"));
}

#[test]
fn home_and_its_ancestors_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("inv");
    let home = dir.path().join("users/alice");
    fs::create_dir_all(&base).unwrap();
    fs::create_dir_all(&home).unwrap();
    let home_abs = home.to_str().unwrap();
    assert!(refused(&base, home_abs, Some(&home)).contains("is your home folder"));
    let users = dir.path().join("users");
    assert!(refused(&base, users.to_str().unwrap(), Some(&home)).contains("contains your home"));
    // The real home (whatever $HOME is) through the default options.
    let real_home = PlanOptions::default().home.expect("a home folder");
    if real_home.is_dir() {
        let cfg = TmpConfig {
            root: real_home.display().to_string(),
            default_keep_days: Some(0),
            ..TmpConfig::default()
        };
        let e =
            tmpclean::plan(&cfg, &base, &PlanOptions::default(), &TaskCtl::detached()).unwrap_err();
        assert!(matches!(e, TmpError::DangerousRoot { .. }), "{e}");
    }
}

#[test]
fn escapes_symlinked_roots_and_the_inventory_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("project");
    fs::create_dir_all(base.join("tmp/sub")).unwrap();
    fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
    touch(&dir.path().join("elsewhere/precious.txt"), 400, "x");
    assert!(refused(&base, "..", None).contains("escapes"));
    assert!(refused(&base, "../elsewhere", None).contains("escapes"));
    assert!(refused(&base, "tmp/../../elsewhere", None).contains("escapes"));
    let abs_dotdot = format!("{}/tmp/../tmp", base.display());
    assert!(refused(&base, &abs_dotdot, None).contains("`..`"));
    symlink("../elsewhere", base.join("tmp-link")).unwrap();
    let e = refused(&base, "tmp-link", None);
    assert!(e.contains("symlink") && e.contains("../elsewhere"), "{e}");
    assert!(refused(&base, ".", None).contains("inventory's own folder"));
    assert!(refused(&base, "", None).contains("empty"));
    assert!(dir.path().join("elsewhere/precious.txt").exists());

    // A `..` that stays inside is fine, and a missing root is its own error.
    let cfg = |root: &str| TmpConfig {
        root: root.into(),
        default_keep_days: Some(0),
        ..TmpConfig::default()
    };
    let ok = tmpclean::plan(&cfg("tmp/sub/.."), &base, &opts(0), &TaskCtl::detached());
    assert!(ok.is_ok(), "{ok:?}");
    let missing = tmpclean::plan(&cfg("nope"), &base, &opts(0), &TaskCtl::detached());
    assert!(
        matches!(missing, Err(TmpError::RootMissing(_))),
        "{missing:?}"
    );
}

#[test]
fn a_root_under_a_symlinked_parent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("project");
    fs::create_dir_all(&base).unwrap();
    fs::create_dir_all(dir.path().join("outside/dir")).unwrap();
    touch(&dir.path().join("outside/dir/precious.txt"), 400, "x");
    symlink(dir.path().join("outside"), base.join("out-link")).unwrap();
    // The last component is a real folder; the one before it leaves the tree.
    let e = refused(&base, "out-link/dir", None);
    assert!(
        e.contains("its parent") && e.contains("out-link") && e.contains("is a symlink"),
        "{e}"
    );
    assert!(dir.path().join("outside/dir/precious.txt").exists());
}
