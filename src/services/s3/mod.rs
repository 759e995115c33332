//! An S3-compatible object store (TOS, MinIO, AWS S3): ListObjectsV2 under a prefix, with
//! delimiter and continuation-token pagination, for the artifacts gate and backup freshness.
//!
//! `rusty-s3` builds and SigV4-signs the requests and parses the listings; it does no IO, so
//! the requests go out through the `reqwest` the other clients use (one TLS stack, the same
//! connect and request timeouts). Requests are presigned URLs (the signature in the query),
//! which is what rusty-s3 signs; every error drops the URL so a signature is never shown.

mod reads;
mod summary;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use reads::{BackupRead, artifacts, backups, sha_of};
pub use summary::{BackupAge, PrefixSummary, age_word, backup_age};

/// Default bound on connecting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default bound on one request, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// A listing longer than this many pages is cut short (and says so): 1,000 keys a page.
pub const MAX_PAGES: u32 = 200;

/// What can go wrong reading the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    #[error("{section}.endpoint `{}` is not an http:// or https:// URL with a host", crate::redact::url(.endpoint))]
    BadEndpoint { section: String, endpoint: String },
    #[error("{section}.{key} names `{var}`, which is not set (nor in {section}.secret_file)")]
    MissingCredentials {
        section: String,
        key: &'static str,
        var: String,
    },
    /// 403: the store refused who we are (wrong keys, clock skew, no permission).
    #[error(
        "the store at {endpoint} refused the listing of s3://{bucket} (HTTP 403, {code}): {message}; {hint}"
    )]
    Denied {
        endpoint: String,
        bucket: String,
        code: String,
        message: String,
        hint: String,
    },
    #[error("the store at {endpoint} has no bucket `{bucket}` (HTTP 404, {code})")]
    NoBucket {
        endpoint: String,
        bucket: String,
        code: String,
    },
    #[error("the store at {endpoint} answered HTTP {status} ({code}): {message}")]
    Status {
        endpoint: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("the store at {endpoint} is unreachable: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("the store at {endpoint} did not answer within {secs} s")]
    Timeout { endpoint: String, secs: u64 },
    #[error("the store at {endpoint} sent a listing that does not parse: {reason}")]
    BadListing { endpoint: String, reason: String },
}

pub type Result<T> = std::result::Result<T, S3Error>;

/// The key pair, resolved from the env vars the inventory names.
#[derive(Clone)]
struct Keys {
    access: String,
    secret: SecretString,
    /// The variables' names, for a 403's hint.
    vars: (String, String),
}

/// A client for one bucket.
#[derive(Clone)]
pub struct S3Client {
    http: reqwest::Client,
    bucket: rusty_s3::Bucket,
    keys: Option<Keys>,
    /// The endpoint without credentials, for messages.
    shown: String,
    request: Duration,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("endpoint", &self.shown)
            .field("bucket", &self.bucket.name())
            .field("signed", &self.keys.is_some())
            .finish_non_exhaustive()
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
    pub last_modified: Option<jiff::Timestamp>,
}

/// A whole listing (every page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub objects: Vec<Object>,
    /// With a delimiter: the "folders" one level down.
    pub common_prefixes: Vec<String>,
    /// How many requests it took.
    pub requests: u32,
    /// It stopped at [`MAX_PAGES`] with more to come.
    pub cut_short: bool,
}

