//! A GitHub REST reader that is kind to the API: conditional requests (a 304 costs no rate
//! limit), `Link` pagination, and a rate-limit state that stops asking until GitHub's reset
//! or `retry-after` has passed. Through octocrab's raw requests ([`super::client`]): its typed
//! calls neither send `If-None-Match` nor expose the `ETag`. GraphQL queries of the same API
//! go through here too, with their own rate-limit state (GitHub counts them apart).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::StatusCode;
use http::header::{HeaderMap, HeaderValue, IF_NONE_MATCH};
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::Serialize;

use super::client::{ClientError, GithubClient};
use super::{GithubError, Result};

/// What GitHub last said about our rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RateLimitState {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset: Option<Timestamp>,
    /// No request is sent before this instant (403/429, `retry-after`, or nothing remaining).
    pub limited_until: Option<Timestamp>,
}

impl RateLimitState {
    /// The instant we may ask again, if that is still in the future.
    pub fn blocked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.limited_until.filter(|t| *t > now)
    }
}

/// A body as received (or as cached, for a 304).
pub(crate) struct Page {
    pub body: Arc<Vec<u8>>,
    pub next: Option<String>,
    /// GitHub answered 304: the cached body still holds (and the request cost nothing).
    pub not_modified: bool,
}

#[derive(Clone)]
struct Cached {
    etag: String,
    body: Arc<Vec<u8>>,
    next: Option<String>,
}

