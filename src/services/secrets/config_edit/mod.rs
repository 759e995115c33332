//! Adding an age recipient to a `.sops.yaml` creation rule, or taking one out, without touching
//! anything else in the file.
//!
//! As in `gitops/edit.rs`, the lossless `yaml-edit` tree only locates the rule's `age` value; the
//! edit is a splice of those bytes in the original text, so comments, blank lines, key order,
//! quoting and the other rules stay exactly as they were. The value may be written the three ways
//! sops reads: a comma-separated string (`age: age1a,age1b`), a block scalar (`age: >-` then one
//! recipient per line) or a list (block or flow). A rule with `key_groups` is edited in its key
//! group's `age`, as sops then ignores the rule's own keys. Every edit is checked before it is
//! returned: the whole file re-reads (serde-saphyr) as the old document with only that rule's
//! recipients changed. What this cannot do safely is an error in words, never a guess.

use std::ops::Range;
use std::str::FromStr;

use serde_json::Value;
use yaml_edit::{YamlFile, YamlNode};

use super::{Result, SecretsError};

mod shapes;
use shapes::{block, block_list, flow, inline, tokens};

/// Which way the recipient goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientChange {
    Add,
    Remove,
}

fn cannot(what: impl Into<String>) -> SecretsError {
    SecretsError::Config(what.into())
}

/// The text of `.sops.yaml` with `recipient` added to (or taken out of) the age recipients of
/// creation rule `rule` (0-based); `None` when the rule already lists it (or, to remove, does not).
pub fn edit_rule(
    text: &str,
    rule: usize,
    recipient: &str,
    change: RecipientChange,
) -> Result<Option<String>> {
    let recipient = recipient.trim();
    if recipient.is_empty() || recipient.contains([',', ' ', '\'', '"', '#', '\n']) {
        return Err(cannot(format!("`{recipient}` is not an age recipient")));
    }
    let target = locate(text, rule)?;
    let old = parse(text, "the file")?;
    let current = recipients(at(&old, &target.path).unwrap_or(&Value::Null));
    let present = current.iter().any(|r| r == recipient);
    let wanted: Vec<String> = match change {
        RecipientChange::Add if present => return Ok(None),
        RecipientChange::Remove if !present => return Ok(None),
        // A rule that lists nobody would, with only this one, take everyone else out of the
        // file at the next `sops updatekeys`: not a guess to make for the person.
        RecipientChange::Add if current.is_empty() => {
            return Err(cannot(format!(
                "{} lists no age recipients, and with only {recipient} it would drop the file's                  others; list them there by hand",
                target.what
            )));
        }
        RecipientChange::Add => {
            let mut w = current.clone();
            w.push(recipient.to_owned());
            w
        }
        RecipientChange::Remove => current
            .iter()
            .filter(|r| *r != recipient)
            .cloned()
            .collect(),
    };
    if wanted.is_empty() {
        return Err(cannot(format!(
            "{recipient} is the rule's only age recipient, and a rule without one would encrypt \
             for nobody; edit {} by hand",
            target.what
        )));
    }
    let (range, replacement) = match target.shape {
        Shape::Inline => inline(text, target.range.clone(), recipient, change)?,
        Shape::Block => block(text, target.range.clone(), recipient, change)?,
        Shape::FlowList => flow(text, target.range.clone(), recipient, change)?,
        Shape::BlockList(ref items) => block_list(text, items, recipient, change)?,
    };
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..range.start]);
    out.push_str(&replacement);
    out.push_str(&text[range.end..]);
    verify(&old, &out, &target, &wanted)?;
    Ok(Some(out))
}

// ---------------------------------------------------------------- finding the value

/// How the `age` value is written.
#[derive(Debug)]
enum Shape {
    /// A one-line plain or quoted string.
    Inline,
    /// `>-`, `|` and friends.
    Block,
    /// `[age1a, age1b]` on one line.
    FlowList,
    /// `- age1a` lines; the byte range of each item.
    BlockList(Vec<Range<usize>>),
}

#[derive(Debug)]
struct Target {
    range: Range<usize>,
    shape: Shape,
    /// Where it is in the parsed document, to check the edit.
    path: Vec<Step>,
    /// `creation_rules[1].age`, for messages.
    what: String,
}

