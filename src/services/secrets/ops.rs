//! What the cockpit and the headless commands do with secret files: list, set, rotate,
//! add/remove recipients, updatekeys. Each file is verified in memory and then replaced
//! atomically; in a batch a failing file stays as it was and the others proceed.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::cipher::DataKey;
use super::config::{self, SopsConfig};
use super::formats::Format;
use super::keys::{self, Identities};
use super::meta::AgeKey;
use super::sopsfile::{self, Encryption, SopsFile};
use super::tree::{Branches, MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError};
use crate::services::TaskCtl;

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
    let text = std::fs::read_to_string(path).map_err(io(path))?;
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

/// Checks new file text before it replaces the old one: it parses, its values decrypt with
/// `key` to `expected` (MAC verified), and it is wrapped for exactly `recipients`.
fn verify(
    text: &str,
    format: Format,
    key: &DataKey,
    expected: &Branches,
    recipients: &[String],
) -> Result<()> {
    let file = SopsFile::parse(text, format)?;
    let plain = file.decrypt(key)?;
    if plain.docs != *expected {
        return Err(SecretsError::Format(
            "verification failed: the re-encrypted file does not decrypt to the same content"
                .to_owned(),
        ));
    }
    if file.meta.recipients() != recipients {
        return Err(SecretsError::Format(
            "verification failed: recipients differ".to_owned(),
        ));
    }
    Ok(())
}

/// Age entries for `recipients`: kept from `old` when the data key did not change.
fn wrap_all(key: &DataKey, recipients: &[String], reuse: &[AgeKey]) -> Result<Vec<AgeKey>> {
    recipients
        .iter()
        .map(|r| match reuse.iter().find(|k| &k.recipient == r) {
            Some(k) => Ok(k.clone()),
            None => keys::wrap(key, r),
        })
        .collect()
}

/// Decrypts, lets `change` edit the plaintext and recipients, re-encrypts, verifies, writes.
struct Rewrite {
    recipients: Vec<String>,
    new_key: bool,
    /// Values changed: new `lastmodified` and MAC. Otherwise only key entries change.
    touch: bool,
}

fn rewrite(
    path: &Path,
    ids: &Identities,
    change: impl FnOnce(&mut SopsFile, &mut Branches) -> Result<Option<Rewrite>>,
) -> Result<bool> {
    let mut file = load(path)?;
    file.check_writable().map_err(|e| in_file(path, e))?;
    let key = file.data_key(ids).map_err(|e| in_file(path, e))?;
    let mut plain = file.decrypt(&key).map_err(|e| in_file(path, e))?;
    let Some(rw) = change(&mut file, &mut plain.docs).map_err(|e| in_file(path, e))? else {
        return Ok(false);
    };
    if rw.recipients.is_empty() {
        return Err(in_file(
            path,
            SecretsError::Config("refusing to leave the file with no recipients".to_owned()),
        ));
    }
    for r in &rw.recipients {
        keys::parse_recipient(r).map_err(|e| in_file(path, e))?;
    }
    let new = if rw.new_key || rw.touch {
        let key = if rw.new_key {
            DataKey::generate()
        } else {
            key.clone()
        };
        let how = Encryption {
            rules: &file.meta.rules,
            mac_only_encrypted: file.meta.mac_only_encrypted,
            lastmodified: sopsfile::now_rfc3339(),
        };
        let reuse = if rw.new_key {
            &[][..]
        } else {
            &file.meta.age[..]
        };
        let age = wrap_all(&key, &rw.recipients, reuse).map_err(|e| in_file(path, e))?;
        let mut sealed = sopsfile::seal(
            file.format,
            &plain.docs.0,
            &key,
            &rw.recipients,
            &how,
            Some(&plain.stash),
        )
        .map_err(|e| in_file(path, e))?;
        sealed.meta.age = age;
        (sealed, key)
    } else {
        // updatekeys: same data key, values, MAC and lastmodified.
        let mut f = file.clone();
        f.meta.age =
            wrap_all(&key, &rw.recipients, &file.meta.age).map_err(|e| in_file(path, e))?;
        (f, key)
    };
    let (sealed, key) = new;
    let text = sealed.render();
    verify(&text, sealed.format, &key, &plain.docs, &rw.recipients)
        .map_err(|e| in_file(path, e))?;
    write_atomic(path, text.as_bytes())?;
    Ok(true)
}

// ---------------------------------------------------------------- batches

