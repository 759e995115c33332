//! The smallest OpenAPI v3 kubectl needs before it writes: the index of group-versions
//! (`/openapi/v3`) and, per group-version, each resource's PATCH operation with its
//! `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. From that
//! kubectl learns that the server validates fields itself (`--validate=strict`, its default)
//! and sends `kubectl apply --dry-run=server` as plain requests with `dryRun=All`. No schemas:
//! the sandbox checks what its store checks.

use serde_json::{Map, Value, json};

use super::ServerState;
use crate::sandbox::kube::resources::RESOURCES;

/// `/openapi/v3` or `/openapi/v3/<api/v1 | apis/G/V>`, if `path` is one of them.
pub(super) fn openapi(path: &str, state: &ServerState) -> Option<Value> {
    let gv = path.strip_prefix("/openapi/v3")?;
    let mut served: Vec<(&str, &str)> = vec![("", "v1")];
    served.extend(state.groups());
    if gv.is_empty() {
        let mut paths = Map::new();
        for (g, v) in &served {
            let key = gv_path(g, v);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash=sandbox")}),
            );
        }
        return Some(json!({"paths": paths}));
    }
    let gv = gv.trim_start_matches('/');
    let (group, version) = served.iter().find(|(g, v)| gv_path(g, v) == gv).copied()?;
    let mut paths = Map::new();
    for d in RESOURCES
        .iter()
        .filter(|d| d.group == group && d.version == version && !d.create_only)
    {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let item = if d.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("{prefix}/{}/{{name}}", d.plural)
        };
        paths.insert(
            item,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": d.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (shipdeck sandbox)", "version": "v1.33.0"},
        "paths": paths,
    }))
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}
