//! The one way shipdeck talks to GitHub: octocrab's raw request API (`build_request` +
//! `execute`), which hands back the status, the headers and the body untouched. That is what
//! conditional requests need (a 304 is an answer, not an error; the `ETag`, `Link` and
//! `x-ratelimit-*` headers are read by the caller) and what GraphQL needs for its own
//! rate-limit waits. The REST gates ([`super::rest`]) and the team reads of the Feishu member
//! sync both go through here.
//!
//! Choices, each for a reason:
//! - octocrab's own retry layer is off: a 403/429 must surface as "rate limited until T" (REST)
//!   or be waited out by the caller's bounded loop (GraphQL), never slept through inside a
//!   request.
//! - Requests carry absolute URLs and octocrab's base URI is only the API's origin, so a REST
//!   base with a path (`https://HOST/api/v3`) and GraphQL beside it (`https://HOST/api/graphql`)
//!   both reach the URL asked for, unchanged.
//! - The token is not given to octocrab's builder (it parses it into an unmarked header and
//!   panics on a character a header cannot hold). Each request gets its own `Authorization`
//!   header marked sensitive, and only for the API's own host: a `Link` or redirect elsewhere
//!   gets no credentials.
//! - The octocrab instance is built on the first request, not in [`GithubClient::new`]: octocrab
//!   spawns its request buffer's worker on the current Tokio runtime, so building it needs one,
//!   and the services that hold a client are created in plain functions too.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use http::{Method, StatusCode, Uri};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};

/// Longest a request may take from connect to the last byte of the body.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{0}")]
    Octocrab(#[source] octocrab::Error),
    #[error("no complete answer within {}s", .0.as_secs())]
    Timeout(Duration),
    /// The connect timeout fired: TCP, or the TLS handshake on top of it, did not finish.
    #[error("no connection within {}s (the TCP or TLS handshake did not finish)", .0.as_secs())]
    ConnectTimeout(Duration),
}

/// Whether the request failed while connecting (hyper's client says `client error (Connect)`;
/// its error type is not ours to name, so its words are read).
fn connecting(e: &octocrab::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains("(Connect)") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Whether an octocrab error comes from a timeout below it (the connector's).
fn timed_out(e: &octocrab::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Why a client could not be set up, or a request not be sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("the API URL `{0}` must start with http:// or https://")]
    BadUrl(String),
    #[error("the GitHub token contains characters not allowed in a header")]
    BadToken,
    #[error("cannot reach {url_shown}: {source}", url_shown = crate::redact::url(url))]
    Transport {
        url: String,
        #[source]
        source: TransportError,
    },
}

/// A whole answer: status, headers and body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// An octocrab client for one GitHub API host.
#[derive(Clone)]
pub(crate) struct GithubClient {
    /// Built on first use (see the module notes); clones share it.
    octo: Arc<OnceLock<Octocrab>>,
    /// `scheme://host[:port]` of the API, without a trailing slash.
    origin: String,
    token: Option<SecretString>,
    /// Connecting, and one whole exchange (headers and body).
    timeouts: (Duration, Duration),
}

impl std::fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubClient")
            .field("origin", &self.origin)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

/// `scheme://authority` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    Some(format!("{scheme}://{}", uri.authority()?))
}

impl GithubClient {
    /// The inventory's `github.connect_timeout_secs` / `github.timeout_secs`, when given.
    #[must_use]
    pub(crate) fn with_timeouts(mut self, connect: Option<u64>, total: Option<u64>) -> Self {
        if let Some(c) = connect {
            self.timeouts.0 = Duration::from_secs(c.max(1));
        }
        if let Some(t) = total {
            self.timeouts.1 = Duration::from_secs(t.max(1));
        }
        self
    }

    /// A client for the API at `api_url` (any URL on that host: the REST base, the GraphQL
    /// endpoint).
    pub(crate) fn new(api_url: &str, token: Option<SecretString>) -> Result<Self, ClientError> {
        let url = api_url.trim_end_matches('/');
        let origin = origin_of(url).ok_or_else(|| ClientError::BadUrl(url.to_owned()))?;
        Ok(GithubClient {
            octo: Arc::new(OnceLock::new()),
            origin,
            token,
            timeouts: (CONNECT_TIMEOUT, TOTAL_TIMEOUT),
        })
    }

