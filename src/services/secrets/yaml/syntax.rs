//! The pieces of one line: sequence dashes, keys, quoted scalars (single and double, with
//! their escapes and line folding) and where a flow collection ends.

use crate::services::secrets::Result;

use super::parse::err;

pub(super) fn fold(lines: &[String]) -> String {
    let mut out = String::new();
    let mut prev_more_indented = false;
    for (i, l) in lines.iter().enumerate() {
        let more = l.starts_with(' ');
        if i > 0 {
            let prev_empty = lines[i - 1].is_empty();
            if l.is_empty() || more || prev_more_indented || prev_empty {
                out.push('\n');
            } else {
                out.push(' ');
            }
        }
        out.push_str(l);
        prev_more_indented = more;
    }
    // `a\n\nb` folds to `a\nb`: an empty line stands for one newline, not two.
    out.replace("\n\n", "\n")
}

pub(super) fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// Splits `key: rest` (key unquoted), or `None` when the line is not a mapping entry.
pub(super) fn split_key(text: &str, no: usize) -> Result<Option<(String, String)>> {
    if text.starts_with('"') || text.starts_with('\'') {
        return Ok(match quoted(text, no)? {
            Some((k, after)) => after
                .trim_start_matches(' ')
                .strip_prefix(':')
                .filter(|r| r.is_empty() || r.starts_with(' '))
                .map(|r| (k, r.to_owned())),
            None => None,
        });
    }
    if text.starts_with(['[', '{', '|', '>', '&', '*', '!', '#']) || text.starts_with("? ") {
        return Ok(None);
    }
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return Ok(None);
        }
        if b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Ok(Some((
                text[..i].trim_end().to_owned(),
                text[i + 1..].to_owned(),
            )));
        }
    }
    Ok(None)
}

/// Reads a quoted scalar at the start of `text`; `None` when it is not closed yet.
pub(super) fn quoted(text: &str, no: usize) -> Result<Option<(String, String)>> {
    let mut chars = text.char_indices();
    let Some((_, q)) = chars.next() else {
        return Ok(None);
    };
    let mut raw = String::new();
    let mut end = None;
    if q == '\'' {
        let mut it = text[1..].char_indices().peekable();
        while let Some((i, c)) = it.next() {
            if c == '\'' {
                if it.peek().is_some_and(|&(_, n)| n == '\'') {
                    it.next();
                    raw.push('\'');
                    continue;
                }
                end = Some(i + 2);
                break;
            }
            raw.push(c);
        }
        let Some(end) = end else { return Ok(None) };
        return Ok(Some((fold_quoted(&raw), text[end..].to_owned())));
    }
    let mut it = text[1..].char_indices();
    let mut out = String::new();
    let mut pending = String::new();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => {
                end = Some(i + 2);
                break;
            }
            '\\' => {
                out.push_str(&fold_quoted(&pending));
                pending.clear();
                let Some((_, e)) = it.next() else {
                    return Ok(None);
                };
                let hex = |it: &mut std::str::CharIndices<'_>, n: usize| -> Result<char> {
                    let s: String = it.by_ref().take(n).map(|(_, c)| c).collect();
                    u32::from_str_radix(&s, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| err(no, "bad escape in a double-quoted value"))
                };
                match e {
                    'n' => out.push('\n'),
                    't' | '\t' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'e' => out.push('\x1b'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    ' ' => out.push(' '),
                    '"' => out.push('"'),
                    '/' => out.push('/'),
                    '\\' => out.push('\\'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' => out.push(hex(&mut it, 2)?),
                    'u' => out.push(hex(&mut it, 4)?),
                    'U' => out.push(hex(&mut it, 8)?),
                    '\n' => {
                        // Escaped line break: join without a space, skip leading blanks.
                        while it
                            .clone()
                            .next()
                            .is_some_and(|(_, c)| c == ' ' || c == '\t')
                        {
                            it.next();
                        }
                    }
                    _ => return Err(err(no, "bad escape in a double-quoted value")),
                }
            }
            _ => pending.push(c),
        }
    }
    let Some(end) = end else { return Ok(None) };
    out.push_str(&fold_quoted(&pending));
    Ok(Some((out, text[end..].to_owned())))
}

/// Line folding inside quoted scalars: a single break becomes a space, n breaks n-1 newlines.
pub(super) fn fold_quoted(s: &str) -> String {
    if !s.contains('\n') {
        return s.to_owned();
    }
    let parts: Vec<&str> = s.split('\n').collect();
    let mut out = String::new();
    let mut empties = 0;
    for (i, p) in parts.iter().enumerate() {
        let p = if i == 0 {
            p.trim_end()
        } else if i == parts.len() - 1 {
            p.trim_start()
        } else {
            p.trim()
        };
        if i > 0 && p.is_empty() && i < parts.len() - 1 {
            empties += 1;
            continue;
        }
        if i > 0 {
            if empties == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(empties));
            }
            empties = 0;
        }
        out.push_str(p);
    }
    out
}

/// Where a flow collection starting at byte 0 ends (exclusive), or `None` if not closed.
pub(super) fn flow_end(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) => {
                if c == q && (q == '\'' || prev != '\\') {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            },
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    None
}
