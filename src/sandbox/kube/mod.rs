//! The sandbox Kubernetes: a local API server on 127.0.0.1 (plain HTTP, optional bearer token)
//! that speaks the real REST protocol, plus simulated Argo Rollouts, Argo CD and ARC
//! controllers that move objects the way the real ones do. Product code reaches it only through
//! kube-rs and the kubeconfig written by [`KubeSandbox::start`].

// Kubernetes kind names (Rollout, AnalysisRun, ...) read as prose throughout these docs.
#![allow(clippy::doc_markdown)]

mod managed_fields;
mod resources;
mod select;
mod server;
mod store;

pub mod patch;
pub mod seed;
pub mod sim;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use resources::{RESOURCES, ResourceDef};
pub use select::{FieldSelector, LabelSelector};
pub use server::{DenyRule, RequestRecord};
pub use store::{Store, StoreError, WriteMode};

/// The image tag a Rollout's pod template names (the canary's, while one is in flight).
pub fn rollout_tag(store: &Store, namespace: &str, name: &str) -> Option<String> {
    let ro = store
        .get(resources::by_kind("Rollout"), namespace, name)?
        .value();
    let image = ro
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()?
        .to_owned();
    // `repo:tag` (a registry port's colon comes before the last `/`).
    let tail = image.rsplit('/').next()?;
    tail.split_once(':').map(|(_, tag)| tag.to_owned())
}

use crate::inventory::Inventory;

/// Errors of the sandbox Kubernetes.
#[derive(Debug, thiserror::Error)]
pub enum KubeSandboxError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    #[error("cannot write the kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the listener is already running")]
    AlreadyRunning,
    #[error("sandbox store: {0}")]
    Store(#[from] StoreError),
    #[error("seeding the sandbox world: {0}")]
    Seed(String),
}

/// `Result` for the sandbox Kubernetes.
pub type Result<T, E = KubeSandboxError> = std::result::Result<T, E>;

/// How to start the sandbox.
#[derive(Clone)]
pub struct KubeSandboxOptions {
    /// Folder the kubeconfig is written to (`<dir>/kubeconfig`).
    pub dir: PathBuf,
    /// Bearer token the server demands (and the kubeconfig carries); `None`: no auth.
    pub token: Option<String>,
    /// Time-scale factor for the simulators: 1.0 makes a full canary take about a minute.
    pub speed: f64,
    /// With an inventory, the world is seeded: namespaces, a Rollout and an Argo CD
    /// Application per app × env, runners per `inventory.runners`.
    pub inventory: Option<Inventory>,
    /// Lines a second each simulated container logs (default: two, times `speed`).
    pub log_rate: Option<f64>,
    /// Run the simulated controllers (Argo Rollouts, Argo CD, ARC).
    pub controllers: bool,
    /// App × envs seeded with auto-sync off and their Rollout one tag behind git.
    pub manual_sync: Vec<(String, String)>,
    /// App × envs whose Rollout starts one tag behind git (auto-sync then starts a canary).
    pub behind: Vec<(String, String)>,
}

impl std::fmt::Debug for KubeSandboxOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSandboxOptions")
            .field("dir", &self.dir)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("speed", &self.speed)
            .field(
                "inventory",
                &self.inventory.as_ref().map(|i| i.source.clone()),
            )
            .field("controllers", &self.controllers)
            .field("log_rate", &self.log_rate)
            .field("manual_sync", &self.manual_sync)
            .field("behind", &self.behind)
            .finish()
    }
}

impl KubeSandboxOptions {
    /// Defaults: no token, speed 1, no inventory, controllers on.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KubeSandboxOptions {
            dir: dir.into(),
            token: None,
            speed: 1.0,
            inventory: None,
            controllers: true,
            manual_sync: Vec::new(),
            behind: Vec::new(),
            log_rate: None,
        }
    }
}

/// Name of the kubeconfig context (and cluster and user) the sandbox writes.
pub const CONTEXT: &str = "shipdeck-sandbox";

