//! Where Feishu credentials come from: named environment variables, else the optional
//! `secret_file`. The edge builds [`Credentials::from_env`]; tests build [`Credentials::from_pairs`].

use std::collections::HashMap;
use std::path::Path;

use secrecy::SecretString;

use super::{FeishuError, Result};
use crate::inventory::FeishuConfig;

/// A lookup of credential values by variable name. Debug never shows a value.
#[derive(Clone, Default)]
pub struct Credentials {
    values: HashMap<String, SecretString>,
    read_env: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.values.keys().collect();
        names.sort();
        f.debug_struct("Credentials")
            .field("names", &names)
            .field("read_env", &self.read_env)
            .finish()
    }
}

impl Credentials {
    /// Explicit values (tests, the demo): nothing is read from the process environment.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Credentials {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), SecretString::from(v.into())))
                .collect(),
            read_env: false,
        }
    }

    /// The edge: the process environment first, then `feishu.secret_file` (resolved against
    /// `base_dir`, the inventory's folder) if the config names one.
    pub fn from_env(cfg: &FeishuConfig, base_dir: &Path) -> Result<Self> {
        let mut creds = match &cfg.secret_file {
            Some(f) => Self::from_file(&base_dir.join(f))?,
            None => Credentials::default(),
        };
        creds.read_env = true;
        Ok(creds)
    }

    /// Parses a `NAME=value` file (blank lines and `#` comments skipped, optional quotes).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FeishuError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut values = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((k, v)) = line.split_once('=') else {
                // Never echo the line: it may be a secret.
                return Err(FeishuError::File {
                    path: path.to_path_buf(),
                    message: format!("line {}: expected NAME=value", n + 1),
                });
            };
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .unwrap_or(v);
            values.insert(k.trim().to_owned(), SecretString::from(v.to_owned()));
        }
        Ok(Credentials {
            values,
            read_env: false,
        })
    }

    /// The value of `name`, if set and not blank.
    pub fn get(&self, name: &str) -> Option<SecretString> {
        if self.read_env
            && let Ok(v) = std::env::var(name)
            && !v.trim().is_empty()
        {
            return Some(SecretString::from(v.trim().to_owned()));
        }
        self.values.get(name).cloned()
    }

    /// Like [`get`](Self::get), with an error that says what the value is for.
    pub fn require(&self, name: Option<&str>, what: &str) -> Result<SecretString> {
        let Some(name) = name else {
            return Err(FeishuError::NotConfigured(format!(
                "{what}: no environment variable is named for it"
            )));
        };
        self.get(name)
            .ok_or_else(|| FeishuError::MissingCredential {
                var: name.to_owned(),
                what: what.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_parsing_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.env");
        std::fs::write(&p, "# c\n\nexport A=\"x y\"\nB='z'\nC = plain \n").unwrap();
        let c = Credentials::from_file(&p).unwrap();
        assert_eq!(c.get("A").unwrap().expose_secret(), "x y");
        assert_eq!(c.get("B").unwrap().expose_secret(), "z");
        assert_eq!(c.get("C").unwrap().expose_secret(), "plain");
        assert!(!format!("{c:?}").contains("plain"));
        std::fs::write(&p, "oops-secret\n").unwrap();
        let e = Credentials::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("line 1") && !e.contains("oops-secret"), "{e}");
        let e = c.require(Some("NOPE"), "app id").unwrap_err().to_string();
        assert!(e.contains("NOPE") && e.contains("app id"), "{e}");
    }
}
