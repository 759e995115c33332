//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a simulated application's log, as the
//! kubelet serves it through the API server: `container` (required when the pod has several),
//! `tailLines`, `sinceSeconds`, `timestamps` and `follow` (the body stays open and grows). The
//! lines are made from the pod's name, image tag and time, so the same pod always says the
//! same thing; a `bad…` tag answers one request in eight with a 500 and slow ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::Value;

use super::{ServerState, status_body};
use crate::sandbox::kube::resources::ids;

/// `namespaces/{ns}/pods/{name}/log` → (ns, name).
pub(super) fn log_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let mut parts = rest.split('/');
    let (ns, pods, name, log) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (pods == "pods" && log == "log" && parts.next().is_none()).then_some((ns, name))
}

/// The `n`th line a container of the pod writes, at `at`.
pub fn line(pod: &str, tag: &str, n: u64, at: Timestamp, timestamps: bool) -> String {
    const PATHS: [&str; 5] = [
        "/api/orders",
        "/api/basket",
        "/api/checkout",
        "/healthz",
        "/api/products",
    ];
    // A cheap mix of the inputs: stable per pod and line, no RNG state to carry.
    let h = pod
        .bytes()
        .fold(n.wrapping_mul(0x9E37_79B9_7F4A_7C15), |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
    let bad = tag.starts_with("bad");
    let path = PATHS[usize::try_from(h % 5).unwrap_or(0)];
    let (code, ms) = if bad && h % 8 == 0 {
        (500, 900 + h % 400)
    } else if bad {
        (200, 300 + h % 400)
    } else {
        (200, 5 + h % 60)
    };
    let level = if code >= 500 { "ERROR" } else { "INFO" };
    let text = format!(
        "{level} {tag} GET {path} {code} {ms}ms req={:08x}",
        h & 0xffff_ffff
    );
    if timestamps {
        format!("{} {text}", at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
    } else {
        text
    }
}

struct Source {
    pod: String,
    tag: String,
    started: Timestamp,
    /// Time between two lines (the sandbox's clock applied).
    every: Duration,
    timestamps: bool,
}

impl Source {
    fn at(&self, n: u64) -> Timestamp {
        let offset = self
            .every
            .saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
        self.started.checked_add(offset).unwrap_or(self.started)
    }

    /// Lines written up to `now`.
    fn written(&self, now: Timestamp) -> u64 {
        let elapsed = now.duration_since(self.started).as_micros().max(0);
        let every = self.every.as_micros().max(1);
        u64::try_from(elapsed / i128::try_from(every).unwrap_or(i128::MAX)).unwrap_or(0)
    }

    fn text(&self, from: u64, to: u64) -> String {
        let mut out = String::new();
        for n in from..to {
            out.push_str(&line(&self.pod, &self.tag, n, self.at(n), self.timestamps));
            out.push('\n');
        }
        out
    }
}

pub(super) fn serve(
    state: &Arc<ServerState>,
    ns: &str,
    name: &str,
    q: &HashMap<String, String>,
) -> Response {
    let Some(pod) = state.store.get(ids::pods(), ns, name) else {
        return status_body(404, "NotFound", &format!("pods \"{name}\" not found"), None);
    };
    let pod = pod.value();
    // A pod whose output is fixed (a migration Job's) says exactly that.
    if let Some(text) = pod
        .pointer(&format!(
            "/metadata/annotations/{}",
            crate::sandbox::kube::sim::migrations::LOG_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
    {
        let lines: Vec<&str> = text.lines().collect();
        let tail = q
            .get("tailLines")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(lines.len())
            .min(lines.len());
        let mut body = lines[lines.len() - tail..].join("\n");
        body.push('\n');
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response();
    }
    let containers: Vec<(String, String)> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (s("name"), s("image"))
        })
        .collect();
    let image = match q.get("container") {
        Some(want) => match containers.iter().find(|(n, _)| n == want) {
            Some((_, image)) => image.clone(),
            None => {
                return status_body(
                    400,
                    "BadRequest",
                    &format!("container {want} is not valid for pod {name}"),
                    None,
                );
            }
        },
        None if containers.len() > 1 => {
            let names: Vec<&str> = containers.iter().map(|(n, _)| n.as_str()).collect();
            return status_body(
                400,
                "BadRequest",
                &format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                ),
                None,
            );
        }
        None => containers
            .first()
            .map(|(_, i)| i.clone())
            .unwrap_or_default(),
    };
    let tag = image
        .rsplit_once(':')
        .map_or("latest", |(_, t)| t)
        .to_owned();
    let started = pod
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or_else(Timestamp::now);
    let src = Source {
        pod: name.to_owned(),
        tag,
        started,
        every: state.log_every,
        timestamps: q.get("timestamps").is_some_and(|v| v == "true"),
    };
    let now = Timestamp::now();
    let written = src.written(now);
    let mut from = 0;
    if let Some(since) = q.get("sinceSeconds").and_then(|v| v.parse::<i64>().ok()) {
        let cut = now
            .checked_sub(jiff::SignedDuration::from_secs(since))
            .unwrap_or(now);
        from = from.max(src.written(cut));
    }
    if let Some(tail) = q.get("tailLines").and_then(|v| v.parse::<u64>().ok()) {
        from = from.max(written.saturating_sub(tail));
    }
    let head = src.text(from, written);
    if q.get("follow").is_none_or(|v| v != "true") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], head).into_response();
    }
    // Follow: what was written so far, then each new line as the clock makes it, until the
    // client goes or the pod is deleted.
    let store = state.store.clone();
    let ns = ns.to_owned();
    let stream = async_stream_lines(src, head, written, move |name| {
        store.get(ids::pods(), &ns, name).is_some()
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn async_stream_lines(
    src: Source,
    head: String,
    next: u64,
    alive: impl Fn(&str) -> bool + Send + 'static,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send {
    let tick = src
        .every
        .clamp(Duration::from_millis(10), Duration::from_millis(500));
    futures::stream::unfold(
        (Some(head), src, alive, next),
        move |(first, src, alive, next)| async move {
            if let Some(h) = first {
                return Some((Ok(h), (None, src, alive, next)));
            }
            loop {
                tokio::time::sleep(tick).await;
                if !alive(&src.pod) {
                    return None;
                }
                let upto = src.written(Timestamp::now());
                if upto > next {
                    let text = src.text(next, upto);
                    return Some((Ok(text), (None, src, alive, upto)));
                }
            }
        },
    )
}
