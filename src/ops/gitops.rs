//! Release, promote and rollback: a change to the GitOps repo behind its gates. A rollback is
//! two moves under GitOps: abort the canary in the cluster (traffic back on stable now) and
//! write the last good tag to git (so Argo CD does not re-apply the bad one). Rollbacks skip
//! the gates: going back to a tag that ran is the way out of an incident, not a way in.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::{Fault, OpCtx, OpError};
use crate::audit::Entry;
use crate::inventory::Inventory;
use crate::paths::Paths;
use crate::services::TaskCtl;
use crate::services::feishu::Notification;
use crate::services::github::{GithubError, GuardPass, guard};
use crate::services::gitops::{
    Action, ChangeOutcome, ChangeRequest, ErrorKind, GitopsEngine, GitopsError, Preview, Trace,
};
use crate::services::kube::KubeError;
use crate::services::kube::actions::{self, RolloutRef};

/// The GitOps engine, opened (a clone or fetch: blocking, maybe slow) on first use, off the
/// async workers.
#[derive(Clone)]
pub struct GitopsHandle {
    inventory: Arc<Inventory>,
    paths: Paths,
    cell: Arc<tokio::sync::OnceCell<Result<Arc<GitopsEngine>, OpError>>>,
}

impl GitopsHandle {
    pub fn new(inventory: Arc<Inventory>, paths: Paths) -> Self {
        GitopsHandle {
            inventory,
            paths,
            cell: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The engine, opening it once.
    pub async fn engine(&self) -> Result<Arc<GitopsEngine>, OpError> {
        self.cell
            .get_or_init(|| async {
                let (inv, paths) = (self.inventory.clone(), self.paths.clone());
                match tokio::task::spawn_blocking(move || GitopsEngine::open(&inv, &paths)).await {
                    Ok(r) => r.map(Arc::new).map_err(|e| git_error(&e)),
                    Err(e) => Err(OpError::failed(format!("background task failed: {e}"))),
                }
            })
            .await
            .clone()
    }

    /// Runs a blocking engine call off the async workers, within `gitops.timeout_secs`.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&GitopsEngine) -> Result<T, GitopsError> + Send + 'static,
    ) -> Result<T, OpError> {
        let engine = self.engine().await?;
        let ctl = TaskCtl::detached().within(git_budget(&self.inventory));
        bounded_blocking(&self.inventory, &ctl, "reading", move || f(&engine)).await
    }
}

/// How long one engine call may talk to the remote: `gitops.timeout_secs`.
fn git_budget(inv: &Inventory) -> std::time::Duration {
    std::time::Duration::from_secs(inv.gitops.timeout_secs.max(1))
}

/// Runs a blocking engine call and waits for it until `ctl`'s deadline, plus half a second for the
/// call to end by itself and say why. libgit2 gets no callback while a server drips its ref
/// advertisement, so past that the thread is left to end on its socket timeouts, and the
/// caller hears the deadline now.
async fn bounded_blocking<T: Send + 'static>(
    inv: &Inventory,
    ctl: &TaskCtl,
    doing: &'static str,
    f: impl FnOnce() -> Result<T, GitopsError> + Send + 'static,
) -> Result<T, OpError> {
    let call = tokio::task::spawn_blocking(f);
    let joined = match ctl.deadline() {
        Some(end) => {
            let grace = tokio::time::Instant::from(end) + std::time::Duration::from_millis(500);
            match tokio::time::timeout_at(grace, call).await {
                Ok(j) => j,
                Err(_) => {
                    return Err(git_error(&GitopsError::Deadline {
                        url: inv.gitops_url(),
                        secs: ctl.budget_secs().unwrap_or(0),
                        doing,
                    }));
                }
            }
        }
        None => call.await,
    };
    joined
        .map_err(|e| OpError::failed(format!("background task failed: {e}")))?
        .map_err(|e| git_error(&e))
}

