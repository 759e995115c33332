//! The parallel walk under the root. One `read_dir` per folder; the entry type comes from the
//! directory entry itself, and only entries some retention could delete are stat'ed (`lstat`
//! relative to the open folder), so the syscall count stays close to `find -mtime`'s.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use super::TRASH_DIR;
use super::plan::{EntryKind, Identity, PlannedDir, Skipped};
use super::rules::{Rules, Verdict};
use crate::services::TaskCtl;

/// A file or symlink some retention may delete.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub rel: PathBuf,
    pub kind: EntryKind,
    pub verdict: Verdict,
    pub id: Identity,
}

/// What the walk saw.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub found: Vec<Found>,
    pub dirs: Vec<PlannedDir>,
    pub skipped: Vec<Skipped>,
    pub never_delete: u64,
    pub unmatched: u64,
    pub dirs_scanned: u64,
}

impl Walked {
    fn merge(&mut self, other: Walked) {
        self.found.extend(other.found);
        self.dirs.extend(other.dirs);
        self.skipped.extend(other.skipped);
        self.never_delete += other.never_delete;
        self.unmatched += other.unmatched;
        self.dirs_scanned += other.dirs_scanned;
    }
}

pub(crate) struct WalkSpec<'a> {
    pub root: &'a Path,
    pub root_dev: u64,
    pub rules: &'a Rules,
    pub cross_fs: bool,
    pub threads: usize,
}

struct Queue {
    dirs: Vec<PathBuf>,
    /// Folders queued or being read; the walk ends when it reaches zero.
    pending: usize,
}

/// Walks the root with `spec.threads` workers. Returns `None` when cancelled.
pub(crate) fn walk(spec: &WalkSpec<'_>, ctl: &TaskCtl) -> Option<Walked> {
    let queue = Mutex::new(Queue {
        dirs: vec![PathBuf::new()],
        pending: 1,
    });
    let wake = Condvar::new();
    let scanned = AtomicU64::new(0);
    let mut all = Walked::default();
    let parts: Vec<Walked> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..spec.threads.max(1))
            .map(|_| s.spawn(|| worker(spec, &queue, &wake, &scanned, ctl)))
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    for p in parts {
        all.merge(p);
    }
    if ctl.is_cancelled() {
        return None;
    }
    Some(all)
}

fn worker(
    spec: &WalkSpec<'_>,
    queue: &Mutex<Queue>,
    wake: &Condvar,
    scanned: &AtomicU64,
    ctl: &TaskCtl,
) -> Walked {
    let mut local = Walked::default();
    loop {
        let rel = {
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(d) = q.dirs.pop() {
                    break d;
                }
                if q.pending == 0 {
                    return local;
                }
                q = wake.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let mut children = Vec::new();
        if !ctl.is_cancelled() {
            read_one(spec, &rel, &mut local, &mut children);
            local.dirs_scanned += 1;
            let n = scanned.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(64) {
                ctl.report(n, None, format!("{n} folders scanned"));
            }
        }
        let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
        let added = !children.is_empty();
        q.pending += children.len();
        q.dirs.extend(children);
        q.pending -= 1;
        if added || q.pending == 0 {
            wake.notify_all();
        }
    }
}

fn read_one(spec: &WalkSpec<'_>, rel: &Path, out: &mut Walked, children: &mut Vec<PathBuf>) {
    let abs = spec.root.join(rel);
    let entries = match fs::read_dir(&abs) {
        Ok(e) => e,
        Err(e) => {
            out.skipped
                .push(Skipped::new(rel, format!("cannot read folder: {e}")));
            return;
        }
    };
    let at_root = rel.as_os_str().is_empty();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.skipped
                    .push(Skipped::new(rel, format!("cannot list folder: {e}")));
                break;
            }
        };
        let name = entry.file_name();
        let child = rel.join(&name);
        let Ok(ft) = entry.file_type() else {
            out.skipped
                .push(Skipped::new(&child, "cannot tell its type".into()));
            continue;
        };
        if ft.is_dir() {
            if at_root && name == OsStr::new(TRASH_DIR) {
                continue;
            }
            if spec.rules.is_never(&child, &name) {
                out.never_delete += 1;
                continue;
            }
            // `DirEntry::metadata` is an lstat relative to the open folder: never follows.
            let Some(m) = stat(&entry, &child, out) else {
                continue;
            };
            if m.dev() != spec.root_dev && !spec.cross_fs {
                out.skipped.push(Skipped::new(
                    &child,
                    "on another filesystem (tmp.cross_filesystems is off)".into(),
                ));
                continue;
            }
            out.dirs.push(PlannedDir {
                path: child.clone(),
                dev: m.dev(),
                ino: m.ino(),
            });
            children.push(child);
        } else if ft.is_file() || ft.is_symlink() {
            let verdict = spec.rules.classify(&child, &name);
            match verdict {
                Verdict::Never => out.never_delete += 1,
                Verdict::Default if spec.rules.default_keep_days.is_none() => out.unmatched += 1,
                Verdict::Default | Verdict::Rule(_) => {
                    let Some(m) = stat(&entry, &child, out) else {
                        continue;
                    };
                    if m.dev() != spec.root_dev && !spec.cross_fs {
                        out.skipped.push(Skipped::new(
                            &child,
                            "on another filesystem (tmp.cross_filesystems is off)".into(),
                        ));
                        continue;
                    }
                    out.found.push(Found {
                        rel: child,
                        kind: if ft.is_symlink() {
                            EntryKind::Symlink
                        } else {
                            EntryKind::File
                        },
                        verdict,
                        id: Identity::of(&m),
                    });
                }
            }
        }
        // Sockets, fifos and device nodes are never candidates.
    }
}

fn stat(entry: &fs::DirEntry, rel: &Path, out: &mut Walked) -> Option<Metadata> {
    match entry.metadata() {
        Ok(m) => Some(m),
        Err(e) => {
            out.skipped
                .push(Skipped::new(rel, format!("cannot stat: {e}")));
            None
        }
    }
}
