//! Team members from GitHub's GraphQL API, page by page (≤ 100 per page, as GitHub requires),
//! through the same octocrab client as the gates (raw POSTs: the answer's status and
//! rate-limit headers decide whether to wait and ask again).

use std::time::Duration;

use http::HeaderMap;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::{FeishuError, Result, check_url};
use crate::inventory::Membership;
use crate::services::github::client::{ClientError, GithubClient};

/// One member of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamMember {
    pub login: String,
    pub name: Option<String>,
    /// `MAINTAINER` or `MEMBER`.
    pub role: String,
    /// Emails on the organisation's verified domains.
    pub verified_emails: Vec<String>,
}

const QUERY: &str = r"
query TeamMembers($org: String!, $slug: String!, $after: String, $membership: TeamMembershipType!) {
  organization(login: $org) {
    team(slug: $slug) {
      slug
      members(first: 100, after: $after, membership: $membership) {
        pageInfo { hasNextPage endCursor }
        edges { role node { login name organizationVerifiedDomainEmails(login: $org) } }
      }
    }
  }
}";

/// A GraphQL reader for one organisation's teams.
#[derive(Debug, Clone)]
pub struct GithubTeams {
    client: GithubClient,
    endpoint: String,
    org: String,
}

impl GithubTeams {
    /// `api_url` is the REST base (`https://api.github.com`, `https://HOST/api/v3` or the
    /// sandbox's); the GraphQL endpoint is derived from it.
    pub fn new(api_url: &str, token: Option<SecretString>, org: &str) -> Result<Self> {
        let base = check_url(api_url).map_err(|_| {
            FeishuError::Github(format!(
                "github.api_url `{api_url}` must start with http(s)://"
            ))
        })?;
        // GitHub Enterprise serves REST at /api/v3 and GraphQL at /api/graphql.
        let endpoint = match base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{base}/graphql"),
        };
        let client = GithubClient::new(&endpoint, token).map_err(|e| client_error(&e))?;
        Ok(GithubTeams {
            client,
            endpoint,
            org: org.to_owned(),
        })
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    /// Every member of team `slug`.
    pub async fn members(&self, slug: &str, membership: Membership) -> Result<Vec<TeamMember>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let vars = json!({
                "org": self.org, "slug": slug, "after": after, "membership": membership.as_str()
            });
            let data = self.query(&vars).await?;
            let team = data.pointer("/organization/team");
            let Some(team) = team.filter(|t| !t.is_null()) else {
                return Err(FeishuError::UnknownTeam {
                    team: slug.to_owned(),
                    org: self.org.clone(),
                });
            };
            let members = &team["members"];
            for edge in members["edges"].as_array().into_iter().flatten() {
                let node = &edge["node"];
                let Some(login) = node["login"].as_str() else {
                    continue;
                };
                out.push(TeamMember {
                    login: login.to_owned(),
                    name: node["name"].as_str().map(str::to_owned),
                    role: edge["role"].as_str().unwrap_or("MEMBER").to_owned(),
                    verified_emails: node["organizationVerifiedDomainEmails"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect(),
                });
            }
            let info = &members["pageInfo"];
            if info["hasNextPage"].as_bool() != Some(true) {
                return Ok(out);
            }
            match info["endCursor"].as_str() {
                Some(c) => after = Some(c.to_owned()),
                None => return Ok(out),
            }
        }
    }

    async fn query(&self, vars: &Json) -> Result<Json> {
        let body = json!({ "query": QUERY, "variables": vars });
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let answer = self
                .client
                .post_json(&self.endpoint, &body)
                .await
                .map_err(|e| client_error(&e))?;
            let status = answer.status.as_u16();
            let wait = rate_wait(&answer.headers);
            let text = String::from_utf8_lossy(&answer.body);
            if matches!(status, 403 | 429 | 502 | 503) && attempt < 4 {
                // Secondary limits and GitHub's occasional 502 on big queries: wait and retry.
                let wait = wait.unwrap_or(Duration::from_secs(u64::from(attempt)));
                if wait <= Duration::from_secs(60) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if status == 401 {
                return Err(FeishuError::Github(
                    "the token was rejected (401 Bad credentials)".to_owned(),
                ));
            }
            if !(200..300).contains(&status) {
                return Err(FeishuError::Github(format!(
                    "GraphQL answered HTTP {status}: {}",
                    text.chars().take(200).collect::<String>()
                )));
            }
            let j: Json = serde_json::from_str(&text)
                .map_err(|e| FeishuError::Github(format!("GraphQL answer is not JSON: {e}")))?;
            if let Some(errors) = j.get("errors").and_then(Json::as_array) {
                if errors
                    .iter()
                    .any(|e| e["type"].as_str() == Some("NOT_FOUND"))
                    && j.pointer("/data/organization").is_some_and(Json::is_null)
                {
                    return Err(FeishuError::Github(format!(
                        "organisation `{}` not found (or the token cannot see it)",
                        self.org
                    )));
                }
                let msgs: Vec<&str> = errors
                    .iter()
                    .filter_map(|e| e["message"].as_str())
                    .collect();
                return Err(FeishuError::Github(format!("GraphQL: {}", msgs.join("; "))));
            }
            return Ok(j.get("data").cloned().unwrap_or(Json::Null));
        }
    }
}

fn client_error(e: &ClientError) -> FeishuError {
    match e {
        ClientError::BadToken => {
            FeishuError::Github("the token contains characters not allowed in a header".to_owned())
        }
        // The message names the URL and why it could not be reached.
        other => FeishuError::Github(other.to_string()),
    }
}

/// `retry-after`, else `x-ratelimit-reset` when nothing remains.
fn rate_wait(h: &HeaderMap) -> Option<Duration> {
    let num = |k: &str| {
        h.get(k)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    if let Some(s) = num("retry-after") {
        return Some(Duration::from_secs(u64::try_from(s).unwrap_or(0)));
    }
    if num("x-ratelimit-remaining") == Some(0) {
        let reset = num("x-ratelimit-reset")?;
        let left = reset - jiff::Timestamp::now().as_second();
        return Some(Duration::from_secs(
            u64::try_from(left.max(0)).unwrap_or(0) + 1,
        ));
    }
    None
}
