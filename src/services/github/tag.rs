//! From an image tag to the commit it was built from.

use regex::Regex;

use super::{GithubError, Result};

fn is_sha(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit SHA (full or short, lower case) an image tag names.
///
/// With `regex` (the inventory's `tag_sha_regex`), its capture group `sha` or 1 is used.
/// Without it, the tag must itself be a 7-40 hex SHA, optionally prefixed `sha-` (the
/// docker/metadata-action convention).
pub fn sha_from_tag(tag: &str, regex: Option<&Regex>) -> Result<String> {
    let tag = tag.trim();
    let bad = |why: &str| GithubError::BadTag {
        tag: tag.to_owned(),
        why: why.to_owned(),
    };
    let candidate = match regex {
        Some(re) => {
            let caps = re.captures(tag).ok_or_else(|| {
                bad(&format!(
                    "it does not match tag_sha_regex `{}`",
                    re.as_str()
                ))
            })?;
            caps.name("sha")
                .or_else(|| caps.get(1))
                .map(|m| m.as_str())
                .ok_or_else(|| bad("tag_sha_regex has no capture group"))?
        }
        None => tag.strip_prefix("sha-").unwrap_or(tag),
    };
    if is_sha(candidate) {
        Ok(candidate.to_ascii_lowercase())
    } else if regex.is_some() {
        Err(bad(&format!(
            "the captured `{candidate}` is not a 7-40 character hex SHA"
        )))
    } else {
        Err(bad(
            "it is not a 7-40 character hex SHA; set github.tag_sha_regex in the inventory to extract one",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(sha_from_tag("71be0e3", None).unwrap(), "71be0e3");
        assert_eq!(sha_from_tag("sha-9F1C2AB", None).unwrap(), "9f1c2ab");
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(sha_from_tag(full, None).unwrap(), full);
        assert!(
            sha_from_tag("v1.2.3", None)
                .unwrap_err()
                .to_string()
                .contains("tag_sha_regex")
        );
        let re = Regex::new(r"^v\d+\.\d+\.\d+-([0-9a-f]{7,40})$").unwrap();
        assert_eq!(
            sha_from_tag("v1.4.2-5d2e8a1", Some(&re)).unwrap(),
            "5d2e8a1"
        );
        assert!(sha_from_tag("latest", Some(&re)).is_err());
        let named = Regex::new(r"^(?<env>\w+)-(?<sha>[0-9a-f]+)$").unwrap();
        assert_eq!(
            sha_from_tag("prod-3c9b7f0", Some(&named)).unwrap(),
            "3c9b7f0"
        );
    }
}
