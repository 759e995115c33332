//! Answers in the shapes the real server uses: JSON bodies, and metav1.Status for errors.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::sandbox::kube::resources::ResourceDef;
use crate::sandbox::kube::store::StoreError;

pub(super) fn status_body(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let (Some(d), Value::Object(m)) = (details, &mut body) {
        m.insert("details".to_owned(), d);
    }
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &body,
    )
}

pub(super) fn json_response(code: StatusCode, v: &Value) -> Response {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    raw_json(code, bytes)
}

pub(super) fn raw_json(code: StatusCode, bytes: impl Into<Body>) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        bytes.into(),
    )
        .into_response()
}

pub(super) fn bad_request(msg: &str) -> Response {
    status_body(400, "BadRequest", msg, None)
}

pub(super) fn not_found_path() -> Response {
    status_body(
        404,
        "NotFound",
        "the server could not find the requested resource",
        None,
    )
}

pub(super) fn store_error(e: &StoreError, def: &ResourceDef) -> Response {
    let details = |name: &str| Some(json!({"name": name, "group": def.group, "kind": def.plural}));
    let full = if def.group.is_empty() {
        def.plural.to_owned()
    } else {
        format!("{}.{}", def.plural, def.group)
    };
    match e {
        StoreError::NotFound { name, .. } => status_body(
            404,
            "NotFound",
            &format!("{full} \"{name}\" not found"),
            details(name),
        ),
        StoreError::AlreadyExists { name, .. } => status_body(
            409,
            "AlreadyExists",
            &format!("{full} \"{name}\" already exists"),
            details(name),
        ),
        StoreError::Conflict { name, .. } => status_body(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {full} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            details(name),
        ),
        StoreError::Invalid(m) => status_body(422, "Invalid", m, None),
        StoreError::Gone { .. } => status_body(410, "Expired", &e.to_string(), None),
    }
}