/// A running sandbox. Dropping it without [`KubeSandbox::shutdown`] aborts its tasks.
pub struct KubeSandbox {
    addr: SocketAddr,
    kubeconfig: PathBuf,
    state: Arc<server::ServerState>,
    listener: Mutex<Option<(CancellationToken, JoinHandle<()>)>>,
    background: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl KubeSandbox {
    /// Binds a random port on 127.0.0.1, writes the kubeconfig and starts serving (and, if
    /// asked, seeds the world and starts the controllers).
    pub async fn start(opts: KubeSandboxOptions) -> Result<KubeSandbox> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(KubeSandboxError::Bind)?;
        let addr = listener.local_addr().map_err(KubeSandboxError::Bind)?;
        let store = Arc::new(Store::new());
        let state = Arc::new(server::ServerState {
            store,
            token: opts.token.clone(),
            deny: Mutex::new(Vec::new()),
            watches: Mutex::new(CancellationToken::new()),
            server_address: Mutex::new(addr.to_string()),
            hidden_groups: Mutex::new(Vec::new()),
            requests: Mutex::new(server::RequestLog::default()),
            log_every: Duration::from_secs_f64(
                1.0 / opts
                    .log_rate
                    .unwrap_or(2.0 * opts.speed)
                    .clamp(0.001, 100_000.0),
            ),
        });
        let kubeconfig = opts.dir.join("kubeconfig");
        let contexts = opts
            .inventory
            .as_ref()
            .map(extra_contexts)
            .unwrap_or_default();
        write_kubeconfig(&kubeconfig, addr, opts.token.as_deref(), &contexts)?;
        let sandbox = KubeSandbox {
            addr,
            kubeconfig,
            state,
            listener: Mutex::new(None),
            background: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        };
        if let Some(inv) = &opts.inventory {
            let starts = seed::Starts {
                manual: &opts.manual_sync,
                behind: &opts.behind,
            };
            seed::seed_world(&sandbox.state.store, inv, &starts)?;
        }
        if opts.controllers {
            sandbox.start_controllers(&opts);
        }
        sandbox.serve(listener);
        Ok(sandbox)
    }

