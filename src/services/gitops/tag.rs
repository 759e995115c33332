//! Image tag grammar and the YAML "would this re-read as a non-string" test.

use super::{GitopsError, Result};

/// Accepts an OCI tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) or a `sha256:<64 hex>` digest.
pub fn validate_tag(tag: &str) -> Result<()> {
    let bad = |why| {
        Err(GitopsError::InvalidTag {
            tag: tag.to_owned(),
            why,
        })
    };
    if let Some(hex) = tag.strip_prefix("sha256:") {
        if hex.len() != 64 {
            return bad("a sha256 digest has 64 hex digits");
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return bad("a sha256 digest is lowercase hex");
        }
        return Ok(());
    }
    let bytes = tag.as_bytes();
    let Some(first) = bytes.first() else {
        return bad("empty");
    };
    if bytes.len() > 128 {
        return bad("longer than 128 characters");
    }
    if !(first.is_ascii_alphanumeric() || *first == b'_') {
        return bad("must start with a letter, digit or `_`");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return bad("only letters, digits, `_`, `.` and `-` are allowed (or sha256:<digest>)");
    }
    Ok(())
}

/// True when `s`, written as a plain scalar, would read back as something other than a string
/// under YAML 1.2 core or the YAML 1.1 rules older tools (and go-yaml v2) still apply:
/// numbers (`2`, `1.10`, `71e0123`, `0x1f`, `1_000`), booleans (`true`, `yes`, `on`), null.
pub fn needs_quotes(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    if s.is_empty() || WORDS.contains(&s) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    for (prefix, digit) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix)
            && !rest.is_empty()
            && rest.chars().all(|c| c == '_' || c.is_digit(digit))
        {
            return true;
        }
    }
    looks_decimal(&lower) || lower.trim_start_matches(['+', '-']) == ".inf" || lower == ".nan"
}

/// `[+-]? digits [. digits] [e [+-] digits]` with `_` allowed in the digits (YAML 1.1), or a
/// sexagesimal `1:20` number.
fn looks_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '_');
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (digits(int) || int.is_empty())
                && (frac.is_empty() || digits(frac))
                && !(int.is_empty() && frac.is_empty())
        }
        None => digits(mantissa) || (mantissa.contains(':') && mantissa.split(':').all(digits)),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_grammar() {
        for ok in ["9f1c2ab", "v1.5.0", "_x", "1.10", &"a".repeat(128)] {
            assert!(validate_tag(ok).is_ok(), "{ok}");
        }
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert!(validate_tag(&digest).is_ok());
        for bad in [
            "",
            ".x",
            "-x",
            "a b",
            "a:b",
            "x\n",
            &"a".repeat(129),
            "sha256:ab",
        ] {
            assert!(validate_tag(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quoting() {
        for q in [
            "2", "1.10", "true", "yes", "on", "NO", "71e0123", "0x1f", "1_000", "1:20", "1e5",
            "1.", ".5",
        ] {
            assert!(needs_quotes(q), "{q}");
        }
        for p in [
            "9f1c2ab",
            "v1.5.0",
            "1.2.3",
            "abc",
            "e1",
            "1e",
            "1.2e",
            "sha256:00",
        ] {
            assert!(!needs_quotes(p), "{p}");
        }
    }
}
