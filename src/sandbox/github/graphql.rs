//! The GitHub GraphQL endpoint of the sandbox (org teams and members), used by the Feishu sync.
//!
//! A small but real GraphQL reader: operations with variables (and defaults), aliases,
//! fragments (named and inline), arguments of every literal kind. It executes against
//! the seeded organisation with GitHub's types and rules: `Query.organization(login)`,
//! `Organization.teams(first, after)` / `team(slug)`, `Team.members(first, after, membership)`
//! with `nodes`, `edges { cursor role node }`, `pageInfo`, `totalCount`, `User { login name
//! email organizationVerifiedDomainEmails(login) }`, and `rateLimit`. `first`/`last` is required
//! on every connection and capped at 100, as GitHub's node limits say.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Map, Value as Json, json};

use super::org::{OrgSeed, TeamRole, TeamSeed};

/// A GraphQL input value before variables are substituted.
#[derive(Debug, Clone)]
enum Value {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// One selected field.
#[derive(Debug, Clone)]
struct Field {
    alias: Option<String>,
    name: String,
    args: Vec<(String, Value)>,
    selection: Vec<Field>,
}

impl Field {
    fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// A parsed document: the operation's selection and its variable defaults.
struct Operation {
    selection: Vec<Field>,
    defaults: HashMap<String, Json>,
}

/// Runs one GraphQL request body (`{"query": …, "variables": …}`) and returns GitHub's
/// response shape: `{"data": …}` or `{"data": null, "errors": [...]}`.
pub(crate) fn execute(org: &OrgSeed, body: &Json, rate: RateInfo) -> Json {
    let Some(query) = body.get("query").and_then(Json::as_str) else {
        return errors_only("A query attribute must be specified and must be a string.");
    };
    let op = match parse(query) {
        Ok(op) => op,
        Err(e) => return errors_only(&format!("Parse error: {e}")),
    };
    let mut vars = op.defaults.clone();
    if let Some(Json::Object(given)) = body.get("variables") {
        for (k, v) in given {
            vars.insert(k.clone(), v.clone());
        }
    }
    let mut ctx = Exec {
        org,
        vars,
        errors: Vec::new(),
        rate,
        nodes: 0,
    };
    let data = ctx.query(&op.selection);
    let mut out = Map::new();
    out.insert("data".to_owned(), data);
    if !ctx.errors.is_empty() {
        out.insert("errors".to_owned(), Json::Array(ctx.errors));
    }
    Json::Object(out)
}

fn errors_only(message: &str) -> Json {
    json!({ "errors": [ { "message": message } ] })
}

/// The rate-limit numbers `rateLimit` reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateInfo {
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    pub reset_at: jiff::Timestamp,
}

struct Exec<'a> {
    org: &'a OrgSeed,
    vars: HashMap<String, Json>,
    errors: Vec<Json>,
    rate: RateInfo,
    nodes: u64,
}

