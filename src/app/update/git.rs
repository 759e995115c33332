//! The GitOps side: what git says each env runs, and release / promote / rollback from the
//! keys to a confirmed change. A remote cannot be watched, so git is asked again on a timer
//! with one key: re-scheduling replaces it, never stacks.

use super::super::action::{Command, Effect, TimerKey};
use super::super::state::{Confirmed, EnvRow, Feed, Overlay, PendingChange, State};
use crate::services::gitops::{Action as GitAction, EnvTag, KnownTag, TagChange};

/// How often the remote is asked whether its branch moved (refs only: cheap), so the git
/// column is about as fresh as the cluster's, which arrives by watch.
const GIT_REF_MS: u64 = 3_000;

pub(super) fn snapshot(
    state: &mut State,
    result: Result<Vec<EnvTag>, String>,
    effects: &mut Vec<Effect>,
) {
    match result {
        Ok(tags) => {
            state.git = tags
                .into_iter()
                .map(|t| ((t.app.clone(), t.env.clone()), t))
                .collect();
            state.gitops = Feed::Live;
            sync_rows(state, effects);
            close_stale_confirmation(state);
        }
        Err(e) => {
            state.gitops = if state.git.is_empty() {
                Feed::not_connected(e.clone())
            } else {
                Feed::Stale {
                    since: state.clock.hhmm.clone(),
                }
            };
            state.status = Some(format!("git: {e}"));
        }
    }
    schedule_ref_check(effects);
}

fn schedule_ref_check(effects: &mut Vec<Effect>) {
    effects.push(Effect::Schedule {
        key: TimerKey::GitRef,
        after_ms: GIT_REF_MS,
        action: Box::new(super::super::action::Action::RefreshGitRef),
    });
}

/// The remote's tip: a new one is fetched; either way the next check is scheduled.
pub(super) fn tip(state: &mut State, result: Result<String, String>, effects: &mut Vec<Effect>) {
    match result {
        Ok(tip) => {
            if state.git_tip.as_ref() != Some(&tip) {
                state.git_tip = Some(tip);
                effects.push(Effect::RefreshGit);
            }
        }
        Err(e) => {
            if !state.git.is_empty() {
                state.gitops = Feed::Stale {
                    since: state.clock.hhmm.clone(),
                };
            }
            state.status = Some(format!("git: {e}"));
        }
    }
    schedule_ref_check(effects);
}

/// A confirmation of a change whose env moved in git meanwhile would act on what the person no
/// longer sees: close it and say so.
fn close_stale_confirmation(state: &mut State) {
    let Some(Overlay::Confirm {
        then: Confirmed::Git(change),
        ..
    }) = &state.overlay
    else {
        return;
    };
    let tag_of = |env: &str| {
        state
            .envs
            .iter()
            .find(|r| r.name == env)
            .and_then(|r| r.git_tag.clone())
    };
    // The target's tag is the "from" the push will insist on; a promote's source tag is what it
    // would write.
    let moved = [(Some(change.env.as_str()), change.expected_from.clone())]
        .into_iter()
        .chain(
            change
                .source_env
                .as_deref()
                .map(|s| (Some(s), change.tag.clone())),
        )
        .find_map(|(env, shown)| {
            let env = env?;
            let now = tag_of(env);
            (now != shown).then_some((env.to_owned(), now))
        });
    if let Some((env, now)) = moved {
        state.status = Some(format!(
            "{} {env} changed in git meanwhile (now {}): look again",
            change.app,
            now.as_deref().unwrap_or("none")
        ));
        state.overlay = None;
    }
}

/// Copies the selected app's git tags into the environment rows.
pub(super) fn sync_rows(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(app) = state.selected_app().map(str::to_owned) else {
        return;
    };
    let tags: Vec<(String, Option<String>)> = state
        .envs
        .iter()
        .map(|r| {
            let tag = state
                .git
                .get(&(app.clone(), r.name.clone()))
                .and_then(|t| t.tag.clone());
            (r.name.clone(), tag)
        })
        .collect();
    for (env, tag) in tags {
        match tag {
            Some(tag) => set_git_tag(state, &env, tag, effects),
            None => {
                if let Some(row) = state.envs.iter_mut().find(|r| r.name == env) {
                    row.git_tag = None;
                }
            }
        }
    }
}

