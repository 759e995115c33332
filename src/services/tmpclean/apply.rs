//! Applying a plan: remove (or move to the trash) exactly the planned entries that are still
//! what the plan saw, then the folders that emptied, then write the audit journal.
//!
//! Before touching an entry, every folder on its path is checked against the plan (same device
//! and inode, still a real folder), so a folder swapped for a symlink since planning cannot lead
//! a deletion outside the root.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::plan::{Candidate, CleanMode, Identity, Plan, batch_name, format_bytes};
use super::{Result, TRASH_DIR, TmpError};
use crate::audit::{Entry, Journal};
use crate::services::TaskCtl;

/// Entries per unit of parallel work; also how often progress is reported.
const CHUNK: usize = 256;

/// A planned entry that was kept because it changed after planning.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub path: String,
    pub why: String,
}

/// A planned entry that could not be removed.
#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    pub path: String,
    pub error: String,
}

impl std::fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tmp: removed {} files, {} freed; {} changed since the preview kept; {} failed",
            self.removed_files,
            super::format_bytes(self.removed_bytes),
            self.changed.len(),
            self.failed.len()
        )
    }
}

/// What an apply did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub root: String,
    pub mode: CleanMode,
    pub planned_files: u64,
    pub removed_files: u64,
    pub removed_bytes: u64,
    /// In trash mode: where the entries went, relative to the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trash_batch: Option<String>,
    pub changed: Vec<Changed>,
    pub failed: Vec<Failed>,
    pub dirs_removed: u64,
    /// Trash batches deleted for good.
    pub purged: Vec<String>,
    /// Planned entries not reached because the task was cancelled.
    pub not_attempted: u64,
    pub cancelled: bool,
    pub duration_ms: u64,
    /// Set when the audit journal could not be written (the cleanup itself happened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_error: Option<String>,
}

impl ApplyReport {
    /// Everything planned was removed or deliberately kept, and the journal was written.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && !self.cancelled && self.journal_error.is_none()
    }
}

enum Outcome {
    Removed(u64),
    Changed(String),
    Failed(String),
}

#[derive(Default)]
struct Partial {
    removed_files: u64,
    removed_bytes: u64,
    changed: Vec<Changed>,
    failed: Vec<Failed>,
    emptied: HashSet<PathBuf>,
    attempted: u64,
}

/// Applies `plan`: blocking; run it in `spawn_blocking`. Progress reports `done` = entries
/// handled of `total` = planned, with files and bytes removed in the note. Cancelling stops
/// between entries; what was done stays done and is journaled.
pub fn apply(plan: &Plan, journal: &Journal, ctl: &TaskCtl) -> Result<ApplyReport> {
    let started = Instant::now();
    let root = &plan.root;
    let meta = fs::symlink_metadata(root).map_err(|_| TmpError::RootChanged(root.clone()))?;
    if !meta.is_dir() || meta.dev() != plan.root_dev || meta.ino() != plan.root_ino {
        return Err(TmpError::RootChanged(root.clone()));
    }
    let mut report = ApplyReport {
        root: root.display().to_string(),
        mode: plan.mode,
        planned_files: plan.candidates.len() as u64,
        removed_files: 0,
        removed_bytes: 0,
        trash_batch: None,
        changed: Vec::new(),
        failed: Vec::new(),
        dirs_removed: 0,
        purged: Vec::new(),
        not_attempted: 0,
        cancelled: false,
        duration_ms: 0,
        journal_error: None,
    };

    if plan.mode == CleanMode::Trash && (!plan.purge.is_empty() || !plan.candidates.is_empty()) {
        check_trash_dir(root)?;
    }
    for batch in &plan.purge {
        let path = root.join(TRASH_DIR).join(&batch.name);
        // `remove_dir_all` does not follow symlinks inside; the batch itself must be a folder.
        let real = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        match real.then(|| fs::remove_dir_all(&path)) {
            Some(Ok(())) => report.purged.push(batch.name.clone()),
            Some(Err(e)) => report.failed.push(Failed {
                path: format!("{TRASH_DIR}/{}", batch.name),
                error: e.to_string(),
            }),
            None => {}
        }
    }
    let batch = if plan.mode == CleanMode::Trash && !plan.candidates.is_empty() {
        Some(new_batch(root)?)
    } else {
        None
    };
    report.trash_batch = batch
        .as_ref()
        .and_then(|b| b.strip_prefix(root).ok())
        .map(|b| b.display().to_string());

    let partial = remove_all(plan, batch.as_deref(), ctl);
    report.removed_files = partial.removed_files;
    report.removed_bytes = partial.removed_bytes;
    report.changed = partial.changed;
    report.failed.extend(partial.failed);
    report.changed.sort_by(|a, b| a.path.cmp(&b.path));
    report.failed.sort_by(|a, b| a.path.cmp(&b.path));
    report.not_attempted = report.planned_files.saturating_sub(partial.attempted);
    report.cancelled = ctl.is_cancelled() && report.not_attempted > 0;
    report.dirs_removed = prune_dirs(plan, partial.emptied);
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let entry = journal_entry(&report);
    if let Err(e) = journal.append(&entry) {
        tracing::warn!(error = %e, "tmp-clean: cannot write the audit journal");
        report.journal_error = Some(format!("{}: {e}", journal.path().display()));
    }
    tracing::info!(
        removed = report.removed_files,
        bytes = report.removed_bytes,
        changed = report.changed.len(),
        failed = report.failed.len(),
        "tmp-clean applied"
    );
    Ok(report)
}

