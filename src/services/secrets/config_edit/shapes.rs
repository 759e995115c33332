//! The splice for each way `age:` can be written: one-line string, block scalar, flow list,
//! block list. Each returns the byte range to replace and its replacement; `super` checks it.

use std::ops::Range;

use super::{RecipientChange, cannot};
use crate::services::secrets::Result;

/// `, ` when the list is written with spaces after its commas, else `,`.
fn separator(s: &str) -> &'static str {
    if s.contains(", ") { ", " } else { "," }
}

pub(super) fn tokens(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

/// `age: age1a,age1b`, plain or quoted, on one line.
pub(super) fn inline(
    text: &str,
    range: Range<usize>,
    recipient: &str,
    change: RecipientChange,
) -> Result<(Range<usize>, String)> {
    let raw = &text[range.clone()];
    if raw.contains(['\n', '\r']) {
        return Err(cannot(
            "the `age:` string spans several lines; edit it by hand",
        ));
    }
    let (quote, inner) = match raw.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) if raw.len() >= 2 && raw.as_bytes().last() == Some(q) => {
            (&raw[..1], &raw[1..raw.len() - 1])
        }
        Some(b'"' | b'\'') => return Err(cannot("the `age:` string is not closed")),
        _ => ("", raw),
    };
    if inner.contains(['\\', '\'', '"', '#']) {
        return Err(cannot(
            "the `age:` string has escapes or quotes; edit it by hand",
        ));
    }
    let sep = separator(inner);
    let new = match change {
        // (A rule listing nobody was refused before: there is something to append to.)
        RecipientChange::Add => {
            let kept = inner.trim_end();
            if kept.ends_with(',') {
                format!("{kept}{}{recipient}", &sep[1..])
            } else {
                format!("{kept}{sep}{recipient}")
            }
        }
        RecipientChange::Remove => {
            let mut left: Vec<&str> = tokens(inner);
            left.retain(|t| *t != recipient);
            left.join(sep)
        }
    };
    Ok((range, format!("{quote}{new}{quote}")))
}

/// One content line of a block scalar.
struct Line<'a> {
    /// Bytes of the whole line, its line break included.
    span: Range<usize>,
    /// The blank lines after it, up to the next content line.
    gap: Range<usize>,
    indent: &'a str,
    tokens: Vec<&'a str>,
    sep: &'static str,
    trailing_comma: bool,
    eol: &'a str,
}

/// `age: >-` followed by recipients, usually one a line with a comma after all but the last.
pub(super) fn block(
    text: &str,
    range: Range<usize>,
    recipient: &str,
    change: RecipientChange,
) -> Result<(Range<usize>, String)> {
    let not_a_list =
        || cannot("the `age:` block scalar is not a plain list of recipients; edit it by hand");
    // The content is every line indented more than the `age` key, up to the first that is not.
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..range.start];
    let key_col = prefix.len() - prefix.trim_start_matches([' ', '-']).len();
    let header_end = text[range.start..]
        .find('\n')
        .map_or(text.len(), |i| range.start + i + 1);
    let header = text[range.start..header_end].trim_end();
    let indicator = header.split('#').next().unwrap_or_default().trim_end();
    if indicator.chars().any(|c| c.is_ascii_digit()) {
        return Err(cannot(
            "the `age:` block scalar has an explicit indentation; edit it by hand",
        ));
    }
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut at = header_end;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let full = &text[at..end];
        let body = full.trim_end_matches(['\n', '\r']);
        let stripped = body.trim_start_matches(' ');
        let indent = body.len() - stripped.len();
        if stripped.trim().is_empty() {
            if let Some(l) = lines.last_mut() {
                l.gap.end = end;
            }
            at = end;
            continue;
        }
        if indent <= key_col {
            break;
        }
        let content = stripped.trim_end();
        if content.starts_with(',') || content.contains(['#', '\'', '"', '\t']) {
            return Err(not_a_list());
        }
        lines.push(Line {
            span: at..end,
            gap: end..end,
            indent: &body[..indent],
            tokens: tokens(content),
            sep: separator(content),
            trailing_comma: content.ends_with(','),
            eol: &full[body.len()..],
        });
        at = end;
    }
    // Blank lines after the last content line are not the block's to rewrite.
    if let Some(l) = lines.last_mut() {
        l.gap = l.span.end..l.span.end;
    }
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return Err(cannot("the `age:` block scalar is empty"));
    };
    let region = first.span.start..last.span.end;
    let (last_comma, last_eol) = (last.trailing_comma, last.eol);
    let eol = if first.eol.is_empty() {
        "\n"
    } else {
        first.eol
    };
    match change {
        RecipientChange::Add if lines.len() == 1 && lines[0].tokens.len() > 1 => {
            // All on one line: keep it on one line.
            lines[0].tokens.push(recipient);
        }
        RecipientChange::Add => {
            let new = Line {
                span: 0..0,
                gap: 0..0,
                indent: last.indent,
                tokens: vec![recipient],
                sep: last.sep,
                trailing_comma: last_comma,
                eol: last_eol,
            };
            lines.push(new);
        }
        RecipientChange::Remove => {
            for l in &mut lines {
                l.tokens.retain(|t| *t != recipient);
            }
            lines.retain(|l| !l.tokens.is_empty());
            if lines.is_empty() {
                return Err(cannot("the `age:` block scalar would be empty"));
            }
        }
    }
    // Every line but the last ends with a comma; the last keeps the style and the line break
    // (or the lack of one, at the end of the file) the block had.
    let n = lines.len();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let is_last = i + 1 == n;
        out.push_str(l.indent);
        out.push_str(&l.tokens.join(l.sep));
        if !is_last || last_comma {
            out.push(',');
        }
        out.push_str(match (is_last, l.eol) {
            (true, _) => last_eol,
            (false, "") => eol,
            (false, e) => e,
        });
        if !is_last {
            out.push_str(&text[l.gap.clone()]);
        }
    }
    Ok((region, out))
}

