//! The S3 client against a real S3 server (`s3s-fs`, which checks SigV4 presigned requests,
//! installed by .ci/run under target/tools) and against the sandbox's own stand-in: the same
//! writes and the same listings (prefix, delimiter, pagination) give the same answers from
//! both, and wrong keys give a 403 that says which key to check.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rusty_s3::S3Action as _;
use shipdeck::inventory::S3Store;
use shipdeck::sandbox::s3::S3Sandbox;
use shipdeck::services::s3::{Listing, PrefixSummary, S3Client, S3Error};

pub const ACCESS: &str = "AKIASHIPDECKTEST";
pub const SECRET: &str = "s3cr3t-shipdeck-test-key";
const REGION: &str = "cn-beijing";
const DEADLINE: Duration = Duration::from_secs(30);

/// `s3s-fs`: `$SHIPDECK_S3S_FS`, else target/tools/bin/s3s-fs where .ci/run installs it.
fn binary() -> PathBuf {
    let bin = std::env::var_os("SHIPDECK_S3S_FS")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/s3s-fs"),
            PathBuf::from,
        );
    assert!(
        bin.is_file(),
        "the real S3 server `s3s-fs` is not at {}: these tests run one. Install it with \
         `cargo install --locked s3s-fs@0.14.1 --features binary --root target/tools` (.ci/run does)",
        bin.display()
    );
    bin
}

/// An `s3s-fs` process on a free port of 127.0.0.1, killed when dropped.
pub struct RealS3 {
    child: std::process::Child,
    pub url: String,
    /// The objects' folder (a backup's age is its file's mtime).
    pub root: tempfile::TempDir,
    logs: tempfile::TempDir,
}

