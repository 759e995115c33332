//! The inventory: which apps, environments, clusters, repos and chats shipdeck works with.
//!
//! Loading never panics on input. Every problem is reported as `file:line:col`, what is wrong,
//! and how to fix it, because the person reading it is usually mid-incident.

mod checks;
mod errors;
mod feishu;
mod guard;
mod locate;
mod pipeline;
mod prometheus;
mod secrets;
mod tmp;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_saphyr::Spanned;

pub use errors::InventoryError;
pub(crate) use errors::yaml_sentence;
pub use feishu::{EventKind, FeishuChat, FeishuConfig, Membership, SyncConfig};
pub use guard::GuardConfig;
pub use pipeline::{ArtifactsConfig, BackupsConfig, MigrationsConfig, S3Store, parse_age};
pub use prometheus::{
    DEFAULT_ERROR_RATE_QUERY, DEFAULT_LATENCY_QUERY, DEFAULT_MAX_ERROR_RATE, DEFAULT_MAX_P99_MS,
    PrometheusConfig, SloConfig, fill as fill_slo_query,
};
pub use secrets::SecretsConfig;
pub use tmp::{TmpConfig, TmpRule, TrashConfig};

/// The largest inventory read (4 MiB).
pub const MAX_INVENTORY_BYTES: u64 = 4 << 20;

/// The whole inventory file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Where it was loaded from; relative paths inside resolve against its folder.
    #[serde(skip)]
    pub source: PathBuf,
    /// Completes bare app image names (see [`App::image`]).
    #[serde(default)]
    pub registry: Option<Registry>,
    #[serde(default)]
    pub github: Option<GithubConfig>,
    pub gitops: GitopsConfig,
    #[serde(default)]
    pub kube: KubeConfig,
    pub apps: IndexMap<String, App>,
    pub environments: IndexMap<String, Environment>,
    #[serde(default)]
    pub runners: Option<RunnersConfig>,
    #[serde(default)]
    pub secrets: Option<SecretsConfig>,
    #[serde(default)]
    pub feishu: Option<FeishuConfig>,
    #[serde(default)]
    pub tmp: Option<TmpConfig>,
    /// Where canary and stable metrics are read (the SLO panel, `shipdeck slo`).
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    /// Build artifacts on an S3-compatible store (TOS): a gate per commit.
    #[serde(default)]
    pub artifacts: Option<ArtifactsConfig>,
    /// The daily backups on an S3-compatible store: how fresh each env's newest one is.
    #[serde(default)]
    pub backups: Option<BackupsConfig>,
    /// The migration Jobs releases run: a gate for the envs that require them.
    #[serde(default)]
    pub migrations: Option<MigrationsConfig>,
    /// `shipdeck guard`: its Lease and health port.
    #[serde(default)]
    pub guard: Option<GuardConfig>,
    /// Disable every write (git pushes, cluster patches, secret rewrites, deletions).
    #[serde(default)]
    pub read_only: bool,
}

/// The container registry images are pushed to: `<endpoint>/<project>/<name>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Registry host (and port), e.g. `harbor.example.com` or `ghcr.io`.
    pub endpoint: String,
    /// Namespace of the images in it (Harbor project, GHCR organisation), e.g. `miker`.
    pub project: String,
}

impl Registry {
    /// The image repository of a bare image name in this registry.
    pub fn image(&self, name: &str) -> String {
        let endpoint = self.endpoint.trim().trim_end_matches('/');
        let project = self.project.trim().trim_matches('/');
        if project.is_empty() {
            format!("{endpoint}/{name}")
        } else {
            format!("{endpoint}/{project}/{name}")
        }
    }
}

/// Where the CI gates live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    pub owner: String,
    pub repo: String,
    /// REST base URL; GitHub Enterprise or the sandbox. Default `https://api.github.com`.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Name of the env var holding the token (default: `GITHUB_TOKEN`, then `GH_TOKEN`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Regex with one capture group that extracts the commit SHA from an image tag
    /// (default: the tag itself when it is a 7-40 hex SHA).
    #[serde(default)]
    pub tag_sha_regex: Option<String>,
    /// How long connecting to the API may take. Seconds; default 5.
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// How long one request may take, headers and body. Seconds; default 30.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Pull-request labels that need care before they go out (highlighted in the Changes
    /// view, warned about in the promote and release confirmations). Default: breaking,
    /// migration.
    #[serde(default)]
    pub care_labels: Option<Vec<String>>,
}

