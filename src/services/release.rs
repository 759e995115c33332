//! A change to the GitOps repo behind its gates: what `release` and `promote` do, in the cockpit
//! and headless alike. Rollbacks skip the gates: going back to a tag that ran is the way out of
//! an incident, not a way in.

use std::sync::Arc;

use crate::inventory::Inventory;
use crate::services::TaskCtl;
use crate::services::feishu::Notification;
use crate::services::github::{GatesService, GithubError, GuardPass, GuardRefusal, guard};
use crate::services::gitops::{self, ChangeOutcome, ChangeRequest, GitopsEngine, GitopsError};

/// Why a guarded change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("{}", .0.message)]
    Gates(GuardRefusal),
    #[error("cannot check the gates of {env}: {source}")]
    GatesUnavailable {
        env: String,
        #[source]
        source: GithubError,
    },
    #[error("{0}")]
    Git(#[from] GitopsError),
    #[error("background task failed: {0}")]
    Join(String),
}

/// The tag a change will write, for the gate check (promote reads its source env).
fn target_tag(
    engine: &GitopsEngine,
    req: &ChangeRequest,
    inv: &Inventory,
) -> Result<Option<String>, GitopsError> {
    if req.tag.is_some() {
        return Ok(req.tag.clone());
    }
    if req.action != gitops::Action::Promote {
        return Ok(None);
    }
    let source = req.source_env.clone().or_else(|| {
        inv.environments
            .get(&req.env)
            .and_then(|e| e.promote_from().map(str::to_owned))
    });
    let Some(source) = source else {
        return Ok(None);
    };
    Ok(engine
        .snapshot()?
        .into_iter()
        .find(|t| t.app == req.app && t.env == source)
        .and_then(|t| t.tag))
}

/// A change that went through, and how its gates were judged (`None`: not gated).
#[derive(Debug, Clone)]
pub struct Guarded {
    pub outcome: ChangeOutcome,
    pub gates: Option<GuardPass>,
}

/// Checks the target env's required gates (release and promote), then writes and pushes.
/// `override_reason` is honoured only where the inventory allows an override.
pub async fn guarded_change(
    engine: Arc<GitopsEngine>,
    gates: Option<&GatesService>,
    inv: &Inventory,
    mut req: ChangeRequest,
    override_reason: Option<&str>,
    ctl: TaskCtl,
) -> Result<Guarded, ReleaseError> {
    let env = inv.env(&req.env).map_err(GitopsError::from)?;
    let needs_gates = req.action != gitops::Action::Rollback && !env.required_checks.is_empty();
    if needs_gates {
        let tag = {
            let (engine, r, inv) = (engine.clone(), req.clone(), inv.clone());
            tokio::task::spawn_blocking(move || target_tag(&engine, &r, &inv))
                .await
                .map_err(|e| ReleaseError::Join(e.to_string()))??
        };
        if let Some(tag) = tag {
            ctl.report(0, Some(2), "checking gates");
            let pass = check(gates, env, &req.env, &tag, override_reason).await?;
            req.gates = Some(pass.trailer.clone());
            if pass.overridden {
                req.reason.clone_from(&pass.reason);
            }
            return apply(engine, req, ctl).await.map(|outcome| Guarded {
                outcome,
                gates: Some(pass),
            });
        }
    }
    apply(engine, req, ctl).await.map(|outcome| Guarded {
        outcome,
        gates: None,
    })
}

async fn apply(
    engine: Arc<GitopsEngine>,
    req: ChangeRequest,
    ctl: TaskCtl,
) -> Result<ChangeOutcome, ReleaseError> {
    ctl.report(1, Some(2), "writing and pushing");
    tokio::task::spawn_blocking(move || engine.apply(&req, &ctl))
        .await
        .map_err(|e| ReleaseError::Join(e.to_string()))?
        .map_err(ReleaseError::Git)
}

/// The chat messages for a finished (or failed) change: the action's card, and a gate-override
/// card when gates were overridden.
/// The chat card of a canary abort (the `a` key, `rollout abort`), naming the aborted tag.
pub fn abort_card(
    app: &str,
    env: &str,
    done: &crate::services::kube::actions::Done,
) -> Notification {
    Notification::abort(
        app,
        env,
        done.tag().unwrap_or("(unknown tag)"),
        &crate::audit::actor(),
    )
}

/// The chat card of a secrets rotation that changed `files` files; `removed`: the recipient the
/// rotation locked out, if that was the reason.
pub fn rotation_card(files: usize, removed: Option<&str>) -> Notification {
    let what = match removed {
        Some(r) => format!("removed {r}; data keys of {}", files_phrase(files)),
        None => format!("data keys of {}", files_phrase(files)),
    };
    Notification::secret_rotation(None, &what, &crate::audit::actor())
}

/// The chat card of an age recipient given access to `files` files.
pub fn recipient_added_card(files: usize, recipient: &str) -> Notification {
    let what = format!("added {recipient} to {}", files_phrase(files));
    Notification::secret_rotation(None, &what, &crate::audit::actor())
}

fn files_phrase(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}

pub fn notifications(
    req: &ChangeRequest,
    inv: &Inventory,
    result: &Result<Guarded, String>,
) -> Vec<Notification> {
    let (app, env, actor) = (req.app.as_str(), req.env.as_str(), req.actor.as_str());
    let from = req.expected_from.clone().unwrap_or_else(|| "-".into());
    let to = req.tag.clone().unwrap_or_else(|| "-".into());
    match result {
        Ok(g) if g.outcome.commit.is_none() => Vec::new(),
        Ok(g) => {
            let done = &g.outcome;
            let from = done.from.clone().unwrap_or(from);
            let card = match req.action {
                gitops::Action::Release => {
                    Notification::release_started(app, env, &from, &done.to, actor)
                }
                gitops::Action::Promote => {
                    let source = req
                        .source_env
                        .clone()
                        .or_else(|| inv.env(env).ok()?.promote_from().map(str::to_owned))
                        .unwrap_or_else(|| "-".into());
                    Notification::promote(app, &source, env, &done.to, actor)
                }
                gitops::Action::Rollback => {
                    Notification::rollback(app, env, &from, &done.to, actor)
                }
            };
            let mut out = Vec::new();
            let card = card.with_detail(done.message.clone());
            out.push(match &g.gates {
                Some(p) => card.with_gates(p.summary.clone()),
                None => card,
            });
            if let Some(p) = g.gates.as_ref().filter(|p| p.overridden) {
                out.push(Notification::gate_override(
                    app,
                    env,
                    &from,
                    &done.to,
                    actor,
                    p.reason.as_deref().unwrap_or("-"),
                ));
            }
            out
        }
        Err(e) => {
            vec![Notification::release_failed(app, env, &from, &to, actor).with_detail(e.clone())]
        }
    }
}

async fn check(
    gates: Option<&GatesService>,
    env: &crate::inventory::Environment,
    env_name: &str,
    tag: &str,
    override_reason: Option<&str>,
) -> Result<GuardPass, ReleaseError> {
    let unavailable = |source| ReleaseError::GatesUnavailable {
        env: env_name.to_owned(),
        source,
    };
    let Some(svc) = gates else {
        return Err(unavailable(GithubError::NotConfigured));
    };
    let sha = svc.sha_for_tag(tag).map_err(unavailable)?;
    let report = svc
        .fresh_report(&sha, &env.required_checks)
        .await
        .map_err(unavailable)?;
    guard(env, &report, override_reason).map_err(ReleaseError::Gates)
}
