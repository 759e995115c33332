//! The requests the server has seen, newest last, so tests can check what a client sent
//! (its User-Agent, its field manager) without a proxy in between.

use std::collections::VecDeque;

use axum::http::{HeaderMap, Method, Uri, header};

/// Requests kept; older ones are dropped first. Enough for any one test's traffic, small
/// enough for a demo left running for days.
const KEPT: usize = 4096;

/// One request as it arrived, before authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path with its query string, e.g. `/api/v1/namespaces/a/pods?watch=true`.
    pub path_and_query: String,
    pub user_agent: Option<String>,
    /// The `fieldManager` query parameter.
    pub field_manager: Option<String>,
}

impl RequestRecord {
    pub fn new(
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        field_manager: Option<&str>,
    ) -> Self {
        RequestRecord {
            method: method.as_str().to_owned(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned),
            field_manager: field_manager.map(str::to_owned),
        }
    }
}

/// The bounded log behind [`RequestRecord`]s.
#[derive(Debug, Default)]
pub struct RequestLog(VecDeque<RequestRecord>);

impl RequestLog {
    pub fn push(&mut self, r: RequestRecord) {
        if self.0.len() == KEPT {
            self.0.pop_front();
        }
        self.0.push_back(r);
    }

    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.0.iter().cloned().collect()
    }
}
