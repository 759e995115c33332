//! The `sops` metadata block (sops `stores/stores.go`), read from and written to the tree,
//! and the rules that decide which values are encrypted (`Tree.shouldBeEncrypted`).

use serde::Serialize;

use super::tree::{MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError};

/// One age recipient and the data key wrapped for it (an ASCII-armored age file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

/// Which values are encrypted. sops allows at most one of these per file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rules {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unencrypted_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unencrypted_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unencrypted_comment_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_comment_regex: Option<String>,
}

/// sops's default when no rule is given.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

impl Rules {
    fn fields(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("unencrypted_suffix", &self.unencrypted_suffix),
            ("encrypted_suffix", &self.encrypted_suffix),
            ("unencrypted_regex", &self.unencrypted_regex),
            ("encrypted_regex", &self.encrypted_regex),
            ("unencrypted_comment_regex", &self.unencrypted_comment_regex),
            ("encrypted_comment_regex", &self.encrypted_comment_regex),
        ]
    }

    fn set(&mut self, name: &str, v: String) -> bool {
        let slot = match name {
            "unencrypted_suffix" => &mut self.unencrypted_suffix,
            "encrypted_suffix" => &mut self.encrypted_suffix,
            "unencrypted_regex" => &mut self.unencrypted_regex,
            "encrypted_regex" => &mut self.encrypted_regex,
            "unencrypted_comment_regex" => &mut self.unencrypted_comment_regex,
            "encrypted_comment_regex" => &mut self.encrypted_comment_regex,
            _ => return false,
        };
        *slot = Some(v);
        true
    }

    /// The rules of a new file: sops writes `unencrypted_suffix: _unencrypted` when none is set.
    #[must_use]
    pub fn or_default(mut self) -> Self {
        if self.fields().iter().all(|(_, v)| v.is_none()) {
            self.unencrypted_suffix = Some(DEFAULT_UNENCRYPTED_SUFFIX.to_owned());
        }
        self
    }

    /// Checks "one per file" and compiles the regexes.
    pub fn compile(&self) -> Result<Selector> {
        let set: Vec<&str> = self
            .fields()
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(n, _)| *n)
            .collect();
        if set.len() > 1 {
            return Err(SecretsError::Config(format!(
                "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex (found {})",
                set.join(", ")
            )));
        }
        if self.unencrypted_comment_regex.is_some() || self.encrypted_comment_regex.is_some() {
            return Err(SecretsError::Unsupported(
                "encrypted_comment_regex / unencrypted_comment_regex are not supported by shipdeck; use sops for this file".to_owned(),
            ));
        }
        let re = |r: &Option<String>, name: &str| -> Result<Option<regex::Regex>> {
            r.as_deref()
                .map(|r| {
                    regex::Regex::new(r)
                        .map_err(|e| SecretsError::Config(format!("bad {name} `{r}`: {e}")))
                })
                .transpose()
        };
        Ok(Selector {
            unencrypted_suffix: self.unencrypted_suffix.clone(),
            encrypted_suffix: self.encrypted_suffix.clone(),
            unencrypted_regex: re(&self.unencrypted_regex, "unencrypted_regex")?,
            encrypted_regex: re(&self.encrypted_regex, "encrypted_regex")?,
        })
    }
}

/// Compiled [`Rules`].
#[derive(Debug, Clone)]
pub struct Selector {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<regex::Regex>,
    encrypted_regex: Option<regex::Regex>,
}

impl Selector {
    /// Whether the value (or comment) under this path of mapping keys is encrypted.
    /// Any key on the path counts, as in sops.
    pub fn should_encrypt(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(s) = &self.unencrypted_suffix
            && path.iter().any(|k| k.ends_with(s.as_str()))
        {
            encrypted = false;
        }
        if let Some(s) = &self.encrypted_suffix {
            encrypted = path.iter().any(|k| k.ends_with(s.as_str()));
        }
        if let Some(r) = &self.unencrypted_regex
            && path.iter().any(|k| r.is_match(k))
        {
            encrypted = false;
        }
        if let Some(r) = &self.encrypted_regex {
            encrypted = path.iter().any(|k| r.is_match(k));
        }
        encrypted
    }
}