/// What happened to one file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Changed,
    Unchanged,
    Failed,
    /// Not attempted because the batch was cancelled.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The result of a batch: one outcome per file, and warnings for the person.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// `rotate`, `add-recipient`, `remove-recipient`, `updatekeys`, `set`.
    pub action: String,
    pub files: Vec<FileOutcome>,
    pub warnings: Vec<String>,
    pub cancelled: bool,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Recipients added/removed (public keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl BatchReport {
    fn new(action: &str) -> Self {
        BatchReport {
            action: action.to_owned(),
            files: Vec::new(),
            warnings: Vec::new(),
            cancelled: false,
            changed: 0,
            unchanged: 0,
            failed: 0,
            added: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// The audit journal line for this batch (paths and counts; never a value).
    pub fn audit_entry(&self, duration_ms: u64) -> crate::audit::Entry {
        let mut e = crate::audit::Entry::new(&format!("secrets-{}", self.action));
        e.result = if self.failed > 0 {
            format!(
                "error: {} of {} files failed",
                self.failed,
                self.files.len()
            )
        } else if self.cancelled {
            "cancelled".to_owned()
        } else {
            "ok".to_owned()
        };
        e.duration_ms = duration_ms;
        e.detail = serde_json::json!({
            "changed": self.changed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "added": self.added,
            "removed": self.removed,
            "files": self.files.iter().map(|f| serde_json::json!({
                "path": f.path, "status": f.status,
            })).collect::<Vec<_>>(),
        });
        e
    }
}

fn batch(
    action: &str,
    files: &[PathBuf],
    ctl: &TaskCtl,
    mut one: impl FnMut(&Path) -> Result<bool>,
) -> BatchReport {
    let mut report = BatchReport::new(action);
    let total = files.len() as u64;
    for (i, path) in files.iter().enumerate() {
        if ctl.is_cancelled() {
            report.cancelled = true;
            report.files.push(FileOutcome {
                path: path.clone(),
                status: Status::Skipped,
                message: Some("cancelled".to_owned()),
            });
            continue;
        }
        ctl.report(
            i as u64,
            Some(total),
            format!("{action} {}", path.display()),
        );
        let outcome = match one(path) {
            Ok(true) => {
                tracing::info!(file = %path.display(), action, "secret file rewritten");
                report.changed += 1;
                FileOutcome {
                    path: path.clone(),
                    status: Status::Changed,
                    message: None,
                }
            }
            Ok(false) => {
                report.unchanged += 1;
                FileOutcome {
                    path: path.clone(),
                    status: Status::Unchanged,
                    message: None,
                }
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), action, error = %e, "secret file left as it was");
                report.failed += 1;
                FileOutcome {
                    path: path.clone(),
                    status: Status::Failed,
                    message: Some(e.to_string()),
                }
            }
        };
        report.files.push(outcome);
    }
    ctl.report(total, Some(total), format!("{action}: done"));
    report
}

fn dedup_push(list: &mut Vec<String>, r: &str) {
    if !list.iter().any(|x| x == r) {
        list.push(r.to_owned());
    }
}

/// `sops rotate`: a new data key for every file, values re-encrypted (unchanged IVs reused),
/// new MAC and `lastmodified`; optionally adding/removing recipients at the same time.
pub fn rotate(
    files: &[PathBuf],
    ids: &Identities,
    add: &[String],
    remove: &[String],
    ctl: &TaskCtl,
) -> BatchReport {
    let mut report = batch("rotate", files, ctl, |path| {
        rewrite(path, ids, |file, _| {
            let mut r = file.meta.recipients();
            r.retain(|x| !remove.contains(x));
            for a in add {
                dedup_push(&mut r, a.trim());
            }
            Ok(Some(Rewrite {
                recipients: r,
                new_key: true,
                touch: true,
            }))
        })
    });
    report.added = add.to_vec();
    report.removed = remove.to_vec();
    report
}

/// `updatekeys`-style add: same data key, values untouched, the key wrapped for one more
/// recipient.
pub fn add_recipient(
    files: &[PathBuf],
    recipient: &str,
    ids: &Identities,
    ctl: &TaskCtl,
) -> BatchReport {
    let recipient = recipient.trim();
    let mut report = batch("add-recipient", files, ctl, |path| {
        keys::parse_recipient(recipient)?;
        rewrite(path, ids, |file, _| {
            let mut r = file.meta.recipients();
            if r.iter().any(|x| x == recipient) {
                return Ok(None);
            }
            r.push(recipient.to_owned());
            Ok(Some(Rewrite {
                recipients: r,
                new_key: false,
                touch: false,
            }))
        })
    });
    report.added = vec![recipient.to_owned()];
    report
}

/// The warning every removal without rotation carries.
pub fn removal_warning(recipient: &str) -> String {
    format!(
        "removing {recipient} alone does not revoke access: whoever holds that key and an old copy of a file still has its data key; rotate the data keys (the default) to revoke"
    )
}

/// Removes a recipient; with `rotate` (the safe default) the data key changes too.
pub fn remove_recipient(
    files: &[PathBuf],
    recipient: &str,
    ids: &Identities,
    rotate_too: bool,
    ctl: &TaskCtl,
) -> BatchReport {
    let recipient = recipient.trim();
    let mut report = batch("remove-recipient", files, ctl, |path| {
        rewrite(path, ids, |file, _| {
            let mut r = file.meta.recipients();
            if !r.iter().any(|x| x == recipient) {
                return Ok(None);
            }
            r.retain(|x| x != recipient);
            Ok(Some(Rewrite {
                recipients: r,
                new_key: rotate_too,
                touch: rotate_too,
            }))
        })
    });
    report.removed = vec![recipient.to_owned()];
    if !rotate_too {
        report.warnings.push(removal_warning(recipient));
    }
    report
}

/// `sops updatekeys` across files: recipients from the nearest `.sops.yaml` creation rule.
/// With `rotate_on_removal`, files that lose a recipient also get a new data key.
pub fn updatekeys(
    files: &[PathBuf],
    ids: &Identities,
    rotate_on_removal: bool,
    ctl: &TaskCtl,
) -> BatchReport {
    let mut removed_any = Vec::new();
    let mut configs: std::collections::HashMap<PathBuf, SopsConfig> =
        std::collections::HashMap::new();
    let mut report = batch("updatekeys", files, ctl, |path| {
        let dir = path.parent().unwrap_or(Path::new("."));
        let cfg_path = config::find(dir).ok_or_else(|| {
            in_file(
                path,
                SecretsError::Config("no .sops.yaml found above this file".to_owned()),
            )
        })?;
        if !configs.contains_key(&cfg_path) {
            let c = SopsConfig::load(&cfg_path)?;
            configs.insert(cfg_path.clone(), c);
        }
        let cfg = &configs[&cfg_path];
        let rule = cfg.rule_for(path).map_err(|e| in_file(path, e))?;
        let wanted = rule.age.clone();
        if wanted.is_empty() {
            return Err(in_file(
                path,
                SecretsError::Config("the matching creation rule has no age recipients".to_owned()),
            ));
        }
        rewrite(path, ids, |file, _| {
            let current = file.meta.recipients();
            let mut a = current.clone();
            let mut b = wanted.clone();
            a.sort();
            b.sort();
            if a == b {
                return Ok(None);
            }
            let lost: Vec<&String> = current.iter().filter(|r| !wanted.contains(r)).collect();
            for l in &lost {
                dedup_push(&mut removed_any, l);
            }
            let rotate = rotate_on_removal && !lost.is_empty();
            Ok(Some(Rewrite {
                recipients: wanted.clone(),
                new_key: rotate,
                touch: rotate,
            }))
        })
    });
    if !rotate_on_removal {
        for r in &removed_any {
            report.warnings.push(removal_warning(r));
        }
    }
    report.removed = removed_any;
    report
}

// ---------------------------------------------------------------- set

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Parses `stringData.DB_PASSWORD`, `items.0.value` or sops's `["stringData"]["DB_PASSWORD"]`.
pub fn parse_key_path(s: &str) -> Result<Vec<Step>> {
    let bad = || {
        SecretsError::Config(format!(
            "bad key path `{s}` (use a.b.c or [\"a\"][\"b\"][0])"
        ))
    };
    let s = s.trim();
    if s.is_empty() {
        return Err(bad());
    }
    if !s.starts_with('[') {
        return Ok(s.split('.').map(|p| Step::Key(p.to_owned())).collect());
    }
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(bad)?;
        let end = if let Some(quoted) = inner.strip_prefix('"') {
            quoted.find('"').map(|i| i + 2).ok_or_else(bad)?
        } else {
            inner.find(']').ok_or_else(bad)?
        };
        let token = &inner[..end];
        rest = inner[end..].strip_prefix(']').ok_or_else(bad)?;
        if let Some(k) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            out.push(Step::Key(k.to_owned()));
        } else {
            out.push(Step::Index(token.parse().map_err(|_| bad())?));
        }
    }
    Ok(out)
}

