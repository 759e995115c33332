//! The object store behind the sandbox API server: JSON objects per resource, one global
//! resourceVersion counter, a ring of recent events per resource (for watch resume) and a
//! broadcast channel per resource for live watchers.
//!
//! Objects are kept as serialized JSON (serialized once per write) plus the few fields the
//! server filters on, so lists and watch events are memcpy, not re-serialization.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::managed_fields;
use super::resources::{RESOURCES, ResId, ResourceDef};

/// Events kept per resource for watch resume; older resourceVersions get 410 Gone.
const HISTORY_CAP: usize = 20_000;
/// Live events buffered per resource before a slow watcher is cut off (it then resumes).
const BROADCAST_CAP: usize = 16_384;

/// One stored object.
#[derive(Debug)]
pub struct Stored {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub rv: u64,
    /// The object as JSON, resourceVersion included.
    pub json: Bytes,
}

impl Stored {
    /// The object parsed back into a value (for writes and the simulators).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// One change, shared by every watcher of its resource.
#[derive(Debug)]
pub struct WatchEvent {
    pub rv: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub obj: Arc<Stored>,
}

impl WatchEvent {
    /// The event as one line of a watch stream.
    pub fn line(&self) -> Vec<u8> {
        event_line(self.kind, &self.obj.json)
    }
}

/// Frames an object as a watch event line.
pub fn event_line(kind: &str, json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    out
}

/// A watch start: retained events after the requested version, the live receiver, and the
/// store's resourceVersion at that moment.
pub type Subscription = (
    Vec<Arc<WatchEvent>>,
    broadcast::Receiver<Arc<WatchEvent>>,
    u64,
);

/// How a write treats the status stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// A client write to the main resource: status is ignored where a status subresource exists.
    Main,
    /// A client write to `/status`: only status changes.
    Status,
    /// A simulator write: spec and status together.
    Internal,
}

/// An update as the store applies it: which stanza may change, the resourceVersion the
/// writer expects (a stale one is a 409), and the field manager it is recorded under in
/// `metadata.managedFields` (`None` for simulator writes, which leave the entries alone).
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    pub mode: WriteMode,
    pub expected_rv: Option<u64>,
    pub manager: Option<&'a str>,
}

/// Why a store operation failed; the server maps each to a metav1.Status.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("{kind} \"{name}\" not found")]
    NotFound { kind: String, name: String },
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists { kind: String, name: String },
    #[error(
        "Operation cannot be fulfilled on {kind} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict { kind: String, name: String },
    #[error("{0}")]
    Invalid(String),
    #[error("too old resource version: {requested} ({oldest})")]
    Gone { requested: u64, oldest: u64 },
}

struct Table {
    objs: BTreeMap<(String, String), Arc<Stored>>,
    history: VecDeque<Arc<WatchEvent>>,
    /// Events at or below this resourceVersion are no longer in `history`.
    compacted: u64,
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

struct Inner {
    rv: u64,
    tables: Vec<Table>,
}

/// The store; cheap to share behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// Current time as Kubernetes writes it.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random UID in the usual 8-4-4-4-12 shape.
pub fn new_uid() -> String {
    let a: u128 = rand::random();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| char::from(ALPHABET[rand::random::<usize>() % ALPHABET.len()]))
        .collect()
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The part of an object whose change bumps `metadata.generation`.
fn generation_part(v: &Value, def: &ResourceDef) -> Value {
    let mut m = v.as_object().cloned().unwrap_or_default();
    m.shift_remove("metadata");
    m.shift_remove("apiVersion");
    m.shift_remove("kind");
    if def.status_subresource {
        m.shift_remove("status");
    }
    Value::Object(m)
}

fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("metadata").is_some_and(Value::is_object)
        && let Value::Object(m) = v
    {
        m.insert("metadata".to_owned(), json!({}));
    }
    match v.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable_meta(),
    }
}

