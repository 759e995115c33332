//! The HTTP face of the sandbox: the Kubernetes REST API (discovery, CRUD, patch, watch,
//! `/status`) over plain HTTP on 127.0.0.1, with metav1.Status errors like the real server.

mod discovery;
mod logs;
mod openapi;
mod read;
mod requests;
mod respond;
mod review;
mod target;
mod watch;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::managed_fields::manager_for;
use super::resources::{self, RESOURCES, ResourceDef};
use super::store::Store;
use discovery::discovery;
pub use requests::{RequestLog, RequestRecord};
use respond::{json_response, not_found_path, status_body};
use target::{flag, parse_target};

/// Who every client is, in SelfSubjectReviews and 403 messages.
const SANDBOX_USER: &str = "sandbox-user";

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
    pub requests: Mutex<RequestLog>,
    /// Time between two lines of a simulated container's log (the sandbox's clock applied).
    pub log_every: std::time::Duration,
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

/// The single entry point: authentication, then discovery or a resource verb.
async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let field_manager = q.get("fieldManager").map(String::as_str);
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RequestRecord::new(&method, &uri, &headers, field_manager));
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
    if method == Method::GET
        && let Some(doc) = openapi::openapi(path, &state)
    {
        return json_response(StatusCode::OK, &doc);
    }
    if method == Method::GET
        && let Some((ns, pod)) = logs::log_path(path)
    {
        return logs::serve(&state, ns, pod, &q);
    }
    let Some(target) = parse_target(path).filter(|t| !state.hidden(RESOURCES[t.res].group)) else {
        return not_found_path();
    };
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
                "{full} \"{name}\" is forbidden: User \"{SANDBOX_USER}\" cannot {verb} resource \"{what}\" in API group \"{}\"{scope}",
                def.group
            ),
            Some(json!({"name": name, "group": def.group, "kind": def.plural})),
        );
    }
    let manager = manager_for(
        field_manager,
        headers
            .get(header::USER_AGENT)
            .and_then(|h| h.to_str().ok()),
    );
    // `dryRun=All` (kubectl apply --dry-run=server): judged as a write, nothing stored.
    if q.get("dryRun").is_some_and(|v| v == "All") {
        return write::dry_run(&state, &target, verb, &headers, &body);
    }
    match verb {
        "watch" => watch::watch(&state, &target, &q),
        "list" => read::list(&state, &target, &q),
        "get" => read::get(&state, &target),
        "create" => write::create(&state, &target, &body, &manager),
        "update" => write::update(&state, &target, &body, &manager),
        "patch" => write::patch_obj(&state, &target, &headers, &body, &manager),
        _ => write::delete(&state, &target),
    }
}
