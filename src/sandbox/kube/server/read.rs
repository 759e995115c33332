//! The read verbs: get, and list with selectors, `limit` and continue tokens.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::ServerState;
use super::respond::{bad_request, raw_json, store_error};
use super::target::{Target, parse_rv, selectors};
use crate::sandbox::kube::resources::RESOURCES;
use crate::sandbox::kube::store::StoreError;

pub(super) fn get(state: &ServerState, t: &Target) -> Response {
    let def = &RESOURCES[t.res];
    let name = t.name.as_deref().unwrap_or_default();
    match state
        .store
        .get(t.res, t.namespace.as_deref().unwrap_or_default(), name)
    {
        Some(o) => raw_json(StatusCode::OK, o.json.clone()),
        None => store_error(
            &StoreError::NotFound {
                kind: def.plural.to_owned(),
                name: name.to_owned(),
            },
            def,
        ),
    }
}

pub(super) fn list(state: &ServerState, t: &Target, q: &HashMap<String, String>) -> Response {
    use base64::Engine as _;
    let def = &RESOURCES[t.res];
    let (labels, fields) = match selectors(q) {
        Ok(s) => s,
        Err(e) => return bad_request(&e),
    };
    if let Err(e) = parse_rv(q) {
        return bad_request(&e);
    }
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    // A continue token carries the list's resourceVersion and the last key served.
    let mut after: Option<(String, String)> = None;
    let (items, mut rv) = state.store.list(t.res, t.namespace.as_deref());
    if let Some(tok) = q.get("continue").filter(|c| !c.is_empty()) {
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tok)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some(decoded) = decoded else {
            return bad_request("invalid continue token");
        };
        let mut parts = decoded.splitn(3, '\n');
        let (Some(r), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return bad_request("invalid continue token");
        };
        rv = r.parse().unwrap_or(rv);
        after = Some((ns.to_owned(), name.to_owned()));
    }
    let mut body = Vec::with_capacity(4096);
    let mut served = 0usize;
    let mut last: Option<(String, String)> = None;
    let mut more = 0usize;
    body.extend_from_slice(b"{\"kind\":\"");
    body.extend_from_slice(def.kind.as_bytes());
    body.extend_from_slice(b"List\",\"apiVersion\":\"");
    body.extend_from_slice(def.api_version().as_bytes());
    body.extend_from_slice(b"\",\"items\":[");
    for o in &items {
        if let Some(a) = &after
            && (o.namespace.as_str(), o.name.as_str()) <= (a.0.as_str(), a.1.as_str())
        {
            continue;
        }
        if !labels.matches(&o.labels) || !fields.matches(&o.namespace, &o.name) {
            continue;
        }
        if served == limit {
            more += 1;
            continue;
        }
        if served > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&o.json);
        served += 1;
        last = Some((o.namespace.clone(), o.name.clone()));
    }
    body.extend_from_slice(b"],\"metadata\":");
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if more > 0
        && let (Some((ns, name)), Value::Object(m)) = (last, &mut meta)
    {
        let tok =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{rv}\n{ns}\n{name}"));
        m.insert("continue".to_owned(), json!(tok));
        m.insert("remainingItemCount".to_owned(), json!(more));
    }
    body.extend_from_slice(&serde_json::to_vec(&meta).unwrap_or_default());
    body.push(b'}');
    raw_json(StatusCode::OK, body)
}
