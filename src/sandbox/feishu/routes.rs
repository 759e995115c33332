//! The sandbox's handlers, shaped like the open platform's answers.

// Helpers return a finished answer as their error so handlers can bail out with `?`-like
// early returns; these are built once per request, so boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value as Json, json};

use super::{RecordedMessage, Shared, State};
use crate::services::feishu::sign;

type Shd = AxState<Arc<Shared>>;
type Params = Query<BTreeMap<String, String>>;

const MAX_IDS: usize = 50;
const MAX_BODY: usize = 20 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/open-apis/auth/v3/tenant_access_token/internal",
            post(tenant_token),
        )
        .route(
            "/open-apis/contact/v3/users/batch_get_id",
            post(batch_get_id),
        )
        .route(
            "/open-apis/im/v1/chats/{chat_id}/members",
            axum::routing::get(list_members)
                .post(add_members)
                .delete(remove_members),
        )
        .route("/open-apis/bot/v2/hook/{token}", post(webhook))
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found") })
        .with_state(shared)
}

#[allow(clippy::needless_pass_by_value)] // callers build `data` in place with json!
fn answer(status: StatusCode, code: i64, msg: &str, data: Json) -> Response {
    (
        status,
        axum::Json(json!({ "code": code, "msg": msg, "data": data })),
    )
        .into_response()
}

fn ok(data: Json) -> Response {
    answer(StatusCode::OK, 0, "success", data)
}

fn invalid(msg: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        99_992_402,
        &format!("field validation failed: {msg}"),
        json!({}),
    )
}

/// Rate limit per API, injected server errors, and the tenant token: every app API passes here.
fn admit(
    st: &mut State,
    api: &'static str,
    headers: &HeaderMap,
    auth: bool,
) -> Result<(), Response> {
    st.stats.api_requests += 1;
    st.counter += 1;
    if let Some(n) = st.opts.fail_every
        && n > 0
        && st.counter.is_multiple_of(u64::from(n))
    {
        st.stats.server_errors += 1;
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream temporarily unavailable",
        )
            .into_response());
    }
    let now = Instant::now();
    let limit = st.opts.api_per_second;
    let window = st.windows.entry(api).or_insert((now, 0));
    if now.duration_since(window.0) >= Duration::from_secs(1) {
        *window = (now, 0);
    }
    if window.1 >= limit {
        st.stats.rate_limited += 1;
        let left = Duration::from_secs(1).saturating_sub(now.duration_since(window.0));
        let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let mut resp = answer(
            StatusCode::TOO_MANY_REQUESTS,
            99_991_400,
            "request trigger frequency limit",
            json!({}),
        );
        let h = resp.headers_mut();
        if let Ok(v) = limit.to_string().parse() {
            h.insert("x-ogw-ratelimit-limit", v);
        }
        if let Ok(v) = reset.to_string().parse() {
            h.insert("x-ogw-ratelimit-reset", v);
        }
        return Err(resp);
    }
    window.1 += 1;
    if auth {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let valid = st.tokens.get(token).is_some_and(|exp| *exp > now);
        if !valid {
            return Err(answer(
                StatusCode::BAD_REQUEST,
                99_991_663,
                "Invalid access token for authorization. Please make a request with token attached.",
                json!({}),
            ));
        }
    }
    Ok(())
}

async fn tenant_token(AxState(sh): Shd, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut st = sh.lock();
    if let Err(r) = admit(&mut st, "token", &headers, false) {
        return r;
    }
    let Ok(req) = serde_json::from_slice::<Json>(&body) else {
        return invalid("body is not JSON");
    };
    if req["app_id"].as_str() != Some(st.opts.app_id.as_str()) {
        return answer(
            StatusCode::BAD_REQUEST,
            10_003,
            "invalid param: app_id",
            json!({}),
        );
    }
    if req["app_secret"].as_str() != Some(st.opts.app_secret.as_str()) {
        return answer(
            StatusCode::BAD_REQUEST,
            10_014,
            "app secret invalid",
            json!({}),
        );
    }
    st.stats.tokens_issued += 1;
    let token = format!("t-sandbox-{:016x}", rand::random::<u64>());
    let ttl = st.opts.token_ttl;
    st.tokens.insert(token.clone(), Instant::now() + ttl);
    (
        StatusCode::OK,
        axum::Json(json!({
            "code": 0, "msg": "ok", "tenant_access_token": token, "expire": ttl.as_secs()
        })),
    )
        .into_response()
}