/// An engine error as an op failure.
pub fn git_error(e: &GitopsError) -> OpError {
    let fault = match e.kind() {
        ErrorKind::BadInput => Fault::BadInput,
        ErrorKind::Conflict => Fault::Conflict,
        ErrorKind::Remote => Fault::Remote,
        ErrorKind::Refused => Fault::Refused,
        ErrorKind::Failed if matches!(e, GitopsError::Cancelled) => Fault::Cancelled,
        ErrorKind::Failed => Fault::Failed,
    };
    OpError::new(fault, e.to_string())
}

/// What a person asked to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSpec {
    pub action: Action,
    pub app: String,
    pub env: String,
    /// Release: the tag. Rollback: the tag to go back to (`None`: the tag that ran before the
    /// bad one). Promote: `None` (the source env's tag).
    pub tag: Option<String>,
    /// Promote only: the source env (default: the target's `promote_from`).
    pub source_env: Option<String>,
    /// The tag the person saw in `env` when deciding; git having moved on is a conflict.
    pub expected_from: Option<String>,
    /// Go in although gates are red (where the env allows it), for this reason.
    pub override_reason: Option<String>,
    /// Why (an incident link); lands in the trailer.
    pub reason: Option<String>,
    /// The failed analysis an automatic rollback answers (`run: metric = value`): the
    /// `Shipdeck-Analysis` trailer, the journal and the card.
    pub analysis: Option<String>,
}

impl ChangeSpec {
    pub fn new(action: Action, app: &str, env: &str, tag: Option<&str>) -> Self {
        ChangeSpec {
            action,
            app: app.to_owned(),
            env: env.to_owned(),
            tag: tag.map(str::to_owned),
            source_env: None,
            expected_from: None,
            override_reason: None,
            reason: None,
            analysis: None,
        }
    }
}

/// The cluster half of a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterHalf {
    /// An abort patch was sent (false: nothing was in flight, or it was already aborted).
    pub aborted: bool,
    /// The abort could not be done (the git half still ran).
    pub failed: bool,
    pub note: String,
    pub duration_ms: u64,
}

/// What a change did (also the headless `--output json` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    #[serde(flatten)]
    pub outcome: ChangeOutcome,
    /// How the gates were judged (`None`: not gated).
    pub gates: Option<String>,
    pub gates_overridden: bool,
    /// Rollback only.
    pub cluster: Option<ClusterHalf>,
    /// Who acted.
    pub actor: String,
    /// What a promote brought (`12 commits, 5 PRs`), when GitHub said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<String>,
}

impl std::fmt::Display for ChangeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.outcome.message)?;
        if let Some(c) = self.changes.as_ref().filter(|_| self.outcome.pushed) {
            write!(f, " ({c})")?;
        }
        if let Some(c) = &self.cluster {
            write!(f, "; cluster: {}", c.note)?;
            if self.outcome.pushed {
                write!(f, "; git {} ms", self.outcome.duration_ms)?;
            }
        }
        Ok(())
    }
}

impl ChangeReport {
    /// Whether every part of the change went through.
    pub fn complete(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| !c.failed)
    }
}

/// Releases, promotes or rolls back, behind the gates where the env requires them. Returns at
/// once when the task is cancelled or the command's `--timeout` is up; the change itself then
/// ends by its own deadlines and journals what it did (see `detach`).
pub async fn change(ctx: &OpCtx, spec: ChangeSpec, task: TaskCtl) -> Result<ChangeReport, OpError> {
    let what = format!("{} {} {}", spec.action.as_str(), spec.app, spec.env);
    let cancel = task.cancel_token().clone();
    let (body_ctx, task) = (ctx.clone(), ctx.bound(task));
    super::detach::wait_for(&cancel, ctx.timeout(), &what, async move {
        change_now(&body_ctx, spec, task).await
    })
    .await
}

