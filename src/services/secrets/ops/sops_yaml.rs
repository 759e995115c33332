//! After a recipient joins or leaves some files, the `.sops.yaml` creation rules that match those
//! files follow, so a later `sops updatekeys` (or shipdeck's "apply .sops.yaml") keeps the change
//! instead of undoing it. Each `.sops.yaml` is edited in place (`config_edit`) and replaced
//! atomically; what could not be done is said in the report, and the files stay changed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::write_atomic;
use crate::services::secrets::config::{self, SopsConfig};
use crate::services::secrets::config_edit::{self, RecipientChange};

/// How the `.sops.yaml` side of a recipient change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SopsYamlStatus {
    /// Every matching rule now agrees, and some were rewritten.
    Updated,
    /// Every matching rule already agreed: nothing written.
    Unchanged,
    /// Some rules were rewritten, others could not be (see `reason`).
    PartlyUpdated,
    /// No rule was rewritten, and some should have been (see `reason`).
    NotUpdated,
}

/// What happened to the `.sops.yaml` creation rules of the files a recipient change touched.
#[derive(Debug, Clone, Serialize)]
pub struct SopsYamlReport {
    /// A `.sops.yaml` was rewritten.
    pub updated: bool,
    pub status: SopsYamlStatus,
    /// The `.sops.yaml` files rewritten.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathBuf>,
    /// The rules rewritten: `rule 2 (path_regex `prod/`) of /repo/.sops.yaml`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Why (some of) the rules were not brought in line, and what that means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    recipient: String,
    #[serde(skip)]
    change: RecipientChange,
    /// How many matching rules already agreed.
    #[serde(skip)]
    agreed: usize,
}

impl fmt::Display for SopsYamlReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.recipient;
        // `rule 1 … now lists`, `rule 1 …, rule 3 … now list`.
        let pick =
            |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        let (n, agreed) = (self.rules.len(), self.agreed);
        let (now, already) = match self.change {
            RecipientChange::Remove => (
                pick(n, "no longer lists", "no longer list"),
                pick(agreed, "rule already leaves out", "rules already leave out"),
            ),
            RecipientChange::Add => (
                pick(n, "now lists", "now list"),
                pick(agreed, "rule already lists", "rules already list"),
            ),
        };
        let reason = self.reason.as_deref().unwrap_or_default();
        let rules = self.rules.join(", ");
        match self.status {
            SopsYamlStatus::Updated => write!(f, "`.sops.yaml` updated: {rules} {now} {r}"),
            SopsYamlStatus::Unchanged => {
                write!(f, "`.sops.yaml` unchanged: the matching {already} {r}")
            }
            SopsYamlStatus::PartlyUpdated => write!(
                f,
                "`.sops.yaml` partly updated: {rules} {now} {r}; not updated: {reason}"
            ),
            SopsYamlStatus::NotUpdated => write!(f, "`.sops.yaml` not updated: {reason}"),
        }
    }
}

/// The nearest `.sops.yaml` of each file, and in each the first rule that matches the file:
/// `recipient` is added to (or taken out of) each such rule's age recipients. `files` are the
/// files that now have (or no longer have) the recipient.
pub fn sync_rules(files: &[PathBuf], recipient: &str, change: RecipientChange) -> SopsYamlReport {
    let mut out = SopsYamlReport {
        updated: false,
        status: SopsYamlStatus::NotUpdated,
        paths: Vec::new(),
        rules: Vec::new(),
        reason: None,
        recipient: recipient.trim().to_owned(),
        change,
        agreed: 0,
    };
    let mut problems = Vec::new();
    let mut agreed = 0;
    let mut by_config: BTreeMap<PathBuf, Vec<&Path>> = BTreeMap::new();
    let mut homeless = Vec::new();
    for f in files {
        match config::find(f.parent().unwrap_or(Path::new("."))) {
            Some(c) => by_config.entry(c).or_default().push(f),
            None => homeless.push(f.display().to_string()),
        }
    }
    if !homeless.is_empty() {
        problems.push(format!("no .sops.yaml found above {}", some_of(&homeless)));
    }
    for (cfg, files) in &by_config {
        agreed += sync_one(cfg, files, &mut out, &mut problems);
    }
    if files.is_empty() {
        problems.push("no file took the change, so no rule was touched".to_owned());
    }
    out.agreed = agreed;
    out.updated = !out.paths.is_empty();
    out.status = match (out.updated, problems.is_empty()) {
        (true, true) => SopsYamlStatus::Updated,
        (true, false) => SopsYamlStatus::PartlyUpdated,
        (false, true) if agreed > 0 => SopsYamlStatus::Unchanged,
        (false, _) => SopsYamlStatus::NotUpdated,
    };
    if !problems.is_empty() {
        problems.dedup();
        out.reason = Some(problems.join("; "));
    }
    out
}