#[derive(Debug, Clone)]
enum Step {
    Key(&'static str),
    Index(usize),
}

fn range_of(n: &YamlNode) -> Range<usize> {
    let r = n.byte_range();
    r.start as usize..r.end as usize
}

fn locate(text: &str, rule: usize) -> Result<Target> {
    let yaml = YamlFile::from_str(text).map_err(|e| cannot(format!("cannot read it: {e}")))?;
    let mut docs = yaml.documents();
    let doc = docs.next().ok_or_else(|| cannot("the file is empty"))?;
    if docs.next().is_some() {
        return Err(cannot(
            "several YAML documents in one file are not supported",
        ));
    }
    let root = doc
        .as_mapping()
        .ok_or_else(|| cannot("the top level is not a mapping"))?;
    let rules = root
        .get("creation_rules")
        .ok_or_else(|| cannot("no `creation_rules:`"))?;
    let item = rules
        .as_sequence()
        .and_then(|s| s.get(rule))
        .ok_or_else(|| cannot(format!("no creation rule number {}", rule + 1)))?;
    let mut path = vec![Step::Key("creation_rules"), Step::Index(rule)];
    let mut what = format!("creation_rules[{rule}]");
    // sops reads `key_groups` when the rule has any, and then ignores the rule's own keys.
    let groups = item.get("key_groups");
    let groups_len = groups
        .as_ref()
        .and_then(|g| g.as_sequence().map(yaml_edit::Sequence::len));
    let node = match (groups, groups_len) {
        (Some(_), None) => return Err(cannot(format!("{what}.key_groups is not a list"))),
        (Some(g), Some(1)) => {
            what.push_str(".key_groups[0].age");
            path.extend([Step::Key("key_groups"), Step::Index(0), Step::Key("age")]);
            g.get_item(0).and_then(|g| g.get("age")).ok_or_else(|| {
                cannot(format!("{what} is missing (the key group has no age list)"))
            })?
        }
        (Some(_), Some(n)) if n > 1 => {
            return Err(cannot(format!(
                "{what} has {n} key groups, so sops needs a key from each to open a file; \
                 which group the recipient belongs in is yours to decide"
            )));
        }
        _ => {
            what.push_str(".age");
            path.push(Step::Key("age"));
            item.get("age").ok_or_else(|| {
                cannot(format!(
                    "{what} is missing (the rule has no age recipients)"
                ))
            })?
        }
    };
    let mut range = range_of(&node);
    let raw = text
        .get(range.clone())
        .ok_or_else(|| cannot(format!("{what}: position out of range")))?;
    // The node may carry surrounding blanks; the value is what is left.
    range.start += raw.len() - raw.trim_start().len();
    range.end = range.start + text[range.clone()].trim_end_matches([' ', '\t']).len();
    let raw = &text[range.clone()];
    // An anchored value is shared with its aliases, and an alias is someone else's value.
    let before = text[..range.start].trim_end();
    let decorated = before
        .rsplit([' ', '\t', '\n'])
        .next()
        .is_some_and(|t| t.starts_with(['&', '!']));
    if node.is_alias() || decorated || raw.starts_with(['&', '*', '!']) {
        return Err(cannot(format!(
            "{what} is a YAML anchor, alias or tagged value, so it may be shared with other \
             rules; edit it by hand"
        )));
    }
    let shape = if let Some(seq) = node.as_sequence() {
        if raw.starts_with('[') {
            Shape::FlowList
        } else {
            let items: Vec<Range<usize>> = seq.values().map(|v| range_of(&v)).collect();
            if seq.values().any(|v| !v.is_scalar()) {
                return Err(cannot(format!("{what} lists something other than strings")));
            }
            Shape::BlockList(items)
        }
    } else if node.is_scalar() {
        if raw.starts_with(['|', '>']) {
            Shape::Block
        } else {
            Shape::Inline
        }
    } else {
        return Err(cannot(format!("{what} is neither a string nor a list")));
    };
    Ok(Target {
        range,
        shape,
        path,
        what,
    })
}

// ---------------------------------------------------------------- checking the edit

fn parse(text: &str, what: &str) -> Result<Value> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        cannot(format!(
            "{what} would not read as YAML: {}",
            crate::inventory::yaml_sentence(e.to_string().lines().next().unwrap_or_default())
        ))
    })
}

fn at<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, s| match s {
        Step::Key(k) => v.get(*k),
        Step::Index(i) => v.get(*i),
    })
}