    /// Runs the simulators on a blocking thread (they use git2 and plain locks), ticking at a
    /// pace that follows the speed factor.
    fn start_controllers(&self, opts: &KubeSandboxOptions) {
        let clock = sim::Clock {
            speed: opts.speed.max(0.01),
        };
        let store = self.state.store.clone();
        let binds = opts
            .inventory
            .as_ref()
            .map(sim::argocd::bindings)
            .unwrap_or_default();
        let cancel = self.background.clone();
        let tick = Duration::from_secs_f64((0.25 / clock.speed).clamp(0.02, 0.25));
        let mut migrations =
            sim::migrations::MigrationsSim::new(store.clone(), clock, opts.inventory.as_ref());
        let handle = tokio::task::spawn_blocking(move || {
            let mut rollouts = sim::rollouts::RolloutsSim::new(store.clone(), clock);
            let mut arc = sim::arc::ArcSim::new(store.clone(), clock);
            let mut legacy_arc = sim::arc_legacy::LegacyArcSim::new(store.clone(), clock);
            let mut argocd = sim::argocd::ArgoCdSim::new(store, binds);
            let mut n: u64 = 0;
            while !cancel.is_cancelled() {
                // Argo CD polls git less often than the rollout controller reconciles.
                if n.is_multiple_of(4) {
                    argocd.tick();
                }
                rollouts.tick();
                arc.tick();
                legacy_arc.tick();
                migrations.tick();
                n += 1;
                std::thread::sleep(tick);
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }

    /// Adds `pods` pods and `rollouts` healthy Rollouts to `namespace`, untouched by the
    /// simulators (scale tests and benchmarks).
    pub fn seed_scale(&self, namespace: &str, pods: usize, rollouts: usize) -> Result<()> {
        seed::seed_scale(&self.state.store, namespace, pods, rollouts)?;
        Ok(())
    }

    fn serve(&self, listener: TcpListener) {
        let stop = CancellationToken::new();
        let app = server::router(self.state.clone());
        let s = stop.clone();
        let handle = tokio::spawn(async move {
            let shutdown = async move { s.cancelled().await };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!("sandbox kube server stopped: {e}");
            }
        });
        *self.listener.lock().unwrap_or_else(PoisonError::into_inner) = Some((stop, handle));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The kubeconfig written at start (context [`CONTEXT`], plus one per kube context the
    /// inventory names, all pointing here).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The store, for simulators, seeding and test helpers.
    pub fn store(&self) -> &Arc<Store> {
        &self.state.store
    }

    /// Stops listening and cuts every open connection and watch (the port is released);
    /// the store is kept. For "API server down mid-watch" tests.
    pub async fn stop_listener(&self) {
        let taken = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.state.cut_watches();
        if let Some((stop, handle)) = taken {
            stop.cancel();
            // Graceful shutdown waits for in-flight requests; cut watches end promptly.
            if tokio::time::timeout(Duration::from_secs(5), handle)
                .await
                .is_err()
            {
                tracing::warn!("sandbox kube listener did not stop within 5 s");
            }
        }
    }

    /// Listens again on the same port after [`KubeSandbox::stop_listener`].
    pub async fn restart_listener(&self) -> Result<()> {
        if self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            return Err(KubeSandboxError::AlreadyRunning);
        }
        let mut last_err = None;
        // The old socket may linger for a moment; retry briefly.
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    self.serve(l);
                    return Ok(());
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        Err(KubeSandboxError::Bind(last_err.unwrap_or_else(|| {
            std::io::Error::other("could not bind the port again")
        })))
    }

    /// Ends every open watch stream now (clients resume from their last resourceVersion).
    pub fn cut_watches(&self) {
        self.state.cut_watches();
    }

    /// Drops the watch history of a resource (by plural, e.g. `pods`) and cuts open watches,
    /// so resuming clients get 410 Gone and must re-list.
    pub fn expire_history(&self, plural: &str) {
        for (i, r) in RESOURCES.iter().enumerate() {
            if r.plural == plural {
                self.state.store.compact(i);
            }
        }
        self.state.cut_watches();
    }

    /// Adds a rule the server refuses with 403 and denies in SelfSubjectAccessReviews.
    pub fn deny(&self, rule: DenyRule) {
        self.state
            .deny
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(rule);
    }

    /// Acts as if the CRDs of an API group were not installed (discovery omits it, its paths
    /// answer 404), as on a cluster without the legacy ARC controller.
    pub fn hide_group(&self, group: &str) {
        self.state
            .hidden_groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(group.to_owned());
    }

    /// The requests served so far (the newest few thousand), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot()
    }

    /// Removes every deny rule.
    pub fn clear_denies(&self) {
        self.state
            .deny
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Stops the simulated controllers (and the pods' log writers) and keeps serving: the world
    /// holds still, so what changes is what a test or a benchmark changes.
    pub fn stop_controllers(&self) {
        self.background.cancel();
    }

    /// Stops the listener and every background task.
    pub async fn shutdown(self) {
        self.background.cancel();
        self.stop_listener().await;
        let tasks: Vec<_> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for t in tasks {
            t.abort();
        }
    }
}

impl Drop for KubeSandbox {
    fn drop(&mut self) {
        self.background.cancel();
        self.state.cut_watches();
        if let Some((stop, handle)) = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            stop.cancel();
            handle.abort();
        }
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            t.abort();
        }
    }
}

fn extra_contexts(inv: &Inventory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |c: &Option<String>| {
        if let Some(c) = c
            && c != CONTEXT
            && !out.contains(c)
        {
            out.push(c.clone());
        }
    };
    for env in inv.environments.values() {
        push(&env.kube_context);
        if let Some(a) = &env.argocd {
            push(&a.kube_context);
        }
    }
    if let Some(r) = &inv.runners {
        push(&r.kube_context);
    }
    out
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn write_kubeconfig(
    path: &Path,
    addr: SocketAddr,
    token: Option<&str>,
    extra_contexts: &[String],
) -> Result<()> {
    let user = match token {
        Some(t) => format!("    token: {}\n", yaml_str(t)),
        None => "    {}\n".to_owned(),
    };
    let mut text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: http://{addr}\nusers:\n- name: {CONTEXT}\n  user:\n{user}contexts:\n"
    );
    for ctx in std::iter::once(CONTEXT).chain(extra_contexts.iter().map(String::as_str)) {
        let _ = write!(
            text,
            "- name: {}\n  context:\n    cluster: {CONTEXT}\n    user: {CONTEXT}\n    namespace: default\n",
            yaml_str(ctx)
        );
    }
    let _ = writeln!(text, "current-context: {CONTEXT}");
    let io = |source| KubeSandboxError::Kubeconfig {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}
