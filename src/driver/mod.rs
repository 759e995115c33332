//! The TUI's IO side: reads terminal events, turns them into Actions through the keymap, runs
//! `update`, carries out Effects as tasks, and draws when state changed (coalesced, capped).
//! `services` builds the clients, `runner` carries out effects (reads and timers here, writes
//! through `ops` in `writes`). No sentence a user reads is made here: reports format themselves.

mod logs;
mod news_seen;
mod reads;
mod runner;
mod services;
mod timeline;
mod writes;

pub use runner::Runner;
pub use services::Services;

use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use crate::app::{Action, Effect, State, update};
use crate::inventory::Inventory;
use crate::paths::Paths;
use crate::terminal::TerminalGuard;

/// At most this many frames per second, however fast actions arrive.
const FRAME: Duration = Duration::from_millis(33);

/// Why the cockpit could not run.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Runs the cockpit until the user quits or the process is told to stop. `read_only_flag`:
/// `--read-only` was given (the inventory's own `read_only` is read by the ops).
pub async fn run_tui(
    mut state: State,
    inventory: &Inventory,
    paths: &Paths,
    read_only_flag: bool,
) -> Result<Option<crate::headless::Exit>, DriverError> {
    let t0 = Instant::now();
    let lap = |what: &str| tracing::debug!(us = t0.elapsed().as_micros(), "tui: {what}");
    // Handlers first: a signal from the first frame on must restore the terminal.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut guard = TerminalGuard::enter()?;
    // Which signal ended the cockpit, if one did: the exit code says so (128 + its number).
    let mut signalled = None;
    let (tx, mut rx) = unbounded_channel::<Action>();
    // Many apps: the first screen is the fleet, which says which one needs a person.
    if inventory.apps.len() > 1 && state.overlay.is_none() {
        state.overlay = Some(crate::app::Overlay::Fleet);
    }
    // The app whose pods the watches list: the one on screen (none while the fleet is).
    let (on_screen, on_screen_rx) = tokio::sync::watch::channel(state.app_on_screen());
    let pods = crate::services::kube::watch::PodScope::OnScreen(on_screen_rx);
    let watches = start_watches(inventory, &tx, &pods);
    if watches.is_some() {
        state.cluster = crate::app::state::Feed::Connecting;
    }
    lap("terminal entered, watches started");
    // Something on screen before the services are even asked: they fill in as they answer.
    let size = guard.terminal().size()?;
    state.size = (size.width, size.height);
    guard.terminal().draw(|f| crate::ui::render(f, &state))?;
    lap("first frame drawn");
    let services = Services::connect(inventory, paths, read_only_flag, &mut state, &tx).await;
    state.dirty = true;
    lap("services connected");
    let mut driver = Runner::new(tx.clone(), services);
    driver.run(Effect::RefreshGit);
    for e in update(&mut state, Action::RefreshBackups) {
        driver.run(e);
    }
    let mut events = EventStream::new();
    let mut last_draw: Option<Instant> = Some(Instant::now());
    let mut pending: Vec<Action> = Vec::new();

    loop {
        if state.dirty {
            let due = last_draw.map_or(Duration::ZERO, |t| FRAME.saturating_sub(t.elapsed()));
            if due.is_zero() {
                guard.terminal().draw(|f| crate::ui::render(f, &state))?;
                state.dirty = false;
                last_draw = Some(Instant::now());
            }
        }
        let wait = if state.dirty {
            last_draw.map_or(Duration::ZERO, |t| FRAME.saturating_sub(t.elapsed()))
        } else {
            Duration::from_secs(3600)
        };
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => pending.extend(state.keymap.resolve(&ev, state.input_mode())),
                Some(Err(_)) | None => pending.push(Action::Terminate),
            },
            Some(a) = rx.recv() => pending.push(a),
            _ = sigterm.recv() => {
                signalled = Some(crate::headless::Exit::Terminated);
                pending.push(Action::Terminate);
            }
            _ = sigint.recv() => {
                signalled = Some(crate::headless::Exit::Interrupted);
                pending.push(Action::Terminate);
            }
            _ = sighup.recv() => {
                signalled = Some(crate::headless::Exit::HungUp);
                pending.push(Action::Terminate);
            }
            () = tokio::time::sleep(wait) => {}
        }
        drain(&mut rx, &mut pending);
        if pending.is_empty() {
            continue;
        }
        stamp(&mut state);
        let mut quit = false;
        for action in pending.drain(..) {
            let action = resolve_click(&state, action);
            for effect in update(&mut state, action) {
                match effect {
                    Effect::Quit => quit = true,
                    Effect::Suspend => {
                        guard.suspend()?;
                        tx.send(Action::Resumed).ok();
                        state.dirty = true;
                        last_draw = None;
                    }
                    other => driver.run(other),
                }
            }
        }
        if quit {
            break;
        }
        let now_on_screen = state.app_on_screen();
        on_screen.send_if_modified(|a| {
            let changed = *a != now_on_screen;
            *a = now_on_screen;
            changed
        });
    }
    driver.cancel_all();
    if let Some(w) = watches {
        w.abort();
    }
    guard.exit()?;
    Ok(signalled)
}

/// A click names a cell; the layout knows which panel is there, the core only hears `Focus`.
pub fn resolve_click(state: &State, action: Action) -> Action {
    match action {
        Action::Click { column, row } => {
            crate::ui::layout::panel_at(state, column, row).map_or(Action::Tick, Action::Focus)
        }
        other => other,
    }
}

/// Cluster watches report `LiveEvent`s; they reach `update` as `Action::Live`.
fn start_watches(
    inventory: &Inventory,
    tx: &UnboundedSender<Action>,
    pods: &crate::services::kube::watch::PodScope,
) -> Option<JoinHandle<()>> {
    let (live_tx, mut live_rx) = unbounded_channel();
    let watches = crate::services::kube::spawn_watches(inventory, live_tx, pods)?;
    let tx = tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(ev) = live_rx.recv().await {
            if tx.send(Action::Live(ev)).is_err() {
                break;
            }
        }
    });
    Some(tokio::spawn(async move {
        let _ = watches.await;
        forward.abort();
    }))
}

fn drain(rx: &mut UnboundedReceiver<Action>, pending: &mut Vec<Action>) {
    while let Ok(a) = rx.try_recv() {
        pending.push(a);
    }
}

fn stamp(state: &mut State) {
    let now = jiff::Zoned::now();
    state.clock.now_ms = u64::try_from(now.timestamp().as_millisecond()).unwrap_or(0);
    state.clock.hhmm = now.strftime("%H:%M").to_string();
}