async fn change_now(ctx: &OpCtx, spec: ChangeSpec, task: TaskCtl) -> Result<ChangeReport, OpError> {
    let inv = ctx.inventory()?.clone();
    inv.app(&spec.app)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    inv.env(&spec.env)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    if let Some(src) = &spec.source_env {
        inv.env(src)
            .map_err(|e| OpError::bad_input(e.to_string()))?;
    }
    let action = spec.action.as_str();
    ctx.check_writable(action, Some(&spec.app), Some(&spec.env))
        .await?;
    let started = Instant::now();
    let abort = (spec.action == Action::Rollback).then(|| {
        let (ctx, inv, app, env) = (ctx.clone(), inv.clone(), spec.app.clone(), spec.env.clone());
        tokio::spawn(async move { abort_half(&ctx, &inv, &app, &env).await })
    });
    // Who we are to the env's cluster, asked beside the git work so it costs no time.
    let learn = {
        let (ctx, env) = (ctx.clone(), spec.env.clone());
        tokio::spawn(async move { ctx.learn_kube_user_for(&env).await })
    };
    let mut req = ChangeRequest::new(spec.action, &spec.app, &spec.env, spec.tag.as_deref());
    req.source_env.clone_from(&spec.source_env);
    req.expected_from.clone_from(&spec.expected_from);
    req.reason.clone_from(&spec.reason);
    req.analysis.clone_from(&spec.analysis);
    // The trailer names the person; the journal line adds the cluster's name once learnt.
    req.actor = ctx.actor().name;
    // Boxed: the guard's reads (gates, artifacts, migrations) make a large future.
    let (result, trace, checked) = Box::pin(guarded(ctx, &inv, req.clone(), &spec, task)).await;
    let Checked { pass, changes } = checked;
    let _ = learn.await;
    let cluster = match abort {
        None => None,
        Some(h) => Some(h.await.unwrap_or_else(|e| ClusterHalf {
            aborted: false,
            failed: true,
            note: format!("abort task failed: {e}"),
            duration_ms: 0,
        })),
    };
    let mut entry = Entry::new(action);
    entry.app = Some(spec.app.clone());
    entry.env = Some(spec.env.clone());
    entry.from = trace.from.clone().or_else(|| spec.expected_from.clone());
    entry.to = trace.to.clone().or_else(|| spec.tag.clone());
    entry.detail = serde_json::json!({
        "attempts": trace.attempts,
        "remote": ctx.gitops().ok().map(|_| crate::redact::url(&inv.gitops_url())),
        "gates": pass.as_ref().map(|p| p.trailer.clone()),
        "reason": pass.as_ref().and_then(|p| p.reason.clone()).or_else(|| spec.reason.clone()),
        "changes": changes.as_ref().map(super::changes::trailer),
        "analysis": spec.analysis,
        "cluster": cluster,
    });
    let result = result.map(|outcome| {
        if let Some(commit) = &outcome.commit {
            entry.commit = Some(commit.clone());
        }
        entry.from.clone_from(&outcome.from);
        entry.to = Some(outcome.to.clone());
        if !outcome.pushed {
            "ok: no change".clone_into(&mut entry.result);
        }
        if cluster.as_ref().is_some_and(|c| c.failed) {
            "partial: git written, cluster abort failed".clone_into(&mut entry.result);
        }
        ChangeReport {
            outcome: noop_message(outcome, &spec),
            gates: pass.as_ref().map(|p| p.summary.clone()),
            gates_overridden: pass.as_ref().is_some_and(|p| p.overridden),
            cluster: cluster.clone(),
            actor: req.actor.clone(),
            changes: changes.as_ref().map(super::changes::trailer),
        }
    });
    ctx.record(entry, started, &result).await;
    if let Ok(report) = &result {
        for card in cards(&inv, &spec, report, pass.as_ref(), changes.as_ref()) {
            ctx.announce(&card);
        }
    }
    result
}

