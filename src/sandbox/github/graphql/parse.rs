//! Reads tokens into an operation: variables with defaults, aliases, arguments, and
//! fragments (named and inline) spliced into the selection.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::document::{Field, Operation, Value, literal_json};
use super::lex::{Tok, lex};

pub(super) struct Parser {
    pub(super) toks: Vec<Tok>,
    pub(super) pos: usize,
    /// Named fragments: their type condition and selection.
    pub(super) fragments: HashMap<String, (String, Vec<Sel>)>,
}

/// A selection before fragments are spliced in.
#[derive(Debug, Clone)]
pub(super) enum Sel {
    Field {
        alias: Option<String>,
        name: String,
        args: Vec<(String, Value)>,
        selection: Vec<Sel>,
    },
    Spread(String),
    /// `... on Type { }` (the type) or `... { }` (none).
    Inline(Option<String>, Vec<Sel>),
}

pub(super) fn parse(src: &str) -> Result<Operation, String> {
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
                let on = p.name()?;
                let sel = p.selection_set()?;
                p.fragments.insert(name, (on, sel));
            }
            Some(Tok::Name(n)) if n == "mutation" || n == "subscription" => {
                return Err(format!("the sandbox serves queries only, not {n}s"));
            }
            other => return Err(format!("unexpected {other:?} at the top level")),
        }
    }
    let (sel, defaults) = operation.ok_or("no operation in the document")?;
    let selection = p.splice(&sel, 0, None)?;
    Ok(Operation {
        selection,
        defaults,
    })
}

pub(super) fn set_once<T>(slot: &mut Option<T>, v: T) -> Result<(), String> {
    if slot.is_some() {
        return Err("the sandbox runs documents with exactly one operation".to_owned());
    }
    *slot = Some(v);
    Ok(())
}

impl Parser {
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    pub(super) fn next(&mut self) -> Result<Tok, String> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of query")?;
        self.pos += 1;
        Ok(t)
    }

    pub(super) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Tok::Punct(p) if p == c => Ok(()),
            other => Err(format!("expected '{c}', found {other:?}")),
        }
    }

    pub(super) fn name(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Name(n) => Ok(n),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }

    pub(super) fn expect_name(&mut self, want: &str) -> Result<(), String> {
        let n = self.name()?;
        if n == want {
            Ok(())
        } else {
            Err(format!("expected '{want}', found '{n}'"))
        }
    }

    pub(super) fn skip_directives(&mut self) -> Result<(), String> {
        if self.peek() == Some(&Tok::Punct('@')) {
            return Err("directives are not supported by the sandbox".to_owned());
        }
        Ok(())
    }

    pub(super) fn variable_definitions(&mut self) -> Result<HashMap<String, Json>, String> {
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

    pub(super) fn type_ref(&mut self) -> Result<(), String> {
        if self.eat(&Tok::Punct('[')) {
            self.type_ref()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        self.eat(&Tok::Punct('!'));
        Ok(())
    }

    pub(super) fn value(&mut self) -> Result<Value, String> {
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

    pub(super) fn selection_set(&mut self) -> Result<Vec<Sel>, String> {
        self.expect('{')?;
        let mut out = Vec::new();
        while !self.eat(&Tok::Punct('}')) {
            if self.eat(&Tok::Spread) {
                if let Some(Tok::Name(n)) = self.peek().cloned() {
                    if n == "on" {
                        self.pos += 1;
                        let on = self.name()?;
                        self.skip_directives()?;
                        out.push(Sel::Inline(Some(on), self.selection_set()?));
                    } else {
                        self.pos += 1;
                        self.skip_directives()?;
                        out.push(Sel::Spread(n));
                    }
                } else {
                    self.skip_directives()?;
                    out.push(Sel::Inline(None, self.selection_set()?));
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

    /// Replaces fragment spreads with their fields. A field spliced from a fragment keeps its
    /// type condition (`on`), so the members of a union (`CheckRun | StatusContext`) each read
    /// only their own fields.
    pub(super) fn splice(
        &self,
        sel: &[Sel],
        depth: usize,
        on: Option<&str>,
    ) -> Result<Vec<Field>, String> {
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
                    selection: self.splice(selection, depth + 1, None)?,
                    on: on.map(str::to_owned),
                }),
                Sel::Inline(cond, inner) => {
                    out.extend(self.splice(inner, depth + 1, cond.as_deref().or(on))?);
                }
                Sel::Spread(name) => {
                    let (cond, inner) = self
                        .fragments
                        .get(name)
                        .ok_or_else(|| format!("Fragment {name} was used, but not defined"))?;
                    out.extend(self.splice(inner, depth + 1, Some(cond))?);
                }
            }
        }
        Ok(out)
    }
}
