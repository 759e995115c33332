//! The TUI's IO side: reads terminal events, turns them into Actions through the keymap, runs
//! `update`, carries out Effects as tasks, and draws when state changed (coalesced, capped).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::tasks::{TaskId, TaskOutcome};
use crate::app::{Action, Effect, State, update};
use crate::inventory::Inventory;
use crate::paths::Paths;
use crate::services::gitops::{ChangeRequest, GitopsEngine};
use crate::terminal::TerminalGuard;
use std::sync::Arc;

/// At most this many frames per second, however fast actions arrive.
const FRAME: Duration = Duration::from_millis(33);

/// Why the cockpit could not run.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Runs the cockpit until the user quits or the process is told to stop.
pub async fn run_tui(
    mut state: State,
    inventory: &Inventory,
    paths: &Paths,
) -> Result<(), DriverError> {
    let t0 = Instant::now();
    let lap = |what: &str| tracing::debug!(us = t0.elapsed().as_micros(), "tui: {what}");
    // Handlers first: a signal from the first frame on must restore the terminal.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut guard = TerminalGuard::enter()?;
    let (tx, mut rx) = unbounded_channel::<Action>();
    let watches = start_watches(inventory, &tx);
    if watches.is_some() {
        state.cluster = crate::app::state::Feed::Connecting;
    }
    lap("terminal entered, watches started");
    // Something on screen before the services are even asked: they fill in as they answer.
    let size = guard.terminal().size()?;
    state.size = (size.width, size.height);
    guard.terminal().draw(|f| crate::ui::render(f, &state))?;
    lap("first frame drawn");
    let services = Services::connect(inventory, paths, &mut state, &tx).await;
    state.dirty = true;
    lap("services connected");
    let mut driver = Runner::new(tx.clone(), services);
    driver.run(Effect::RefreshGit);
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
            _ = sigterm.recv() => pending.push(Action::Terminate),
            _ = sigint.recv() => pending.push(Action::Terminate),
            _ = sighup.recv() => pending.push(Action::Terminate),
            () = tokio::time::sleep(wait) => {}
        }
        drain(&mut rx, &mut pending);
        if pending.is_empty() {
            continue;
        }
        stamp(&mut state);
        let mut quit = false;
        for action in pending.drain(..) {
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
    }
    driver.cancel_all();
    if let Some(w) = watches {
        w.abort();
    }
    guard.exit()?;
    Ok(())
}

