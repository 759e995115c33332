//! Discovery: `/version`, `/api`, `/apis` and the per-group resource lists kubectl and
//! kube-rs read before anything else.

use std::sync::PoisonError;

use serde_json::{Value, json};

use super::ServerState;
use crate::sandbox::kube::resources::{RESOURCES, ResourceDef};

pub(super) fn discovery(path: &str, state: &ServerState) -> Option<Value> {
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