pub(crate) struct Rest {
    client: GithubClient,
    base: String,
    /// The GraphQL endpoint beside the REST base.
    graphql: String,
    etags: Mutex<HashMap<String, Cached>>,
    rate: Mutex<RateLimitState>,
    /// GraphQL's limit is counted apart from REST's (`x-ratelimit-resource: graphql`).
    graphql_rate: Mutex<RateLimitState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Without a hint, a secondary limit is waited out for at least a minute (GitHub's advice).
const SECONDARY_DEFAULT_WAIT: SignedDuration = SignedDuration::from_secs(60);

impl Rest {
    pub(crate) fn new(
        base: &str,
        token: Option<SecretString>,
        timeouts: (Option<u64>, Option<u64>),
    ) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(GithubError::BadUrl(base));
        }
        let client = GithubClient::new(&base, token)
            .map_err(|e| from_client(e, &base))?
            .with_timeouts(timeouts.0, timeouts.1);
        // GitHub Enterprise serves REST at /api/v3 and GraphQL at /api/graphql.
        let graphql = match base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{base}/graphql"),
        };
        Ok(Rest {
            client,
            base,
            graphql,
            etags: Mutex::new(HashMap::new()),
            rate: Mutex::new(RateLimitState::default()),
            graphql_rate: Mutex::new(RateLimitState::default()),
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn rate(&self) -> RateLimitState {
        lock(&self.rate).clone()
    }

    /// What GitHub last said about the GraphQL limit (counted apart from REST's).
    pub(crate) fn graphql_rate(&self) -> RateLimitState {
        lock(&self.graphql_rate).clone()
    }

    /// Drops remembered entity tags of URLs that will not be asked again.
    pub(crate) fn forget(&self, matches: impl Fn(&str) -> bool) {
        lock(&self.etags).retain(|url, _| !matches(url));
    }

    /// One GET: conditional when we hold an entity tag for the URL.
    pub(crate) async fn get(&self, url: &str) -> Result<Page> {
        let now = Timestamp::now();
        if let Some(until) = lock(&self.rate).blocked_at(now) {
            return Err(GithubError::RateLimited { until });
        }
        // Keep the cached page we validate against: a concurrent `forget` (a fresh report for
        // the guard) may drop it from the map while this request is in flight.
        let cached = lock(&self.etags).get(url).cloned();
        let mut headers = HeaderMap::new();
        if let Some(v) = cached
            .as_ref()
            .and_then(|c| HeaderValue::from_str(&c.etag).ok())
        {
            headers.insert(IF_NONE_MATCH, v);
        }
        let answer = self
            .client
            .get(url, headers)
            .await
            .map_err(|e| from_client(e, url))?;
        let (status, headers, body) = (answer.status, answer.headers, answer.body);
        note_rate(&self.rate, &headers, status);
        if status == StatusCode::NOT_MODIFIED {
            if let Some(c) = &cached {
                tracing::debug!(url, "github 304, served from cache");
                return Ok(Page {
                    body: c.body.clone(),
                    next: c.next.clone(),
                    not_modified: true,
                });
            }
            return Err(GithubError::Api {
                status: 304,
                url: url.to_owned(),
                message: "304 without a cached body".to_owned(),
            });
        }
        if status.is_success() {
            let page = Page {
                body: Arc::new(body),
                next: next_link(&headers),
                not_modified: false,
            };
            if let Some(etag) = header_str(&headers, "etag") {
                lock(&self.etags).insert(
                    url.to_owned(),
                    Cached {
                        etag: etag.to_owned(),
                        body: page.body.clone(),
                        next: page.next.clone(),
                    },
                );
            }
            return Ok(page);
        }
        let message = error_message(&body);
        if let Some(until) = rate_limited(&self.rate, &headers, status, &message) {
            tracing::warn!(url, %until, "github rate limited");
            return Err(GithubError::RateLimited { until });
        }
        Err(match status {
            StatusCode::UNAUTHORIZED => GithubError::Unauthorized,
            _ => GithubError::Api {
                status: status.as_u16(),
                url: url.to_owned(),
                message,
            },
        })
    }

    /// Every page from `url` on, following `Link: rel="next"`.
    pub(crate) async fn get_all(&self, url: &str) -> Result<Vec<Arc<Vec<u8>>>> {
        let mut pages = Vec::new();
        let mut next = Some(url.to_owned());
        // A server that links in a circle must not keep us here forever.
        while let Some(u) = next.take() {
            if pages.len() >= 50 {
                break;
            }
            let page = self.get(&u).await?;
            pages.push(page.body);
            next = page.next;
        }
        Ok(pages)
    }

    /// One GraphQL query (a POST to the endpoint beside the REST base): its `data`. A 403/429
    /// or a `RATE_LIMITED` error is [`GithubError::RateLimited`] until GraphQL's own reset;
    /// without a token, GitHub's 401 says that one is needed.
    pub(crate) async fn graphql(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let url = self.graphql.as_str();
        let now = Timestamp::now();
        if let Some(until) = lock(&self.graphql_rate).blocked_at(now) {
            return Err(GithubError::RateLimited { until });
        }
        let body = serde_json::json!({ "query": query, "variables": variables });
        let answer = self
            .client
            .post_json(url, &body)
            .await
            .map_err(|e| from_client(e, url))?;
        let (status, headers, body) = (answer.status, answer.headers, answer.body);
        note_rate(&self.graphql_rate, &headers, status);
        if !status.is_success() {
            let message = error_message(&body);
            if let Some(until) = rate_limited(&self.graphql_rate, &headers, status, &message) {
                tracing::warn!(url, %until, "github graphql rate limited");
                return Err(GithubError::RateLimited { until });
            }
            return Err(match status {
                StatusCode::UNAUTHORIZED if !self.client.has_token() => GithubError::NeedsToken,
                StatusCode::UNAUTHORIZED => GithubError::Unauthorized,
                _ => GithubError::Api {
                    status: status.as_u16(),
                    url: url.to_owned(),
                    message,
                },
            });
        }
        let mut answer: serde_json::Value =
            serde_json::from_slice(&body).map_err(|source| GithubError::Payload {
                url: url.to_owned(),
                source,
            })?;
        let errors = answer
            .get("errors")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        if errors.iter().any(|e| e["type"] == "RATE_LIMITED") {
            let mut rate = lock(&self.graphql_rate);
            let until = rate
                .reset
                .filter(|r| *r > now)
                .unwrap_or(now + SECONDARY_DEFAULT_WAIT);
            rate.limited_until = Some(until);
            return Err(GithubError::RateLimited { until });
        }
        if !errors.is_empty() {
            let messages: Vec<&str> = errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect();
            return Err(GithubError::Graphql {
                url: url.to_owned(),
                message: messages.join("; "),
            });
        }
        Ok(answer
            .get_mut("data")
            .map(serde_json::Value::take)
            .unwrap_or_default())
    }
}

fn note_rate(rate: &Mutex<RateLimitState>, headers: &HeaderMap, status: StatusCode) {
    let num = |name: &str| header_str(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
    let mut rate = lock(rate);
    if let Some(l) = num("x-ratelimit-limit") {
        rate.limit = Some(l);
    }
    if let Some(r) = num("x-ratelimit-remaining") {
        rate.remaining = Some(r);
    }
    if let Some(reset) = num("x-ratelimit-reset")
        .and_then(|s| i64::try_from(s).ok())
        .and_then(|s| Timestamp::from_second(s).ok())
    {
        rate.reset = Some(reset);
    }
    // Nothing left: do not ask before the reset, even though this answer was fine.
    if status.is_success() && rate.remaining == Some(0) {
        rate.limited_until = rate.reset;
    }
}

/// For a 403/429 that is a rate limit: until when to stay away.
fn rate_limited(
    rate: &Mutex<RateLimitState>,
    headers: &HeaderMap,
    status: StatusCode,
    message: &str,
) -> Option<Timestamp> {
    if !matches!(
        status,
        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
    ) {
        return None;
    }
    let now = Timestamp::now();
    let retry_after = header_str(headers, "retry-after")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| now + SignedDuration::from_secs(s.max(1)));
    let mut rate = lock(rate);
    let exhausted =
        rate.remaining == Some(0) && header_str(headers, "x-ratelimit-remaining").is_some();
    let says_so = message.to_ascii_lowercase().contains("rate limit");
    let until = if let Some(t) = retry_after {
        t
    } else if exhausted {
        rate.reset
            .filter(|r| *r > now)
            .unwrap_or(now + SignedDuration::from_secs(1))
    } else if status == StatusCode::TOO_MANY_REQUESTS || says_so {
        now + SECONDARY_DEFAULT_WAIT
    } else {
        // A plain 403: permissions, not pace.
        return None;
    };
    // Concurrent reads may each be refused: keep the latest instant any of them named.
    let until = rate.limited_until.filter(|t| *t > until).unwrap_or(until);
    rate.limited_until = Some(until);
    Some(until)
}

/// GitHub's `message` of an error body, else its first 200 characters.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}

fn from_client(e: ClientError, url: &str) -> GithubError {
    match e {
        ClientError::BadUrl(_) => GithubError::BadUrl(url.to_owned()),
        ClientError::BadToken => GithubError::BadToken,
        ClientError::Transport { url, source } => GithubError::Transport { url, source },
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = header_str(headers, "link")?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn link_next() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<http://x/a?page=1>; rel=\"prev\", <http://x/a?page=3>; rel=\"next\", <http://x/a?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(next_link(&h).as_deref(), Some("http://x/a?page=3"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
