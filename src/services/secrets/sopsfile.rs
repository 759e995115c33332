//! A SOPS file: decrypt with the MAC verified, encrypt with the IV stash, the MAC itself
//! (sops.go `Tree.Encrypt`/`Tree.Decrypt`, cmd/sops/common).

use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::cipher::{self, DataKey, IvStash, Plain};
use super::formats::{self, Format};
use super::keys::{self, Identities};
use super::meta::{Metadata, Rules, Selector};
use super::tree::{Branches, MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError};

/// `MACOnlyEncryptedInitialization` from sops.go.
const MAC_ONLY_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// An encrypted file as read from disk: documents (values still `ENC[…]`) and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct SopsFile {
    pub format: Format,
    pub docs: Vec<Node>,
    pub meta: Metadata,
}

/// Plaintext documents and the IVs they were encrypted with. Wiped on drop.
#[derive(Debug, Default)]
pub struct Decrypted {
    pub docs: Branches,
    pub stash: IvStash,
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

fn mac_hasher(mac_only: bool) -> Sha512 {
    let mut h = Sha512::new();
    if mac_only {
        h.update(MAC_ONLY_INIT);
    }
    h
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

struct Walk<'a> {
    key: &'a DataKey,
    sel: Selector,
    mac_only: bool,
    hash: Sha512,
}

impl Walk<'_> {
    fn feed(&mut self, s: &Scalar, encrypted: bool) {
        if (!self.mac_only || encrypted)
            && let Some(b) = s.to_bytes()
        {
            let b = Zeroizing::new(b);
            self.hash.update(&b[..]);
        }
    }

    fn decrypt(&mut self, n: &Node, path: &mut Vec<String>, stash: &mut IvStash) -> Result<Node> {
        Ok(match n {
            Node::Map(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(match it {
                        MapItem::Comment(c) => MapItem::Comment(self.comment(c, path, stash)?),
                        MapItem::Pair(k, v) => {
                            path.push(k.clone());
                            let v = self.decrypt(v, path, stash);
                            path.pop();
                            MapItem::Pair(k.clone(), v?)
                        }
                    });
                }
                Node::Map(out)
            }
            Node::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(match it {
                        SeqItem::Comment(c) => SeqItem::Comment(self.comment(c, path, stash)?),
                        SeqItem::Value(v) => SeqItem::Value(self.decrypt(v, path, stash)?),
                    });
                }
                Node::Seq(out)
            }
            Node::Scalar(s) => {
                let enc = self.sel.should_encrypt(path);
                let plain = match s {
                    Scalar::Str(t) if enc && !t.is_empty() => {
                        match cipher::decrypt(
                            self.key,
                            t,
                            &aad(path),
                            Some(stash),
                            &path.join("."),
                        )? {
                            Plain::Value(v) => v,
                            Plain::Comment(_) => {
                                return Err(SecretsError::Format(format!(
                                    "value at `{}` has type comment",
                                    path.join(".")
                                )));
                            }
                        }
                    }
                    Scalar::Null | Scalar::Str(_) => s.clone(),
                    _ if enc => {
                        return Err(SecretsError::Format(format!(
                            "value at `{}` should be encrypted but is not",
                            path.join(".")
                        )));
                    }
                    _ => s.clone(),
                };
                self.feed(&plain, enc);
                Node::Scalar(plain)
            }
        })
    }

    fn comment(&mut self, c: &str, path: &[String], stash: &mut IvStash) -> Result<String> {
        if self.sel.should_encrypt(path) && cipher::is_encrypted(c) {
            match cipher::decrypt(
                self.key,
                c,
                &aad(path),
                Some(stash),
                &format!("{}#", path.join(".")),
            )? {
                Plain::Comment(c) => Ok(c),
                Plain::Value(_) => Err(SecretsError::Format(
                    "a comment has a value type".to_owned(),
                )),
            }
        } else {
            Ok(c.to_owned())
        }
    }

    fn encrypt(
        &mut self,
        n: &Node,
        path: &mut Vec<String>,
        stash: Option<&IvStash>,
    ) -> Result<Node> {
        Ok(match n {
            Node::Map(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(match it {
                        MapItem::Comment(c) => MapItem::Comment(self.enc_comment(c, path, stash)?),
                        MapItem::Pair(k, v) => {
                            path.push(k.clone());
                            let v = self.encrypt(v, path, stash);
                            path.pop();
                            MapItem::Pair(k.clone(), v?)
                        }
                    });
                }
                Node::Map(out)
            }
            Node::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(match it {
                        SeqItem::Comment(c) => SeqItem::Comment(self.enc_comment(c, path, stash)?),
                        SeqItem::Value(v) => SeqItem::Value(self.encrypt(v, path, stash)?),
                    });
                }
                Node::Seq(out)
            }
            Node::Scalar(s) => {
                let enc = self.sel.should_encrypt(path);
                self.feed(s, enc);
                if enc && *s != Scalar::Null {
                    Node::Scalar(Scalar::Str(cipher::encrypt(
                        self.key,
                        &Plain::Value(s.clone()),
                        &aad(path),
                        stash,
                    )?))
                } else {
                    Node::Scalar(s.clone())
                }
            }
        })
    }

    fn enc_comment(&self, c: &str, path: &[String], stash: Option<&IvStash>) -> Result<String> {
        if self.sel.should_encrypt(path) {
            cipher::encrypt(self.key, &Plain::Comment(c.to_owned()), &aad(path), stash)
        } else {
            Ok(c.to_owned())
        }
    }
}

