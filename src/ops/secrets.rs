//! Secrets: rotate data keys, add or remove an age recipient, apply `.sops.yaml`, set a value.
//! Files are replaced atomically by the service; plaintext never touches the disk. A recipient
//! added or removed also goes into (or out of) the matching `.sops.yaml` creation rules.

use std::path::{Path, PathBuf};
use std::time::Instant;

use secrecy::SecretString;

use super::{Fault, OpCtx, OpError};
use crate::services::TaskCtl;
use crate::services::feishu::{EventKind, Notification};
use crate::services::secrets::SecretsError;
use crate::services::secrets::config_edit::RecipientChange;
use crate::services::secrets::keys::{Identities, IdentitySources};
use crate::services::secrets::ops::{self as batch, BatchReport, SopsYamlReport, Step};

/// What a batch did: per file, and in one line for people.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretsReport {
    #[serde(skip)]
    pub change: SecretsChange,
    #[serde(flatten)]
    pub batch: BatchReport,
    /// After adding or removing a recipient: whether the matching `.sops.yaml` creation rules
    /// followed, and if not why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sops_yaml: Option<SopsYamlReport>,
}

impl std::fmt::Display for SecretsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.batch;
        write!(
            f,
            "{}: {} changed, {} unchanged, {} failed",
            self.change.title(b.files.len()),
            b.changed,
            b.unchanged,
            b.failed
        )?;
        let problems: Vec<&str> = b
            .files
            .iter()
            .filter(|f| f.status == batch::Status::Failed)
            .filter_map(|f| f.message.as_deref())
            .collect();
        if !problems.is_empty() {
            write!(f, " (left as they were): {}", problems.join("; "))?;
        }
        if let Some(s) = &self.sops_yaml {
            write!(f, "; {s}")?;
        }
        Ok(())
    }
}

/// A batch over SOPS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsChange {
    /// A new data key, values re-encrypted.
    Rotate,
    /// Give this age recipient access (the data key is unchanged).
    AddRecipient(String),
    /// Take this recipient out; with `rotate`, also a new data key so its old copy opens nothing
    /// new. Without `force`, taking out the last recipient whose identity this machine holds
    /// is refused: nobody here could open those files again.
    RemoveRecipient {
        recipient: String,
        rotate: bool,
        force: bool,
    },
    /// Make each file's recipients match its `.sops.yaml` creation rule.
    Updatekeys { rotate: bool },
}

impl SecretsChange {
    /// `rotate 3 secret files`, `add age1qy…7k3d to 4 secret files`.
    pub fn title(&self, files: usize) -> String {
        use crate::app::state::short_recipient;
        let n = format!("{files} secret file{}", if files == 1 { "" } else { "s" });
        match self {
            SecretsChange::Rotate => format!("rotate {n}"),
            SecretsChange::AddRecipient(r) => format!("add {} to {n}", short_recipient(r)),
            SecretsChange::RemoveRecipient { recipient, .. } => {
                format!("remove {} from {n}", short_recipient(recipient))
            }
            SecretsChange::Updatekeys { .. } => format!("update the recipients of {n}"),
        }
    }

    fn journal_action(&self) -> &'static str {
        match self {
            SecretsChange::Rotate => "secrets-rotate",
            SecretsChange::AddRecipient(_) => "secrets-add-recipient",
            SecretsChange::RemoveRecipient { .. } => "secrets-remove-recipient",
            SecretsChange::Updatekeys { .. } => "secrets-updatekeys",
        }
    }
}

/// A secrets error as an op failure: a file or config that cannot work is bad input.
pub fn secrets_error(e: &SecretsError) -> OpError {
    let bad = e.is_malformed();
    if bad {
        OpError::bad_input(e.to_string())
    } else {
        OpError::failed(e.to_string())
    }
}