/// The gates (release and promote into an env that requires checks), then the git write.
async fn guarded(
    ctx: &OpCtx,
    inv: &Inventory,
    mut req: ChangeRequest,
    spec: &ChangeSpec,
    task: TaskCtl,
) -> (Result<ChangeOutcome, OpError>, Trace, Checked) {
    let engine = match ctx.gitops() {
        Ok(g) => g.engine().await,
        Err(e) => Err(e),
    };
    let engine = match engine {
        Ok(e) => e,
        Err(e) => return (Err(e), Trace::default(), Checked::default()),
    };
    let env = match inv.env(&req.env) {
        Ok(env) => env.clone(),
        Err(e) => {
            return (
                Err(OpError::bad_input(e.to_string())),
                Trace::default(),
                Checked::default(),
            );
        }
    };
    let mut pass = None;
    let mut changes = None;
    // A promote says what it brings (trailer, card) when GitHub is there to ask.
    let wants_changes = req.action == Action::Promote && ctx.gates().is_some();
    let pipeline_gated = super::pipeline::PipelineVerdict::applies(inv, &req.app, &req.env);
    if req.action != Action::Rollback
        && (!env.required_checks.is_empty() || wants_changes || pipeline_gated)
    {
        let preview = {
            let (engine, r) = (engine.clone(), req.clone());
            let ctl = task.clone().within(git_budget(inv));
            let read = ctl.clone();
            bounded_blocking(inv, &ctl, "fetching", move || engine.preview(&r, &read)).await
        };
        let preview = match preview {
            Ok(p) => p,
            Err(e) => return (Err(e), Trace::default(), Checked::default()),
        };
        if wants_changes {
            task.report(0, Some(2), "asking GitHub what goes out");
            let source = spec
                .source_env
                .clone()
                .or_else(|| env.promote_from().map(str::to_owned))
                .unwrap_or_default();
            changes = super::changes::of_promote(
                ctx,
                &req.app,
                (&req.env, &preview.from),
                (&source, &preview.to),
            )
            .await;
            req.changes = changes.as_ref().map(super::changes::trailer);
        }
        // Each check that passes goes into the commit: its trailer, and an override's reason.
        let admit = |req: &mut ChangeRequest, p: GuardPass| {
            req.gates = Some(p.trailer.clone());
            if p.overridden {
                req.reason.clone_from(&p.reason);
            }
            Some(p)
        };
        let mut refused: Option<(OpError, String)> = None;
        if !env.required_checks.is_empty() {
            let tag = preview.to.clone();
            task.report(0, Some(2), "waiting for GitHub (gates)");
            match check_gates(ctx, &env, &req.env, &tag, spec.override_reason.as_deref()).await {
                Ok(p) => pass = admit(&mut req, p),
                Err(e) => refused = Some((e, tag)),
            }
        }
        if refused.is_none() && pipeline_gated {
            task.report(0, Some(2), "checking artifacts and migrations");
            let tag = preview.to.clone();
            let reason = spec.override_reason.as_deref();
            // Boxed: the checkpoints' reads would otherwise grow every change's future.
            let judged = super::pipeline::guard(inv, &req, &env, &tag, pass.take(), reason);
            match Box::pin(judged).await {
                Ok(p) => pass = admit(&mut req, p),
                Err(e) => refused = Some((e, tag)),
            }
        }
        if let Some((e, tag)) = refused {
            let trace = Trace {
                from: spec.expected_from.clone(),
                to: Some(tag),
                attempts: 0,
            };
            return (
                Err(e),
                trace,
                Checked {
                    pass: None,
                    changes,
                },
            );
        }
    }
    task.report(1, Some(2), "waiting for the GitOps remote");
    let task = task.within(git_budget(inv));
    let ctl = task.clone();
    // The trace comes back beside the result, so a call cut short still reports what it knew.
    let trace = std::sync::Arc::new(std::sync::Mutex::new(Trace::default()));
    let seen = trace.clone();
    let result = bounded_blocking(inv, &ctl, "fetching and pushing", move || {
        let (r, t) = engine.apply_traced(&req, &task);
        *seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
        r
    })
    .await;
    let trace = trace
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    (result, trace, Checked { pass, changes })
}

