//! Watch streams: the initial state or the backlog after a resourceVersion, then live
//! events, bookmarks, and a 410 ERROR event for versions that were compacted away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::ServerState;
use super::respond::{bad_request, raw_json, store_error};
use super::target::{Target, flag, parse_rv, selectors};
use crate::sandbox::kube::resources::{RESOURCES, ResourceDef};
use crate::sandbox::kube::store::{StoreError, Stored, event_line};

fn bookmark(def: &ResourceDef, rv: u64, initial_end: bool) -> Vec<u8> {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let obj = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta});
    event_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

pub(super) fn watch(state: &ServerState, t: &Target, q: &HashMap<String, String>) -> Response {
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
    let matches = move |o: &Stored| {
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
        // Bookmarks as often as kube-apiserver sends them (about once a minute), and at least
        // once within a short watch; a bookmark a second on every watch would make a cockpit
        // of hundreds of watches parse hundreds of them a second for nothing.
        let every = (timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut ticker = tokio::time::interval(every);
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
