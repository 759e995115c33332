//! An HTTP(S)-style remote that wants a token: git's own smart-HTTP server (`git http-backend`,
//! run as CGI behind a small axum front on 127.0.0.1) with basic auth, reached by the real
//! binary with the token from the env var the inventory names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::{World, remote_file, remote_main};

const TOKEN: &str = "ghp_sandboxToken0123456789";
const TOKEN_ENV: &str = "SHIPDECK_TEST_GITOPS_TOKEN";

/// Serves `root` over smart HTTP, demanding `x-access-token:TOKEN` by basic auth.
struct GitHttp {
    url: String,
    server: tokio::task::JoinHandle<()>,
    _runtime: tokio::runtime::Runtime,
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    let want = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .is_some_and(|got| got == want)
}

/// One CGI call of `git http-backend`; its `Status:` and other headers become the response's.
fn cgi(root: &Path, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .env("REQUEST_METHOD", method.as_str())
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or(""))
        .env(
            "CONTENT_TYPE",
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        )
        .env("CONTENT_LENGTH", body.len().to_string())
        // With a user set, http-backend allows pushes (receive-pack).
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("`git http-backend` must be installed for this test");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body).unwrap();
    let out = child.wait_with_output().unwrap();
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        })
        .expect("CGI headers");
    let head = String::from_utf8_lossy(&out.stdout[..split.0]).into_owned();
    let mut status = StatusCode::OK;
    let mut resp_headers = HeaderMap::new();
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            status = v
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        } else if let (Ok(name), Ok(value)) = (
            header::HeaderName::try_from(k.trim()),
            header::HeaderValue::try_from(v),
        ) {
            resp_headers.insert(name, value);
        }
    }
    let body = out.stdout[split.0 + split.1..].to_vec();
    (status, resp_headers, body).into_response()
}

impl GitHttp {
    fn start(root: PathBuf) -> GitHttp {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let root = root.clone();
                async move {
                    if !authorized(&headers) {
                        return (
                            StatusCode::UNAUTHORIZED,
                            [(header::WWW_AUTHENTICATE, "Basic realm=\"gitops\"")],
                            "401 Unauthorized",
                        )
                            .into_response();
                    }
                    tokio::task::spawn_blocking(move || cgi(&root, &method, &uri, &headers, &body))
                        .await
                        .unwrap()
                }
            },
        );
        let server = runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        GitHttp {
            url: format!("http://127.0.0.1:{port}/gitops.git"),
            server,
            _runtime: runtime,
        }
    }
}

fn with_token_env(w: &World, url: &str) {
    let text = super::inventory_text(url).replace(
        "  branch: main\n",
        &format!("  branch: main\n  token_env: {TOKEN_ENV}\n"),
    );
    std::fs::write(&w.inventory_path, text).unwrap();
}

fn shipdeck(w: &World, token: Option<&str>, args: &[&str]) -> Output {
    let home = w.dir.path().join("cli-home");
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    c.arg("--inventory")
        .arg(&w.inventory_path)
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env("SHIPDECK_LOG", "trace")
        // No credential helper or askpass from the developer's machine may answer instead.
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", w.dir.path().join("no-gitconfig"))
        .env("HOME", &home)
        .env_remove("GITOPS_REPO_DIR")
        .env_remove(TOKEN_ENV)
        .stdin(Stdio::null());
    if let Some(t) = token {
        c.env(TOKEN_ENV, t);
    }
    c.output().unwrap()
}

fn release(tag: &str) -> Vec<&str> {
    vec![
        "release",
        "miker-web",
        "--env",
        "dev",
        "--tag",
        tag,
        "--yes",
        "--output",
        "json",
    ]
}

#[test]
fn a_token_from_the_named_env_var_pushes_over_http() {
    let w = World::new();
    let server = GitHttp::start(w.dir.path().to_path_buf());
    with_token_env(&w, &server.url);
    let o = shipdeck(&w, Some(TOKEN), &release("abc1234"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        remote_file(w.bare(), "apps/miker-web/overlays/dev/kustomization.yaml")
            .contains("newTag: abc1234")
    );
    // The token is a secret: not on stdout or stderr, not in the trace log.
    let logs = w.dir.path().join("cli-home/state");
    let mut seen = String::from_utf8_lossy(&o.stdout).into_owned();
    seen.push_str(&String::from_utf8_lossy(&o.stderr));
    for f in walk(&logs) {
        seen.push_str(&std::fs::read_to_string(f).unwrap_or_default());
    }
    assert!(!seen.contains(TOKEN), "the token leaked");
}

#[test]
fn a_wrong_or_missing_token_is_a_clear_error_and_the_remote_is_untouched() {
    let w = World::new();
    let server = GitHttp::start(w.dir.path().to_path_buf());
    with_token_env(&w, &server.url);
    let head = remote_main(w.bare());
    for token in [Some("ghp_wrong"), None] {
        let o = shipdeck(&w, token, &release("abc1234"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "remote error exit code: {err}");
        let why = if token.is_some() {
            format!(
                "authentication failed: the remote rejected the credentials (the token in `{TOKEN_ENV}`)"
            )
        } else {
            format!("authentication needed: `{TOKEN_ENV}` (gitops.token_env) is not set")
        };
        assert!(err.contains(&why), "says why: {err}");
        assert!(!err.contains("ghp_wrong"), "no token in the message: {err}");
        assert_eq!(remote_main(w.bare()), head, "remote untouched");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
