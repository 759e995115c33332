//! Argo CD actions (refresh, sync, terminate) through the Application resource: read-only and
//! RBAC first, then the write, then the controller followed by watch until it has done it (or
//! says why it waits), one journal line with the actor, one card.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::rollout::kube_error;
use super::{Fault, OpCtx, OpError};
use crate::audit::Entry;
use crate::services::TaskCtl;
use crate::services::feishu::Notification;
use crate::services::kube::argocd::{self, AppRef, OperationEnd, SyncSpec};
use crate::services::kube::model::Application;
use crate::services::kube::syncwindow::Verdict;

/// How long a refresh is followed before the op gives up on the controller.
const REFRESH_DEADLINE: Duration = Duration::from_secs(30);
/// How long a sync is followed: applying manifests, not the canary that follows.
const SYNC_DEADLINE: Duration = Duration::from_secs(90);
const TERMINATE_DEADLINE: Duration = Duration::from_secs(30);

/// What Argo CD's controller writes while a window holds an operation back.
const BLOCKED_BY_WINDOW: &str = "blocked by sync window";

/// One Argo CD action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum ArgoAction {
    Refresh { hard: bool },
    Sync(SyncSpec),
    Terminate,
}

impl ArgoAction {
    pub fn name(&self) -> &'static str {
        match self {
            ArgoAction::Refresh { .. } => "refresh",
            ArgoAction::Sync(_) => "sync",
            ArgoAction::Terminate => "terminate",
        }
    }

    fn journal_name(&self) -> String {
        format!("argocd-{}", self.name())
    }
}

/// What an Argo CD action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgoReport {
    pub action: String,
    pub app: String,
    pub env: String,
    pub application: String,
    pub actor: String,
    /// One line: `refreshed (hard)`, `Succeeded: successfully synced`, `waiting: …`.
    pub outcome: String,
    /// The operation's end, for a sync or terminate that was followed to it.
    pub end: Option<OperationEnd>,
    /// The operation is written but the controller holds it back (a sync window): why.
    pub waiting: Option<String>,
}

impl ArgoReport {
    /// A sync whose operation ended other than Succeeded (a terminate ends one on purpose).
    pub fn failed(&self) -> bool {
        self.action == "sync" && self.end.as_ref().is_some_and(|e| !e.succeeded())
    }
}

impl std::fmt::Display for ArgoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "argocd {} {} {}: {}",
            self.action, self.app, self.env, self.outcome
        )
    }
}

/// Runs one Argo CD action on the Application of `app` in `env`. Returns at once when the
/// task is cancelled; the body then ends by its own deadline and journals what it did.
pub async fn act(
    ctx: &OpCtx,
    app: &str,
    env: &str,
    action: ArgoAction,
    task: &TaskCtl,
) -> Result<ArgoReport, OpError> {
    let what = format!("argocd {} {app} {env}", action.name());
    task.report(
        0,
        None,
        format!("waiting for the Kubernetes API of `{env}`"),
    );
    let (body_ctx, app, env, body_task) =
        (ctx.clone(), app.to_owned(), env.to_owned(), task.clone());
    super::detach::wait_for(task.cancel_token(), None, &what, async move {
        act_now(&body_ctx, &app, &env, action, &body_task).await
    })
    .await
}

