//! The demo's simulated CI: every minute (at speed 1) a new build of each app appears in the
//! sandbox GitHub with its checks running, and environments with `auto_release` get it once the
//! build check has had time to pass, pushed to the GitOps remote by a bot as real CI would.
//! Every fifth build is bad (its tag contains `bad`): the sandbox canary's analysis fails it.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::inventory::Inventory;
use crate::paths::Paths;
use crate::sandbox::github::{GithubSandbox, Scenario};
use crate::services::TaskCtl;
use crate::services::gitops::{Action, ChangeRequest, GitopsEngine};

/// Real seconds between builds at speed 1.
const EVERY: Duration = Duration::from_secs(60);
/// How long after a build appears it is released (its build check has passed by then).
const RELEASE_AFTER: Duration = Duration::from_secs(20);

fn scaled(d: Duration, speed: f64) -> Duration {
    if speed > 0.0 {
        d.div_f64(speed)
    } else {
        Duration::MAX
    }
}

/// A new build's tag: 7 hex digits, like a short commit SHA; `bad` ones start with "bad".
fn next_tag(n: u64) -> String {
    let mut rng = rand::thread_rng();
    let hex: String = (0..7)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect();
    if n % 5 == 4 {
        format!("bad{}", &hex[..4])
    } else {
        hex
    }
}

/// Runs until the returned task is aborted.
pub fn start(
    github: Arc<GithubSandbox>,
    inventory: Inventory,
    paths: Paths,
    speed: f64,
    spread: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if speed <= 0.0 {
            // A frozen world builds nothing.
            return std::future::pending().await;
        }
        let targets: Vec<(String, String)> = inventory
            .apps
            .keys()
            .flat_map(|app| {
                inventory
                    .environments
                    .iter()
                    .filter(|(_, e)| e.auto_release)
                    .map(move |(env, _)| (app.clone(), env.clone()))
            })
            .collect();
        // A fleet builds one app at a time, a build a minute per ten apps; the demo builds
        // every app at once.
        let every = if spread {
            let per_minute = u32::try_from((targets.len() / 10).max(1)).unwrap_or(u32::MAX);
            EVERY / per_minute
        } else {
            EVERY
        };
        let inv = Arc::new(inventory);
        let mut n = 0_u64;
        loop {
            tokio::time::sleep(scaled(every, speed)).await;
            let tag = next_tag(n);
            let batch: Vec<(String, String)> = if spread {
                let i = usize::try_from(n).unwrap_or(0) % targets.len().max(1);
                targets.get(i).cloned().into_iter().collect()
            } else {
                targets.clone()
            };
            n += 1;
            github.add_commit(&tag, Scenario::pipeline());
            let (inv, paths, targets, tag) = (inv.clone(), paths.clone(), batch, tag.clone());
            let release_after = scaled(RELEASE_AFTER, speed);
            // Released later, while the next builds go on (a fleet's builds overlap).
            tokio::spawn(async move {
                tokio::time::sleep(release_after).await;
                let released = tokio::task::spawn_blocking(move || {
                    let engine = GitopsEngine::open(&inv, &paths)?;
                    for (app, env) in &targets {
                        let mut req = ChangeRequest::new(Action::Release, app, env, Some(&tag));
                        "ci-bot".clone_into(&mut req.actor);
                        req.reason = Some("auto-release of a new build".to_owned());
                        engine.apply(&req, &TaskCtl::detached())?;
                    }
                    Ok::<_, crate::services::gitops::GitopsError>(())
                })
                .await;
                if let Ok(Err(e)) = released {
                    tracing::warn!(error = %e, "demo CI could not auto-release");
                }
            });
        }
    })
}
