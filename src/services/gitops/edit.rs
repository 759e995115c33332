//! Reading and rewriting the one scalar that holds an image tag, without touching anything else.
//!
//! The lossless `yaml-edit` tree locates the scalar; the rewrite is then a splice of its bytes in
//! the original text, so comments, blank lines, key order, indentation, CRLF and the quote style
//! stay exactly as they were. Every edit is checked before it is returned: exactly one line
//! differs, and the whole file re-reads (serde-saphyr) as the old document with only that value
//! changed. Anything this cannot do safely is an error naming the file, never a guess.

use std::ops::Range;
use std::str::FromStr;

use yaml_edit::{YamlFile, YamlNode};

use super::tag::needs_quotes;
use super::{GitopsError, Result};

/// Where the tag lives in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSpot<'a> {
    /// A kustomization: the `images[]` entry whose `name` matches; its `digest` if it has one
    /// (kustomize ignores `newTag` then), else its `newTag`.
    Kustomize { image_name: &'a str },
    /// A Helm values file: the scalar at a dotted key path such as `image.tag`.
    Helm { key: &'a str },
}

/// One step of the path to the scalar, to check the edit semantically.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The located scalar.
#[derive(Debug)]
struct Found {
    range: Range<usize>,
    value: String,
    path: Vec<Step>,
    /// `images[name=…].newTag` or the key path, for messages.
    what: String,
    /// Kustomize: the value is a digest field.
    is_digest_field: bool,
}

/// Reads the current tag (or digest) from a file's text.
pub fn read_tag(text: &str, spot: TagSpot<'_>, file: &str) -> Result<String> {
    locate(text, spot, file).map(|f| f.value)
}

/// Returns the text with the tag replaced, changing exactly one line.
pub fn set_tag(text: &str, spot: TagSpot<'_>, new: &str, file: &str) -> Result<String> {
    let found = locate(text, spot, file)?;
    let new_is_digest = new.starts_with("sha256:");
    if let TagSpot::Kustomize { .. } = spot {
        if found.is_digest_field && !new_is_digest {
            return Err(GitopsError::NotFound {
                file: file.to_owned(),
                what: format!(
                    "{} pins a digest, so a tag would be ignored; release a sha256: digest or remove the digest line",
                    found.what
                ),
            });
        }
        if !found.is_digest_field && new_is_digest {
            return Err(GitopsError::NotFound {
                file: file.to_owned(),
                what: format!(
                    "{} has no `digest:` field to hold {new}; add one or release a tag",
                    found.what
                ),
            });
        }
    }
    let raw = &text[found.range.clone()];
    let replacement = match raw.as_bytes().first() {
        Some(b'"') => format!("\"{new}\""),
        Some(b'\'') => format!("'{new}'"),
        _ if needs_quotes(new) => format!("\"{new}\""),
        _ => new.to_owned(),
    };
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..found.range.start]);
    out.push_str(&replacement);
    out.push_str(&text[found.range.end..]);
    verify(text, &out, &found, new, file)?;
    Ok(out)
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    crate::textpos::line_col(text.as_bytes(), offset).0
}

fn unparsable(file: &str, what: impl Into<String>) -> GitopsError {
    GitopsError::Unparsable {
        file: file.to_owned(),
        what: what.into(),
    }
}

fn not_found(file: &str, what: impl Into<String>) -> GitopsError {
    GitopsError::NotFound {
        file: file.to_owned(),
        what: what.into(),
    }
}

