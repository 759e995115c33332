//! The canary's keys: Argo CD's rules on the live Rollout, RBAC as the cluster answered, then
//! a confirmation and the op.

use super::super::action::{Command, Effect};
use super::super::state::{Confirmed, Overlay, Panel, State};
use crate::services::kube::actions::{RolloutAction, allowed};

/// The rollout action a key means here: `p` is the canary's promote only in the Rollout panel.
fn action_for(state: &State, cmd: Command) -> Option<RolloutAction> {
    match cmd {
        Command::Promote if state.focus == Panel::Rollout => Some(RolloutAction::Promote),
        Command::PromoteFull => Some(RolloutAction::PromoteFull),
        Command::Abort => Some(RolloutAction::Abort),
        Command::Retry => Some(RolloutAction::Retry),
        Command::Pause => Some(RolloutAction::Pause),
        Command::Restart => Some(RolloutAction::Restart),
        _ => None,
    }
}

/// Why a rollout key would be refused now (Argo CD's rules, RBAC, no live data).
pub(super) fn blocked(state: &State, cmd: Command) -> Option<String> {
    let action = action_for(state, cmd)?;
    let app = state.selected_app()?;
    let env = state.selected_env()?;
    allowed(&state.live, app, &env.name, action).err()
}

/// Asks before sending the plugin's patches.
pub(super) fn ask(state: &mut State, cmd: Command) {
    let Some(action) = action_for(state, cmd) else {
        return;
    };
    let Some((app, env)) = state.selection() else {
        return;
    };
    if let Err(why) = allowed(&state.live, &app, &env.name, action) {
        state.status = Some(why);
        return;
    }
    let status = state
        .live
        .rollout(&app, &env.name)
        .map(|r| format!("now: {} {}", r.status, r.message))
        .unwrap_or_default();
    state.overlay = Some(Overlay::Confirm {
        title: format!("{} {app} in {}", action.name(), env.name),
        lines: vec![
            format!(
                "kubectl argo rollouts {} {app} -n {}",
                action.name(),
                state.namespace_of(&app, &env.name)
            ),
            status,
        ],
        typed: env.protected.then(|| env.name.clone()),
        input: String::new(),
        then: Confirmed::Rollout {
            app,
            env: env.name,
            action,
        },
    });
}

/// Confirmed: run it. An abort ends any release in flight there: its card is the abort's, so
/// the chats do not also hear "Release failed" when the rollout turns Degraded.
pub(super) fn start(
    state: &mut State,
    app: String,
    env: String,
    action: RolloutAction,
    effects: &mut Vec<Effect>,
) {
    if action == RolloutAction::Abort {
        state.in_flight.remove(&(app.clone(), env.clone()));
    }
    let task = state
        .tasks
        .start(format!("{} {app} {env}", action.name()), state.clock.now_ms);
    effects.push(Effect::RolloutAction {
        task,
        app,
        env,
        action,
    });
}