/// `age: [age1a, age1b]` on one line.
pub(super) fn flow(
    text: &str,
    range: Range<usize>,
    recipient: &str,
    change: RecipientChange,
) -> Result<(Range<usize>, String)> {
    let raw = &text[range.clone()];
    let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return Err(cannot("the `age:` list is not closed on its line"));
    };
    if inner.contains(['\n', '\r', '#', '[', ']', '{', '}', '\\']) {
        return Err(cannot(
            "the `age:` flow list spans lines or nests; edit it by hand",
        ));
    }
    let lead = &inner[..inner.len() - inner.trim_start().len()];
    let trail = &inner[inner.trim_end().len()..];
    let mut items: Vec<&str> = tokens(inner);
    let sep = separator(inner);
    let quoted;
    match change {
        RecipientChange::Add => {
            quoted = match items.last().and_then(|l| l.chars().next()) {
                Some(q @ ('"' | '\'')) => format!("{q}{recipient}{q}"),
                _ => recipient.to_owned(),
            };
            items.push(&quoted);
        }
        RecipientChange::Remove => items.retain(|i| unquote(i) != recipient),
    }
    Ok((range, format!("[{lead}{}{trail}]", items.join(sep))))
}

fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// The bytes of the line holding `item`, its line break included, and the text before the item
/// on it (`    - `); refused unless the item is alone on its line (a comment may follow).
fn item_line(text: &str, item: &Range<usize>) -> Result<(Range<usize>, String)> {
    let start = text[..item.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[item.end..]
        .find('\n')
        .map_or(text.len(), |i| item.end + i + 1);
    let prefix = &text[start..item.start];
    let after = text[item.end..end].trim();
    let dash = prefix.trim_start_matches(' ');
    if !(dash.starts_with('-') && dash[1..].trim().is_empty() && dash.len() > 1)
        || !(after.is_empty() || after.starts_with('#'))
        || text[item.clone()].contains('\n')
    {
        return Err(cannot(
            "the `age:` list is not one `- recipient` a line; edit it by hand",
        ));
    }
    Ok((start..end, prefix.to_owned()))
}

/// `age:` then `- age1a` lines.
pub(super) fn block_list(
    text: &str,
    items: &[Range<usize>],
    recipient: &str,
    change: RecipientChange,
) -> Result<(Range<usize>, String)> {
    let Some(last) = items.last() else {
        return Err(cannot("the `age:` list is empty"));
    };
    match change {
        RecipientChange::Add => {
            let (line, prefix) = item_line(text, last)?;
            let raw = &text[last.clone()];
            let value = match raw.chars().next() {
                Some(q @ ('"' | '\'')) => format!("{q}{recipient}{q}"),
                _ => recipient.to_owned(),
            };
            let line_text = &text[line.clone()];
            let eol = if line_text.ends_with("\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            let mut out = String::new();
            if !line_text.ends_with('\n') {
                out.push_str(eol);
            }
            out.push_str(&prefix);
            out.push_str(&value);
            if line_text.ends_with('\n') {
                out.push_str(eol);
            }
            Ok((line.end..line.end, out))
        }
        RecipientChange::Remove => {
            let hits: Vec<&Range<usize>> = items
                .iter()
                .filter(|r| tokens(unquote(&text[(*r).clone()])).contains(&recipient))
                .collect();
            let (Some(first), Some(last_hit)) = (hits.first(), hits.last()) else {
                return Err(cannot("the recipient is not an item of the `age:` list"));
            };
            let mut spans = Vec::new();
            for h in &hits {
                if unquote(&text[(*h).clone()]) != recipient {
                    return Err(cannot(
                        "the recipient shares an `age:` list item with others; edit it by hand",
                    ));
                }
                spans.push(item_line(text, h)?.0);
            }
            // Rebuild the stretch from the first to the last removed line, minus those lines.
            let region = item_line(text, first)?.0.start..item_line(text, last_hit)?.0.end;
            let mut out = String::new();
            let mut at = region.start;
            for s in spans {
                out.push_str(&text[at..s.start]);
                at = s.end;
            }
            out.push_str(&text[at..region.end]);
            Ok((region, out))
        }
    }
}