fn locate(text: &str, spot: TagSpot<'_>, file: &str) -> Result<Found> {
    let yaml = YamlFile::from_str(text).map_err(|e| unparsable(file, e.to_string()))?;
    let mut docs = yaml.documents();
    let doc = docs
        .next()
        .ok_or_else(|| not_found(file, "the file is empty"))?;
    if docs.next().is_some() {
        return Err(unparsable(
            file,
            "several YAML documents in one file are not supported",
        ));
    }
    let root = doc
        .as_mapping()
        .ok_or_else(|| unparsable(file, "the top level is not a mapping"))?;
    let (node, path, what, is_digest_field) = match spot {
        TagSpot::Kustomize { image_name } => {
            let images = root
                .get("images")
                .ok_or_else(|| not_found(file, "no `images:` list"))?;
            let seq = images
                .as_sequence()
                .ok_or_else(|| unparsable(file, "`images:` is not a list"))?;
            let matching: Vec<(usize, YamlNode)> = seq
                .values()
                .enumerate()
                .filter(|(_, item)| {
                    item.get("name")
                        .and_then(|n| n.as_scalar().map(yaml_edit::Scalar::as_string))
                        .is_some_and(|n| n == image_name)
                })
                .collect();
            // kustomize applies every entry in order, so the last one wins: editing any one
            // of several would report a release that Argo CD never applies.
            if matching.len() > 1 {
                let lines: Vec<String> = matching
                    .iter()
                    .map(|(_, n)| line_of(text, n.byte_range().start as usize).to_string())
                    .collect();
                return Err(unparsable(
                    file,
                    format!(
                        "{} `images:` entries are named `{image_name}` (lines {}); kustomize \
                         applies the last, so the edit would be ambiguous: keep one entry",
                        matching.len(),
                        lines.join(" and ")
                    ),
                ));
            }
            let (index, entry) = matching.into_iter().next().ok_or_else(|| {
                not_found(file, format!("no `images:` entry with name `{image_name}`"))
            })?;
            let what = format!("images[name={image_name}]");
            let (field, node) = if let Some(d) = entry.get("digest") {
                ("digest", d)
            } else if let Some(t) = entry.get("newTag") {
                ("newTag", t)
            } else {
                return Err(not_found(
                    file,
                    format!("{what} has neither `newTag:` nor `digest:`"),
                ));
            };
            (
                node,
                vec![
                    Step::Key("images".to_owned()),
                    Step::Index(index),
                    Step::Key(field.to_owned()),
                ],
                format!("{what}.{field}"),
                field == "digest",
            )
        }
        TagSpot::Helm { key } => {
            let mut node: Option<YamlNode> = None;
            let mut path = Vec::new();
            for (i, part) in key.split('.').enumerate() {
                let next = match &node {
                    None => root.get(part),
                    Some(n) => n.get(part),
                };
                let walked = key.split('.').take(i + 1).collect::<Vec<_>>().join(".");
                node = Some(next.ok_or_else(|| not_found(file, format!("no key `{walked}`")))?);
                path.push(Step::Key(part.to_owned()));
            }
            let node = node.ok_or_else(|| not_found(file, "empty key path"))?;
            (node, path, key.to_owned(), false)
        }
    };
    let at = node.byte_range().start as usize;
    if text
        .get(at..)
        .is_some_and(|t| t.trim_start().starts_with('*'))
    {
        return Err(unparsable(
            file,
            format!(
                "`{what}` (line {}) is a YAML alias, so its value belongs to another key; \
                 write the tag there literally",
                line_of(text, at)
            ),
        ));
    }
    let scalar = node
        .as_scalar()
        .ok_or_else(|| unparsable(file, format!("`{what}` is not a plain or quoted scalar")))?;
    let r = node.byte_range();
    let (mut start, mut end) = (r.start as usize, r.end as usize);
    let raw = text
        .get(start..end)
        .ok_or_else(|| unparsable(file, format!("`{what}`: position out of range")))?;
    // The node may carry surrounding blanks; the scalar is what is left.
    start += raw.len() - raw.trim_start().len();
    end -= raw.len() - raw.trim_end().len();
    let raw = &text[start..end];
    // An anchored value is shared with every alias of it, and an alias is someone else's
    // value: a splice here would change other keys or drop the anchor.
    let anchored = text[..start]
        .trim_end_matches([' ', '\t'])
        .rsplit([' ', '\t', '\n'])
        .next()
        .is_some_and(|t| t.starts_with('&'));
    if anchored || raw.starts_with(['&', '*']) {
        return Err(unparsable(
            file,
            format!(
                "`{what}` (line {}) is a YAML anchor or alias (`{raw}`), so its value is \
                 shared with other keys; write the tag there literally",
                line_of(text, start)
            ),
        ));
    }
    let quoted_ok = match raw.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => raw.len() >= 2 && raw.as_bytes().last() == Some(q),
        Some(_) => !raw.contains(" #"),
        None => false,
    };
    if raw.is_empty() || raw.contains(['\n', '\r']) || !quoted_ok || raw.starts_with(['|', '>']) {
        return Err(unparsable(
            file,
            format!("`{what}` must be a one-line plain or quoted value (found `{raw}`)"),
        ));
    }
    Ok(Found {
        range: start..end,
        value: scalar.as_string(),
        path,
        what,
        is_digest_field,
    })
}