fn remove_all(plan: &Plan, batch: Option<&Path>, ctl: &TaskCtl) -> Partial {
    let dirs: HashMap<&Path, (u64, u64)> = plan
        .dirs
        .iter()
        .map(|d| (d.path.as_path(), (d.dev, d.ino)))
        .collect();
    // Grouped by folder so one worker mostly handles one folder (unlinks in one folder serialise
    // on its lock anyway).
    let mut order: Vec<usize> = (0..plan.candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let pa = plan.candidates[a].path.parent();
        let pb = plan.candidates[b].path.parent();
        pa.cmp(&pb)
    });
    let chunks: Vec<&[usize]> = order.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let freed = AtomicU64::new(0);
    let total = plan.candidates.len() as u64;
    let threads = plan.threads.clamp(1, 8).min(chunks.len().max(1));
    let parts: Vec<Partial> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut part = Partial::default();
                    let mut verified: HashMap<PathBuf, bool> = HashMap::new();
                    'work: loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else { break };
                        let mut chunk_bytes = 0;
                        for &ci in *chunk {
                            if ctl.is_cancelled() {
                                break 'work;
                            }
                            let c = &plan.candidates[ci];
                            part.attempted += 1;
                            match remove_one(&plan.root, c, &dirs, &mut verified, batch) {
                                Outcome::Removed(bytes) => {
                                    part.removed_files += 1;
                                    part.removed_bytes += bytes;
                                    chunk_bytes += bytes;
                                    if let Some(parent) = c.path.parent() {
                                        part.emptied.insert(parent.to_path_buf());
                                    }
                                }
                                Outcome::Changed(why) => part.changed.push(Changed {
                                    path: c.path.display().to_string(),
                                    why,
                                }),
                                Outcome::Failed(error) => part.failed.push(Failed {
                                    path: c.path.display().to_string(),
                                    error,
                                }),
                            }
                        }
                        let n = done.fetch_add(chunk.len() as u64, Ordering::Relaxed)
                            + chunk.len() as u64;
                        let b = freed.fetch_add(chunk_bytes, Ordering::Relaxed) + chunk_bytes;
                        ctl.report(
                            n,
                            Some(total),
                            format!(
                                "{n} of {total} entries, {} of {} freed",
                                format_bytes(b),
                                format_bytes(plan.total_bytes)
                            ),
                        );
                    }
                    part
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut all = Partial::default();
    for p in parts {
        all.removed_files += p.removed_files;
        all.removed_bytes += p.removed_bytes;
        all.changed.extend(p.changed);
        all.failed.extend(p.failed);
        all.emptied.extend(p.emptied);
        all.attempted += p.attempted;
    }
    all
}

