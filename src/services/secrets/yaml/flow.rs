//! Flow collections (`[a, b]`, `{k: v}`) nested inside block YAML.

use crate::services::secrets::Result;
use crate::services::secrets::tree::{MapItem, Node, Scalar, SeqItem};

use super::emit::plain_text;
use super::parse::err;
use super::resolve::resolve_plain;
use super::syntax::quoted;

pub(super) struct Flow {
    pub(super) s: Vec<char>,
    pub(super) i: usize,
    pub(super) no: usize,
}

impl Flow {
    pub(super) fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    pub(super) fn value(&mut self) -> Result<Node> {
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

    pub(super) fn scalar(&mut self, key: bool) -> Result<Node> {
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
