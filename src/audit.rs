//! The append-only journal of actions: one JSON line per action, in the state dir.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One journal line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// RFC 3339 UTC.
    pub time: String,
    pub actor: String,
    /// The Kubernetes username the cluster reported for this identity (SelfSubjectReview).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_user: Option<String>,
    /// `release`, `promote`, `rollback`, `rollout-abort`, `secrets-rotate`, `tmp-clean`, ...
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `ok`, `conflict`, `error: …`, `refused: …`
    pub result: String,
    pub duration_ms: u64,
    /// Action-specific fields (counts, bytes, gates, override reason).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

impl Entry {
    /// A fresh entry stamped with now; the journal it is appended to names the actor.
    pub fn new(action: &str) -> Self {
        Entry {
            time: jiff::Timestamp::now().to_string(),
            action: action.to_owned(),
            ..Entry::default()
        }
    }
}

/// The journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    /// Who every line is written for; services build entries, the journal names the actor.
    actor: crate::ops::Actor,
}

impl Journal {
    /// A journal whose lines name the locally resolved actor (no Kubernetes username).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Journal {
            path: path.into(),
            actor: crate::ops::Actor::local(None),
        }
    }

    /// A journal whose lines name `actor`.
    pub fn for_actor(path: impl Into<PathBuf>, actor: crate::ops::Actor) -> Self {
        Journal {
            path: path.into(),
            actor,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. A single `write` of a line opened with `O_APPEND` keeps concurrent
    /// writers from interleaving inside a line.
    pub fn append(&self, entry: &Entry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut entry = entry.clone();
        entry.actor.clone_from(&self.actor.name);
        entry.kube_user.clone_from(&self.actor.kube_user);
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(&line)
    }

    /// Reads every entry; lines that do not parse are skipped (a torn last line after a crash).
    pub fn read_all(&self) -> std::io::Result<Vec<Entry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}
