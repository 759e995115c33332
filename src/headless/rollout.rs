//! `shipdeck rollout get|promote|promote-full|abort|retry|pause|restart APP --env E`.

use std::io::IsTerminal as _;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc::unbounded_channel;

use super::{Ctx, Exit, Failure, OpSession, Outcome};
use crate::cli::rollout::{RolloutArgs, RolloutCommand, Target};
use crate::inventory::Inventory;
use crate::services::kube::actions::{RolloutAction, RolloutRef};
use crate::services::kube::client::Target as KubeTarget;
use crate::services::kube::watch::{EnvSpec, run_env};
use crate::services::kube::{Conn, KubeError, LiveEvent, RolloutInfo, print};

/// How long `get` waits for the first complete list before giving up.
const FIRST_LIST: Duration = Duration::from_secs(20);

pub async fn run(ctx: &Ctx, args: RolloutArgs) -> Outcome {
    let inv = ctx.inventory()?;
    match args.command {
        RolloutCommand::Get { target, watch } => get(ctx, &inv, &target, watch).await,
        RolloutCommand::Promote(t) => act(ctx, &inv, &t, RolloutAction::Promote).await,
        RolloutCommand::PromoteFull(t) => act(ctx, &inv, &t, RolloutAction::PromoteFull).await,
        RolloutCommand::Abort(t) => act(ctx, &inv, &t, RolloutAction::Abort).await,
        RolloutCommand::Retry(t) => act(ctx, &inv, &t, RolloutAction::Retry).await,
        RolloutCommand::Pause(t) => act(ctx, &inv, &t, RolloutAction::Pause).await,
        RolloutCommand::Restart(t) => act(ctx, &inv, &t, RolloutAction::Restart).await,
        RolloutCommand::Wait { target, until } => super::wait::wait(ctx, &target, until).await,
    }
}

/// The `--output json` document of `rollout get`.
#[derive(Debug, Serialize)]
pub struct RolloutDoc {
    pub app: String,
    pub env: String,
    pub name: String,
    pub namespace: String,
    pub status: String,
    pub message: String,
    pub strategy: String,
    pub step: Option<i32>,
    pub steps: usize,
    pub set_weight: Option<i32>,
    pub actual_weight: Option<i32>,
    pub fully_promoted: bool,
    pub aborted: bool,
    pub stable: Option<RsDoc>,
    pub canary: Option<RsDoc>,
    pub analysis: Vec<AnalysisDoc>,
    pub images: Vec<crate::services::kube::info::ImageInfo>,
    pub replicas: crate::services::kube::info::Replicas,
}

#[derive(Debug, Serialize)]
pub struct RsDoc {
    pub name: String,
    pub revision: i64,
    pub images: Vec<String>,
    pub pods: usize,
    pub ready: usize,
}

#[derive(Debug, Serialize)]
pub struct AnalysisDoc {
    pub name: String,
    pub phase: String,
    pub metrics: Vec<MetricDoc>,
}

#[derive(Debug, Serialize)]
pub struct MetricDoc {
    pub name: String,
    pub phase: String,
    pub last_value: Option<String>,
}

fn rs_doc(rs: &crate::services::kube::info::ReplicaSetInfo) -> RsDoc {
    RsDoc {
        name: rs.name.clone(),
        revision: rs.revision,
        images: rs.images.clone(),
        pods: rs.pods.len(),
        ready: rs
            .pods
            .iter()
            .filter(|p| {
                p.ready
                    .split('/')
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| w[0] == w[1] && w[0] != "0")
            })
            .count(),
    }
}

/// The JSON document for one rollout.
pub fn doc(app: &str, env: &str, r: &RolloutInfo) -> RolloutDoc {
    RolloutDoc {
        app: app.to_owned(),
        env: env.to_owned(),
        name: r.name.clone(),
        namespace: r.namespace.clone(),
        status: r.status.clone(),
        message: r.message.clone(),
        strategy: r.strategy.clone(),
        step: r.step_index,
        steps: r.steps.len(),
        set_weight: r.set_weight,
        actual_weight: r.actual_weight,
        fully_promoted: r.fully_promoted,
        aborted: r.aborted,
        stable: r.stable_rs().map(rs_doc),
        canary: r.canary_rs().filter(|c| !c.stable).map(rs_doc),
        analysis: r
            .current_analysis_runs()
            .map(|a| AnalysisDoc {
                name: a.name.clone(),
                phase: a.status.clone(),
                metrics: a
                    .metrics
                    .iter()
                    .map(|m| MetricDoc {
                        name: m.name.clone(),
                        phase: m.phase.clone(),
                        last_value: m.last_value.clone(),
                    })
                    .collect(),
            })
            .collect(),
        images: r.images.clone(),
        replicas: r.replicas,
    }
}

