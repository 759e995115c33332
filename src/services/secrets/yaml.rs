//! A YAML reader and writer for SOPS files. A generic YAML library would drop the comments,
//! which SOPS treats as values, so this reads block YAML line by line (mappings, sequences,
//! plain/quoted/block scalars, flow collections, comments, several documents) and writes the
//! layout sops (yaml.v3, indent 4) writes. Errors name a line, never a value.

use std::fmt::Write as _;

use super::tree::{MapItem, Node, Scalar, SeqItem};
use super::{Result, SecretsError};

// ---------------------------------------------------------------- reading

#[derive(Debug, Clone)]
struct Line {
    no: usize,
    indent: usize,
    text: String,
}

impl Line {
    fn is_blank(&self) -> bool {
        self.text.is_empty()
    }
    fn is_comment(&self) -> bool {
        self.text.starts_with('#')
    }
    fn is_content(&self) -> bool {
        !self.is_blank() && !self.is_comment()
    }
}

fn err(line: usize, msg: impl std::fmt::Display) -> SecretsError {
    SecretsError::Format(format!("YAML line {line}: {msg}"))
}

/// Parses a YAML stream into its documents (each must be a mapping).
pub fn parse(text: &str) -> Result<Vec<Node>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs: Vec<Vec<Line>> = vec![Vec::new()];
    let mut saw_marker = false;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with('%') && docs.len() == 1 && docs[0].iter().all(|l| !l.is_content()) {
            continue;
        }
        if raw == "---" || raw.starts_with("--- ") || raw.starts_with("---\t") {
            let rest = raw[3..].trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(err(no, "content after `---` is not supported"));
            }
            if saw_marker || docs[0].iter().any(Line::is_content) {
                docs.push(Vec::new());
            }
            saw_marker = true;
            continue;
        }
        if raw == "..." {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let rest = &raw[indent..];
        if rest.starts_with('\t') && !rest.trim().is_empty() {
            return Err(err(no, "tabs are not allowed for indentation"));
        }
        let text = rest.trim_end_matches([' ', '\t']).to_owned();
        let indent = if text.is_empty() { usize::MAX } else { indent };
        if let Some(d) = docs.last_mut() {
            d.push(Line { no, indent, text });
        }
    }
    let mut out = Vec::new();
    let n = docs.len();
    for (i, lines) in docs.into_iter().enumerate() {
        if lines.iter().all(|l| !l.is_content()) && n > 1 && i == n - 1 {
            // A trailing `---` with nothing after it.
            continue;
        }
        let mut p = Parser { lines, pos: 0 };
        out.push(p.document()?);
    }
    Ok(out)
}

struct Parser {
    lines: Vec<Line>,
    pos: usize,
}

impl Parser {
    fn next_content(&self) -> Option<usize> {
        (self.pos..self.lines.len()).find(|&i| self.lines[i].is_content())
    }

    /// Takes the comment lines before `idx` (the next content line this container consumes).
    fn take_comments(&mut self, idx: usize) -> Vec<String> {
        let c = self.lines[self.pos..idx]
            .iter()
            .filter(|l| l.is_comment())
            .map(|l| l.text[1..].to_owned())
            .collect();
        self.pos = idx;
        c
    }

    fn document(&mut self) -> Result<Node> {
        let node = match self.next_content() {
            None => Node::Map(Vec::new()),
            Some(i) => {
                let l = &self.lines[i];
                if l.indent != 0 {
                    return Err(err(l.no, "a document must start at column 1"));
                }
                if is_seq_item(&l.text) || split_key(&l.text, l.no)?.is_none() {
                    return Err(err(
                        l.no,
                        "the top level of a SOPS document must be a mapping",
                    ));
                }
                self.map(0)?
            }
        };
        let trailing = self.take_comments(self.lines.len());
        if let Some(i) = self.next_content() {
            return Err(err(self.lines[i].no, "unexpected content"));
        }
        Ok(match node {
            Node::Map(mut items) => {
                items.extend(trailing.into_iter().map(MapItem::Comment));
                Node::Map(items)
            }
            other => other,
        })
    }

