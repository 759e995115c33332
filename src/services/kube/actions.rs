//! Rollout actions: the exact requests of the `kubectl argo rollouts` plugin (JSON merge patches,
//! the `status` subresource first and the main resource when it is not there), Argo CD's rules
//! for when an action makes sense, and a SelfSubjectAccessReview before writing.

use jiff::Timestamp;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::Patch;
use kube::{Api, Client};
use serde::Serialize;
use serde_json::{Value, json};

use super::client::{Target, describe, patch_params, post_params, request_client};
use super::info::{current_canary_step, is_fully_promoted};
use super::model::Rollout;
use super::{KubeError, LiveState, Result, RolloutInfo};
use crate::inventory::Inventory;

/// The six rollout actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutAction {
    Promote,
    PromoteFull,
    Abort,
    Retry,
    Pause,
    Restart,
}

impl RolloutAction {
    pub const ALL: [RolloutAction; 6] = [
        RolloutAction::Promote,
        RolloutAction::PromoteFull,
        RolloutAction::Abort,
        RolloutAction::Retry,
        RolloutAction::Pause,
        RolloutAction::Restart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RolloutAction::Promote => "promote",
            RolloutAction::PromoteFull => "promote-full",
            RolloutAction::Abort => "abort",
            RolloutAction::Retry => "retry",
            RolloutAction::Pause => "pause",
            RolloutAction::Restart => "restart",
        }
    }

    /// Pause and restart patch the Rollout itself; the others its `status` subresource.
    pub fn patches_main(self) -> bool {
        matches!(self, RolloutAction::Pause | RolloutAction::Restart)
    }
}

/// Argo CD's resource-action rules on the derived view: `Err` says why the key is greyed out.
pub fn allowed_info(info: &RolloutInfo, action: RolloutAction) -> Result<(), String> {
    let paused = info.paused || !info.pause_reasons.is_empty();
    match action {
        RolloutAction::Promote if !paused => Err("promote: the rollout is not paused".into()),
        RolloutAction::PromoteFull if info.fully_promoted => {
            Err("promote-full: the rollout is already fully promoted".into())
        }
        RolloutAction::Abort if info.fully_promoted => {
            Err("abort: the rollout is fully promoted, nothing to abort".into())
        }
        RolloutAction::Abort if info.aborted => Err("abort: the rollout is already aborted".into()),
        RolloutAction::Retry if !info.aborted || info.fully_promoted => {
            Err("retry: only an aborted rollout can be retried".into())
        }
        RolloutAction::Pause if info.fully_promoted => {
            Err("pause: the rollout is fully promoted".into())
        }
        RolloutAction::Pause if info.aborted => Err("pause: the rollout is aborted".into()),
        RolloutAction::Pause if info.paused => Err("pause: the rollout is already paused".into()),
        _ => Ok(()),
    }
}

/// Whether a key makes sense now for an app × env, from the live state (pure).
pub fn allowed(
    live: &LiveState,
    app: &str,
    env: &str,
    action: RolloutAction,
) -> Result<(), String> {
    let Some(e) = live.envs.get(env) else {
        return Err(format!("{}: no live data for `{env}` yet", action.name()));
    };
    if let super::Conn::Stale { .. } = e.cluster {
        return Err(format!(
            "{}: the cluster watch of `{env}` is disconnected",
            action.name()
        ));
    }
    let (granted, what) = if action.patches_main() {
        (e.access.patch, "rollouts")
    } else {
        (e.access.patch_status, "rollouts/status")
    };
    if granted == Some(false) {
        return Err(format!(
            "{}: forbidden: RBAC does not let this identity patch {what} in `{env}` (SelfSubjectAccessReview)",
            action.name()
        ));
    }
    match e.rollouts.get(app) {
        Some(Some(info)) => allowed_info(info, action),
        Some(None) => Err(format!(
            "{}: no Rollout for `{app}` in `{env}`",
            action.name()
        )),
        None => Err(format!(
            "{}: `{app}` is not watched in `{env}`",
            action.name()
        )),
    }
}

/// The requests of one action, in the order the plugin sends them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Merge patch for the `status` subresource, sent first.
    pub status: Option<Value>,
    /// Merge patch for the main resource, sent after the status patch.
    pub spec: Option<Value>,
    /// Sent to the main resource instead of `spec` when the status subresource answers 404.
    pub unified: Option<Value>,
}

fn is_inconclusive(ro: &Rollout) -> bool {
    ro.spec.strategy.canary.is_some()
        && ro
            .status
            .canary
            .current_step_analysis_run_status
            .as_ref()
            .is_some_and(|s| s.status == "Inconclusive")
}

/// The plugin's next step index: current (nil = 0) + 1, capped at the step count.
fn next_index(ro: &Rollout) -> Option<i32> {
    let (_, idx) = current_canary_step(ro);
    let steps = ro
        .spec
        .strategy
        .canary
        .as_ref()
        .map_or(0, |c| i32::try_from(c.steps.len()).unwrap_or(i32::MAX));
    idx.map(|i| if i < steps { i + 1 } else { i })
}

