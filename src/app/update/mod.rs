//! `update(&mut State, Action) -> Vec<Effect>`: the only place state changes. Pure: no IO,
//! no clock reads, no awaits. One file per feature, as `ui/` has one per panel.

mod argocd;
mod changes;
mod drift;
mod evidence;
mod feishu;
mod fleet;
mod gates;
mod git;
mod input;
mod logs;
mod news;
mod palette;
mod pipeline;
mod rollout;
mod secrets;
mod slo;
mod timeline;
mod tmp;

pub use argocd::{auto_sync_line, now as argocd_now, window_line};
pub use changes::{
    care_hits, confirm_lines as changes_confirm_lines, pair_of, rows as changes_rows,
};
pub use evidence::WARN;
pub use palette::{fuzzy, plan as palette_plan};
pub use slo::visible as slo_visible;

use super::action::{Action, Command, Effect};
use super::state::{ActivityLine, Feed, Overlay, State};
use super::tasks::TaskOutcome;

/// How long a status-line message stays up.
const STATUS_MS: u64 = 8_000;

/// Applies one action; returns what the driver must do.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut effects = Vec::new();
    let status_before = state.status.clone();
    // A tick only matters while something on screen depends on time.
    let is_change = !matches!(action, Action::Tick);
    // Asked on every action (it also keeps the fleet's minute), not only when nothing else
    // already wants a frame.
    let minute = fleet::minute_passed(state);
    let redraw = is_change || wants_ticks(state) || minute;
    match action {
        Action::Command(cmd) => command(state, cmd, &mut effects),
        Action::Input(c) => input::typed(state, c),
        Action::Backspace => input::backspace(state),
        Action::ClearInput => input::clear(state),
        Action::Submit => input::submit(state, &mut effects),
        // The driver resolves clicks against the layout; the core only sees `Focus`.
        Action::Click { .. } | Action::Tick | Action::Resumed | Action::Recheck => {}
        Action::Focus(panel) => {
            if state.overlay.is_none() {
                state.focus = panel;
            }
        }
        Action::Resize { width, height } => state.size = (width, height),
        Action::TaskProgress { id, progress } => state.tasks.progress(id, progress),
        Action::TaskFinished { id, outcome } => {
            task_finished(state, id, outcome);
            timeline::after_task(state, &mut effects);
        }
        Action::TimelineEvents {
            seq,
            source,
            result,
        } => timeline::events(state, seq, source, result),
        Action::TimelineJournal { seq, result } => timeline::journal(state, seq, result),
        Action::Live(event) => {
            news::track(state, &event, &mut effects);
            state.live.apply(event);
            if matches!(state.cluster, Feed::Connecting | Feed::NotConnected(_)) {
                state.cluster = Feed::Live;
            }
            git::settle_releases(state, &mut effects);
            drift::track(state, &mut effects);
            pipeline::failed_migrations(state, &mut effects);
        }
        Action::MigrationLogs { job, result } => pipeline::migration_logs(state, job, result),
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
        Action::RefreshGitRef => effects.push(Effect::CheckGitRef),
        Action::GitRef(result) => git::tip(state, result, &mut effects),
        Action::GitFetched(tip) => state.git_tip = Some(tip),
        Action::RefreshSecrets => effects.push(Effect::LoadSecrets),
        Action::Notified { line, failed } => log(state, line, failed),
        Action::CandidateGates(c) => gates::candidate_loaded(state, c, &mut effects),
        Action::RefreshCandidate { env, tag } => {
            gates::refresh_candidate(state, env, tag, &mut effects);
        }
        Action::ChangesLoaded {
            base_tag,
            head_tag,
            result,
        } => changes::loaded(state, base_tag, head_tag, result),
        Action::GateRefused { change, message } => {
            state.overlay = Some(Overlay::Reason {
                change,
                message,
                input: String::new(),
            });
        }
        Action::TmpPlanned(result) => tmp::planned(state, result),
        Action::FeishuPlanned(result) => feishu::planned(state, result),
        Action::SecretsLoaded(result) => secrets::loaded(state, result),
        Action::GitSnapshot(result) => {
            git::snapshot(state, result, &mut effects);
            drift::track(state, &mut effects);
            changes::want_pairs(state, &mut effects);
            fleet::want_gates(state, &mut effects);
        }
        Action::FleetGates(results) => fleet::gates(state, results, &mut effects),
        Action::RefreshFleetGates => fleet::refresh_gates(state, &mut effects),
        Action::KnownTags { app, result } => git::known_tags(state, &app, result),
        Action::History { app, env, result } => git::history(state, &app, &env, result),
        Action::GitTags(tags) => {
            for (env, tag) in tags {
                git::set_git_tag(state, &env, tag, &mut effects);
            }
        }
        Action::GatesLoaded { env, tag, result } => {
            gates::loaded(state, env, &tag, result, &mut effects);
        }
        Action::RefreshGates { env } => gates::refresh(state, &env, &mut effects),
        Action::ArtifactsLoaded {
            app,
            env,
            tag,
            result,
        } => pipeline::artifacts_loaded(state, app, env, &tag, result, &mut effects),
        Action::RefreshArtifacts { app, env, tag } => {
            pipeline::refresh_artifacts(state, app, env, tag, &mut effects);
        }
        Action::RefreshBackups => pipeline::refresh_backups(state, &mut effects),
        Action::BackupsLoaded(result) => pipeline::backups_loaded(state, result),
        Action::RefreshSlo { app, env, since } => {
            slo::refresh(state, app, env, since, &mut effects);
        }
        Action::SloLoaded {
            app,
            env,
            seq,
            result,
        } => {
            slo::loaded(state, app, env, seq, result);
            slo::next_tick(&mut effects);
        }
        Action::Logs {
            generation,
            role,
            events,
        } => logs::event(state, generation, role, events),
        Action::Terminate => effects.push(Effect::Quit),
        Action::StatusExpired(n) => {
            if n == state.status_seq {
                state.status = None;
            }
        }
    }
    slo::keep_fresh(state, &mut effects);
    if state.status.is_some() && state.status != status_before {
        state.status_seq += 1;
        effects.push(Effect::Schedule {
            key: super::action::TimerKey::Status,
            after_ms: STATUS_MS,
            action: Box::new(Action::StatusExpired(state.status_seq)),
        });
    }
    // The fleet's ages need the clock too; it redraws for them once a minute.
    let want_tick = wants_ticks(state) || state.overlay == Some(Overlay::Fleet);
    if want_tick != state.ticking {
        state.ticking = want_tick;
        effects.push(Effect::SetTicking(want_tick));
    }
    if redraw {
        state.dirty = true;
    }
    // While the fleet is on screen, what waits for a person follows every change (a tick
    // changes nothing but the minute, which `minute_passed` saw to).
    if is_change && state.overlay == Some(Overlay::Fleet) {
        super::fleet::note_needs(state);
    }
    effects
}