fn remove_one(
    root: &Path,
    c: &Candidate,
    dirs: &HashMap<&Path, (u64, u64)>,
    verified: &mut HashMap<PathBuf, bool>,
    batch: Option<&Path>,
) -> Outcome {
    let parent = c.path.parent().unwrap_or_else(|| Path::new(""));
    if !folder_unchanged(root, parent, dirs, verified) {
        return Outcome::Changed("its folder was replaced or removed since planning".into());
    }
    let abs = root.join(&c.path);
    let now = match fs::symlink_metadata(&abs) {
        Ok(m) => Identity::of(&m),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Outcome::Changed("gone since planning".into());
        }
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if let Some(why) = difference(&c.id, &now) {
        return Outcome::Changed(why);
    }
    let result = match batch {
        Some(batch) => {
            let dest = batch.join(&c.path);
            dest.parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::rename(&abs, &dest))
        }
        None => fs::remove_file(&abs),
    };
    match result {
        Ok(()) => Outcome::Removed(c.size),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn difference(planned: &Identity, now: &Identity) -> Option<String> {
    if planned == now {
        return None;
    }
    Some(
        if planned.dev != now.dev || planned.ino != now.ino || planned.kind_bits != now.kind_bits {
            "replaced by another file since planning".to_owned()
        } else if planned.size != now.size {
            format!(
                "size changed since planning ({} → {})",
                planned.size, now.size
            )
        } else {
            "modified since planning".to_owned()
        },
    )
}

/// Whether `rel` and each folder above it (up to the root, checked by the caller) is still the
/// real folder the plan walked.
fn folder_unchanged(
    root: &Path,
    rel: &Path,
    dirs: &HashMap<&Path, (u64, u64)>,
    verified: &mut HashMap<PathBuf, bool>,
) -> bool {
    if rel.as_os_str().is_empty() {
        return true;
    }
    if let Some(&ok) = verified.get(rel) {
        return ok;
    }
    let parent = rel.parent().unwrap_or_else(|| Path::new(""));
    let ok = folder_unchanged(root, parent, dirs, verified)
        && dirs.get(rel).is_some_and(|&(dev, ino)| {
            fs::symlink_metadata(root.join(rel))
                .is_ok_and(|m| m.is_dir() && m.dev() == dev && m.ino() == ino)
        });
    verified.insert(rel.to_path_buf(), ok);
    ok
}

/// Removes the folders that held removed entries (and their ancestors) once they are empty,
/// deepest first; never the root, never a folder that is not the one planned.
fn prune_dirs(plan: &Plan, emptied: HashSet<PathBuf>) -> u64 {
    let planned: HashMap<&Path, (u64, u64)> = plan
        .dirs
        .iter()
        .map(|d| (d.path.as_path(), (d.dev, d.ino)))
        .collect();
    let mut all: HashSet<PathBuf> = HashSet::new();
    for d in emptied {
        let mut cur: Option<&Path> = Some(d.as_path());
        while let Some(p) = cur.filter(|p| !p.as_os_str().is_empty()) {
            if !all.insert(p.to_path_buf()) {
                break;
            }
            cur = p.parent();
        }
    }
    let mut order: Vec<PathBuf> = all.into_iter().collect();
    order.sort_by(|a, b| {
        b.components()
            .count()
            .cmp(&a.components().count())
            .then_with(|| a.cmp(b))
    });
    let mut removed = 0;
    for rel in order {
        let Some(&(dev, ino)) = planned.get(rel.as_path()) else {
            continue;
        };
        let abs = plan.root.join(&rel);
        let same = fs::symlink_metadata(&abs)
            .is_ok_and(|m| m.is_dir() && m.dev() == dev && m.ino() == ino);
        // `remove_dir` only removes an empty folder; a non-empty one is simply kept.
        if same && fs::remove_dir(&abs).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn check_trash_dir(root: &Path) -> Result<()> {
    let trash = root.join(TRASH_DIR);
    match fs::symlink_metadata(&trash) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(TmpError::TrashUnsafe {
            path: trash,
            why: "is not a real folder (a symlink or a file)".into(),
        }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(TmpError::Io {
            path: trash,
            source,
        }),
    }
}

fn new_batch(root: &Path) -> Result<PathBuf> {
    let trash = root.join(TRASH_DIR);
    let io = |path: &Path, source| TmpError::Io {
        path: path.to_path_buf(),
        source,
    };
    match fs::create_dir(&trash) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => check_trash_dir(root)?,
        Err(e) => return Err(io(&trash, e)),
    }
    let base = batch_name(SystemTime::now());
    for n in 0..1000 {
        let name = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let path = trash.join(name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&path, e)),
        }
    }
    Err(io(
        &trash,
        std::io::Error::other("too many trash batches this second"),
    ))
}

fn journal_entry(report: &ApplyReport) -> Entry {
    let mut entry = Entry::new("tmp-clean");
    entry.to = Some(report.root.clone());
    entry.result = if report.cancelled {
        "cancelled".to_owned()
    } else if report.failed.is_empty() {
        "ok".to_owned()
    } else {
        format!(
            "error: {} entries could not be removed",
            report.failed.len()
        )
    };
    entry.duration_ms = report.duration_ms;
    entry.detail = serde_json::json!({
        "mode": report.mode,
        "planned": report.planned_files,
        "removed_files": report.removed_files,
        "removed_bytes": report.removed_bytes,
        "changed": report.changed.len(),
        "failed": report.failed.len(),
        "dirs_removed": report.dirs_removed,
        "purged": report.purged,
        "not_attempted": report.not_attempted,
        "trash_batch": report.trash_batch,
    });
    entry
}