/// Records an env's tag in git; a new tag means new gates to fetch.
pub(super) fn set_git_tag(state: &mut State, env: &str, tag: String, effects: &mut Vec<Effect>) {
    let Some(row) = state.envs.iter_mut().find(|r| r.name == env) else {
        return;
    };
    if row.git_tag.as_ref() == Some(&tag) {
        return;
    }
    row.git_tag = Some(tag.clone());
    super::pipeline::on_tag(state, env, &tag, effects);
    if !matches!(state.github, Feed::NotConnected(_)) {
        effects.push(super::gates::fetch(state, env, tag));
    }
}

pub(super) fn known_tags(state: &mut State, app: &str, result: Result<Vec<KnownTag>, String>) {
    if let Some(Overlay::Release {
        app: a,
        known,
        error,
        ..
    }) = &mut state.overlay
        && a == app
    {
        match result {
            Ok(tags) => *known = Some(tags),
            Err(e) => *error = Some(e),
        }
        return;
    }
    // The confirmation came first (`:release stg TAG` does not wait for the list): what the
    // tags say about this one (an older build, a rollback elsewhere) joins it when they land.
    let Ok(known) = result else { return };
    let Some(Overlay::Confirm {
        then: Confirmed::Git(change),
        ..
    }) = &state.overlay
    else {
        return;
    };
    if change.app != app || change.action != GitAction::Release {
        return;
    }
    let Some(tag) = change.tag.clone() else {
        return;
    };
    let current = change.expected_from.clone();
    let extra: Vec<String> = super::evidence::downgrade(&known, current.as_deref(), &tag)
        .into_iter()
        .chain(super::evidence::failed_before(state, app, &known, &tag))
        .collect();
    if let Some(Overlay::Confirm { lines, .. }) = &mut state.overlay {
        for line in extra {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
}

pub(super) fn history(
    state: &mut State,
    app: &str,
    env: &str,
    result: Result<Vec<TagChange>, String>,
) {
    if let Some(Overlay::Rollback {
        app: a,
        env: e,
        history,
        selected,
        error,
    }) = &mut state.overlay
        && a == app
        && e == env
    {
        match result {
            Ok(h) => {
                *selected = previous_good(&h);
                *history = Some(h);
            }
            Err(err) => *error = Some(err),
        }
    }
}

/// The row a rollback offers first: the tag the current one replaced (newest first), else the
/// first that differs from the current.
fn previous_good(history: &[TagChange]) -> usize {
    let Some(current) = history.first() else {
        return 0;
    };
    current
        .previous
        .as_ref()
        .and_then(|p| history.iter().position(|h| h.tag == *p))
        .or_else(|| history.iter().position(|h| h.tag != current.tag))
        .unwrap_or(0)
}

/// `r`, `p` (Environments panel) and `b`.
pub(super) fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    if let Feed::NotConnected(why) = &state.gitops {
        state.status = Some(format!("{}: not connected: {why}", cmd.name()));
        return;
    }
    let Some((app, env)) = state.selection() else {
        return;
    };
    // Ask the remote as the dialog opens: if git moved, the fresh snapshot lands before anyone
    // confirms, and a confirmation built on the old value closes.
    if matches!(cmd, Command::Release | Command::Rollback | Command::Promote) {
        effects.push(Effect::CheckGitRef);
    }
    match cmd {
        Command::Release => {
            state.overlay = Some(Overlay::Release {
                app: app.clone(),
                env: env.name.clone(),
                input: String::new(),
                known: None,
                selected: None,
                error: None,
            });
            effects.push(Effect::LoadKnownTags { app });
        }
        Command::Rollback => {
            state.overlay = Some(Overlay::Rollback {
                app: app.clone(),
                env: env.name.clone(),
                history: None,
                selected: 0,
                error: None,
            });
            effects.push(Effect::LoadHistory { app, env: env.name });
        }
        Command::Promote => promote(state, &app, &env, effects),
        _ => {}
    }
}

fn promote(state: &mut State, app: &str, env: &EnvRow, effects: &mut Vec<Effect>) {
    let Some(from) = env.promote_from.clone() else {
        state.status = Some(format!(
            "promote: `{}` has no promote_from in the inventory",
            env.name
        ));
        return;
    };
    let from_tag = state
        .envs
        .iter()
        .find(|r| r.name == from)
        .and_then(|r| r.git_tag.clone());
    let Some(from_tag) = from_tag else {
        state.status = Some(format!("promote: no tag known in `{from}` yet"));
        return;
    };
    let to_tag = env.git_tag.clone();
    if to_tag.as_deref() == Some(from_tag.as_str()) {
        // `p` also promotes a paused canary (from the Rollout panel): say so, since that is
        // what someone pressing `p` here with a canary waiting most likely wants.
        let canary = state
            .live
            .rollout(app, &env.name)
            .filter(|r| r.status == "Paused")
            .map(|r| r.step.clone());
        state.status = Some(match canary {
            Some(step) => format!(
                "promote: {} already runs {from_tag}; its canary is paused at step {step}: \
                 focus the Rollout panel (tab) and press p to promote the canary",
                env.name
            ),
            None => format!("promote: {} already runs {from_tag}", env.name),
        });
        return;
    }
    let change = PendingChange {
        action: GitAction::Promote,
        app: app.to_owned(),
        env: env.name.clone(),
        tag: Some(from_tag.clone()),
        expected_from: to_tag.clone(),
        source_env: Some(from.clone()),
        override_reason: None,
    };
    let mut lines = vec![
        format!(
            "{from} → {}: {} → {from_tag}",
            env.name,
            to_tag.as_deref().unwrap_or("(none)")
        ),
        super::gates::required_line(state, &env.name),
    ];
    let (evidence, bad_source) = super::evidence::promote(state, app, &from, &from_tag);
    lines.extend(evidence);
    confirm(state, format!("Promote {app}"), lines, env, change);
    // A source that is Paused, Degraded or aborted: a `y` is too easy, the name is typed.
    if bad_source && let Some(Overlay::Confirm { typed, .. }) = &mut state.overlay {
        typed.get_or_insert_with(|| env.name.clone());
    }
    super::gates::candidate(state, env, &from_tag, effects);
    if let Some(current) = &to_tag {
        super::changes::want(state, (&env.name, current), (&from, &from_tag), effects);
    }
}

fn confirm(
    state: &mut State,
    title: String,
    lines: Vec<String>,
    env: &EnvRow,
    change: PendingChange,
) {
    state.candidate = None;
    state.overlay = Some(Overlay::Confirm {
        title,
        lines,
        typed: env.protected.then(|| env.name.clone()),
        input: String::new(),
        then: Confirmed::Git(change),
    });
}

pub(super) fn submit_release(state: &mut State, overlay: Overlay, effects: &mut Vec<Effect>) {
    let Overlay::Release {
        app,
        env,
        input,
        known,
        ..
    } = overlay.clone()
    else {
        return;
    };
    let tag = input.trim().to_owned();
    if let Err(e) = crate::services::gitops::validate_tag(&tag) {
        let mut overlay = overlay;
        if let Overlay::Release { error, .. } = &mut overlay {
            *error = Some(e.to_string());
        }
        state.overlay = Some(overlay);
        return;
    }
    let Some(row) = state.envs.iter().find(|r| r.name == env).cloned() else {
        return;
    };
    if row.git_tag.as_deref() == Some(tag.as_str()) {
        state.status = Some(format!("release: {env} is already at {tag}"));
        return;
    }
    let change = PendingChange {
        action: GitAction::Release,
        app: app.clone(),
        env: env.clone(),
        tag: Some(tag.clone()),
        expected_from: row.git_tag.clone(),
        source_env: None,
        override_reason: None,
    };
    let known = known.unwrap_or_default();
    let mut lines = vec![
        format!(
            "{env}: {} → {tag}",
            row.git_tag.as_deref().unwrap_or("(none)")
        ),
        super::gates::required_line(state, &env),
    ];
    lines.extend(super::evidence::downgrade(
        &known,
        row.git_tag.as_deref(),
        &tag,
    ));
    lines.extend(super::evidence::failed_before(state, &app, &known, &tag));
    confirm(state, format!("Release {app}"), lines, &row, change);
    super::gates::candidate(state, &row, &tag, effects);
    if let Some(current) = &row.git_tag {
        super::changes::want(state, (&env, current), (&env, &tag), effects);
    }
}

pub(super) fn submit_rollback(state: &mut State, overlay: Overlay) {
    let Overlay::Rollback {
        app,
        env,
        history,
        selected,
        ..
    } = overlay
    else {
        return;
    };
    let Some(choice) = history.as_ref().and_then(|h| h.get(selected)) else {
        state.status = Some("rollback: no history to pick from".into());
        return;
    };
    let Some(row) = state.envs.iter().find(|r| r.name == env).cloned() else {
        return;
    };
    if row.git_tag.as_deref() == Some(choice.tag.as_str()) {
        state.status = Some(format!("rollback: {env} is already at {}", choice.tag));
        return;
    }
    let change = PendingChange {
        action: GitAction::Rollback,
        app: app.clone(),
        env: env.clone(),
        tag: Some(choice.tag.clone()),
        expected_from: row.git_tag.clone(),
        source_env: None,
        override_reason: None,
    };
    let mut lines = vec![
        format!(
            "{env}: {} → {} (set {} by {})",
            row.git_tag.as_deref().unwrap_or("(none)"),
            choice.tag,
            choice.commit.time,
            choice.commit.author
        ),
        "and abort its canary in the cluster (traffic back on stable now)".to_owned(),
    ];
    lines.extend(super::argocd::rollback_lines(state, &app, &env));
    confirm(state, format!("Roll back {app}"), lines, &row, change);
}

/// The typed reason for a gates override: ask once more, with the reason shown.
pub(super) fn submit_reason(
    state: &mut State,
    mut change: PendingChange,
    message: String,
    input: String,
) {
    let reason = input.trim().to_owned();
    if reason.is_empty() {
        state.status = Some("override: a reason is required".into());
        state.overlay = Some(Overlay::Reason {
            change,
            message,
            input,
        });
        return;
    }
    let Some(row) = state.envs.iter().find(|r| r.name == change.env).cloned() else {
        return;
    };
    change.override_reason = Some(reason.clone());
    let title = format!("Override gates: {} {}", change.action, change.app);
    confirm(
        state,
        title,
        vec![message, format!("reason: {reason}")],
        &row,
        change,
    );
}

/// Confirmed: write it as a background task. A rollback ends any release in flight there (its
/// card is the rollback's).
pub(super) fn start(state: &mut State, change: PendingChange, effects: &mut Vec<Effect>) {
    if change.action == GitAction::Rollback {
        state
            .in_flight
            .remove(&(change.app.clone(), change.env.clone()));
    }
    let title = format!(
        "{} {} {}{}",
        change.action,
        change.app,
        change.env,
        change
            .tag
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default()
    );
    let task = state.tasks.start(title, state.clock.now_ms);
    effects.push(Effect::GitChange { task, change });
}

/// A pushed release ends in the cluster: healthy on the new tag (succeeded) or degraded
/// (failed: analysis or abort). Either way the chats hear it once.
pub(super) fn settle_releases(state: &mut State, effects: &mut Vec<Effect>) {
    use crate::services::feishu::Notification;
    let mut done = Vec::new();
    for ((app, env), (from, to, actor)) in &state.in_flight {
        let Some(live) = state.live.env_live(app, env) else {
            continue;
        };
        let status = live.rollout_status.as_deref();
        let on_new = live.live_tag.as_deref() == Some(to.as_str());
        let card = match status {
            Some("Healthy") if on_new => {
                Some(Notification::release_succeeded(app, env, from, to, actor))
            }
            Some("Degraded") => Some(
                Notification::release_failed(app, env, from, to, actor)
                    .with_detail("the rollout is Degraded (analysis failed or aborted)"),
            ),
            _ => None,
        };
        if let Some(card) = card {
            effects.push(Effect::Notify(card));
            done.push((app.clone(), env.clone()));
        }
    }
    for key in done {
        state.in_flight.remove(&key);
    }
}