    /// Whether requests carry a token.
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The octocrab instance, built on the first call (inside the runtime that sends).
    fn octocrab(&self) -> Result<&Octocrab, octocrab::Error> {
        if let Some(o) = self.octo.get() {
            return Ok(o);
        }
        // octocrab's rustls uses the process default provider when one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let built = Octocrab::builder()
            .base_uri(self.origin.as_str())?
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(self.timeouts.0))
            .set_read_timeout(Some(self.timeouts.1))
            .build()?;
        // A concurrent first request may have won: either instance is as good.
        Ok(self.octo.get_or_init(|| built))
    }

    /// A GET of `url` with `headers` added (e.g. `If-None-Match`).
    pub(crate) async fn get(&self, url: &str, headers: HeaderMap) -> Result<Answer, ClientError> {
        self.send(Method::GET, url, headers, None).await
    }

    /// A POST of a JSON body to `url`.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, ClientError> {
        self.send(Method::POST, url, HeaderMap::new(), Some(body))
            .await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: HeaderMap,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ClientError> {
        let transport = |source| ClientError::Transport {
            url: url.to_owned(),
            source,
        };
        let mut builder = http::Request::builder().method(method).uri(url);
        if let Some(h) = builder.headers_mut() {
            h.insert(
                ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            );
            h.extend(headers);
            if let Some(auth) = self.authorization(url)? {
                h.insert(AUTHORIZATION, auth);
            }
        }
        let octo = self
            .octocrab()
            .map_err(|e| transport(TransportError::Octocrab(e)))?;
        let request = octo
            .build_request(builder, body)
            .map_err(|e| transport(TransportError::Octocrab(e)))?;
        let exchange = async {
            let resp = octo.execute(request).await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            // JSON is UTF-8; a body that is not comes back as an error.
            let body = octo.body_to_string(resp).await?.into_bytes();
            Ok::<_, octocrab::Error>(Answer {
                status,
                headers,
                body,
            })
        };
        let total = self.timeouts.1;
        match tokio::time::timeout(total, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) if timed_out(&e) && connecting(&e) => {
                Err(transport(TransportError::ConnectTimeout(self.timeouts.0)))
            }
            Ok(Err(e)) if timed_out(&e) => Err(transport(TransportError::Timeout(total))),
            Ok(Err(e)) => Err(transport(TransportError::Octocrab(e))),
            Err(_) => Err(transport(TransportError::Timeout(total))),
        }
    }

    /// `Bearer <token>`, marked sensitive, for URLs on the API's own host only.
    fn authorization(&self, url: &str) -> Result<Option<HeaderValue>, ClientError> {
        let Some(token) = &self.token else {
            return Ok(None);
        };
        if origin_of(url).as_deref() != Some(self.origin.as_str()) {
            return Ok(None);
        }
        let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| ClientError::BadToken)?;
        v.set_sensitive(true);
        Ok(Some(v))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://ghe.corp.example/api/v3").as_deref(),
            Some("https://ghe.corp.example")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("api.github.com"), None);
    }

    #[test]
    fn credentials_only_for_the_api_host() {
        let c = GithubClient::new(
            "https://ghe.corp.example/api/v3",
            Some(SecretString::from("t0ken")),
        )
        .unwrap();
        let own = c
            .authorization("https://ghe.corp.example/api/v3/repos/o/r?page=2")
            .unwrap()
            .unwrap();
        assert!(own.is_sensitive());
        assert_eq!(own.to_str().unwrap(), "Bearer t0ken");
        assert!(
            c.authorization("https://elsewhere.example/x")
                .unwrap()
                .is_none()
        );
        assert!(!format!("{c:?}").contains("t0ken"));
        let bad =
            GithubClient::new("http://127.0.0.1:1", Some(SecretString::from("a\nb"))).unwrap();
        assert!(matches!(
            bad.authorization("http://127.0.0.1:1/x"),
            Err(ClientError::BadToken)
        ));
    }
}
