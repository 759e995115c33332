//! `.sops.yaml` creation rules (sops `config/config.go`): found by walking up, `path_regex`
//! matched against the path relative to the config file, first match wins.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::meta::Rules;
use super::tree::{MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError, yaml};

/// One creation rule, age recipients only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreationRule {
    /// Its place in `creation_rules` (0-based), to find it again in the file's text.
    pub index: usize,
    pub path_regex: Option<String>,
    pub age: Vec<String>,
    pub rules: Rules,
    pub mac_only_encrypted: bool,
}

/// A loaded `.sops.yaml`.
#[derive(Debug, Clone)]
pub struct SopsConfig {
    pub path: PathBuf,
    pub creation_rules: Vec<CreationRule>,
}

/// The nearest `.sops.yaml` at or above `dir` (at most 100 levels, as sops).
pub fn find(dir: &Path) -> Option<PathBuf> {
    // The parent of a bare file name is the empty path: the current folder.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let dir = std::path::absolute(dir).ok()?;
    dir.ancestors()
        .take(100)
        .map(|d| d.join(".sops.yaml"))
        .find(|p| p.is_file())
}

/// Age recipients written as a list, a comma-separated string, or both (folded `>-`).
fn age_list(n: &Node) -> Vec<String> {
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match n {
        Node::Scalar(Scalar::Str(s)) => split(s),
        Node::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                SeqItem::Value(Node::Scalar(Scalar::Str(s))) => Some(split(s)),
                _ => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar_text(n: &Node) -> Option<String> {
    match n {
        Node::Scalar(Scalar::Str(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

impl SopsConfig {
    pub fn load(path: &Path) -> Result<SopsConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let in_file = |e: SecretsError| SecretsError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        };
        let docs = yaml::parse(&text).map_err(in_file)?;
        let mut creation_rules = Vec::new();
        if let Some(Node::Seq(items)) = docs.first().and_then(|d| d.get("creation_rules")) {
            let values = items.iter().filter(|i| matches!(i, SeqItem::Value(_)));
            for (index, item) in values.enumerate() {
                let SeqItem::Value(Node::Map(fields)) = item else {
                    continue;
                };
                let mut rule = CreationRule {
                    index,
                    ..CreationRule::default()
                };
                let mut rule_fields = 0;
                for f in fields {
                    let MapItem::Pair(k, v) = f else { continue };
                    match k.as_str() {
                        "path_regex" => rule.path_regex = scalar_text(v),
                        "age" => rule.age.extend(age_list(v)),
                        "key_groups" => {
                            if let Node::Seq(groups) = v {
                                for g in groups {
                                    if let SeqItem::Value(g) = g
                                        && let Some(a) = g.get("age")
                                    {
                                        rule.age.extend(age_list(a));
                                    }
                                }
                            }
                        }
                        "mac_only_encrypted" => {
                            rule.mac_only_encrypted = matches!(v, Node::Scalar(Scalar::Bool(true)));
                        }
                        "unencrypted_suffix"
                        | "encrypted_suffix"
                        | "unencrypted_regex"
                        | "encrypted_regex"
                        | "unencrypted_comment_regex"
                        | "encrypted_comment_regex" => {
                            rule_fields += 1;
                            let v = scalar_text(v).unwrap_or_default();
                            match k.as_str() {
                                "unencrypted_suffix" => rule.rules.unencrypted_suffix = Some(v),
                                "encrypted_suffix" => rule.rules.encrypted_suffix = Some(v),
                                "unencrypted_regex" => rule.rules.unencrypted_regex = Some(v),
                                "encrypted_regex" => rule.rules.encrypted_regex = Some(v),
                                "unencrypted_comment_regex" => {
                                    rule.rules.unencrypted_comment_regex = Some(v);
                                }
                                _ => rule.rules.encrypted_comment_regex = Some(v),
                            }
                        }
                        _ => {}
                    }
                }
                if rule_fields > 1 {
                    return Err(in_file(SecretsError::Config(
                        "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex".to_owned(),
                    )));
                }
                creation_rules.push(rule);
            }
        }
        Ok(SopsConfig {
            path: path.to_path_buf(),
            creation_rules,
        })
    }

    /// `file` relative to this config's folder, with `/`: what `path_regex` is matched against.
    pub fn relative(&self, file: &Path) -> String {
        let dir = self
            .path
            .parent()
            .and_then(|d| std::path::absolute(d).ok())
            .unwrap_or_default();
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let rel = abs.strip_prefix(&dir).unwrap_or(&abs);
        rel.to_string_lossy().replace('\\', "/")
    }

    /// The first rule whose `path_regex` matches `file` relative to this config's folder.
    pub fn rule_for(&self, file: &Path) -> Result<&CreationRule> {
        self.matching_rule(file)?.ok_or_else(|| {
            SecretsError::Config(format!(
                "{}: no matching creation rules found for {}",
                self.path.display(),
                self.relative(file)
            ))
        })
    }

    /// Like `rule_for`, with no match as `None` rather than an error.
    pub fn matching_rule(&self, file: &Path) -> Result<Option<&CreationRule>> {
        let rel = self.relative(file);
        for rule in &self.creation_rules {
            match &rule.path_regex {
                None => return Ok(Some(rule)),
                Some(r) if r.is_empty() => return Ok(Some(rule)),
                Some(r) => {
                    let re = regex::Regex::new(r).map_err(|e| {
                        SecretsError::Config(format!(
                            "{}: bad path_regex `{r}`: {e}",
                            self.path.display()
                        ))
                    })?;
                    if re.is_match(&rel) {
                        return Ok(Some(rule));
                    }
                }
            }
        }
        Ok(None)
    }
}