impl Drop for RealS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealS3 {
    pub async fn start() -> RealS3 {
        let bin = binary();
        let root = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let logs = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(logs.path().join("s3s-fs.log")).unwrap();
        let child = std::process::Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS, "--secret-key", SECRET])
            .arg(root.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let s = RealS3 {
            child,
            url: format!("http://127.0.0.1:{port}"),
            root,
            logs,
        };
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < DEADLINE,
                "s3s-fs did not listen on {} within {DEADLINE:?}; its log:\n{}",
                s.url,
                std::fs::read_to_string(s.logs.path().join("s3s-fs.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        s
    }
}

pub fn store(endpoint: &str, bucket: &str) -> S3Store {
    S3Store {
        endpoint: endpoint.to_owned(),
        bucket: bucket.to_owned(),
        region: Some(REGION.to_owned()),
        access_key_env: None,
        secret_key_env: None,
        secret_file: None,
        connect_timeout_secs: Some(2),
        timeout_secs: Some(10),
    }
}

/// Makes the bucket and writes `objects` (key, size) through signed S3 requests.
pub async fn write(endpoint: &str, bucket: &str, objects: &[(&str, usize)]) {
    let b = rusty_s3::Bucket::new(
        endpoint.parse().unwrap(),
        rusty_s3::UrlStyle::Path,
        bucket.to_owned(),
        REGION,
    )
    .unwrap();
    let creds = rusty_s3::Credentials::new(ACCESS, SECRET);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = b.create_bucket(&creds).sign(Duration::from_secs(60));
    let r = http.put(url).send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    // A second write into the same bucket finds it there.
    assert!(
        status.is_success() || body.contains("BucketAlready"),
        "create bucket: {status} {body}"
    );
    for (key, size) in objects {
        let url = b
            .put_object(Some(&creds), key)
            .sign(Duration::from_secs(60));
        let r = http.put(url).body(vec![b'x'; *size]).send().await.unwrap();
        let status = r.status();
        assert!(
            status.is_success(),
            "put {key}: {status} {}",
            r.text().await.unwrap()
        );
    }
}

const OBJECTS: [(&str, usize); 6] = [
    ("miker/staging/abc1234/miker-web.tar.gz", 4096),
    ("miker/staging/abc1234/sbom.json", 300),
    ("miker/staging/abc1234/reports/trivy.json", 120),
    ("miker/staging/abc1234/reports/gitleaks.json", 80),
    ("miker/staging/def5678/miker-web.tar.gz", 4000),
    ("shared-svc/stg/backup/2026-12-06.sql.gz", 999),
];

/// What a listing says, without the server's timestamps and request counts.
fn shape(l: &Listing) -> (Vec<(String, u64)>, Vec<String>) {
    (
        l.objects.iter().map(|o| (o.key.clone(), o.size)).collect(),
        l.common_prefixes.clone(),
    )
}

/// The listings the gate and the backup check make, on one server.
async fn listings(c: &S3Client) -> Vec<(Vec<(String, u64)>, Vec<String>, u32)> {
    let mut out = Vec::new();
    for (prefix, delim, page) in [
        ("miker/staging/abc1234/", None, Some(2)),
        ("miker/staging/abc1234/", None, None),
        ("miker/staging/", Some("/"), Some(1)),
        ("miker/staging/abc1234/", Some("/"), Some(2)),
        ("miker/staging/0000000/", None, None),
        ("", None, Some(4)),
    ] {
        let l = c.list(prefix, delim, page).await.unwrap();
        assert!(l.objects.iter().all(|o| o.last_modified.is_some()), "{l:?}");
        let (objects, prefixes) = shape(&l);
        out.push((objects, prefixes, l.requests));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_listings_from_a_real_s3_server_and_the_sandbox() {
    let real = RealS3::start().await;
    let sandbox = S3Sandbox::start(ACCESS, SECRET, REGION).await.unwrap();
    write(&real.url, "tos-builds", &OBJECTS).await;
    write(sandbox.url(), "tos-builds", &OBJECTS).await;
    let from_real = listings(
        &S3Client::with_credentials("artifacts", &store(&real.url, "tos-builds"), ACCESS, SECRET)
            .unwrap(),
    )
    .await;
    let from_sandbox = listings(
        &S3Client::with_credentials(
            "artifacts",
            &store(sandbox.url(), "tos-builds"),
            ACCESS,
            SECRET,
        )
        .unwrap(),
    )
    .await;
    assert_eq!(from_real, from_sandbox);
    // And what they agree on is right: four objects in pages of two, one level with the
    // delimiter, nothing for an unknown build.
    let (objects, prefixes, requests) = &from_real[0];
    assert_eq!(objects.len(), 4);
    assert!(prefixes.is_empty());
    assert_eq!(*requests, 2);
    assert_eq!(
        from_real[2].1,
        ["miker/staging/abc1234/", "miker/staging/def5678/"]
    );
    assert_eq!(from_real[2].2, 2, "one prefix a page");
    assert_eq!(from_real[3].0.len(), 2);
    assert_eq!(from_real[3].1, ["miker/staging/abc1234/reports/"]);
    assert!(from_real[4].0.is_empty());
    assert_eq!(from_real[5].0.len(), 6);
    let l =
        S3Client::with_credentials("artifacts", &store(&real.url, "tos-builds"), ACCESS, SECRET)
            .unwrap()
            .list("miker/staging/abc1234/", None, None)
            .await
            .unwrap();
    let s = PrefixSummary::of("tos-builds", "miker/staging/abc1234/", &l);
    assert_eq!((s.objects, s.bytes), (4, 4096 + 300 + 120 + 80));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_keys_get_a_403_that_names_what_to_check_from_both_servers() {
    let real = RealS3::start().await;
    let sandbox = S3Sandbox::start(ACCESS, SECRET, REGION).await.unwrap();
    write(&real.url, "tos-builds", &OBJECTS[..1]).await;
    write(sandbox.url(), "tos-builds", &OBJECTS[..1]).await;
    for url in [real.url.as_str(), sandbox.url()] {
        let wrong_secret =
            S3Client::with_credentials("artifacts", &store(url, "tos-builds"), ACCESS, "nope")
                .unwrap();
        let e = wrong_secret.list("miker/", None, None).await.unwrap_err();
        let S3Error::Denied { code, .. } = &e else {
            panic!("{url}: {e}")
        };
        assert_eq!(code, "SignatureDoesNotMatch", "{url}: {e}");
        let shown = e.to_string();
        assert!(shown.contains("HTTP 403"), "{shown}");
        assert!(shown.contains("the secret key does not match"), "{shown}");
        assert!(
            !shown.contains("nope") && !shown.contains(SECRET),
            "{shown}"
        );
        assert!(!shown.contains("X-Amz-Signature"), "{shown}");

        let wrong_key =
            S3Client::with_credentials("artifacts", &store(url, "tos-builds"), "AKIAWHO", SECRET)
                .unwrap();
        let e = wrong_key.list("miker/", None, None).await.unwrap_err();
        assert!(matches!(&e, S3Error::Denied { .. }), "{url}: {e}");
        assert!(e.to_string().contains("HTTP 403"), "{e}");

        let right =
            S3Client::with_credentials("artifacts", &store(url, "tos-builds"), ACCESS, SECRET)
                .unwrap();
        assert_eq!(
            right
                .list("miker/", None, None)
                .await
                .unwrap()
                .objects
                .len(),
            1
        );
        let e = S3Client::with_credentials("artifacts", &store(url, "no-such"), ACCESS, SECRET)
            .unwrap()
            .list("", None, None)
            .await
            .unwrap_err();
        assert!(matches!(e, S3Error::NoBucket { .. }), "{url}: {e}");
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_says_so_within_its_timeouts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = S3Client::with_credentials(
        "backups",
        &store(&format!("http://127.0.0.1:{port}"), "b"),
        ACCESS,
        SECRET,
    )
    .unwrap();
    let t = Instant::now();
    let e = c.list("", None, None).await.unwrap_err();
    assert!(matches!(e, S3Error::Unreachable { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(!e.to_string().contains("X-Amz"), "{e}");
}

/// S3 list latency and request counts against both servers (`--nocapture` prints them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_list_latency_on_both_servers() {
    let real = RealS3::start().await;
    let sandbox = S3Sandbox::start(ACCESS, SECRET, REGION).await.unwrap();
    let many: Vec<(String, usize)> = (0..250)
        .map(|i| (format!("miker/staging/abc1234/part-{i:04}.bin"), 16))
        .collect();
    let many: Vec<(&str, usize)> = many.iter().map(|(k, s)| (k.as_str(), *s)).collect();
    write(&real.url, "tos-builds", &many).await;
    write(sandbox.url(), "tos-builds", &many).await;
    for (name, url) in [("s3s-fs", real.url.as_str()), ("sandbox", sandbox.url())] {
        let c = S3Client::with_credentials("artifacts", &store(url, "tos-builds"), ACCESS, SECRET)
            .unwrap();
        for page in [None, Some(100)] {
            let mut times = Vec::new();
            let mut requests = 0;
            for _ in 0..10 {
                let t = Instant::now();
                let l = c.list("miker/staging/abc1234/", None, page).await.unwrap();
                times.push(t.elapsed());
                assert_eq!(l.objects.len(), 250);
                requests = l.requests;
            }
            times.sort();
            println!(
                "s3 list {name:8} 250 objects page={:>4}: {requests} request(s), median {:?}, max {:?}",
                page.unwrap_or(1000),
                times[times.len() / 2],
                times[times.len() - 1]
            );
        }
    }
    sandbox.shutdown().await;
}