/// Cluster watches report `LiveEvent`s; they reach `update` as `Action::Live`.
fn start_watches(inventory: &Inventory, tx: &UnboundedSender<Action>) -> Option<JoinHandle<()>> {
    let (live_tx, mut live_rx) = unbounded_channel();
    let watches = crate::services::kube::spawn_watches(inventory, live_tx)?;
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

/// Starts the Feishu notifier; its outcomes reach the Activity log as `Action::Notified`.
fn start_notifier(
    inventory: &Inventory,
    state: &mut State,
    tx: &UnboundedSender<Action>,
) -> Option<Arc<crate::services::feishu::Notifier>> {
    use crate::services::feishu::Delivery;
    let (started, problems) = crate::services::feishu::notifier_for_inventory(inventory);
    if let Some(p) = problems.first() {
        state.status = Some(format!("feishu: {p}"));
    }
    let (notifier, mut orx) = started?;
    let tx = tx.clone();
    tokio::spawn(async move {
        while let Some(o) = orx.recv().await {
            let (line, failed) = match &o.delivery {
                Delivery::Delivered => (format!("Feishu ✔ {} → {}", o.title, o.chat), false),
                // Retries are the notifier's business; only the end result is news.
                Delivery::Retrying { .. } => continue,
                Delivery::Failed { error } => {
                    (format!("Feishu ✘ {} → {}: {error}", o.title, o.chat), true)
                }
            };
            if tx.send(Action::Notified { line, failed }).is_err() {
                break;
            }
        }
    });
    Some(Arc::new(notifier))
}

/// The preview rows and summary lines of a tmp plan.
fn tmp_rows(
    plan: &crate::services::tmpclean::Plan,
) -> (Vec<crate::app::state::TmpRow>, Vec<String>) {
    use crate::services::tmpclean::format_bytes;
    let rows = plan
        .candidates
        .iter()
        .enumerate()
        .map(|(idx, c)| crate::app::state::TmpRow {
            idx,
            path: c.path.display().to_string(),
            size: c.size,
            age_secs: c.age_secs,
            rule: c.rule.clone(),
            reason: c.reason.clone(),
        })
        .collect();
    let mut summary = vec![format!(
        "{}: {} entries, {} ({:?})",
        plan.root.display(),
        plan.total_files,
        format_bytes(plan.total_bytes),
        plan.mode
    )];
    summary.extend(plan.totals.iter().map(|t| {
        format!(
            "  {:<28} {:>6} files {:>10}",
            t.rule,
            t.files,
            format_bytes(t.bytes)
        )
    }));
    (rows, summary)
}

/// The image repository an app runs, for chat messages that name what was aborted.
type FeishuPlanSlot = Arc<
    std::sync::Mutex<
        Option<(
            crate::services::feishu::MemberSync,
            crate::services::feishu::SyncPlan,
        )>,
    >,
>;

async fn feishu_sync(inv: &Inventory) -> Result<crate::services::feishu::MemberSync, String> {
    let cfg = inv
        .feishu
        .as_ref()
        .ok_or("no `feishu:` section in the inventory")?;
    let creds = crate::services::feishu::Credentials::from_env(cfg, inv.base_dir())
        .map_err(|e| e.to_string())?;
    crate::services::feishu::MemberSync::for_inventory(inv, &creds)
        .await
        .map_err(|e| e.to_string())
}

/// The identities the inventory's secrets section points at (plus the usual env/places).
fn secrets_identities(
    inv: &Inventory,
) -> Result<crate::services::secrets::keys::Identities, String> {
    let extra = inv
        .secrets
        .as_ref()
        .and_then(|s| s.age_key_file.as_deref())
        .map(|f| inv.resolve(f));
    crate::services::secrets::keys::IdentitySources::from_env(extra)
        .load()
        .map_err(|e| e.to_string())
}

/// Every SOPS file under the inventory's secret paths, as the Secrets view lists them.
fn secrets_table(inv: &Inventory) -> Result<Vec<crate::services::secrets::ops::FileInfo>, String> {
    let Some(cfg) = &inv.secrets else {
        return Err("no `secrets:` section in the inventory".into());
    };
    let roots: Vec<std::path::PathBuf> = cfg.paths.iter().map(|p| inv.resolve(p)).collect();
    let ids = secrets_identities(inv)?;
    let files = crate::services::secrets::ops::discover(&roots);
    Ok(crate::services::secrets::ops::list(
        &files,
        &ids,
        cfg.rotation_days,
        jiff::Timestamp::now(),
    ))
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

/// Carries out effects; every result comes back through `tx` as an Action. The TUI uses it,
/// and so do the headless-app tests (no terminal involved).
pub struct Runner {
    /// The last tmp plan shown: `clean` applies exactly it (minus what the user skipped).
    tmp_plan: Arc<std::sync::Mutex<Option<crate::services::tmpclean::Plan>>>,
    /// The last member-sync plan shown, and the sync that made it: `apply` applies exactly it.
    feishu_plan: FeishuPlanSlot,
    tx: UnboundedSender<Action>,
    cancels: HashMap<TaskId, CancellationToken>,
    ticker: Option<JoinHandle<()>>,
    services: Services,
}

/// The clients effects run with; built once from the inventory.
pub struct Services {
    pub gates: Option<crate::services::github::GatesService>,
    /// Feishu bot notifications; `None` without a `feishu:` section (or with no usable chat).
    pub notifier: Option<Arc<crate::services::feishu::Notifier>>,
    pub gitops: GitopsHandle,
    pub inventory: Arc<Inventory>,
    pub paths: Paths,
}

/// The GitOps engine, opened (a clone or fetch: blocking, maybe slow) on first use off the UI task.
#[derive(Clone)]
pub struct GitopsHandle {
    inventory: Arc<Inventory>,
    paths: Paths,
    cell: Arc<tokio::sync::OnceCell<Result<Arc<GitopsEngine>, String>>>,
}

impl GitopsHandle {
    pub fn new(inventory: Arc<Inventory>, paths: Paths) -> Self {
        GitopsHandle {
            inventory,
            paths,
            cell: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// The engine, opening it once.
    pub async fn engine(&self) -> Result<Arc<GitopsEngine>, String> {
        self.cell
            .get_or_init(|| async {
                let (inv, paths) = (self.inventory.clone(), self.paths.clone());
                match tokio::task::spawn_blocking(move || GitopsEngine::open(&inv, &paths)).await {
                    Ok(Ok(engine)) => Ok(Arc::new(engine)),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await
            .clone()
    }

    /// Runs a blocking engine call off the UI task.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&GitopsEngine) -> Result<T, crate::services::gitops::GitopsError>
        + Send
        + 'static,
    ) -> Result<T, String> {
        let engine = self.engine().await?;
        tokio::task::spawn_blocking(move || f(&engine).map_err(|e| e.to_string()))
            .await
            .map_err(|e| e.to_string())?
    }
}

impl Services {
    /// Builds every client the inventory configures and marks the state's feeds accordingly.
    pub async fn connect(
        inventory: &Inventory,
        paths: &Paths,
        state: &mut State,
        tx: &UnboundedSender<Action>,
    ) -> Services {
        use crate::app::state::Feed;
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
        let notifier = start_notifier(inventory, state, tx);
        let inventory = Arc::new(inventory.clone());
        state.gitops = crate::app::state::Feed::Connecting;
        Services {
            gates,
            notifier,
            gitops: GitopsHandle::new(inventory.clone(), paths.clone()),
            inventory,
            paths: paths.clone(),
        }
    }
}

impl Runner {
    pub fn new(tx: UnboundedSender<Action>, services: Services) -> Runner {
        Runner {
            tmp_plan: Arc::default(),
            feishu_plan: FeishuPlanSlot::default(),
            tx,
            cancels: HashMap::new(),
            ticker: None,
            services,
        }
    }

    /// Cancels every task this runner started (on quit).
    pub fn cancel_all(&mut self) {
        for token in self.cancels.values() {
            token.cancel();
        }
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }

    /// A cancellable task with a progress channel forwarded as `TaskProgress`.
    fn task_ctl(&mut self, id: TaskId) -> crate::services::TaskCtl {
        let token = CancellationToken::new();
        self.cancels.insert(id, token.clone());
        let (ptx, mut prx) = unbounded_channel();
        let progress_tx = self.tx.clone();
        tokio::spawn(async move {
            while let Some(progress) = prx.recv().await {
                if progress_tx
                    .send(Action::TaskProgress { id, progress })
                    .is_err()
                {
                    break;
                }
            }
        });
        crate::services::TaskCtl::new(token, ptx)
    }

    fn rollout_action(
        &mut self,
        id: TaskId,
        app: String,
        env: String,
        action: crate::services::kube::actions::RolloutAction,
    ) {
        use crate::services::kube::actions::{RolloutAction, RolloutRef, execute};
        let (inv, tx, notifier) = (
            self.services.inventory.clone(),
            self.tx.clone(),
            self.services.notifier.clone(),
        );
        tokio::spawn(async move {
            let result = match RolloutRef::from_inventory(&inv, &app, &env) {
                Ok(r) => execute(&r, action).await,
                Err(e) => Err(e),
            };
            let outcome = match result {
                Ok(done) => {
                    if let (RolloutAction::Abort, Some(n)) = (action, &notifier) {
                        n.notify(&crate::services::release::abort_card(&app, &env, &done));
                    }
                    let statuses: Vec<&str> = done.sent.iter().map(|(s, _)| s.as_str()).collect();
                    TaskOutcome::Done(format!(
                        "{} {app} {env}: sent ({})",
                        action.name(),
                        statuses.join(", ")
                    ))
                }
                Err(e) => {
                    // A 403 is news about RBAC: grey the keys it covers from now on.
                    if matches!(e, crate::services::kube::KubeError::Forbidden(_)) {
                        let _ = tx.send(Action::Live(forbidden_access(action, env.clone())));
                    }
                    TaskOutcome::Failed(e.to_string())
                }
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    fn clean_tmp(&mut self, id: TaskId, skip: &[usize]) {
        let ctl = self.task_ctl(id);
        let taken = self
            .tmp_plan
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let skip: std::collections::BTreeSet<usize> = skip.iter().copied().collect();
        let (paths, tx) = (self.services.paths.clone(), self.tx.clone());
        tokio::spawn(async move {
            let outcome = match taken {
                None => TaskOutcome::Failed("no preview to apply: press t again".into()),
                Some(plan) => {
                    let chosen = plan.subset(|i, _| !skip.contains(&i));
                    let journal = crate::audit::Journal::new(paths.audit_journal());
                    match tokio::task::spawn_blocking(move || {
                        crate::services::tmpclean::apply(&chosen, &journal, &ctl)
                    })
                    .await
                    {
                        Ok(Ok(r)) if r.cancelled => TaskOutcome::Cancelled,
                        Ok(Ok(r)) => {
                            let line = format!(
                                "tmp: removed {} files, {} freed; {} changed since the preview kept; {} failed",
                                r.removed_files,
                                crate::services::tmpclean::format_bytes(r.removed_bytes),
                                r.changed.len(),
                                r.failed.len()
                            );
                            if r.failed.is_empty() {
                                TaskOutcome::Done(line)
                            } else {
                                TaskOutcome::Failed(line)
                            }
                        }
                        Ok(Err(e)) => TaskOutcome::Failed(e.to_string()),
                        Err(e) => TaskOutcome::Failed(e.to_string()),
                    }
                }
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    fn apply_feishu(&mut self, id: TaskId) {
        let ctl = self.task_ctl(id);
        let (tx, slot) = (self.tx.clone(), self.feishu_plan.clone());
        tokio::spawn(async move {
            let taken = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            let outcome = match taken {
                None => TaskOutcome::Failed("no plan to apply: open the view again".into()),
                Some((sync, plan)) => match sync.apply(&plan, &ctl).await {
                    Ok(s) if s.cancelled => TaskOutcome::Cancelled,
                    Ok(s) if s.failed() => TaskOutcome::Failed(format!(
                        "feishu sync: {} added, {} removed; some chats failed: {}",
                        s.added(),
                        s.removed(),
                        s.chats
                            .iter()
                            .filter_map(|c| c.error.as_ref().map(|e| format!("{}: {e}", c.chat)))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )),
                    Ok(s) => TaskOutcome::Done(format!(
                        "feishu sync: {} added, {} removed in {} chats ({} writes)",
                        s.added(),
                        s.removed(),
                        s.chats.len(),
                        s.writes
                    )),
                    Err(e) => TaskOutcome::Failed(e.to_string()),
                },
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
        });
    }

    /// A batch over SOPS files in the background: rotate, or add/remove a recipient. Journaled,
    /// announced in the chats, and the Secrets view reloads afterwards.
    fn secrets_batch(
        &mut self,
        id: TaskId,
        files: Vec<std::path::PathBuf>,
        op: crate::app::state::SecretsOp,
    ) {
        use crate::app::state::SecretsOp;
        use crate::services::secrets::ops;
        let ctl = self.task_ctl(id);
        let (inv, paths, tx, notifier) = (
            self.services.inventory.clone(),
            self.services.paths.clone(),
            self.tx.clone(),
            self.services.notifier.clone(),
        );
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let batch_op = op.clone();
            let work = tokio::task::spawn_blocking(move || {
                let ids = secrets_identities(&inv)?;
                let report = match &batch_op {
                    SecretsOp::Rotate => ops::rotate(&files, &ids, &[], &[], &ctl),
                    SecretsOp::AddRecipient(r) => ops::add_recipient(&files, r, &ids, &ctl),
                    SecretsOp::RemoveRecipient(r) => {
                        ops::remove_recipient(&files, r, &ids, true, &ctl)
                    }
                };
                let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                let journal = crate::audit::Journal::new(paths.audit_journal());
                if let Err(e) = journal.append(&report.audit_entry(ms)) {
                    tracing::warn!(error = %e, "audit journal not written");
                }
                Ok::<_, String>(report)
            })
            .await;
            let outcome = match work {
                Ok(Ok(r)) if r.cancelled => TaskOutcome::Cancelled,
                Ok(Ok(r)) if r.failed > 0 => TaskOutcome::Failed(format!(
                    "{} changed, {} failed (unchanged): {}",
                    r.changed,
                    r.failed,
                    r.files
                        .iter()
                        .filter_map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
                Ok(Ok(r)) => {
                    let card = match &op {
                        SecretsOp::Rotate => {
                            crate::services::release::rotation_card(r.changed, None)
                        }
                        SecretsOp::RemoveRecipient(who) => {
                            crate::services::release::rotation_card(r.changed, Some(who))
                        }
                        SecretsOp::AddRecipient(who) => {
                            crate::services::release::recipient_added_card(r.changed, who)
                        }
                    };
                    if let Some(n) = notifier.as_ref().filter(|_| r.changed > 0) {
                        n.notify(&card);
                    }
                    TaskOutcome::Done(format!(
                        "{}: {} changed",
                        op.title(r.files.len()),
                        r.changed
                    ))
                }
                Ok(Err(e)) => TaskOutcome::Failed(e),
                Err(e) => TaskOutcome::Failed(e.to_string()),
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
            let _ = tx.send(Action::RefreshSecrets);
        });
    }

    /// A background task with progress and cancellation: gates, then commit and push.
    fn git_change(&mut self, id: TaskId, change: crate::app::state::PendingChange) {
        let ctl = self.task_ctl(id);
        let token = ctl.cancel_token().clone();
        let tx = self.tx.clone();
        let (git, gates, inv, notifier) = (
            self.services.gitops.clone(),
            self.services.gates.clone(),
            self.services.inventory.clone(),
            self.services.notifier.clone(),
        );
        tokio::spawn(async move {
            let mut req = ChangeRequest::new(
                change.action,
                &change.app,
                &change.env,
                change.tag.as_deref(),
            );
            req.expected_from.clone_from(&change.expected_from);
            req.source_env.clone_from(&change.source_env);
            let started = std::time::Instant::now();
            // Rollback under GitOps is two moves: abort in the cluster (traffic back on stable
            // now) and the previous tag in git (so Argo CD does not re-apply the bad one).
            let abort = (change.action == crate::services::gitops::Action::Rollback).then(|| {
                let (inv, app, env) = (inv.clone(), change.app.clone(), change.env.clone());
                tokio::spawn(async move {
                    let t = std::time::Instant::now();
                    let r = match crate::services::kube::actions::RolloutRef::from_inventory(
                        &inv, &app, &env,
                    ) {
                        Ok(r) => crate::services::kube::actions::abort_for_rollback(&r).await,
                        Err(e) => Err(e),
                    };
                    (r, t.elapsed())
                })
            });
            let req_copy = req.clone();
            let result = match git.engine().await {
                Err(e) => Err(e),
                Ok(engine) => crate::services::release::guarded_change(
                    engine,
                    gates.as_ref(),
                    &inv,
                    req,
                    change.override_reason.as_deref(),
                    ctl,
                )
                .await
                .map_err(|e| {
                    // A refusal the env lets you override: ask for the reason right away.
                    if let crate::services::release::ReleaseError::Gates(r) = &e
                        && r.override_allowed
                        && change.override_reason.is_none()
                    {
                        let _ = tx.send(Action::GateRefused {
                            change: change.clone(),
                            message: r.message.clone(),
                        });
                    }
                    e.to_string()
                }),
            };
            if let Some(notifier) = &notifier {
                for n in crate::services::release::notifications(&req_copy, &inv, &result) {
                    notifier.notify(&n);
                }
            }
            let result = result.map(|g| g.outcome);
            if let Ok(done) = &result
                && done.commit.is_some()
                && change.action != crate::services::gitops::Action::Rollback
            {
                let _ = tx.send(Action::Pushed {
                    app: change.app.clone(),
                    env: change.env.clone(),
                    from: done.from.clone().unwrap_or_else(|| "-".into()),
                    to: done.to.clone(),
                    actor: req_copy.actor.clone(),
                });
            }
            let git_ms = started.elapsed().as_millis();
            let abort_line = match abort {
                None => None,
                Some(h) => Some(match h.await {
                    Ok((Ok(_), took)) => {
                        format!(
                            "cluster: aborted, traffic on stable ({} ms)",
                            took.as_millis()
                        )
                    }
                    Ok((Err(crate::services::kube::KubeError::Refused(why)), _)) => {
                        format!("cluster: nothing to abort ({why})")
                    }
                    Ok((Err(e), _)) => format!("cluster: abort failed: {e}"),
                    Err(e) => format!("cluster: abort task failed: {e}"),
                }),
            };
            let total = started.elapsed().as_millis();
            let outcome = match (result, abort_line) {
                (Ok(done), None) => TaskOutcome::Done(done.message),
                (Ok(done), Some(a)) => TaskOutcome::Done(format!(
                    "{}; {a}; git {git_ms} ms; done in {total} ms",
                    done.message
                )),
                (Err(_), _) if token.is_cancelled() => TaskOutcome::Cancelled,
                (Err(e), None) => TaskOutcome::Failed(e),
                (Err(e), Some(a)) => TaskOutcome::Failed(format!("git: {e}; {a}")),
            };
            let _ = tx.send(Action::TaskFinished { id, outcome });
            let _ = tx.send(Action::RefreshGit);
        });
    }

    /// Starts one effect; `Quit` and `Suspend` belong to the terminal loop and are ignored here.
    pub fn run(&mut self, effect: Effect) {
        match effect {
            Effect::Quit | Effect::Suspend => {}
            Effect::CancelTask(id) => {
                if let Some(token) = self.cancels.remove(&id) {
                    token.cancel();
                }
            }
            Effect::OpenUrl(url) => {
                // The opener detaches; its exit status says nothing about the URL.
                let _ = std::process::Command::new("xdg-open")
                    .arg(&url)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
            Effect::FetchGates { env, tag, required } => {
                let Some(svc) = self.services.gates.clone() else {
                    return;
                };
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = svc
                        .report_for_tag(&tag, &required)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::GatesLoaded { env, tag, result });
                });
            }
            Effect::RefreshGit => {
                let (git, tx) = (self.services.gitops.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = git.with(GitopsEngine::snapshot).await;
                    let _ = tx.send(Action::GitSnapshot(result));
                });
            }
            Effect::LoadKnownTags { app } => {
                let (git, tx) = (self.services.gitops.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let a = app.clone();
                    let result = git.with(move |e| e.known_tags(&a)).await;
                    let _ = tx.send(Action::KnownTags { app, result });
                });
            }
            Effect::LoadHistory { app, env } => {
                let (git, tx) = (self.services.gitops.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let (a, e) = (app.clone(), env.clone());
                    let result = git.with(move |g| g.history(&a, &e)).await;
                    let _ = tx.send(Action::History { app, env, result });
                });
            }
            Effect::GitChange { task, change } => self.git_change(task, change),
            Effect::LoadSecrets => {
                let (inv, tx) = (self.services.inventory.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = tokio::task::spawn_blocking(move || secrets_table(&inv))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r);
                    let _ = tx.send(Action::SecretsLoaded(result));
                });
            }
            Effect::SecretsBatch { task, files, op } => self.secrets_batch(task, files, op),
            Effect::RolloutAction {
                task,
                app,
                env,
                action,
            } => self.rollout_action(task, app, env, action),
            Effect::Notify(card) => {
                if let Some(n) = &self.services.notifier {
                    n.notify(&card);
                }
            }
            Effect::FetchCandidateGates { env, tag } => {
                let (svc, inv, tx) = (
                    self.services.gates.clone(),
                    self.services.inventory.clone(),
                    self.tx.clone(),
                );
                let Some(svc) = svc else {
                    return;
                };
                tokio::spawn(async move {
                    let required = inv
                        .environments
                        .get(&env)
                        .map(|e| e.required_checks.clone())
                        .unwrap_or_default();
                    let result = match svc.sha_for_tag(&tag) {
                        Ok(sha) => svc.fresh_report(&sha, &required).await,
                        Err(e) => Err(e),
                    }
                    .map_err(|e| e.to_string());
                    let _ = tx.send(Action::CandidateGates(crate::app::state::CandidateGates {
                        env,
                        tag,
                        result,
                    }));
                });
            }
            Effect::PlanTmp => {
                let (inv, tx, slot) = (
                    self.services.inventory.clone(),
                    self.tx.clone(),
                    self.tmp_plan.clone(),
                );
                tokio::spawn(async move {
                    let planned = tokio::task::spawn_blocking(move || {
                        crate::services::tmpclean::plan(
                            &inv,
                            &crate::services::tmpclean::PlanOptions::default(),
                            &crate::services::TaskCtl::detached(),
                        )
                    })
                    .await;
                    let result = match planned {
                        Ok(Ok(plan)) => {
                            let view = tmp_rows(&plan);
                            *slot
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(plan);
                            Ok(view)
                        }
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Action::TmpPlanned(result));
                });
            }
            Effect::CleanTmp { task, skip } => self.clean_tmp(task, &skip),
            Effect::PlanFeishu => {
                let (inv, tx, slot) = (
                    self.services.inventory.clone(),
                    self.tx.clone(),
                    self.feishu_plan.clone(),
                );
                tokio::spawn(async move {
                    let result = match feishu_sync(&inv).await {
                        Err(e) => Err(e),
                        Ok(sync) => match sync.plan(&crate::services::TaskCtl::detached()).await {
                            Err(e) => Err(e.to_string()),
                            Ok(plan) => {
                                let lines = crate::headless::feishu::human_plan(&plan)
                                    .lines()
                                    .map(str::to_owned)
                                    .collect();
                                let writes = plan.writes();
                                *slot
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                                    Some((sync, plan));
                                Ok((lines, writes))
                            }
                        },
                    };
                    let _ = tx.send(Action::FeishuPlanned(result));
                });
            }
            Effect::ApplyFeishu { task } => self.apply_feishu(task),
            Effect::After { delay_ms, action } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    let _ = tx.send(*action);
                });
            }
            Effect::SetTicking(on) => {
                if let Some(t) = self.ticker.take() {
                    t.abort();
                }
                if on {
                    let tx = self.tx.clone();
                    self.ticker = Some(tokio::spawn(async move {
                        let mut every = tokio::time::interval(Duration::from_secs(1));
                        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                        loop {
                            every.tick().await;
                            if tx.send(Action::Tick).is_err() {
                                break;
                            }
                        }
                    }));
                }
            }
        }
    }
}

/// What a refused action says about RBAC: the permission it needed is missing.
fn forbidden_access(
    action: crate::services::kube::actions::RolloutAction,
    env: String,
) -> crate::services::kube::LiveEvent {
    let mut access = crate::services::kube::RolloutAccess::default();
    if action.patches_main() {
        access.patch = Some(false);
    } else {
        access.patch_status = Some(false);
    }
    crate::services::kube::LiveEvent::Access { env, access }
}
