//! The HTTP face of the sandbox: the Kubernetes REST API (discovery, CRUD, patch, watch,
//! `/status`) over plain HTTP on 127.0.0.1, with metav1.Status errors like the real server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::patch;
use super::resources::{self, RESOURCES, ResId, ResourceDef};
use super::select::{FieldSelector, LabelSelector};
use super::store::{Store, StoreError, WriteMode, event_line};

/// A request the sandbox refuses with 403 (and answers `allowed: false` for in a
/// SelfSubjectAccessReview). `None` fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyRule {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: Option<String>,
    pub group: Option<String>,
    /// Plural resource name, e.g. `rollouts`.
    pub resource: Option<String>,
    /// e.g. `status`; `Some("")` matches only the main resource.
    pub subresource: Option<String>,
    pub namespace: Option<String>,
}

impl DenyRule {
    fn matches(&self, verb: &str, group: &str, resource: &str, sub: &str, ns: &str) -> bool {
        let m = |rule: &Option<String>, v: &str| rule.as_deref().is_none_or(|r| r == v);
        m(&self.verb, verb)
            && m(&self.group, group)
            && m(&self.resource, resource)
            && m(&self.subresource, sub)
            && m(&self.namespace, ns)
    }
}

/// Shared state of the HTTP layer.
pub struct ServerState {
    pub store: Arc<Store>,
    pub token: Option<String>,
    pub deny: Mutex<Vec<DenyRule>>,
    /// Cancelled to cut every open watch (listener stop, tests forcing a resume).
    pub watches: Mutex<CancellationToken>,
    pub server_address: Mutex<String>,
    /// API groups the server acts as if their CRDs were not installed.
    pub hidden_groups: Mutex<Vec<String>>,
}

impl ServerState {
    fn hidden(&self, group: &str) -> bool {
        self.hidden_groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|g| g == group)
    }

    /// Served groups, in discovery order.
    fn groups(&self) -> Vec<(&'static str, &'static str)> {
        resources::groups()
            .into_iter()
            .filter(|(g, _)| !self.hidden(g))
            .collect()
    }

    fn denied(&self, verb: &str, def: &ResourceDef, sub: &str, ns: &str) -> bool {
        self.deny
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|r| r.matches(verb, def.group, def.plural, sub, ns))
    }

    fn watch_token(&self) -> CancellationToken {
        self.watches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .child_token()
    }

    /// Ends every open watch stream; clients resume from their last resourceVersion.
    pub fn cut_watches(&self) {
        let mut guard = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        guard.cancel();
        *guard = CancellationToken::new();
    }
}

/// The router serving the whole API.
pub fn router(state: Arc<ServerState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
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

fn json_response(code: StatusCode, v: &Value) -> Response {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    raw_json(code, bytes)
}

fn raw_json(code: StatusCode, bytes: impl Into<Body>) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        bytes.into(),
    )
        .into_response()
}

fn bad_request(msg: &str) -> Response {
    status_body(400, "BadRequest", msg, None)
}

fn not_found_path() -> Response {
    status_body(
        404,
        "NotFound",
        "the server could not find the requested resource",
        None,
    )
}

