//! Turning parse and validation failures into `file:line:col: what — fix` messages.

use std::path::{Path, PathBuf};

use serde_saphyr::{Error as YamlError, Location};

use super::Inventory;

/// Everything that can be wrong with an inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{}: cannot read the inventory: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: {message}\n  fix: {fix}", path.display())]
    Invalid {
        path: PathBuf,
        line: u64,
        col: u64,
        message: String,
        fix: String,
    },
    #[error(
        "no inventory found (tried {}).\n  fix: pass --inventory PATH, set SHIPDECK_INVENTORY, or run `shipdeck demo` to get a sandbox one",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound { tried: Vec<PathBuf> },
    /// Several problems, each with its place and fix.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<InventoryError>),
    #[error("unknown {kind} `{name}`; the inventory defines: {}", known.join(", "))]
    UnknownName {
        kind: &'static str,
        name: String,
        known: Vec<String>,
    },
}

impl InventoryError {
    fn at(path: &Path, loc: Location, message: impl Into<String>, fix: impl Into<String>) -> Self {
        InventoryError::Invalid {
            path: path.to_path_buf(),
            line: loc.line().max(1),
            col: loc.column().max(1),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Inventory, InventoryError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    let mut inv: Inventory = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| from_yaml(&e, path, text))?;
    inv.source = path.to_path_buf();
    inv.complete_images();
    let mut problems = super::checks::problems(&inv, text, path);
    if let Err(e) = validate(&inv, path) {
        problems.push(e);
    }
    match problems.len() {
        0 => Ok(inv),
        1 => Err(problems.remove(0)),
        _ => Err(InventoryError::Many(problems)),
    }
}

/// serde-saphyr's message with its budget breach (`budget breached: Nodes { nodes: 250001 }`,
/// a Debug struct) said as a sentence; any other message as it is.
pub(crate) fn yaml_sentence(message: &str) -> String {
    const MARK: &str = "budget breached: ";
    let Some(at) = message.find(MARK) else {
        return message.to_owned();
    };
    let rest = &message[at + MARK.len()..];
    let kind: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let count: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    let what = match kind.as_str() {
        "Nodes" => "nodes",
        "Aliases" => "alias uses",
        "Anchors" => "anchors",
        "Depth" => "levels of nesting",
        "Events" => "parser events",
        "Documents" => "documents",
        other => other,
    };
    let tail = rest.find('}').map_or("", |i| &rest[i + 1..]);
    format!(
        "{}the YAML goes past a safety limit ({count} {what}; aliases that repeat aliases can \
         expand a small file without end), so it is not read{tail}",
        &message[..at]
    )
}

/// Strips the library's own " at line X column Y" tails: the location goes in front.
fn bare_message(e: &YamlError) -> String {
    let opts = serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    };
    let full = e.render_with_options(opts);
    let first = yaml_sentence(full.lines().next().unwrap_or_default().trim());
    match first.find(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first,
    }
}

fn from_yaml(e: &YamlError, path: &Path, text: &str) -> InventoryError {
    let loc = e.location().unwrap_or(Location::UNKNOWN);
    let inner = unwrap_snippet(e);
    let (message, fix) = match inner {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown key `{field}`"),
            did_you_mean(field, expected, "key"),
        ),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            format!("unknown value `{variant}`"),
            did_you_mean(variant, expected, "value"),
        ),
        YamlError::SerdeMissingField { field, .. } => {
            let (message, fix) = (
                format!("missing required key `{field}`"),
                format!("add `{field}: …` to this mapping (see inventory.example.yaml)"),
            );
            // The parser points inside the mapping; the reader looks for its key (`prod:`).
            if let Some((line, col)) = enclosing_key(text, loc.line()) {
                return InventoryError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    col,
                    message: format!("{message} under `{}`", key_at(text, line)),
                    fix,
                };
            }
            (message, fix)
        }
        YamlError::DuplicateMappingKey { .. } => (
            bare_message(inner)
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or_default()
                .replace("duplicate mapping key: ", "duplicate key: "),
            "each key may appear once in a mapping: remove or rename the second one".to_owned(),
        ),
        YamlError::SerdeInvalidType { .. }
        | YamlError::InvalidBooleanStrict { .. }
        | YamlError::InvalidScalar { .. }
        | YamlError::NullIntoString { .. } => {
            let m = bare_message(inner);
            let fix = type_fix(&m);
            (format!("wrong type: {}", plain_type(&m)), fix)
        }
        _ if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) =>
        {
            (
                "the inventory is empty".to_owned(),
                "start from inventory.example.yaml (gitops, apps and environments are required)"
                    .to_owned(),
            )
        }
        _ => {
            let m = bare_message(inner);
            if m.starts_with("expected ") {
                let fix = type_fix(&m);
                (format!("wrong type: {}", plain_type(&m)), fix)
            } else {
                (
                    m,
                    "check the YAML syntax at this spot (indentation, a missing `:` or quote)"
                        .to_owned(),
                )
            }
        }
    };
    InventoryError::at(path, loc, message, fix)
}

