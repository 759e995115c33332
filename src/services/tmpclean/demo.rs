//! The sandbox's `tmp/`: aged tarballs, tool binaries, scratch configs, a protected `.keep`,
//! and a symlink pointing outside the root at a file that must survive every cleanup.
//!
//! Tarballs are sparse (`set_len`): they show their real-world size without using the disk.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

const DAY: u64 = 86_400;
const MIB: u64 = 1024 * 1024;

/// The file outside `tmp/` that `tmp/runbook-link.md` points at.
pub const LINK_TARGET: &str = "runbook.md";

/// Files as (path under `tmp/`, size in bytes, age in days, content written or sparse).
const FILES: &[(&str, u64, u64, bool)] = &[
    (
        "actions-runner-linux-x64-2.311.0.tar.gz",
        178 * MIB,
        62,
        false,
    ),
    (
        "actions-runner-linux-x64-2.314.1.tar.gz",
        181 * MIB,
        41,
        false,
    ),
    (
        "actions-runner-linux-x64-2.317.0.tar.gz",
        183 * MIB,
        23,
        false,
    ),
    (
        "actions-runner-linux-x64-2.319.1.tar.gz",
        185 * MIB,
        9,
        false,
    ),
    (
        "actions-runner-linux-x64-2.320.0.tar.gz",
        186 * MIB,
        2,
        false,
    ),
    ("miker-web-0.4.2.tgz", 46 * 1024, 31, false),
    ("miker-web-0.5.0.tgz", 47 * 1024, 10, false),
    ("miker-api-1.2.0.tgz", 38 * 1024, 19, false),
    ("argo-rollouts-2.37.7.tgz", 112 * 1024, 3, false),
    ("kubectl-v1.30.4", 49 * MIB, 33, false),
    ("sops-v3.9.0.linux.amd64", 27 * MIB, 12, false),
    ("yq_linux_amd64", 9 * MIB, 2, false),
    ("values-override.yaml", 0, 9, true),
    ("kubeconfig-scratch.yaml", 0, 1, true),
    ("release-notes-draft.md", 0, 0, true),
    ("scratch/debug-pod.yaml", 0, 15, true),
    ("scratch/old-logs/ci-812.log", 0, 21, true),
    ("scratch/old-logs/ci-813.log", 0, 20, true),
    (".keep", 0, 120, true),
];

/// Creates `<workspace>/tmp/` with aged files, and `<workspace>/runbook.md` (the symlink's
/// target, outside the root). Existing files are overwritten; the target is left alone if present.
pub fn seed(workspace: &Path) -> std::io::Result<()> {
    let tmp = workspace.join("tmp");
    fs::create_dir_all(&tmp)?;
    let now = SystemTime::now();
    for &(rel, size, days, text) in FILES {
        let path = tmp.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut f = File::create(&path)?;
        if text {
            writeln!(f, "# {rel}: scratch file seeded by the shipdeck sandbox")?;
        } else {
            f.set_len(size)?;
        }
        let at = now
            .checked_sub(Duration::from_secs(days * DAY + 600))
            .unwrap_or(now);
        f.set_modified(at)?;
    }
    let target = workspace.join(LINK_TARGET);
    if !target.exists() {
        fs::write(
            &target,
            "# Runbook\n\nLives outside tmp/: the tmp cleanup must never touch it.\n",
        )?;
        File::options().write(true).open(&target)?.set_modified(
            now.checked_sub(Duration::from_secs(400 * DAY))
                .unwrap_or(now),
        )?;
    }
    let link = tmp.join("runbook-link.md");
    match fs::remove_file(&link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // std cannot age a symlink itself (no lutimes), so the link is new and kept by the
    // default retention; its old target is outside the root and never considered.
    std::os::unix::fs::symlink(Path::new("..").join(LINK_TARGET), link)
}
