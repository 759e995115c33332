//! The plugin's rollout actions (promote, promote-full, abort, retry, pause, restart): Argo CD's
//! rules on the live Rollout, a SelfSubjectAccessReview, then the plugin's exact patches.

use std::time::Instant;

use serde::Serialize;

use super::{Fault, OpCtx, OpError};
use crate::audit::Entry;
use crate::services::TaskCtl;
use crate::services::feishu::Notification;
use crate::services::kube::KubeError;
use crate::services::kube::actions::{Done, RolloutAction, RolloutRef, execute_with};

/// What a rollout action did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutReport {
    pub app: String,
    pub env: String,
    #[serde(flatten)]
    pub done: Done,
    pub actor: String,
}

impl std::fmt::Display for RolloutReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subs: Vec<&str> = self.done.sent.iter().map(|(s, _)| s.as_str()).collect();
        write!(
            f,
            "{} {} {}: sent ({})",
            self.done.action.name(),
            self.app,
            self.env,
            subs.join(", ")
        )
    }
}

impl RolloutReport {
    /// Every request sent, one per line, as the plugin would have sent them.
    pub fn requests(&self) -> String {
        self.done
            .sent
            .iter()
            .map(|(sub, body)| format!("  {sub}: {body}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A kube error as an op failure: RBAC is `Forbidden`, a rule ("not paused") is `Refused`.
pub fn kube_error(e: &KubeError) -> OpError {
    let fault = match e {
        KubeError::Forbidden(_) => Fault::Forbidden,
        KubeError::Refused(_) => Fault::Refused,
        KubeError::Kubeconfig(_) => Fault::BadInput,
        _ => Fault::Remote,
    };
    OpError::new(fault, e.to_string())
}

/// Runs one action on the Rollout of `app` in `env`. Returns at once when the task is
/// cancelled; the action then ends by its own deadline and journals what it did.
pub async fn act(
    ctx: &OpCtx,
    app: &str,
    env: &str,
    action: RolloutAction,
    task: &TaskCtl,
) -> Result<RolloutReport, OpError> {
    let what = format!("{} {app} {env}", action.name());
    task.report(
        0,
        None,
        format!("waiting for the Kubernetes API of `{env}`"),
    );
    let (body_ctx, app, env) = (ctx.clone(), app.to_owned(), env.to_owned());
    super::detach::wait_for(task.cancel_token(), None, &what, async move {
        act_now(&body_ctx, &app, &env, action).await
    })
    .await
}

async fn act_now(
    ctx: &OpCtx,
    app: &str,
    env: &str,
    action: RolloutAction,
) -> Result<RolloutReport, OpError> {
    let inv = ctx.inventory()?.clone();
    let r = RolloutRef::from_inventory(&inv, app, env)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    let name = format!("rollout-{}", action.name());
    ctx.check_writable(&name, Some(app), Some(env)).await?;
    let started = Instant::now();
    // Each request has its own timeout; the deadline bounds the whole action whatever the
    // server does (a slow drip of bytes resets a read timeout, not this).
    let deadline = ctx.limit(r.target.timeouts.action_deadline());
    let send = async {
        match crate::services::kube::client::request_client(&r.target).await {
            Ok(client) => {
                let done = execute_with(&client, &r, action).await;
                ctx.learn_kube_user(&client).await;
                done.map_err(|e| kube_error(&e))
            }
            Err(e) => Err(kube_error(&e)),
        }
    };
    let far_end = format!(
        "the Kubernetes API of `{env}` ({})",
        r.target.context.as_ref().map_or_else(
            || "current context".to_owned(),
            |c| format!("context `{c}`")
        )
    );
    let doing = format!(
        "sending {} to rollout {}/{}",
        action.name(),
        r.namespace,
        r.rollout
    );
    let result = match tokio::time::timeout(deadline, send).await {
        Ok(Err(e)) if e.fault == Fault::Remote && !e.message.contains(&format!("`{env}`")) => {
            // A transport error (reset, refused) says what broke, not where: name the far end.
            Err(OpError::new(
                Fault::Remote,
                format!("{far_end} failed while {doing}: {}", e.message),
            ))
        }
        Ok(r) => r,
        Err(_) => {
            ctx.cluster_silent();
            Err(OpError::new(
                Fault::Remote,
                format!(
                    "{far_end} did not answer within {} s while {doing}",
                    deadline.as_secs()
                ),
            ))
        }
    };
    let mut entry = Entry::new(&name);
    entry.app = Some(app.to_owned());
    entry.env = Some(env.to_owned());
    if let Ok(done) = &result {
        entry.to = done.tag().map(str::to_owned);
        entry.detail = serde_json::json!({ "rollout": format!("{}/{}", done.namespace, done.rollout), "sent": done.sent });
    }
    let report = result.map(|done| RolloutReport {
        app: app.to_owned(),
        env: env.to_owned(),
        done,
        actor: ctx.actor().to_string(),
    });
    ctx.record(entry, started, &report).await;
    if let Ok(r) = &report
        && action == RolloutAction::Abort
    {
        let tag = r.done.tag().unwrap_or("(unknown tag)");
        ctx.announce(&Notification::abort(app, env, tag, &r.actor));
    }
    report
}