impl GithubConfig {
    /// The labels that need care, the inventory's or the defaults.
    pub fn care_labels(&self) -> Vec<String> {
        self.care_labels.clone().unwrap_or_else(|| {
            crate::services::github::DEFAULT_CARE_LABELS
                .iter()
                .map(|l| (*l).to_owned())
                .collect()
        })
    }
}

/// The GitOps repository that says which tag each environment runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitopsConfig {
    /// Remote URL: `file://`, `ssh://`, `git@host:path` or `https://`. Relative paths resolve
    /// against the inventory's folder.
    pub url: String,
    #[serde(default = "default_branch")]
    pub branch: String,
    #[serde(default)]
    pub author: Option<Author>,
    /// Env var holding an HTTPS token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// SSH private key file (else the ssh agent).
    #[serde(default)]
    pub ssh_key_file: Option<String>,
    /// How long connecting to the remote may take. Seconds; default 5.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// How long one fetch or push may take in all (and the longest a single read may wait).
    /// Seconds; default 30.
    #[serde(default = "default_git_timeout")]
    pub timeout_secs: u64,
}

fn default_git_timeout() -> u64 {
    30
}

fn default_branch() -> String {
    "main".to_owned()
}

/// Commit author for shipdeck's commits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Author {
    pub name: String,
    pub email: String,
}

/// Which kubeconfig to use (default: `KUBECONFIG`, then `~/.kube/config`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeConfig {
    #[serde(default)]
    pub kubeconfig: Option<String>,
    /// How long git and the cluster may disagree before the screen calls it drift: a release
    /// takes a moment to sync, and that moment is not news. Seconds; default 30.
    #[serde(default = "default_drift_grace")]
    pub drift_grace_secs: u64,
    /// How long connecting to an API server may take. Seconds; default 5.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// How long one request (an action's read or patch, not a watch) may wait for its answer.
    /// Seconds; default 20.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// A watch connection silent this long counts as dead and is re-established (the server
    /// is asked to end each watch after four fifths of it). Seconds; default 75.
    #[serde(default = "default_watch_idle")]
    pub watch_idle_secs: u64,
}

fn default_watch_idle() -> u64 {
    75
}

fn default_drift_grace() -> u64 {
    30
}

fn default_connect_timeout() -> u64 {
    5
}

fn default_request_timeout() -> u64 {
    20
}

impl Default for KubeConfig {
    fn default() -> Self {
        KubeConfig {
            kubeconfig: None,
            drift_grace_secs: default_drift_grace(),
            connect_timeout_secs: default_connect_timeout(),
            request_timeout_secs: default_request_timeout(),
            watch_idle_secs: default_watch_idle(),
        }
    }
}

/// One deployable application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Image repository without tag, e.g. `harbor.example.com/miker/miker-web`. A bare name
    /// (no `/`, e.g. `miker-web`) is completed at load time from the inventory's `registry:`
    /// to `<endpoint>/<project>/miker-web`; without a `registry:` it stays as written.
    pub image: String,
    /// Name of the Argo Rollout (default: the app's name).
    #[serde(default)]
    pub rollout: Option<String>,
    /// Argo CD Application name; `{app}` and `{env}` are replaced (default `{app}-{env}`).
    #[serde(default)]
    pub argocd_application: Option<String>,
    /// Where the tag lives in the GitOps repo.
    pub layout: Layout,
    /// Its SLO queries and thresholds (default: the conventional metric names and the seed's
    /// thresholds, see [`SloConfig`]).
    #[serde(default)]
    pub slo: Option<SloConfig>,
    /// The namespace it runs in when that is not its environment's; `{app}` and `{env}` are
    /// replaced (`payments-{env}`). Platform teams give each team or app its own namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Free labels the fleet view groups by (`team: payments`).
    #[serde(default)]
    pub labels: IndexMap<String, String>,
}