    /// A nested block deeper than `parent`, or `None` when there is none (a null value).
    fn block(&mut self, parent: usize) -> Result<Option<Node>> {
        let Some(i) = self.next_content() else {
            return Ok(None);
        };
        let l = &self.lines[i];
        if l.indent <= parent {
            return Ok(None);
        }
        let indent = l.indent;
        if is_seq_item(&l.text) {
            return self.seq(indent).map(Some);
        }
        if split_key(&l.text, l.no)?.is_some() {
            return self.map(indent).map(Some);
        }
        // A scalar on its own line under a key (e.g. a long plain or quoted value).
        let no = l.no;
        let text = l.text.clone();
        self.pos = i + 1;
        let (node, comment) = self.inline_value(&text, parent, no)?;
        if comment.is_some() {
            return Err(err(
                no,
                "comments after a value on its own line are not supported",
            ));
        }
        Ok(Some(node))
    }

    fn map(&mut self, indent: usize) -> Result<Node> {
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while let Some(i) = self.next_content() {
            let (no, lind) = (self.lines[i].no, self.lines[i].indent);
            if lind < indent {
                break;
            }
            if lind > indent {
                return Err(err(no, "unexpected indentation"));
            }
            let text = self.lines[i].text.clone();
            if is_seq_item(&text) {
                return Err(err(no, "a sequence item where a mapping key was expected"));
            }
            let Some((key, rest)) = split_key(&text, no)? else {
                return Err(err(no, "expected `key: value`"));
            };
            items.extend(self.take_comments(i).into_iter().map(MapItem::Comment));
            self.pos = i + 1;
            if !seen.insert(key.clone()) {
                return Err(err(no, format!("duplicate key `{key}`")));
            }
            let rest = rest.trim_start();
            let (value, comment) = if rest.is_empty() || rest.starts_with('#') {
                let comment = rest.strip_prefix('#').map(str::to_owned);
                // `key:` followed by a sequence at the same indentation is allowed.
                let compact = self.next_content().is_some_and(|j| {
                    self.lines[j].indent == indent && is_seq_item(&self.lines[j].text)
                });
                let v = if compact {
                    Some(self.seq(indent)?)
                } else {
                    self.block(indent)?
                };
                (v.unwrap_or(Node::Scalar(Scalar::Null)), comment)
            } else {
                self.inline_value(rest, indent, no)?
            };
            if let Some(c) = comment {
                items.push(MapItem::Comment(c));
            }
            items.push(MapItem::Pair(key, value));
        }
        Ok(Node::Map(items))
    }

    fn seq(&mut self, indent: usize) -> Result<Node> {
        let mut items = Vec::new();
        while let Some(i) = self.next_content() {
            let (no, lind) = (self.lines[i].no, self.lines[i].indent);
            if lind < indent || (lind == indent && !is_seq_item(&self.lines[i].text)) {
                break;
            }
            if lind > indent {
                return Err(err(no, "unexpected indentation"));
            }
            items.extend(self.take_comments(i).into_iter().map(SeqItem::Comment));
            let text = self.lines[i].text.clone();
            let after = &text[1..];
            let rest = after.trim_start_matches(' ');
            if rest.is_empty() || rest.starts_with('#') {
                self.pos = i + 1;
                if let Some(c) = rest.strip_prefix('#') {
                    items.push(SeqItem::Comment(c.to_owned()));
                }
                let v = self.block(indent)?.unwrap_or(Node::Scalar(Scalar::Null));
                items.push(SeqItem::Value(v));
                continue;
            }
            if is_seq_item(rest) || split_key(rest, no)?.is_some() {
                // `- key: v` / `- - x`: the item is a block starting at the column after `- `.
                let col = indent + 1 + (after.len() - rest.len());
                self.lines[i].indent = col;
                rest.clone_into(&mut self.lines[i].text);
                let v = self.block(indent)?.unwrap_or(Node::Scalar(Scalar::Null));
                items.push(SeqItem::Value(v));
                continue;
            }
            self.pos = i + 1;
            let (v, comment) = self.inline_value(rest, indent, no)?;
            if let Some(c) = comment {
                items.push(SeqItem::Comment(c));
            }
            items.push(SeqItem::Value(v));
        }
        Ok(Node::Seq(items))
    }