/// The key whose block holds `line`: the nearest line above it, indented less, that opens a
/// mapping (`prod:`).
fn enclosing_key(text: &str, line: u64) -> Option<(u64, u64)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = usize::try_from(line).ok()?.checked_sub(1)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let here_line = lines.get(at)?;
    // Pointing at a key that opens a block (`layout:`) already names the mapping; at the
    // top level it is the document's own mapping that lacks the key, and no key holds it.
    if here_line.trim_end().ends_with(':') {
        return (indent(here_line) > 0).then(|| (line, indent(here_line) as u64 + 1));
    }
    let here = indent(here_line);
    (0..at).rev().find_map(|i| {
        let l = lines[i];
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#') && indent(l) < here && t.ends_with(':'))
            .then(|| (i as u64 + 1, indent(l) as u64 + 1))
    })
}

fn key_at(text: &str, line: u64) -> String {
    text.lines()
        .nth(usize::try_from(line).unwrap_or(0).saturating_sub(1))
        .map(|l| l.trim().trim_end_matches(':').to_owned())
        .unwrap_or_default()
}

fn unwrap_snippet(e: &YamlError) -> &YamlError {
    match e {
        YamlError::WithSnippet { error, .. } => unwrap_snippet(error),
        other => other,
    }
}

/// The parser's words for a type (`invalid u64`, `use Option<String>`, `expected sequence
/// start`) said as a person would: the reader wrote YAML, not Rust.
fn plain_type(message: &str) -> String {
    let m = message;
    if m.contains("null into string") || m.contains("Option<") {
        "expected a value here, found nothing (empty, `~` or `null`)".to_owned()
    } else if m.contains("boolean") || m.contains("bool") {
        "expected `true` or `false`".to_owned()
    } else if ["u8", "u16", "u32", "u64", "i32", "i64", "usize", "integer"]
        .iter()
        .any(|t| m.split(|c: char| !c.is_alphanumeric()).any(|w| w == *t))
    {
        "expected a whole number".to_owned()
    } else if m.contains("f32") || m.contains("f64") || m.contains("float") {
        "expected a number".to_owned()
    } else if m.contains("sequence") {
        "expected a list".to_owned()
    } else if m.contains("mapping") || m.contains("struct") {
        "expected a mapping of `key: value` lines".to_owned()
    } else if m.contains("string") {
        "expected a string".to_owned()
    } else {
        m.to_owned()
    }
}

fn type_fix(message: &str) -> String {
    if message.contains("null into string") || message.contains("Option<") {
        "write the value, e.g. a path such as ./tmp or a name (or remove the key)".to_owned()
    } else if message.contains("boolean") || message.contains("bool") {
        "write `true` or `false`".to_owned()
    } else if message.contains("sequence") {
        "write a list, e.g. `[a, b]` or one `- item` per line".to_owned()
    } else if message.contains("mapping") || message.contains("map") || message.contains("struct") {
        "write a mapping of `key: value` lines indented under this key".to_owned()
    } else if ["u8", "u16", "u32", "u64", "i32", "i64", "usize", "integer"]
        .iter()
        .any(|t| {
            message
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == *t)
        })
    {
        "write a whole number, e.g. 30".to_owned()
    } else {
        "write a plain string (quote it if it looks like a number or boolean)".to_owned()
    }
}

fn did_you_mean(found: &str, expected: &[&str], what: &str) -> String {
    let best = expected
        .iter()
        .map(|cand| (strsim::damerau_levenshtein(found, cand), *cand))
        .filter(|(d, cand)| *d <= 3.max(cand.len() / 3))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, cand)) => format!("did you mean `{cand}`?"),
        None if expected.is_empty() => format!("remove this {what}"),
        None => format!("valid {what}s here: {}", expected.join(", ")),
    }
}

fn validate(inv: &Inventory, path: &Path) -> Result<(), InventoryError> {
    for (name, env) in &inv.environments {
        if let Some(from) = &env.promote_from {
            if !inv.environments.contains_key(&from.value) {
                let known: Vec<&str> = inv.environments.keys().map(String::as_str).collect();
                return Err(InventoryError::at(
                    path,
                    from.referenced,
                    format!(
                        "environment `{name}` promotes from `{}`, which is not defined",
                        from.value
                    ),
                    did_you_mean(&from.value, &known, "environment"),
                ));
            }
            if from.value == *name {
                return Err(InventoryError::at(
                    path,
                    from.referenced,
                    format!("environment `{name}` promotes from itself"),
                    "name the environment it receives builds from, or remove promote_from",
                ));
            }
        }
    }
    // Walk each chain; a chain longer than the number of environments loops.
    for (start, _) in &inv.environments {
        let mut seen = vec![start.as_str()];
        let mut cur = start.as_str();
        while let Some(next) = inv
            .environments
            .get(cur)
            .and_then(|e| e.promote_from.as_ref())
        {
            if seen.contains(&next.value.as_str()) {
                seen.push(next.value.as_str());
                return Err(InventoryError::at(
                    path,
                    next.referenced,
                    format!("promote_from forms a cycle: {}", seen.join(" → ")),
                    "promotion must flow one way (e.g. dev → stg → prod): remove one promote_from",
                ));
            }
            seen.push(next.value.as_str());
            cur = next.value.as_str();
        }
    }
    if inv.apps.is_empty() {
        return Err(InventoryError::at(
            path,
            Location::UNKNOWN,
            "`apps` is empty",
            "add at least one app with its image and layout",
        ));
    }
    if inv.environments.is_empty() {
        return Err(InventoryError::at(
            path,
            Location::UNKNOWN,
            "`environments` is empty",
            "add at least one environment with its namespace",
        ));
    }
    Ok(())
}