fn store_error(e: &StoreError, def: &ResourceDef) -> Response {
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

// ---------- discovery ----------

fn discovery(path: &str, state: &ServerState) -> Option<Value> {
    let addr = state
        .server_address
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let group_doc = |g: &str, v: &str| {
        json!({
            "name": g,
            "versions": [{"groupVersion": format!("{g}/{v}"), "version": v}],
            "preferredVersion": {"groupVersion": format!("{g}/{v}"), "version": v},
        })
    };
    match path {
        "/version" => Some(json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.0-shipdeck-sandbox",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-11-30T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64",
        })),
        "/api" => Some(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}],
        })),
        "/apis" => Some(json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": state.groups().iter().map(|(g, v)| group_doc(g, v)).collect::<Vec<_>>(),
        })),
        _ => {
            if let Some(rest) = path.strip_prefix("/apis/") {
                let parts: Vec<&str> = rest.split('/').collect();
                return match parts.as_slice() {
                    [g] => state
                        .groups()
                        .iter()
                        .find(|(name, _)| name == g)
                        .map(|(g, v)| {
                            let mut d = group_doc(g, v);
                            if let Value::Object(m) = &mut d {
                                m.insert("kind".to_owned(), json!("APIGroup"));
                                m.insert("apiVersion".to_owned(), json!("v1"));
                            }
                            d
                        }),
                    [g, v] if !state.hidden(g) => resource_list(g, v),
                    _ => None,
                };
            }
            if path == "/api/v1" {
                return resource_list("", "v1");
            }
            None
        }
    }
}

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let defs: Vec<&ResourceDef> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut items = Vec::new();
    for d in defs {
        let verbs: Vec<&str> = if d.create_only {
            vec!["create"]
        } else {
            vec![
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]
        };
        items.push(json!({
            "name": d.plural, "singularName": d.singular, "namespaced": d.namespaced,
            "kind": d.kind, "verbs": verbs, "shortNames": d.short_names,
        }));
        if d.status_subresource {
            items.push(json!({
                "name": format!("{}/status", d.plural), "singularName": "", "namespaced": d.namespaced,
                "kind": d.kind, "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}),
    )
}

// ---------- resource paths ----------

struct Target {
    res: ResId,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

fn parse_target(path: &str) -> Option<Target> {
    let (group, version, rest) = if let Some(r) = path.strip_prefix("/api/v1/") {
        ("", "v1", r)
    } else {
        let r = path.strip_prefix("/apis/")?;
        let mut it = r.splitn(3, '/');
        let g = it.next()?;
        let v = it.next()?;
        (g, v, it.next()?)
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let find = |plural: &str| resources::find(group, version, plural);
    let t = |res, ns: Option<&str>, name: Option<&str>, status| Target {
        res,
        namespace: ns.map(str::to_owned),
        name: name.map(str::to_owned),
        status,
    };
    match segs.as_slice() {
        ["namespaces", ns, plural]
            if *plural != "status" && find(plural).is_some_and(|r| RESOURCES[r].namespaced) =>
        {
            Some(t(find(plural)?, Some(ns), None, false))
        }
        ["namespaces", ns, plural, name] => {
            let r = find(plural)?;
            RESOURCES[r]
                .namespaced
                .then(|| t(r, Some(ns), Some(name), false))
        }
        ["namespaces", ns, plural, name, "status"] => {
            let r = find(plural)?;
            (RESOURCES[r].namespaced && RESOURCES[r].status_subresource)
                .then(|| t(r, Some(ns), Some(name), true))
        }
        [plural] => Some(t(find(plural)?, None, None, false)),
        [plural, name] => {
            let r = find(plural)?;
            (!RESOURCES[r].namespaced).then(|| t(r, None, Some(name), false))
        }
        [plural, name, "status"] => {
            let r = find(plural)?;
            (!RESOURCES[r].namespaced && RESOURCES[r].status_subresource)
                .then(|| t(r, None, Some(name), true))
        }
        _ => None,
    }
}

fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn parse_rv(q: &HashMap<String, String>) -> Result<Option<u64>, String> {
    match q.get("resourceVersion").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid resourceVersion {s:?}")),
    }
}

/// The single entry point: authentication, then discovery or a resource verb.
async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return status_body(401, "Unauthorized", "Unauthorized", None);
        }
    }
    let path = uri.path().trim_end_matches('/');
    if method == Method::GET
        && let Some(doc) = discovery(path, &state)
    {
        return json_response(StatusCode::OK, &doc);
    }
    let Some(target) = parse_target(path).filter(|t| !state.hidden(RESOURCES[t.res].group)) else {
        return not_found_path();
    };
    let q: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let def = &RESOURCES[target.res];
    let verb = match (&method, target.name.is_some()) {
        (&Method::GET, false) if flag(&q, "watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        _ => {
            return status_body(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            );
        }
    };
    if def.create_only && verb != "create" {
        return status_body(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            None,
        );
    }
    let ns = target.namespace.clone().unwrap_or_default();
    let sub = if target.status { "status" } else { "" };
    if state.denied(verb, def, sub, &ns) {
        let what = if sub.is_empty() {
            def.plural.to_owned()
        } else {
            format!("{}/{sub}", def.plural)
        };
        let name = target.name.clone().unwrap_or_default();
        let full = if def.group.is_empty() {
            def.plural.to_owned()
        } else {
            format!("{}.{}", def.plural, def.group)
        };
        let scope = if ns.is_empty() {
            String::new()
        } else {
            format!(" in the namespace \"{ns}\"")
        };
        return status_body(
            403,
            "Forbidden",
            &format!(
                "{full} \"{name}\" is forbidden: User \"sandbox-user\" cannot {verb} resource \"{what}\" in API group \"{}\"{scope}",
                def.group
            ),
            Some(json!({"name": name, "group": def.group, "kind": def.plural})),
        );
    }
    match verb {
        "watch" => watch(&state, &target, &q),
        "list" => list(&state, &target, &q),
        "get" => get(&state, &target),
        "create" => create(&state, &target, &body),
        "update" => update(&state, &target, &body),
        "patch" => patch_obj(&state, &target, &headers, &body),
        _ => delete(&state, &target),
    }
}

fn get(state: &ServerState, t: &Target) -> Response {
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

fn selectors(q: &HashMap<String, String>) -> Result<(LabelSelector, FieldSelector), String> {
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))?;
    Ok((labels, fields))
}