fn kube_failure(e: &KubeError) -> Failure {
    Failure::from(crate::ops::rollout::kube_error(e))
}

async fn get(ctx: &Ctx, inv: &Inventory, t: &Target, watch: bool) -> Outcome {
    let app = inv.app(&t.app)?;
    let env = inv.env(&t.env)?;
    let spec = EnvSpec::single(
        t.env.clone(),
        KubeTarget::from_inventory(inv, env.kube_context.as_deref()),
        inv.namespace_of(&t.app, &t.env),
        vec![(t.app.clone(), app.rollout_name(&t.app).to_owned())],
    );
    let (tx, mut rx) = unbounded_channel();
    let task = tokio::spawn(run_env(spec, tx));
    let mut last_error = String::from("no answer from the API server");
    let mut deadline = Some(tokio::time::Instant::now() + FIRST_LIST);
    let outcome = loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, rx.recv()).await {
                Ok(v) => v,
                Err(_) => {
                    break Err(Failure::new(
                        Exit::Remote,
                        format!("cluster for `{}` unreachable: {last_error}", t.env),
                    ));
                }
            },
            None => rx.recv().await,
        };
        let Some(ev) = next else {
            break Err(Failure::new(Exit::Remote, "the watch stopped"));
        };
        match ev {
            LiveEvent::Connection {
                conn: Conn::Stale { error, since },
                ..
            } => {
                last_error = error;
                if watch && deadline.is_none() {
                    eprintln!("shipdeck: stale since {since}: {last_error}");
                }
            }
            LiveEvent::Denied { denied, .. } => {
                if let Some(d) = denied.iter().find(|d| d.resource == "rollouts.argoproj.io") {
                    break Err(Failure::new(Exit::Refused, d.to_string()));
                }
                // The rest of the tree still answers; say what it leaves out.
                for d in &denied {
                    eprintln!("shipdeck: {d} (left out of the tree)");
                }
            }
            LiveEvent::Rollouts { rollouts, .. } => {
                deadline = None;
                let Some(info) = rollouts.get(&t.app).cloned().flatten() else {
                    if watch {
                        eprintln!(
                            "shipdeck: no Rollout `{}` in {} (yet)",
                            app.rollout_name(&t.app),
                            inv.namespace_of(&t.app, &t.env)
                        );
                        continue;
                    }
                    break Err(Failure::new(
                        Exit::Remote,
                        format!(
                            "no Rollout `{}` in namespace {}",
                            app.rollout_name(&t.app),
                            inv.namespace_of(&t.app, &t.env)
                        ),
                    ));
                };
                let d = doc(&t.app, &t.env, &info);
                if !watch {
                    ctx.emit(&d, |_| print::get_rollout(&info, jiff::Timestamp::now()));
                    break Ok(());
                }
                if !ctx.json() && std::io::stdout().is_terminal() {
                    // The plugin clears the screen on each redraw; so do we, on a terminal only.
                    print!("\x1b[H\x1b[2J");
                }
                // One record per change; a reader that went away (`| head`) ends the watch.
                if !ctx.emit_record(&d, |_| print::get_rollout(&info, jiff::Timestamp::now())) {
                    break Ok(());
                }
            }
            _ => {}
        }
    };
    task.abort();
    outcome
}

async fn act(ctx: &Ctx, inv: &Inventory, t: &Target, action: RolloutAction) -> Outcome {
    let env = inv.env(&t.env)?.clone();
    inv.app(&t.app)?;
    let r = RolloutRef::from_inventory(inv, &t.app, &t.env).map_err(|e| kube_failure(&e))?;
    let session = OpSession::open(ctx, inv.clone(), false).await;
    let name = format!("rollout-{}", action.name());
    let question = format!(
        "{} rollout {}/{} ({} in {})?",
        action.name(),
        r.namespace,
        r.rollout,
        t.app,
        t.env
    );
    let typed = env.protected.then_some(t.env.as_str());
    let result = async {
        session
            .may_write(ctx, &name, (&t.app, &t.env), &question, typed)
            .await?;
        let task = crate::services::TaskCtl::detached();
        crate::ops::rollout::act(&session.ops, &t.app, &t.env, action, &task)
            .await
            .map_err(Failure::from)
    }
    .await;
    session.close().await;
    let report = result?;
    ctx.emit(&report, |r| format!("{r}\n{}", r.requests()));
    Ok(())
}
