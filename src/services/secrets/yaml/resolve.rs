//! What a plain scalar means under YAML 1.2's core schema as yaml.v3 reads it: integers,
//! floats, booleans, nulls and timestamps.

use crate::services::secrets::tree::Scalar;

pub(super) fn is_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let body = body.replace('_', "");
    if body.is_empty() {
        return None;
    }
    let v = if let Some(h) = body.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = body.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = body.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

pub(super) fn is_float(s: &str) -> Option<f64> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let re = float_re();
    if re.is_match(s) {
        s.replace('_', "").parse().ok()
    } else {
        None
    }
}

pub(super) fn float_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

pub(super) fn time_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[-+][0-9]{2}:[0-9]{2}))?$",
        )
        .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// What yaml.v3 would read a timestamp as, in Go's `MarshalText` form.
pub(super) fn as_time(s: &str) -> Option<String> {
    let c = time_re().captures(s)?;
    let date = c.get(1)?.as_str();
    let Some(time) = c.get(2) else {
        return Some(format!("{date}T00:00:00Z"));
    };
    let frac = c.get(3).map_or("", |m| m.as_str().trim_end_matches('0'));
    let frac = if frac == "." { "" } else { frac };
    let zone = c.get(4).map_or("Z", |m| m.as_str());
    let zone = if zone.eq_ignore_ascii_case("z") || zone == "+00:00" {
        "Z"
    } else {
        zone
    };
    Some(format!("{date}T{}{frac}{zone}", time.as_str()))
}

/// The type a plain (unquoted) scalar has, per yaml.v3.
pub fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        _ => {}
    }
    if let Some(i) = is_int(s) {
        return Scalar::Int(i);
    }
    if let Some(f) = is_float(s) {
        return Scalar::Float(f);
    }
    if let Some(t) = as_time(s) {
        return Scalar::Time(t);
    }
    Scalar::Str(s.to_owned())
}
