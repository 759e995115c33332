//! A commit's CI through GraphQL: `Commit.statusCheckRollup` (its `contexts` connection over
//! the union `CheckRun | StatusContext`) and `Commit.checkSuites` (each with its Actions
//! `workflowRun`). Answered from the REST payloads of the same instant ([`CiView`]), renamed
//! to GraphQL's fields and enum spellings (`IN_PROGRESS`, `SUCCESS`), so both APIs agree.

use serde_json::{Map, Value as Json, json};

use super::CiView;
use super::document::Field;
use super::exec::{Exec, Res, undefined};

/// One node of `StatusCheckRollup.contexts`.
enum Context<'a> {
    Run(&'a Json),
    Status(&'a Json),
}

/// GraphQL's spelling of a REST enum value (`in_progress` → `IN_PROGRESS`); null stays null.
fn upper(v: &Json) -> Json {
    v.as_str()
        .map_or(Json::Null, |s| Json::String(s.to_ascii_uppercase()))
}

impl Exec<'_> {
    pub(super) fn status_check_rollup(&mut self, f: &Field, ci: &CiView) -> Res {
        // GitHub answers null for a commit nothing has reported on.
        if ci.check_runs.is_empty() && ci.statuses.is_empty() {
            return Ok(Json::Null);
        }
        let contexts: Vec<Context<'_>> = ci
            .check_runs
            .iter()
            .map(Context::Run)
            .chain(ci.statuses.iter().map(Context::Status))
            .collect();
        let mut out = Map::new();
        for s in f
            .selection
            .iter()
            .filter(|s| s.applies_to("StatusCheckRollup"))
        {
            let v = match s.name.as_str() {
                "__typename" => json!("StatusCheckRollup"),
                "state" => json!(rollup_state(ci)),
                "contexts" => self.connection(
                    s,
                    "StatusCheckRollup",
                    "contexts",
                    &contexts,
                    |_, sel, c| match c {
                        Context::Run(r) => check_run(sel, r, ci),
                        Context::Status(st) => status_context(sel, st),
                    },
                    |_, _| Json::Null,
                )?,
                other => return Err(undefined(other, "StatusCheckRollup")),
            };
            out.insert(s.key().to_owned(), v);
        }
        Ok(Json::Object(out))
    }

    pub(super) fn check_suites(&mut self, f: &Field, ci: &CiView) -> Res {
        let runs: Vec<&Json> = ci.workflow_runs.iter().collect();
        self.connection(
            f,
            "Commit",
            "checkSuites",
            &runs,
            |_, sel, w| check_suite(sel, w),
            |_, _| Json::Null,
        )
    }
}

fn check_run(sel: &[Field], r: &Json, ci: &CiView) -> Res {
    let mut out = Map::new();
    for s in sel.iter().filter(|s| s.applies_to("CheckRun")) {
        let v = match s.name.as_str() {
            "__typename" => json!("CheckRun"),
            "id" => r["node_id"].clone(),
            "databaseId" => r["id"].clone(),
            "name" => r["name"].clone(),
            "status" => upper(&r["status"]),
            "conclusion" => upper(&r["conclusion"]),
            "startedAt" => r["started_at"].clone(),
            "completedAt" => r["completed_at"].clone(),
            "detailsUrl" => r["details_url"].clone(),
            "url" | "permalink" => r["html_url"].clone(),
            "title" => r["output"]["title"].clone(),
            "checkSuite" => {
                let suite = r["check_suite"]["id"].as_u64();
                match ci
                    .workflow_runs
                    .iter()
                    .find(|w| w["check_suite_id"].as_u64() == suite)
                {
                    Some(w) => check_suite(&s.selection, w)?,
                    None => Json::Null,
                }
            }
            other => return Err(undefined(other, "CheckRun")),
        };
        out.insert(s.key().to_owned(), v);
    }
    Ok(Json::Object(out))
}

/// `FAILURE` when anything failed, `PENDING` while anything runs, else `SUCCESS`.
fn rollup_state(ci: &CiView) -> &'static str {
    let run_bad = |r: &Json| {
        r["status"] == "completed"
            && !matches!(
                r["conclusion"].as_str(),
                Some("success" | "neutral" | "skipped")
            )
    };
    let failed = ci.check_runs.iter().any(run_bad)
        || ci
            .statuses
            .iter()
            .any(|s| matches!(s["state"].as_str(), Some("failure" | "error")));
    let pending = ci.check_runs.iter().any(|r| r["status"] != "completed")
        || ci.statuses.iter().any(|s| s["state"] == "pending");
    if failed {
        "FAILURE"
    } else if pending {
        "PENDING"
    } else {
        "SUCCESS"
    }
}

fn status_context(sel: &[Field], st: &Json) -> Res {
    let mut out = Map::new();
    for s in sel.iter().filter(|s| s.applies_to("StatusContext")) {
        let v = match s.name.as_str() {
            "__typename" => json!("StatusContext"),
            "id" => st["node_id"].clone(),
            "context" => st["context"].clone(),
            "state" => upper(&st["state"]),
            "description" => st["description"].clone(),
            "targetUrl" => st["target_url"].clone(),
            "createdAt" => st["created_at"].clone(),
            other => return Err(undefined(other, "StatusContext")),
        };
        out.insert(s.key().to_owned(), v);
    }
    Ok(Json::Object(out))
}

/// The check suite of an Actions workflow run (REST's run JSON).
fn check_suite(sel: &[Field], w: &Json) -> Res {
    let mut out = Map::new();
    for s in sel.iter().filter(|s| s.applies_to("CheckSuite")) {
        let v = match s.name.as_str() {
            "__typename" => json!("CheckSuite"),
            "id" => w["check_suite_node_id"].clone(),
            "databaseId" => w["check_suite_id"].clone(),
            "status" => upper(&w["status"]),
            "conclusion" => upper(&w["conclusion"]),
            "createdAt" => w["created_at"].clone(),
            "updatedAt" => w["updated_at"].clone(),
            "workflowRun" => workflow_run(&s.selection, w)?,
            other => return Err(undefined(other, "CheckSuite")),
        };
        out.insert(s.key().to_owned(), v);
    }
    Ok(Json::Object(out))
}

fn workflow_run(sel: &[Field], w: &Json) -> Res {
    let mut out = Map::new();
    for s in sel.iter().filter(|s| s.applies_to("WorkflowRun")) {
        let v = match s.name.as_str() {
            "__typename" => json!("WorkflowRun"),
            "id" => w["node_id"].clone(),
            "databaseId" => w["id"].clone(),
            "runNumber" => w["run_number"].clone(),
            "event" => w["event"].clone(),
            "url" => w["html_url"].clone(),
            "createdAt" => w["created_at"].clone(),
            "updatedAt" => w["updated_at"].clone(),
            "workflow" => {
                let mut wf = Map::new();
                for x in &s.selection {
                    let v = match x.name.as_str() {
                        "__typename" => json!("Workflow"),
                        "name" => w["name"].clone(),
                        "databaseId" => w["workflow_id"].clone(),
                        other => return Err(undefined(other, "Workflow")),
                    };
                    wf.insert(x.key().to_owned(), v);
                }
                Json::Object(wf)
            }
            other => return Err(undefined(other, "WorkflowRun")),
        };
        out.insert(s.key().to_owned(), v);
    }
    Ok(Json::Object(out))
}