impl S3Client {
    /// A client for `store`; `section` names it in messages (`artifacts`, `backups`). The
    /// keys come from the variables it names, else from its `secret_file` (resolved against
    /// `base_dir`, the inventory's folder).
    pub fn new(
        section: &str,
        store: &crate::inventory::S3Store,
        base_dir: &std::path::Path,
    ) -> Result<Self> {
        let file = store
            .secret_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(base_dir.join(f)).ok())
            .unwrap_or_default();
        let keys = match (&store.access_key_env, &store.secret_key_env) {
            (Some(a), Some(s)) => {
                let read = |key: &'static str, var: &str| {
                    std::env::var(var)
                        .ok()
                        .filter(|v| !v.trim().is_empty())
                        .or_else(|| from_file(&file, var))
                        .ok_or_else(|| S3Error::MissingCredentials {
                            section: section.to_owned(),
                            key,
                            var: var.to_owned(),
                        })
                };
                Some(Keys {
                    access: read("access_key_env", a)?,
                    secret: SecretString::from(read("secret_key_env", s)?),
                    vars: (a.clone(), s.clone()),
                })
            }
            _ => None,
        };
        Self::with_keys(section, store, keys)
    }

    /// A client with the key pair given directly (the sandbox, tests).
    pub fn with_credentials(
        section: &str,
        store: &crate::inventory::S3Store,
        access: &str,
        secret: &str,
    ) -> Result<Self> {
        let keys = Keys {
            access: access.to_owned(),
            secret: SecretString::from(secret.to_owned()),
            vars: ("the access key".to_owned(), "the secret key".to_owned()),
        };
        Self::with_keys(section, store, Some(keys))
    }

    fn with_keys(
        section: &str,
        store: &crate::inventory::S3Store,
        keys: Option<Keys>,
    ) -> Result<Self> {
        let bad = || S3Error::BadEndpoint {
            section: section.to_owned(),
            endpoint: store.endpoint.clone(),
        };
        let endpoint: reqwest::Url = store.endpoint.trim().parse().map_err(|_| bad())?;
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(bad());
        }
        let bucket = rusty_s3::Bucket::new(
            endpoint,
            rusty_s3::UrlStyle::Path,
            store.bucket.clone(),
            store.region().to_owned(),
        )
        .map_err(|_| bad())?;
        let connect = store
            .connect_timeout_secs
            .map_or(CONNECT_TIMEOUT, Duration::from_secs)
            .max(Duration::from_secs(1));
        let request = store
            .timeout_secs
            .map_or(REQUEST_TIMEOUT, Duration::from_secs)
            .max(Duration::from_secs(1));
        // reqwest with rustls and no bundled provider: install ring once, or building panics.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("shipdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect)
            .timeout(request)
            .build()
            .map_err(|e| S3Error::Unreachable {
                endpoint: crate::redact::url(&store.endpoint),
                reason: e.without_url().to_string(),
            })?;
        Ok(S3Client {
            http,
            bucket,
            keys,
            shown: crate::redact::url(store.endpoint.trim().trim_end_matches('/')),
            request,
        })
    }

    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    pub fn endpoint(&self) -> &str {
        &self.shown
    }

    /// Every object under `prefix` (with `delimiter`, only one level, the rest as common
    /// prefixes), `page_size` keys a request (the store's own default, 1,000, when `None`).
    pub async fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_size: Option<usize>,
    ) -> Result<Listing> {
        let mut out = Listing::default();
        let mut token: Option<String> = None;
        loop {
            if out.requests >= MAX_PAGES {
                out.cut_short = true;
                return Ok(out);
            }
            let url = self.page_url(prefix, delimiter, page_size, token.as_deref());
            out.requests += 1;
            let body = self.get(url).await?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&body).map_err(|e| {
                S3Error::BadListing {
                    endpoint: self.shown.clone(),
                    reason: e.to_string(),
                }
            })?;
            for c in page.contents {
                out.objects.push(Object {
                    last_modified: c.last_modified.as_deref().and_then(|t| t.parse().ok()),
                    size: c.size.unwrap_or(0),
                    key: c.key,
                });
            }
            out.common_prefixes
                .extend(page.common_prefixes.into_iter().map(|p| p.prefix));
            match page.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    fn page_url(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_size: Option<usize>,
        token: Option<&str>,
    ) -> reqwest::Url {
        use rusty_s3::S3Action as _;
        let creds = self
            .keys
            .as_ref()
            .map(|k| rusty_s3::Credentials::new(k.access.clone(), k.secret.expose_secret()));
        let mut action = self.bucket.list_objects_v2(creds.as_ref());
        action.with_prefix(prefix);
        if let Some(d) = delimiter {
            action.with_delimiter(d);
        }
        if let Some(n) = page_size {
            action.with_max_keys(n);
        }
        if let Some(t) = token {
            action.with_continuation_token(t);
        }
        // Valid a little longer than a request may take: a signature that outlives its use
        // by minutes is one that a leaked log line could replay.
        action.sign(self.request + Duration::from_secs(30))
    }

    async fn get(&self, url: reqwest::Url) -> Result<String> {
        let resp = self.http.get(url).send().await.map_err(|e| self.io(&e))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| self.io(&e))?;
        if status.is_success() {
            return Ok(body);
        }
        let (code, message) = error_of(&body);
        Err(match status.as_u16() {
            403 => S3Error::Denied {
                endpoint: self.shown.clone(),
                bucket: self.bucket.name().to_owned(),
                hint: match &self.keys {
                    Some(k) if code == "SignatureDoesNotMatch" => format!(
                        "the secret key does not match the access key; check {}",
                        k.vars.1
                    ),
                    Some(k) if code == "InvalidAccessKeyId" => {
                        format!(
                            "the store does not know this access key; check {}",
                            k.vars.0
                        )
                    }
                    Some(k) => format!(
                        "check the keys in {} and {} and the bucket's policy",
                        k.vars.0, k.vars.1
                    ),
                    None => "the requests are unsigned: name access_key_env and secret_key_env"
                        .to_owned(),
                },
                code,
                message,
            },
            404 => S3Error::NoBucket {
                endpoint: self.shown.clone(),
                bucket: self.bucket.name().to_owned(),
                code,
            },
            s => S3Error::Status {
                endpoint: self.shown.clone(),
                status: s,
                code,
                message,
            },
        })
    }

    fn io(&self, e: &reqwest::Error) -> S3Error {
        if e.is_timeout() {
            S3Error::Timeout {
                endpoint: self.shown.clone(),
                secs: self.request.as_secs(),
            }
        } else {
            // The URL carries the signature: never in a message.
            let mut reason = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                reason = s.to_string();
                src = s.source();
            }
            S3Error::Unreachable {
                endpoint: self.shown.clone(),
                reason: crate::redact::text(&reason),
            }
        }
    }
}

/// The value of `var` in `NAME=value` lines (`#` comments, `export`, quotes allowed).
fn from_file(text: &str, var: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        if k.trim() != var {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(v);
        (!v.is_empty()).then(|| v.to_owned())
    })
}

/// The `<Code>` and `<Message>` of an S3 error body (both empty when it has none).
fn error_of(body: &str) -> (String, String) {
    let field = |tag: &str| {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        body.find(&open)
            .and_then(|a| {
                let rest = &body[a + open.len()..];
                rest.find(&close).map(|b| rest[..b].trim().to_owned())
            })
            .unwrap_or_default()
    };
    let code = field("Code");
    let message: String = field("Message").chars().take(200).collect();
    (
        if code.is_empty() {
            "no error code".to_owned()
        } else {
            code
        },
        if message.is_empty() {
            "no message".to_owned()
        } else {
            message
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_give_code_and_message() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
            <Message>The request signature we calculated does not match</Message></Error>";
        assert_eq!(
            error_of(body),
            (
                "SignatureDoesNotMatch".to_owned(),
                "The request signature we calculated does not match".to_owned()
            )
        );
        assert_eq!(
            error_of(""),
            ("no error code".to_owned(), "no message".to_owned())
        );
    }
}
