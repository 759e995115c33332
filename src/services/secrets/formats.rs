//! The three stores: YAML, JSON and dotenv, as plain text and as SOPS files.

use std::path::Path;

use serde::Serialize;

use super::meta::Metadata;
use super::tree::{MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError, yaml};

/// File format, chosen by extension as sops does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
}

impl Format {
    /// `.yaml`/`.yml`, `.json`, `.env`; anything else is not handled.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        let ext = name.rsplit('.').next()?;
        match ext {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "env" => Some(Format::Dotenv),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
        }
    }
}

/// Parses plain (or encrypted) content into documents, metadata left in place.
pub fn parse(text: &str, format: Format) -> Result<Vec<Node>> {
    match format {
        Format::Yaml => yaml::parse(text),
        Format::Json => parse_json(text).map(|n| vec![n]),
        Format::Dotenv => parse_dotenv(text).map(|n| vec![n]),
    }
}

/// Writes documents (no metadata).
pub fn emit(docs: &[Node], format: Format) -> String {
    match format {
        Format::Yaml => yaml::emit(docs),
        Format::Json => docs.first().map(emit_json).unwrap_or_default(),
        Format::Dotenv => docs.first().map(emit_dotenv).unwrap_or_default(),
    }
}

/// Splits the `sops` metadata off parsed documents (read from the first one).
pub fn split_metadata(mut docs: Vec<Node>, format: Format) -> Result<(Vec<Node>, Metadata)> {
    let not_sops = || SecretsError::Format("not a SOPS file: no sops metadata".to_owned());
    if format == Format::Dotenv {
        let Some(Node::Map(items)) = docs.pop() else {
            return Err(not_sops());
        };
        let mut flat = Vec::new();
        let mut rest = Vec::new();
        for item in items {
            match item {
                MapItem::Pair(k, Node::Scalar(Scalar::Str(v))) if k.starts_with("sops_") => {
                    flat.push((k, v));
                }
                other => rest.push(other),
            }
        }
        if flat.is_empty() {
            return Err(not_sops());
        }
        return Ok((vec![Node::Map(rest)], Metadata::from_flat(&flat)?));
    }
    let mut meta = None;
    for (i, d) in docs.iter_mut().enumerate() {
        let Node::Map(items) = d else {
            return Err(SecretsError::Format(
                "a document is not a mapping".to_owned(),
            ));
        };
        if let Some(pos) = items
            .iter()
            .position(|it| matches!(it, MapItem::Pair(k, _) if k == "sops"))
        {
            let MapItem::Pair(_, node) = items.remove(pos) else {
                continue;
            };
            if i == 0 {
                meta = Some(Metadata::from_node(&node)?);
            }
        }
    }
    Ok((docs, meta.ok_or_else(not_sops)?))
}

/// Puts metadata back: into every YAML document, into the JSON object, or flattened.
pub fn join_metadata(docs: &[Node], meta: &Metadata, format: Format) -> Vec<Node> {
    docs.iter()
        .map(|d| {
            let mut items = match d {
                Node::Map(items) => items.clone(),
                _ => Vec::new(),
            };
            match format {
                Format::Dotenv => {
                    for (k, v) in meta.to_flat() {
                        items.push(MapItem::Pair(k, Node::str(v)));
                    }
                }
                _ => items.push(MapItem::Pair("sops".to_owned(), meta.to_node())),
            }
            Node::Map(items)
        })
        .collect()
}

