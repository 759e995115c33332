//! What the cockpit and the headless commands do with secret files: list, set, rotate,
//! add/remove recipients, updatekeys. Each file is verified in memory and then replaced
//! atomically; in a batch a failing file stays as it was and the others proceed.
//!
//! `batch` holds the per-file rewrite and the batches over it (rotate, recipients,
//! updatekeys); `set` one value by key path; `sops_yaml` brings the matching `.sops.yaml`
//! creation rules in line after a recipient change.

mod batch;
mod set;
mod sops_yaml;

pub use batch::{
    BatchReport, FileOutcome, Status, add_recipient, removal_warning, remove_recipient, rotate,
    updatekeys,
};
pub use set::{Step, encrypt_for_rule, parse_key_path, set_failed, set_value};
pub use sops_yaml::{SopsYamlReport, SopsYamlStatus, sync_rules};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::formats::Format;
use super::keys::Identities;
use super::sopsfile::SopsFile;
use super::{Result, SecretsError};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretsError + '_ {
    move |source| SecretsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn in_file(path: &Path, e: SecretsError) -> SecretsError {
    match e {
        e @ (SecretsError::Io { .. } | SecretsError::InFile { .. }) => e,
        e => SecretsError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        },
    }
}

// ---------------------------------------------------------------- discovery and list

/// Whether the text carries sops metadata, checked cheaply before parsing.
fn looks_like_sops(text: &str, format: Format) -> bool {
    match format {
        Format::Yaml => text.starts_with("sops:") || text.contains("\nsops:"),
        Format::Json => text.contains("\"sops\""),
        Format::Dotenv => text.contains("sops_mac="),
    }
}

/// Every SOPS file under these folders (or these files), sorted; hidden folders skipped.
pub fn discover(roots: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !name.starts_with('.') {
                    walk(&p, out);
                }
            } else if ft.is_file() && name != ".sops.yaml" && is_sops_file(&p) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for r in roots {
        if r.is_dir() {
            walk(r, &mut out);
        } else if r.is_file() {
            out.push(r.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_sops_file(p: &Path) -> bool {
    let Some(format) = Format::from_path(p) else {
        return false;
    };
    std::fs::read_to_string(p).is_ok_and(|t| looks_like_sops(&t, format))
}

/// One row of the Secrets table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    pub path: PathBuf,
    pub format: Option<Format>,
    pub recipients: Vec<String>,
    /// As written in the file (RFC 3339).
    pub lastmodified: Option<String>,
    /// Whole days since `lastmodified`.
    pub age_days: Option<i64>,
    /// Older than the inventory's `rotation_days`.
    pub stale: bool,
    /// Whether one of my identities unwraps the data key.
    pub can_decrypt: bool,
    /// Its recipients whose identity this machine holds (taking the last of them out locks
    /// me out of the file).
    pub mine: Vec<String>,
    /// The value-selection rule, e.g. `encrypted_regex: ^(data|stringData)$`.
    pub rule: Option<String>,
    pub mac_only_encrypted: bool,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

/// Reads a SOPS file from disk.
pub fn load(path: &Path) -> Result<SopsFile> {
    let format = Format::from_path(path).ok_or_else(|| {
        in_file(
            path,
            SecretsError::Unsupported(
                "unsupported format (use .yaml, .yml, .json or .env)".to_owned(),
            ),
        )
    })?;
    let bytes = std::fs::read(path).map_err(io(path))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        in_file(
            path,
            SecretsError::Format(format!(
                "byte {at} (0x{:02x}) is not UTF-8: not a SOPS file",
                e.as_bytes()[at]
            )),
        )
    })?;
    SopsFile::parse(&text, format).map_err(|e| in_file(path, e))
}

/// The table rows for these files; `now` decides ages.
pub fn list(
    files: &[PathBuf],
    ids: &Identities,
    rotation_days: u32,
    now: jiff::Timestamp,
) -> Vec<FileInfo> {
    files
        .iter()
        .map(|path| match load(path) {
            Ok(f) => {
                let lm: Option<jiff::Timestamp> = f.meta.lastmodified.parse().ok();
                let age_days = lm.map(|lm| (now.as_second() - lm.as_second()).div_euclid(86_400));
                let rule = serde_json::to_value(&f.meta.rules).ok().and_then(|v| {
                    v.as_object().and_then(|o| {
                        o.iter()
                            .next()
                            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                    })
                });
                FileInfo {
                    path: path.clone(),
                    format: Some(f.format),
                    recipients: f.meta.recipients(),
                    lastmodified: Some(f.meta.lastmodified.clone()),
                    age_days,
                    stale: age_days.is_some_and(|d| d > i64::from(rotation_days)),
                    can_decrypt: ids.unwrap(&f.meta.age).is_ok(),
                    mine: {
                        let ours = ids.recipients();
                        f.meta
                            .recipients()
                            .into_iter()
                            .filter(|r| ours.contains(r))
                            .collect()
                    },
                    rule,
                    mac_only_encrypted: f.meta.mac_only_encrypted,
                    error: None,
                }
            }
            Err(e) => FileInfo {
                path: path.clone(),
                format: Format::from_path(path),
                recipients: Vec::new(),
                lastmodified: None,
                age_days: None,
                stale: false,
                can_decrypt: false,
                mine: Vec::new(),
                rule: None,
                mac_only_encrypted: false,
                error: Some(e.to_string()),
            },
        })
        .collect()
}

// ---------------------------------------------------------------- writing

/// Replaces `path` with `bytes`: a temp file in the same folder, fsync, rename, fsync folder.
/// The old file stays intact if anything fails before the rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.shipdeck-{}-{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
            opts.mode(mode);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}