/// What was learnt before the push: the gates that let it through, what it brings.
#[derive(Default)]
struct Checked {
    pass: Option<GuardPass>,
    changes: Option<crate::services::github::ChangeSummary>,
}

async fn check_gates(
    ctx: &OpCtx,
    env: &crate::inventory::Environment,
    env_name: &str,
    tag: &str,
    override_reason: Option<&str>,
) -> Result<GuardPass, OpError> {
    let unavailable =
        |e: GithubError| OpError::remote(format!("cannot check the gates of {env_name}: {e}"));
    let Some(svc) = ctx.gates() else {
        return Err(unavailable(GithubError::NotConfigured));
    };
    let sha = svc.sha_for_tag(tag).map_err(unavailable)?;
    let report = svc
        .fresh_report(&sha, &env.required_checks)
        .await
        .map_err(unavailable)?;
    guard(env, &report, override_reason).map_err(|r| OpError {
        fault: Fault::Refused,
        message: r.message.clone(),
        overridable: r.override_allowed,
    })
}

/// The abort half of a rollback: traffic back on stable now, if a canary is in flight.
async fn abort_half(ctx: &OpCtx, inv: &Inventory, app: &str, env: &str) -> ClusterHalf {
    let t = Instant::now();
    let ms = |t: Instant| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
    let r = match RolloutRef::from_inventory(inv, app, env) {
        Ok(r) => r,
        Err(e) => {
            return ClusterHalf {
                aborted: false,
                failed: true,
                note: format!("abort failed: {e}"),
                duration_ms: ms(t),
            };
        }
    };
    // The same bound as a rollout action: the git half must not wait on a silent cluster.
    let deadline = r.target.timeouts.action_deadline();
    let abort = async {
        match crate::services::kube::client::request_client(&r.target).await {
            Ok(client) => {
                let done = actions::abort_for_rollback_with(&client, &r).await;
                ctx.learn_kube_user(&client).await;
                done
            }
            Err(e) => Err(e),
        }
    };
    let result = tokio::time::timeout(deadline, abort)
        .await
        .unwrap_or_else(|_| {
            ctx.cluster_silent();
            Err(KubeError::Api(format!(
                "the Kubernetes API of `{env}` did not answer within {} s",
                deadline.as_secs()
            )))
        });
    let (aborted, failed, note) = match result {
        Ok(done) if done.sent.is_empty() => (false, false, "already aborted".to_owned()),
        Ok(_) => (
            true,
            false,
            format!("aborted, traffic on stable ({} ms)", ms(t)),
        ),
        Err(KubeError::Refused(why)) => (false, false, format!("nothing to abort ({why})")),
        Err(e) => (false, true, format!("abort failed: {e}")),
    };
    ClusterHalf {
        aborted,
        failed,
        note,
        duration_ms: ms(t),
    }
}

/// A change that wrote nothing says why in words that fit it.
fn noop_message(mut outcome: ChangeOutcome, spec: &ChangeSpec) -> ChangeOutcome {
    if outcome.commit.is_none() && spec.action == Action::Rollback && spec.tag.is_none() {
        outcome.message = format!(
            "{} {} already rolled back to {}: nothing to do (pass --to TAG to go further back)",
            outcome.app, outcome.env, outcome.to
        );
    }
    outcome
}

