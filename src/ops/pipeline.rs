//! The seed's other checkpoints as part of the promotion guard: a tag enters an env named by
//! `artifacts.required_in` only with its artifacts on the store, and one named by
//! `migrations.required_for` only once its migration Job succeeded in `must_pass_in`. A
//! checkpoint that cannot be read has not passed (as a gate GitHub cannot say). Overrides
//! follow the gates' rule: `allow_gate_override` and a typed reason.

use serde::Serialize;

use super::{Fault, OpError};
use crate::services::github::GuardPass;

use crate::inventory::Inventory;
use crate::services::kube::migrations::{self, MigrationState};

/// Log lines of a failed migration shown in the refusal.
const LOG_LINES: i64 = 5;

/// What the checkpoints said about one tag going into one env.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineVerdict {
    /// Checkpoints this env requires that passed, one phrase each.
    pub passed: Vec<String>,
    /// Checkpoints that keep the tag out, one sentence each.
    pub failing: Vec<String>,
}

impl PipelineVerdict {
    /// Whether the env requires any checkpoint of `app`.
    pub fn applies(inv: &Inventory, app: &str, env: &str) -> bool {
        let artifacts = inv
            .artifacts
            .as_ref()
            .is_some_and(|a| a.required_in.iter().any(|e| e == env));
        let migrations = inv
            .migrations
            .as_ref()
            .is_some_and(|m| m.covers(app) && m.required_for.iter().any(|e| e == env));
        artifacts || migrations
    }

    /// `artifacts 3 objects, 75.9 MiB; migration ✔ 38s in stg`.
    pub fn summary(&self) -> String {
        self.passed.join("; ")
    }
}

/// Checks what `env` requires of `tag` of `app` (both reads run side by side).
pub async fn check(inv: &Inventory, app: &str, env: &str, tag: &str) -> PipelineVerdict {
    let artifacts = async {
        let cfg = inv.artifacts.as_ref()?;
        if !cfg.required_in.iter().any(|e| e == env) {
            return None;
        }
        Some(
            match crate::services::s3::artifacts(inv, app, env, tag).await {
                Ok(Some(s)) if !s.missing() => Ok(format!("artifacts {}", s.line())),
                Ok(Some(s)) => Err(format!(
                    "artifacts of {tag} missing: nothing under {}",
                    s.location()
                )),
                Ok(None) => return None,
                Err(e) => Err(format!("artifacts of {tag} cannot be checked: {e}")),
            },
        )
    };
    let migration = async {
        let cfg = inv.migrations.as_ref()?;
        if !(cfg.covers(app) && cfg.required_for.iter().any(|e| e == env)) {
            return None;
        }
        let src = cfg.must_pass_in();
        Some(migration(inv, app, src, tag).await)
    };
    let (a, m) = futures::future::join(artifacts, migration).await;
    let mut v = PipelineVerdict::default();
    for r in [a, m].into_iter().flatten() {
        match r {
            Ok(p) => v.passed.push(p),
            Err(f) => v.failing.push(f),
        }
    }
    v
}

async fn migration(inv: &Inventory, app: &str, src: &str, tag: &str) -> Result<String, String> {
    let jobs = migrations::list(inv, src, app)
        .await
        .map_err(|e| format!("the migration of {app} {tag} in {src} cannot be checked: {e}"))?;
    let Some(job) = migrations::for_tag(&jobs, app, tag) else {
        return Err(format!(
            "no migration Job of {app} {tag} in {src}: release it to {src} first"
        ));
    };
    match job.state {
        MigrationState::Succeeded => Ok(format!("{} in {src}", job.line())),
        MigrationState::Running => Err(format!(
            "the migration of {app} {tag} is still running in {src} (job {})",
            job.name
        )),
        MigrationState::Failed => {
            let logs = match migrations::last_lines(inv, src, job, LOG_LINES).await {
                Ok(lines) => lines.join(" | "),
                Err(e) => format!("its log cannot be read: {e}"),
            };
            Err(format!(
                "the migration of {app} {tag} failed in {src} (job {}, {}); last log lines: {logs}",
                job.name,
                job.reason.as_deref().unwrap_or("failed")
            ))
        }
    }
}

/// Checks the checkpoints `req.env` requires of `tag` and judges them with the gates' pass.
pub(super) async fn guard(
    inv: &Inventory,
    req: &crate::services::gitops::ChangeRequest,
    env: &crate::inventory::Environment,
    tag: &str,
    gates: Option<GuardPass>,
    override_reason: Option<&str>,
) -> Result<GuardPass, OpError> {
    let verdict = check(inv, &req.app, &req.env, tag).await;
    pass(env, tag, gates, &verdict, override_reason)
}

/// The gates' pass (if the env requires CI checks) with the pipeline's checkpoints added, or
/// the refusal naming what keeps the tag out; overridden by the gates' rule.
pub(super) fn pass(
    env: &crate::inventory::Environment,
    tag: &str,
    gates: Option<GuardPass>,
    verdict: &PipelineVerdict,
    override_reason: Option<&str>,
) -> Result<GuardPass, OpError> {
    let mut pass = gates.unwrap_or_else(|| GuardPass {
        sha: tag.to_owned(),
        overridden: false,
        reason: None,
        overridden_gates: Vec::new(),
        summary: String::new(),
        trailer: String::new(),
    });
    let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}; {b}"),
    };
    let passed = verdict.summary();
    pass.summary = join(&pass.summary, &passed);
    if verdict.failing.is_empty() {
        pass.trailer = join(&pass.trailer, &passed);
        return Ok(pass);
    }
    let list = verdict.failing.join("; ");
    let reason = override_reason
        .map(crate::services::github::one_line)
        .filter(|r| !r.is_empty());
    match (env.allow_gate_override, reason) {
        (true, Some(reason)) => {
            pass.trailer = format!(
                "overridden ({reason}): {}",
                join(&join(&pass.trailer, &passed), &list)
            );
            pass.overridden = true;
            pass.reason = Some(reason);
            Ok(pass)
        }
        (allowed, _) => Err(OpError {
            fault: Fault::Refused,
            message: crate::redact::text(&format!(
                "{list}; this environment {} overriding gates",
                if allowed {
                    "allows an override with a reason, as for"
                } else {
                    "does not allow"
                }
            )),
            overridable: allowed,
        }),
    }
}
