//! A YAML reader and writer for SOPS files. A generic YAML library would drop the comments,
//! which SOPS treats as values, so this reads block YAML line by line (mappings, sequences,
//! plain/quoted/block scalars, flow collections, comments, several documents) and writes the
//! layout sops (yaml.v3, indent 4) writes. Errors name a line, never a value.

mod emit;
mod flow;
mod parse;
mod resolve;
mod syntax;

pub use emit::{emit, scalar_text};
pub use parse::parse;
pub use resolve::resolve_plain;

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