/// `a`, `a, b and c`, `a, b, c and 4 more`.
fn some_of(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] if names.len() <= 3 => format!("{} and {last}", init.join(", ")),
        _ => format!("{} and {} more", names[..3].join(", "), names.len() - 3),
    }
}

/// `rule 2 (path_regex `prod/`) of /repo/.sops.yaml`.
fn label(cfg: &SopsConfig, index: usize) -> String {
    let regex = cfg
        .creation_rules
        .iter()
        .find(|r| r.index == index)
        .and_then(|r| r.path_regex.as_deref())
        .filter(|r| !r.is_empty());
    let regex = regex.map_or_else(
        || "no path_regex".to_owned(),
        |r| format!("path_regex `{r}`"),
    );
    format!("rule {} ({regex}) of {}", index + 1, cfg.path.display())
}

/// What a rule left as it was means for the files it matches.
fn consequence(out: &SopsYamlReport, files: usize) -> String {
    let them = if files == 1 {
        "that file"
    } else {
        "those files"
    };
    match out.change {
        RecipientChange::Remove => format!(
            "a later `sops updatekeys` would give {} access to {them} again",
            out.recipient
        ),
        RecipientChange::Add => format!(
            "a later `sops updatekeys` would take {} out of {them} again",
            out.recipient
        ),
    }
}

/// Edits the rules of one `.sops.yaml` that match `files`; the number of rules that already
/// agreed.
fn sync_one(
    path: &Path,
    files: &[&Path],
    out: &mut SopsYamlReport,
    problems: &mut Vec<String>,
) -> usize {
    let cfg = match SopsConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            problems.push(e.to_string());
            return 0;
        }
    };
    let mut rules: BTreeMap<usize, usize> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for f in files {
        match cfg.matching_rule(f) {
            Ok(Some(rule)) => *rules.entry(rule.index).or_default() += 1,
            Ok(None) => unmatched.push(cfg.relative(f)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    // Nothing to keep in line there, and nothing for sops to undo: it stops at the same place.
    if !unmatched.is_empty() {
        problems.push(format!(
            "no creation rule in {} matches {} (`sops updatekeys` refuses {} for the same reason)",
            path.display(),
            some_of(&unmatched),
            if unmatched.len() == 1 { "it" } else { "them" }
        ));
    }
    if rules.is_empty() {
        return 0;
    }
    let original = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            return 0;
        }
    };
    let change = out.change;
    let mut text = original.clone();
    let mut edited = Vec::new();
    let mut agreed = 0;
    let mut matched = 0;
    for (&index, &n) in &rules {
        match config_edit::edit_rule(&text, index, &out.recipient, change) {
            Ok(Some(t)) => {
                text = t;
                edited.push(label(&cfg, index));
                matched += n;
            }
            Ok(None) => agreed += 1,
            Err(e) => problems.push(format!(
                "{}: {e}; {}",
                label(&cfg, index),
                consequence(out, n)
            )),
        }
    }
    if edited.is_empty() {
        return agreed;
    }
    // Someone else's edit meanwhile wins: ours would silently undo it.
    let written = match std::fs::read_to_string(path) {
        Ok(now) if now != original => Err(format!(
            "{} changed while shipdeck was editing it",
            path.display()
        )),
        Ok(_) => write_atomic(path, text.as_bytes()).map_err(|e| e.to_string()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    };
    match written {
        Ok(()) => {
            tracing::info!(file = %path.display(), rules = edited.len(), "`.sops.yaml` creation rules updated");
            out.paths.push(path.to_path_buf());
            out.rules.extend(edited);
        }
        Err(e) => problems.push(format!("{e}; {}", consequence(out, matched))),
    }
    agreed
}
