//! The Argo CD keys (F5 refresh, S sync, T terminate) on the selected env's Application, and
//! what decides whether a rollback sticks: auto-sync on or off, and the sync windows now.

use super::super::action::{Command, Effect};
use super::super::state::{Confirmed, Overlay, State};
use crate::ops::argocd::ArgoAction;
use crate::services::kube::ArgoApp;
use crate::services::kube::argocd::{SyncSpec, until_text};
use crate::services::kube::syncwindow::Verdict;

pub fn now(state: &State) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(i64::try_from(state.clock.now_ms).unwrap_or(0))
        .unwrap_or_default()
}

/// The selected env's Application as the watch last saw it.
fn argo_app<'s>(state: &'s State, app: &str, env: &str) -> Option<&'s ArgoApp> {
    state.live.argo_app(app, env)
}

fn running(a: &ArgoApp) -> bool {
    a.operation_requested || a.operation.as_deref() == Some("Running")
}

/// Why an Argo CD key would be refused now.
pub(super) fn blocked(state: &State, cmd: Command) -> Option<String> {
    if !matches!(
        cmd,
        Command::Refresh | Command::Sync | Command::TerminateSync
    ) {
        return None;
    }
    let (app, env) = (state.selected_app()?, state.selected_env()?);
    let Some(a) = argo_app(state, app, &env.name) else {
        return Some(format!(
            "{}: no Argo CD Application of {app} seen in `{}` (not watched, or not there)",
            cmd.name(),
            env.name
        ));
    };
    match cmd {
        Command::Sync if running(a) => Some(format!(
            "sync: another operation is already in progress on {} (T terminates it)",
            a.name
        )),
        Command::TerminateSync if !running(a) => Some(format!(
            "terminate-sync: no operation is running on {}",
            a.name
        )),
        _ => None,
    }
}

/// F5 starts a refresh at once (it changes nothing deployed); S and T ask first.
pub(super) fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    if let Some(why) = blocked(state, cmd) {
        state.status = Some(why);
        return;
    }
    let Some((app, env)) = state.selection() else {
        return;
    };
    let Some(a) = argo_app(state, &app, &env.name).cloned() else {
        return;
    };
    let action = match cmd {
        Command::Refresh => {
            start(
                state,
                app,
                env.name,
                ArgoAction::Refresh { hard: false },
                effects,
            );
            return;
        }
        Command::Sync => ArgoAction::Sync(SyncSpec::default()),
        _ => ArgoAction::Terminate,
    };
    let mut lines = vec![format!(
        "Application {}: {}, {}{}",
        a.name,
        dash(&a.sync),
        dash(&a.health),
        if a.revision.is_empty() {
            String::new()
        } else {
            format!(" at {}", short(&a.revision))
        }
    )];
    if let ArgoAction::Sync(_) = action {
        lines.push(match a.auto_sync {
            None => "auto-sync off: the cluster changes only when someone syncs".to_owned(),
            Some(_) => auto_sync_line(&a),
        });
        if let Some(w) = window_line(state, &a, true) {
            lines.push(w);
        }
    } else if let Some(m) = a.operation_message.as_deref().filter(|m| !m.is_empty()) {
        lines.push(format!("running: {m}"));
    }
    state.overlay = Some(Overlay::Confirm {
        title: format!("{} {app} in {}", action_title(&action), env.name),
        lines,
        typed: env.protected.then(|| env.name.clone()),
        input: String::new(),
        then: Confirmed::Argo {
            app,
            env: env.name,
            action,
        },
    });
}

fn action_title(a: &ArgoAction) -> &'static str {
    match a {
        ArgoAction::Refresh { .. } => "Argo CD refresh",
        ArgoAction::Sync(_) => "Argo CD sync",
        ArgoAction::Terminate => "Terminate the sync of",
    }
}

