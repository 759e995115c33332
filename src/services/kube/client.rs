//! Clients per kubeconfig context, and where each watch points.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{KubeError, Result};
use crate::inventory::Inventory;

/// Where to connect: a kubeconfig file (or the usual lookup) and a context (or the current one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `None`: `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub timeouts: Timeouts,
}

/// How long a client waits: to connect, and for the answer to one request. Watches have no
/// request timeout (their long poll is quiet by design); kube-runtime's idle timeout guards them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    /// A watch connection silent this long is dead (the server is asked to end each watch
    /// sooner).
    pub watch_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(20),
            watch_idle: Duration::from_secs(75),
        }
    }
}

impl Timeouts {
    /// The most a whole action (a read, an access review, a patch) may take: one connect and
    /// one request's wait, since a server that answers does so in milliseconds.
    pub fn action_deadline(&self) -> Duration {
        self.connect + self.request
    }
}

impl Target {
    /// The inventory's kubeconfig (resolved against its folder) with a context.
    /// Takes the whole inventory though it reads only `kube:`: every caller holds one while
    /// walking environments, Argo CD refs or runners, and `Inventory::resolve` expands `~/` too.
    pub fn from_inventory(inv: &Inventory, context: Option<&str>) -> Target {
        Target {
            kubeconfig: inv.kube.kubeconfig.as_deref().map(|p| inv.resolve(p)),
            context: context.map(str::to_owned),
            timeouts: Timeouts {
                connect: Duration::from_secs(inv.kube.connect_timeout_secs),
                request: Duration::from_secs(inv.kube.request_timeout_secs),
                watch_idle: Duration::from_secs(inv.kube.watch_idle_secs.max(2)),
            },
        }
    }

    /// A readable name for messages.
    pub fn label(&self) -> String {
        self.context
            .clone()
            .unwrap_or_else(|| "current context".to_owned())
    }
}

/// What every request to an API server says we are.
pub const USER_AGENT: &str = concat!("shipdeck/", env!("CARGO_PKG_VERSION"));

/// The field manager every write names, so managedFields say who owns what we set.
pub const FIELD_MANAGER: &str = "shipdeck";

/// Patch parameters for our writes: the field manager set.
pub fn patch_params() -> kube::api::PatchParams {
    kube::api::PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..kube::api::PatchParams::default()
    }
}

/// Create parameters for our writes (reviews included): the field manager set.
pub fn post_params() -> kube::api::PostParams {
    kube::api::PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..kube::api::PostParams::default()
    }
}

/// The username the API server authenticates our credentials as (a SelfSubjectReview,
/// authentication.k8s.io/v1); servers before 1.28 do not answer it.
pub async fn whoami(client: &Client) -> Result<String> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: kube::Api<SelfSubjectReview> = kube::Api::all(client.clone());
    let review = api
        .create(&post_params(), &SelfSubjectReview::default())
        .await
        .map_err(|e| describe(&e))?;
    review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| KubeError::Api("the SelfSubjectReview named no user".to_owned()))
}

/// A client for watches (no request is made yet): a connect timeout, no read timeout.
pub async fn client(target: &Target) -> Result<Client> {
    build(target, false).await
}

/// A client for single requests (actions, reviews): a connect timeout and a timeout on each
/// answer, so a server that accepts and never answers cannot hold an action.
pub async fn request_client(target: &Target) -> Result<Client> {
    build(target, true).await
}

/// Why `context` cannot be used with this kubeconfig (it is not in it; or, for none, the
/// kubeconfig has no current context), naming the contexts it has.
pub fn missing_context(kc: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    let has = if names.is_empty() {
        "it has none".to_owned()
    } else {
        format!("it has: {}", names.join(", "))
    };
    match context {
        Some(c) if !names.contains(&c) => {
            Some(format!("context `{c}` is not in the kubeconfig ({has})"))
        }
        None if kc.current_context.as_deref().is_none_or(str::is_empty) => Some(format!(
            "no kube_context is set and the kubeconfig has no current-context ({has})"
        )),
        _ => None,
    }
}

/// The kubeconfig a target reads.
pub fn read_kubeconfig(path: Option<&std::path::Path>) -> Result<Kubeconfig> {
    match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| KubeError::Kubeconfig(e.to_string()))
}