/// Whether something on screen reads differently as time passes, so the clock must tick once a
/// second: a running task's elapsed time, a pause countdown, a runner's age. Otherwise no tick
/// fires at all (an idle cockpit stays idle).
fn wants_ticks(state: &State) -> bool {
    if state.tasks.any_running() {
        return true;
    }
    if state.overlay.is_some() && !matches!(state.overlay, Some(Overlay::Confirm { .. })) {
        return false;
    }
    let visible = |p: super::state::Panel| !state.zoomed || state.focus == p;
    let countdown = visible(super::state::Panel::Rollout)
        && state
            .selected_app()
            .zip(state.selected_env())
            .and_then(|(app, env)| state.live.rollout(app, &env.name))
            .is_some_and(|r| r.pause_ends_at.is_some() && !r.paused);
    let runner_ages = visible(super::state::Panel::Runners)
        && state
            .live
            .runners
            .as_ref()
            .is_some_and(|r| r.sets.iter().any(|s| !s.runners.is_empty()));
    countdown || runner_ages
}

fn task_finished(state: &mut State, id: super::tasks::TaskId, outcome: TaskOutcome) {
    let now = state.clock.now_ms;
    if let Some(task) = state.tasks.finish(id, outcome.clone(), now) {
        let title = task.title.clone();
        let secs = task.ended_ms.unwrap_or(now).saturating_sub(task.started_ms);
        argocd::after_task(state, &title, matches!(outcome, TaskOutcome::Done(_)));
        let (text, failed) = match outcome {
            TaskOutcome::Done(line) => (line, false),
            TaskOutcome::Failed(err) => (format!("{title}: failed: {err}"), true),
            TaskOutcome::Refused(why) => (format!("{title}: refused: {why}"), true),
            TaskOutcome::Cancelled => (format!("{title}: cancelled"), true),
        };
        let line = format!("{text} ({})", took(secs));
        // The result where the eye already is, as well as in Activity.
        state.status = Some(line.clone());
        log(state, line, failed);
    }
}

