//! Reviews a client asks about itself: who it is (SelfSubjectReview, `kubectl auth whoami`)
//! and what it may do (SelfSubjectAccessReview, answered from the deny list).

use std::sync::PoisonError;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::respond::json_response;
use super::{SANDBOX_USER, ServerState};

pub(super) fn access_review(state: &ServerState, mut v: Value) -> Response {
    let attrs = v
        .pointer("/spec/resourceAttributes")
        .cloned()
        .unwrap_or(Value::Null);
    let s = |k: &str| {
        attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (verb, group, resource, sub, ns) = (
        s("verb"),
        s("group"),
        s("resource"),
        s("subresource"),
        s("namespace"),
    );
    let denied = state
        .deny
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .any(|r| r.matches(&verb, &group, &resource, &sub, &ns));
    if let Value::Object(m) = &mut v {
        m.insert("apiVersion".to_owned(), json!("authorization.k8s.io/v1"));
        m.insert("kind".to_owned(), json!("SelfSubjectAccessReview"));
        m.insert("metadata".to_owned(), json!({"creationTimestamp": null}));
        let status = if denied {
            json!({"allowed": false, "denied": true, "reason": "denied by the sandbox's deny list"})
        } else {
            json!({"allowed": true, "reason": "the sandbox allows everything"})
        };
        m.insert("status".to_owned(), status);
    }
    json_response(StatusCode::CREATED, &v)
}

/// Every client is the one sandbox user, the name the 403 messages give.
pub(super) fn self_review(request: Value) -> Response {
    let mut v = if request.is_object() {
        request
    } else {
        json!({})
    };
    if let Value::Object(m) = &mut v {
        m.insert("apiVersion".to_owned(), json!("authentication.k8s.io/v1"));
        m.insert("kind".to_owned(), json!("SelfSubjectReview"));
        m.insert("metadata".to_owned(), json!({"creationTimestamp": null}));
        m.insert(
            "status".to_owned(),
            json!({"userInfo": {"username": SANDBOX_USER, "groups": ["system:authenticated"]}}),
        );
    }
    json_response(StatusCode::CREATED, &v)
}
