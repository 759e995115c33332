//! The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value encoding (sops `aes/cipher.go`):
//! AES-256-GCM with a 32-byte nonce, the path of the value as additional data.

use std::collections::HashMap;

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use super::tree::Scalar;
use super::{Result, SecretsError};

type Gcm = AesGcm<Aes256, U32>;

/// The 32-byte data key of a file. Zeroed on drop; never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl DataKey {
    /// 32 fresh random bytes (`GenerateDataKey`).
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut k[..]);
        DataKey(k)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(Zeroizing::new(arr)))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> Gcm {
        Gcm::new(GenericArray::from_slice(&self.0[..]))
    }
}

/// A decrypted leaf: a typed value, or a comment.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Value(Scalar),
    Comment(String),
}

impl Plain {
    fn bytes_and_type(&self) -> (Zeroizing<Vec<u8>>, &'static str) {
        match self {
            Plain::Value(s) => (
                Zeroizing::new(s.to_bytes().unwrap_or_default()),
                s.type_name(),
            ),
            Plain::Comment(c) => (Zeroizing::new(c.as_bytes().to_vec()), "comment"),
        }
    }
}

/// Whether a string has the `ENC[AES256_GCM,…]` shape.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,") && s.ends_with(']')
}

struct Parsed {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    kind: String,
}

fn parse(value: &str) -> Option<Parsed> {
    let body = value.strip_prefix("ENC[AES256_GCM,")?.strip_suffix(']')?;
    let mut data = None;
    let mut iv = None;
    let mut tag = None;
    let mut kind = None;
    for part in body.split(',') {
        let (k, v) = part.split_once(':')?;
        match k {
            "data" => data = Some(B64.decode(v).ok()?),
            "iv" => iv = Some(B64.decode(v).ok()?),
            "tag" => tag = Some(B64.decode(v).ok()?),
            "type" => kind = Some(v.to_owned()),
            _ => return None,
        }
    }
    let parsed = Parsed {
        data: data?,
        iv: iv?,
        tag: tag?,
        kind: kind?,
    };
    (parsed.iv.len() == 32 && parsed.tag.len() == 16).then_some(parsed)
}

/// Remembers the IV of every value decrypted, so re-encrypting an unchanged value with the
/// same key gives the same bytes (sops does the same to keep diffs small).
#[derive(Default)]
pub struct IvStash {
    map: HashMap<(String, &'static str, Vec<u8>), [u8; 32]>,
}

impl std::fmt::Debug for IvStash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IvStash({} entries)", self.map.len())
    }
}

impl Drop for IvStash {
    fn drop(&mut self) {
        for ((mut aad, _, mut bytes), _) in self.map.drain() {
            aad.zeroize();
            bytes.zeroize();
        }
    }
}

impl IvStash {
    fn remember(&mut self, aad: &str, kind: &'static str, bytes: &[u8], iv: &[u8]) {
        if let Ok(iv) = <[u8; 32]>::try_from(iv) {
            self.map.insert((aad.to_owned(), kind, bytes.to_vec()), iv);
        }
    }

    fn lookup(&self, aad: &str, kind: &'static str, bytes: &[u8]) -> Option<[u8; 32]> {
        self.map
            .get(&(aad.to_owned(), kind, bytes.to_vec()))
            .copied()
    }
}

