//! The write verbs: create, update (PUT), patch (merge, strategic-merge as merge, JSON
//! patch) and delete, each on the main resource or its `/status`.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::ServerState;
use super::respond::{bad_request, json_response, raw_json, status_body, store_error};
use super::review::{access_review, self_review};
use super::target::Target;
use crate::sandbox::kube::patch;
use crate::sandbox::kube::resources::RESOURCES;
use crate::sandbox::kube::store::{StoreError, UpdateRequest, WriteMode};

pub(super) fn create(state: &ServerState, t: &Target, body: &[u8], manager: &str) -> Response {
    let def = &RESOURCES[t.res];
    if def.kind == "SelfSubjectReview" {
        // The answer does not depend on the request, and `kubectl auth whoami` sends it as
        // protobuf, which the sandbox does not decode.
        return self_review(serde_json::from_slice(body).unwrap_or_else(|_| json!({})));
    }
    let mut v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("the body is not valid JSON: {e}")),
    };
    if def.kind == "SelfSubjectAccessReview" {
        return access_review(state, v);
    }
    if let (Some(ns), Some(Value::Object(meta))) = (&t.namespace, v.get_mut("metadata")) {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(given) if given != ns => {
                return bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                );
            }
            _ => {
                meta.insert("namespace".to_owned(), json!(ns));
            }
        }
    }
    match state
        .store
        .create_by(t.res, v, WriteMode::Main, Some(manager))
    {
        Ok(o) => raw_json(StatusCode::CREATED, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

fn body_rv(v: &Value) -> Option<u64> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn update_request<'a>(t: &Target, expected_rv: Option<u64>, manager: &'a str) -> UpdateRequest<'a> {
    UpdateRequest {
        mode: if t.status {
            WriteMode::Status
        } else {
            WriteMode::Main
        },
        expected_rv,
        manager: Some(manager),
    }
}

pub(super) fn update(state: &ServerState, t: &Target, body: &[u8], manager: &str) -> Response {
    let def = &RESOURCES[t.res];
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("the body is not valid JSON: {e}")),
    };
    let name = t.name.as_deref().unwrap_or_default();
    if v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != name)
    {
        return bad_request("the name of the object does not match the name on the URL");
    }
    let expected = body_rv(&v);
    match state.store.update_by(
        t.res,
        t.namespace.as_deref().unwrap_or_default(),
        name,
        update_request(t, expected, manager),
        |_| Ok(v),
    ) {
        Ok(o) => raw_json(StatusCode::OK, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

pub(super) fn patch_obj(
    state: &ServerState,
    t: &Target,
    headers: &HeaderMap,
    body: &[u8],
    manager: &str,
) -> Response {
    let def = &RESOURCES[t.res];
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let is_json_patch = match ctype.as_str() {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
        "application/json-patch+json" => true,
        other => {
            return status_body(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format ({other}); accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (server-side apply is not supported by the sandbox)"
                ),
                None,
            );
        }
    };
    let p: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("the patch is not valid JSON: {e}")),
    };
    let expected = if is_json_patch { None } else { body_rv(&p) };
    let name = t.name.as_deref().unwrap_or_default();
    let result = state.store.update_by(
        t.res,
        t.namespace.as_deref().unwrap_or_default(),
        name,
        update_request(t, expected, manager),
        |old| {
            if is_json_patch {
                patch::json_patch(old, &p).map_err(StoreError::Invalid)
            } else {
                let mut new = old.clone();
                patch::merge(&mut new, &p);
                Ok(new)
            }
        },
    );
    match result {
        Ok(o) => raw_json(StatusCode::OK, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

pub(super) fn delete(state: &ServerState, t: &Target) -> Response {
    let def = &RESOURCES[t.res];
    match state.store.delete(
        t.res,
        t.namespace.as_deref().unwrap_or_default(),
        t.name.as_deref().unwrap_or_default(),
    ) {
        Ok(o) => raw_json(StatusCode::OK, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

/// A write with `dryRun=All`: the checks a real server makes before storing (the body parses,
/// its kind and name fit the URL, a create does not collide, an update's object exists), and
/// the object that would be stored as the answer. The store is not touched.
pub(super) fn dry_run(
    state: &ServerState,
    t: &Target,
    verb: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let def = &RESOURCES[t.res];
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("the body is not valid JSON: {e}")),
    };
    let ns = t.namespace.as_deref().unwrap_or_default();
    match verb {
        "create" => {
            let kind = v.get("kind").and_then(Value::as_str).unwrap_or(def.kind);
            let api = v
                .get("apiVersion")
                .and_then(Value::as_str)
                .map_or_else(|| def.api_version(), str::to_owned);
            if kind != def.kind || api != def.api_version() {
                return bad_request(&format!(
                    "the object is a {api} {kind}, the URL is for {} {}",
                    def.api_version(),
                    def.kind
                ));
            }
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name.is_empty() {
                return bad_request("metadata.name is required");
            }
            if state.store.get(t.res, ns, name).is_some() {
                return status_body(
                    409,
                    "AlreadyExists",
                    &format!("{} \"{name}\" already exists", def.plural),
                    Some(json!({"name": name, "kind": def.plural})),
                );
            }
            let mut out = v.clone();
            if def.namespaced
                && let Some(Value::Object(meta)) = out.get_mut("metadata")
            {
                meta.insert("namespace".to_owned(), json!(ns));
            }
            json_response(StatusCode::CREATED, &out)
        }
        "update" | "patch" => {
            let name = t.name.as_deref().unwrap_or_default();
            let Some(old) = state
                .store
                .get(t.res, ns, name)
                .and_then(|o| serde_json::from_slice::<Value>(&o.json).ok())
            else {
                return status_body(
                    404,
                    "NotFound",
                    &format!("{} \"{name}\" not found", def.plural),
                    Some(json!({"name": name, "kind": def.plural})),
                );
            };
            let json_patch = headers
                .get(header::CONTENT_TYPE)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|c| c.starts_with("application/json-patch+json"));
            let new = if verb == "update" {
                v
            } else if json_patch {
                match patch::json_patch(&old, &v) {
                    Ok(n) => n,
                    Err(e) => return bad_request(&e),
                }
            } else {
                let mut n = old;
                patch::merge(&mut n, &v);
                n
            };
            json_response(StatusCode::OK, &new)
        }
        "delete" => json_response(StatusCode::OK, &old_or_empty(state, t)),
        _ => bad_request("dryRun is only for writes"),
    }
}

fn old_or_empty(state: &ServerState, t: &Target) -> Value {
    state
        .store
        .get(
            t.res,
            t.namespace.as_deref().unwrap_or_default(),
            t.name.as_deref().unwrap_or_default(),
        )
        .and_then(|o| serde_json::from_slice(&o.json).ok())
        .unwrap_or_else(|| json!({}))
}
