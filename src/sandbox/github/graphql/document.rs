//! A parsed GraphQL document: values, fields and the operation, before execution.

use std::collections::HashMap;

use serde_json::{Value as Json, json};

/// A GraphQL input value before variables are substituted.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// One selected field.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) alias: Option<String>,
    pub(super) name: String,
    pub(super) args: Vec<(String, Value)>,
    pub(super) selection: Vec<Field>,
    /// The type condition of the fragment it came from (`... on CheckRun`), if any.
    pub(super) on: Option<String>,
}

impl Field {
    pub(super) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// Whether the field is asked of an object of type `ty` (no condition, or that type).
    pub(super) fn applies_to(&self, ty: &str) -> bool {
        self.on.as_deref().is_none_or(|t| t == ty)
    }
}

/// A parsed document: the operation's selection and its variable defaults.
pub(super) struct Operation {
    pub(super) selection: Vec<Field>,
    pub(super) defaults: HashMap<String, Json>,
}

pub(super) fn literal_json(v: &Value) -> Json {
    match v {
        Value::Var(_) | Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Float(x) => json!(x),
        Value::Str(s) | Value::Enum(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::List(items) => Json::Array(items.iter().map(literal_json).collect()),
        Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), literal_json(v)))
                .collect(),
        ),
    }
}