impl App {
    pub fn rollout_name<'a>(&'a self, app: &'a str) -> &'a str {
        self.rollout.as_deref().unwrap_or(app)
    }

    /// Its SLO, the inventory's or the defaults.
    pub fn slo(&self) -> SloConfig {
        self.slo.clone().unwrap_or_default()
    }

    /// The namespace of this app in `env` (whose own namespace is `env_namespace`).
    pub fn namespace_in(&self, app: &str, env: &str, env_namespace: &str) -> String {
        self.namespace.as_deref().map_or_else(
            || env_namespace.to_owned(),
            |t| t.replace("{app}", app).replace("{env}", env),
        )
    }

    pub fn argocd_application_name(&self, app: &str, env: &str) -> String {
        self.argocd_application
            .as_deref()
            .unwrap_or("{app}-{env}")
            .replace("{app}", app)
            .replace("{env}", env)
    }
}

/// The file (and spot in it) that holds an app's image tag for one environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Layout {
    /// A kustomization with an `images[]` entry matched by `name`.
    Kustomize {
        /// Path in the repo; `{app}` and `{env}` are replaced.
        path: String,
        /// The `images[].name` to match (default: the app's `image`).
        #[serde(default)]
        image_name: Option<String>,
    },
    /// A Helm values file with the tag at a dotted key path.
    Helm {
        path: String,
        /// Dotted key path, e.g. `image.tag`.
        key: String,
    },
}

impl Layout {
    /// The file path for one environment.
    pub fn path_for(&self, app: &str, env: &str) -> String {
        let raw = match self {
            Layout::Kustomize { path, .. } | Layout::Helm { path, .. } => path,
        };
        raw.replace("{app}", app).replace("{env}", env)
    }
}

/// One environment (dev, stg, prod, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// kubeconfig context (default: the current context).
    #[serde(default)]
    pub kube_context: Option<String>,
    pub namespace: String,
    /// Protected environments need the env name typed to confirm, and `--confirm-env` headless.
    #[serde(default)]
    pub protected: bool,
    /// The environment whose tag `promote` copies into this one.
    #[serde(default)]
    pub promote_from: Option<Spanned<String>>,
    /// Check names that must pass on the commit before it may enter this environment.
    #[serde(default)]
    pub required_checks: Vec<String>,
    /// New builds are released here automatically (the sandbox's dev does this).
    #[serde(default)]
    pub auto_release: bool,
    /// Whether failing gates may be overridden with a typed reason.
    #[serde(default)]
    pub allow_gate_override: bool,
    /// Where this environment's Argo CD Application lives.
    #[serde(default)]
    pub argocd: Option<ArgoCdRef>,
    /// `shipdeck guard` rolls this environment back by itself when a canary fails.
    #[serde(default)]
    pub auto_rollback: bool,
}

impl Environment {
    pub fn promote_from(&self) -> Option<&str> {
        self.promote_from.as_ref().map(|s| s.value.as_str())
    }
}

/// Argo CD's own cluster context and namespace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgoCdRef {
    #[serde(default)]
    pub kube_context: Option<String>,
    #[serde(default = "default_argocd_namespace")]
    pub namespace: String,
}

fn default_argocd_namespace() -> String {
    "argocd".to_owned()
}

/// Self-hosted Actions runners (ARC).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnersConfig {
    #[serde(default)]
    pub kube_context: Option<String>,
    pub namespace: String,
    /// AutoscalingRunnerSet names (empty: all in the namespace).
    #[serde(default)]
    pub scale_sets: Vec<String>,
    /// Legacy (`actions.summerwind.dev`) RunnerDeployment names (empty: all in the namespace).
    #[serde(default)]
    pub runner_deployments: Vec<String>,
}