    /// A value that starts on the current line (already consumed), after `key: ` or `- `.
    /// Returns the value and a trailing comment.
    #[allow(clippy::single_match_else)]
    fn inline_value(
        &mut self,
        rest: &str,
        parent: usize,
        no: usize,
    ) -> Result<(Node, Option<String>)> {
        let first = rest.chars().next().unwrap_or(' ');
        match first {
            '|' | '>' => self.block_scalar(rest, parent, no),
            '"' | '\'' => {
                let mut text = rest.to_owned();
                loop {
                    if let Some((s, after)) = quoted(&text, no)? {
                        let after = after.trim_start();
                        let comment = if after.is_empty() {
                            None
                        } else if let Some(c) = after.strip_prefix('#') {
                            Some(c.to_owned())
                        } else {
                            return Err(err(no, "unexpected text after a quoted value"));
                        };
                        return Ok((Node::Scalar(Scalar::Str(s)), comment));
                    }
                    // Multi-line quoted scalar: keep the line breaks for `quoted` to fold.
                    let Some(l) = self.lines.get(self.pos) else {
                        return Err(err(no, "unterminated quoted value"));
                    };
                    text.push('\n');
                    text.push_str(&l.text);
                    self.pos += 1;
                }
            }
            '[' | '{' => {
                let mut text = rest.to_owned();
                loop {
                    match flow_end(&text) {
                        Some(end) => {
                            let after = text[end..].trim_start();
                            let comment = if after.is_empty() {
                                None
                            } else if let Some(c) = after.strip_prefix('#') {
                                Some(c.to_owned())
                            } else {
                                return Err(err(no, "unexpected text after a flow collection"));
                            };
                            let mut fp = Flow {
                                s: text[..end].chars().collect(),
                                i: 0,
                                no,
                            };
                            let node = fp.value()?;
                            return Ok((node, comment));
                        }
                        None => {
                            let Some(l) = self.lines.get(self.pos) else {
                                return Err(err(no, "unterminated flow collection"));
                            };
                            if l.is_content() || l.is_comment() {
                                text.push(' ');
                                text.push_str(&l.text);
                            }
                            self.pos += 1;
                        }
                    }
                }
            }
            '&' | '*' => Err(err(no, "anchors and aliases are not supported")),
            '!' => Err(err(no, "tags are not supported")),
            _ => {
                let (mut value, comment) = match rest.find(" #") {
                    Some(p) => (
                        rest[..p].trim_end().to_owned(),
                        Some(rest[p + 2..].to_owned()),
                    ),
                    None => (rest.to_owned(), None),
                };
                // Plain scalars may continue on deeper lines (folded with a space).
                if comment.is_none() {
                    while let Some(l) = self.lines.get(self.pos) {
                        if l.is_content() && l.indent > parent {
                            if is_seq_item(&l.text) || split_key(&l.text, l.no)?.is_some() {
                                return Err(err(l.no, "unexpected indentation"));
                            }
                            value.push(' ');
                            value.push_str(&l.text);
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                Ok((Node::Scalar(resolve_plain(&value)), comment))
            }
        }
    }

    #[allow(clippy::single_match_else)]
    fn block_scalar(
        &mut self,
        header: &str,
        parent: usize,
        no: usize,
    ) -> Result<(Node, Option<String>)> {
        let literal = header.starts_with('|');
        let (head, comment) = match header.find('#') {
            Some(p) => (header[..p].trim(), Some(header[p + 1..].to_owned())),
            None => (header.trim(), None),
        };
        let mut chomp = 'c';
        let mut explicit = None;
        for ch in head[1..].chars() {
            match ch {
                '-' | '+' => chomp = ch,
                '1'..='9' => explicit = Some(ch as usize - '0' as usize),
                _ => return Err(err(no, "bad block scalar header")),
            }
        }
        let content_indent = match explicit {
            Some(n) => parent + n,
            None => {
                let first = self.lines[self.pos..].iter().find(|l| !l.is_blank());
                match first {
                    Some(l) if l.indent > parent => l.indent,
                    _ => usize::MAX,
                }
            }
        };
        let mut body: Vec<String> = Vec::new();
        while let Some(l) = self.lines.get(self.pos) {
            if l.is_blank() {
                body.push(String::new());
            } else if l.indent >= content_indent && content_indent != usize::MAX {
                body.push(format!(
                    "{}{}",
                    " ".repeat(l.indent - content_indent),
                    l.text
                ));
            } else {
                break;
            }
            self.pos += 1;
        }
        // Trailing blank lines belong to the scalar only for `+`; give the rest back.
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &body[..body.len() - trailing];
        let mut s = if literal {
            content.join("\n")
        } else {
            fold(content)
        };
        if !content.is_empty() {
            match chomp {
                '-' => {}
                '+' => {
                    s.push('\n');
                    s.push_str(&"\n".repeat(trailing));
                }
                _ => s.push('\n'),
            }
        } else if chomp == '+' {
            s.push_str(&"\n".repeat(trailing));
        }
        if chomp != '+' {
            self.pos -= trailing;
            while self.lines.get(self.pos).is_some_and(Line::is_blank) {
                self.pos += 1;
            }
        }
        Ok((Node::Scalar(Scalar::Str(s)), comment))
    }
}

fn fold(lines: &[String]) -> String {
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

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// Splits `key: rest` (key unquoted), or `None` when the line is not a mapping entry.
fn split_key(text: &str, no: usize) -> Result<Option<(String, String)>> {
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
fn quoted(text: &str, no: usize) -> Result<Option<(String, String)>> {
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
fn fold_quoted(s: &str) -> String {
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
fn flow_end(text: &str) -> Option<usize> {
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

struct Flow {
    s: Vec<char>,
    i: usize,
    no: usize,
}

impl Flow {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Node> {
        self.ws();
        match self.s.get(self.i) {
            Some('[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&']') {
                        self.i += 1;
                        return Ok(Node::Seq(items));
                    }
                    items.push(SeqItem::Value(self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(',') => self.i += 1,
                        Some(']') => {}
                        _ => return Err(err(self.no, "bad flow sequence")),
                    }
                }
            }
            Some('{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&'}') {
                        self.i += 1;
                        return Ok(Node::Map(items));
                    }
                    let key = match self.scalar(true)? {
                        Node::Scalar(Scalar::Str(k) | Scalar::Time(k)) => k,
                        Node::Scalar(other) => plain_text(&other),
                        _ => return Err(err(self.no, "bad flow mapping key")),
                    };
                    self.ws();
                    let value = if self.s.get(self.i) == Some(&':') {
                        self.i += 1;
                        self.value()?
                    } else {
                        Node::Scalar(Scalar::Null)
                    };
                    items.push(MapItem::Pair(key, value));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(',') => self.i += 1,
                        Some('}') => {}
                        _ => return Err(err(self.no, "bad flow mapping")),
                    }
                }
            }
            _ => self.scalar(false),
        }
    }

    fn scalar(&mut self, key: bool) -> Result<Node> {
        self.ws();
        let rest: String = self.s[self.i..].iter().collect();
        if rest.starts_with('"') || rest.starts_with('\'') {
            let Some((v, after)) = quoted(&rest, self.no)? else {
                return Err(err(self.no, "unterminated quoted value"));
            };
            self.i = self.s.len() - after.chars().count();
            return Ok(Node::Scalar(Scalar::Str(v)));
        }
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            let next = self.s.get(self.i + 1).copied().unwrap_or(' ');
            if c == ','
                || c == ']'
                || c == '}'
                || (c == ':' && (key || next.is_whitespace() || next == ','))
            {
                break;
            }
            self.i += 1;
        }
        let text: String = self.s[start..self.i].iter().collect();
        Ok(Node::Scalar(resolve_plain(text.trim())))
    }
}

// ---------------------------------------------------------------- resolving plain scalars

fn is_int(s: &str) -> Option<i64> {
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

fn is_float(s: &str) -> Option<f64> {
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

fn float_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

fn time_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[-+][0-9]{2}:[0-9]{2}))?$",
        )
        .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

