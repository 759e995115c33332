//! The plan: what a cleanup would remove, and why. Plain data the TUI and the CLI render.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use super::guard::resolve_root;
use super::rules::{Rules, Verdict};
use super::walk::{Found, WalkSpec, walk};
use super::{Result, TRASH_DIR, TmpError};
use crate::inventory::TmpConfig;
use crate::services::TaskCtl;

const DAY: u64 = 86_400;

/// How to plan: the clock and the home folder are inputs so tests can pin them.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Ages are measured against this instant.
    pub now: SystemTime,
    /// The user's home folder (refused as a root, as are its ancestors).
    pub home: Option<PathBuf>,
    /// Threads for the walk and the apply (default: the machine's parallelism, 2 to 8).
    pub threads: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            now: SystemTime::now(),
            home: directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()),
            threads: std::thread::available_parallelism()
                .map_or(2, std::num::NonZero::get)
                .clamp(2, 8),
        }
    }
}

/// What kind of entry a candidate is. Symlinks are removed themselves; their targets never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Symlink,
}

/// What an entry looked like when planned; apply deletes it only if it still looks the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    /// File type bits of `st_mode`.
    pub kind_bits: u32,
}

impl Identity {
    pub(crate) fn of(m: &Metadata) -> Self {
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
            kind_bits: m.mode() & 0o170_000,
        }
    }
}

/// One entry the cleanup would remove.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Relative to the plan's root.
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Where a symlink points (shown, never touched).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lossy_opt")]
    pub link_target: Option<PathBuf>,
    pub size: u64,
    /// Seconds since its last modification.
    pub age_secs: u64,
    /// The rule's pattern, or `default`.
    pub rule: String,
    /// Index into the inventory's `tmp.rules`; `None` for the default retention.
    pub rule_index: Option<usize>,
    /// Why it goes, in words (`older than 7 days`, `not among the 2 newest`).
    pub reason: String,
    pub id: Identity,
}

/// Count and bytes per rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTotal {
    pub rule: String,
    pub rule_index: Option<usize>,
    pub files: u64,
    pub bytes: u64,
}

/// Entries the walk looked at and keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Kept {
    /// Protected by `never_delete` (a protected folder counts once).
    pub never_delete: u64,
    /// Among a rule's `keep_latest` newest.
    pub newest: u64,
    /// Younger than their retention.
    pub young: u64,
    /// No rule matched and there is no `default_keep_days`.
    pub unmatched: u64,
}

/// An entry the walk could not look at, or would not enter.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    pub reason: String,
}

impl Skipped {
    pub(crate) fn new(path: &Path, reason: String) -> Self {
        Skipped {
            path: path.to_path_buf(),
            reason,
        }
    }
}

/// A folder the walk entered, as it was then (apply checks every folder on a candidate's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedDir {
    #[serde(serialize_with = "lossy")]
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
}

/// A batch in `<root>/.trash/` old enough to be purged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrashBatch {
    pub name: String,
    pub age_secs: u64,
}

/// What happens to the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CleanMode {
    /// Unlinked.
    Delete,
    /// Moved into `<root>/.trash/<UTC timestamp>/`, purged after `purge_after_days`.
    Trash,
}

/// How to order candidates in a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Size,
    Age,
    Rule,
    Path,
}

/// What a cleanup would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The canonical root.
    #[serde(serialize_with = "lossy")]
    pub root: PathBuf,
    /// RFC 3339.
    pub planned_at: String,
    pub mode: CleanMode,
    pub candidates: Vec<Candidate>,
    /// Per rule (in inventory order, then `default`), only those with candidates.
    pub totals: Vec<RuleTotal>,
    pub total_files: u64,
    pub total_bytes: u64,
    pub kept: Kept,
    pub skipped: Vec<Skipped>,
    /// Trash batches the apply would purge for good.
    pub purge: Vec<TrashBatch>,
    pub dirs: Vec<PlannedDir>,
    pub root_dev: u64,
    pub root_ino: u64,
    /// Age limit of trash batches, when in trash mode.
    pub purge_after_days: Option<u32>,
    /// Worker threads for apply (from [`PlanOptions::threads`]).
    #[serde(skip)]
    pub threads: usize,
}