fn list(state: &ServerState, t: &Target, q: &HashMap<String, String>) -> Response {
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

fn create(state: &ServerState, t: &Target, body: &[u8]) -> Response {
    let def = &RESOURCES[t.res];
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
    match state.store.create(t.res, v, WriteMode::Main) {
        Ok(o) => raw_json(StatusCode::CREATED, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

fn access_review(state: &ServerState, mut v: Value) -> Response {
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

fn body_rv(v: &Value) -> Option<u64> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn mode(t: &Target) -> WriteMode {
    if t.status {
        WriteMode::Status
    } else {
        WriteMode::Main
    }
}

fn update(state: &ServerState, t: &Target, body: &[u8]) -> Response {
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
    match state.store.update(
        t.res,
        t.namespace.as_deref().unwrap_or_default(),
        name,
        mode(t),
        expected,
        |_| Ok(v),
    ) {
        Ok(o) => raw_json(StatusCode::OK, o.json.clone()),
        Err(e) => store_error(&e, def),
    }
}

fn patch_obj(state: &ServerState, t: &Target, headers: &HeaderMap, body: &[u8]) -> Response {
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
    let result = state.store.update(
        t.res,
        t.namespace.as_deref().unwrap_or_default(),
        name,
        mode(t),
        expected,
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

fn delete(state: &ServerState, t: &Target) -> Response {
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

// ---------- watch ----------

fn bookmark(def: &ResourceDef, rv: u64, initial_end: bool) -> Vec<u8> {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let obj = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta});
    event_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

fn watch(state: &ServerState, t: &Target, q: &HashMap<String, String>) -> Response {
    let def = &RESOURCES[t.res];
    let (labels, fields) = match selectors(q) {
        Ok(s) => s,
        Err(e) => return bad_request(&e),
    };
    let rv = match parse_rv(q) {
        Ok(rv) => rv,
        Err(e) => return bad_request(&e),
    };
    let bookmarks = flag(q, "allowWatchBookmarks");
    let send_initial = flag(q, "sendInitialEvents");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    // rv unset or "0" (or sendInitialEvents) means: current state as ADDED, then changes.
    let synthetic = send_initial || matches!(rv, None | Some(0));
    let since = if synthetic { None } else { rv };
    let (backlog, mut rx, now_rv) = match state.store.subscribe(t.res, since) {
        Ok(s) => s,
        // Like kube-apiserver: a 200 stream carrying one ERROR event with the 410 Status.
        Err(e @ StoreError::Gone { .. }) => {
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": e.to_string(), "reason": "Expired", "code": 410});
            let line = event_line("ERROR", &serde_json::to_vec(&status).unwrap_or_default());
            return raw_json(StatusCode::OK, line);
        }
        Err(e) => return store_error(&e, def),
    };
    let ns_filter = t.namespace.clone();
    let matches = move |o: &super::store::Stored| {
        ns_filter.as_deref().is_none_or(|n| n == o.namespace)
            && labels.matches(&o.labels)
            && fields.matches(&o.namespace, &o.name)
    };
    let mut initial: Vec<Vec<u8>> = Vec::new();
    let mut last_rv = since.unwrap_or(now_rv);
    if synthetic {
        let (items, _) = state.store.list(t.res, t.namespace.as_deref());
        for o in items.iter().filter(|o| o.rv <= now_rv && matches(o)) {
            initial.push(event_line("ADDED", &o.json));
        }
        last_rv = now_rv;
        if send_initial && bookmarks {
            initial.push(bookmark(def, now_rv, true));
        }
    }
    for ev in backlog {
        if matches(&ev.obj) {
            initial.push(ev.line());
        }
        last_rv = last_rv.max(ev.rv);
    }
    let cancel = state.watch_token();
    let store = state.store.clone();
    let (mut tx, body_rx) = futures::channel::mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(async move {
        for line in initial {
            if tx.send(Ok(Bytes::from(line))).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.tick().await;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = &mut deadline => return,
                _ = ticker.tick(), if bookmarks => {
                    // Everything up to `current` was published before we read it: drain what is
                    // queued so the bookmark never runs ahead of events we have not sent.
                    let current = store.current_rv();
                    loop {
                        match rx.try_recv() {
                            Ok(ev) => {
                                if ev.rv > last_rv && matches(&ev.obj) && tx.send(Ok(Bytes::from(ev.line()))).await.is_err() {
                                    return;
                                }
                                last_rv = last_rv.max(ev.rv);
                            }
                            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => return,
                        }
                    }
                    last_rv = last_rv.max(current);
                    if tx.send(Ok(Bytes::from(bookmark(def, last_rv, false)))).await.is_err() {
                        return;
                    }
                }
                r = rx.recv() => match r {
                    Ok(ev) => {
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if matches(&ev.obj) && tx.send(Ok(Bytes::from(ev.line()))).await.is_err() {
                            return;
                        }
                    }
                    // A watcher this far behind is cut off; it resumes from its last version.
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return,
                },
            }
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body_rx),
    )
        .into_response()
}
