//! The one-line-diff property over many file shapes.

use proptest::prelude::*;
use shipdeck::services::gitops::{TagSpot, needs_quotes, read_tag, set_tag};

const IMAGE: &str = "harbor.sandbox.local/miker/miker-web";

#[derive(Debug, Clone, Copy)]
enum Quote {
    Plain,
    Single,
    Double,
}

fn quote(v: &str, q: Quote) -> String {
    match q {
        Quote::Plain => v.to_owned(),
        Quote::Single => format!("'{v}'"),
        Quote::Double => format!("\"{v}\""),
    }
}

fn quote_strategy() -> impl Strategy<Value = Quote> {
    prop_oneof![Just(Quote::Plain), Just(Quote::Single), Just(Quote::Double)]
}

fn tag_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        "[0-9a-f]{7}",
        Just("1.10".to_owned()),
        Just("2".to_owned()),
        Just("true".to_owned()),
        Just("71e0123".to_owned()),
        Just("v1.5.0".to_owned()),
    ]
}

fn comment(c: bool, text: &str) -> String {
    if c {
        format!("  # {text}")
    } else {
        String::new()
    }
}

/// One kustomization: header comments, entries in block or flow style, comments everywhere.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // each bool is one independent shape choice
struct Kust {
    eol: &'static str,
    indent: usize,
    flow: bool,
    others: Vec<(String, Quote, bool)>,
    target_at: usize,
    old: String,
    old_quote: Quote,
    tag_first: bool,
    comments: bool,
    digest: bool,
}

fn kust_strategy() -> impl Strategy<Value = Kust> {
    (
        prop_oneof![Just("\n"), Just("\r\n")],
        prop_oneof![Just(0usize), Just(2usize), Just(4usize)],
        any::<bool>(),
        prop::collection::vec(("[a-z]{3,8}", quote_strategy(), any::<bool>()), 0..4),
        0usize..4,
        "[0-9a-z]{7}",
        quote_strategy(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                eol,
                indent,
                flow,
                others,
                target_at,
                old,
                old_quote,
                tag_first,
                comments,
                digest,
            )| Kust {
                eol,
                indent,
                flow,
                target_at: target_at.min(others.len()),
                others,
                old,
                old_quote,
                tag_first,
                comments,
                digest,
            },
        )
}

fn render(k: &Kust) -> String {
    let field = if k.digest { "digest" } else { "newTag" };
    let old = if k.digest {
        format!("sha256:{}", "0".repeat(64))
    } else {
        k.old.clone()
    };
    let mut entries: Vec<(String, String, String)> = k
        .others
        .iter()
        .map(|(n, q, _)| {
            (
                quote(&format!("registry.local/{n}"), *q),
                "newTag".to_owned(),
                quote("keep1", *q),
            )
        })
        .collect();
    entries.insert(
        k.target_at,
        (IMAGE.to_owned(), field.to_owned(), quote(&old, k.old_quote)),
    );
    let mut lines: Vec<String> = Vec::new();
    if k.comments {
        lines.push("# overlay: generated shape".to_owned());
        lines.push(String::new());
    }
    lines.push("apiVersion: kustomize.config.k8s.io/v1beta1".to_owned());
    lines.push(format!(
        "kind: Kustomization{}",
        comment(k.comments, "kind")
    ));
    if k.flow {
        let items: Vec<String> = entries
            .iter()
            .map(|(n, f, v)| {
                if k.tag_first {
                    format!("{{{f}: {v}, name: {n}}}")
                } else {
                    format!("{{name: {n}, {f}: {v}}}")
                }
            })
            .collect();
        lines.push(format!(
            "images: [{}]{}",
            items.join(", "),
            comment(k.comments, "flow")
        ));
    } else {
        lines.push(format!("images:{}", comment(k.comments, "the images")));
        let pad = " ".repeat(k.indent);
        for (n, f, v) in &entries {
            if k.comments {
                lines.push(format!("{pad}# entry {n}"));
            }
            let (a, b) = if k.tag_first {
                (
                    format!("{f}: {v}{}", comment(k.comments, "tag")),
                    format!("name: {n}"),
                )
            } else {
                (
                    format!("name: {n}"),
                    format!("{f}: {v}{}", comment(k.comments, "tag")),
                )
            };
            lines.push(format!("{pad}- {a}"));
            lines.push(format!("{pad}  {b}"));
            if k.comments {
                lines.push(String::new());
            }
        }
    }
    lines.push("resources:".to_owned());
    lines.push("- ../../base".to_owned());
    let mut s = lines.join(k.eol);
    s.push_str(k.eol);
    s
}

