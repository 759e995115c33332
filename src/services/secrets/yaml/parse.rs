//! Reads block YAML line by line into documents: mappings, sequences, block scalars and
//! the comments around every item, which SOPS keeps as values.

use crate::services::secrets::tree::{MapItem, Node, Scalar, SeqItem};
use crate::services::secrets::{Result, SecretsError};

use super::flow::Flow;
use super::resolve::resolve_plain;
use super::syntax::{flow_end, fold, is_seq_item, quoted, split_key};

#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) no: usize,
    pub(super) indent: usize,
    pub(super) text: String,
}

impl Line {
    pub(super) fn is_blank(&self) -> bool {
        self.text.is_empty()
    }
    pub(super) fn is_comment(&self) -> bool {
        self.text.starts_with('#')
    }
    pub(super) fn is_content(&self) -> bool {
        !self.is_blank() && !self.is_comment()
    }
}

pub(super) fn err(line: usize, msg: impl std::fmt::Display) -> SecretsError {
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

pub(super) struct Parser {
    pub(super) lines: Vec<Line>,
    pub(super) pos: usize,
}

impl Parser {
    pub(super) fn next_content(&self) -> Option<usize> {
        (self.pos..self.lines.len()).find(|&i| self.lines[i].is_content())
    }

    /// Takes the comment lines before `idx` (the next content line this container consumes).
    pub(super) fn take_comments(&mut self, idx: usize) -> Vec<String> {
        let c = self.lines[self.pos..idx]
            .iter()
            .filter(|l| l.is_comment())
            .map(|l| l.text[1..].to_owned())
            .collect();
        self.pos = idx;
        c
    }

    pub(super) fn document(&mut self) -> Result<Node> {
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
    pub(super) fn block(&mut self, parent: usize) -> Result<Option<Node>> {
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

    pub(super) fn map(&mut self, indent: usize) -> Result<Node> {
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

    pub(super) fn seq(&mut self, indent: usize) -> Result<Node> {
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
    pub(super) fn inline_value(
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
    pub(super) fn block_scalar(
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
