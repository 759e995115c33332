//! The inventory's retention rules, compiled once per plan.

use std::ffi::OsStr;
use std::path::Path;

use globset::{Candidate as GlobCandidate, GlobBuilder, GlobSet, GlobSetBuilder};

use super::{Result, TmpError};
use crate::inventory::TmpConfig;

/// Which retention applies to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Matches `never_delete`.
    Never,
    /// The first rule (by index) that matches.
    Rule(usize),
    /// No rule matched: `default_keep_days`.
    Default,
}

/// One compiled rule's retention.
#[derive(Debug, Clone)]
pub(crate) struct Retention {
    pub label: String,
    pub keep_days: Option<u32>,
    pub keep_latest: Option<u32>,
}

/// Rules ready to match entries.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    patterns: GlobSet,
    pub retention: Vec<Retention>,
    never: GlobSet,
    pub default_keep_days: Option<u32>,
}

impl Rules {
    pub fn compile(cfg: &TmpConfig) -> Result<Self> {
        let mut rules = GlobSetBuilder::new();
        let mut retention = Vec::with_capacity(cfg.rules.len());
        for rule in &cfg.rules {
            if rule.keep_days.is_none() && rule.keep_latest.is_none() {
                return Err(TmpError::RuleWithoutRetention(rule.pattern.clone()));
            }
            rules.add(glob(&rule.pattern, "rules")?);
            retention.push(Retention {
                label: rule.pattern.clone(),
                keep_days: rule.keep_days,
                keep_latest: rule.keep_latest,
            });
        }
        let mut never = GlobSetBuilder::new();
        for pattern in &cfg.never_delete {
            never.add(glob(pattern, "never_delete")?);
        }
        let build = |b: GlobSetBuilder, place| {
            b.build().map_err(|source| TmpError::Pattern {
                pattern: String::new(),
                place,
                source,
            })
        };
        Ok(Rules {
            patterns: build(rules, "rules")?,
            retention,
            never: build(never, "never_delete")?,
            default_keep_days: cfg.default_keep_days,
        })
    }

    /// Whether an entry (file or folder) is protected by `never_delete`.
    pub fn is_never(&self, rel: &Path, name: &OsStr) -> bool {
        if self.never.is_empty() {
            return false;
        }
        self.never.is_match(rel) || (rel.as_os_str() != name && self.never.is_match(name))
    }

    /// The retention that applies to a file or symlink at `rel` (relative to the root).
    pub fn classify(&self, rel: &Path, name: &OsStr) -> Verdict {
        if self.is_never(rel, name) {
            return Verdict::Never;
        }
        if self.patterns.is_empty() {
            return Verdict::Default;
        }
        let by_path = first(&self.patterns, rel);
        let by_name = if rel.as_os_str() == name {
            None
        } else {
            first(&self.patterns, name)
        };
        match (by_path, by_name) {
            (Some(a), Some(b)) => Verdict::Rule(a.min(b)),
            (Some(i), None) | (None, Some(i)) => Verdict::Rule(i),
            (None, None) => Verdict::Default,
        }
    }

    /// The label shown for a verdict: the rule's pattern, or `default`.
    pub fn label(&self, verdict: Verdict) -> String {
        match verdict {
            Verdict::Rule(i) => self
                .retention
                .get(i)
                .map_or_else(|| format!("rule {i}"), |r| r.label.clone()),
            Verdict::Default => "default".to_owned(),
            Verdict::Never => "never_delete".to_owned(),
        }
    }
}

fn first(set: &GlobSet, p: impl AsRef<Path>) -> Option<usize> {
    let candidate = GlobCandidate::new(p.as_ref());
    set.matches_candidate(&candidate).into_iter().min()
}

fn glob(pattern: &str, place: &'static str) -> Result<globset::Glob> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|source| TmpError::Pattern {
            pattern: pattern.to_owned(),
            place,
            source,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::inventory::TmpRule;

    fn cfg() -> TmpConfig {
        TmpConfig {
            root: "tmp".into(),
            default_keep_days: Some(7),
            rules: vec![
                TmpRule {
                    pattern: "actions-runner-*.tar.gz".into(),
                    keep_latest: Some(2),
                    ..TmpRule::default()
                },
                TmpRule {
                    pattern: "*.tgz".into(),
                    keep_days: Some(14),
                    ..TmpRule::default()
                },
                TmpRule {
                    pattern: "charts/**".into(),
                    keep_days: Some(1),
                    ..TmpRule::default()
                },
            ],
            never_delete: vec!["*.keep".into()],
            ..TmpConfig::default()
        }
    }

    fn v(r: &Rules, rel: &str) -> Verdict {
        let p = Path::new(rel);
        r.classify(p, p.file_name().unwrap())
    }

    #[test]
    fn first_match_wins_by_path_or_name() {
        let r = Rules::compile(&cfg()).unwrap();
        assert_eq!(
            v(&r, "actions-runner-linux-x64-2.320.0.tar.gz"),
            Verdict::Rule(0)
        );
        assert_eq!(
            v(&r, "sub/actions-runner-linux-x64-2.320.0.tar.gz"),
            Verdict::Rule(0)
        );
        assert_eq!(v(&r, "miker-web-0.5.0.tgz"), Verdict::Rule(1));
        // both rule 1 (by name) and rule 2 (by path) match: the first rule wins
        assert_eq!(v(&r, "charts/x.tgz"), Verdict::Rule(1));
        assert_eq!(v(&r, "charts/deep/values.yaml"), Verdict::Rule(2));
        assert_eq!(v(&r, "values.yaml"), Verdict::Default);
        assert_eq!(v(&r, ".keep"), Verdict::Never);
        assert_eq!(v(&r, "sub/dir/.keep"), Verdict::Never);
    }

    #[test]
    fn star_does_not_cross_folders_in_path_patterns() {
        let mut c = cfg();
        c.rules = vec![TmpRule {
            pattern: "logs/*.log".into(),
            keep_days: Some(1),
            ..TmpRule::default()
        }];
        let r = Rules::compile(&c).unwrap();
        assert_eq!(v(&r, "logs/a.log"), Verdict::Rule(0));
        assert_eq!(v(&r, "logs/old/a.log"), Verdict::Default);
    }

    #[test]
    fn rule_without_retention_and_bad_glob_are_refused() {
        let mut c = cfg();
        c.rules.push(TmpRule {
            pattern: "*.bin".into(),
            ..TmpRule::default()
        });
        let e = Rules::compile(&c).unwrap_err().to_string();
        assert!(e.contains("`*.bin`") && e.contains("keep_days"), "{e}");
        let mut c = cfg();
        c.never_delete.push("a[".into());
        let e = Rules::compile(&c).unwrap_err().to_string();
        assert!(e.contains("never_delete") && e.contains("a["), "{e}");
    }
}
