//! `shipdeck argocd refresh|sync|terminate APP --env E`: one op each, as the cockpit's keys.

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::argocd::{ArgocdArgs, ArgocdCommand};
use crate::ops::argocd::ArgoAction;
use crate::services::kube::argocd::SyncSpec;

pub async fn run(ctx: &Ctx, args: ArgocdArgs) -> Outcome {
    let (target, action) = match args.command {
        ArgocdCommand::Refresh { target, hard } => (target, ArgoAction::Refresh { hard }),
        ArgocdCommand::Sync {
            target,
            revision,
            prune,
            sync_options,
            reason,
        } => (
            target,
            ArgoAction::Sync(SyncSpec {
                revision,
                prune,
                sync_options,
                actor: String::new(),
                reason,
            }),
        ),
        ArgocdCommand::Terminate(target) => (target, ArgoAction::Terminate),
    };
    let inv = ctx.inventory()?;
    let env = inv.env(&target.env)?.clone();
    inv.app(&target.app)?;
    let session = OpSession::open(ctx, inv.clone(), false).await;
    let name = format!("argocd-{}", action.name());
    let question = format!("argocd {} {} in {}?", action.name(), target.app, target.env);
    // A refresh changes nothing deployed: only writes that move the cluster ask for the
    // env's name on a protected env.
    let typed = (env.protected && !matches!(action, ArgoAction::Refresh { .. }))
        .then_some(target.env.as_str());
    let result = async {
        session
            .may_write(ctx, &name, (&target.app, &target.env), &question, typed)
            .await?;
        let task = crate::services::TaskCtl::detached();
        crate::ops::argocd::act(&session.ops, &target.app, &target.env, action, &task)
            .await
            .map_err(Failure::from)
    }
    .await;
    session.close().await;
    let report = result?;
    ctx.emit(&report, |r| {
        let mut out = r.to_string();
        for line in r.end.iter().flat_map(|e| &e.resources) {
            out = format!("{out}\n  {line}");
        }
        out
    });
    if report.failed() {
        return Err(Failure::new(
            Exit::Failed,
            format!(
                "argocd {} {} {}: {}",
                report.action, report.app, report.env, report.outcome
            ),
        )
        .after_output());
    }
    Ok(())
}
