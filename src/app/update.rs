//! `update(&mut State, Action) -> Vec<Effect>`: the only place state changes. Pure: no IO,
//! no clock reads, no awaits.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

use super::action::{Action, Command, Effect};
use super::state::{ActivityLine, Confirmed, Feed, Overlay, Panel, PendingChange, State};
use super::tasks::TaskOutcome;

/// How far help can scroll: one line per command (22 of them, far below u16::MAX).
#[allow(clippy::cast_possible_truncation)]
const HELP_LINES: u16 = Command::ALL.len() as u16;

/// Applies one action; returns what the driver must do.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut effects = Vec::new();
    // A tick only matters while something on screen depends on time.
    let redraw = !matches!(action, Action::Tick) || state.tasks.any_running();
    match action {
        Action::Command(cmd) => command(state, cmd, &mut effects),
        Action::Input(c) => match &mut state.overlay {
            Some(Overlay::Palette { query, selected }) => {
                query.push(c);
                *selected = 0;
            }
            Some(Overlay::Release {
                input, selected, ..
            }) => {
                input.push(c);
                *selected = None;
            }
            Some(Overlay::Confirm { input, .. } | Overlay::Reason { input, .. }) => input.push(c),
            Some(Overlay::Recipient { input, error, .. }) => {
                input.push(c);
                *error = None;
            }
            Some(Overlay::Secrets) => secrets_key(state, c),
            Some(Overlay::Tmp) => tmp_key(state, c),
            _ => {}
        },
        Action::Backspace => match &mut state.overlay {
            Some(Overlay::Palette { query, selected }) => {
                query.pop();
                *selected = 0;
            }
            Some(Overlay::Release {
                input, selected, ..
            }) => {
                input.pop();
                *selected = None;
            }
            Some(
                Overlay::Confirm { input, .. }
                | Overlay::Reason { input, .. }
                | Overlay::Recipient { input, .. },
            ) => {
                input.pop();
            }
            _ => {}
        },
        Action::Submit => submit(state, &mut effects),
        Action::Click { column, row } => {
            if let (None, Some(panel)) = (
                &state.overlay,
                crate::ui::layout::panel_at(state, column, row),
            ) {
                state.focus = panel;
            }
        }
        Action::Resize { width, height } => state.size = (width, height),
        Action::Tick | Action::Resumed => {}
        Action::TaskProgress { id, progress } => state.tasks.progress(id, progress),
        Action::TaskFinished { id, outcome } => {
            let now = state.clock.now_ms;
            if let Some(task) = state.tasks.finish(id, outcome.clone(), now) {
                let title = task.title.clone();
                let secs = task.ended_ms.unwrap_or(now).saturating_sub(task.started_ms);
                let (text, failed) = match outcome {
                    TaskOutcome::Done(line) => (line, false),
                    TaskOutcome::Failed(err) => (format!("{title}: failed: {err}"), true),
                    TaskOutcome::Cancelled => (format!("{title}: cancelled"), true),
                };
                log(state, format!("{text} ({})", took(secs)), failed);
            }
        }
        Action::Live(event) => {
            state.live.apply(event);
            if matches!(state.cluster, Feed::Connecting | Feed::NotConnected(_)) {
                state.cluster = Feed::Live;
            }
            settle_releases(state, &mut effects);
        }
        Action::Pushed {
            app,
            env,
            from,
            to,
            actor,
        } => {
            state.in_flight.insert((app, env), (from, to, actor));
        }
        Action::RefreshGit => effects.push(Effect::RefreshGit),
        Action::RefreshSecrets => effects.push(Effect::LoadSecrets),
        Action::Notified { line, failed } => log(state, line, failed),
        Action::CandidateGates(c) => state.candidate = Some(c),
        Action::GateRefused { change, message } => {
            state.overlay = Some(Overlay::Reason {
                change,
                message,
                input: String::new(),
            });
        }
        Action::TmpPlanned(result) => {
            match result {
                Ok((rows, summary)) => {
                    state.tmp.rows = Some(rows);
                    state.tmp.summary = summary;
                    state.tmp.error = None;
                }
                Err(e) => state.tmp.error = Some(e),
            }
            state.tmp.skip.clear();
            state.tmp.selected = 0;
            sort_tmp(&mut state.tmp);
        }
        Action::FeishuPlanned(result) => match result {
            Ok((lines, writes)) => {
                state.feishu.lines = Some(lines);
                state.feishu.writes = writes;
                state.feishu.error = None;
            }
            Err(e) => state.feishu.error = Some(e),
        },
        Action::SecretsLoaded(result) => {
            match result {
                Ok(rows) => {
                    state.secrets.rows = Some(rows);
                    state.secrets.error = None;
                }
                Err(e) => state.secrets.error = Some(e),
            }
            let n = state.secrets.rows.as_ref().map_or(0, Vec::len);
            state.secrets.selected = state.secrets.selected.min(n.saturating_sub(1));
            sort_secrets(&mut state.secrets);
        }
        Action::GitSnapshot(result) => git_snapshot(state, result, &mut effects),
        Action::KnownTags { app, result } => {
            if let Some(Overlay::Release {
                app: a,
                known,
                error,
                ..
            }) = &mut state.overlay
                && *a == app
            {
                match result {
                    Ok(tags) => *known = Some(tags),
                    Err(e) => *error = Some(e),
                }
            }
        }
        Action::History { app, env, result } => {
            if let Some(Overlay::Rollback {
                app: a,
                env: e,
                history,
                selected,
                error,
            }) = &mut state.overlay
                && *a == app
                && *e == env
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
        Action::GitTags(tags) => {
            for (env, tag) in tags {
                set_git_tag(state, &env, tag, &mut effects);
            }
        }
        Action::GatesLoaded { env, tag, result } => {
            gates_loaded(state, env, &tag, result, &mut effects);
        }
        Action::RefreshGates { env } => {
            let tag = state
                .envs
                .iter()
                .find(|r| r.name == env)
                .and_then(|r| r.git_tag.clone());
            if let Some(tag) = tag {
                effects.push(fetch_gates(state, &env, tag));
            }
        }
        Action::Terminate => effects.push(Effect::Quit),
    }
    let want_tick = state.tasks.any_running();
    if want_tick != state.ticking {
        state.ticking = want_tick;
        effects.push(Effect::SetTicking(want_tick));
    }
    if redraw {
        state.dirty = true;
    }
    effects
}

fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    match cmd {
        Command::Quit => {
            if state.tasks.any_running() {
                state.overlay = Some(Overlay::ConfirmQuit);
            } else {
                effects.push(Effect::Quit);
            }
        }
        Command::FocusNext => state.focus = state.focus.next(),
        Command::FocusPrev => state.focus = state.focus.prev(),
        Command::Zoom => state.zoomed = !state.zoomed,
        Command::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                query: String::new(),
                selected: 0,
            });
        }
        Command::Cancel => {
            if state.overlay.take().is_none() {
                if let Some(id) = state.tasks.cancel_newest() {
                    effects.push(Effect::CancelTask(id));
                } else if state.zoomed {
                    state.zoomed = false;
                } else {
                    state.status = None;
                }
            }
        }
        Command::Up => move_selection(state, -1),
        Command::Down => move_selection(state, 1),
        Command::Suspend => effects.push(Effect::Suspend),
        Command::NextApp | Command::PrevApp => {
            let n = state.apps.len();
            if n > 1 {
                state.selected_app = if cmd == Command::NextApp {
                    (state.selected_app + 1) % n
                } else {
                    (state.selected_app + n - 1) % n
                };
                sync_rows(state, effects);
            }
        }
        Command::Release
        | Command::Promote
        | Command::PromoteFull
        | Command::Abort
        | Command::Retry
        | Command::Pause
        | Command::Restart
        | Command::Rollback
        | Command::Secrets
        | Command::Tmp
        | Command::Feishu => domain(state, cmd, effects),
        Command::OpenLink => open_link(state, effects),
    }
}