fn set_in(node: &mut Node, steps: &[Step], value: Node, path: &mut Vec<String>) -> Result<()> {
    let Some((first, rest)) = steps.split_first() else {
        *node = value;
        return Ok(());
    };
    let missing = || SecretsError::Config("key path not found in the file".to_owned());
    match (node, first) {
        (Node::Map(items), Step::Key(k)) => {
            path.push(k.clone());
            if let Some(v) = items.iter_mut().find_map(|i| match i {
                MapItem::Pair(key, v) if key == k => Some(v),
                _ => None,
            }) {
                return set_in(v, rest, value, path);
            }
            if !rest.is_empty() {
                return Err(missing());
            }
            items.push(MapItem::Pair(k.clone(), value));
            Ok(())
        }
        (Node::Seq(items), Step::Index(i)) => {
            let v = items
                .iter_mut()
                .filter_map(|x| match x {
                    SeqItem::Value(v) => Some(v),
                    SeqItem::Comment(_) => None,
                })
                .nth(*i)
                .ok_or_else(missing)?;
            set_in(v, rest, value, path)
        }
        (Node::Seq(items), Step::Key(k)) if k.parse::<usize>().is_ok() => {
            let i: usize = k.parse().unwrap_or(usize::MAX);
            let v = items
                .iter_mut()
                .filter_map(|x| match x {
                    SeqItem::Value(v) => Some(v),
                    SeqItem::Comment(_) => None,
                })
                .nth(i)
                .ok_or_else(missing)?;
            set_in(v, rest, value, path)
        }
        _ => Err(missing()),
    }
}

