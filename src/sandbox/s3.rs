//! An S3 stand-in (the demo's TOS): path-style buckets in memory, `PUT` bucket and object,
//! and `ListObjectsV2` with prefix, delimiter, max-keys and continuation tokens, in S3's XML.
//! Every request must carry a presigned SigV4 signature (the query-string form the client
//! sends) for the one key pair it was started with; the signature is recomputed with the
//! same signing code (rusty-s3's) and refused with S3's own 403 codes when it differs, has
//! expired, or names an unknown key.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Serving;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Obj {
    size: u64,
    modified: jiff::Timestamp,
}

type Buckets = BTreeMap<String, BTreeMap<String, Obj>>;

#[derive(Clone)]
struct Shared {
    buckets: Arc<Mutex<Buckets>>,
    access: String,
    secret: String,
    region: String,
    /// Requests answered (listings and writes), for the tests' counts.
    requests: Arc<std::sync::atomic::AtomicU64>,
}

/// The demo's key pair (the demo inventory names these variables; the demo writes their
/// values into its `tos-secrets.env`, so nothing goes through the process environment).
pub const DEMO_ACCESS_KEY: &str = "AKIASHIPDECKDEMO";
pub const DEMO_SECRET_KEY: &str = "shipdeck-demo-secret-not-a-real-one";
pub const DEMO_REGION: &str = "cn-beijing";
pub const DEMO_ARTIFACTS_BUCKET: &str = "miker-builds";
pub const DEMO_BACKUPS_BUCKET: &str = "miker-backups";

/// A handle that writes objects into a running stand-in (the demo's CI uploads a build's
/// artifacts through it, as the real pipeline's sync step does).
#[derive(Clone)]
pub struct S3Writer {
    buckets: Arc<Mutex<Buckets>>,
}

impl S3Writer {
    /// Stores an object, its bucket made if need be.
    pub fn put(&self, bucket: &str, key: &str, size: u64, modified: jiff::Timestamp) {
        lock(&self.buckets)
            .entry(bucket.to_owned())
            .or_default()
            .insert(key.to_owned(), Obj { size, modified });
    }

    /// A build's artifacts under the demo's prefix (`miker/staging/<sha>/`).
    pub fn put_build(&self, tag: &str, at: jiff::Timestamp) {
        for (name, size) in [
            ("miker-web.tar.gz", 48_213_337),
            ("miker-api.tar.gz", 31_002_114),
            ("sbom.spdx.json", 412_880),
        ] {
            self.put(
                DEMO_ARTIFACTS_BUCKET,
                &format!("miker/staging/{tag}/{name}"),
                size,
                at,
            );
        }
    }

    /// The demo's seed: artifacts for `tags` (but not for `bare`, to show a missing gate),
    /// and daily backups for each env, prod's last one 30 hours old (stale past 26h).
    pub fn seed_demo(&self, tags: &[&str], envs: &[&str]) {
        let now = jiff::Timestamp::now();
        let hours = |h: i64| now - jiff::SignedDuration::from_hours(h);
        for (i, tag) in tags.iter().enumerate() {
            self.put_build(tag, hours(24 - i64::try_from(i).unwrap_or(0)));
        }
        for env in envs {
            let newest = if *env == "prod" { 30 } else { 3 };
            for day in 0..5 {
                let at = hours(newest + 24 * day);
                let name = at
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .strftime("%Y-%m-%dT%H%M")
                    .to_string();
                self.put(
                    DEMO_BACKUPS_BUCKET,
                    &format!("shared-svc/{env}/backup/mysql-{name}.sql.gz"),
                    1_200_000_000 + 1_000 * u64::try_from(day).unwrap_or(0),
                    at,
                );
            }
        }
    }
}

/// The running stand-in.
pub struct S3Sandbox {
    addr: SocketAddr,
    url: String,
    shared: Shared,
    serving: Serving,
}

