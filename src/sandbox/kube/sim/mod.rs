//! Simulated controllers (sandbox only): they read and write the store directly, the way the
//! real controllers read and write the API server, and never touch anything else.

pub mod arc;
pub mod arc_legacy;
pub mod argocd;
mod argocd_ops;
pub mod migrations;
pub mod rollouts;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::resources::ResId;
use super::store::{Store, StoreError, WriteMode, now_rfc3339};

/// Objects carrying this annotation (value `"true"`) are left alone by every simulator
/// (bulk-seeded scale objects).
pub const UNMANAGED: &str = "sandbox.shipdeck.dev/unmanaged";

/// Simulated time: `speed` simulated seconds pass per real second.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub speed: f64,
}

impl Clock {
    /// Simulated seconds since `t`.
    pub fn since(&self, t: Instant) -> f64 {
        t.elapsed().as_secs_f64() * self.speed
    }

    /// Real time for `sim_secs` simulated seconds.
    pub fn real(&self, sim_secs: f64) -> Duration {
        Duration::from_secs_f64((sim_secs / self.speed.max(0.001)).max(0.0))
    }
}

/// Remembers when things began (pods born, pauses started) with sub-second precision, which
/// creationTimestamps (whole seconds) cannot give at high speed factors.
#[derive(Debug, Default)]
pub struct Marks(HashMap<String, Instant>);

impl Marks {
    /// When `key` was first seen (now, if never).
    pub fn first_seen(&mut self, key: &str) -> Instant {
        *self.0.entry(key.to_owned()).or_insert_with(Instant::now)
    }
    /// When `key` was first seen, if it was.
    pub fn peek(&self, key: &str) -> Option<Instant> {
        self.0.get(key).copied()
    }
    pub fn forget(&mut self, key: &str) {
        self.0.remove(key);
    }
    /// Drops marks whose key starts with `prefix` and that `keep` rejects.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|k, _| keep(k));
    }
}

/// Parses a Go/Argo duration such as `10s`, `1m30s`, `2h` or a bare number of seconds.
pub fn parse_duration(v: &Value) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
        } else {
            let n: f64 = num.parse().ok()?;
            num.clear();
            total += n * match c {
                'h' => 3600.0,
                'm' => 60.0,
                's' => 1.0,
                _ => return None,
            };
        }
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

pub fn is_managed(v: &Value) -> bool {
    v.pointer(&format!(
        "/metadata/annotations/{}",
        UNMANAGED.replace('/', "~1")
    ))
    .and_then(Value::as_str)
        != Some("true")
}

pub fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

pub fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or_default()
}

pub fn uid(v: &Value) -> String {
    s(v, "/metadata/uid").to_owned()
}

/// An ownerReference to `owner` (a controller reference).
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": s(owner, "/apiVersion"),
        "kind": s(owner, "/kind"),
        "name": s(owner, "/metadata/name"),
        "uid": s(owner, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Whether `v` is controlled by the object with `owner_uid`.
pub fn owned_by(v: &Value, owner_uid: &str) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| s(r, "/uid") == owner_uid))
}

/// Sets (or keeps) a condition, touching its timestamps only when it really changes.
pub fn set_condition(
    conds: &mut Vec<Value>,
    kind: &str,
    status: bool,
    reason: &str,
    message: &str,
) {
    let status = if status { "True" } else { "False" };
    let now = now_rfc3339();
    if let Some(c) = conds.iter_mut().find(|c| s(c, "/type") == kind) {
        if s(c, "/status") == status && s(c, "/reason") == reason && s(c, "/message") == message {
            return;
        }
        let transition = if s(c, "/status") == status {
            s(c, "/lastTransitionTime").to_owned()
        } else {
            now.clone()
        };
        *c = json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": transition, "lastUpdateTime": now,
        });
    } else {
        conds.push(json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now, "lastUpdateTime": now,
        }));
    }
}

/// Writes `new` over the stored object (spec and status), if it still exists; unchanged
/// objects cost nothing.
/// Writes `new` only if the object is still at the resourceVersion `new` was read at, as a
/// controller's update does: a patch that landed meanwhile (a user's promote-full behind a
/// retry) is not overwritten; the next pass reads it.
pub fn write_if_unchanged(store: &Store, res: ResId, new: Value) -> Result<(), StoreError> {
    let ns = s(&new, "/metadata/namespace").to_owned();
    let name = s(&new, "/metadata/name").to_owned();
    let rv = s(&new, "/metadata/resourceVersion").parse::<u64>().ok();
    store
        .update(res, &ns, &name, WriteMode::Internal, rv, move |_| Ok(new))
        .map(|_| ())
}