async fn act_now(
    ctx: &OpCtx,
    app: &str,
    env: &str,
    mut action: ArgoAction,
    task: &TaskCtl,
) -> Result<ArgoReport, OpError> {
    let inv = ctx.inventory()?.clone();
    let r =
        AppRef::from_inventory(&inv, app, env).map_err(|e| OpError::bad_input(e.to_string()))?;
    let name = action.journal_name();
    ctx.check_writable(&name, Some(app), Some(env)).await?;
    if let ArgoAction::Sync(spec) = &mut action {
        spec.actor = ctx.actor().to_string();
    }
    let started = Instant::now();
    let own = match action {
        ArgoAction::Refresh { .. } => REFRESH_DEADLINE,
        ArgoAction::Sync(_) => SYNC_DEADLINE,
        ArgoAction::Terminate => TERMINATE_DEADLINE,
    };
    let deadline = ctx.limit(own);
    let far_end = format!(
        "the Argo CD Application {}/{} of `{env}`",
        r.namespace, r.name
    );
    let result = match tokio::time::timeout(deadline, run(&r, &action, deadline, task)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(kube_error(&e)),
        Err(_) => Err(OpError::new(
            Fault::Remote,
            format!(
                "{far_end}: no answer within {} s while doing {}",
                deadline.as_secs(),
                action.name()
            ),
        )),
    };
    let mut entry = Entry::new(&name);
    entry.app = Some(app.to_owned());
    entry.env = Some(env.to_owned());
    let report = result.map(|(outcome, end, waiting)| ArgoReport {
        action: action.name().to_owned(),
        app: app.to_owned(),
        env: env.to_owned(),
        application: format!("{}/{}", r.namespace, r.name),
        actor: ctx.actor().to_string(),
        outcome,
        end,
        waiting,
    });
    if let Ok(rep) = &report {
        entry.detail = serde_json::json!({
            "application": rep.application,
            "request": action,
            "outcome": rep.outcome,
            "resources": rep.end.as_ref().map(|e| e.resources.clone()),
        });
        if let ArgoAction::Sync(spec) = &action {
            entry.to.clone_from(&spec.revision);
        }
        if rep.failed() {
            "failed".clone_into(&mut entry.result);
        }
    }
    ctx.record(entry, started, &report).await;
    if let Ok(rep) = &report {
        ctx.announce(&Notification::argocd(
            app,
            env,
            &format!("{}: {}", action.name(), rep.outcome),
            &rep.actor,
        ));
    }
    report
}

type Outcome = (String, Option<OperationEnd>, Option<String>);

async fn run(
    r: &AppRef,
    action: &ArgoAction,
    limit: Duration,
    task: &TaskCtl,
) -> crate::services::kube::Result<Outcome> {
    match action {
        ArgoAction::Refresh { hard } => {
            let client = argocd::refresh(r, *hard).await?;
            task.report(0, None, "waiting for Argo CD to refresh");
            argocd::follow(
                &client,
                r,
                limit,
                "the refresh done",
                |_| {},
                |a| argocd::refreshed(a).then_some(()),
            )
            .await?;
            let kind = if *hard {
                "hard refresh done"
            } else {
                "refreshed"
            };
            Ok((kind.to_owned(), None, None))
        }
        ArgoAction::Sync(spec) => {
            let client = argocd::sync(r, spec).await?;
            task.report(0, None, "sync asked for; waiting for Argo CD");
            let mut out = follow_operation(&client, r, limit, task, true).await?;
            // Held by a window: say which and until when, as the project has it.
            if out.2.is_some()
                && let Some(Verdict::Blocked { why, until }) =
                    argocd::window_verdict(&client, r).await
            {
                let zone = jiff::tz::TimeZone::system();
                let when = until
                    .map(|u| argocd::until_text(u, jiff::Timestamp::now(), &zone))
                    .unwrap_or_default();
                let held =
                    format!("sync blocked by {why} {when}; Argo CD runs it when the window allows")
                        .replace("  ", " ");
                out.0 = format!("waiting: {held}");
                out.2 = Some(held);
            }
            Ok(out)
        }
        ArgoAction::Terminate => {
            let client = argocd::terminate(r).await?;
            task.report(0, None, "terminate asked for; waiting for Argo CD");
            follow_operation(&client, r, limit, task, false).await
        }
    }
}

/// Follows the operation to its end, or (a sync) until the controller says a window holds it.
async fn follow_operation(
    client: &kube::Client,
    r: &AppRef,
    limit: Duration,
    task: &TaskCtl,
    stop_when_held: bool,
) -> crate::services::kube::Result<Outcome> {
    let mut last = String::new();
    argocd::follow(
        client,
        r,
        limit,
        "the operation's end",
        |a: &Application| {
            if let Some(op) = &a.status.operation_state {
                let line = format!("{}: {}", op.phase, op.message);
                if line != last {
                    task.report(0, None, line.clone());
                    last = line;
                }
            }
        },
        |a| {
            if let Some(end) = argocd::operation_end(a) {
                let outcome = if end.message.is_empty() {
                    end.phase.clone()
                } else {
                    format!("{}: {}", end.phase, end.message)
                };
                return Some((outcome, Some(end), None));
            }
            let op = a.status.operation_state.as_ref()?;
            if stop_when_held && a.operation.is_some() && op.message.contains(BLOCKED_BY_WINDOW) {
                let why = format!("waiting: {}", op.message);
                return Some((why.clone(), None, Some(op.message.clone())));
            }
            None
        },
    )
    .await
}