/// The client config of a target: its kubeconfig; or, when none is named, none is found and
/// no context is asked for, the pod's service account (`shipdeck guard` in the cluster).
async fn config_for(target: &Target) -> Result<Config> {
    let kc = match read_kubeconfig(target.kubeconfig.as_deref()) {
        Ok(kc) => kc,
        Err(e) if target.kubeconfig.is_none() && target.context.is_none() => {
            return Config::incluster().map_err(|_| e);
        }
        Err(e) => return Err(e),
    };
    if let Some(problem) = missing_context(&kc, target.context.as_deref()) {
        return Err(KubeError::Kubeconfig(problem));
    }
    let opts = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| KubeError::Client {
            context: target.label(),
            message: e.to_string(),
        })
}

async fn build(target: &Target, requests: bool) -> Result<Client> {
    let mut config = config_for(target).await?;
    config.connect_timeout = Some(target.timeouts.connect);
    // A watch's long poll gets no answer for minutes by design; silence past `watch_idle`
    // (the server ends every watch sooner) means the connection is gone.
    config.read_timeout = Some(target.timeouts.watch_idle);
    if requests {
        config.read_timeout = Some(target.timeouts.request);
        config.write_timeout = Some(target.timeouts.request);
        // A pooled connection's idle time must not count against the next answer.
        config.reset_reader_on_write = true;
    }
    // API server audit logs and managedFields name the client by its User-Agent.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    Client::try_from(config).map_err(|e| KubeError::Client {
        context: target.label(),
        message: e.to_string(),
    })
}

/// A kube error in words a person can act on; 403 and 404 keep their meaning.
pub fn describe(e: &kube::Error) -> KubeError {
    if let kube::Error::Api(s) = e {
        let msg = format!("{} ({})", s.message, s.reason);
        return match s.code {
            403 => KubeError::Forbidden(s.message.clone()),
            404 => KubeError::NotFound(s.message.clone()),
            _ => KubeError::Api(msg),
        };
    }
    KubeError::Api(error_line(e))
}

/// One line a person can read for a kube error: the API server's own message for an API
/// error (kube's `Display` appends the whole `Status` struct in Debug form), otherwise the
/// error with its causes, each said once.
pub fn error_line(e: &kube::Error) -> String {
    if let kube::Error::Api(s) = e {
        return match (s.message.is_empty(), s.reason.is_empty()) {
            (false, _) => s.message.clone(),
            (true, false) => format!("{} ({})", s.reason, s.code),
            (true, true) => format!("the API server answered {}", s.code),
        };
    }
    chain_line(e)
}

/// A watch error in one line: what failed (list or watch) and why.
pub fn watch_error_line(e: &kube::runtime::watcher::Error) -> String {
    use kube::runtime::watcher::Error as W;
    match e {
        W::InitialListFailed(k) => format!("list failed: {}", error_line(k)),
        W::WatchStartFailed(k) | W::WatchFailed(k) => format!("watch failed: {}", error_line(k)),
        W::WatchError(s) if !s.message.is_empty() => format!("watch failed: {}", s.message),
        W::WatchError(s) => format!("watch failed: the API server answered {}", s.code),
        W::NoResourceVersion => e.to_string(),
    }
}

/// An error and its sources joined with `: `, skipping a cause its parent already quotes and
/// kube's variant prefixes (`ServiceError: `), which name Rust types, not problems.
fn chain_line(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        let text = ["ServiceError: ", "HyperError: ", "HttpError: "]
            .iter()
            .fold(text.as_str(), |t, p| t.strip_prefix(p).unwrap_or(t))
            .to_owned();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        next = err.source();
    }
    out
}

/// An app and an env of the inventory, and the cluster the env lives on: where an action on
/// that app's objects there goes. Unknown names are refusals, with the inventory's words.
pub fn app_env<'i>(
    inv: &'i Inventory,
    app: &str,
    env: &str,
) -> Result<(
    &'i crate::inventory::App,
    &'i crate::inventory::Environment,
    Target,
)> {
    let a = inv
        .app(app)
        .map_err(|e| KubeError::Refused(e.to_string()))?;
    let e = inv
        .env(env)
        .map_err(|e| KubeError::Refused(e.to_string()))?;
    Ok((a, e, Target::from_inventory(inv, e.kube_context.as_deref())))
}