/// The cards of a change that went through: the action's, and an override card when gates
/// were overridden. A change that wrote nothing, or failed before the push, tells nobody: the
/// journal has it, and the person who tried sees why.
fn cards(
    inv: &Inventory,
    spec: &ChangeSpec,
    report: &ChangeReport,
    pass: Option<&GuardPass>,
    changes: Option<&crate::services::github::ChangeSummary>,
) -> Vec<Notification> {
    let done = &report.outcome;
    if done.commit.is_none() {
        return Vec::new();
    }
    let (app, env, actor) = (spec.app.as_str(), spec.env.as_str(), report.actor.as_str());
    let from = done.from.clone().unwrap_or_else(|| "-".into());
    let card = match spec.action {
        Action::Release => Notification::release_started(app, env, &from, &done.to, actor),
        Action::Promote => {
            let source = spec
                .source_env
                .clone()
                .or_else(|| inv.env(env).ok()?.promote_from().map(str::to_owned))
                .unwrap_or_else(|| "-".into());
            Notification::promote(app, &source, env, &done.to, actor)
        }
        Action::Rollback => Notification::rollback(app, env, &from, &done.to, actor),
    };
    // An automatic rollback says what failed (metric and value) before what was done.
    let detail = match &spec.analysis {
        Some(a) => format!("analysis failed: {a}\n{report}"),
        None => report.to_string(),
    };
    let mut card = card.with_detail(detail);
    if let Some(c) = changes {
        card = card.with_changes(super::changes::card(c));
    }
    let mut out = vec![match pass {
        Some(p) => card.with_gates(p.summary.clone()),
        None => card,
    }];
    if let Some(p) = pass.filter(|p| p.overridden) {
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

/// What a rollback would do, without doing it (`rollback --dry-run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackPlan {
    pub app: String,
    pub env: String,
    #[serde(flatten)]
    pub git: Preview,
    /// What would happen in the cluster.
    pub cluster: String,
}

impl std::fmt::Display for RollbackPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.git.from == self.git.to {
            write!(
                f,
                "git: {} {} stays at {} (nothing to write)",
                self.app, self.env, self.git.to
            )?;
        } else {
            write!(
                f,
                "git: {} {} {} → {} in {}",
                self.app, self.env, self.git.from, self.git.to, self.git.file
            )?;
        }
        write!(f, "\ncluster: {}", self.cluster)
    }
}

/// The plan of a rollback: the git target as the op would choose it, and whether a canary
/// would be aborted. Writes nothing.
pub async fn plan_rollback(ctx: &OpCtx, spec: &ChangeSpec) -> Result<RollbackPlan, OpError> {
    let inv = ctx.inventory()?.clone();
    inv.app(&spec.app)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    inv.env(&spec.env)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    let req = ChangeRequest::new(Action::Rollback, &spec.app, &spec.env, spec.tag.as_deref());
    let git = ctx
        .gitops()?
        .with(move |e| e.preview(&req, &TaskCtl::detached()))
        .await?;
    let r = RolloutRef::from_inventory(&inv, &spec.app, &spec.env)
        .map_err(|e| OpError::bad_input(e.to_string()))?;
    let cluster = match actions::abort_needed(&r).await {
        Ok(Some(why)) => format!("would abort {}/{}: {why}", r.namespace, r.rollout),
        Ok(None) => format!(
            "nothing to abort in {}/{} (no canary in flight)",
            r.namespace, r.rollout
        ),
        Err(e) => format!("cannot tell ({e})"),
    };
    Ok(RollbackPlan {
        app: spec.app.clone(),
        env: spec.env.clone(),
        git,
        cluster,
    })
}

/// The gates client when the inventory has a `github:` section that builds one.
pub async fn gates_service(inv: &Inventory) -> Option<crate::services::github::GatesService> {
    let cfg = inv.github.as_ref()?;
    let api = cfg.api_url.as_deref().unwrap_or("https://api.github.com");
    let token = crate::services::github::resolve_token(cfg.token_env.as_deref(), api).await;
    crate::services::github::GithubSettings::from_config(cfg, token)
        .and_then(crate::services::github::GatesService::new)
        .ok()
}