/// The metadata of a SOPS file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub age: Vec<AgeKey>,
    /// Exactly as written in the file: it is the additional data of the MAC.
    pub lastmodified: String,
    pub mac: String,
    pub rules: Rules,
    pub mac_only_encrypted: bool,
    pub version: String,
    /// Key sources shipdeck does not handle (`pgp`, `kms`, …), present in the file.
    pub foreign: Vec<String>,
}

/// The version written into files shipdeck writes: the sops format it implements.
pub const FORMAT_VERSION: &str = "3.11.0";

const FOREIGN: &[&str] = &["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp"];

fn text(n: &Node) -> Option<String> {
    match n {
        Node::Scalar(Scalar::Str(s) | Scalar::Time(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        Node::Scalar(Scalar::Float(f)) => Some(super::tree::go_format_float(*f)),
        Node::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn age_list(n: &Node) -> Result<Vec<AgeKey>> {
    let Node::Seq(items) = n else {
        return Err(SecretsError::Format("sops.age is not a list".to_owned()));
    };
    let mut out = Vec::new();
    for item in items {
        if let SeqItem::Value(v) = item {
            let recipient = v.get("recipient").and_then(text);
            let enc = v.get("enc").and_then(text);
            match (recipient, enc) {
                (Some(recipient), Some(enc)) => out.push(AgeKey { recipient, enc }),
                _ => {
                    return Err(SecretsError::Format(
                        "sops.age entry without recipient/enc".to_owned(),
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn non_empty(n: &Node) -> bool {
    match n {
        Node::Seq(s) => s.iter().any(|i| matches!(i, SeqItem::Value(_))),
        Node::Map(m) => !m.is_empty(),
        Node::Scalar(Scalar::Null) => false,
        Node::Scalar(_) => true,
    }
}

impl Metadata {
    /// Reads the `sops` mapping of a YAML or JSON document.
    #[allow(clippy::many_single_char_names)]
    pub fn from_node(n: &Node) -> Result<Metadata> {
        let Node::Map(items) = n else {
            return Err(SecretsError::Format(
                "the `sops` key is not a mapping".to_owned(),
            ));
        };
        let mut m = Metadata::default();
        for item in items {
            let MapItem::Pair(k, v) = item else { continue };
            match k.as_str() {
                "age" => m.age = age_list(v)?,
                "lastmodified" => m.lastmodified = text(v).unwrap_or_default(),
                "mac" => m.mac = text(v).unwrap_or_default(),
                "version" => m.version = text(v).unwrap_or_default(),
                "mac_only_encrypted" => {
                    m.mac_only_encrypted = matches!(v, Node::Scalar(Scalar::Bool(true)));
                }
                "key_groups" => {
                    let Node::Seq(groups) = v else { continue };
                    let groups: Vec<&Node> = groups
                        .iter()
                        .filter_map(|g| match g {
                            SeqItem::Value(g) => Some(g),
                            SeqItem::Comment(_) => None,
                        })
                        .collect();
                    if groups.len() > 1 {
                        m.foreign
                            .push("key_groups (several groups / Shamir)".to_owned());
                    }
                    for g in groups {
                        let Node::Map(gi) = g else { continue };
                        for gitem in gi {
                            if let MapItem::Pair(gk, gv) = gitem {
                                if gk == "age" {
                                    m.age.extend(age_list(gv)?);
                                } else if non_empty(gv) {
                                    m.foreign.push(gk.clone());
                                }
                            }
                        }
                    }
                }
                "shamir_threshold" => {}
                other if FOREIGN.contains(&other) => {
                    if non_empty(v) {
                        m.foreign.push(other.to_owned());
                    }
                }
                other => {
                    if let Some(t) = text(v) {
                        m.rules.set(other, t);
                    }
                }
            }
        }
        if m.mac.is_empty() || m.lastmodified.is_empty() {
            return Err(SecretsError::Format(
                "sops metadata has no mac or lastmodified".to_owned(),
            ));
        }
        Ok(m)
    }

    /// The `sops` mapping in sops's field order.
    pub fn to_node(&self) -> Node {
        let mut items = Vec::new();
        let age: Vec<SeqItem> = self
            .age
            .iter()
            .map(|k| {
                SeqItem::Value(Node::Map(vec![
                    MapItem::Pair("recipient".to_owned(), Node::str(&k.recipient)),
                    MapItem::Pair("enc".to_owned(), Node::str(&k.enc)),
                ]))
            })
            .collect();
        items.push(MapItem::Pair("age".to_owned(), Node::Seq(age)));
        items.push(MapItem::Pair(
            "lastmodified".to_owned(),
            Node::str(&self.lastmodified),
        ));
        items.push(MapItem::Pair("mac".to_owned(), Node::str(&self.mac)));
        for (name, v) in self.rules.fields() {
            if let Some(v) = v {
                items.push(MapItem::Pair(name.to_owned(), Node::str(v)));
            }
        }
        if self.mac_only_encrypted {
            items.push(MapItem::Pair(
                "mac_only_encrypted".to_owned(),
                Node::Scalar(Scalar::Bool(true)),
            ));
        }
        items.push(MapItem::Pair(
            "version".to_owned(),
            Node::str(&self.version),
        ));
        Node::Map(items)
    }

    /// Reads dotenv's flattened `sops_…` keys (`MetadataFlattenFull`).
    pub fn from_flat(pairs: &[(String, String)]) -> Result<Metadata> {
        let mut m = Metadata::default();
        let mut age: std::collections::BTreeMap<usize, (Option<String>, Option<String>)> =
            std::collections::BTreeMap::new();
        for (k, v) in pairs {
            let k = k.strip_prefix("sops_").unwrap_or(k);
            if let Some(rest) = k.strip_prefix("age__list_") {
                let (idx, field) = rest.split_once("__map_").ok_or_else(|| {
                    SecretsError::Format(format!("bad dotenv metadata key sops_{k}"))
                })?;
                let idx: usize = idx.parse().map_err(|_| {
                    SecretsError::Format(format!("bad dotenv metadata key sops_{k}"))
                })?;
                let e = age.entry(idx).or_default();
                match field {
                    "recipient" => e.0 = Some(v.clone()),
                    "enc" => e.1 = Some(v.clone()),
                    _ => {}
                }
                continue;
            }
            match k {
                "lastmodified" => m.lastmodified.clone_from(v),
                "mac" => m.mac.clone_from(v),
                "version" => m.version.clone_from(v),
                "mac_only_encrypted" => m.mac_only_encrypted = v == "true",
                "shamir_threshold" => {}
                other => {
                    let head = other.split("__").next().unwrap_or(other);
                    if FOREIGN.contains(&head) || head == "key_groups" {
                        if !m.foreign.iter().any(|f| f == head) {
                            m.foreign.push(head.to_owned());
                        }
                    } else {
                        m.rules.set(other, v.clone());
                    }
                }
            }
        }
        for (_, (r, e)) in age {
            match (r, e) {
                (Some(recipient), Some(enc)) => m.age.push(AgeKey { recipient, enc }),
                _ => {
                    return Err(SecretsError::Format(
                        "dotenv sops_age entry without recipient/enc".to_owned(),
                    ));
                }
            }
        }
        if m.mac.is_empty() || m.lastmodified.is_empty() {
            return Err(SecretsError::Format(
                "sops metadata has no mac or lastmodified".to_owned(),
            ));
        }
        Ok(m)
    }

    /// dotenv's flattened keys, sorted as sops writes them.
    pub fn to_flat(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, k) in self.age.iter().enumerate() {
            out.push((format!("sops_age__list_{i}__map_enc"), k.enc.clone()));
            out.push((
                format!("sops_age__list_{i}__map_recipient"),
                k.recipient.clone(),
            ));
        }
        out.push(("sops_lastmodified".to_owned(), self.lastmodified.clone()));
        out.push(("sops_mac".to_owned(), self.mac.clone()));
        for (name, v) in self.rules.fields() {
            if let Some(v) = v {
                out.push((format!("sops_{name}"), v.clone()));
            }
        }
        if self.mac_only_encrypted {
            out.push(("sops_mac_only_encrypted".to_owned(), "true".to_owned()));
        }
        out.push(("sops_version".to_owned(), self.version.clone()));
        out.sort();
        out
    }

    pub fn recipients(&self) -> Vec<String> {
        self.age.iter().map(|k| k.recipient.clone()).collect()
    }
}