/// A field failed: GitHub reports it in `errors` and nulls the field.
struct FieldError(String, &'static str);

type Res = Result<Json, FieldError>;

fn undefined(field: &str, ty: &str) -> FieldError {
    FieldError(
        format!("Field '{field}' doesn't exist on type '{ty}'"),
        "undefinedField",
    )
}

impl Exec<'_> {
    fn query(&mut self, sel: &[Field]) -> Json {
        let mut out = Map::new();
        for f in sel {
            let v = match f.name.as_str() {
                "__typename" => Ok(json!("Query")),
                "organization" => self.organization(f),
                "rateLimit" => Ok(self.rate_limit(f)),
                "viewer" => Ok(json!({ "login": "shipdeck-sandbox" })),
                other => Err(undefined(other, "Query")),
            };
            out.insert(f.key().to_owned(), self.settle(f, v));
        }
        Json::Object(out)
    }

    fn settle(&mut self, f: &Field, v: Res) -> Json {
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

    fn arg(&self, f: &Field, name: &str) -> Option<Json> {
        let v = f.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)?;
        let j = self.resolve(v);
        (!j.is_null()).then_some(j)
    }

    fn resolve(&self, v: &Value) -> Json {
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

    fn str_arg(&self, f: &Field, name: &str) -> Option<String> {
        self.arg(f, name)
            .and_then(|j| j.as_str().map(str::to_owned))
    }

    fn rate_limit(&self, f: &Field) -> Json {
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

    fn organization(&mut self, f: &Field) -> Res {
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

    fn team(&mut self, sel: &[Field], t: &TeamSeed) -> Res {
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

    fn user(&mut self, sel: &[Field], login: &str) -> Res {
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
    fn connection<T>(
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

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn node_id(prefix: &str, key: &str) -> String {
    let raw = format!("{prefix}_{key}");
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
    )
}

fn encode_cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{index}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("cursor:v2:")?.parse().ok()
}

// ---- parsing -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Spread,
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '{' | '}' | '(' | ')' | ':' | '$' | '!' | '[' | ']' | '=' | '@' | '|' | '&' => {
                out.push(Tok::Punct(c));
                i += 1;
            }
            '.' => {
                if chars.get(i..i + 3) == Some(&['.', '.', '.'][..]) {
                    out.push(Tok::Spread);
                    i += 3;
                } else {
                    return Err(format!("unexpected '.' at {i}"));
                }
            }
            '"' => {
                if chars.get(i..i + 3) == Some(&['"', '"', '"'][..]) {
                    let start = i + 3;
                    let mut j = start;
                    while j + 2 < chars.len() && chars[j..j + 3] != ['"', '"', '"'] {
                        j += 1;
                    }
                    if j + 2 >= chars.len() {
                        return Err("unterminated block string".to_owned());
                    }
                    out.push(Tok::Str(chars[start..j].iter().collect()));
                    i = j + 3;
                } else {
                    let mut s = String::new();
                    i += 1;
                    loop {
                        let Some(&ch) = chars.get(i) else {
                            return Err("unterminated string".to_owned());
                        };
                        i += 1;
                        match ch {
                            '"' => break,
                            '\\' => {
                                let Some(&esc) = chars.get(i) else {
                                    return Err("unterminated string".to_owned());
                                };
                                i += 1;
                                match esc {
                                    'n' => s.push('\n'),
                                    't' => s.push('\t'),
                                    'r' => s.push('\r'),
                                    'b' => s.push('\u{8}'),
                                    'f' => s.push('\u{c}'),
                                    'u' => {
                                        let hex: String =
                                            chars.get(i..i + 4).unwrap_or(&[]).iter().collect();
                                        let code = u32::from_str_radix(&hex, 16)
                                            .map_err(|_| "bad \\u escape".to_owned())?;
                                        s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                        i += 4;
                                    }
                                    other => s.push(other),
                                }
                            }
                            other => s.push(other),
                        }
                    }
                    out.push(Tok::Str(s));
                }
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | 'e' | 'E' | '+' | '-'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if let Ok(n) = text.parse::<i64>() {
                    out.push(Tok::Int(n));
                } else {
                    out.push(Tok::Float(
                        text.parse().map_err(|_| format!("bad number {text}"))?,
                    ));
                }
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Tok::Name(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    fragments: HashMap<String, Vec<Sel>>,
}

/// A selection before fragments are spliced in.
#[derive(Debug, Clone)]
enum Sel {
    Field {
        alias: Option<String>,
        name: String,
        args: Vec<(String, Value)>,
        selection: Vec<Sel>,
    },
    Spread(String),
    Inline(Vec<Sel>),
}

fn parse(src: &str) -> Result<Operation, String> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        fragments: HashMap::new(),
    };
    let mut operation: Option<(Vec<Sel>, HashMap<String, Json>)> = None;
    while p.pos < p.toks.len() {
        match p.peek() {
            Some(Tok::Punct('{')) => {
                let sel = p.selection_set()?;
                set_once(&mut operation, (sel, HashMap::new()))?;
            }
            Some(Tok::Name(n)) if n == "query" => {
                p.pos += 1;
                if let Some(Tok::Name(_)) = p.peek() {
                    p.pos += 1;
                }
                let defaults = if p.eat(&Tok::Punct('(')) {
                    p.variable_definitions()?
                } else {
                    HashMap::new()
                };
                p.skip_directives()?;
                let sel = p.selection_set()?;
                set_once(&mut operation, (sel, defaults))?;
            }
            Some(Tok::Name(n)) if n == "fragment" => {
                p.pos += 1;
                let name = p.name()?;
                p.expect_name("on")?;
                p.name()?;
                let sel = p.selection_set()?;
                p.fragments.insert(name, sel);
            }
            Some(Tok::Name(n)) if n == "mutation" || n == "subscription" => {
                return Err(format!("the sandbox serves queries only, not {n}s"));
            }
            other => return Err(format!("unexpected {other:?} at the top level")),
        }
    }
    let (sel, defaults) = operation.ok_or("no operation in the document")?;
    let selection = p.splice(&sel, 0)?;
    Ok(Operation {
        selection,
        defaults,
    })
}

fn set_once<T>(slot: &mut Option<T>, v: T) -> Result<(), String> {
    if slot.is_some() {
        return Err("the sandbox runs documents with exactly one operation".to_owned());
    }
    *slot = Some(v);
    Ok(())
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Result<Tok, String> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of query")?;
        self.pos += 1;
        Ok(t)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Tok::Punct(p) if p == c => Ok(()),
            other => Err(format!("expected '{c}', found {other:?}")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Name(n) => Ok(n),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }

    fn expect_name(&mut self, want: &str) -> Result<(), String> {
        let n = self.name()?;
        if n == want {
            Ok(())
        } else {
            Err(format!("expected '{want}', found '{n}'"))
        }
    }

    fn skip_directives(&mut self) -> Result<(), String> {
        if self.peek() == Some(&Tok::Punct('@')) {
            return Err("directives are not supported by the sandbox".to_owned());
        }
        Ok(())
    }

    fn variable_definitions(&mut self) -> Result<HashMap<String, Json>, String> {
        let mut defaults = HashMap::new();
        while !self.eat(&Tok::Punct(')')) {
            self.expect('$')?;
            let name = self.name()?;
            self.expect(':')?;
            self.type_ref()?;
            if self.eat(&Tok::Punct('=')) {
                let v = self.value()?;
                defaults.insert(name, literal_json(&v));
            }
        }
        Ok(defaults)
    }

    fn type_ref(&mut self) -> Result<(), String> {
        if self.eat(&Tok::Punct('[')) {
            self.type_ref()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        self.eat(&Tok::Punct('!'));
        Ok(())
    }

    fn value(&mut self) -> Result<Value, String> {
        Ok(match self.next()? {
            Tok::Punct('$') => Value::Var(self.name()?),
            Tok::Int(n) => Value::Int(n),
            Tok::Float(x) => Value::Float(x),
            Tok::Str(s) => Value::Str(s),
            Tok::Name(n) => match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::Enum(n),
            },
            Tok::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(&Tok::Punct(']')) {
                    items.push(self.value()?);
                }
                Value::List(items)
            }
            Tok::Punct('{') => {
                let mut fields = Vec::new();
                while !self.eat(&Tok::Punct('}')) {
                    let k = self.name()?;
                    self.expect(':')?;
                    fields.push((k, self.value()?));
                }
                Value::Object(fields)
            }
            other => return Err(format!("expected a value, found {other:?}")),
        })
    }

    fn selection_set(&mut self) -> Result<Vec<Sel>, String> {
        self.expect('{')?;
        let mut out = Vec::new();
        while !self.eat(&Tok::Punct('}')) {
            if self.eat(&Tok::Spread) {
                if let Some(Tok::Name(n)) = self.peek().cloned() {
                    if n == "on" {
                        self.pos += 1;
                        self.name()?;
                        self.skip_directives()?;
                        out.push(Sel::Inline(self.selection_set()?));
                    } else {
                        self.pos += 1;
                        self.skip_directives()?;
                        out.push(Sel::Spread(n));
                    }
                } else {
                    self.skip_directives()?;
                    out.push(Sel::Inline(self.selection_set()?));
                }
                continue;
            }
            let first = self.name()?;
            let (alias, name) = if self.eat(&Tok::Punct(':')) {
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let mut args = Vec::new();
            if self.eat(&Tok::Punct('(')) {
                while !self.eat(&Tok::Punct(')')) {
                    let k = self.name()?;
                    self.expect(':')?;
                    args.push((k, self.value()?));
                }
            }
            self.skip_directives()?;
            let selection = if self.peek() == Some(&Tok::Punct('{')) {
                self.selection_set()?
            } else {
                Vec::new()
            };
            out.push(Sel::Field {
                alias,
                name,
                args,
                selection,
            });
        }
        Ok(out)
    }

    /// Replaces fragment spreads with their fields (the sandbox's types are all concrete).
    fn splice(&self, sel: &[Sel], depth: usize) -> Result<Vec<Field>, String> {
        if depth > 32 {
            return Err("fragments nest too deep (a cycle?)".to_owned());
        }
        let mut out = Vec::new();
        for s in sel {
            match s {
                Sel::Field {
                    alias,
                    name,
                    args,
                    selection,
                } => out.push(Field {
                    alias: alias.clone(),
                    name: name.clone(),
                    args: args.clone(),
                    selection: self.splice(selection, depth + 1)?,
                }),
                Sel::Inline(inner) => out.extend(self.splice(inner, depth + 1)?),
                Sel::Spread(name) => {
                    let inner = self
                        .fragments
                        .get(name)
                        .ok_or_else(|| format!("Fragment {name} was used, but not defined"))?;
                    out.extend(self.splice(inner, depth + 1)?);
                }
            }
        }
        Ok(out)
    }
}

fn literal_json(v: &Value) -> Json {
    match v {
        Value::Var(_) | Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Float(x) => json!(x),
        Value::Str(s) | Value::Enum(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::List(items) => Json::Array(items.iter().map(literal_json).collect()),
        Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), literal_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn rate() -> RateInfo {
        RateInfo {
            limit: 5000,
            remaining: 5000,
            used: 0,
            reset_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn teams_and_members_with_variables_fragments_and_aliases() {
        let org = OrgSeed::demo();
        let q = r"
            query Teams($org: String!, $after: String, $n: Int = 2) {
              organization(login: $org) {
                teams(first: $n, after: $after) {
                  pageInfo { hasNextPage endCursor }
                  nodes { ...T }
                }
              }
            }
            fragment T on Team { slug nm: name members(first: 100, membership: IMMEDIATE) { totalCount nodes { login email } } }
        ";
        let out = execute(
            &org,
            &json!({"query": q, "variables": {"org": "example-org"}}),
            rate(),
        );
        assert!(out.get("errors").is_none(), "{out}");
        let teams = &out["data"]["organization"]["teams"];
        assert_eq!(teams["nodes"][0]["slug"], "platform");
        assert_eq!(teams["nodes"][1]["nm"], "Web");
        assert_eq!(teams["nodes"][1]["members"]["totalCount"], 3);
        assert_eq!(teams["pageInfo"]["hasNextPage"], true);
        let after = teams["pageInfo"]["endCursor"].as_str().unwrap();
        let out = execute(
            &org,
            &json!({"query": q, "variables": {"org": "example-org", "after": after}}),
            rate(),
        );
        let teams = &out["data"]["organization"]["teams"];
        assert_eq!(teams["nodes"][0]["slug"], "release-managers");
        assert_eq!(teams["pageInfo"]["hasNextPage"], false);
    }

    #[test]
    fn all_membership_includes_child_teams() {
        let org = OrgSeed::demo();
        let q = r#"{ organization(login: "example-org") { team(slug: "platform") {
            all: members(first: 50) { totalCount edges { role node { login } } }
            own: members(first: 50, membership: IMMEDIATE) { totalCount } } } }"#;
        let out = execute(&org, &json!({ "query": q }), rate());
        let team = &out["data"]["organization"]["team"];
        assert_eq!(team["all"]["totalCount"], 5);
        assert_eq!(team["own"]["totalCount"], 2);
        assert_eq!(team["all"]["edges"][0]["role"], "MAINTAINER");
    }

    #[test]
    fn github_rules_are_enforced() {
        let org = OrgSeed::demo();
        let missing_first = execute(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { teams { nodes { slug } } } }"}),
            rate(),
        );
        assert!(
            missing_first["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("must provide a `first`")
        );
        let too_many = execute(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { teams(first: 101) { nodes { slug } } } }"}),
            rate(),
        );
        assert!(
            too_many["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("exceeds the `first` limit of 100")
        );
        let unknown_org = execute(
            &org,
            &json!({"query": "{ organization(login: \"nope\") { login } }"}),
            rate(),
        );
        assert_eq!(unknown_org["data"]["organization"], Json::Null);
        assert_eq!(unknown_org["errors"][0]["type"], "NOT_FOUND");
        let bad_field = execute(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { nope } }"}),
            rate(),
        );
        assert!(
            bad_field["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Field 'nope' doesn't exist on type 'Organization'")
        );
        let garbage = execute(&org, &json!({"query": "{ organization(login: "}), rate());
        assert!(
            garbage["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Parse error")
        );
    }
}