/// Plans the inventory's `tmp` section, its root resolved against `base_dir` (the inventory's
/// folder). A caller whose inventory has no `tmp:` section reports [`TmpError::NotConfigured`].
pub fn plan(cfg: &TmpConfig, base_dir: &Path, opts: &PlanOptions, ctl: &TaskCtl) -> Result<Plan> {
    let rules = Rules::compile(cfg)?;
    let root = resolve_root(base_dir, &cfg.root, opts.home.as_deref())?;
    let root_meta = std::fs::symlink_metadata(&root).map_err(|source| TmpError::Io {
        path: root.clone(),
        source,
    })?;
    let spec = WalkSpec {
        root: &root,
        root_dev: root_meta.dev(),
        rules: &rules,
        cross_fs: cfg.cross_filesystems,
        threads: opts.threads,
    };
    let walked = walk(&spec, ctl).ok_or(TmpError::Cancelled)?;
    let now = unix_secs(opts.now);

    let mut kept = Kept {
        never_delete: walked.never_delete,
        unmatched: walked.unmatched,
        ..Kept::default()
    };
    let mut by_verdict: BTreeMap<Option<usize>, Vec<Found>> = BTreeMap::new();
    for f in walked.found {
        let key = match f.verdict {
            Verdict::Rule(i) => Some(i),
            Verdict::Default | Verdict::Never => None,
        };
        by_verdict.entry(key).or_default().push(f);
    }
    let mut candidates = Vec::new();
    for (index, mut found) in by_verdict {
        let (keep_days, keep_latest) = match index {
            Some(i) => rules
                .retention
                .get(i)
                .map_or((None, None), |r| (r.keep_days, r.keep_latest)),
            None => (rules.default_keep_days, None),
        };
        let verdict = index.map_or(Verdict::Default, Verdict::Rule);
        let label = rules.label(verdict);
        if let Some(n) = keep_latest {
            // Newest first; ties broken by path so plans are stable.
            found.sort_by(|a, b| {
                (b.id.mtime, b.id.mtime_nsec)
                    .cmp(&(a.id.mtime, a.id.mtime_nsec))
                    .then_with(|| a.rel.cmp(&b.rel))
            });
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(found.len());
            kept.newest += n as u64;
            found.drain(..n);
        }
        for f in found {
            let age = age_secs(now, f.id.mtime);
            let reason = match keep_days {
                Some(d) if age <= u64::from(d) * DAY => {
                    kept.young += 1;
                    continue;
                }
                Some(d) => format!("older than {d} days"),
                None => format!("not among the {} newest", keep_latest.unwrap_or(0)),
            };
            let link_target = if f.kind == EntryKind::Symlink {
                std::fs::read_link(root.join(&f.rel)).ok()
            } else {
                None
            };
            candidates.push(Candidate {
                path: f.rel,
                kind: f.kind,
                link_target,
                size: f.id.size,
                age_secs: age,
                rule: label.clone(),
                rule_index: index,
                reason,
                id: f.id,
            });
        }
    }
    candidates.sort_by(|a, b| a.path.cmp(&b.path));
    let mut skipped = walked.skipped;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let purge_after_days = cfg.trash.as_ref().map(|t| t.purge_after_days);
    let purge = match purge_after_days {
        Some(days) => old_trash_batches(&root, now, days),
        None => Vec::new(),
    };
    let mut plan = Plan {
        root,
        planned_at: jiff::Timestamp::try_from(opts.now)
            .map_or_else(|_| String::new(), |t| t.to_string()),
        mode: if cfg.trash.is_some() {
            CleanMode::Trash
        } else {
            CleanMode::Delete
        },
        candidates,
        totals: Vec::new(),
        total_files: 0,
        total_bytes: 0,
        kept,
        skipped,
        purge,
        dirs: walked.dirs,
        root_dev: root_meta.dev(),
        root_ino: root_meta.ino(),
        purge_after_days,
        threads: opts.threads,
    };
    plan.recount();
    Ok(plan)
}