/// Confirmed: run it as a task.
pub(super) fn start(
    state: &mut State,
    app: String,
    env: String,
    action: ArgoAction,
    effects: &mut Vec<Effect>,
) {
    let task = state.tasks.start(
        format!("argocd {} {app} {env}", action.name()),
        state.clock.now_ms,
    );
    effects.push(Effect::ArgoAction {
        task,
        app,
        env,
        action,
    });
}

/// `auto-sync on (prune, self-heal)` / `auto-sync off`.
pub fn auto_sync_line(a: &ArgoApp) -> String {
    match a.auto_sync {
        None => "auto-sync off".to_owned(),
        Some(p) => {
            let mut with = Vec::new();
            if p.prune {
                with.push("prune");
            }
            if p.self_heal {
                with.push("self-heal");
            }
            if with.is_empty() {
                "auto-sync on".to_owned()
            } else {
                format!("auto-sync on ({})", with.join(", "))
            }
        }
    }
}

/// What the windows say now: `sync blocked by deny window … until 14:00 UTC`, or `None`
/// when no window applies (or one lets it through).
pub fn window_line(state: &State, a: &ArgoApp, manual: bool) -> Option<String> {
    if a.windows.is_empty() {
        return None;
    }
    match a.window_verdict(now(state), manual) {
        Verdict::Open => Some(format!(
            "sync windows: {}: {} sync may run now",
            a.windows
                .iter()
                .map(|w| format!("{} {}", w.kind, w.describe()))
                .collect::<Vec<_>>()
                .join("; "),
            if manual { "a manual" } else { "an automated" }
        )),
        Verdict::Blocked { why, until } => Some(format!(
            "sync blocked by {why}{}",
            until
                .map(|u| format!(" {}", until_text(u, now(state), &state.clock.zone())))
                .unwrap_or_default()
        )),
    }
}

/// What the rollback dialog says will happen next, from the Application's sync policy.
pub fn rollback_lines(state: &State, app: &str, env: &str) -> Vec<String> {
    let Some(a) = argo_app(state, app, env) else {
        return vec!["Argo CD: no word on this env's Application: whether git alone rolls the cluster back is unknown".to_owned()];
    };
    let mut lines = vec![if a.auto_sync.is_some() {
        format!(
            "{}: the previous tag in git is what makes this stick",
            auto_sync_line(a)
        )
    } else {
        "auto-sync is off: after the git write, sync (S) to take the cluster back; you will be asked"
            .to_owned()
    }];
    if let Some(w) = window_line(state, a, a.auto_sync.is_none()) {
        lines.push(w);
    }
    lines
}

/// After a rollback's git write with auto-sync off, offer the sync that makes it stick.
pub(super) fn after_task(state: &mut State, title: &str, ok: bool) {
    let mut words = title.split_whitespace();
    let (Some("rollback"), Some(app), Some(env)) = (words.next(), words.next(), words.next())
    else {
        return;
    };
    if !ok || state.overlay.is_some() {
        return;
    }
    let Some(a) = argo_app(state, app, env) else {
        return;
    };
    if a.auto_sync.is_some() || running(a) {
        return;
    }
    let Some(row) = state.envs.iter().find(|e| e.name == env).cloned() else {
        return;
    };
    let mut lines = vec![
        format!(
            "the rollback is in git; {} stays on the bad version until a sync",
            a.name
        ),
        auto_sync_line(a),
    ];
    if let Some(w) = window_line(state, a, true) {
        lines.push(w);
    }
    state.overlay = Some(Overlay::Confirm {
        title: format!("Sync {app} in {env} now?"),
        lines,
        typed: row.protected.then(|| row.name.clone()),
        input: String::new(),
        then: Confirmed::Argo {
            app: app.to_owned(),
            env: env.to_owned(),
            action: ArgoAction::Sync(SyncSpec {
                reason: Some("rollback".to_owned()),
                ..SyncSpec::default()
            }),
        },
    });
}

fn dash(s: &str) -> &str {
    if s.is_empty() { "—" } else { s }
}

fn short(rev: &str) -> &str {
    rev.get(..7).unwrap_or(rev)
}
