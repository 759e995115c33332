//! The promotion guard: a commit enters an environment only when its required gates passed,
//! or with a typed reason where the inventory allows an override.

use serde::Serialize;

use super::gates::{GateReport, GateState, one_line};
use crate::inventory::Environment;

/// A gate that keeps the commit out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailingGate {
    pub name: String,
    pub state: GateState,
}

/// The guard let the commit through.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardPass {
    pub sha: String,
    /// True when the gates were not all passed and a reason overrode them.
    pub overridden: bool,
    /// The typed reason (only when overridden).
    pub reason: Option<String>,
    /// What was overridden (empty when the gates passed).
    pub overridden_gates: Vec<FailingGate>,
    /// The gates' summary ("5/7 passed, 1 running, 1 missing").
    pub summary: String,
    /// The `Shipdeck-Gates` trailer value; it names the override and its reason.
    pub trailer: String,
}

/// The guard refused the commit.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct GuardRefusal {
    pub sha: String,
    pub failing: Vec<FailingGate>,
    /// Whether this environment accepts an override with a reason.
    pub override_allowed: bool,
    /// The sentence to show: which gates, and what the user can do.
    pub message: String,
}

/// Decides whether the commit of `report` may enter `env`.
///
/// Refused with the failing gates unless the env has `allow_gate_override` and a non-blank
/// reason is given. A reason given while the gates all passed is ignored (no override).
pub fn guard(
    env: &Environment,
    report: &GateReport,
    override_reason: Option<&str>,
) -> Result<GuardPass, GuardRefusal> {
    let failing: Vec<FailingGate> = if env.required_checks.is_empty() {
        Vec::new()
    } else {
        report
            .failing()
            .map(|g| FailingGate {
                name: g.name.clone(),
                state: g.state,
            })
            .collect()
    };
    if failing.is_empty() {
        return Ok(GuardPass {
            sha: report.sha.clone(),
            overridden: false,
            reason: None,
            overridden_gates: Vec::new(),
            summary: report.summary.clone(),
            trailer: report.trailer(),
        });
    }
    let list = failing
        .iter()
        .map(|g| format!("{} {}", g.name, g.state.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let reason = override_reason.map(one_line).filter(|r| !r.is_empty());
    match (env.allow_gate_override, reason) {
        (true, Some(reason)) => Ok(GuardPass {
            sha: report.sha.clone(),
            overridden: true,
            trailer: format!("overridden ({reason}): {}", report.trailer()),
            reason: Some(reason),
            overridden_gates: failing,
            summary: report.summary.clone(),
        }),
        (true, None) => Err(GuardRefusal {
            message: format!(
                "gates of {} not passed: {list}; this environment allows an override with a reason",
                report.short_sha()
            ),
            sha: report.sha.clone(),
            failing,
            override_allowed: true,
        }),
        (false, _) => Err(GuardRefusal {
            message: format!(
                "gates of {} not passed: {list}; this environment does not allow overriding gates",
                report.short_sha()
            ),
            sha: report.sha.clone(),
            failing,
            override_allowed: false,
        }),
    }
}