impl Plan {
    /// Recomputes the totals from the candidates (after [`Plan::subset`] or edits).
    pub fn recount(&mut self) {
        let mut totals: BTreeMap<(usize, Option<usize>), RuleTotal> = BTreeMap::new();
        for c in &self.candidates {
            // Inventory order first, `default` last.
            let order = c.rule_index.unwrap_or(usize::MAX);
            let t = totals
                .entry((order, c.rule_index))
                .or_insert_with(|| RuleTotal {
                    rule: c.rule.clone(),
                    rule_index: c.rule_index,
                    files: 0,
                    bytes: 0,
                });
            t.files += 1;
            t.bytes += c.size;
        }
        self.totals = totals.into_values().collect();
        self.total_files = self.candidates.len() as u64;
        self.total_bytes = self.candidates.iter().map(|c| c.size).sum();
    }

    /// The same plan with only the candidates `keep` selects (the TUI's toggles).
    #[must_use]
    pub fn subset(&self, mut keep: impl FnMut(usize, &Candidate) -> bool) -> Plan {
        let mut p = self.clone();
        p.candidates = self
            .candidates
            .iter()
            .enumerate()
            .filter(|(i, c)| keep(*i, c))
            .map(|(_, c)| c.clone())
            .collect();
        p.recount();
        p
    }

    /// Orders the candidates for a preview; ties fall back to the path.
    pub fn sort(&mut self, key: SortKey, descending: bool) {
        self.candidates.sort_by(|a, b| {
            let o = match key {
                SortKey::Size => a.size.cmp(&b.size),
                SortKey::Age => a.age_secs.cmp(&b.age_secs),
                SortKey::Rule => a
                    .rule_index
                    .unwrap_or(usize::MAX)
                    .cmp(&b.rule_index.unwrap_or(usize::MAX)),
                SortKey::Path => std::cmp::Ordering::Equal,
            };
            let o = if descending { o.reverse() } else { o };
            o.then_with(|| a.path.cmp(&b.path))
        });
    }

    /// Whether applying it would change anything.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty() && self.purge.is_empty()
    }
}

fn old_trash_batches(root: &Path, now: i64, days: u32) -> Vec<TrashBatch> {
    let trash = root.join(TRASH_DIR);
    // A `.trash` that is a symlink is never read (apply refuses it too).
    if !std::fs::symlink_metadata(&trash).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(&trash) else {
        return Vec::new();
    };
    let mut out: Vec<TrashBatch> = entries
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let at = batch_time(&name)?;
            let age = age_secs(now, at);
            (age > u64::from(days) * DAY).then_some(TrashBatch {
                name,
                age_secs: age,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The name of a new trash batch: `20261130T145200Z`.
pub(crate) fn batch_name(at: SystemTime) -> String {
    jiff::Timestamp::try_from(at).map_or_else(
        |_| "batch".to_owned(),
        |t| t.strftime("%Y%m%dT%H%M%SZ").to_string(),
    )
}

/// When a batch was made, from its name (`20261130T145200Z` or `20261130T145200Z-2`); only
/// batches shipdeck named are ever purged.
pub(crate) fn batch_time(name: &str) -> Option<i64> {
    let stamp = name.get(..15)?;
    let rest = name.get(15..)?;
    let suffix_ok = rest == "Z"
        || rest
            .strip_prefix("Z-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !suffix_ok {
        return None;
    }
    let dt = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S", stamp).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn age_secs(now: i64, then: i64) -> u64 {
    u64::try_from(now.saturating_sub(then)).unwrap_or(0)
}

/// `1.5 GiB`, `312 KiB`, `12 B`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// `41d`, `5h`, `12m`, `30s`.
pub fn format_age(secs: u64) -> String {
    match secs {
        s if s >= DAY => format!("{}d", s / DAY),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[allow(clippy::ptr_arg, clippy::trivially_copy_pass_by_ref)]
fn lossy<S: Serializer>(p: &PathBuf, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

#[allow(clippy::ref_option)]
fn lossy_opt<S: Serializer>(p: &Option<PathBuf>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn batch_names_round_trip() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_796_000_000);
        let name = batch_name(t);
        assert_eq!(name.len(), 16, "{name}");
        assert_eq!(batch_time(&name), Some(1_796_000_000));
        assert_eq!(batch_time(&format!("{name}-3")), Some(1_796_000_000));
        assert_eq!(batch_time("notes"), None);
        assert_eq!(batch_time(&format!("{name}x")), None);
    }

    #[test]
    fn human_units() {
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(180 * 1024 * 1024), "180 MiB");
        assert_eq!(format_age(3 * DAY + 5), "3d");
        assert_eq!(format_age(7200), "2h");
    }
}
