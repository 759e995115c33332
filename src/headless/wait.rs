//! `shipdeck rollout wait APP --env E --until healthy|paused|degraded|promoted`: the rollout's
//! watch until it reaches the state (exit 0), ends in another terminal state (exit 1), or the
//! `--timeout` (default 10 minutes) passes (exit 124, as `timeout(1)`). No polling: each
//! snapshot of the watch is judged as it comes.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::sync::mpsc::unbounded_channel;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::rollout::{Target, WaitFor};
use crate::services::kube::client::Target as KubeTarget;
use crate::services::kube::watch::{EnvSpec, run_env};
use crate::services::kube::{LiveEvent, RolloutInfo};

/// How long `wait` waits without `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Where a rollout stands for a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reached,
    /// It ended (Healthy or Degraded) somewhere else: waiting longer cannot help.
    Ended,
    Waiting,
}

/// Judges one snapshot. Healthy and Degraded are terminal: a rollout leaves them only when
/// its spec changes. Paused is not (a timed pause ends by itself).
pub fn judge(ro: &RolloutInfo, until: WaitFor) -> Verdict {
    let status = ro.status.as_str();
    let reached = match until {
        WaitFor::Healthy => status == "Healthy",
        WaitFor::Paused => status == "Paused",
        WaitFor::Degraded => status == "Degraded",
        // Progressing covers "spec not observed yet": a promotion of an old spec is no answer.
        WaitFor::Promoted => ro.fully_promoted && status != "Progressing" && !ro.aborted,
    };
    if reached {
        Verdict::Reached
    } else if matches!(status, "Healthy" | "Degraded") {
        Verdict::Ended
    } else {
        Verdict::Waiting
    }
}

fn word(until: WaitFor) -> &'static str {
    match until {
        WaitFor::Healthy => "healthy",
        WaitFor::Paused => "paused",
        WaitFor::Degraded => "degraded",
        WaitFor::Promoted => "promoted",
    }
}

pub async fn wait(ctx: &Ctx, t: &Target, until: WaitFor) -> Outcome {
    let inv = ctx.inventory()?;
    let app = inv.app(&t.app)?;
    let env = inv.env(&t.env)?;
    let spec = EnvSpec::single(
        t.env.clone(),
        KubeTarget::from_inventory(&inv, env.kube_context.as_deref()),
        inv.namespace_of(&t.app, &t.env),
        vec![(t.app.clone(), app.rollout_name(&t.app).to_owned())],
    );
    let limit = ctx.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let deadline = tokio::time::Instant::now() + limit;
    let (tx, mut rx) = unbounded_channel();
    let task = tokio::spawn(run_env(spec, tx));
    let mut last: Option<RolloutInfo> = None;
    let mut stale: Option<String> = None;
    let outcome = loop {
        let ev = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => break Err(Failure::new(Exit::Remote, "the watch stopped")),
            Err(_) => {
                let now = last.as_ref().map_or_else(
                    || match &stale {
                        Some(e) => format!("no answer from the cluster ({e})"),
                        None => "no Rollout seen".to_owned(),
                    },
                    |r| format!("it is {}", status_line(r)),
                );
                break Err(Failure::new(
                    Exit::Timeout,
                    format!(
                        "{} {}: not {} within {} s; {now}",
                        t.app,
                        t.env,
                        word(until),
                        limit.as_secs()
                    ),
                ));
            }
        };
        match ev {
            LiveEvent::Connection {
                conn: crate::services::kube::Conn::Stale { error, .. },
                ..
            } => stale = Some(error),
            LiveEvent::Denied { denied, .. } => {
                if let Some(d) = denied.iter().find(|d| d.resource == "rollouts.argoproj.io") {
                    break Err(Failure::new(Exit::Refused, d.to_string()));
                }
            }
            LiveEvent::Rollouts { rollouts, .. } => {
                let Some(ro) = rollouts.get(&t.app).cloned().flatten() else {
                    continue;
                };
                match judge(&ro, until) {
                    Verdict::Reached => {
                        let doc = super::rollout::doc(&t.app, &t.env, &ro);
                        ctx.emit(&doc, |_| {
                            format!("{} {}: {}", t.app, t.env, status_line(&ro))
                        });
                        break Ok(());
                    }
                    Verdict::Ended => {
                        break Err(Failure::new(
                            Exit::Failed,
                            format!(
                                "{} {}: ended {} while waiting for {}",
                                t.app,
                                t.env,
                                status_line(&ro),
                                word(until)
                            ),
                        ));
                    }
                    Verdict::Waiting => last = Some(ro),
                }
            }
            _ => {}
        }
    };
    task.abort();
    outcome
}

/// `Degraded (RolloutAborted: …)`, `Paused (step 1/8)`.
fn status_line(ro: &RolloutInfo) -> String {
    let mut s = ro.status.clone();
    if !ro.message.is_empty() {
        let _ = write!(s, ": {}", ro.message);
    }
    if !ro.step.is_empty() {
        let _ = write!(s, " (step {})", ro.step);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ro(status: &str, promoted: bool) -> RolloutInfo {
        RolloutInfo {
            status: status.into(),
            fully_promoted: promoted,
            ..RolloutInfo::default()
        }
    }

    #[test]
    fn terminal_states_end_a_wait_for_something_else_and_paused_does_not() {
        assert_eq!(
            judge(&ro("Healthy", true), WaitFor::Healthy),
            Verdict::Reached
        );
        assert_eq!(
            judge(&ro("Degraded", false), WaitFor::Healthy),
            Verdict::Ended
        );
        assert_eq!(
            judge(&ro("Healthy", true), WaitFor::Degraded),
            Verdict::Ended
        );
        assert_eq!(
            judge(&ro("Paused", false), WaitFor::Healthy),
            Verdict::Waiting
        );
        assert_eq!(
            judge(&ro("Progressing", true), WaitFor::Promoted),
            Verdict::Waiting
        );
        assert_eq!(
            judge(&ro("Healthy", true), WaitFor::Promoted),
            Verdict::Reached
        );
        assert_eq!(
            judge(&ro("Paused", false), WaitFor::Paused),
            Verdict::Reached
        );
    }
}
