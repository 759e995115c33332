//! The GitHub GraphQL endpoint of the sandbox: org teams and members (the Feishu sync) and the
//! pull requests of commits (`repository { object(oid:) { ... on Commit {
//! associatedPullRequests } } }`, the changes between environments).
//!
//! A small but real GraphQL reader: operations with variables (and defaults), aliases,
//! fragments (named and inline), arguments of every literal kind. It executes against
//! the seeded organisation with GitHub's types and rules: `Query.organization(login)`,
//! `Organization.teams(first, after)` / `team(slug)`, `Team.members(first, after, membership)`
//! with `nodes`, `edges { cursor role node }`, `pageInfo`, `totalCount`, `User { login name
//! email organizationVerifiedDomainEmails(login) }`, `Query.repository(owner, name)` with
//! `object(oid | expression)` → `Commit { oid messageHeadline associatedPullRequests(first) }` and
//! `PullRequest { number title url state merged mergedAt author mergedBy labels(first) }`,
//! the CI of commits (`Commit.statusCheckRollup { state contexts(first) }` over the union
//! `CheckRun | StatusContext`, `Commit.checkSuites(first)` → `CheckSuite { workflowRun }`), and
//! `rateLimit`. `first`/`last` is required
//! on every connection and capped at 100, as GitHub's node limits say.

mod checks;
mod document;
mod exec;
mod lex;
mod parse;
mod repo;

use serde_json::{Map, Value as Json, json};

use super::history::History;
use super::org::OrgSeed;
use exec::Exec;
use parse::parse;

/// Runs one GraphQL request body (`{"query": …, "variables": …}`) and returns GitHub's
/// response shape: `{"data": …}` or `{"data": null, "errors": [...]}`.
pub(crate) fn execute(org: &OrgSeed, repo: &RepoView<'_>, body: &Json, rate: RateInfo) -> Json {
    let Some(query) = body.get("query").and_then(Json::as_str) else {
        return errors_only("A query attribute must be specified and must be a string.");
    };
    let op = match parse(query) {
        Ok(op) => op,
        Err(e) => return errors_only(&format!("Parse error: {e}")),
    };
    let mut vars = op.defaults.clone();
    if let Some(Json::Object(given)) = body.get("variables") {
        for (k, v) in given {
            vars.insert(k.clone(), v.clone());
        }
    }
    let mut ctx = Exec {
        org,
        repo,
        vars,
        errors: Vec::new(),
        rate,
        nodes: 0,
    };
    let data = ctx.query(&op.selection);
    let mut out = Map::new();
    out.insert("data".to_owned(), data);
    if !ctx.errors.is_empty() {
        out.insert("errors".to_owned(), Json::Array(ctx.errors));
    }
    Json::Object(out)
}

fn errors_only(message: &str) -> Json {
    json!({ "errors": [ { "message": message } ] })
}

/// The one repository the sandbox hosts, as `Query.repository` sees it.
pub(crate) struct RepoView<'a> {
    pub owner: &'a str,
    pub name: &'a str,
    pub base_url: &'a str,
    pub history: &'a History,
    /// The CI of a commit (by full SHA) as the REST endpoints serve it now; `None`: no CI.
    pub ci: &'a dyn Fn(&str) -> Option<CiView>,
}

/// One commit's CI in REST's JSON shapes (check runs, latest of each name; statuses, latest
/// of each context; workflow runs): `statusCheckRollup` and `checkSuites` answer from these.
pub(crate) struct CiView {
    pub check_runs: Vec<Json>,
    pub statuses: Vec<Json>,
    pub workflow_runs: Vec<Json>,
}