/// What yaml.v3 would read a timestamp as, in Go's `MarshalText` form.
fn as_time(s: &str) -> Option<String> {
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

// ---------------------------------------------------------------- writing

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

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Mapping entries at column `col`; nested content goes to `base + 4` (yaml.v3's layout,
/// where a mapping inside a sequence item has the dash's column as its base).
fn emit_map(out: &mut String, items: &[MapItem], col: usize, base: usize, first_inline: bool) {
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
fn emit_value(out: &mut String, v: &Node, child: usize) {
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

fn emit_seq(out: &mut String, items: &[SeqItem], col: usize) {
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
fn literal_block(s: &Scalar, indent: usize) -> Option<String> {
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

fn plain_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => "null".to_owned(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => go_g_float(*f),
        Scalar::Str(t) | Scalar::Time(t) => t.clone(),
    }
}

/// Go's `FormatFloat(f, 'g', -1, 64)` with YAML's spellings of the specials.
fn go_g_float(f: f64) -> String {
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

const OLD_BOOLS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

fn plain_ok(t: &str) -> bool {
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

fn base60_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
            .unwrap_or_else(|_| unreachable!("constant regex"))
    })
}

fn loose_time_re() -> &'static regex::Regex {
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

fn double_quoted(t: &str) -> String {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trips_a_kubernetes_secret_with_comments() {
        let text = "# head\napiVersion: v1\nmetadata:\n  name: x # inline\nstringData:\n  A: \"5432\"\n  B: 5432\n  L:\n  - a\n  - 'b c'\n  M: |\n    line1\n    line2\n# tail\n";
        let docs = parse(text).unwrap();
        let out = emit(&docs);
        assert_eq!(
            out,
            "# head\napiVersion: v1\nmetadata:\n    # inline\n    name: x\nstringData:\n    A: \"5432\"\n    B: 5432\n    L:\n        - a\n        - b c\n    M: |\n        line1\n        line2\n# tail\n"
        );
        assert_eq!(parse(&out).unwrap(), docs);
    }

    #[test]
    fn sequences_of_mappings_and_flow_values() {
        let text = "top:\n  - a:\n      b: 1\n      c: [x, y]\n    d: |\n      blk\n  - - n1\n    - n2\ne: {}\nf: {k: 'v', n: 2}\n";
        let docs = parse(text).unwrap();
        let out = emit(&docs);
        assert_eq!(
            out,
            "top:\n    - a:\n        b: 1\n        c:\n            - x\n            - \"y\"\n      d: |\n        blk\n    - - n1\n      - n2\ne: {}\nf:\n    k: v\n    \"n\": 2\n"
        );
        assert_eq!(parse(&out).unwrap(), docs);
    }

    #[test]
    fn rejects_bad_input_with_a_line_number() {
        let e = parse("a: 1\n  b: 2\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse("a: 1\na: 2\n").is_err());
        assert!(parse("- a\n").is_err());
        assert!(parse("a: &x 1\n").is_err());
    }
}
