//! Writes documents the way sops does (yaml.v3, indent 4): quoting only what needs it,
//! block literals for multi-line strings, Go's float formatting.

use std::fmt::Write as _;

use crate::services::secrets::tree::{MapItem, Node, Scalar, SeqItem};

use super::resolve::resolve_plain;

/// Writes documents the way sops does (`---` between documents).
pub fn emit(docs: &[Node]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match d {
            Node::Map(items) if !items.is_empty() => emit_map(&mut out, items, 0, 0, false),
            _ => out.push_str("{}\n"),
        }
    }
    out
}

pub(super) fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Mapping entries at column `col`; nested content goes to `base + 4` (yaml.v3's layout,
/// where a mapping inside a sequence item has the dash's column as its base).
pub(super) fn emit_map(
    out: &mut String,
    items: &[MapItem],
    col: usize,
    base: usize,
    first_inline: bool,
) {
    for (i, item) in items.iter().enumerate() {
        if !(i == 0 && first_inline) {
            pad(out, col);
        }
        match item {
            MapItem::Comment(c) => {
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            MapItem::Pair(k, v) => {
                out.push_str(&scalar_text(&Scalar::Str(k.clone())));
                out.push(':');
                emit_value(out, v, base + 4);
            }
        }
    }
}

/// A value after `key:` or `- `; `child` is where nested content starts.
pub(super) fn emit_value(out: &mut String, v: &Node, child: usize) {
    match v {
        Node::Map(items) if items.is_empty() => out.push_str(" {}\n"),
        Node::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Node::Map(items) => {
            out.push('\n');
            emit_map(out, items, child, child, false);
        }
        Node::Seq(items) => {
            out.push('\n');
            emit_seq(out, items, child);
        }
        Node::Scalar(s) => {
            if let Some(block) = literal_block(s, child) {
                out.push(' ');
                out.push_str(&block);
            } else {
                out.push(' ');
                out.push_str(&scalar_text(s));
                out.push('\n');
            }
        }
    }
}

pub(super) fn emit_seq(out: &mut String, items: &[SeqItem], col: usize) {
    for item in items {
        match item {
            SeqItem::Comment(c) => {
                pad(out, col);
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            SeqItem::Value(Node::Map(m)) if !m.is_empty() => {
                // Leading comments of the item go above the dash: same additional data.
                let lead = m
                    .iter()
                    .take_while(|i| matches!(i, MapItem::Comment(_)))
                    .count();
                for c in &m[..lead] {
                    if let MapItem::Comment(c) = c {
                        pad(out, col);
                        out.push('#');
                        out.push_str(c);
                        out.push('\n');
                    }
                }
                pad(out, col);
                out.push_str("- ");
                if lead == m.len() {
                    out.push_str("{}\n");
                } else {
                    emit_map(out, &m[lead..], col + 2, col, true);
                }
            }
            SeqItem::Value(Node::Seq(s)) if !s.is_empty() && matches!(s[0], SeqItem::Value(_)) => {
                pad(out, col);
                out.push_str("- ");
                let mut inner = String::new();
                emit_seq(&mut inner, s, col + 2);
                out.push_str(&inner[col + 2..]);
            }
            SeqItem::Value(v) => {
                pad(out, col);
                out.push('-');
                emit_value(out, v, col + 4);
            }
        }
    }
}

/// `|`-style text for multi-line strings, or `None` when double quotes are needed.
pub(super) fn literal_block(s: &Scalar, indent: usize) -> Option<String> {
    let Scalar::Str(t) = s else { return None };
    if !t.contains('\n') || t.starts_with([' ', '\n']) || t.trim_matches('\n').is_empty() {
        return None;
    }
    if t.chars()
        .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
    {
        return None;
    }
    let body = t.trim_end_matches('\n');
    let trailing = t.len() - body.len();
    let header = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let mut out = format!("{header}\n");
    let mut lines: Vec<&str> = body.split('\n').collect();
    if trailing > 1 {
        lines.extend(std::iter::repeat_n("", trailing - 1));
    }
    for l in lines {
        if !l.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(l);
        }
        out.push('\n');
    }
    Some(out)
}

pub(super) fn plain_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => "null".to_owned(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => go_g_float(*f),
        Scalar::Str(t) | Scalar::Time(t) => t.clone(),
    }
}

/// Go's `FormatFloat(f, 'g', -1, 64)` with YAML's spellings of the specials.
pub(super) fn go_g_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    let e = format!("{f:e}");
    let exp: i32 = e
        .split_once('e')
        .and_then(|(_, x)| x.parse().ok())
        .unwrap_or(0);
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        let sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{m}e{sign}{:02}",
            x.trim_start_matches('-').parse::<u32>().unwrap_or(0)
        )
    }
}

pub(super) const OLD_BOOLS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

pub(super) fn plain_ok(t: &str) -> bool {
    let Some(first) = t.chars().next() else {
        return false;
    };
    let second = t.chars().nth(1);
    if t.starts_with(' ') || t.ends_with(' ') || t.ends_with(':') {
        return false;
    }
    if ",[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if "-?:".contains(first) && second.is_none_or(|c| c == ' ') {
        return false;
    }
    if t.starts_with("---") || t.starts_with("...") {
        return false;
    }
    if t.contains(": ") || t.contains(" #") || t.contains(":\t") {
        return false;
    }
    !t.chars().any(|c| c.is_control() || c == '\u{feff}')
}

pub(super) fn base60_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

pub(super) fn loose_time_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ]|$)")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// A scalar on one line: plain when it reads back as the same value, else quoted.
pub fn scalar_text(s: &Scalar) -> String {
    let Scalar::Str(t) = s else {
        return plain_text(s);
    };
    let ambiguous = !matches!(resolve_plain(t), Scalar::Str(_))
        || OLD_BOOLS.contains(&t.as_str())
        || base60_re().is_match(t)
        || loose_time_re().is_match(t)
        || t == "<<";
    if ambiguous || t.is_empty() {
        return double_quoted(t);
    }
    if plain_ok(t) {
        return t.clone();
    }
    if !t.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return format!("'{}'", t.replace('\'', "''"));
    }
    double_quoted(t)
}

pub(super) fn double_quoted(t: &str) -> String {
    let mut out = String::from("\"");
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || c == '\u{feff}' => {
                let n = c as u32;
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02X}")
                } else {
                    write!(out, "\\u{n:04X}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