/// Rejects data sops rejects: a `sops` key, `sops_` dotenv keys, nested dotenv values.
pub fn check_plain(docs: &[Node], format: Format) -> Result<()> {
    for d in docs {
        let Node::Map(items) = d else {
            return Err(SecretsError::Format(
                "a document is not a mapping".to_owned(),
            ));
        };
        for it in items {
            if let MapItem::Pair(k, v) = it {
                if k == "sops" && format != Format::Dotenv {
                    return Err(SecretsError::Format(
                        "the key `sops` is reserved (is this file already encrypted?)".to_owned(),
                    ));
                }
                if format == Format::Dotenv {
                    if k.starts_with("sops_") {
                        return Err(SecretsError::Format(format!(
                            "dotenv keys may not start with sops_ (`{k}`)"
                        )));
                    }
                    if !matches!(v, Node::Scalar(_)) {
                        return Err(SecretsError::Format(
                            "cannot use complex value in dotenv file".to_owned(),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- JSON

fn from_json(v: serde_json::Value) -> Node {
    use serde_json::Value as J;
    match v {
        J::Null => Node::Scalar(Scalar::Null),
        J::Bool(b) => Node::Scalar(Scalar::Bool(b)),
        // Go's encoding/json gives float64 for every number; sops types them `float`.
        J::Number(n) => Node::Scalar(Scalar::Float(n.as_f64().unwrap_or(f64::NAN))),
        J::String(s) => Node::Scalar(Scalar::Str(s)),
        J::Array(a) => Node::Seq(
            a.into_iter()
                .map(|v| SeqItem::Value(from_json(v)))
                .collect(),
        ),
        J::Object(o) => Node::Map(
            o.into_iter()
                .map(|(k, v)| MapItem::Pair(k, from_json(v)))
                .collect(),
        ),
    }
}

fn parse_json(text: &str) -> Result<Node> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        SecretsError::Format(format!(
            "JSON line {} column {}: {}",
            e.line(),
            e.column(),
            match e.classify() {
                serde_json::error::Category::Syntax => "syntax error",
                serde_json::error::Category::Eof => "unexpected end of input",
                _ => "invalid data",
            }
        ))
    })?;
    match v {
        serde_json::Value::Object(_) => Ok(from_json(v)),
        _ => Err(SecretsError::Format(
            "the top level of a SOPS JSON file must be an object".to_owned(),
        )),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".to_owned();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    let a = f.abs();
    if (1e-6..1e21).contains(&a) {
        format!("{f}")
    } else {
        format!("{f:e}")
    }
}

fn emit_json_node(out: &mut String, n: &Node, depth: usize) {
    let tabs = |d: usize| "\t".repeat(d);
    match n {
        Node::Scalar(s) => out.push_str(&match s {
            Scalar::Null => "null".to_owned(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => json_float(*f),
            Scalar::Str(t) | Scalar::Time(t) => json_string(t),
        }),
        Node::Map(items) => {
            let pairs: Vec<(&String, &Node)> = items
                .iter()
                .filter_map(|i| match i {
                    MapItem::Pair(k, v) => Some((k, v)),
                    MapItem::Comment(_) => None,
                })
                .collect();
            if pairs.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (i, (k, v)) in pairs.iter().enumerate() {
                out.push_str(&tabs(depth + 1));
                out.push_str(&json_string(k));
                out.push_str(": ");
                emit_json_node(out, v, depth + 1);
                if i + 1 < pairs.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&tabs(depth));
            out.push('}');
        }
        Node::Seq(items) => {
            let vals: Vec<&Node> = items
                .iter()
                .filter_map(|i| match i {
                    SeqItem::Value(v) => Some(v),
                    SeqItem::Comment(_) => None,
                })
                .collect();
            if vals.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, v) in vals.iter().enumerate() {
                out.push_str(&tabs(depth + 1));
                emit_json_node(out, v, depth + 1);
                if i + 1 < vals.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&tabs(depth));
            out.push(']');
        }
    }
}

/// JSON with tabs, as sops writes it.
fn emit_json(n: &Node) -> String {
    let mut out = String::new();
    emit_json_node(&mut out, n, 0);
    out.push('\n');
    out
}

// ---------------------------------------------------------------- dotenv

fn parse_dotenv(text: &str) -> Result<Node> {
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            items.push(MapItem::Comment(c.to_owned()));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(SecretsError::Format(format!(
                "dotenv line {}: invalid dotenv input line (expected KEY=VALUE)",
                i + 1
            )));
        };
        items.push(MapItem::Pair(
            k.to_owned(),
            Node::str(v.replace("\\n", "\n")),
        ));
    }
    Ok(Node::Map(items))
}

fn emit_dotenv(n: &Node) -> String {
    let mut out = String::new();
    let Node::Map(items) = n else { return out };
    for it in items {
        match it {
            MapItem::Comment(c) => {
                out.push('#');
                out.push_str(c);
            }
            MapItem::Pair(k, v) => {
                out.push_str(k);
                out.push('=');
                let text = match v {
                    Node::Scalar(Scalar::Str(s) | Scalar::Time(s)) => s.clone(),
                    Node::Scalar(s) => super::tree::Scalar::to_bytes(s)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                out.push_str(&text.replace('\n', "\\n"));
            }
        }
        out.push('\n');
    }
    out
}