pub fn write(store: &Store, res: ResId, new: Value) -> Result<(), StoreError> {
    let ns = s(&new, "/metadata/namespace").to_owned();
    let name = s(&new, "/metadata/name").to_owned();
    store
        .update(res, &ns, &name, WriteMode::Internal, None, move |_| Ok(new))
        .map(|_| ())
}

/// The end of a runner's step, for both ARC simulators: its new status if it changed, and its
/// pod moved along if the step says so.
pub fn settle_runner(
    store: &Store,
    res: ResId,
    runner: &Value,
    status: Value,
    pod_phase: Option<&str>,
) -> Result<(), StoreError> {
    if Some(&status) != runner.get("status") {
        let mut new = runner.clone();
        new["status"] = status;
        write(store, res, new)?;
    }
    match pod_phase {
        Some(p) => set_runner_pod_phase(
            store,
            s(runner, "/metadata/namespace"),
            s(runner, "/metadata/name"),
            p,
        ),
        None => Ok(()),
    }
}

/// Moves a runner pod (one container, `runner`) to `phase` as the kubelet reports it: ready
/// while Running, terminated (exit 1 on Failed) after. No pod of that name: nothing to do.
pub fn set_runner_pod_phase(
    store: &Store,
    ns: &str,
    name: &str,
    phase: &str,
) -> Result<(), StoreError> {
    let Some(pod) = store.get(super::resources::ids::pods(), ns, name) else {
        return Ok(());
    };
    let mut pod = pod.value();
    let now = now_rfc3339();
    let running = phase == "Running";
    let failed = phase == "Failed";
    let state = if running {
        json!({"running": {"startedAt": now}})
    } else {
        json!({"terminated": {"exitCode": i64::from(failed), "reason": if failed { "Error" } else { "Completed" }, "finishedAt": now}})
    };
    pod["status"] = json!({
        "phase": phase, "qosClass": "BestEffort", "startTime": now,
        "conditions": [{"type": "Ready", "status": if running { "True" } else { "False" }, "lastTransitionTime": now}],
        "containerStatuses": [{
            "name": "runner", "image": s(&pod, "/spec/containers/0/image"), "imageID": "",
            "ready": running, "restartCount": i(&pod, "/status/containerStatuses/0/restartCount"), "started": running,
            "state": state,
        }],
    });
    write(store, super::resources::ids::pods(), pod)
}

/// Creates an object as a controller would.
pub fn create(store: &Store, res: ResId, v: Value) -> Result<Value, StoreError> {
    store.create(res, v, WriteMode::Internal).map(|o| o.value())
}

/// Every managed object of a resource, parsed.
pub fn managed(store: &Store, res: ResId) -> Vec<Value> {
    store
        .list(res, None)
        .0
        .iter()
        .map(|o| o.value())
        .filter(is_managed)
        .collect()
}

/// Emits a Kubernetes Event about `obj` (the timeline the real controllers leave).
pub fn event(
    store: &Arc<Store>,
    obj: &Value,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let now = now_rfc3339();
    let ev = json!({
        "metadata": {
            "generateName": format!("{}.", s(obj, "/metadata/name")),
            "namespace": s(obj, "/metadata/namespace"),
        },
        "involvedObject": {
            "apiVersion": s(obj, "/apiVersion"), "kind": s(obj, "/kind"),
            "name": s(obj, "/metadata/name"), "namespace": s(obj, "/metadata/namespace"),
            "uid": s(obj, "/metadata/uid"),
        },
        "reason": reason, "message": message, "type": kind,
        "source": {"component": component},
        "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    });
    if let Err(e) = store.create(super::resources::ids::events(), ev, WriteMode::Internal) {
        tracing::debug!("sandbox event not recorded: {e}");
    }
    // The events.k8s.io/v1 view of the same event (a real server serves both APIs).
    let micro = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let v1 = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {
            "generateName": format!("{}.", s(obj, "/metadata/name")),
            "namespace": s(obj, "/metadata/namespace"),
        },
        "eventTime": micro,
        "reportingController": component,
        "reportingInstance": format!("{component}-sandbox"),
        "action": reason,
        "reason": reason,
        "regarding": {
            "apiVersion": s(obj, "/apiVersion"), "kind": s(obj, "/kind"),
            "name": s(obj, "/metadata/name"), "namespace": s(obj, "/metadata/namespace"),
            "uid": s(obj, "/metadata/uid"),
        },
        "note": message,
        "type": kind,
    });
    if let Err(e) = store.create(super::resources::ids::events_v1(), v1, WriteMode::Internal) {
        tracing::debug!("sandbox event (events.k8s.io/v1) not recorded: {e}");
    }
}