/// Sets one string value (like `sops set`): same data key, other values byte-identical, new
/// MAC and `lastmodified`. Refuses a path the file's rules would leave unencrypted.
pub fn set_value(
    path: &Path,
    key_path: &[Step],
    value: &SecretString,
    ids: &Identities,
) -> Result<BatchReport> {
    let mut report = BatchReport::new("set");
    rewrite(path, ids, |file, docs| {
        let keys: Vec<String> = key_path
            .iter()
            .filter_map(|s| match s {
                Step::Key(k) => Some(k.clone()),
                Step::Index(_) => None,
            })
            .collect();
        if !file.meta.rules.compile()?.should_encrypt(&keys) {
            return Err(SecretsError::Config(
                "this key path is not encrypted by the file's rules; refusing to store a secret in clear".to_owned(),
            ));
        }
        let doc = docs
            .0
            .first_mut()
            .ok_or_else(|| SecretsError::Format("empty file".to_owned()))?;
        if file.format == Format::Dotenv && key_path.len() != 1 {
            return Err(SecretsError::Config(
                "dotenv files have one level of keys".to_owned(),
            ));
        }
        set_in(
            doc,
            key_path,
            Node::Scalar(Scalar::Str(value.expose_secret().to_owned())),
            &mut Vec::new(),
        )?;
        Ok(Some(Rewrite {
            recipients: file.meta.recipients(),
            new_key: false,
            touch: true,
        }))
    })?;
    report.changed = 1;
    report.files.push(FileOutcome {
        path: path.to_path_buf(),
        status: Status::Changed,
        message: None,
    });
    Ok(report)
}

/// Encrypts a plaintext file for the recipients of its `.sops.yaml` creation rule
/// (`sops encrypt`), returning the encrypted text. The plaintext stays in memory.
pub fn encrypt_for_rule(
    plain_path_for_rules: &Path,
    plain_text: &str,
    cfg: &SopsConfig,
    lastmodified: Option<String>,
) -> Result<String> {
    let rule = cfg.rule_for(plain_path_for_rules)?;
    let format = Format::from_path(plain_path_for_rules)
        .ok_or_else(|| SecretsError::Unsupported("unsupported format".to_owned()))?;
    sopsfile::encrypt_text(
        plain_text,
        format,
        &rule.age,
        &rule.rules,
        rule.mac_only_encrypted,
        lastmodified,
    )
}

/// A one-file report for an operation that failed before touching the file.
pub fn set_failed(path: &Path, e: &SecretsError) -> BatchReport {
    let mut r = BatchReport::new("set");
    r.failed = 1;
    r.files.push(FileOutcome {
        path: path.to_path_buf(),
        status: Status::Failed,
        message: Some(e.to_string()),
    });
    r
}
