//! `shipdeck logs APP --env E --canary|--stable [--follow]`: the side's pod logs, each line
//! prefixed with its pod; following, pods that replace the ones read are picked up.

use serde::Serialize;
use tokio::sync::mpsc;

use super::{Ctx, Exit, Failure, Outcome};
use crate::cli::logs::LogsArgs;
use crate::services::kube::actions::RolloutRef;
use crate::services::kube::logs::{LogOpts, Role, read_pod, side};

#[derive(Debug, Serialize)]
struct LogRecord<'a> {
    role: Role,
    pod: &'a str,
    line: &'a str,
}

pub async fn run(ctx: &Ctx, args: LogsArgs) -> Outcome {
    let inv = ctx.inventory()?;
    inv.env(&args.env)?;
    inv.app(&args.app)?;
    let role = if args.stable {
        Role::Stable
    } else {
        Role::Canary
    };
    let r = RolloutRef::from_inventory(&inv, &args.app, &args.env).map_err(|e| failure(&e))?;
    let client = crate::services::kube::client::request_client(&r.target)
        .await
        .map_err(|e| failure(&e))?;
    let opts = LogOpts {
        follow: args.follow,
        tail: args.tail,
        container: args.container.clone(),
    };
    let mut read: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    loop {
        let s = side(&client, &r, role).await.map_err(|e| failure(&e))?;
        let fresh: Vec<(String, Vec<String>)> = s
            .pods
            .into_iter()
            .filter(|(p, _)| !read.contains(p))
            .collect();
        if fresh.is_empty() {
            if read.is_empty() {
                return Err(Failure::new(
                    Exit::Failed,
                    format!(
                        "no {} pods of rollout {}/{} (hash {})",
                        role.name(),
                        r.namespace,
                        r.rollout,
                        s.hash
                    ),
                ));
            }
            if !args.follow {
                return Ok(());
            }
            // Every pod we read has gone and no new one is there yet.
            return Err(Failure::new(
                Exit::Failed,
                format!("the {} pods went away and none replaced them", role.name()),
            ));
        }
        if let Some((pod, containers)) = fresh
            .iter()
            .find(|(_, c)| c.len() > 1 && opts.container.is_none())
        {
            return Err(Failure::bad_input(format!(
                "pod {pod} has several containers: pass --container (one of {})",
                containers.join(", ")
            )));
        }
        // One reader a pod; their lines meet in one channel so they print whole.
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let mut readers = Vec::new();
        for (pod, _) in &fresh {
            read.insert(pod.clone());
            let (client, ns, pod, opts, tx) = (
                client.clone(),
                r.namespace.clone(),
                pod.clone(),
                opts.clone(),
                tx.clone(),
            );
            readers.push(tokio::spawn(async move {
                read_pod(&client, &ns, &pod, &opts, |l| tx.send(l).is_ok()).await
            }));
        }
        drop(tx);
        while let Some(line) = rx.recv().await {
            let (pod, text) = line.split_once(": ").unwrap_or(("", line.as_str()));
            let rec = LogRecord {
                role,
                pod,
                line: text,
            };
            if !ctx.emit_record(&rec, |_| line.clone()) {
                return Ok(());
            }
        }
        for h in readers {
            if let Ok(Err(e)) = h.await {
                return Err(failure(&e));
            }
        }
        if !args.follow {
            return Ok(());
        }
    }
}

fn failure(e: &crate::services::kube::KubeError) -> Failure {
    Failure::from(crate::ops::rollout::kube_error(e))
}