/// The identities that open the inventory's files: its `secrets.age_key_file`, then the usual
/// places (`SOPS_AGE_KEY_FILE`, `~/.config/sops/age/keys.txt`).
pub fn identities(ctx: &OpCtx) -> Result<Identities, OpError> {
    let extra = ctx.inventory().ok().and_then(|inv| {
        inv.secrets
            .as_ref()
            .and_then(|s| s.age_key_file.as_deref())
            .map(|f| inv.resolve(f))
    });
    IdentitySources::from_env(extra)
        .load()
        .map_err(|e| secrets_error(&e))
}

/// Runs one batch: journaled (paths and counts, never a value) and announced when a file
/// changed. A batch in which some files failed still returns its report: those files were
/// left as they were.
pub async fn apply(
    ctx: &OpCtx,
    files: Vec<PathBuf>,
    change: SecretsChange,
    task: TaskCtl,
) -> Result<SecretsReport, OpError> {
    ctx.check_writable(change.journal_action(), None, None)
        .await?;
    if files.is_empty() {
        return Err(OpError::bad_input("no SOPS files found"));
    }
    let ids = identities(ctx)?;
    if let SecretsChange::RemoveRecipient {
        recipient, force, ..
    } = &change
    {
        check_removal(&files, recipient, &ids, *force)?;
    }
    let started = Instant::now();
    let work = change.clone();
    let (report, sops_yaml) = tokio::task::spawn_blocking(move || {
        let report = match &work {
            SecretsChange::Rotate => batch::rotate(&files, &ids, &[], &[], &task),
            SecretsChange::AddRecipient(r) => batch::add_recipient(&files, r, &ids, &task),
            SecretsChange::RemoveRecipient {
                recipient, rotate, ..
            } => batch::remove_recipient(&files, recipient, &ids, *rotate, &task),
            SecretsChange::Updatekeys { rotate } => batch::updatekeys(&files, &ids, *rotate, &task),
        };
        let sops_yaml = follow_in_sops_yaml(&work, &report);
        (report, sops_yaml)
    })
    .await
    .map_err(|e| OpError::failed(format!("background task failed: {e}")))?;
    ctx.settle_actor(None).await;
    let mut entry = report.audit_entry(elapsed_ms(started));
    if let (Some(s), Some(detail)) = (&sops_yaml, entry.detail.as_object_mut()) {
        detail.insert(
            "sops_yaml".to_owned(),
            serde_json::to_value(s).unwrap_or_default(),
        );
    }
    write_journal(ctx, &entry);
    if report.changed > 0 {
        ctx.announce(&card(&change, report.changed, &ctx.actor().to_string()));
    }
    Ok(SecretsReport {
        change,
        batch: report,
        sops_yaml,
    })
}

/// A recipient added or removed is added to or removed from the `.sops.yaml` rules of the
/// files that now have it (or no longer have it): the changed ones and those that already
/// agreed. A failed or skipped file is as it was, so its rule is not touched on its behalf.
fn follow_in_sops_yaml(change: &SecretsChange, report: &BatchReport) -> Option<SopsYamlReport> {
    let (recipient, how) = match change {
        SecretsChange::AddRecipient(r) => (r, RecipientChange::Add),
        SecretsChange::RemoveRecipient { recipient, .. } => (recipient, RecipientChange::Remove),
        SecretsChange::Rotate | SecretsChange::Updatekeys { .. } => return None,
    };
    let done: Vec<PathBuf> = report
        .files
        .iter()
        .filter(|f| matches!(f.status, batch::Status::Changed | batch::Status::Unchanged))
        .map(|f| f.path.clone())
        .collect();
    Some(batch::sync_rules(&done, recipient, how))
}