#[allow(clippy::panic)]
fn unreachable_meta() -> ! {
    // meta_mut is only called on objects (checked by every caller), where the insert above
    // guarantees the map exists.
    panic!("metadata map missing after insert")
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    pub fn new() -> Self {
        let tables = RESOURCES
            .iter()
            .map(|_| Table {
                objs: BTreeMap::new(),
                history: VecDeque::new(),
                compacted: 0,
                tx: broadcast::channel(BROADCAST_CAP).0,
            })
            .collect();
        Store {
            inner: Mutex::new(Inner { rv: 0, tables }),
        }
    }

    /// The newest resourceVersion handed out.
    pub fn current_rv(&self) -> u64 {
        lock(&self.inner).rv
    }

    pub fn get(&self, res: ResId, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        lock(&self.inner).tables[res]
            .objs
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every object of a resource (optionally one namespace), in key order, and the
    /// resourceVersion the list is consistent with.
    pub fn list(&self, res: ResId, namespace: Option<&str>) -> (Vec<Arc<Stored>>, u64) {
        let inner = lock(&self.inner);
        let table = &inner.tables[res];
        let items = match namespace {
            Some(ns) => table
                .objs
                .range((ns.to_owned(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, o)| o.clone())
                .collect(),
            None => table.objs.values().cloned().collect(),
        };
        (items, inner.rv)
    }

    /// Number of objects of a resource.
    pub fn count(&self, res: ResId) -> usize {
        lock(&self.inner).tables[res].objs.len()
    }

    fn publish(inner: &mut Inner, res: ResId, kind: &'static str, obj: Arc<Stored>) {
        let ev = Arc::new(WatchEvent {
            rv: obj.rv,
            kind,
            obj,
        });
        let table = &mut inner.tables[res];
        table.history.push_back(ev.clone());
        while table.history.len() > HISTORY_CAP {
            if let Some(old) = table.history.pop_front() {
                table.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = table.tx.send(ev);
    }

    fn stamp(inner: &mut Inner, res: ResId, mut v: Value) -> Result<Arc<Stored>, StoreError> {
        inner.rv += 1;
        let rv = inner.rv;
        let def = &RESOURCES[res];
        if let Value::Object(m) = &mut v {
            m.shift_remove("apiVersion");
            m.shift_remove("kind");
            m.shift_insert(0, "apiVersion".to_owned(), Value::String(def.api_version()));
            m.shift_insert(1, "kind".to_owned(), Value::String(def.kind.to_owned()));
        }
        let meta = meta_mut(&mut v);
        meta.insert("resourceVersion".to_owned(), Value::String(rv.to_string()));
        let namespace = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let json = serde_json::to_vec(&v).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(Arc::new(Stored {
            labels: labels_of(&v),
            namespace,
            name,
            rv,
            json: Bytes::from(json),
        }))
    }

    /// Creates an object (`metadata.generateName` honoured); 409 if the name is taken.
    pub fn create(&self, res: ResId, v: Value, mode: WriteMode) -> Result<Arc<Stored>, StoreError> {
        self.create_by(res, v, mode, None)
    }

    /// [`Store::create`], recording `manager` (if any) as the object's first field manager.
    pub fn create_by(
        &self,
        res: ResId,
        mut v: Value,
        mode: WriteMode,
        manager: Option<&str>,
    ) -> Result<Arc<Stored>, StoreError> {
        let def = &RESOURCES[res];
        if !v.is_object() {
            return Err(StoreError::Invalid(
                "the body must be a JSON object".to_owned(),
            ));
        }
        if def.status_subresource
            && mode != WriteMode::Internal
            && let Value::Object(m) = &mut v
        {
            m.shift_remove("status");
        }
        let mut inner = lock(&self.inner);
        let meta = meta_mut(&mut v);
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if name.is_empty() {
            let prefix = meta
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if prefix.is_empty() {
                return Err(StoreError::Invalid(
                    "metadata.name or metadata.generateName is required".to_owned(),
                ));
            }
            name = format!("{prefix}{}", random_suffix(5));
            meta.insert("name".to_owned(), Value::String(name.clone()));
        }
        if !def.namespaced {
            meta.shift_remove("namespace");
        }
        let namespace = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if def.namespaced && namespace.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.namespace is required".to_owned(),
            ));
        }
        let key = (namespace, name.clone());
        if inner.tables[res].objs.contains_key(&key) {
            return Err(StoreError::AlreadyExists {
                kind: def.plural.to_owned(),
                name,
            });
        }
        meta.insert("uid".to_owned(), Value::String(new_uid()));
        meta.insert("creationTimestamp".to_owned(), Value::String(now_rfc3339()));
        meta.insert("generation".to_owned(), json!(1));
        meta.shift_remove("deletionTimestamp");
        // managedFields are the server's to keep, whatever the client sent.
        meta.shift_remove("managedFields");
        if let Some(manager) = manager {
            let entries = managed_fields::record_update(None, manager, &def.api_version(), None);
            meta.insert("managedFields".to_owned(), entries);
        }
        let stored = Self::stamp(&mut inner, res, v)?;
        inner.tables[res].objs.insert(key, stored.clone());
        Self::publish(&mut inner, res, "ADDED", stored.clone());
        Ok(stored)
    }

    /// Replaces an object following the status-subresource and generation rules. With
    /// `expected_rv`, a stale resourceVersion is a 409. A write that changes nothing returns the
    /// object untouched (no new resourceVersion, no event), as the real server does.
    pub fn update(
        &self,
        res: ResId,
        namespace: &str,
        name: &str,
        mode: WriteMode,
        expected_rv: Option<u64>,
        edit: impl FnOnce(&Value) -> Result<Value, StoreError>,
    ) -> Result<Arc<Stored>, StoreError> {
        let write = UpdateRequest {
            mode,
            expected_rv,
            manager: None,
        };
        self.update_by(res, namespace, name, write, edit)
    }

    /// [`Store::update`] with the writer's field manager recorded when the write changes
    /// the object.
    pub fn update_by(
        &self,
        res: ResId,
        namespace: &str,
        name: &str,
        write: UpdateRequest<'_>,
        edit: impl FnOnce(&Value) -> Result<Value, StoreError>,
    ) -> Result<Arc<Stored>, StoreError> {
        let UpdateRequest {
            mode,
            expected_rv,
            manager,
        } = write;
        let def = &RESOURCES[res];
        let mut inner = lock(&self.inner);
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = inner.tables[res].objs.get(&key).cloned() else {
            return Err(StoreError::NotFound {
                kind: def.plural.to_owned(),
                name: name.to_owned(),
            });
        };
        if let Some(rv) = expected_rv
            && rv != old.rv
        {
            return Err(StoreError::Conflict {
                kind: format!("{}.{}", def.plural, def.group)
                    .trim_end_matches('.')
                    .to_owned(),
                name: name.to_owned(),
            });
        }
        let old_v = old.value();
        let proposed = edit(&old_v)?;
        if !proposed.is_object() {
            return Err(StoreError::Invalid(
                "the body must be a JSON object".to_owned(),
            ));
        }
        let mut new_v = match mode {
            WriteMode::Status => {
                let mut v = old_v.clone();
                if let Value::Object(m) = &mut v {
                    match proposed.get("status") {
                        Some(s) if !s.is_null() => {
                            m.insert("status".to_owned(), s.clone());
                        }
                        _ => {
                            m.shift_remove("status");
                        }
                    }
                }
                v
            }
            WriteMode::Main if def.status_subresource => {
                let mut v = proposed;
                if let Value::Object(m) = &mut v {
                    match old_v.get("status") {
                        Some(s) => {
                            m.insert("status".to_owned(), s.clone());
                        }
                        None => {
                            m.shift_remove("status");
                        }
                    }
                }
                v
            }
            WriteMode::Main | WriteMode::Internal => proposed,
        };
        // Identity fields are the server's, whatever the client sent.
        let old_meta = old_v.get("metadata").cloned().unwrap_or_else(|| json!({}));
        let generation = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let bumped = generation_part(&old_v, def) != generation_part(&new_v, def);
        {
            let meta = meta_mut(&mut new_v);
            for f in ["uid", "creationTimestamp", "namespace", "name"] {
                match old_meta.get(f) {
                    Some(x) => {
                        meta.insert(f.to_owned(), x.clone());
                    }
                    None => {
                        meta.shift_remove(f);
                    }
                }
            }
            meta.insert(
                "generation".to_owned(),
                json!(if bumped { generation + 1 } else { generation }),
            );
            meta.insert(
                "resourceVersion".to_owned(),
                Value::String(old.rv.to_string()),
            );
            meta.shift_remove("managedFields");
        }
        let mut compare_old = old_v.clone();
        let entries = meta_mut(&mut compare_old).shift_remove("managedFields");
        if new_v == compare_old {
            return Ok(old);
        }
        let entries = match manager {
            Some(manager) => Some(managed_fields::record_update(
                entries.as_ref(),
                manager,
                &def.api_version(),
                (mode == WriteMode::Status).then_some("status"),
            )),
            None => entries,
        };
        if let Some(entries) = entries {
            meta_mut(&mut new_v).insert("managedFields".to_owned(), entries);
        }
        let stored = Self::stamp(&mut inner, res, new_v)?;
        inner.tables[res].objs.insert(key, stored.clone());
        Self::publish(&mut inner, res, "MODIFIED", stored.clone());
        Ok(stored)
    }

    /// Deletes an object; the DELETED event carries a fresh resourceVersion.
    pub fn delete(
        &self,
        res: ResId,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Stored>, StoreError> {
        let def = &RESOURCES[res];
        let mut inner = lock(&self.inner);
        let key = (namespace.to_owned(), name.to_owned());
        let Some(old) = inner.tables[res].objs.remove(&key) else {
            return Err(StoreError::NotFound {
                kind: def.plural.to_owned(),
                name: name.to_owned(),
            });
        };
        let mut v = old.value();
        meta_mut(&mut v).insert("deletionTimestamp".to_owned(), Value::String(now_rfc3339()));
        let stored = Self::stamp(&mut inner, res, v)?;
        Self::publish(&mut inner, res, "DELETED", stored.clone());
        Ok(stored)
    }

    /// Starts a watch: the retained events after `since` plus a live receiver, taken
    /// atomically so nothing falls between them. `None` means "from now".
    pub fn subscribe(&self, res: ResId, since: Option<u64>) -> Result<Subscription, StoreError> {
        let inner = lock(&self.inner);
        let table = &inner.tables[res];
        let rx = table.tx.subscribe();
        let backlog = match since {
            None => Vec::new(),
            Some(rv) if rv < table.compacted => {
                return Err(StoreError::Gone {
                    requested: rv,
                    oldest: table.compacted + 1,
                });
            }
            Some(rv) => {
                let start = table.history.partition_point(|e| e.rv <= rv);
                table.history.range(start..).cloned().collect()
            }
        };
        Ok((backlog, rx, inner.rv))
    }

    /// Forgets the event history of a resource, so every older resourceVersion is 410 Gone
    /// (what etcd compaction does; tests use it to exercise re-lists).
    pub fn compact(&self, res: ResId) {
        let mut inner = lock(&self.inner);
        let rv = inner.rv;
        let table = &mut inner.tables[res];
        table.history.clear();
        table.compacted = rv;
    }
}