/// The plugin's patches for an action on this Rollout (`promote.go: getPatches`, `abort.go`,
/// `retry.go`, `pause.go`, `restart.go`). Pure.
pub fn plan(ro: &Rollout, action: RolloutAction, now: Timestamp) -> Plan {
    let none = Plan {
        status: None,
        spec: None,
        unified: None,
    };
    match action {
        RolloutAction::Promote => {
            let mut p = Plan {
                unified: Some(json!({"spec":{"paused":false},"status":{"pauseConditions":null}})),
                spec: ro.spec.paused.then(|| json!({"spec":{"paused":false}})),
                status: None,
            };
            let has_conditions = !ro.status.pause_conditions.is_empty();
            if is_inconclusive(ro) && has_conditions && ro.status.controller_pause {
                if let Some(i) = next_index(ro) {
                    p.status = Some(
                        json!({"status":{"pauseConditions":null,"controllerPause":false,"currentStepIndex":i}}),
                    );
                }
            } else if has_conditions {
                p.status = Some(json!({"status":{"pauseConditions":null}}));
            } else if let Some(i) = next_index(ro).filter(|_| ro.spec.strategy.canary.is_some()) {
                {
                    p.status =
                        Some(json!({"status":{"pauseConditions":null,"currentStepIndex":i}}));
                    p.unified = Some(
                        json!({"spec":{"paused":false},"status":{"pauseConditions":null,"currentStepIndex":i}}),
                    );
                }
            }
            p
        }
        RolloutAction::PromoteFull => Plan {
            spec: ro.spec.paused.then(|| json!({"spec":{"paused":false}})),
            status: (!is_fully_promoted(ro)).then(|| json!({"status":{"promoteFull":true}})),
            unified: Some(json!({"spec":{"paused":false},"status":{"promoteFull":true}})),
        },
        RolloutAction::Abort => Plan {
            status: Some(json!({"status":{"abort":true}})),
            unified: Some(json!({"status":{"abort":true}})),
            ..none
        },
        RolloutAction::Retry => Plan {
            status: Some(json!({"status":{"abort":false}})),
            unified: Some(json!({"status":{"abort":false}})),
            ..none
        },
        RolloutAction::Pause => Plan {
            spec: Some(json!({"spec":{"paused":true}})),
            ..none
        },
        RolloutAction::Restart => Plan {
            spec: Some(
                json!({"spec":{"restartAt": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}}),
            ),
            ..none
        },
    }
}

/// Where an action goes.
#[derive(Debug, Clone)]
pub struct RolloutRef {
    pub target: Target,
    pub namespace: String,
    pub rollout: String,
}

impl RolloutRef {
    /// The Rollout of `app` in `env`, from the inventory.
    /// Takes the whole inventory: it joins an app, an environment and the `kube:` section.
    pub fn from_inventory(inv: &Inventory, app: &str, env: &str) -> Result<RolloutRef> {
        let (a, e, target) = super::client::app_env(inv, app, env)?;
        Ok(RolloutRef {
            target,
            namespace: a.namespace_in(app, env, &e.namespace),
            rollout: a.rollout_name(app).to_owned(),
        })
    }
}

/// What an executed action did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Done {
    pub action: RolloutAction,
    pub rollout: String,
    pub namespace: String,
    /// The patches sent, as `(subresource, body)`: `status` or `main`.
    pub sent: Vec<(String, Value)>,
    /// The Rollout's desired image when the action ran (the canary's, during a canary).
    pub image: Option<String>,
}

impl Done {
    /// The tag of [`Done::image`] (after the last `:` that follows the last `/`).
    pub fn tag(&self) -> Option<&str> {
        let image = self.image.as_deref()?;
        let name = image.rsplit('/').next().unwrap_or(image);
        let name = name.split('@').next().unwrap_or(name);
        name.rsplit_once(':').map(|(_, t)| t)
    }
}

fn desired_image(ro: &Rollout) -> Option<String> {
    ro.spec
        .template
        .spec
        .containers
        .first()
        .map(|c| c.image.clone())
}

/// Asks the API server whether this identity may `patch` rollouts (and `rollouts/status`).
pub async fn can_patch(client: &Client, namespace: &str, status: bool) -> Result<bool> {
    let sub = status.then_some("status");
    can(client, "argoproj.io", "rollouts", sub, "patch", namespace).await
}

