//! What a request is about: the resource path it names and the query parameters the verbs
//! share.

use std::collections::HashMap;

use crate::sandbox::kube::resources::{self, RESOURCES, ResId};
use crate::sandbox::kube::select::{FieldSelector, LabelSelector};

pub(super) struct Target {
    pub res: ResId,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub status: bool,
}

pub(super) fn parse_target(path: &str) -> Option<Target> {
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

pub(super) fn flag(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

pub(super) fn parse_rv(q: &HashMap<String, String>) -> Result<Option<u64>, String> {
    match q.get("resourceVersion").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid resourceVersion {s:?}")),
    }
}

pub(super) fn selectors(
    q: &HashMap<String, String>,
) -> Result<(LabelSelector, FieldSelector), String> {
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))?;
    Ok((labels, fields))
}
