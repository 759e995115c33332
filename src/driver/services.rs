//! The clients effects run with, built once from the inventory, and the feeds they mark.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::state::Feed;
use crate::app::{Action, State};
use crate::inventory::Inventory;
use crate::ops::OpCtx;
use crate::paths::Paths;

/// What the runner needs: the ops context (inventory, actor, read-only, notifier, gates, the
/// GitOps engine) and the gates client for reads.
pub struct Services {
    pub ops: OpCtx,
    pub gates: Option<crate::services::github::GatesService>,
    /// The SLO reads' Prometheus, when the inventory names one and its client could be built.
    pub slo: Option<crate::services::prometheus::SloService>,
    pub inventory: Arc<Inventory>,
}

impl Services {
    /// Builds every client the inventory configures and marks the state's feeds accordingly.
    pub async fn connect(
        inventory: &Inventory,
        paths: &Paths,
        read_only_flag: bool,
        state: &mut State,
        tx: &UnboundedSender<Action>,
    ) -> Services {
        let gates = match &inventory.github {
            None => {
                state.github = Feed::not_connected("no `github:` section in the inventory");
                None
            }
            Some(cfg) => {
                let api = cfg.api_url.as_deref().unwrap_or("https://api.github.com");
                let token =
                    crate::services::github::resolve_token(cfg.token_env.as_deref(), api).await;
                match crate::services::github::GithubSettings::from_config(cfg, token)
                    .and_then(crate::services::github::GatesService::new)
                {
                    Ok(svc) => {
                        state.github = Feed::Connecting;
                        Some(svc)
                    }
                    Err(e) => {
                        state.github = Feed::not_connected(e.to_string());
                        None
                    }
                }
            }
        };
        let slo = inventory.prometheus.as_ref().and_then(|_| {
            crate::services::prometheus::SloService::from_inventory(inventory, None)
                .map_err(|e| state.slo.unavailable = Some(e.to_string()))
                .ok()
        });
        state.news_seen = super::news_seen::load(paths);
        let notifier = start_notifier(inventory, state, tx);
        let inventory = Arc::new(inventory.clone());
        state.gitops = Feed::Connecting;
        let ops = OpCtx::new(inventory.clone(), paths.clone(), read_only_flag)
            .with_notifier(notifier)
            .with_gates(gates.clone());
        learn_kube_user(&ops, &inventory);
        Services {
            ops,
            gates,
            slo,
            inventory,
        }
    }
}

/// Asks the first environment's cluster who we are, in the background, so journal lines and
/// cards carry the Kubernetes username from the first action on.
fn learn_kube_user(ops: &OpCtx, inv: &Inventory) {
    let Some(env) = inv.environments.values().next() else {
        return;
    };
    let target =
        crate::services::kube::client::Target::from_inventory(inv, env.kube_context.as_deref());
    let ops = ops.clone();
    tokio::spawn(async move {
        if let Ok(client) = crate::services::kube::client::request_client(&target).await {
            ops.learn_kube_user(&client).await;
        }
    });
}

/// Starts the Feishu notifier; its outcomes reach the Activity log as `Action::Notified`.
fn start_notifier(
    inventory: &Inventory,
    state: &mut State,
    tx: &UnboundedSender<Action>,
) -> Option<Arc<crate::services::feishu::Notifier>> {
    let (started, problems) =
        crate::services::feishu::notifier_for(inventory.feishu.as_ref()?, inventory.base_dir());
    if let Some(p) = problems.first() {
        state.status = Some(format!("feishu: {p}"));
    }
    let (notifier, mut orx) = started?;
    let tx = tx.clone();
    tokio::spawn(async move {
        while let Some(o) = orx.recv().await {
            let Some((line, failed)) = o.activity_line() else {
                continue;
            };
            if tx.send(Action::Notified { line, failed }).is_err() {
                break;
            }
        }
    });
    Some(Arc::new(notifier))
}