impl SopsFile {
    /// Parses an encrypted file (metadata required).
    pub fn parse(text: &str, format: Format) -> Result<SopsFile> {
        let docs = formats::parse(text, format)?;
        let (docs, meta) = formats::split_metadata(docs, format)?;
        Ok(SopsFile { format, docs, meta })
    }

    /// The file's text.
    pub fn render(&self) -> String {
        formats::emit(
            &formats::join_metadata(&self.docs, &self.meta, self.format),
            self.format,
        )
    }

    /// Refuses to write files with key sources shipdeck cannot re-wrap.
    pub fn check_writable(&self) -> Result<()> {
        if self.meta.foreign.is_empty() {
            Ok(())
        } else {
            Err(SecretsError::Unsupported(format!(
                "this file also uses {}; shipdeck only handles age keys: use sops for it",
                self.meta.foreign.join(", ")
            )))
        }
    }

    /// Unwraps the data key with the given identities.
    pub fn data_key(&self, ids: &Identities) -> Result<DataKey> {
        ids.unwrap(&self.meta.age)
    }

    /// Decrypts every value and verifies the MAC.
    pub fn decrypt(&self, key: &DataKey) -> Result<Decrypted> {
        let mut walk = Walk {
            key,
            sel: self.meta.rules.compile()?,
            mac_only: self.meta.mac_only_encrypted,
            hash: mac_hasher(self.meta.mac_only_encrypted),
        };
        let mut out = Decrypted::default();
        for d in &self.docs {
            let n = walk.decrypt(d, &mut Vec::new(), &mut out.stash)?;
            out.docs.0.push(n);
        }
        let computed = hex_upper(&walk.hash.finalize());
        let stored = match cipher::decrypt(
            key,
            &self.meta.mac,
            &self.meta.lastmodified,
            None,
            "sops.mac",
        ) {
            Ok(Plain::Value(Scalar::Str(s))) => s,
            Ok(_) => return Err(SecretsError::Format("sops.mac is not a string".to_owned())),
            // A MAC that does not authenticate under its lastmodified means the metadata changed.
            Err(SecretsError::Authentication(_)) => return Err(SecretsError::MacMismatch),
            Err(e) => return Err(e),
        };
        if stored != computed {
            return Err(SecretsError::MacMismatch);
        }
        Ok(out)
    }
}

/// What goes into a file besides its values.
#[derive(Debug, Clone)]
pub struct Encryption<'a> {
    pub rules: &'a Rules,
    pub mac_only_encrypted: bool,
    /// RFC 3339, seconds: the MAC's additional data.
    pub lastmodified: String,
}

/// sops's `lastmodified` for now: UTC, whole seconds.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// Encrypts plaintext documents with `key`, reusing IVs from `stash`; returns the documents and
/// the encrypted MAC.
pub fn encrypt_docs(
    plain: &[Node],
    key: &DataKey,
    how: &Encryption<'_>,
    stash: Option<&IvStash>,
) -> Result<(Vec<Node>, String)> {
    let mut walk = Walk {
        key,
        sel: how.rules.compile()?,
        mac_only: how.mac_only_encrypted,
        hash: mac_hasher(how.mac_only_encrypted),
    };
    let mut docs = Vec::new();
    for d in plain {
        docs.push(walk.encrypt(d, &mut Vec::new(), stash)?);
    }
    let mac = hex_upper(&walk.hash.finalize());
    let mac = cipher::encrypt(
        key,
        &Plain::Value(Scalar::Str(mac)),
        &how.lastmodified,
        stash,
    )?;
    Ok((docs, mac))
}

/// Builds a complete file: values encrypted, the key wrapped for every recipient.
pub fn seal(
    format: Format,
    plain: &[Node],
    key: &DataKey,
    recipients: &[String],
    how: &Encryption<'_>,
    stash: Option<&IvStash>,
) -> Result<SopsFile> {
    if recipients.is_empty() {
        return Err(SecretsError::Config("no age recipients".to_owned()));
    }
    formats::check_plain(plain, format)?;
    let (docs, mac) = encrypt_docs(plain, key, how, stash)?;
    let age = recipients
        .iter()
        .map(|r| keys::wrap(key, r))
        .collect::<Result<Vec<_>>>()?;
    Ok(SopsFile {
        format,
        docs,
        meta: Metadata {
            age,
            lastmodified: how.lastmodified.clone(),
            mac,
            rules: how.rules.clone(),
            mac_only_encrypted: how.mac_only_encrypted,
            version: super::meta::FORMAT_VERSION.to_owned(),
            foreign: Vec::new(),
        },
    })
}

/// Encrypts plaintext file content for new recipients (`sops encrypt`).
pub fn encrypt_text(
    plain_text: &str,
    format: Format,
    recipients: &[String],
    rules: &Rules,
    mac_only_encrypted: bool,
    lastmodified: Option<String>,
) -> Result<String> {
    let docs = Branches(formats::parse(plain_text, format)?);
    let key = DataKey::generate();
    let rules = rules.clone().or_default();
    let how = Encryption {
        rules: &rules,
        mac_only_encrypted,
        lastmodified: lastmodified.unwrap_or_else(now_rfc3339),
    };
    let file = seal(format, &docs.0, &key, recipients, &how, None)?;
    Ok(file.render())
}

/// Decrypts file content to plaintext text (`sops decrypt`), MAC verified.
pub fn decrypt_text(text: &str, format: Format, ids: &Identities) -> Result<Zeroizing<String>> {
    let file = SopsFile::parse(text, format)?;
    let key = file.data_key(ids)?;
    let plain = file.decrypt(&key)?;
    Ok(Zeroizing::new(formats::emit(&plain.docs.0, format)))
}