/// A removal must name a recipient some file has, and (without `force`) must leave every file
/// openable by an identity this machine holds.
fn check_removal(
    files: &[PathBuf],
    recipient: &str,
    ids: &Identities,
    force: bool,
) -> Result<(), OpError> {
    use crate::services::secrets::ops as files_ops;
    let recipient = recipient.trim();
    crate::services::secrets::keys::parse_recipient(recipient).map_err(|e| secrets_error(&e))?;
    let ours = ids.recipients();
    let holders: Vec<(PathBuf, Vec<String>)> = files
        .iter()
        .filter_map(|p| {
            files_ops::load(p)
                .ok()
                .map(|f| (p.clone(), f.meta.recipients()))
        })
        .filter(|(_, r)| r.iter().any(|x| x == recipient))
        .collect();
    if holders.is_empty() {
        return Err(OpError::bad_input(format!(
            "{recipient} is a recipient of none of the {} file(s): nothing to remove",
            files.len()
        )));
    }
    if force || !ours.iter().any(|o| o == recipient) {
        return Ok(());
    }
    let locked: Vec<String> = holders
        .iter()
        .filter(|(_, r)| !r.iter().any(|x| x != recipient && ours.contains(x)))
        .map(|(p, _)| p.display().to_string())
        .collect();
    if locked.is_empty() {
        return Ok(());
    }
    Err(OpError::new(
        Fault::Refused,
        format!(
            "{recipient} is the last recipient whose identity you hold in {}: after removing it \
             nobody here could open them; give another of your keys access first, or pass --force",
            locked.join(", ")
        ),
    ))
}

/// Sets one value in one file (read from the caller; never logged or journaled).
pub async fn set(
    ctx: &OpCtx,
    file: &Path,
    key_path: Vec<Step>,
    value: SecretString,
) -> Result<BatchReport, OpError> {
    ctx.check_writable("secrets-set", None, None).await?;
    let ids = identities(ctx)?;
    let started = Instant::now();
    let path = file.to_path_buf();
    let report = tokio::task::spawn_blocking(move || {
        batch::set_value(&path, &key_path, &value, &ids)
            .unwrap_or_else(|e| batch::set_failed(&path, &e))
    })
    .await
    .map_err(|e| OpError::failed(format!("background task failed: {e}")))?;
    ctx.settle_actor(None).await;
    journal(ctx, &report, started);
    Ok(report)
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn journal(ctx: &OpCtx, report: &BatchReport, started: Instant) {
    write_journal(ctx, &report.audit_entry(elapsed_ms(started)));
}

fn write_journal(ctx: &OpCtx, entry: &crate::audit::Entry) {
    if let Err(e) = ctx.journal().append(entry) {
        tracing::warn!(error = %e, "audit journal not written");
    }
}

/// The card for a batch that changed `files` files.
fn card(change: &SecretsChange, files: usize, actor: &str) -> Notification {
    let n = format!("{files} file{}", if files == 1 { "" } else { "s" });
    match change {
        SecretsChange::Rotate => {
            Notification::secret_rotation(None, &format!("data keys of {n}"), actor)
        }
        SecretsChange::AddRecipient(r) => Notification::recipients(
            EventKind::RecipientAdded,
            &format!("{r} can now open {n}"),
            actor,
        ),
        SecretsChange::RemoveRecipient {
            recipient, rotate, ..
        } => Notification::recipients(
            EventKind::RecipientRemoved,
            &if *rotate {
                format!("{recipient} taken out of {n}; their data keys rotated")
            } else {
                format!("{recipient} taken out of {n} (data keys not rotated)")
            },
            actor,
        ),
        SecretsChange::Updatekeys { .. } => Notification::secret_rotation(
            None,
            &format!("recipients of {n} updated from .sops.yaml"),
            actor,
        ),
    }
}

/// Writes a new age identity to `path` (never overwriting); the journal keeps its public key.
pub async fn keygen(
    ctx: &OpCtx,
    path: &Path,
    now: jiff::Timestamp,
) -> Result<crate::services::secrets::keys::Keygen, OpError> {
    ctx.check_writable("keygen", None, None).await?;
    let started = Instant::now();
    let result =
        crate::services::secrets::keys::keygen_to_file(path, now).map_err(|e| secrets_error(&e));
    let mut entry = crate::audit::Entry::new("keygen");
    entry.detail = serde_json::json!({
        "file": path.display().to_string(),
        "public_key": result.as_ref().ok().map(|k| k.public_key.clone()),
    });
    ctx.record(entry, started, &result).await;
    result
}
