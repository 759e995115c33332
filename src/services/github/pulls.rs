//! The pull requests that brought commits in: GraphQL's `Commit.associatedPullRequests`, one
//! query for up to a page (100) of commits, each commit an alias on `repository.object(oid:)`.
//! (REST would need one request per commit.)

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Value as Json, json};

use super::Result;
use super::compare::PullRequest;
use super::rest::Rest;

/// Pull requests asked per commit (a commit is in one, rarely a few: a revert, a backport).
const PER_COMMIT: u32 = 5;
/// Labels asked per pull request.
const LABELS: u32 = 10;

/// The query for `shas`: aliases `c0`, `c1`, … in their order.
pub(super) fn query(shas: &[&str]) -> String {
    let mut q = String::from(
        "query($owner: String!, $name: String!) {\n  repository(owner: $owner, name: $name) {\n",
    );
    for (i, sha) in shas.iter().enumerate() {
        // SHAs are hex (the caller keeps only those), so they need no escaping.
        let _ = writeln!(q, "    c{i}: object(oid: \"{sha}\") {{ ...prs }}");
    }
    let _ = write!(
        q,
        "  }}\n}}\nfragment prs on Commit {{\n  associatedPullRequests(first: {PER_COMMIT}) {{\n    nodes {{ number title url author {{ login }} mergedBy {{ login }} labels(first: {LABELS}) {{ nodes {{ name }} }} }}\n  }}\n}}\n"
    );
    q
}

/// The pull requests of each of `shas` (commits GitHub does not have get none).
pub(super) async fn of_commits(
    rest: &Rest,
    owner: &str,
    repo: &str,
    shas: &[String],
) -> Result<HashMap<String, Vec<PullRequest>>> {
    // Ids go into the query text: only hex ones (all GitHub lists) are asked about.
    let shas: Vec<&str> = shas
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    if shas.is_empty() {
        return Ok(HashMap::new());
    }
    let data = rest
        .graphql(&query(&shas), json!({ "owner": owner, "name": repo }))
        .await?;
    let repository = &data["repository"];
    let mut out = HashMap::new();
    for (i, sha) in shas.iter().enumerate() {
        let nodes = repository[format!("c{i}")]["associatedPullRequests"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let pulls = nodes.iter().filter_map(pull).collect();
        out.insert((*sha).to_owned(), pulls);
    }
    Ok(out)
}

fn pull(node: &Json) -> Option<PullRequest> {
    let login = |v: &Json| v["login"].as_str().map(str::to_owned);
    Some(PullRequest {
        number: node["number"].as_u64()?,
        title: node["title"].as_str().unwrap_or_default().to_owned(),
        author: login(&node["author"]),
        labels: node["labels"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect(),
        merged_by: login(&node["mergedBy"]),
        url: node["url"].as_str().unwrap_or_default().to_owned(),
        commits: 0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_alias_per_commit_and_the_fields_asked() {
        let q = query(&["aaaa111", "bbbb222"]);
        assert!(q.contains("c0: object(oid: \"aaaa111\") { ...prs }"));
        assert!(q.contains("c1: object(oid: \"bbbb222\") { ...prs }"));
        assert!(q.contains("associatedPullRequests(first: 5)"));
        assert!(q.contains("labels(first: 10) { nodes { name } }"));
        assert!(q.contains("mergedBy { login }"));
    }

    #[test]
    fn a_node_without_a_number_is_skipped() {
        let n = json!({"number": 7, "title": "t", "url": "u", "author": null, "mergedBy": {"login": "m"},
            "labels": {"nodes": [{"name": "breaking"}]}});
        let p = pull(&n).unwrap();
        assert_eq!(
            (p.number, p.author, p.merged_by),
            (7, None, Some("m".to_owned()))
        );
        assert_eq!(p.labels, ["breaking"]);
        assert!(pull(&json!({"title": "x"})).is_none());
    }
}
