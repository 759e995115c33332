//! age identities (where sops looks for them), data key wrapping, and `keygen`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::Serialize;
use zeroize::Zeroizing;

use super::cipher::DataKey;
use super::meta::AgeKey;
use super::{Result, SecretsError};

/// Where identities come from. Built from the environment at the edge
/// ([`IdentitySources::from_env`]); tests and the demo pass explicit values.
#[derive(Debug, Clone, Default)]
pub struct IdentitySources {
    /// `SOPS_AGE_KEY`: one or more `AGE-SECRET-KEY-…` lines.
    pub key: Option<SecretString>,
    /// Identity files: the inventory's `age_key_file`, `SOPS_AGE_KEY_FILE`.
    pub files: Vec<PathBuf>,
    /// `<config dir>/sops/age/keys.txt`, read only if it exists.
    pub default_file: Option<PathBuf>,
}

impl IdentitySources {
    /// Just these files.
    pub fn files(files: impl IntoIterator<Item = PathBuf>) -> Self {
        IdentitySources {
            files: files.into_iter().collect(),
            ..Self::default()
        }
    }

    /// `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE` and `~/.config/sops/age/keys.txt` (Go's
    /// `os.UserConfigDir`: `$XDG_CONFIG_HOME` or `~/.config` on Linux), plus `extra_file`
    /// (the inventory's `age_key_file`) first.
    pub fn from_env(extra_file: Option<PathBuf>) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut files: Vec<PathBuf> = extra_file.into_iter().collect();
        if let Some(f) = var("SOPS_AGE_KEY_FILE") {
            files.push(PathBuf::from(f));
        }
        let config = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")));
        IdentitySources {
            key: var("SOPS_AGE_KEY").map(SecretString::from),
            files,
            default_file: config.map(|c| c.join("sops").join("age").join("keys.txt")),
        }
    }

    /// Loads every identity. A named file that is missing or unreadable is an error;
    /// the default file is skipped when absent.
    pub fn load(&self) -> Result<Identities> {
        let mut ids = Identities::default();
        if let Some(k) = &self.key {
            ids.add_text(k.expose_secret(), "SOPS_AGE_KEY")?;
        }
        for f in &self.files {
            let text =
                Zeroizing::new(
                    std::fs::read_to_string(f).map_err(|source| SecretsError::Io {
                        path: f.clone(),
                        source,
                    })?,
                );
            ids.add_text(&text, &f.display().to_string())?;
        }
        if let Some(f) = &self.default_file
            && let Ok(text) = std::fs::read_to_string(f)
        {
            let text = Zeroizing::new(text);
            ids.add_text(&text, &f.display().to_string())?;
        }
        Ok(ids)
    }
}

/// Loaded age identities (X25519). Never printed.
#[derive(Default, Clone)]
pub struct Identities {
    keys: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identities({} keys, [REDACTED])", self.keys.len())
    }
}

impl Identities {
    /// Lines starting with `#` and empty lines are skipped, as sops and age do.
    pub fn add_text(&mut self, text: &str, source: &str) -> Result<()> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id = age::x25519::Identity::from_str(line).map_err(|e| {
                SecretsError::Config(format!(
                    "{source}: line {}: not an age identity ({e})",
                    i + 1
                ))
            })?;
            self.keys.push(id);
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The public keys (`age1…`) of these identities.
    pub fn recipients(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.to_public().to_string())
            .collect()
    }

    /// Unwraps the data key from any of the file's age entries.
    pub fn unwrap(&self, age: &[AgeKey]) -> Result<DataKey> {
        let none = || {
            SecretsError::NoIdentity(
                age.iter()
                    .map(|k| k.recipient.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        if self.keys.is_empty() {
            return Err(none());
        }
        let mine = self.recipients();
        // Entries for my own public keys first: most files then unwrap on the first try.
        let mut order: Vec<&AgeKey> = age.iter().filter(|k| mine.contains(&k.recipient)).collect();
        order.extend(age.iter().filter(|k| !mine.contains(&k.recipient)));
        for entry in order {
            if let Some(k) = self.try_unwrap(&entry.enc) {
                return Ok(k);
            }
        }
        Err(none())
    }

    fn try_unwrap(&self, enc: &str) -> Option<DataKey> {
        let reader = age::armor::ArmoredReader::new(enc.as_bytes());
        let dec = age::Decryptor::new(reader).ok()?;
        let mut r = dec
            .decrypt(self.keys.iter().map(|k| k as &dyn age::Identity))
            .ok()?;
        let mut buf = Zeroizing::new(Vec::new());
        r.read_to_end(&mut buf).ok()?;
        DataKey::from_slice(&buf)
    }
}

/// Parses an `age1…` X25519 recipient.
pub fn parse_recipient(s: &str) -> Result<age::x25519::Recipient> {
    age::x25519::Recipient::from_str(s.trim()).map_err(|e| {
        SecretsError::Config(format!(
            "`{}` is not an age X25519 recipient (age1…): {e}",
            s.trim()
        ))
    })
}

/// Wraps the data key for one recipient: an ASCII-armored age file (sops `MasterKey.Encrypt`).
pub fn wrap(key: &DataKey, recipient: &str) -> Result<AgeKey> {
    let r = parse_recipient(recipient)?;
    let io = |e: std::io::Error| SecretsError::Format(format!("age encryption failed: {e}"));
    let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        .map_err(|e| SecretsError::Format(format!("age encryption failed: {e}")))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(io)?;
    let mut w = enc.wrap_output(armor).map_err(io)?;
    w.write_all(key.bytes()).map_err(io)?;
    w.finish()
        .and_then(age::armor::ArmoredWriter::finish)
        .map_err(io)?;
    let mut enc = String::from_utf8(out)
        .map_err(|_| SecretsError::Format("age armor is not UTF-8".to_owned()))?;
    if !enc.ends_with('\n') {
        enc.push('\n');
    }
    Ok(AgeKey {
        recipient: recipient.trim().to_owned(),
        enc,
    })
}

/// A new identity, as `age-keygen` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct Keygen {
    /// Where the identity was written; `None` when printed on stdout.
    pub file: Option<PathBuf>,
    pub public_key: String,
    pub created: String,
}

/// Generates an identity: the file text (`# created:`, `# public key:`, the secret key) and
/// its public key. The text is secret.
pub fn generate(now: jiff::Timestamp) -> (Zeroizing<String>, Keygen) {
    let id = age::x25519::Identity::generate();
    let public_key = id.to_public().to_string();
    let created = jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string();
    let text = Zeroizing::new(format!(
        "# created: {created}\n# public key: {public_key}\n{}\n",
        id.to_string().expose_secret()
    ));
    (
        text,
        Keygen {
            file: None,
            public_key,
            created,
        },
    )
}

/// Writes a fresh identity to `path` with mode 0600 (refuses to overwrite).
pub fn keygen_to_file(path: &Path, now: jiff::Timestamp) -> Result<Keygen> {
    let (text, mut info) = generate(now);
    let io = |source| SecretsError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    info.file = Some(path.to_path_buf());
    Ok(info)
}
