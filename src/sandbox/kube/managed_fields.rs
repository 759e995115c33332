//! `metadata.managedFields` as the API server keeps it: one entry per field manager,
//! operation and subresource, refreshed by each write that changes the object.
//!
//! The sandbox does not track which fields each manager owns (`fieldsV1` stays empty): the
//! cockpit and kubectl only read who wrote, how, and when.

use serde_json::{Value, json};

use super::store::now_rfc3339;

/// The manager a write is recorded under, chosen as kube-apiserver does: the `fieldManager`
/// query parameter, else the User-Agent's product token (`kubectl/v1.33.0 (linux/amd64)`
/// gives `kubectl`), else `unknown`.
pub fn manager_for(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
    field_manager
        .filter(|m| !m.is_empty())
        .or_else(|| {
            user_agent
                .and_then(|ua| ua.split('/').next())
                .map(str::trim)
                .filter(|m| !m.is_empty())
        })
        .unwrap_or("unknown")
        .to_owned()
}

/// `entries` with the write by `manager` recorded: its entry for the same operation and
/// subresource replaced (time refreshed), or added at the end.
pub fn record_update(
    entries: Option<&Value>,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
) -> Value {
    let mut entry = json!({
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    });
    if let (Some(sub), Value::Object(m)) = (subresource, &mut entry) {
        m.insert("subresource".to_owned(), json!(sub));
    }
    let mut list: Vec<Value> = entries
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let same_key = |e: &Value| {
        e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some("Update")
            && e.get("subresource").and_then(Value::as_str) == subresource
    };
    match list.iter_mut().find(|e| same_key(e)) {
        Some(old) => *old = entry,
        None => list.push(entry),
    }
    Value::Array(list)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn manager_prefers_the_field_manager_then_the_user_agent_product() {
        assert_eq!(
            manager_for(Some("shipdeck"), Some("kubectl/v1.33")),
            "shipdeck"
        );
        assert_eq!(
            manager_for(None, Some("kubectl/v1.33.0 (linux/amd64) kubernetes/abc")),
            "kubectl"
        );
        assert_eq!(manager_for(Some(""), Some("curl")), "curl");
        assert_eq!(manager_for(None, Some("")), "unknown");
        assert_eq!(manager_for(None, None), "unknown");
    }

    #[test]
    fn one_entry_per_manager_operation_and_subresource() {
        let v = record_update(None, "a", "v1", None);
        let v = record_update(Some(&v), "a", "v1", Some("status"));
        let v = record_update(Some(&v), "b", "v1", None);
        let v = record_update(Some(&v), "a", "v1", None);
        let keys: Vec<(String, Option<String>)> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["manager"].as_str().unwrap().to_owned(),
                    e.get("subresource")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("a".to_owned(), None),
                ("a".to_owned(), Some("status".to_owned())),
                ("b".to_owned(), None),
            ]
        );
        assert_eq!(v[0]["fieldsType"], "FieldsV1");
        assert_eq!(v[0]["operation"], "Update");
    }
}