impl Inventory {
    /// Parses and validates inventory text; `path` is used for messages and relative paths.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Self, InventoryError> {
        errors::parse(text, path)
    }

    /// Reads, parses and validates an inventory file. A file past [`MAX_INVENTORY_BYTES`]
    /// (`/dev/zero`, a log passed by mistake) is refused before it fills memory, and one that
    /// is not UTF-8 is refused with the place of its first bad byte.
    pub fn load(path: &Path) -> Result<Self, InventoryError> {
        use std::io::Read as _;
        let read_err = |source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_err)?;
        let mut bytes = Vec::new();
        file.take(MAX_INVENTORY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_INVENTORY_BYTES {
            return Err(InventoryError::Invalid {
                path: path.to_path_buf(),
                line: 1,
                col: 1,
                message: format!(
                    "the file is larger than {} MiB; an inventory is a few kilobytes",
                    MAX_INVENTORY_BYTES >> 20
                ),
                fix: "pass the inventory file (is this the right path?)".to_owned(),
            });
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let (line, col) = crate::textpos::line_col(e.as_bytes(), at);
                return Err(InventoryError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    col,
                    message: format!(
                        "byte {at} (0x{:02x}) is not UTF-8; the file looks binary or in another encoding",
                        e.as_bytes()[at]
                    ),
                    fix: "save the inventory as UTF-8 text".to_owned(),
                });
            }
        };
        Self::from_str_at(&text, path)
    }

    /// Completes bare app image names from `registry:` (done once, at load time, so every
    /// reader of [`App::image`] sees the full repository).
    fn complete_images(&mut self) {
        let Some(registry) = &self.registry else {
            return;
        };
        for app in self.apps.values_mut() {
            let name = app.image.trim();
            if !name.is_empty() && !name.contains('/') {
                app.image = registry.image(name);
            }
        }
    }

    /// The folder relative paths resolve against.
    pub fn base_dir(&self) -> &Path {
        self.source.parent().unwrap_or_else(|| Path::new("."))
    }

    /// Resolves a path written in the inventory: `~/` is the home folder, a relative path is
    /// relative to the inventory's folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        if let (Some(rest), Some(home)) = (p.strip_prefix("~/"), std::env::var_os("HOME")) {
            return PathBuf::from(home).join(rest);
        }
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir().join(path)
        }
    }

    /// The GitOps remote URL with a relative local path resolved.
    pub fn gitops_url(&self) -> String {
        let url = &self.gitops.url;
        if url.contains("://") || url.contains('@') || Path::new(url).is_absolute() {
            url.clone()
        } else {
            self.resolve(url).display().to_string()
        }
    }

    /// Environments in promotion order as written in the file.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.environments.keys().map(String::as_str)
    }

    /// Where `app` runs in `env`: its own namespace, or the environment's. Unknown names give
    /// the environment's namespace, or an empty string (the lookups that matter refuse them first).
    pub fn namespace_of(&self, app: &str, env: &str) -> String {
        let env_ns = self
            .environments
            .get(env)
            .map_or("", |e| e.namespace.as_str());
        self.apps
            .get(app)
            .map_or_else(|| env_ns.to_owned(), |a| a.namespace_in(app, env, env_ns))
    }

    /// Looks an app up, with a clear error.
    pub fn app(&self, name: &str) -> Result<&App, InventoryError> {
        self.apps
            .get(name)
            .ok_or_else(|| InventoryError::UnknownName {
                kind: "app",
                name: name.to_owned(),
                known: self.apps.keys().cloned().collect(),
            })
    }

    /// Looks an environment up, with a clear error.
    pub fn env(&self, name: &str) -> Result<&Environment, InventoryError> {
        self.environments
            .get(name)
            .ok_or_else(|| InventoryError::UnknownName {
                kind: "environment",
                name: name.to_owned(),
                known: self.environments.keys().cloned().collect(),
            })
    }
}

/// Where the inventory is looked for, in order: `--inventory`, `SHIPDECK_INVENTORY`,
/// `<config dir>/inventory.yaml`.
pub fn locate(explicit: Option<&Path>, config_dir: &Path) -> Result<PathBuf, InventoryError> {
    locate::locate(explicit, config_dir)
}