fn command(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) {
    // The fleet answers its own keys; a write it passes on is checked once it selected the
    // cell's app × env.
    if state.overlay == Some(Overlay::Fleet) && fleet::handles(cmd) {
        fleet::command(state, cmd, effects);
        return;
    }
    // A write that would only be refused says why instead (the op refuses it regardless).
    if cmd.writes()
        && let Some(why) = key_blocked(state, cmd)
    {
        state.status = Some(why);
        return;
    }
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
        Command::Open => match state
            .selected_activity
            .filter(|_| state.focus == super::state::Panel::Activity)
            .and_then(|i| state.activity.get(i))
        {
            Some(line) => {
                state.overlay = Some(Overlay::Line {
                    time: line.time.clone(),
                    text: line.text.clone(),
                    failed: line.failed,
                });
            }
            None => state.zoomed = !state.zoomed,
        },
        Command::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                query: String::new(),
                selected: 0,
            });
        }
        Command::App | Command::Env => palette::ask_name(state, cmd),
        Command::Cancel => input::cancel(state, effects),
        Command::Up => input::move_selection(state, -1),
        Command::Down => input::move_selection(state, 1),
        Command::Suspend => effects.push(Effect::Suspend),
        Command::Logs if state.focus == super::state::Panel::Rollout => logs::open(state, effects),
        Command::NextApp | Command::PrevApp | Command::Logs => {
            let n = state.apps.len();
            if n > 1 {
                state.selected_app = if cmd == Command::NextApp || cmd == Command::Logs {
                    (state.selected_app + 1) % n
                } else {
                    (state.selected_app + n - 1) % n
                };
                git::sync_rows(state, effects);
                changes::want_pairs(state, effects);
            }
        }
        Command::Promote if state.focus == super::state::Panel::Rollout => {
            rollout::ask(state, cmd);
        }
        Command::Release | Command::Rollback | Command::Promote => {
            git::command(state, cmd, effects);
        }
        Command::PromoteFull
        | Command::Abort
        | Command::Retry
        | Command::Pause
        | Command::Restart => rollout::ask(state, cmd),
        Command::Secrets => {
            state.overlay = Some(Overlay::Secrets);
            effects.push(Effect::LoadSecrets);
        }
        Command::Tmp => {
            state.tmp = super::state::TmpView::default();
            state.overlay = Some(Overlay::Tmp);
            effects.push(Effect::PlanTmp);
        }
        Command::Feishu => {
            state.feishu = super::state::FeishuView::default();
            state.overlay = Some(Overlay::Feishu);
            effects.push(Effect::PlanFeishu);
        }
        Command::OpenLink if state.overlay == Some(Overlay::Changes) => {
            changes::open_link(state, effects);
        }
        Command::OpenLink => gates::open_link(state, effects),
        Command::Changes => changes::open(state, effects),
        Command::PauseLogs => logs::toggle_pause(state),
        Command::Container => logs::next_container(state, effects),
        Command::Timeline => timeline::open(state, effects),
        Command::Fleet => fleet::toggle(state, effects),
        Command::Group => {}
        Command::Refresh | Command::Sync | Command::TerminateSync => {
            argocd::command(state, cmd, effects);
        }
        Command::Filter => match state.overlay {
            Some(Overlay::Changes) => state.changes.filtering = true,
            Some(Overlay::Logs) => state.logs.filtering = true,
            Some(Overlay::Timeline) => state.timeline.filtering = true,
            _ => {}
        },
        Command::Rotate
        | Command::RotateStale
        | Command::RotateAll
        | Command::AddRecipient
        | Command::RemoveRecipient => secrets::command(state, cmd),
        Command::Order => match state.overlay {
            Some(Overlay::Secrets) => secrets::toggle_order(state),
            Some(Overlay::Tmp) => tmp::next_order(state),
            _ => {}
        },
        Command::Toggle => tmp::toggle(state),
        Command::Apply => match state.overlay {
            Some(Overlay::Tmp) => tmp::ask_clean(state),
            Some(Overlay::Feishu) => feishu::ask_apply(state),
            _ => {}
        },
    }
}

/// Why a key would be refused right now, for the key bar and the views to grey it out:
/// writes are off (read-only), or a rollout action Argo CD's rules or RBAC rule out.
/// `None`: the key is live.
pub fn key_blocked(state: &State, cmd: Command) -> Option<String> {
    if cmd.writes()
        && let Some(why) = &state.read_only
    {
        return Some(format!("{}: {why}", cmd.name()));
    }
    rollout::blocked(state, cmd).or_else(|| argocd::blocked(state, cmd))
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
    // A selected line stays the same line while older ones go.
    state.selected_activity = state.selected_activity.and_then(|i| i.checked_sub(excess));
}

/// Moves an index one step within `len` rows.
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
