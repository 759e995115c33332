//! Which roots may be tidied at all. Checked before anything is read, because a wrong root
//! (a typo, a `..` too many, a symlink someone repointed) would turn a cleanup into a disaster.

use std::path::{Component, Path, PathBuf};

use super::{Result, TmpError};

/// Folders that are never a root, nor contain one.
const SYSTEM_TREES: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr",
];

/// Folders that are never a root themselves (folders below them may be).
const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/home",
    "/mnt",
    "/media",
    "/opt",
    "/root",
    "/srv",
    "/tmp",
    "/var",
    "/var/cache",
    "/var/lib",
    "/var/log",
    "/var/mail",
    "/var/spool",
    "/var/tmp",
    "/Users",
    "/System",
    "/Library",
    "/Applications",
    "/private",
];

/// Resolves the configured root against the inventory's folder and refuses a dangerous one.
/// Returns the canonical path of the root.
pub fn resolve_root(base_dir: &Path, configured: &str, home: Option<&Path>) -> Result<PathBuf> {
    // `~` is the home folder, as a shell reads it (and as `tmp clean` must refuse it).
    let expanded = match (configured.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            h.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(configured),
    };
    let written = expanded.as_path();
    let refuse = |path: &Path, why: &str| TmpError::DangerousRoot {
        path: path.to_path_buf(),
        why: why.to_owned(),
    };
    if configured.trim().is_empty() {
        return Err(refuse(written, "tmp.root is empty"));
    }
    check_dot_dot(written).map_err(|why| refuse(written, why))?;
    let joined = if written.is_absolute() {
        written.to_path_buf()
    } else {
        base_dir.join(written)
    };
    let meta = match std::fs::symlink_metadata(&joined) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TmpError::RootMissing(joined));
        }
        Err(source) => {
            return Err(TmpError::Io {
                path: joined,
                source,
            });
        }
    };
    // A symlinked parent moves the root as surely as a symlinked root: check every folder the
    // written path walks through, not only the last.
    let mut walked = if written.is_absolute() {
        PathBuf::new()
    } else {
        base_dir.to_path_buf()
    };
    let parts: Vec<_> = written.components().collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        walked.push(part);
        if matches!(part, std::path::Component::Normal(_))
            && std::fs::symlink_metadata(&walked).is_ok_and(|m| m.file_type().is_symlink())
        {
            let target = std::fs::read_link(&walked)
                .map_or_else(|_| "?".to_owned(), |t| t.display().to_string());
            return Err(refuse(
                &joined,
                &format!(
                    "its parent {} is a symlink (to {target}); point tmp.root at the real folder",
                    walked.display()
                ),
            ));
        }
    }
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&joined)
            .map_or_else(|_| "?".to_owned(), |t| t.display().to_string());
        return Err(refuse(
            &joined,
            &format!("it is a symlink (to {target}); point tmp.root at the real folder"),
        ));
    }
    if !meta.is_dir() {
        return Err(TmpError::RootNotDir(joined));
    }
    let root = std::fs::canonicalize(&joined).map_err(|source| TmpError::Io {
        path: joined.clone(),
        source,
    })?;
    if let Some(why) = system_reason(&root) {
        return Err(refuse(&root, &why));
    }
    if let Some(home) = home.and_then(|h| std::fs::canonicalize(h).ok()) {
        if root == home {
            return Err(refuse(&root, "it is your home folder"));
        }
        if home.starts_with(&root) {
            return Err(refuse(
                &root,
                &format!("it contains your home folder {}", home.display()),
            ));
        }
    }
    if let Ok(base) = std::fs::canonicalize(if base_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base_dir
    }) && base.starts_with(&root)
    {
        return Err(refuse(
            &root,
            &format!(
                "it contains the inventory's own folder {}; use a subfolder such as `tmp`",
                base.display()
            ),
        ));
    }
    Ok(root)
}

/// A relative root may use `..` only while it stays inside the inventory's folder; an absolute
/// one may not use it at all (there is nothing it could be checked against).
fn check_dot_dot(written: &Path) -> std::result::Result<(), &'static str> {
    let mut depth: i64 = 0;
    for c in written.components() {
        match c {
            Component::ParentDir if written.is_absolute() => {
                return Err("an absolute tmp.root may not contain `..`; write the folder plainly");
            }
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err("its `..` escapes the inventory's folder");
                }
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(())
}

fn system_reason(root: &Path) -> Option<String> {
    if root.parent().is_none() {
        return Some("it is the filesystem root".to_owned());
    }
    if let Some(tree) = SYSTEM_TREES.iter().find(|t| root.starts_with(t)) {
        return Some(format!("{tree} is a system folder"));
    }
    SYSTEM_DIRS
        .iter()
        .find(|d| root == Path::new(d))
        .map(|d| format!("{d} is a system folder"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn dot_dot_may_not_escape() {
        assert!(check_dot_dot(Path::new("tmp")).is_ok());
        assert!(check_dot_dot(Path::new("a/../tmp")).is_ok());
        assert!(check_dot_dot(Path::new("../tmp")).is_err());
        assert!(check_dot_dot(Path::new("a/../../tmp")).is_err());
        assert!(check_dot_dot(Path::new("/srv/x/../y")).is_err());
    }

    #[test]
    fn system_folders() {
        for p in [
            "/",
            "/usr",
            "/usr/local/tmp",
            "/etc/x",
            "/var",
            "/var/tmp",
            "/tmp",
            "/home",
        ] {
            assert!(system_reason(Path::new(p)).is_some(), "{p}");
        }
        for p in [
            "/var/tmp/build",
            "/tmp/x",
            "/srv/ci/tmp",
            "/home/alice/proj/tmp",
        ] {
            assert!(system_reason(Path::new(p)).is_none(), "{p}");
        }
    }
}
