//! The mapping file: GitHub login → the Feishu identity to look up. Written by people, so
//! errors say where; entries with nothing to look up are refused rather than guessed.
//!
//! ```yaml
//! alice: { email: alice@corp.example.com }
//! bob:   { mobile: "+8613800000000" }
//! carol: { open_id: ou_3b1f… }
//! ```

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{FeishuError, Result};

/// How one GitHub login is found in Feishu. `open_id` wins over `email` over `mobile`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    #[serde(default)]
    pub email: Option<String>,
    /// With `+country` prefix outside mainland China.
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub open_id: Option<String>,
}

/// The whole file; logins compare case-insensitively, as GitHub's do.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    entries: IndexMap<String, MappingEntry>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FeishuError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text).map_err(|message| FeishuError::File {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Mapping::default());
        }
        let raw: IndexMap<String, MappingEntry> =
            serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = IndexMap::new();
        for (login, e) in raw {
            if e.email.is_none() && e.mobile.is_none() && e.open_id.is_none() {
                return Err(format!(
                    "`{login}` has none of email, mobile, open_id: give one or remove the entry"
                ));
            }
            if let Some(id) = &e.open_id
                && !id.starts_with("ou_")
            {
                return Err(format!(
                    "`{login}`: open_id `{id}` should start with `ou_` (user ids and union ids are not open_ids)"
                ));
            }
            if entries.insert(login.to_ascii_lowercase(), e).is_some() {
                return Err(format!("`{login}` appears twice (logins ignore case)"));
            }
        }
        Ok(Mapping { entries })
    }

    pub fn get(&self, login: &str) -> Option<&MappingEntry> {
        self.entries.get(&login.to_ascii_lowercase())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &MappingEntry)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_and_refuses_empty_entries() {
        let m = Mapping::parse("Alice: { email: a@x }\nbob: { open_id: ou_1 }\n").unwrap();
        assert_eq!(m.get("alice").unwrap().email.as_deref(), Some("a@x"));
        assert_eq!(m.len(), 2);
        assert!(Mapping::parse("a: {}\n").unwrap_err().contains("none of"));
        assert!(
            Mapping::parse("a: { open_id: u_1 }\n")
                .unwrap_err()
                .contains("ou_")
        );
        assert!(Mapping::parse("a: { mail: x }\n").is_err());
        assert!(Mapping::parse("a: {email: x}\nA: {email: y}\n").is_err());
    }
}
