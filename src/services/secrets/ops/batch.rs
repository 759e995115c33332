//! One file rewritten in memory, verified, replaced atomically; and the batches over it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{in_file, load, write_atomic};
use crate::services::TaskCtl;
use crate::services::secrets::cipher::DataKey;
use crate::services::secrets::config::{self, SopsConfig};
use crate::services::secrets::formats::Format;
use crate::services::secrets::keys::{self, Identities};
use crate::services::secrets::meta::AgeKey;
use crate::services::secrets::sopsfile::{self, Encryption, SopsFile};
use crate::services::secrets::tree::Branches;
use crate::services::secrets::{Result, SecretsError};

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
pub(super) struct Rewrite {
    pub(super) recipients: Vec<String>,
    pub(super) new_key: bool,
    /// Values changed: new `lastmodified` and MAC. Otherwise only key entries change.
    pub(super) touch: bool,
}

pub(super) fn rewrite(
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
    /// Of the failed, those whose file is malformed (bad input rather than a failure).
    #[serde(skip)]
    pub malformed: usize,
    /// Recipients added/removed (public keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl BatchReport {
    pub(super) fn new(action: &str) -> Self {
        BatchReport {
            action: action.to_owned(),
            files: Vec::new(),
            warnings: Vec::new(),
            cancelled: false,
            changed: 0,
            unchanged: 0,
            failed: 0,
            malformed: 0,
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
                report.malformed += usize::from(e.is_malformed());
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