/// Exactly one line differs, and the new text reads as the old one with only `path` changed.
fn verify(old: &str, new: &str, found: &Found, tag: &str, file: &str) -> Result<()> {
    let old_lines: Vec<&str> = old.split('\n').collect();
    let new_lines: Vec<&str> = new.split('\n').collect();
    let changed = old_lines
        .iter()
        .zip(&new_lines)
        .filter(|(a, b)| a != b)
        .count();
    if old_lines.len() != new_lines.len() || changed > 1 {
        return Err(unparsable(
            file,
            format!(
                "refusing an edit of `{}` that changes more than one line",
                found.what
            ),
        ));
    }
    let parse = |t: &str| serde_saphyr::from_str::<serde_json::Value>(t);
    // The old value quoted, so a plain scalar the parser would refuse (`1e00310` overflows a
    // float) cannot stop an edit that replaces it anyway.
    let neutral = format!(
        "{}'{}'{}",
        &old[..found.range.start],
        found.value.replace('\'', "''"),
        &old[found.range.end..]
    );
    let sentence = |e: serde_saphyr::Error| crate::inventory::yaml_sentence(&e.to_string());
    let mut expected = parse(&neutral).map_err(|e| unparsable(file, sentence(e)))?;
    let actual = parse(new).map_err(|e| {
        unparsable(
            file,
            format!(
                "the edit of `{}` would not parse: {}",
                found.what,
                sentence(e)
            ),
        )
    })?;
    let mut slot = &mut expected;
    for step in &found.path {
        let next = match step {
            Step::Key(k) => slot.get_mut(k.as_str()),
            Step::Index(i) => slot.get_mut(*i),
        };
        slot = next.ok_or_else(|| unparsable(file, format!("`{}` moved", found.what)))?;
    }
    *slot = serde_json::Value::String(tag.to_owned());
    if expected != actual {
        return Err(unparsable(
            file,
            format!(
                "the edit of `{}` would not read back as the string `{tag}`",
                found.what
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const K: TagSpot<'static> = TagSpot::Kustomize {
        image_name: "harbor.local/miker/web",
    };

    fn changed_lines(a: &str, b: &str) -> usize {
        a.split('\n')
            .zip(b.split('\n'))
            .filter(|(x, y)| x != y)
            .count()
    }

    #[test]
    fn kustomize_plain_with_comments() {
        let text = "# header\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nimages:\n  # the web image\n  - name: harbor.local/miker/other\n    newTag: aaa1111\n  - name: harbor.local/miker/web  # main\n    newTag: 71be0e3   # prod tag\nresources:\n  - ../../base\n";
        assert_eq!(read_tag(text, K, "k.yaml").unwrap(), "71be0e3");
        let out = set_tag(text, K, "9f1c2ab", "k.yaml").unwrap();
        assert_eq!(out, text.replace("71be0e3", "9f1c2ab"));
        let out = set_tag(text, K, "1.10", "k.yaml").unwrap();
        assert!(out.contains("newTag: \"1.10\"   # prod tag"), "{out}");
        assert_eq!(changed_lines(text, &out), 1);
    }

    #[test]
    fn quote_style_and_crlf_kept() {
        let text = "images:\r\n- name: 'harbor.local/miker/web'\r\n  newTag: '1.4.2'\r\n";
        let out = set_tag(text, K, "1.5.0", "k.yaml").unwrap();
        assert_eq!(
            out,
            "images:\r\n- name: 'harbor.local/miker/web'\r\n  newTag: '1.5.0'\r\n"
        );
    }

    #[test]
    fn flow_style_and_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        let text = format!(
            "images: [{{name: harbor.local/miker/web, digest: sha256:{}}}]\n",
            "b".repeat(64)
        );
        let out = set_tag(&text, K, &d, "k.yaml").unwrap();
        assert_eq!(out, text.replace(&"b".repeat(64), &"a".repeat(64)));
        let err = set_tag(&text, K, "v1", "k.yaml").unwrap_err();
        assert!(err.to_string().contains("pins a digest"), "{err}");
    }

    #[test]
    fn helm_nested() {
        let text = "replicaCount: 2\nimage:\n  repository: x  # repo\n  # the tag\n  tag: \"3c9b7f0\"\n  pullPolicy: IfNotPresent\n";
        let spot = TagSpot::Helm { key: "image.tag" };
        assert_eq!(read_tag(text, spot, "v.yaml").unwrap(), "3c9b7f0");
        let out = set_tag(text, spot, "1234567", "v.yaml").unwrap();
        assert_eq!(out, text.replace("3c9b7f0", "1234567"));
        let err = read_tag(text, TagSpot::Helm { key: "image.nope" }, "v.yaml").unwrap_err();
        assert_eq!(err.to_string(), "v.yaml: no key `image.nope`");
    }

    #[test]
    fn two_entries_for_one_image_are_refused_with_both_lines() {
        let text = "images:\n- name: harbor.local/miker/web\n  newTag: v1\n- name: other\n  newTag: x\n- name: harbor.local/miker/web\n  newTag: v2\n";
        let e = set_tag(text, K, "v3", "k.yaml").unwrap_err().to_string();
        assert!(e.contains("2 `images:` entries"), "{e}");
        assert!(e.contains("lines 2 and 6"), "{e}");
        assert!(matches!(
            read_tag(text, K, "k.yaml"),
            Err(GitopsError::Unparsable { .. })
        ));
    }

    #[test]
    fn an_anchored_or_aliased_tag_is_refused() {
        let spot = TagSpot::Helm { key: "image.tag" };
        for text in [
            "image:\n  tag: &t v1\nsidecar:\n  tag: *t\n",
            "base: &b v1\nimage:\n  tag: *b\n",
        ] {
            let e = set_tag(text, spot, "v2", "v.yaml").unwrap_err().to_string();
            assert!(e.contains("YAML a"), "{text}: {e}");
        }
    }

    #[test]
    fn an_alias_bomb_is_refused_in_a_sentence() {
        let mut lines = vec!["a0: &a0 [x,x,x,x,x,x,x,x,x,x]".to_owned()];
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            lines.push(format!("a{i}: &a{i} [{refs}]"));
        }
        let mut text = lines.join("\n") + "\n";
        text.push_str("images:\n- name: harbor.local/miker/web\n  newTag: v1\n");
        let e = set_tag(&text, K, "v2", "k.yaml").unwrap_err().to_string();
        assert!(e.contains("goes past a safety limit (250001 nodes"), "{e}");
        assert!(!e.contains("Nodes {"), "{e}");
    }

    #[test]
    fn missing_entry_names_the_file() {
        let text = "images:\n- name: other\n  newTag: x\n";
        let err = read_tag(text, K, "apps/x/kustomization.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "apps/x/kustomization.yaml: no `images:` entry with name `harbor.local/miker/web`"
        );
    }
}