async fn batch_get_id(
    AxState(sh): Shd,
    Query(q): Params,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut st = sh.lock();
    if let Err(r) = admit(&mut st, "batch_get_id", &headers, true) {
        return r;
    }
    st.stats.batch_get_id_calls += 1;
    if q.get("user_id_type").is_some_and(|t| t != "open_id") {
        return invalid("the sandbox only serves user_id_type=open_id");
    }
    let Ok(req) = serde_json::from_slice::<Json>(&body) else {
        return invalid("body is not JSON");
    };
    let list = |k: &str| -> Vec<String> {
        req[k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let (emails, mobiles) = (list("emails"), list("mobiles"));
    if emails.len() > MAX_IDS || mobiles.len() > MAX_IDS {
        return invalid("emails and mobiles take at most 50 entries each");
    }
    let mut out = Vec::new();
    for e in emails {
        let hit = st.opts.users.iter().find(|u| {
            u.email
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(&e))
        });
        out.push(match hit {
            Some(u) => json!({ "email": e, "user_id": u.open_id, "status": { "is_activated": true, "is_resigned": false } }),
            None => json!({ "email": e }),
        });
    }
    for m in mobiles {
        let hit = st
            .opts
            .users
            .iter()
            .find(|u| u.mobile.as_deref() == Some(m.as_str()));
        out.push(match hit {
            Some(u) => json!({ "mobile": m, "user_id": u.open_id, "status": { "is_activated": true, "is_resigned": false } }),
            None => json!({ "mobile": m }),
        });
    }
    ok(json!({ "user_list": out }))
}

fn chat_index(st: &State, chat_id: &str) -> Result<usize, Response> {
    st.chats
        .iter()
        .position(|c| c.seed.chat_id == chat_id)
        .ok_or_else(|| {
            answer(
                StatusCode::BAD_REQUEST,
                232_011,
                "Operator can NOT be out of the chat.",
                json!({}),
            )
        })
}

fn id_type_ok(q: &BTreeMap<String, String>) -> Result<(), Response> {
    match q.get("member_id_type").map(String::as_str) {
        None | Some("open_id") => Ok(()),
        Some(_) => Err(invalid("the sandbox only serves member_id_type=open_id")),
    }
}

async fn list_members(
    AxState(sh): Shd,
    Path(chat_id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let mut st = sh.lock();
    if let Err(r) = admit(&mut st, "chat_members_get", &headers, true).and_then(|()| id_type_ok(&q))
    {
        return r;
    }
    st.stats.list_calls += 1;
    let i = match chat_index(&st, &chat_id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let size = match q.get("page_size").map(|s| s.parse::<usize>()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("page_size must be 1..=100"),
    };
    let start = match q.get("page_token") {
        None => 0,
        Some(t) => match decode_page(t) {
            Some(n) => n,
            None => return invalid("page_token is invalid"),
        },
    };
    let members = &st.chats[i].members;
    let end = (start + size).min(members.len());
    let start = start.min(end);
    let items: Vec<Json> = members[start..end]
        .iter()
        .map(|id| {
            let name = st
                .opts
                .users
                .iter()
                .find(|u| &u.open_id == id)
                .map_or("", |u| u.name.as_str());
            json!({ "member_id_type": "open_id", "member_id": id, "name": name, "tenant_key": "sandbox" })
        })
        .collect();
    let more = end < members.len();
    ok(json!({
        "items": items,
        "page_token": if more { encode_page(end) } else { String::new() },
        "has_more": more,
        "member_total": members.len(),
    }))
}

fn encode_page(n: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("members+{n}/"))
}

fn decode_page(t: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD.decode(t).ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("members+")?
        .strip_suffix('/')?
        .parse()
        .ok()
}

fn ids(body: &[u8]) -> Result<Vec<String>, Response> {
    let req: Json = serde_json::from_slice(body).map_err(|_| invalid("body is not JSON"))?;
    let list: Vec<String> = req["id_list"]
        .as_array()
        .ok_or_else(|| invalid("id_list is required"))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if list.len() > MAX_IDS {
        return Err(invalid("id_list takes at most 50 users"));
    }
    Ok(list)
}

/// Releases a chat's add slot even if the request is dropped mid-way.
struct AddSlot {
    shared: Arc<Shared>,
    chat: usize,
}

impl Drop for AddSlot {
    fn drop(&mut self) {
        if let Some(c) = self.shared.lock().chats.get_mut(self.chat) {
            c.adding = false;
        }
    }
}

async fn add_members(
    AxState(sh): Shd,
    Path(chat_id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (i, list, hold) = {
        let mut st = sh.lock();
        if let Err(r) =
            admit(&mut st, "chat_members_create", &headers, true).and_then(|()| id_type_ok(&q))
        {
            return r;
        }
        st.stats.add_calls += 1;
        let i = match chat_index(&st, &chat_id) {
            Ok(i) => i,
            Err(r) => return r,
        };
        let list = match ids(&body) {
            Ok(l) => l,
            Err(r) => return r,
        };
        if st.chats[i].adding {
            st.stats.concurrent_add_conflicts += 1;
            return answer(
                StatusCode::BAD_REQUEST,
                232_019,
                "The request you send is not a valid request for this chat: another member operation is in progress; retry serially.",
                json!({}),
            );
        }
        st.chats[i].adding = true;
        (i, list, st.opts.add_hold)
    };
    let slot = AddSlot {
        shared: sh.clone(),
        chat: i,
    };
    tokio::time::sleep(hold).await;
    let mut st = sh.lock();
    let known: Vec<String> = st.opts.users.iter().map(|u| u.open_id.clone()).collect();
    let mut not_existed = Vec::new();
    let name = st.chats[i].seed.name.clone();
    for id in list {
        if !known.contains(&id) {
            not_existed.push(id);
        } else if !st.chats[i].members.contains(&id) {
            st.chats[i].members.push(id);
        }
    }
    *st.stats.writes_per_chat.entry(name).or_default() += 1;
    drop(st);
    drop(slot);
    ok(json!({
        "invalid_id_list": [],
        "not_existed_id_list": not_existed,
        "pending_approval_id_list": []
    }))
}

async fn remove_members(
    AxState(sh): Shd,
    Path(chat_id): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut st = sh.lock();
    if let Err(r) =
        admit(&mut st, "chat_members_delete", &headers, true).and_then(|()| id_type_ok(&q))
    {
        return r;
    }
    st.stats.remove_calls += 1;
    let i = match chat_index(&st, &chat_id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let list = match ids(&body) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let mut invalid_ids = Vec::new();
    for id in list {
        if let Some(pos) = st.chats[i].members.iter().position(|m| *m == id) {
            st.chats[i].members.remove(pos);
        } else {
            invalid_ids.push(id);
        }
    }
    let name = st.chats[i].seed.name.clone();
    *st.stats.writes_per_chat.entry(name).or_default() += 1;
    ok(json!({ "invalid_id_list": invalid_ids }))
}

fn bot_answer(code: i64, msg: &str) -> Response {
    let body = if code == 0 {
        json!({ "StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success" })
    } else {
        json!({ "code": code, "data": {}, "msg": msg })
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn webhook(AxState(sh): Shd, Path(token): Path<String>, body: axum::body::Bytes) -> Response {
    let mut st = sh.lock();
    let Some(i) = st.chats.iter().position(|c| c.seed.webhook_token == token) else {
        return bot_answer(
            19_001,
            "param invalid: incoming webhook access token invalid",
        );
    };
    let parsed: Option<Json> = serde_json::from_slice(&body).ok();
    let (code, msg) = judge(&mut st, i, body.len(), parsed.as_ref());
    let body_json = parsed.unwrap_or(Json::Null);
    let record = describe(&st.chats[i].seed.name, code, body_json);
    st.stats.bot_messages += 1;
    if code != 0 {
        st.stats.bot_rejected += 1;
    }
    st.messages.push(record.clone());
    drop(st);
    let _ = sh.events.send(record);
    bot_answer(code, msg)
}

/// Feishu's checks, in its order: body, signature, frequency, content.
fn judge(st: &mut State, i: usize, len: usize, body: Option<&Json>) -> (i64, &'static str) {
    if len > MAX_BODY {
        return (9499, "Bad Request: the request body exceeds 20 KB");
    }
    let Some(body) = body.filter(|b| b.is_object()) else {
        return (9499, "Bad Request");
    };
    if let Some(secret) = st.chats[i].seed.secret.clone() {
        let ts = body["timestamp"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or_else(|| body["timestamp"].as_i64());
        let fresh = ts.is_some_and(|t| (jiff::Timestamp::now().as_second() - t).abs() <= 3600);
        let signed = ts.is_some_and(|t| body["sign"].as_str() == Some(sign(t, &secret).as_str()));
        if !fresh || !signed {
            return (
                19_021,
                "sign match fail or timestamp is not within one hour from current time",
            );
        }
    }
    let now = Instant::now();
    let (per_s, per_min) = (st.opts.bot_per_second, st.opts.bot_per_minute);
    let sent = &mut st.chats[i].sent;
    while sent
        .front()
        .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
    {
        sent.pop_front();
    }
    let last_second = sent
        .iter()
        .filter(|t| now.duration_since(**t) < Duration::from_secs(1))
        .count();
    if last_second >= per_s as usize || sent.len() >= per_min as usize {
        return (
            11_232,
            "frequency limited psm[lark.oapi.app_platform_runtime]appID[0]",
        );
    }
    let valid = match body["msg_type"].as_str() {
        Some("text") => body["content"]["text"].is_string(),
        Some("post") => body["content"]["post"].is_object(),
        Some("interactive") => body["card"].is_object(),
        Some("image") => body["content"]["image_key"].is_string(),
        Some("share_chat") => body["content"]["share_chat_id"].is_string(),
        _ => false,
    };
    if !valid {
        return (9499, "Bad Request: msg_type and content do not match");
    }
    sent.push_back(now);
    (0, "success")
}

fn describe(chat: &str, code: i64, body: Json) -> RecordedMessage {
    let msg_type = body["msg_type"].as_str().unwrap_or_default().to_owned();
    let mut text = String::new();
    collect_text(&body, &mut text);
    let (title, template) = if msg_type == "interactive" {
        (
            body["card"]["header"]["title"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            body["card"]["header"]["template"]
                .as_str()
                .map(str::to_owned),
        )
    } else {
        (
            body["content"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            None,
        )
    };
    RecordedMessage {
        chat: chat.to_owned(),
        at: jiff::Timestamp::now(),
        code,
        accepted: code == 0,
        msg_type,
        title,
        template,
        text: text.trim().to_owned(),
        body,
    }
}

/// Every `content`/`text` string of a message, in order.
fn collect_text(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("content" | "text", Json::String(s)) => {
                        out.push_str(s);
                        out.push('\n');
                    }
                    ("sign" | "timestamp", _) => {}
                    _ => collect_text(v, out),
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|v| collect_text(v, out)),
        _ => {}
    }
}
