//! Effects that write: each runs its op from `crate::ops` as a background task and reports
//! the op's own words back. The op decides (read-only, RBAC, journal, cards); this only wires
//! its result into the cockpit (a refusal that may be overridden, RBAC news, a release in
//! flight, what to read again).

use super::Runner;
use crate::app::Action;
use crate::app::state::PendingChange;
use crate::app::tasks::{TaskId, TaskOutcome};
use crate::ops::gitops::ChangeSpec;
use crate::ops::{Fault, OpError};
use crate::services::gitops::Action as GitAction;
use crate::services::kube::actions::RolloutAction;

/// The task outcome of an op's result: its report's words, or its failure's.
fn outcome<T: std::fmt::Display>(result: &Result<T, OpError>) -> TaskOutcome {
    match result {
        Ok(report) => TaskOutcome::Done(report.to_string()),
        Err(e) if e.fault == Fault::Cancelled => TaskOutcome::Cancelled,
        Err(e) if matches!(e.fault, Fault::Refused | Fault::Forbidden) => {
            TaskOutcome::Refused(e.message.clone())
        }
        Err(e) => TaskOutcome::Failed(e.message.clone()),
    }
}

impl Runner {
    /// Release, promote or rollback (gates, commit and push; a rollback also aborts).
    pub(super) fn git_change(&mut self, id: TaskId, change: PendingChange) {
        let ctl = self.task_ctl(id);
        let (ops, tx) = (self.services.ops.clone(), self.tx.clone());
        tokio::spawn(async move {
            let mut spec = ChangeSpec::new(
                change.action,
                &change.app,
                &change.env,
                change.tag.as_deref(),
            );
            spec.expected_from.clone_from(&change.expected_from);
            spec.source_env.clone_from(&change.source_env);
            spec.override_reason.clone_from(&change.override_reason);
            let result = crate::ops::gitops::change(&ops, spec, ctl).await;
            let task = match &result {
                Ok(report) if !report.complete() => TaskOutcome::Failed(report.to_string()),
                other => outcome(other),
            };
            match &result {
                // A refusal the env lets you override: ask for the reason right away.
                Err(e) if e.overridable && change.override_reason.is_none() => {
                    let _ = tx.send(Action::GateRefused {
                        change: change.clone(),
                        message: e.message.clone(),
                    });
                }
                Ok(report) if report.outcome.pushed && change.action != GitAction::Rollback => {
                    let _ = tx.send(Action::Pushed {
                        app: change.app.clone(),
                        env: change.env.clone(),
                        from: report.outcome.from.clone().unwrap_or_else(|| "-".into()),
                        to: report.outcome.to.clone(),
                        actor: report.actor.clone(),
                    });
                }
                _ => {}
            }
            let _ = tx.send(Action::TaskFinished { id, outcome: task });
            let _ = tx.send(Action::RefreshGit);
        });
    }

    pub(super) fn rollout_action(
        &mut self,
        id: TaskId,
        app: String,
        env: String,
        action: RolloutAction,
    ) {
        let ctl = self.task_ctl(id);
        let (ops, tx) = (self.services.ops.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = crate::ops::rollout::act(&ops, &app, &env, action, &ctl).await;
            // A 403 is news about RBAC: grey the keys it covers from now on.
            if let Err(e) = &result
                && e.fault == Fault::Forbidden
            {
                let _ = tx.send(Action::Live(forbidden_access(action, env.clone())));
            }
            let _ = tx.send(Action::TaskFinished {
                id,
                outcome: outcome(&result),
            });
        });
    }

    pub(super) fn argo_action(
        &mut self,
        id: TaskId,
        app: String,
        env: String,
        action: crate::ops::argocd::ArgoAction,
    ) {
        let ctl = self.task_ctl(id);
        let (ops, tx) = (self.services.ops.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = crate::ops::argocd::act(&ops, &app, &env, action, &ctl).await;
            // Activity keeps the per-resource results beside the outcome.
            let resources = |r: &crate::ops::argocd::ArgoReport| {
                r.end
                    .as_ref()
                    .filter(|e| !e.resources.is_empty())
                    .map(|e| format!(" [{}]", e.resources.join("; ")))
                    .unwrap_or_default()
            };
            let outcome = match &result {
                Ok(r) if r.failed() => {
                    TaskOutcome::Failed(format!("{}{}", r.outcome, resources(r)))
                }
                Ok(r) => TaskOutcome::Done(format!("{r}{}", resources(r))),
                Err(_) => outcome(&result),
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    pub(super) fn clean_tmp(&mut self, id: TaskId, skip: &[usize]) {
        let ctl = self.task_ctl(id);
        let taken = self
            .tmp_plan
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let skip: std::collections::BTreeSet<usize> = skip.iter().copied().collect();
        let (ops, tx) = (self.services.ops.clone(), self.tx.clone());
        tokio::spawn(async move {
            let outcome = match taken {
                None => TaskOutcome::Failed("no preview to apply: press t again".into()),
                Some(plan) => {
                    let chosen = plan.subset(|i, _| !skip.contains(&i));
                    match crate::ops::tmp::clean(&ops, chosen, ctl).await {
                        Ok(r) if r.cancelled => TaskOutcome::Cancelled,
                        Ok(r) if !r.failed.is_empty() => TaskOutcome::Failed(r.to_string()),
                        other => outcome(&other),
                    }
                }
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    pub(super) fn apply_feishu(&mut self, id: TaskId) {
        let ctl = self.task_ctl(id);
        let (ops, tx, slot) = (
            self.services.ops.clone(),
            self.tx.clone(),
            self.feishu_plan.clone(),
        );
        tokio::spawn(async move {
            let taken = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            let outcome = match taken {
                None => TaskOutcome::Failed("no plan to apply: open the view again".into()),
                Some((sync, plan)) => {
                    match crate::ops::feishu::apply_sync(&ops, &sync, &plan, ctl).await {
                        Ok(s) if s.0.failed() => TaskOutcome::Failed(s.to_string()),
                        other => outcome(&other),
                    }
                }
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    /// A batch over SOPS files; the Secrets view reloads afterwards.
    pub(super) fn secrets_batch(
        &mut self,
        id: TaskId,
        files: Vec<std::path::PathBuf>,
        op: crate::ops::secrets::SecretsChange,
    ) {
        let ctl = self.task_ctl(id);
        let (ops, tx) = (self.services.ops.clone(), self.tx.clone());
        tokio::spawn(async move {
            let outcome = match crate::ops::secrets::apply(&ops, files, op, ctl).await {
                Ok(r) if r.batch.cancelled => TaskOutcome::Cancelled,
                Ok(r) if r.batch.failed > 0 => TaskOutcome::Failed(r.to_string()),
                other => outcome(&other),
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
            let _ = tx.send(Action::RefreshSecrets);
        });
    }
}

/// What a refused action says about RBAC: the permission it needed is missing.
fn forbidden_access(action: RolloutAction, env: String) -> crate::services::kube::LiveEvent {
    let mut access = crate::services::kube::RolloutAccess::default();
    if action.patches_main() {
        access.patch = Some(false);
    } else {
        access.patch_status = Some(false);
    }
    crate::services::kube::LiveEvent::Access { env, access }
}