fn at_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, s| match s {
        Step::Key(k) => v.get_mut(*k),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// The recipients sops reads from an `age` value: comma-separated, in a string or a list.
fn recipients(v: &Value) -> Vec<String> {
    let split = |s: &str| tokens(s).into_iter().map(str::to_owned).collect::<Vec<_>>();
    match v {
        Value::String(s) => split(s),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(split)
            .collect(),
        _ => Vec::new(),
    }
}

/// The new text reads as the old document with only the target's recipients changed, to
/// `wanted`, in the same shape (a string stays a string, a list a list).
fn verify(old: &Value, new_text: &str, target: &Target, wanted: &[String]) -> Result<()> {
    let mut new = parse(new_text, "the edited file")?;
    let mut old = old.clone();
    let moved = || cannot(format!("the edit of {} moved it", target.what));
    let (o, n) = (
        at_mut(&mut old, &target.path).ok_or_else(moved)?,
        at(&new, &target.path).ok_or_else(moved)?,
    );
    if recipients(n) != wanted || (!o.is_null() && o.is_string() != n.is_string()) {
        return Err(cannot(format!(
            "the edit of {} would not read back as the recipients wanted",
            target.what
        )));
    }
    *o = Value::Null;
    *at_mut(&mut new, &target.path).ok_or_else(moved)? = Value::Null;
    if old != new {
        return Err(cannot(format!(
            "the edit of {} would change more than its recipients",
            target.what
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::RecipientChange::{Add, Remove};
    use super::*;

    const A: &str = "age1aaaa";
    const B: &str = "age1bbbb";
    const N: &str = "age1nnnn";

    fn add(text: &str, rule: usize) -> String {
        edit_rule(text, rule, N, Add).unwrap().expect("an edit")
    }

    #[test]
    fn comma_separated_string() {
        let text = format!(
            "# keys\ncreation_rules:\n  - path_regex: prod/ # prod\n    age: {A},{B} # team\n  - age: \"{A}, {B}\"\n"
        );
        assert_eq!(
            add(&text, 0),
            text.replacen(&format!("{A},{B} #"), &format!("{A},{B},{N} #"), 1)
        );
        assert_eq!(
            add(&text, 1),
            text.replace(&format!("\"{A}, {B}\""), &format!("\"{A}, {B}, {N}\""))
        );
        let out = edit_rule(&text, 0, B, Remove).unwrap().unwrap();
        assert_eq!(
            out,
            text.replacen(&format!("{A},{B} #"), &format!("{A} #"), 1)
        );
        // Already there / already gone: nothing to do.
        assert_eq!(edit_rule(&text, 0, A, Add).unwrap(), None);
        assert_eq!(edit_rule(&text, 0, N, Remove).unwrap(), None);
        // The last one cannot go.
        let one = format!("creation_rules:\n  - age: {A}\n");
        let e = edit_rule(&one, 0, A, Remove).unwrap_err().to_string();
        assert!(e.contains("only age recipient"), "{e}");
    }

    #[test]
    fn folded_and_literal_block_scalars() {
        let text = format!(
            "creation_rules:\n  - path_regex: x\n    age: >-\n      {A},\n      {B}\n\n    # after\n    encrypted_regex: ^data$\n  - age: |\n      {A},\n      {B},\n"
        );
        assert_eq!(
            add(&text, 0),
            text.replacen(
                &format!("      {B}\n\n"),
                &format!("      {B},\n      {N}\n\n"),
                1
            )
        );
        // A trailing comma on every line stays the style.
        assert_eq!(add(&text, 1), format!("{text}      {N},\n"));
        let out = edit_rule(&text, 0, B, Remove).unwrap().unwrap();
        assert_eq!(
            out,
            text.replacen(
                &format!("      {A},\n      {B}\n"),
                &format!("      {A}\n"),
                1
            )
        );
        let out = edit_rule(&text, 0, A, Remove).unwrap().unwrap();
        assert_eq!(
            out,
            text.replacen(
                &format!("      {A},\n      {B}\n"),
                &format!("      {B}\n"),
                1
            )
        );
        // All on one line stays on one line.
        let one = format!("creation_rules:\n  - age: >-\n      {A}, {B}\n");
        assert_eq!(
            add(&one, 0),
            format!("creation_rules:\n  - age: >-\n      {A}, {B}, {N}\n")
        );
        // The last line of a file without a final line break.
        let eof = format!("creation_rules:\n  - age: >-\n      {A}");
        assert_eq!(
            add(&eof, 0),
            format!("creation_rules:\n  - age: >-\n      {A},\n      {N}")
        );
    }

    #[test]
    fn block_and_flow_lists() {
        let text = format!(
            "creation_rules:\n  - path_regex: a\n    age:\n      - {A} # alice\n      - '{B}'\n    # the end\n  - age: [{A}, {B}]\n"
        );
        assert_eq!(
            add(&text, 0),
            text.replacen(
                &format!("      - '{B}'\n"),
                &format!("      - '{B}'\n      - '{N}'\n"),
                1
            )
        );
        assert_eq!(
            add(&text, 1),
            text.replace(&format!("[{A}, {B}]"), &format!("[{A}, {B}, {N}]"))
        );
        let out = edit_rule(&text, 0, A, Remove).unwrap().unwrap();
        assert_eq!(out, text.replacen(&format!("      - {A} # alice\n"), "", 1));
        let out = edit_rule(&text, 1, A, Remove).unwrap().unwrap();
        assert_eq!(out, text.replace(&format!("[{A}, {B}]"), &format!("[{B}]")));
        // CRLF is kept.
        let crlf = format!("creation_rules:\r\n  - age:\r\n      - {A}\r\n");
        assert_eq!(
            add(&crlf, 0),
            format!("creation_rules:\r\n  - age:\r\n      - {A}\r\n      - {N}\r\n")
        );
    }

    #[test]
    fn key_groups_edit_the_one_group() {
        let text = format!(
            "creation_rules:\n  - path_regex: a\n    key_groups:\n      - age:\n          - {A}\n        pgp: []\n"
        );
        assert_eq!(
            add(&text, 0),
            text.replace(
                &format!("          - {A}\n"),
                &format!("          - {A}\n          - {N}\n")
            )
        );
        let two =
            format!("creation_rules:\n  - key_groups:\n      - age: [{A}]\n      - age: [{B}]\n");
        let e = edit_rule(&two, 0, N, Add).unwrap_err().to_string();
        assert!(e.contains("2 key groups"), "{e}");
    }

    #[test]
    fn shared_or_missing_values_are_refused_in_words() {
        for (text, says) in [
            (
                format!("x: &k {A}\ncreation_rules:\n  - age: *k\n"),
                "alias",
            ),
            (
                format!("creation_rules:\n  - age: &k {A}\n  - age: *k\n"),
                "anchor",
            ),
            (
                "creation_rules:\n  - pgp: ABC\n".to_owned(),
                "no age recipients",
            ),
            (
                "creation_rules:\n  - age: x\n".to_owned(),
                "no creation rule number 3",
            ),
        ] {
            let rule = if says.contains("number") { 2 } else { 0 };
            let e = edit_rule(&text, rule, N, Add).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn odd_values_are_edited_or_refused_never_mangled() {
        for text in [
            "creation_rules:\n  - age:\n    path_regex: x\n".to_owned(),
            "creation_rules:\n  - age:".to_owned(),
            "creation_rules:\n  - age: \"\"\n".to_owned(),
            "creation_rules:\n  - age: []\n".to_owned(),
            "creation_rules:\n  - age: >-\n  - age: x\n".to_owned(),
            format!("creation_rules:\n  - age: >-\n      {A}\n      ,{B}\n"),
            format!("creation_rules:\n  - age: [{A},\n      {B}]\n"),
            format!("creation_rules:\n  - age: {A},\n      {B}\n"),
            format!("creation_rules:\n  - age:\n      - [{A}]\n"),
            format!("creation_rules:\n  - age: {{a: {A}}}\n"),
            format!("a: 1\n---\ncreation_rules:\n  - age: {A}\n"),
        ] {
            for change in [Add, Remove] {
                match edit_rule(&text, 0, N, change) {
                    Ok(Some(out)) => {
                        let v: Value = serde_saphyr::from_str(&out).unwrap();
                        let got = recipients(&v["creation_rules"][0]["age"]);
                        assert!(got.contains(&N.to_owned()), "{text:?} -> {out:?}");
                    }
                    Ok(None) => assert_eq!(change, Remove, "{text:?}"),
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
        let e = edit_rule("creation_rules:\n  - age: []\n", 0, N, Add).unwrap_err();
        assert!(e.to_string().contains("lists no age recipients"), "{e}");
        let e = edit_rule("creation_rules:\n  - age: x\n", 0, "age1 x", Add).unwrap_err();
        assert!(e.to_string().contains("not an age recipient"), "{e}");
    }

    #[test]
    fn every_other_byte_stays() {
        let text = format!(
            "# top comment\n\ncreation_rules:\n  # staging first\n  - path_regex: stg/.*\\.yaml$\n    age: {A}   # one\n\n  - path_regex: prod/\n    encrypted_regex: ^(data|stringData)$\n    age: >-\n      {A},\n      {B}\n# bottom\n"
        );
        let out = add(&text, 1);
        // One line gains a comma, one is inserted after it: the rest is the same bytes.
        assert_eq!(
            out,
            text.replacen(
                &format!("      {B}\n"),
                &format!("      {B},\n      {N}\n"),
                1
            )
        );
        let out = add(&text, 0);
        assert_eq!(
            out,
            text.replacen(&format!("{A}   #"), &format!("{A},{N}   #"), 1)
        );
    }
}