/// A SelfSubjectAccessReview: may this identity `verb` the resource in `namespace`?
pub async fn can(
    client: &Client,
    group: &str,
    resource: &str,
    subresource: Option<&str>,
    verb: &str,
    namespace: &str,
) -> Result<bool> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some(group.into()),
                resource: Some(resource.into()),
                subresource: subresource.map(str::to_owned),
                verb: Some(verb.into()),
                namespace: Some(namespace.to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = api
        .create(&post_params(), &review)
        .await
        .map_err(|e| describe(&e))?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

fn forbidden(r: &RolloutRef, action: RolloutAction, detail: &str) -> KubeError {
    KubeError::Forbidden(format!(
        "{} on rollout {}/{} is not allowed for this identity ({}): {detail}",
        action.name(),
        r.namespace,
        r.rollout,
        r.target.label()
    ))
}

/// Runs an action: GET the Rollout, check Argo CD's rules on it, check RBAC, send the plugin's
/// patches (status first, the main resource on 404). Spawn it as a task from the TUI.
pub async fn execute(r: &RolloutRef, action: RolloutAction) -> Result<Done> {
    let client = request_client(&r.target).await?;
    execute_with(&client, r, action).await
}

/// `execute` with a client already built.
pub async fn execute_with(client: &Client, r: &RolloutRef, action: RolloutAction) -> Result<Done> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), &r.namespace);
    let ro = api.get(&r.rollout).await.map_err(|e| match describe(&e) {
        KubeError::Forbidden(m) => forbidden(r, action, &m),
        other => other,
    })?;
    let info = super::info::rollout_info(&ro, &[], &[], &[], &[]);
    allowed_info(&info, action).map_err(KubeError::Refused)?;
    let p = plan(&ro, action, Timestamp::now());
    // A review that cannot be made (older server) is not a refusal: the patch itself will tell.
    if p.status.is_some() && matches!(can_patch(client, &r.namespace, true).await, Ok(false)) {
        return Err(forbidden(
            r,
            action,
            "SelfSubjectAccessReview denied patch on rollouts/status",
        ));
    }
    if p.spec.is_some() && matches!(can_patch(client, &r.namespace, false).await, Ok(false)) {
        return Err(forbidden(
            r,
            action,
            "SelfSubjectAccessReview denied patch on rollouts",
        ));
    }
    let pp = patch_params();
    let mut sent = Vec::new();
    let mut spec = p.spec.clone();
    if let Some(body) = &p.status {
        match api.patch_status(&r.rollout, &pp, &Patch::Merge(body)).await {
            Ok(_) => sent.push(("status".to_owned(), body.clone())),
            Err(e) => match describe(&e) {
                KubeError::NotFound(_) => spec.clone_from(&p.unified),
                KubeError::Forbidden(m) => return Err(forbidden(r, action, &m)),
                other => return Err(other),
            },
        }
    }
    if let Some(body) = &spec {
        api.patch(&r.rollout, &pp, &Patch::Merge(body))
            .await
            .map_err(|e| match describe(&e) {
                KubeError::Forbidden(m) => forbidden(r, action, &m),
                other => other,
            })?;
        sent.push(("main".to_owned(), body.clone()));
    }
    Ok(Done {
        action,
        rollout: r.rollout.clone(),
        namespace: r.namespace.clone(),
        sent,
        image: desired_image(&ro),
    })
}

/// The cluster half of the one-key rollback: abort (traffic back to stable now). Unlike the
/// `a` key it does not refuse an already-aborted rollout, so the rollback's git half still runs.
pub async fn abort_for_rollback(r: &RolloutRef) -> Result<Done> {
    let client = request_client(&r.target).await?;
    abort_for_rollback_with(&client, r).await
}

/// [`abort_for_rollback`] with a client already built.
pub async fn abort_for_rollback_with(client: &Client, r: &RolloutRef) -> Result<Done> {
    let api: Api<Rollout> = Api::namespaced(client.clone(), &r.namespace);
    let ro = api.get(&r.rollout).await.map_err(|e| describe(&e))?;
    if ro.status.abort {
        return Ok(Done {
            action: RolloutAction::Abort,
            rollout: r.rollout.clone(),
            namespace: r.namespace.clone(),
            sent: Vec::new(),
            image: desired_image(&ro),
        });
    }
    if is_fully_promoted(&ro) {
        return Err(KubeError::Refused(format!(
            "rollback: no canary in flight for {}/{} (fully promoted); only the git half applies",
            r.namespace, r.rollout
        )));
    }
    execute_with(client, r, RolloutAction::Abort).await
}

/// Whether a rollback would send an abort now: `Some(what is in flight)`, or `None`.
pub async fn abort_needed(r: &RolloutRef) -> Result<Option<String>> {
    let client = request_client(&r.target).await?;
    let api: Api<Rollout> = Api::namespaced(client, &r.namespace);
    let ro = api.get(&r.rollout).await.map_err(|e| describe(&e))?;
    if ro.status.abort || is_fully_promoted(&ro) {
        return Ok(None);
    }
    let info = super::info::rollout_info(&ro, &[], &[], &[], &[]);
    let step = info
        .step_index
        .map(|i| format!("step {i}/{}", info.steps.len()))
        .unwrap_or_default();
    let image = desired_image(&ro).unwrap_or_default();
    Ok(Some(
        format!("canary {image} in flight {step}")
            .trim_end()
            .to_owned(),
    ))
}