/// A pushed release ends in the cluster: healthy on the new tag (succeeded) or degraded
/// (failed: analysis or abort). Either way the chats hear it once.
fn settle_releases(state: &mut State, effects: &mut Vec<Effect>) {
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

/// The rollout action a key means here: `p` is the canary's promote only in the Rollout panel.
fn rollout_action(
    state: &State,
    cmd: Command,
) -> Option<crate::services::kube::actions::RolloutAction> {
    use crate::services::kube::actions::RolloutAction as R;
    match cmd {
        Command::Promote if state.focus == Panel::Rollout => Some(R::Promote),
        Command::PromoteFull => Some(R::PromoteFull),
        Command::Abort => Some(R::Abort),
        Command::Retry => Some(R::Retry),
        Command::Pause => Some(R::Pause),
        Command::Restart => Some(R::Restart),
        _ => None,
    }
}

/// The row a rollback offers first: the tag the current one replaced (newest first), else the
/// first that differs from the current.
fn previous_good(history: &[crate::services::gitops::TagChange]) -> usize {
    let Some(current) = history.first() else {
        return 0;
    };
    let differs = |h: &&crate::services::gitops::TagChange| h.tag != current.tag;
    current
        .previous
        .as_ref()
        .and_then(|p| history.iter().position(|h| h.tag == *p))
        .or_else(|| history.iter().position(|h| differs(&h)))
        .unwrap_or(0)
}

/// Why a key would be refused right now (read-only; a rollout action Argo CD's rules or RBAC
/// rule out), for the key bar to grey it out. `None`: the key is live.
pub fn key_blocked(state: &State, cmd: Command) -> Option<String> {
    let writes = matches!(
        cmd,
        Command::Release
            | Command::Promote
            | Command::PromoteFull
            | Command::Abort
            | Command::Retry
            | Command::Pause
            | Command::Restart
            | Command::Rollback
            | Command::Feishu
    );
    if state.read_only && writes {
        return Some(format!("{}: read-only, writes are disabled", cmd.name()));
    }
    let action = rollout_action(state, cmd)?;
    let app = state.selected_app()?;
    let env = state.selected_env()?;
    crate::services::kube::actions::allowed(&state.live, app, &env.name, action).err()
}

/// Greyed out (Argo CD's rules on the live state) or asked, then sent.
fn ask_rollout(state: &mut State, action: crate::services::kube::actions::RolloutAction) {
    let (Some(app), Some(env)) = (
        state.selected_app().map(str::to_owned),
        state.selected_env().cloned(),
    ) else {
        return;
    };
    if let Err(why) = crate::services::kube::actions::allowed(&state.live, &app, &env.name, action)
    {
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
                env.namespace
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

/// `o`: the selected gate's link.
fn open_link(state: &mut State, effects: &mut Vec<Effect>) {
    let gate = state
        .selected_gates()
        .and_then(|g| g.report.as_ref())
        .and_then(|r| r.gates.get(state.selected_gate))
        .map(|g| (g.name.clone(), g.url.clone()));
    match gate {
        Some((_, Some(url))) => {
            state.status = Some(format!("opening {url}"));
            effects.push(Effect::OpenUrl(url));
        }
        Some((name, None)) => state.status = Some(format!("{name}: no link (not started)")),
        None => state.status = Some("open-link: select a gate in the Gates panel first".into()),
    }
}

/// Actions on outside systems. Until a service is wired in, say so instead of pretending.
fn domain(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    if state.read_only
        && let Some(why) = key_blocked(state, cmd)
    {
        state.status = Some(why);
        return;
    }
    if cmd == Command::Tmp {
        state.tmp = super::state::TmpView::default();
        state.overlay = Some(Overlay::Tmp);
        effects.push(Effect::PlanTmp);
        return;
    }
    if cmd == Command::Feishu {
        state.feishu = super::state::FeishuView::default();
        state.overlay = Some(Overlay::Feishu);
        effects.push(Effect::PlanFeishu);
        return;
    }
    if cmd == Command::Secrets {
        state.overlay = Some(Overlay::Secrets);
        effects.push(Effect::LoadSecrets);
        return;
    }
    if let Some(action) = rollout_action(state, cmd) {
        ask_rollout(state, action);
        return;
    }
    let git_ready = !matches!(state.gitops, Feed::NotConnected(_));
    if git_ready && matches!(cmd, Command::Release | Command::Promote | Command::Rollback) {
        git_command(state, cmd, effects);
        return;
    }
    let feed = match cmd {
        Command::Release | Command::Promote | Command::Rollback => &state.gitops,
        _ => &state.cluster,
    };
    let why = match feed {
        super::state::Feed::NotConnected(reason) => reason.clone(),
        _ => "not available yet".to_owned(),
    };
    state.status = Some(format!("{}: not connected: {why}", cmd.name()));
}

fn move_selection(state: &mut State, delta: i32) {
    match &mut state.overlay {
        Some(Overlay::Release {
            input,
            known,
            selected,
            ..
        }) => {
            let n = known.as_ref().map_or(0, Vec::len);
            if n > 0 {
                let next = match *selected {
                    None if delta > 0 => 0,
                    None => n - 1,
                    Some(i) => step(i, delta, n),
                };
                *selected = Some(next);
                if let Some(t) = known.as_ref().and_then(|k| k.get(next)) {
                    input.clone_from(&t.tag);
                }
            }
        }
        Some(Overlay::Rollback {
            history, selected, ..
        }) => {
            let n = history.as_ref().map_or(0, Vec::len);
            *selected = step(*selected, delta, n);
        }
        Some(Overlay::Palette { query, selected }) => {
            let n = fuzzy(query).len();
            *selected = step(*selected, delta, n);
        }
        Some(Overlay::Help { scroll }) => {
            *scroll = if delta < 0 {
                scroll.saturating_sub(1)
            } else {
                scroll.saturating_add(1).min(HELP_LINES)
            };
        }
        Some(Overlay::Tmp) => {
            let n = state.tmp.rows.as_ref().map_or(0, Vec::len);
            state.tmp.selected = step(state.tmp.selected, delta, n);
        }
        Some(Overlay::Feishu) => {
            state.feishu.scroll = if delta < 0 {
                state.feishu.scroll.saturating_sub(1)
            } else {
                state.feishu.scroll.saturating_add(1)
            };
        }
        Some(Overlay::Secrets) => {
            let n = state.secrets.rows.as_ref().map_or(0, Vec::len);
            state.secrets.selected = step(state.secrets.selected, delta, n);
        }
        Some(
            Overlay::ConfirmQuit
            | Overlay::Confirm { .. }
            | Overlay::Reason { .. }
            | Overlay::Recipient { .. },
        ) => {}
        None => match state.focus {
            Panel::Environments => {
                state.selected_env = step(state.selected_env, delta, state.envs.len());
                state.selected_gate = 0;
            }
            Panel::Gates => {
                let n = state
                    .selected_gates()
                    .and_then(|g| g.report.as_ref())
                    .map_or(0, |r| r.gates.len());
                state.selected_gate = step(state.selected_gate, delta, n);
            }
            _ => {}
        },
    }
}

fn step(current: usize, delta: i32, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    if delta < 0 {
        current.saturating_sub(1)
    } else {
        (current + 1).min(len - 1)
    }
}

fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    match state.overlay.take() {
        Some(Overlay::Palette { query, selected }) => {
            if let Some(cmd) = fuzzy(&query).get(selected).copied() {
                command(state, cmd, effects);
            }
        }
        Some(Overlay::ConfirmQuit) => effects.push(Effect::Quit),
        Some(overlay @ Overlay::Release { .. }) => submit_release(state, overlay, effects),
        Some(overlay @ Overlay::Rollback { .. }) => submit_rollback(state, overlay),
        Some(Overlay::Confirm {
            typed,
            input,
            then,
            title,
            lines,
        }) => {
            if let Some(want) = typed.clone()
                && input.trim() != want
            {
                // Keep the dialog: a mistyped protected env name is not a yes.
                state.overlay = Some(Overlay::Confirm {
                    title,
                    lines,
                    typed,
                    input: String::new(),
                    then,
                });
                state.status = Some(format!("type `{want}` exactly to confirm"));
                return;
            }
            confirmed(state, then, effects);
        }
        Some(Overlay::Secrets) => {
            // Enter on a file: rotate it (asks first).
            let row = state
                .secrets
                .rows
                .as_ref()
                .and_then(|r| r.get(state.secrets.selected))
                .map(|f| f.path.clone());
            state.overlay = Some(Overlay::Secrets);
            if let Some(path) = row {
                ask_rotate(state, vec![path]);
            }
        }
        Some(Overlay::Recipient { add, input, .. }) => {
            match recipient_change(state, add, input.trim()) {
                Ok(op) => ask_recipient_change(state, op),
                Err(error) => {
                    state.overlay = Some(Overlay::Recipient {
                        add,
                        input,
                        error: Some(error),
                    });
                }
            }
        }
        Some(Overlay::Reason {
            mut change,
            message,
            input,
        }) => {
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
        Some(Overlay::Tmp) => {
            state.overlay = Some(Overlay::Tmp);
            let rows = state.tmp.rows.clone().unwrap_or_default();
            let chosen: Vec<&super::state::TmpRow> = rows
                .iter()
                .filter(|r| !state.tmp.skip.contains(&r.idx))
                .collect();
            if chosen.is_empty() {
                state.status = Some("tmp: nothing selected to clean".into());
                return;
            }
            let bytes: u64 = chosen.iter().map(|r| r.size).sum();
            state.overlay = Some(Overlay::Confirm {
                title: "Clean tmp".into(),
                lines: vec![
                    format!(
                        "{} entries, {} (skipped: {})",
                        chosen.len(),
                        crate::services::tmpclean::format_bytes(bytes),
                        state.tmp.skip.len()
                    ),
                    "only entries unchanged since the preview go; symlink targets are never touched".into(),
                ],
                typed: None,
                input: String::new(),
                then: Confirmed::CleanTmp,
            });
        }
        Some(Overlay::Feishu) => {
            state.overlay = Some(Overlay::Feishu);
            match (&state.feishu.lines, state.feishu.writes) {
                (None, _) => state.status = Some("feishu: the plan is not ready yet".into()),
                (Some(_), 0) => {
                    state.status = Some("feishu: chats already match: nothing to apply".into());
                }
                (Some(_), writes) => {
                    state.overlay = Some(Overlay::Confirm {
                        title: "Apply the Feishu member sync".into(),
                        lines: vec![
                            format!(
                                "{writes} membership write(s) to Feishu, in batches of ≤ 50 per chat"
                            ),
                            "only members the sync manages are ever removed".into(),
                        ],
                        typed: None,
                        input: String::new(),
                        then: Confirmed::FeishuApply,
                    });
                }
            }
        }
        Some(Overlay::Help { .. }) | None => {}
    }
}

fn confirmed(state: &mut State, then: Confirmed, effects: &mut Vec<Effect>) {
    match then {
        Confirmed::Git(change) => {
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
        Confirmed::Rollout { app, env, action } => {
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
        Confirmed::CleanTmp => {
            let skip: Vec<usize> = state.tmp.skip.iter().copied().collect();
            let task = state.tasks.start("tmp clean", state.clock.now_ms);
            effects.push(Effect::CleanTmp { task, skip });
            state.overlay = None;
        }
        Confirmed::FeishuApply => {
            let task = state.tasks.start("feishu member sync", state.clock.now_ms);
            effects.push(Effect::ApplyFeishu { task });
        }
        Confirmed::Secrets { files, op } => {
            let task = state.tasks.start(op.title(files.len()), state.clock.now_ms);
            effects.push(Effect::SecretsBatch { task, files, op });
            // Back to the table, which refreshes when the rotation reports.
            state.overlay = Some(Overlay::Secrets);
        }
    }
}

fn ask_rotate(state: &mut State, files: Vec<std::path::PathBuf>) {
    if files.is_empty() {
        state.status = Some("secrets: nothing to rotate".into());
        return;
    }
    let mut lines: Vec<String> = files
        .iter()
        .take(4)
        .map(|p| format!("  {}", p.display()))
        .collect();
    if files.len() > 4 {
        lines.push(format!("  … and {} more", files.len() - 4));
    }
    lines.push("a new data key; values re-encrypted; files replaced atomically".into());
    state.overlay = Some(Overlay::Confirm {
        title: "Rotate data keys".into(),
        lines,
        typed: None,
        input: String::new(),
        then: Confirmed::Secrets {
            files,
            op: super::state::SecretsOp::Rotate,
        },
    });
}

/// The change a typed recipient means: a valid age recipient to add, or (for a removal) the one
/// recipient of the listed files that contains what was typed.
fn recipient_change(
    state: &State,
    add: bool,
    typed: &str,
) -> Result<super::state::SecretsOp, String> {
    use super::state::SecretsOp;
    if typed.is_empty() {
        return Err("type or paste an age recipient (age1…)".into());
    }
    let listed: std::collections::BTreeSet<&str> = state
        .secrets
        .rows
        .iter()
        .flatten()
        .flat_map(|f| f.recipients.iter().map(String::as_str))
        .collect();
    if add {
        crate::services::secrets::keys::parse_recipient(typed).map_err(|e| e.to_string())?;
        return Ok(SecretsOp::AddRecipient(typed.to_owned()));
    }
    let matching: Vec<&str> = listed.into_iter().filter(|r| r.contains(typed)).collect();
    match matching.as_slice() {
        [one] => Ok(SecretsOp::RemoveRecipient((*one).to_owned())),
        [] => Err(format!("no listed file has a recipient matching `{typed}`")),
        many => Err(format!(
            "`{typed}` matches {} recipients; type more of it",
            many.len()
        )),
    }
}

/// Asks before a recipient change: an addition goes to every listed file, a removal to the
/// files that have the recipient.
fn ask_recipient_change(state: &mut State, op: super::state::SecretsOp) {
    use super::state::SecretsOp;
    let files: Vec<std::path::PathBuf> = state
        .secrets
        .rows
        .iter()
        .flatten()
        .filter(|f| match &op {
            SecretsOp::RemoveRecipient(r) => f.recipients.iter().any(|x| x == r),
            _ => true,
        })
        .map(|f| f.path.clone())
        .collect();
    let (title, lines) = match &op {
        SecretsOp::AddRecipient(r) => (
            "Add an age recipient".to_owned(),
            vec![
                r.clone(),
                format!(
                    "gets access to {} file(s); the data keys stay as they are",
                    files.len()
                ),
            ],
        ),
        SecretsOp::RemoveRecipient(r) => (
            "Remove an age recipient".to_owned(),
            vec![
                r.clone(),
                format!(
                    "loses access to {} file(s); their data keys are rotated so an old copy opens nothing new",
                    files.len()
                ),
            ],
        ),
        SecretsOp::Rotate => ("Rotate data keys".to_owned(), Vec::new()),
    };
    state.overlay = Some(Overlay::Confirm {
        title,
        lines,
        typed: None,
        input: String::new(),
        then: Confirmed::Secrets { files, op },
    });
}

/// Keys inside the Secrets view: `r` rotate the selected file, `R` every stale one, `a` all,
/// `+`/`-` add or remove an age recipient in every listed file, `o` toggle the order (oldest
/// first / by path).
fn secrets_key(state: &mut State, c: char) {
    let rows = state.secrets.rows.clone().unwrap_or_default();
    match c {
        'r' => {
            if let Some(f) = rows.get(state.secrets.selected) {
                ask_rotate(state, vec![f.path.clone()]);
            }
        }
        'R' => ask_rotate(
            state,
            rows.iter()
                .filter(|f| f.stale)
                .map(|f| f.path.clone())
                .collect(),
        ),
        'a' => ask_rotate(state, rows.iter().map(|f| f.path.clone()).collect()),
        '+' | '-' if !rows.is_empty() => {
            state.overlay = Some(Overlay::Recipient {
                add: c == '+',
                input: String::new(),
                error: None,
            });
        }
        'o' => {
            state.secrets.by_age = !state.secrets.by_age;
            sort_secrets(&mut state.secrets);
        }
        _ => {}
    }
}

/// Keys inside the tmp view: space toggles the entry, `s` changes the order.
fn tmp_key(state: &mut State, c: char) {
    match c {
        ' ' => {
            let idx = state
                .tmp
                .rows
                .as_ref()
                .and_then(|r| r.get(state.tmp.selected))
                .map(|r| r.idx);
            if let Some(idx) = idx
                && !state.tmp.skip.remove(&idx)
            {
                state.tmp.skip.insert(idx);
            }
        }
        's' => {
            use super::state::TmpSort;
            state.tmp.sort = match state.tmp.sort {
                TmpSort::Size => TmpSort::Age,
                TmpSort::Age => TmpSort::Rule,
                TmpSort::Rule => TmpSort::Size,
            };
            sort_tmp(&mut state.tmp);
        }
        _ => {}
    }
}

fn sort_tmp(view: &mut super::state::TmpView) {
    use super::state::TmpSort;
    if let Some(rows) = &mut view.rows {
        match view.sort {
            TmpSort::Size => rows.sort_by_key(|r| std::cmp::Reverse(r.size)),
            TmpSort::Age => rows.sort_by_key(|r| std::cmp::Reverse(r.age_secs)),
            TmpSort::Rule => rows.sort_by(|a, b| a.rule.cmp(&b.rule).then(a.path.cmp(&b.path))),
        }
    }
}

fn sort_secrets(view: &mut super::state::SecretsView) {
    if let Some(rows) = &mut view.rows {
        if view.by_age {
            rows.sort_by_key(|f| std::cmp::Reverse(f.age_days.unwrap_or(i64::MAX)));
        } else {
            rows.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
}

/// How often git is asked again while nothing happens (a remote cannot be watched).
const GIT_REFRESH_MS: u64 = 15_000;

fn git_snapshot(
    state: &mut State,
    result: Result<Vec<crate::services::gitops::EnvTag>, String>,
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
    effects.push(Effect::After {
        delay_ms: GIT_REFRESH_MS,
        action: Box::new(Action::RefreshGit),
    });
}

/// Copies the selected app's git tags into the environment rows.
fn sync_rows(state: &mut State, effects: &mut Vec<Effect>) {
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

fn git_command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    let (Some(app), Some(env)) = (
        state.selected_app().map(str::to_owned),
        state.selected_env().cloned(),
    ) else {
        return;
    };
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
        Command::Promote => {
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
                state.status = Some(format!("promote: {} already runs {from_tag}", env.name));
                return;
            }
            let change = PendingChange {
                action: crate::services::gitops::Action::Promote,
                app: app.clone(),
                env: env.name.clone(),
                tag: Some(from_tag.clone()),
                expected_from: to_tag.clone(),
                source_env: Some(from.clone()),
                override_reason: None,
            };
            confirm(
                state,
                format!("Promote {app}"),
                vec![
                    format!(
                        "{from} → {}: {} → {from_tag}",
                        env.name,
                        to_tag.as_deref().unwrap_or("(none)")
                    ),
                    gates_line(state, &env.name),
                ],
                &env,
                change,
            );
            candidate_gates(state, &env, &from_tag, effects);
        }
        _ => {}
    }
}

/// Shows the gates of the tag about to go in, inside the confirmation.
fn candidate_gates(
    state: &State,
    env: &super::state::EnvRow,
    tag: &str,
    effects: &mut Vec<Effect>,
) {
    if !env.required_checks.is_empty() && !matches!(state.github, Feed::NotConnected(_)) {
        effects.push(Effect::FetchCandidateGates {
            env: env.name.clone(),
            tag: tag.to_owned(),
        });
    }
}

fn gates_line(state: &State, env: &str) -> String {
    let required = state
        .envs
        .iter()
        .find(|r| r.name == env)
        .map(|r| r.required_checks.clone())
        .unwrap_or_default();
    if required.is_empty() {
        format!("{env} requires no checks")
    } else {
        format!(
            "{env} requires {}: checked against GitHub before the push",
            required.join(", ")
        )
    }
}

fn confirm(
    state: &mut State,
    title: String,
    lines: Vec<String>,
    env: &super::state::EnvRow,
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

fn submit_release(state: &mut State, overlay: Overlay, effects: &mut Vec<Effect>) {
    let Overlay::Release {
        app, env, input, ..
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
        action: crate::services::gitops::Action::Release,
        app: app.clone(),
        env: env.clone(),
        tag: Some(tag.clone()),
        expected_from: row.git_tag.clone(),
        source_env: None,
        override_reason: None,
    };
    let lines = vec![
        format!(
            "{env}: {} → {tag}",
            row.git_tag.as_deref().unwrap_or("(none)")
        ),
        gates_line(state, &env),
    ];
    confirm(state, format!("Release {app}"), lines, &row, change);
    candidate_gates(state, &row, &tag, effects);
}

fn submit_rollback(state: &mut State, overlay: Overlay) {
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
        action: crate::services::gitops::Action::Rollback,
        app: app.clone(),
        env: env.clone(),
        tag: Some(choice.tag.clone()),
        expected_from: row.git_tag.clone(),
        source_env: None,
        override_reason: None,
    };
    let lines = vec![
        format!(
            "{env}: {} → {} (set {} by {})",
            row.git_tag.as_deref().unwrap_or("(none)"),
            choice.tag,
            choice.commit.time,
            choice.commit.author
        ),
        "and abort its canary in the cluster (traffic back on stable now)".to_owned(),
    ];
    confirm(state, format!("Roll back {app}"), lines, &row, change);
}

/// Records an env's tag in git; a new tag means new gates to fetch.
fn set_git_tag(state: &mut State, env: &str, tag: String, effects: &mut Vec<Effect>) {
    let Some(row) = state.envs.iter_mut().find(|r| r.name == env) else {
        return;
    };
    if row.git_tag.as_ref() == Some(&tag) {
        return;
    }
    row.git_tag = Some(tag.clone());
    if !matches!(state.github, Feed::NotConnected(_)) {
        effects.push(fetch_gates(state, env, tag));
    }
}

fn fetch_gates(state: &mut State, env: &str, tag: String) -> Effect {
    let required = state
        .envs
        .iter()
        .find(|r| r.name == env)
        .map(|r| r.required_checks.clone())
        .unwrap_or_default();
    let view = state.gates.entry(env.to_owned()).or_default();
    if view.tag != tag {
        *view = super::state::GatesView {
            tag: tag.clone(),
            ..Default::default()
        };
    }
    view.loading = true;
    Effect::FetchGates {
        env: env.to_owned(),
        tag,
        required,
    }
}

fn gates_loaded(
    state: &mut State,
    env: String,
    tag: &str,
    result: Result<crate::services::github::GateReport, String>,
    effects: &mut Vec<Effect>,
) {
    let view = state.gates.entry(env.clone()).or_default();
    if view.tag != tag {
        // An answer for a tag the env no longer has: newest request wins.
        return;
    }
    view.loading = false;
    match result {
        Ok(report) => {
            view.error = None;
            if let Some(at) = report.refresh_after {
                let now_ms = i64::try_from(state.clock.now_ms).unwrap_or(i64::MAX);
                let delay_ms = u64::try_from(at.as_millisecond().saturating_sub(now_ms))
                    .unwrap_or(0)
                    .max(1_000);
                effects.push(Effect::After {
                    delay_ms,
                    action: Box::new(Action::RefreshGates { env }),
                });
            }
            view.report = Some(report);
            state.github = Feed::Live;
        }
        Err(e) => view.error = Some(e),
    }
}

/// `850 ms`, `2.5 s`, `3m05s`.
fn took(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        _ => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// `just now`, `5m ago`, `3h ago`, `2d ago`.
pub fn ago(now_unix: i64, then_unix: i64) -> String {
    let s = now_unix.saturating_sub(then_unix).max(0);
    match s {
        0..60 => "just now".to_owned(),
        60..3_600 => format!("{}m ago", s / 60),
        3_600..86_400 => format!("{}h ago", s / 3_600),
        _ => format!("{}d ago", s / 86_400),
    }
}

fn log(state: &mut State, text: String, failed: bool) {
    state.activity.push(ActivityLine {
        time: state.clock.hhmm.clone(),
        text,
        failed,
    });
    // The log is for the session at hand; the audit journal keeps history.
    let excess = state.activity.len().saturating_sub(500);
    state.activity.drain(..excess);
}

/// Commands matching a palette query, best first (all of them for an empty query).
pub fn fuzzy(query: &str) -> Vec<Command> {
    if query.trim().is_empty() {
        return Command::ALL.to_vec();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut score =
        |text: &str| pattern.score(nucleo_matcher::Utf32Str::new(text, &mut buf), &mut matcher);
    // A hit in the name counts for more than one in the description: `rol` means rollback.
    let mut scored: Vec<(u32, Command)> = Command::ALL
        .iter()
        .filter_map(|c| {
            let name = score(c.name()).map(|s| s * 3);
            let desc = score(c.describe());
            let best = name.into_iter().chain(desc).max()?;
            Some((best, *c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    scored.into_iter().map(|(_, c)| c).collect()
}