/// Decrypts one `ENC[...]` string. `what` names the value in errors (a path, never a value).
pub fn decrypt(
    key: &DataKey,
    value: &str,
    aad: &str,
    stash: Option<&mut IvStash>,
    what: &str,
) -> Result<Plain> {
    let p = parse(value).ok_or_else(|| {
        SecretsError::Format(format!(
            "value at `{what}` is not a valid ENC[AES256_GCM,…] string"
        ))
    })?;
    let mut buf = Zeroizing::new(p.data.clone());
    key.cipher()
        .decrypt_in_place_detached(
            GenericArray::from_slice(&p.iv),
            aad.as_bytes(),
            &mut buf,
            GenericArray::from_slice(&p.tag),
        )
        .map_err(|_| SecretsError::Authentication(what.to_owned()))?;
    let text = || {
        String::from_utf8(buf.to_vec())
            .map_err(|_| SecretsError::Format(format!("value at `{what}` is not valid UTF-8")))
    };
    let bad = |t: &str| SecretsError::Format(format!("value at `{what}` is not a valid {t}"));
    let plain = match p.kind.as_str() {
        "str" | "bytes" => Plain::Value(Scalar::Str(text()?)),
        "comment" => Plain::Comment(text()?),
        "time" => Plain::Value(Scalar::Time(text()?)),
        "int" => Plain::Value(Scalar::Int(
            Zeroizing::new(text()?).parse().map_err(|_| bad("int"))?,
        )),
        "float" => Plain::Value(Scalar::Float(
            Zeroizing::new(text()?).parse().map_err(|_| bad("float"))?,
        )),
        "bool" => {
            let t = Zeroizing::new(text()?);
            Plain::Value(Scalar::Bool(match t.as_str() {
                "True" | "true" | "TRUE" | "t" | "T" | "1" => true,
                "False" | "false" | "FALSE" | "f" | "F" | "0" => false,
                _ => return Err(bad("bool")),
            }))
        }
        other => {
            return Err(SecretsError::Format(format!(
                "value at `{what}` has unknown type `{other}`"
            )));
        }
    };
    if let Some(stash) = stash {
        let (bytes, kind) = plain.bytes_and_type();
        stash.remember(aad, kind, &bytes, &p.iv);
    }
    Ok(plain)
}

/// Encrypts one value. Empty strings and comments stay empty, as sops leaves them.
pub fn encrypt(key: &DataKey, plain: &Plain, aad: &str, stash: Option<&IvStash>) -> Result<String> {
    let (bytes, kind) = plain.bytes_and_type();
    if bytes.is_empty() && matches!(plain, Plain::Comment(_) | Plain::Value(Scalar::Str(_))) {
        return Ok(String::new());
    }
    let iv = stash
        .and_then(|s| s.lookup(aad, kind, &bytes))
        .unwrap_or_else(|| {
            let mut iv = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut iv);
            iv
        });
    let mut buf = Zeroizing::new(bytes.to_vec());
    let tag = key
        .cipher()
        .encrypt_in_place_detached(GenericArray::from_slice(&iv), aad.as_bytes(), &mut buf)
        .map_err(|_| SecretsError::Format("AES-GCM encryption failed".to_owned()))?;
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        B64.encode(&buf[..]),
        B64.encode(iv),
        B64.encode(tag)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn decrypts_the_reference_sample_and_refuses_a_wrong_path() {
        // From the research notes: sops 3.11 output with a known data key.
        let key = DataKey::from_slice(
            &(0..32)
                .map(|i| {
                    u8::from_str_radix(
                        &"8b051f1a2ace6623f8690b2544877a958cc3118c8207d88889dc51ba51c4318a"
                            [i * 2..i * 2 + 2],
                        16,
                    )
                    .unwrap()
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let v = "ENC[AES256_GCM,data:saYTCug0Jw==,iv:pirD+Hvck1PfB6oNLoGbauQtW726e5FyevAg0v4LMdc=,tag:jiBPUaqI1j0Ohcr79wCozg==,type:str]";
        let p = decrypt(&key, v, "stringData:DB_PASSWORD:", None, "x").unwrap();
        assert_eq!(p, Plain::Value(Scalar::Str("hunter2".into())));
        assert!(matches!(
            decrypt(&key, v, "stringData:OTHER:", None, "x"),
            Err(SecretsError::Authentication(_))
        ));
    }

    #[test]
    fn stash_reuses_the_iv_of_an_unchanged_value() {
        let key = DataKey::generate();
        let plain = Plain::Value(Scalar::Int(5432));
        let a = encrypt(&key, &plain, "p:", None).unwrap();
        let mut stash = IvStash::default();
        decrypt(&key, &a, "p:", Some(&mut stash), "p").unwrap();
        assert_eq!(encrypt(&key, &plain, "p:", Some(&stash)).unwrap(), a);
        assert_ne!(encrypt(&key, &plain, "p:", None).unwrap(), a);
    }
}
