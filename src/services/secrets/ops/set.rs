//! Setting one value by its key path (`a.b[2].c`), encrypted for the file's recipients.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::batch::{BatchReport, FileOutcome, Rewrite, Status, rewrite};
use crate::services::secrets::config::SopsConfig;
use crate::services::secrets::formats::Format;
use crate::services::secrets::keys::Identities;
use crate::services::secrets::sopsfile::{self};
use crate::services::secrets::tree::{MapItem, Node, Scalar, SeqItem};
use crate::services::secrets::{Result, SecretsError};

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
    let changed = rewrite(path, ids, |file, docs| {
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
        let before = doc.clone();
        set_in(
            doc,
            key_path,
            Node::Scalar(Scalar::Str(value.expose_secret().to_owned())),
            &mut Vec::new(),
        )?;
        // The same value again: the file (and its data key and MAC) stays as it is.
        if *doc == before {
            return Ok(None);
        }
        Ok(Some(Rewrite {
            recipients: file.meta.recipients(),
            new_key: false,
            touch: true,
        }))
    })?;
    if changed {
        report.changed = 1;
    } else {
        report.unchanged = 1;
    }
    report.files.push(FileOutcome {
        path: path.to_path_buf(),
        status: if changed {
            Status::Changed
        } else {
            Status::Unchanged
        },
        message: (!changed).then(|| "unchanged: it already holds this value".to_owned()),
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
