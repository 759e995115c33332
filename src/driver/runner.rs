//! Carries out effects; every result comes back through `tx` as an Action. The TUI uses it,
//! and so do the headless-app tests (no terminal involved).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Services;
use crate::app::tasks::TaskId;
use crate::app::{Action, Effect, TimerKey};

/// A plan a person saw, kept until they apply it: the apply does exactly that plan.
pub(super) type Slot<T> = Arc<std::sync::Mutex<Option<T>>>;

pub struct Runner {
    pub(super) tx: UnboundedSender<Action>,
    pub(super) services: Services,
    /// The last tmp plan shown: `clean` applies exactly it (minus what the user skipped).
    pub(super) tmp_plan: Slot<crate::services::tmpclean::Plan>,
    /// The last member-sync plan shown, and the sync that made it.
    pub(super) feishu_plan: Slot<(
        crate::services::feishu::MemberSync,
        crate::services::feishu::SyncPlan,
    )>,
    cancels: HashMap<TaskId, CancellationToken>,
    /// One timer per key: scheduling a key again replaces (aborts) the old one.
    timers: HashMap<TimerKey, JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    /// The logs view's follow, while one runs.
    pub(super) logs: Option<CancellationToken>,
    /// The open timeline's event watches (aborted when it closes).
    pub(super) timeline: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn new(tx: UnboundedSender<Action>, services: Services) -> Runner {
        Runner {
            tx,
            services,
            tmp_plan: Slot::default(),
            feishu_plan: Slot::default(),
            cancels: HashMap::new(),
            timers: HashMap::new(),
            ticker: None,
            logs: None,
            timeline: None,
        }
    }

    /// The ops context the cockpit acts with.
    /// Starts the inventory's cluster watches, their events arriving as `Action::Live` on this
    /// runner's channel (as the TUI starts them); aborting the handle stops them.
    pub fn start_watches(
        &self,
        inventory: &crate::inventory::Inventory,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.start_watches_with(inventory, &crate::services::kube::watch::PodScope::All)
    }

    /// As [`start_watches`](Self::start_watches), listing the pods `pods` says.
    pub fn start_watches_with(
        &self,
        inventory: &crate::inventory::Inventory,
        pods: &crate::services::kube::watch::PodScope,
    ) -> Option<tokio::task::JoinHandle<()>> {
        super::start_watches(inventory, &self.tx, pods)
    }

    pub fn ops(&self) -> &crate::ops::OpCtx {
        &self.services.ops
    }

    /// Timers still waiting to fire, by key (for tests of the schedule).
    pub fn pending_timers(&self) -> Vec<TimerKey> {
        let mut keys: Vec<TimerKey> = self
            .timers
            .iter()
            .filter(|(_, h)| !h.is_finished())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Cancels every task this runner started (on quit).
    pub fn cancel_all(&mut self) {
        for token in self.cancels.values() {
            token.cancel();
        }
        for (_, t) in self.timers.drain() {
            t.abort();
        }
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        self.stop_timeline();
        self.stop_logs();
    }

    /// A cancellable task with a progress channel forwarded as `TaskProgress`.
    pub(super) fn task_ctl(&mut self, id: TaskId) -> crate::services::TaskCtl {
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
            Effect::FetchGates { env, tag, required } => self.fetch_gates(env, tag, required),
            Effect::FleetGates { wanted } => self.fleet_gates(wanted),
            Effect::FetchArtifacts { app, env, tag } => self.fetch_artifacts(app, env, tag),
            Effect::ReadBackups => self.read_backups(),
            Effect::FetchMigrationLogs { env, job } => self.fetch_migration_logs(env, job),
            Effect::ReadSlo {
                app,
                env,
                since,
                seq,
            } => self.read_slo(app, env, since, seq),
            Effect::RefreshGit => self.refresh_git(),
            Effect::CheckGitRef => self.check_git_ref(),
            Effect::LoadKnownTags { app } => self.load_known_tags(app),
            Effect::LoadHistory { app, env } => self.load_history(app, env),
            Effect::LoadSecrets => self.load_secrets(),
            Effect::FetchCandidateGates { env, tag } => self.fetch_candidate_gates(env, tag),
            Effect::LoadChanges { app, base, head } => self.load_changes(app, base, head),
            Effect::WatchTimeline { seq, app, env } => self.watch_timeline(seq, &app, &env),
            Effect::StopTimeline => self.stop_timeline(),
            Effect::ReadTimelineJournal { seq } => self.read_timeline_journal(seq),
            Effect::PlanTmp => self.plan_tmp(),
            Effect::PlanFeishu => self.plan_feishu(),
            Effect::GitChange { task, change } => self.git_change(task, change),
            Effect::SecretsBatch { task, files, op } => self.secrets_batch(task, files, op),
            Effect::RolloutAction {
                task,
                app,
                env,
                action,
            } => self.rollout_action(task, app, env, action),
            Effect::ArgoAction {
                task,
                app,
                env,
                action,
            } => self.argo_action(task, app, env, action),
            Effect::CleanTmp { task, skip } => self.clean_tmp(task, &skip),
            Effect::ApplyFeishu { task } => self.apply_feishu(task),
            Effect::FollowLogs {
                app,
                env,
                generation,
                container,
            } => self.follow_logs(app, env, generation, container),
            Effect::StopLogs => self.stop_logs(),
            Effect::Notify(card) => self.services.ops.notify(&card),
            Effect::RememberNews(keys) => {
                super::news_seen::remember(&self.services.ops.paths, keys);
            }
            Effect::Schedule {
                key,
                after_ms,
                action,
            } => {
                let tx = self.tx.clone();
                let timer = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    let _ = tx.send(*action);
                });
                if let Some(old) = self.timers.insert(key, timer) {
                    old.abort();
                }
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