impl S3Sandbox {
    /// Starts on a free port of 127.0.0.1, accepting requests signed with this key pair.
    pub async fn start(access: &str, secret: &str, region: &str) -> std::io::Result<S3Sandbox> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            buckets: Arc::default(),
            access: access.to_owned(),
            secret: secret.to_owned(),
            region: region.to_owned(),
            requests: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/{bucket}", get(list).put(put_bucket))
            .route("/{bucket}/", get(list).put(put_bucket))
            .route("/{bucket}/{*key}", axum::routing::put(put_object))
            .with_state(shared.clone());
        Ok(S3Sandbox {
            addr,
            url: format!("http://{addr}"),
            shared,
            serving: Serving::start(listener, app, "s3"),
        })
    }

    /// The endpoint (the inventory's `artifacts.endpoint`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stores an object directly (seed data), its bucket made if need be.
    pub fn put(&self, bucket: &str, key: &str, size: u64, modified: jiff::Timestamp) {
        self.writer().put(bucket, key, size, modified);
    }

    pub fn writer(&self) -> S3Writer {
        S3Writer {
            buckets: self.shared.buckets.clone(),
        }
    }

    /// The demo inventory's `artifacts:` and `backups:` sections for this server.
    pub fn demo_inventory_section(&self) -> String {
        let common = format!(
            "  endpoint: {}\n  region: {DEMO_REGION}\n  access_key_env: SHIPDECK_DEMO_TOS_ACCESS_KEY\n  \
             secret_key_env: SHIPDECK_DEMO_TOS_SECRET_KEY\n  secret_file: tos-secrets.env\n",
            self.url
        );
        format!(
            "artifacts:\n{common}  bucket: {DEMO_ARTIFACTS_BUCKET}\n  prefix: \"miker/staging/{{sha}}/\"\n  required_in: [stg]\n\n\
             backups:\n{common}  bucket: {DEMO_BACKUPS_BUCKET}\n  prefix: \"shared-svc/{{env}}/backup/\"\n  max_age: 26h\n"
        )
    }

    /// Writes the key pair the demo inventory's `secret_file` names.
    pub fn write_demo_files(dir: &std::path::Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("tos-secrets.env");
        std::fs::write(
            &path,
            format!(
                "SHIPDECK_DEMO_TOS_ACCESS_KEY={DEMO_ACCESS_KEY}\nSHIPDECK_DEMO_TOS_SECRET_KEY={DEMO_SECRET_KEY}\n"
            ),
        )?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
    }

    /// How many requests it has answered.
    pub fn requests(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub async fn shutdown(self) {
        self.serving.shutdown().await;
    }
}

fn lock(m: &Mutex<Buckets>) -> std::sync::MutexGuard<'_, Buckets> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        xml(message)
    );
    (status, [("content-type", "application/xml")], body).into_response()
}

