//! The document tree SOPS works on: mappings keep their order and their comments, because
//! comments are values too (they get encrypted with the path of their mapping).

use zeroize::Zeroize;

/// A leaf value with its SOPS type.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// RFC 3339 text, as Go's `time.Time.MarshalText` writes it.
    Time(String),
}

/// A node of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Vec<MapItem>),
    Seq(Vec<SeqItem>),
    Scalar(Scalar),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapItem {
    Pair(String, Node),
    /// The text after `#`.
    Comment(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeqItem {
    Value(Node),
    Comment(String),
}

impl Scalar {
    /// The bytes SOPS encrypts and feeds to the MAC (`ToBytes` in sops.go); `None` for null.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Scalar::Null => None,
            Scalar::Str(s) | Scalar::Time(s) => Some(s.as_bytes().to_vec()),
            Scalar::Int(i) => Some(i.to_string().into_bytes()),
            Scalar::Float(f) => Some(go_format_float(*f).into_bytes()),
            Scalar::Bool(b) => Some(if *b {
                b"True".to_vec()
            } else {
                b"False".to_vec()
            }),
        }
    }

    /// The `type:` of an `ENC[...]` value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Null | Scalar::Str(_) => "str",
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Bool(_) => "bool",
            Scalar::Time(_) => "time",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn go_format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{f}")
    }
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Scalar(Scalar::Str(s.into()))
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(items) => items.iter().find_map(|i| match i {
                MapItem::Pair(k, v) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Overwrites every string in the tree, so plaintext does not linger in freed memory.
    pub fn wipe(&mut self) {
        match self {
            Node::Map(items) => {
                for item in items {
                    match item {
                        MapItem::Pair(k, v) => {
                            k.zeroize();
                            v.wipe();
                        }
                        MapItem::Comment(c) => c.zeroize(),
                    }
                }
            }
            Node::Seq(items) => {
                for item in items {
                    match item {
                        SeqItem::Value(v) => v.wipe(),
                        SeqItem::Comment(c) => c.zeroize(),
                    }
                }
            }
            Node::Scalar(s) => match s {
                Scalar::Str(t) | Scalar::Time(t) => t.zeroize(),
                Scalar::Int(i) => i.zeroize(),
                Scalar::Float(f) => f.zeroize(),
                Scalar::Bool(b) => b.zeroize(),
                Scalar::Null => {}
            },
        }
    }
}

/// A set of documents (YAML streams may hold several; JSON and dotenv hold one) that
/// wipes itself when dropped. Used for plaintext.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Branches(pub Vec<Node>);

impl Drop for Branches {
    fn drop(&mut self) {
        for b in &mut self.0 {
            b.wipe();
        }
    }
}
