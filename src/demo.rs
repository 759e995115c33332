//! `shipdeck demo`: a sandbox workspace on 127.0.0.1 and the cockpit opened on it. Every action in
//! the demo goes through the same clients and code paths as production; only endpoints differ.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::DemoArgs;
use crate::headless::{Ctx, Failure, Outcome};
use crate::inventory::Inventory;
use crate::paths::Paths;

/// Where the demo's sandbox servers listen; `None` until that sandbox is part of the build.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub github_api: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// The sandbox Feishu's inventory section (api_url, secret_file, chats, sync).
    pub feishu_section: Option<String>,
    /// The sandbox Prometheus' base URL (the apps keep the default SLO queries).
    pub prometheus_url: Option<String>,
    /// The apps, environments and runners sections (`None`: the demo's two apps).
    pub world: Option<String>,
    /// The sandbox S3's inventory sections (`artifacts:`, `backups:`).
    pub s3_section: Option<String>,
    /// Write the `migrations:` section (the sandbox cluster runs the migration Jobs).
    pub migrations: bool,
}

/// A prepared sandbox workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub dir: PathBuf,
    pub inventory_path: PathBuf,
    pub paths: Paths,
    /// We made the folder, so we remove it when the demo ends.
    pub owned: bool,
}

/// Why the sandbox could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo workspace {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("demo GitOps remote: {0}")]
    Seed(String),
    #[error("demo inventory is invalid (a bug): {0}")]
    Inventory(#[from] crate::inventory::InventoryError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the workspace folder (given, or a fresh one under the temp dir).
pub fn create_dir(dir: Option<&Path>) -> Result<(PathBuf, bool), DemoError> {
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(io(d))?;
        let abs = std::fs::canonicalize(d).map_err(io(d))?;
        return Ok((abs, false));
    }
    let stamp = jiff::Timestamp::now().as_millisecond();
    let d = std::env::temp_dir().join(format!("shipdeck-demo-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(io(&d))?;
    Ok((d, true))
}

/// Writes the sandbox inventory for a workspace and the endpoints that are up.
pub fn write_inventory(dir: &Path, endpoints: &Endpoints) -> Result<PathBuf, DemoError> {
    let path = dir.join("inventory.yaml");
    let text = inventory_text(dir, endpoints);
    std::fs::write(&path, text).map_err(io(&path))?;
    // Validate what we wrote with the same loader users get.
    Inventory::load(&path)?;
    Ok(path)
}

fn inventory_text(dir: &Path, endpoints: &Endpoints) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# shipdeck demo inventory: generated for the sandbox in {}.\n\
         # Everything points at local stand-ins on 127.0.0.1; see inventory.example.yaml for every key.\n",
        dir.display()
    );
    s.push_str("registry:\n  endpoint: harbor.sandbox.local\n  project: miker\n\n");
    if let Some(url) = &endpoints.github_api {
        let _ = writeln!(
            s,
            "github:\n  owner: miker-org\n  repo: miker\n  api_url: {url}\n  token_env: SHIPDECK_DEMO_GITHUB_TOKEN\n"
        );
    }
    let _ = writeln!(
        s,
        "gitops:\n  url: file://{}/gitops.git\n  branch: main\n  author:\n    name: shipdeck demo\n    email: shipdeck@sandbox.local\n",
        dir.display()
    );
    if let Some(kc) = &endpoints.kubeconfig {
        let _ = writeln!(s, "kube:\n  kubeconfig: {}\n", kc.display());
    }
    if let Some(feishu) = &endpoints.feishu_section {
        let _ = writeln!(s, "{}", feishu.trim_end());
        s.push('\n');
    }
    if let Some(url) = &endpoints.prometheus_url {
        let _ = writeln!(
            s,
            "prometheus:\n  url: {url}\n  connect_timeout_secs: 5\n  timeout_secs: 15\n"
        );
    }
    if let Some(section) = &endpoints.s3_section {
        let _ = writeln!(s, "{}\n", section.trim_end());
    }
    // The backend runs its migration Job (the sandbox cluster simulates it) before each
    // release; prod takes a tag only once its migration succeeded in stg.
    if endpoints.migrations {
        s.push_str(
        "migrations:\n  app_label: app.kubernetes.io/name\n  tag_label: shipdeck.io/tag\n  apps: [miker-api]\n  required_for: [prod]\n  must_pass_in: stg\n\n",
    );
    }
    s.push_str(endpoints.world.as_deref().unwrap_or(DEMO_WORLD));
    s.push_str(
        "
secrets:
  paths: [secrets]
  rotation_days: 90
  age_key_file: age/keys.txt

tmp:
  root: tmp
  default_keep_days: 7
  rules:
    - pattern: \"actions-runner-*.tar.gz\"
      keep_latest: 2
    - pattern: \"*.tgz\"
      keep_days: 14
  never_delete: [\"*.keep\"]
",
    );
    s
}

/// The demo's two apps, their environments and runners.
const DEMO_WORLD: &str = "apps:
  miker-web:
    image: harbor.sandbox.local/miker/miker-web
    rollout: miker-web
    argocd_application: \"miker-web-{env}\"
    layout:
      kind: kustomize
      path: apps/miker-web/overlays/{env}/kustomization.yaml
      image_name: harbor.sandbox.local/miker/miker-web
  miker-api:
    image: harbor.sandbox.local/miker/miker-api
    rollout: miker-api
    argocd_application: \"miker-api-{env}\"
    layout:
      kind: helm
      path: apps/miker-api/values-{env}.yaml
      key: image.tag

environments:
  dev:
    namespace: miker-dev
    auto_release: true
    required_checks: []
  stg:
    namespace: miker-stg
    promote_from: dev
    required_checks: [build, test]
    auto_rollback: true
  prod:
    namespace: miker-prod
    protected: true
    promote_from: stg
    required_checks: [lint, type-check, test, build, trivy, codeql, gitleaks]

# `shipdeck guard` rolls stg back by itself (auto_rollback above); its Lease is on the
# sandbox API server, its health port picked free.
guard:
  lease_namespace: shipdeck
  lease_name: shipdeck-guard
  lease_duration_secs: 6
  renew_secs: 2
  listen: 127.0.0.1:0

runners:
  namespace: arc-runners
  scale_sets: [miker-runners]
  runner_deployments: [miker-legacy-arm64]
";

/// Prepares everything the demo needs that is not a running server.
pub fn prepare(dir: Option<&Path>, endpoints: &Endpoints) -> Result<Workspace, DemoError> {
    let (dir, owned) = create_dir(dir)?;
    let mut ws = prepare_gitops(&dir, endpoints, None)?;
    seed_files(&dir)?;
    ws.owned = owned;
    Ok(ws)
}

/// The GitOps remote and the inventory: what the cluster sandbox reads as it starts.
fn prepare_gitops(
    dir: &Path,
    endpoints: &Endpoints,
    fleet: Option<usize>,
) -> Result<Workspace, DemoError> {
    let t0 = std::time::Instant::now();
    // A workspace kept with --dir is reused as it is: its remote may hold the user's releases.
    let seeded = match fleet {
        Some(apps) => crate::sandbox::fleet::seed_gitops(dir, apps),
        None => crate::sandbox::gitremote::seed(dir),
    };
    match seeded {
        Ok(_) | Err(crate::sandbox::gitremote::SeedError::Exists(_)) => {}
        Err(e) => return Err(DemoError::Seed(e.to_string())),
    }
    tracing::debug!(ms = t0.elapsed().as_millis(), "demo: git remote seeded");
    let inventory_path = write_inventory(dir, endpoints)?;
    Ok(Workspace {
        paths: Paths::under(&dir.join(".shipdeck")),
        dir: dir.to_path_buf(),
        inventory_path,
        owned: false,
    })
}

/// The tmp tree and the SOPS files (with their age key): nothing reads them before a person
/// opens their view.
fn seed_files(dir: &Path) -> Result<(), DemoError> {
    if !dir.join("tmp").exists() {
        crate::services::tmpclean::demo::seed(dir).map_err(|e| DemoError::Seed(e.to_string()))?;
    }
    if !dir.join("secrets").exists() {
        crate::services::secrets::demo::seed(dir).map_err(|e| DemoError::Seed(e.to_string()))?;
    }
    Ok(())
}

/// Every tag the seeded GitOps history mentions was built long ago: its checks are complete
/// and green in the sandbox GitHub (the GitHub sandbox seeds miker-web's itself).
fn register_seeded_builds(github: &crate::sandbox::github::GithubSandbox) {
    let known = github.commits();
    for tag in crate::sandbox::gitremote::seeded_tags() {
        if !known.iter().any(|c| c.starts_with(tag)) {
            github.add_commit_at(
                tag,
                crate::sandbox::github::Scenario::pipeline(),
                std::time::Duration::from_secs(24 * 3600),
            );
        }
    }
    // A build whose CI passed and whose canary will not: release it to stg to watch the SLO
    // panel show the breach and the analysis abort the canary.
    if !known.iter().any(|c| c.starts_with(DEMO_BAD_TAG)) {
        github.add_commit_at(
            DEMO_BAD_TAG,
            crate::sandbox::github::Scenario::pipeline(),
            std::time::Duration::from_secs(2 * 3600),
        );
    }
}

/// A fleet without the demo's CI, Feishu or Prometheus: GitHub with every seeded build, the
/// GitOps remote, the inventory and the three clusters (for tests and benchmarks).
pub struct FleetWorld {
    pub inventory: PathBuf,
    pub github: crate::sandbox::github::GithubSandbox,
    pub clusters: crate::sandbox::fleet::FleetClusters,
}

/// Starts a [`FleetWorld`] in `dir`; `github_speed` runs the sandbox GitHub's check timelines
/// (0 freezes them).
///
/// # Errors
/// A sandbox cannot start or the workspace cannot be written.
pub async fn fleet_world(
    dir: &Path,
    opts: crate::sandbox::fleet::FleetOpts,
    github_speed: f64,
) -> Result<FleetWorld, String> {
    use crate::sandbox::fleet;
    let github =
        crate::sandbox::github::GithubSandbox::start(crate::sandbox::github::GithubSandboxOpts {
            owner: "miker-org".to_owned(),
            repo: "miker".to_owned(),
            speed: github_speed,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("sandbox GitHub: {e}"))?;
    fleet::seed_gitops(dir, opts.apps).map_err(|e| e.to_string())?;
    let endpoints = Endpoints {
        github_api: Some(github.url().to_owned()),
        kubeconfig: Some(dir.join("kube").join("kubeconfig")),
        world: Some(fleet::inventory_world(opts.apps)),
        ..Endpoints::default()
    };
    let inventory = write_inventory(dir, &endpoints).map_err(|e| e.to_string())?;
    let inv = Inventory::load(&inventory).map_err(|e| e.to_string())?;
    fleet::register_builds(&github, opts.apps);
    let clusters = fleet::start_clusters(&dir.join("kube"), &inv, opts, None).await?;
    Ok(FleetWorld {
        inventory,
        github,
        clusters,
    })
}

/// The demo's cluster, or the fleet's three.
enum Clusters {
    One(crate::sandbox::kube::KubeSandbox),
    Fleet(crate::sandbox::fleet::FleetClusters),
}

impl Clusters {
    fn stores(&self) -> Vec<std::sync::Arc<crate::sandbox::kube::Store>> {
        match self {
            Clusters::One(k) => vec![k.store().clone()],
            Clusters::Fleet(f) => f.clusters.iter().map(|(_, k)| k.store().clone()).collect(),
        }
    }

    fn kubeconfig(&self) -> &Path {
        match self {
            Clusters::One(k) => k.kubeconfig_path(),
            Clusters::Fleet(f) => &f.kubeconfig,
        }
    }

    async fn shutdown(self) {
        match self {
            Clusters::One(k) => k.shutdown().await,
            Clusters::Fleet(f) => f.shutdown().await,
        }
    }
}

/// The demo's broken build (`bad…` tags misbehave in the sandbox's cluster and metrics).
pub const DEMO_BAD_TAG: &str = "bad1234";

/// `shipdeck demo`.
/// Locks `<dir>/.shipdeck-demo.lock` (with our PID in it) for as long as the file is held;
/// refuses when another demo holds it, naming its PID.
fn hold_demo_lock(dir: &Path) -> Result<std::fs::File, Failure> {
    let path = dir.join(".shipdeck-demo.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| {
            Failure::new(
                crate::headless::Exit::Failed,
                format!("{}: {e}", path.display()),
            )
        })?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ =
                std::io::Write::write_all(&mut &file, std::process::id().to_string().as_bytes());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            Err(Failure::refused(format!(
                "{} already runs a sandbox (PID {}); stop it first, or give another --dir",
                dir.display(),
                pid.trim()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::new(
            crate::headless::Exit::Failed,
            format!("{}: {e}", path.display()),
        )),
    }
}

pub async fn run(ctx: &Ctx, args: DemoArgs) -> Outcome {
    let failed = |e: String| Failure::new(crate::headless::Exit::Failed, e);
    let t0 = std::time::Instant::now();
    let lap = |what: &str| tracing::debug!(ms = t0.elapsed().as_millis(), "demo: {what}");
    let github =
        crate::sandbox::github::GithubSandbox::start(crate::sandbox::github::GithubSandboxOpts {
            owner: "miker-org".to_owned(),
            repo: "miker".to_owned(),
            speed: args.speed,
            ..Default::default()
        })
        .await
        .map_err(|e| failed(format!("sandbox GitHub: {e}")))?;
    let github = std::sync::Arc::new(github);
    let (dir, owned) = create_dir(args.dir.as_deref()).map_err(|e| failed(e.to_string()))?;
    // Held while this sandbox runs: a second demo on the same folder would rewrite the
    // inventory and kubeconfig under the first.
    let _running = hold_demo_lock(&dir)?;
    let feishu = crate::sandbox::feishu::FeishuSandbox::start(
        crate::sandbox::feishu::FeishuSandboxOpts::demo(),
    )
    .await
    .map_err(|e| failed(format!("sandbox Feishu: {e}")))?;
    feishu
        .write_demo_files(&dir)
        .map_err(|e| failed(format!("sandbox Feishu files: {e}")))?;
    // The canary's tag comes from the sandbox cluster, which starts later (it needs the
    // inventory that names this server): until then no canary runs.
    let cluster: std::sync::Arc<
        std::sync::OnceLock<Vec<std::sync::Arc<crate::sandbox::kube::Store>>>,
    > = std::sync::Arc::default();
    let prometheus = {
        let cluster = cluster.clone();
        crate::sandbox::prometheus::PromSandbox::start(std::sync::Arc::new(move |app, ns| {
            cluster
                .get()?
                .iter()
                .find_map(|s| crate::sandbox::kube::rollout_tag(s, ns, app))
        }))
        .await
        .map_err(|e| failed(format!("sandbox Prometheus: {e}")))?
    };
    let fleet = args.apps.map(usize::from);
    let s3 = crate::sandbox::s3::S3Sandbox::start(
        crate::sandbox::s3::DEMO_ACCESS_KEY,
        crate::sandbox::s3::DEMO_SECRET_KEY,
        crate::sandbox::s3::DEMO_REGION,
    )
    .await
    .map_err(|e| failed(format!("sandbox S3: {e}")))?;
    crate::sandbox::s3::S3Sandbox::write_demo_files(&dir)
        .map_err(|e| failed(format!("sandbox S3 files: {e}")))?;
    let endpoints = Endpoints {
        github_api: Some(github.url().to_owned()),
        kubeconfig: Some(dir.join("kube").join("kubeconfig")),
        feishu_section: Some(feishu.demo_inventory_section()),
        prometheus_url: Some(prometheus.url().to_owned()),
        world: fleet.map(crate::sandbox::fleet::inventory_world),
        // The fleet shows the clusters, git and GitHub at scale; the demo's two apps also
        // the staging artifacts, backups and the backend's migration Job.
        s3_section: fleet.is_none().then(|| s3.demo_inventory_section()),
        migrations: fleet.is_none(),
    };
    lap("github and feishu sandboxes up");
    let mut ws = prepare_gitops(&dir, &endpoints, fleet).map_err(|e| failed(e.to_string()))?;
    lap("gitops remote and inventory written");
    // The tmp tree and the secrets are written while the cluster sandbox starts (neither
    // needs the other); both are done before the cockpit opens.
    let files = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || seed_files(&dir))
    };
    ws.owned = owned;
    let inventory = Inventory::load(&ws.inventory_path)?;
    // Benchmarks turn the simulated pods' chatter up (lines a second per container); the
    // demo's own default is two a second.
    let log_rate = std::env::var("SHIPDECK_DEMO_LOG_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r > 0.0);
    let kube = if let Some(apps) = fleet {
        crate::sandbox::fleet::register_builds(&github, apps);
        let opts = crate::sandbox::fleet::FleetOpts {
            apps,
            unrelated_pods: args.unrelated_pods,
            speed: args.speed,
        };
        let clusters =
            crate::sandbox::fleet::start_clusters(&dir.join("kube"), &inventory, opts, log_rate)
                .await
                .map_err(failed)?;
        Clusters::Fleet(clusters)
    } else {
        register_seeded_builds(&github);
        let mut built = crate::sandbox::gitremote::seeded_tags();
        built.push(DEMO_BAD_TAG);
        let envs: Vec<&str> = inventory.env_names().collect();
        s3.writer().seed_demo(&built, &envs);
        let mut kube_opts = crate::sandbox::kube::KubeSandboxOptions::new(dir.join("kube"));
        kube_opts.speed = args.speed;
        kube_opts.inventory = Some(inventory.clone());
        kube_opts.log_rate = log_rate;
        let kube = crate::sandbox::kube::KubeSandbox::start(kube_opts)
            .await
            .map_err(|e| failed(format!("sandbox Kubernetes: {e}")))?;
        Clusters::One(kube)
    };
    let _ = cluster.set(kube.stores());
    lap("kubernetes sandbox up");
    files
        .await
        .map_err(|e| failed(format!("seeding the workspace: {e}")))?
        .map_err(|e| failed(e.to_string()))?;
    lap("tmp and secrets seeded");
    let ci = crate::sandbox::ci::start(
        github.clone(),
        inventory.clone(),
        Paths::under(&dir.join(".ci-bot")),
        args.speed,
        fleet.is_some(),
        fleet.is_none().then(|| s3.writer()),
    );
    let outcome = if args.no_tui {
        println!("shipdeck demo workspace: {}", ws.dir.display());
        println!("inventory: {}", ws.inventory_path.display());
        println!("github api: {}", github.url());
        println!("feishu api: {}", feishu.url());
        println!("prometheus: {}", prometheus.url());
        println!("s3 (TOS): {}", s3.url());
        println!("export SHIPDECK_INVENTORY={}", ws.inventory_path.display());
        println!("export KUBECONFIG={}", kube.kubeconfig().display());
        println!("running; press Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        Err(Failure::new(crate::headless::Exit::Interrupted, ""))
    } else {
        let (keymap, keymap_problem) = crate::entry::load_keymap(&ctx.paths);
        let mut state = crate::app::State::new(&inventory, "demo", keymap);
        state.status = keymap_problem;
        state.read_only = crate::ops::read_only_reason(ctx.read_only, Some(&inventory));
        match crate::driver::run_tui(state, &inventory, &ws.paths, ctx.read_only).await {
            Ok(None) => Ok(()),
            Ok(Some(signal)) => Err(Failure::new(signal, "")),
            Err(e) => Err(Failure::new(crate::headless::Exit::Failed, e.to_string())),
        }
    };
    ci.abort();
    kube.shutdown().await;
    feishu.shutdown().await;
    prometheus.shutdown().await;
    s3.shutdown().await;
    if let Ok(github) = std::sync::Arc::try_unwrap(github) {
        github.shutdown().await;
    }
    if ws.owned {
        let _ = std::fs::remove_dir_all(&ws.dir);
    }
    outcome
}