/// The query's pairs, percent-decoded.
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(v) = hex {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// S3's `encoding-type=url`: everything but unreserved characters and `/` as `%XX`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn get_param<'a>(ps: &'a [(String, String)], name: &str) -> Option<&'a str> {
    ps.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Checks the presigned signature of a request; `Err` is the 403 to send (a response is
/// large, and this runs once per request of a local stand-in: boxing it buys nothing).
#[allow(clippy::result_large_err)]
fn verify(
    s: &Shared,
    method: rusty_s3::Method,
    uri: &Uri,
    headers: &HeaderMap,
    ps: &[(String, String)],
) -> Result<(), Response> {
    let denied = |code: &str, msg: &str| Err(error(StatusCode::FORBIDDEN, code, msg));
    let (Some(cred), Some(date), Some(expires), Some(sig)) = (
        get_param(ps, "X-Amz-Credential"),
        get_param(ps, "X-Amz-Date"),
        get_param(ps, "X-Amz-Expires"),
        get_param(ps, "X-Amz-Signature"),
    ) else {
        return denied(
            "AccessDenied",
            "Anonymous access is not allowed; sign the request",
        );
    };
    let key = cred.split('/').next().unwrap_or("");
    if key != s.access {
        return denied(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        );
    }
    let Ok(when) = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", date)
        .and_then(|t| t.to_datetime())
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
    else {
        return denied("AccessDenied", "X-Amz-Date is not a date");
    };
    let Ok(expires) = expires.parse::<u64>() else {
        return denied("AccessDenied", "X-Amz-Expires is not a number");
    };
    let age = jiff::Timestamp::now().duration_since(when).as_secs();
    if age > i64::try_from(expires).unwrap_or(i64::MAX) {
        return denied("AccessDenied", "Request has expired");
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Ok(url) = reqwest::Url::parse(&format!("http://{host}{}", uri.path())) else {
        return denied("AccessDenied", "the request has no usable host");
    };
    let others: Vec<(&str, &str)> = ps
        .iter()
        .filter(|(k, _)| !k.starts_with("X-Amz-"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let expected = rusty_s3::signing::sign(
        &when,
        method,
        url,
        &s.access,
        &s.secret,
        get_param(ps, "X-Amz-Security-Token"),
        &s.region,
        expires,
        others.iter().copied(),
        std::iter::empty(),
    );
    let ours = expected
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if ours == sig {
        Ok(())
    } else {
        denied(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
    }
}

/// Counts the request and checks its signature; its query pairs when it may go on.
#[allow(clippy::result_large_err)]
fn admit(
    s: &Shared,
    method: rusty_s3::Method,
    uri: &Uri,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Result<Vec<(String, String)>, Response> {
    s.requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ps = pairs(raw);
    verify(s, method, uri, headers, &ps)?;
    Ok(ps)
}

async fn put_bucket(
    State(s): State<Shared>,
    Path(bucket): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = admit(&s, rusty_s3::Method::Put, &uri, &headers, raw.as_deref()) {
        return r;
    }
    lock(&s.buckets).entry(bucket).or_default();
    StatusCode::OK.into_response()
}

async fn put_object(
    State(s): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = admit(&s, rusty_s3::Method::Put, &uri, &headers, raw.as_deref()) {
        return r;
    }
    let mut buckets = lock(&s.buckets);
    let Some(objects) = buckets.get_mut(&bucket) else {
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    };
    objects.insert(
        key,
        Obj {
            size: body.len() as u64,
            modified: jiff::Timestamp::now(),
        },
    );
    StatusCode::OK.into_response()
}

/// One entry of a listing page.
enum Entry<'a> {
    Object(&'a str, &'a Obj),
    Prefix(String),
}

async fn list(
    State(s): State<Shared>,
    Path(bucket): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let ps = match admit(&s, rusty_s3::Method::Get, &uri, &headers, raw.as_deref()) {
        Ok(ps) => ps,
        Err(r) => return r,
    };
    if get_param(&ps, "list-type") != Some("2") {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "this sandbox serves ListObjectsV2 (list-type=2) only",
        );
    }
    let prefix = get_param(&ps, "prefix").unwrap_or("");
    let delimiter = get_param(&ps, "delimiter").filter(|d| !d.is_empty());
    let max_keys = get_param(&ps, "max-keys")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    // The token is the last key of the previous page, hex-encoded (opaque to the client).
    let after = get_param(&ps, "continuation-token")
        .map(unhex)
        .or_else(|| get_param(&ps, "start-after").map(str::to_owned))
        .unwrap_or_default();
    let url_encoded = get_param(&ps, "encoding-type") == Some("url");
    let buckets = lock(&s.buckets);
    let Some(objects) = buckets.get(&bucket) else {
        return error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    };
    let mut entries = Vec::new();
    let mut last = String::new();
    let mut truncated = false;
    let keys = objects
        .range::<str, _>((
            std::ops::Bound::Excluded(after.as_str()),
            std::ops::Bound::Unbounded,
        ))
        .filter(|(k, _)| k.starts_with(prefix));
    for (k, o) in keys {
        let folder = delimiter.and_then(|d| {
            k[prefix.len()..]
                .find(d)
                .map(|i| k[..prefix.len() + i + d.len()].to_owned())
        });
        // A key under the folder just listed adds nothing, but moves the token past it.
        if let (Some(f), Some(Entry::Prefix(p))) = (&folder, entries.last())
            && f == p
        {
            last.clone_from(k);
            continue;
        }
        if entries.len() == max_keys {
            truncated = true;
            break;
        }
        entries.push(match folder {
            Some(f) => Entry::Prefix(f),
            None => Entry::Object(k, o),
        });
        last.clone_from(k);
    }
    let shown = |k: &str| xml(&if url_encoded { encode(k) } else { k.to_owned() });
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    let _ = write!(
        body,
        "<Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
        xml(&bucket),
        shown(prefix),
        entries.len()
    );
    if let Some(d) = delimiter {
        let _ = write!(body, "<Delimiter>{}</Delimiter>", shown(d));
    }
    if url_encoded {
        body.push_str("<EncodingType>url</EncodingType>");
    }
    let _ = write!(body, "<IsTruncated>{truncated}</IsTruncated>");
    for e in &entries {
        let _ = match e {
            Entry::Object(k, o) => write!(
                body,
                "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>\"{:032x}\"</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                shown(k),
                o.modified.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                o.size,
                o.size
            ),
            Entry::Prefix(p) => write!(
                body,
                "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                shown(p)
            ),
        };
    }
    if truncated {
        let _ = write!(
            body,
            "<NextContinuationToken>{}</NextContinuationToken>",
            hex(&last)
        );
    }
    body.push_str("</ListBucketResult>");
    ([("content-type", "application/xml")], body).into_response()
}

fn hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_encodings_round_trip() {
        assert_eq!(unhex(&hex("a/b c+ü")), "a/b c+ü");
        assert_eq!(encode("a b/c+d"), "a%20b/c%2Bd");
        assert_eq!(decode("a%20b%2Fc%zz"), "a b/c%zz");
    }
}