fn check_one_line(before: &str, after: &str, quote_before: Quote, new: &str) {
    let a: Vec<&str> = before.split('\n').collect();
    let b: Vec<&str> = after.split('\n').collect();
    assert_eq!(a.len(), b.len());
    let diff: Vec<(&&str, &&str)> = a.iter().zip(&b).filter(|(x, y)| x != y).collect();
    assert!(diff.len() <= 1, "{diff:?}");
    if let Some((old_line, new_line)) = diff.first() {
        // Everything but the scalar is the same bytes, quotes kept or added when needed.
        let expected_quoted = match quote_before {
            Quote::Single => format!("'{new}'"),
            Quote::Double => format!("\"{new}\""),
            Quote::Plain if needs_quotes(new) => format!("\"{new}\""),
            Quote::Plain => new.to_owned(),
        };
        assert!(
            new_line.contains(&expected_quoted),
            "{new_line} lacks {expected_quoted}"
        );
        assert_eq!(old_line.ends_with('\r'), new_line.ends_with('\r'));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn kustomize_edit_changes_exactly_the_tag(k in kust_strategy(), new in tag_strategy(), hex in "[0-9a-f]{64}") {
        let text = render(&k);
        let spot = TagSpot::Kustomize { image_name: IMAGE };
        let new = if k.digest { format!("sha256:{hex}") } else { new };
        let out = set_tag(&text, spot, &new, "k.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(read_tag(&out, spot, "k.yaml").unwrap(), new.clone());
        check_one_line(&text, &out, k.old_quote, &new);
        // Putting the old value back restores the exact bytes.
        let old = read_tag(&text, spot, "k.yaml").unwrap();
        if !(matches!(k.old_quote, Quote::Plain) && (needs_quotes(&old) || needs_quotes(&new))) {
            let back = set_tag(&out, spot, &old, "k.yaml").unwrap();
            prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn helm_edit_changes_exactly_the_tag(
        depth in 1usize..4,
        // A set: two equal sibling keys are a duplicate key, which the editor refuses.
        siblings in prop::collection::btree_set("[a-z]{2,6}", 0..3),
        crlf in any::<bool>(),
        comments in any::<bool>(),
        q in quote_strategy(),
        old in "[0-9a-f]{7}",
        new in tag_strategy(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let keys: Vec<String> = (0..depth).map(|i| format!("k{i}")).collect();
        let mut lines = vec!["# values".to_owned(), "replicaCount: 2".to_owned()];
        for (i, key) in keys.iter().enumerate() {
            let pad = "  ".repeat(i);
            for s in &siblings {
                lines.push(format!("{pad}{s}x{i}: value{}", comment(comments, "sib")));
            }
            if comments { lines.push(format!("{pad}# about {key}")); }
            lines.push(format!("{pad}{key}:{}", comment(comments, "map")));
        }
        let pad = "  ".repeat(depth);
        lines.push(format!("{pad}repository: harbor.local/x"));
        lines.push(format!("{pad}tag: {}{}", quote(&old, q), comment(comments, "the tag")));
        lines.push(format!("{pad}pullPolicy: IfNotPresent"));
        lines.push("service:".to_owned());
        lines.push("  port: 80".to_owned());
        let text = format!("{}{eol}", lines.join(eol));
        let key = format!("{}.tag", keys.join("."));
        let spot = TagSpot::Helm { key: &key };
        let out = set_tag(&text, spot, &new, "v.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(read_tag(&out, spot, "v.yaml").unwrap(), new.clone());
        check_one_line(&text, &out, q, &new);
    }
}