/// The rate-limit numbers `rateLimit` reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateInfo {
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    pub reset_at: jiff::Timestamp,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn run(org: &OrgSeed, body: &Json, rate: RateInfo) -> Json {
        let history = crate::sandbox::github::history::demo();
        let repo = RepoView {
            owner: "miker-org",
            name: "miker",
            base_url: "http://sandbox",
            history: &history,
            ci: &|_| None,
        };
        execute(org, &repo, body, rate)
    }

    fn rate() -> RateInfo {
        RateInfo {
            limit: 5000,
            remaining: 5000,
            used: 0,
            reset_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn teams_and_members_with_variables_fragments_and_aliases() {
        let org = OrgSeed::demo();
        let q = r"
            query Teams($org: String!, $after: String, $n: Int = 2) {
              organization(login: $org) {
                teams(first: $n, after: $after) {
                  pageInfo { hasNextPage endCursor }
                  nodes { ...T }
                }
              }
            }
            fragment T on Team { slug nm: name members(first: 100, membership: IMMEDIATE) { totalCount nodes { login email } } }
        ";
        let out = run(
            &org,
            &json!({"query": q, "variables": {"org": "example-org"}}),
            rate(),
        );
        assert!(out.get("errors").is_none(), "{out}");
        let teams = &out["data"]["organization"]["teams"];
        assert_eq!(teams["nodes"][0]["slug"], "platform");
        assert_eq!(teams["nodes"][1]["nm"], "Web");
        assert_eq!(teams["nodes"][1]["members"]["totalCount"], 3);
        assert_eq!(teams["pageInfo"]["hasNextPage"], true);
        let after = teams["pageInfo"]["endCursor"].as_str().unwrap();
        let out = run(
            &org,
            &json!({"query": q, "variables": {"org": "example-org", "after": after}}),
            rate(),
        );
        let teams = &out["data"]["organization"]["teams"];
        assert_eq!(teams["nodes"][0]["slug"], "release-managers");
        assert_eq!(teams["pageInfo"]["hasNextPage"], false);
    }

    #[test]
    fn all_membership_includes_child_teams() {
        let org = OrgSeed::demo();
        let q = r#"{ organization(login: "example-org") { team(slug: "platform") {
            all: members(first: 50) { totalCount edges { role node { login } } }
            own: members(first: 50, membership: IMMEDIATE) { totalCount } } } }"#;
        let out = run(&org, &json!({ "query": q }), rate());
        let team = &out["data"]["organization"]["team"];
        assert_eq!(team["all"]["totalCount"], 5);
        assert_eq!(team["own"]["totalCount"], 2);
        assert_eq!(team["all"]["edges"][0]["role"], "MAINTAINER");
    }

    #[test]
    fn commits_and_their_pull_requests() {
        let org = OrgSeed::demo();
        let q = r#"query($owner: String!, $name: String!) {
            repository(owner: $owner, name: $name) {
              a: object(oid: "0c7b3d9") { ...prs }
              b: object(oid: "5f2a8c1") { ...prs }
              c: object(oid: "0000000000000000000000000000000000000000") { ...prs }
            } }
            fragment prs on Commit { oid associatedPullRequests(first: 5) { nodes {
              number title url author { login } mergedBy { login } labels(first: 10) { nodes { name } } } } }"#;
        let out = run(
            &org,
            &json!({"query": q, "variables": {"owner": "miker-org", "name": "miker"}}),
            rate(),
        );
        assert!(out.get("errors").is_none(), "{out}");
        let repo = &out["data"]["repository"];
        let pr = &repo["a"]["associatedPullRequests"]["nodes"][0];
        assert_eq!(pr["number"], 445);
        assert_eq!(pr["author"]["login"], "dave");
        assert_eq!(pr["mergedBy"]["login"], "bob");
        assert_eq!(pr["labels"]["nodes"][0]["name"], "breaking");
        assert_eq!(pr["url"], "http://sandbox/miker-org/miker/pull/445");
        assert_eq!(
            repo["b"]["associatedPullRequests"]["nodes"],
            json!([]),
            "pushed directly"
        );
        assert_eq!(
            repo["c"],
            Json::Null,
            "an unknown commit is null, as on GitHub"
        );
        let other = run(
            &org,
            &json!({"query": "{ repository(owner: \"x\", name: \"y\") { name } }"}),
            rate(),
        );
        assert_eq!(other["errors"][0]["type"], "NOT_FOUND");
    }

    #[test]
    fn the_ci_of_a_commit_through_the_rollup_union() {
        let org = OrgSeed::demo();
        let history = crate::sandbox::github::history::demo();
        let ci = |sha: &str| {
            sha.starts_with("0c7b3d9").then(|| CiView {
                check_runs: vec![json!({ "id": 11, "node_id": "CR_11", "name": "lint",
                    "status": "in_progress", "conclusion": null, "started_at": "2026-11-30T12:00:00Z",
                    "completed_at": null, "html_url": "h/11", "details_url": "d/11",
                    "check_suite": { "id": 5 } })],
                statuses: vec![json!({ "node_id": "SC_1", "context": "deploy", "state": "error",
                    "target_url": "t/1", "created_at": "2026-11-30T12:00:09Z" })],
                workflow_runs: vec![json!({ "id": 6, "name": "ci", "check_suite_id": 5,
                    "status": "in_progress", "conclusion": null, "html_url": "r/6" })],
            })
        };
        let repo = RepoView {
            owner: "miker-org",
            name: "miker",
            base_url: "http://sandbox",
            history: &history,
            ci: &ci,
        };
        let q = r#"{ repository(owner: "miker-org", name: "miker") {
            a: object(expression: "0c7b3d9") { ... on Commit { oid statusCheckRollup { state
              contexts(first: 10) { nodes { __typename
                ... on CheckRun { name status conclusion detailsUrl checkSuite { workflowRun { databaseId workflow { name } } } }
                ... on StatusContext { context state targetUrl } } } }
              checkSuites(first: 5) { nodes { status workflowRun { url } } } } }
            b: object(expression: "5f2a8c1") { ... on Commit { statusCheckRollup { state } } }
            c: object(expression: "0c7b3d9") { ... on Tree { entries } } } }"#;
        let out = execute(&org, &repo, &json!({ "query": q }), rate());
        assert!(out.get("errors").is_none(), "{out}");
        let a = &out["data"]["repository"]["a"];
        assert_eq!(a["oid"].as_str().map(str::len), Some(40), "the full SHA");
        let rollup = &a["statusCheckRollup"];
        assert_eq!(rollup["state"], "FAILURE");
        let run = &rollup["contexts"]["nodes"][0];
        assert_eq!(
            run,
            &json!({ "__typename": "CheckRun", "name": "lint", "status": "IN_PROGRESS",
                "conclusion": null, "detailsUrl": "d/11",
                "checkSuite": { "workflowRun": { "databaseId": 6, "workflow": { "name": "ci" } } } }),
            "each member reads only its own fields"
        );
        assert_eq!(
            rollup["contexts"]["nodes"][1],
            json!({ "__typename": "StatusContext", "context": "deploy", "state": "ERROR", "targetUrl": "t/1" })
        );
        assert_eq!(
            a["checkSuites"]["nodes"],
            json!([{ "status": "IN_PROGRESS", "workflowRun": { "url": "r/6" } }])
        );
        let b = &out["data"]["repository"]["b"];
        assert_eq!(b["statusCheckRollup"], Json::Null, "nothing reported: null");
        assert_eq!(out["data"]["repository"]["c"], json!({}), "not a Tree");
    }

    #[test]
    fn github_rules_are_enforced() {
        let org = OrgSeed::demo();
        let missing_first = run(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { teams { nodes { slug } } } }"}),
            rate(),
        );
        assert!(
            missing_first["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("must provide a `first`")
        );
        let too_many = run(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { teams(first: 101) { nodes { slug } } } }"}),
            rate(),
        );
        assert!(
            too_many["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("exceeds the `first` limit of 100")
        );
        let unknown_org = run(
            &org,
            &json!({"query": "{ organization(login: \"nope\") { login } }"}),
            rate(),
        );
        assert_eq!(unknown_org["data"]["organization"], Json::Null);
        assert_eq!(unknown_org["errors"][0]["type"], "NOT_FOUND");
        let bad_field = run(
            &org,
            &json!({"query": "{ organization(login: \"example-org\") { nope } }"}),
            rate(),
        );
        assert!(
            bad_field["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Field 'nope' doesn't exist on type 'Organization'")
        );
        let garbage = run(&org, &json!({"query": "{ organization(login: "}), rate());
        assert!(
            garbage["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Parse error")
        );
    }
}
