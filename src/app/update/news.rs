//! The cluster's own news (a canary aborted by analysis, Degraded, a failed run, crash-looping
//! canary pods, a failed sync): each fact once in Activity and once to the chats, keyed so a
//! reconnect's re-list or a restart of the cockpit does not tell it again.

use super::super::action::Effect;
use super::super::state::State;
use crate::services::feishu::Notification;
use crate::services::kube::LiveEvent;
use crate::services::kube::news::{ClusterNews, argo_news, rollout_news};

/// Finds what is new in a snapshot, logs it, tells the chats (unless it was already so when
/// the watch first answered), and asks the driver to remember the keys.
pub(super) fn track(state: &mut State, event: &LiveEvent, effects: &mut Vec<Effect>) {
    let (feed, news): (String, Vec<ClusterNews>) = match event {
        LiveEvent::Rollouts { env, rollouts } => (
            format!("cluster/{env}"),
            rollouts
                .iter()
                .filter_map(|(app, ro)| Some(rollout_news(app, env, ro.as_ref()?)))
                .flatten()
                .collect(),
        ),
        LiveEvent::ArgoCd { env, apps } => (
            format!("argocd/{env}"),
            apps.iter()
                .filter_map(|(app, a)| Some(argo_news(app, env, a.as_ref()?)))
                .flatten()
                .collect(),
        ),
        _ => return,
    };
    let first = state.news_primed.insert(feed);
    let mut told = Vec::new();
    for n in news {
        if !state.news_seen.insert(n.key.clone()) {
            continue;
        }
        let line = if first {
            format!("{} (so when the cockpit started)", n.line())
        } else {
            n.line()
        };
        super::log(state, line, true);
        if !first {
            effects.push(Effect::Notify(Notification::cluster(
                n.kind,
                &n.app,
                &n.env,
                n.tag.as_deref(),
                &n.what,
            )));
        }
        told.push(n.key);
    }
    if !told.is_empty() {
        effects.push(Effect::RememberNews(told));
    }
}
