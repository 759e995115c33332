//! `Query.repository`: the sandbox's one repository, its commits (`object(oid:)`) and the pull
//! requests that brought each commit in (`Commit.associatedPullRequests`), with labels and the
//! people who opened and merged them.

use serde_json::{Map, Value as Json, json};

use super::document::Field;
use super::exec::{Exec, FieldError, Res, node_id, undefined};
use crate::sandbox::github::history::{HistCommit, Pull};

impl Exec<'_> {
    pub(super) fn repository(&mut self, f: &Field) -> Res {
        let owner = self.str_arg(f, "owner").unwrap_or_default();
        let name = self.str_arg(f, "name").unwrap_or_default();
        let repo = self.repo;
        if !(owner.eq_ignore_ascii_case(repo.owner) && name.eq_ignore_ascii_case(repo.name)) {
            return Err(FieldError(
                format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
                "NOT_FOUND",
            ));
        }
        let mut out = Map::new();
        for s in &f.selection {
            let v = match s.name.as_str() {
                "__typename" => json!("Repository"),
                "name" => json!(repo.name),
                "nameWithOwner" => json!(format!("{}/{}", repo.owner, repo.name)),
                "id" => json!(node_id("R", &format!("{}/{}", repo.owner, repo.name))),
                "url" => json!(format!("{}/{}/{}", repo.base_url, repo.owner, repo.name)),
                // GitHub answers null (no error) for an object it does not have.
                "object" => match self
                    .str_arg(s, "oid")
                    .or_else(|| self.str_arg(s, "expression"))
                    .and_then(|oid| repo.history.resolve(&oid))
                {
                    Some(c) => self.commit(&s.selection, c)?,
                    None => Json::Null,
                },
                other => return Err(undefined(other, "Repository")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    fn commit(&mut self, sel: &[Field], c: &HistCommit) -> Res {
        let repo = self.repo;
        let mut out = Map::new();
        // `object` is a `GitObject`: only what is asked `... on Commit` (or unconditionally).
        for s in sel.iter().filter(|s| s.applies_to("Commit")) {
            let v = match s.name.as_str() {
                "__typename" => json!("Commit"),
                "oid" => json!(c.sha),
                "abbreviatedOid" => json!(&c.sha[..7]),
                "id" => json!(node_id("C", &c.sha)),
                "message" => json!(c.message),
                "messageHeadline" => json!(c.message.lines().next().unwrap_or_default()),
                "authoredDate" | "committedDate" => json!(c.date.to_string()),
                "url" => json!(format!(
                    "{}/{}/{}/commit/{}",
                    repo.base_url, repo.owner, repo.name, c.sha
                )),
                "associatedPullRequests" => {
                    let pulls = repo.history.pulls_of(&c.sha);
                    self.connection(
                        s,
                        "Commit",
                        "associatedPullRequests",
                        &pulls,
                        |ex, sel, p| ex.pull(sel, p),
                        |_, _| Json::Null,
                    )?
                }
                "statusCheckRollup" => match (repo.ci)(&c.sha) {
                    Some(ci) => self.status_check_rollup(s, &ci)?,
                    None => Json::Null,
                },
                "checkSuites" => {
                    let ci = (repo.ci)(&c.sha).unwrap_or(super::CiView {
                        check_runs: Vec::new(),
                        statuses: Vec::new(),
                        workflow_runs: Vec::new(),
                    });
                    self.check_suites(s, &ci)?
                }
                other => return Err(undefined(other, "Commit")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    fn pull(&mut self, sel: &[Field], p: &Pull) -> Res {
        let repo = self.repo;
        let mut out = Map::new();
        for s in sel {
            let v = match s.name.as_str() {
                "__typename" => json!("PullRequest"),
                "number" => json!(p.number),
                "title" => json!(p.title),
                "id" => json!(node_id("PR", &p.number.to_string())),
                "url" => json!(format!(
                    "{}/{}/{}/pull/{}",
                    repo.base_url, repo.owner, repo.name, p.number
                )),
                "state" => json!(if p.merged_at.is_some() {
                    "MERGED"
                } else {
                    "OPEN"
                }),
                "merged" => json!(p.merged_at.is_some()),
                "mergedAt" => p.merged_at.map_or(Json::Null, |t| json!(t.to_string())),
                "author" => self.actor(&s.selection, &p.author)?,
                "mergedBy" => match &p.merged_by {
                    Some(login) => self.actor(&s.selection, login)?,
                    None => Json::Null,
                },
                "labels" => {
                    let labels: Vec<&String> = p.labels.iter().collect();
                    self.connection(
                        s,
                        "PullRequest",
                        "labels",
                        &labels,
                        |_, sel, name| label(sel, name),
                        |_, _| Json::Null,
                    )?
                }
                other => return Err(undefined(other, "PullRequest")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    /// An `Actor` (a user or a bot) by login.
    fn actor(&mut self, sel: &[Field], login: &str) -> Res {
        let bot = login.ends_with("[bot]");
        let known = self.org.user(login);
        let mut out = Map::new();
        for s in sel {
            let v = match s.name.as_str() {
                "__typename" => json!(if bot { "Bot" } else { "User" }),
                "login" => json!(login.trim_end_matches("[bot]")),
                "url" => json!(format!("{}/{login}", self.repo.base_url)),
                "avatarUrl" => json!(format!("{}/avatars/{login}", self.repo.base_url)),
                "name" if !bot => known
                    .and_then(|u| u.name.clone())
                    .map_or(Json::Null, Json::String),
                other => return Err(undefined(other, if bot { "Bot" } else { "User" })),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }
}

fn label(sel: &[Field], name: &str) -> Res {
    let mut out = Map::new();
    for s in sel {
        let v = match s.name.as_str() {
            "__typename" => json!("Label"),
            "name" => json!(name),
            "id" => json!(node_id("LA", name)),
            "color" => json!(match name {
                "breaking" => "b60205",
                "migration" => "d93f0b",
                _ => "0e8a16",
            }),
            other => return Err(undefined(other, "Label")),
        };
        out.insert(s.key().to_owned(), v);
    }
    Ok(Json::Object(out))
}
