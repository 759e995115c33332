//! Executes a parsed operation against the seeded organisation, with GitHub's types,
//! connection rules (first/last required, capped at 100), cursors and node ids.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Map, Value as Json, json};

use crate::sandbox::github::org::{OrgSeed, TeamRole, TeamSeed};

use super::document::{Field, Value};
use super::{RateInfo, RepoView};

pub(super) struct Exec<'a> {
    pub(super) org: &'a OrgSeed,
    pub(super) repo: &'a RepoView<'a>,
    pub(super) vars: HashMap<String, Json>,
    pub(super) errors: Vec<Json>,
    pub(super) rate: RateInfo,
    pub(super) nodes: u64,
}

/// A field failed: GitHub reports it in `errors` and nulls the field.
pub(super) struct FieldError(pub(super) String, pub(super) &'static str);

pub(super) type Res = Result<Json, FieldError>;

pub(super) fn undefined(field: &str, ty: &str) -> FieldError {
    FieldError(
        format!("Field '{field}' doesn't exist on type '{ty}'"),
        "undefinedField",
    )
}

impl Exec<'_> {
    pub(super) fn query(&mut self, sel: &[Field]) -> Json {
        let mut out = Map::new();
        for f in sel {
            let v = match f.name.as_str() {
                "__typename" => Ok(json!("Query")),
                "organization" => self.organization(f),
                "repository" => self.repository(f),
                "rateLimit" => Ok(self.rate_limit(f)),
                "viewer" => Ok(json!({ "login": "shipdeck-sandbox" })),
                other => Err(undefined(other, "Query")),
            };
            out.insert(f.key().to_owned(), self.settle(f, v));
        }
        Json::Object(out)
    }

    pub(super) fn settle(&mut self, f: &Field, v: Res) -> Json {
        match v {
            Ok(v) => v,
            Err(FieldError(message, code)) => {
                self.errors.push(json!({
                    "type": code,
                    "path": [f.key()],
                    "message": message,
                }));
                Json::Null
            }
        }
    }

    pub(super) fn arg(&self, f: &Field, name: &str) -> Option<Json> {
        let v = f.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)?;
        let j = self.resolve(v);
        (!j.is_null()).then_some(j)
    }

    pub(super) fn resolve(&self, v: &Value) -> Json {
        match v {
            Value::Var(name) => self.vars.get(name).cloned().unwrap_or(Json::Null),
            Value::Int(i) => json!(i),
            Value::Float(x) => json!(x),
            Value::Str(s) | Value::Enum(s) => json!(s),
            Value::Bool(b) => json!(b),
            Value::Null => Json::Null,
            Value::List(items) => Json::Array(items.iter().map(|i| self.resolve(i)).collect()),
            Value::Object(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .collect(),
            ),
        }
    }

    pub(super) fn str_arg(&self, f: &Field, name: &str) -> Option<String> {
        self.arg(f, name)
            .and_then(|j| j.as_str().map(str::to_owned))
    }

    pub(super) fn rate_limit(&self, f: &Field) -> Json {
        let mut out = Map::new();
        for s in &f.selection {
            let v = match s.name.as_str() {
                "cost" => json!(1),
                "limit" => json!(self.rate.limit),
                "remaining" => json!(self.rate.remaining),
                "used" => json!(self.rate.used),
                "resetAt" => json!(self.rate.reset_at.to_string()),
                "nodeCount" => json!(self.nodes),
                _ => Json::Null,
            };
            out.insert(s.key().to_owned(), v);
        }
        Json::Object(out)
    }

    pub(super) fn organization(&mut self, f: &Field) -> Res {
        let login = self.str_arg(f, "login").unwrap_or_default();
        if !login.eq_ignore_ascii_case(&self.org.login) {
            return Err(FieldError(
                format!("Could not resolve to an Organization with the login of '{login}'."),
                "NOT_FOUND",
            ));
        }
        let org = self.org;
        let mut out = Map::new();
        for s in &f.selection {
            let v = match s.name.as_str() {
                "__typename" => json!("Organization"),
                "login" => json!(org.login),
                "name" => json!(org.name),
                "id" => json!(node_id("O", &org.login)),
                "teams" => {
                    let teams: Vec<&TeamSeed> = org.teams.iter().collect();
                    self.connection(
                        s,
                        "Organization",
                        "teams",
                        &teams,
                        |ex, sel, t| ex.team(sel, t),
                        |_, _| Json::Null,
                    )?
                }
                "team" => match self.str_arg(s, "slug").and_then(|slug| org.team(&slug)) {
                    Some(t) => self.team(&s.selection, t)?,
                    None => Json::Null,
                },
                other => return Err(undefined(other, "Organization")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    pub(super) fn team(&mut self, sel: &[Field], t: &TeamSeed) -> Res {
        let org = self.org;
        let mut out = Map::new();
        for s in sel {
            let v = match s.name.as_str() {
                "__typename" => json!("Team"),
                "slug" => json!(t.slug),
                "name" => json!(t.name),
                "id" => json!(node_id("T", &t.slug)),
                "combinedSlug" => json!(format!("{}/{}", org.login, t.slug)),
                "parentTeam" => match t.parent.as_deref().and_then(|p| org.team(p)) {
                    Some(p) => self.team(&s.selection, p)?,
                    None => Json::Null,
                },
                "members" => {
                    let membership = self
                        .str_arg(s, "membership")
                        .unwrap_or_else(|| "ALL".to_owned());
                    if !matches!(membership.as_str(), "ALL" | "IMMEDIATE" | "CHILD_TEAM") {
                        return Err(FieldError(
                            format!(
                                "Argument 'membership' on Field 'members' has an invalid value ({membership}). Expected type 'TeamMembershipType'."
                            ),
                            "argumentLiteralsIncompatible",
                        ));
                    }
                    let role_filter = self.str_arg(s, "role");
                    let members: Vec<(String, TeamRole)> = org
                        .members(t, &membership)
                        .into_iter()
                        .filter(|(_, r)| {
                            role_filter.as_deref().is_none_or(|want| r.as_str() == want)
                        })
                        .collect();
                    self.connection(
                        s,
                        "Team",
                        "members",
                        &members,
                        |ex, sel, (login, _)| ex.user(sel, login),
                        |(_, role), field| {
                            if field == "role" {
                                json!(role.as_str())
                            } else {
                                Json::Null
                            }
                        },
                    )?
                }
                other => return Err(undefined(other, "Team")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    pub(super) fn user(&mut self, sel: &[Field], login: &str) -> Res {
        let org = self.org;
        let Some(u) = org.user(login) else {
            return Ok(Json::Null);
        };
        let mut out = Map::new();
        for s in sel {
            let v = match s.name.as_str() {
                "__typename" => json!("User"),
                "login" => json!(u.login),
                "name" => json!(u.name),
                "email" => json!(u.email.clone().unwrap_or_default()),
                "id" => json!(node_id("U", &u.login)),
                "organizationVerifiedDomainEmails" => {
                    let for_org = self.str_arg(s, "login").unwrap_or_default();
                    if for_org.eq_ignore_ascii_case(&org.login) {
                        json!(u.verified_emails)
                    } else {
                        json!([])
                    }
                }
                other => return Err(undefined(other, "User")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    /// A Relay connection over `items` with GitHub's `first`/`after` rules.
    pub(super) fn connection<T>(
        &mut self,
        f: &Field,
        parent: &str,
        name: &str,
        items: &[T],
        node: impl Fn(&mut Self, &[Field], &T) -> Res,
        edge_extra: impl Fn(&T, &str) -> Json,
    ) -> Res {
        let first = self.arg(f, "first").and_then(|j| j.as_i64());
        let from_end = self.arg(f, "last").and_then(|j| j.as_i64());
        let Some(count) = first.or(from_end) else {
            return Err(FieldError(
                format!(
                    "You must provide a `first` or `last` value to properly paginate the `{name}` connection."
                ),
                "MISSING_PAGINATION_BOUNDARIES",
            ));
        };
        if !(0..=100).contains(&count) {
            return Err(FieldError(
                format!(
                    "Requesting {count} records on the `{name}` connection exceeds the `first` limit of 100 records."
                ),
                "EXCESSIVE_PAGINATION",
            ));
        }
        let start = match self.str_arg(f, "after") {
            Some(c) => decode_cursor(&c).map(|i| i + 1).ok_or_else(|| {
                FieldError(
                    format!("`{c}` does not appear to be a valid cursor."),
                    "INVALID_CURSOR_ARGUMENTS",
                )
            })?,
            None => 0,
        };
        let count = usize::try_from(count).unwrap_or(0);
        let start = start.min(items.len());
        let end = if first.is_some() || from_end.is_none() {
            (start + count).min(items.len())
        } else {
            items.len()
        };
        let begin = if first.is_none() && from_end.is_some() {
            end.saturating_sub(count).max(start)
        } else {
            start
        };
        let page = &items[begin..end];
        self.nodes += page.len() as u64;
        let mut out = Map::new();
        for s in &f.selection {
            let v = match s.name.as_str() {
                "__typename" => json!(format!("{parent}{}Connection", capitalise(name))),
                "totalCount" => json!(items.len()),
                "nodes" => {
                    let mut list = Vec::with_capacity(page.len());
                    for item in page {
                        list.push(node(self, &s.selection, item)?);
                    }
                    Json::Array(list)
                }
                "edges" => {
                    let mut list = Vec::with_capacity(page.len());
                    for (i, item) in page.iter().enumerate() {
                        let mut edge = Map::new();
                        for e in &s.selection {
                            let v = match e.name.as_str() {
                                "cursor" => json!(encode_cursor(begin + i)),
                                "node" => node(self, &e.selection, item)?,
                                other => {
                                    let extra = edge_extra(item, other);
                                    if extra.is_null() {
                                        return Err(undefined(other, "Edge"));
                                    }
                                    extra
                                }
                            };
                            edge.insert(e.key().to_owned(), v);
                        }
                        list.push(Json::Object(edge));
                    }
                    Json::Array(list)
                }
                "pageInfo" => {
                    let mut info = Map::new();
                    for p in &s.selection {
                        let v = match p.name.as_str() {
                            "hasNextPage" => json!(end < items.len()),
                            "hasPreviousPage" => json!(begin > 0),
                            "endCursor" => {
                                if page.is_empty() {
                                    Json::Null
                                } else {
                                    json!(encode_cursor(end - 1))
                                }
                            }
                            "startCursor" => {
                                if page.is_empty() {
                                    Json::Null
                                } else {
                                    json!(encode_cursor(begin))
                                }
                            }
                            other => return Err(undefined(other, "PageInfo")),
                        };
                        info.insert(p.key().to_owned(), v);
                    }
                    Json::Object(info)
                }
                other => return Err(undefined(other, "Connection")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(super) fn node_id(prefix: &str, key: &str) -> String {
    let raw = format!("{prefix}_{key}");
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
    )
}

pub(super) fn encode_cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{index}"))
}

pub(super) fn decode_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("cursor:v2:")?.parse().ok()
}
