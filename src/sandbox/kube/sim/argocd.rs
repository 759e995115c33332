//! A simulated Argo CD application controller: it watches the GitOps remote (the tip of the
//! tracked branch), reads each app's tag through the inventory's Layout, sets the image in the
//! Rollout's pod template when the tag changes (auto-sync), and keeps each Application's
//! sync, health, operationState, history and summary.images up to date.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::argocd_ops as ops;
use super::s;
use crate::inventory::{Inventory, Layout};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::select::LabelSelector;
use crate::sandbox::kube::store::{Store, StoreError, now_rfc3339};
use crate::services::kube::argocd::REFRESH_ANNOTATION;
use crate::services::kube::syncwindow::{SyncWindow, Target, matching};

/// One Argo CD Application: which app × env it deploys and where its tag lives.
#[derive(Debug, Clone)]
pub struct AppBinding {
    pub app: String,
    pub env: String,
    /// Application name and the namespace it lives in.
    pub application: String,
    pub argocd_namespace: String,
    /// The env's namespace and the Rollout's name there.
    pub namespace: String,
    pub rollout: String,
    /// Image repository without tag.
    pub image: String,
    /// Kustomize `images[].name` to match (kustomize layouts).
    pub image_name: String,
    pub layout: Layout,
    /// Path of the file holding the tag, inside the repo.
    pub file: String,
    pub repo_url: String,
    pub repo_path: PathBuf,
    pub branch: String,
}

/// The bindings an inventory describes, one per app × env.
pub fn bindings(inv: &Inventory) -> Vec<AppBinding> {
    let url = inv.gitops_url();
    let repo_path = PathBuf::from(url.strip_prefix("file://").unwrap_or(&url));
    let mut out = Vec::new();
    for (app_name, app) in &inv.apps {
        for (env_name, env) in &inv.environments {
            let image_name = match &app.layout {
                Layout::Kustomize { image_name, .. } => {
                    image_name.clone().unwrap_or_else(|| app.image.clone())
                }
                Layout::Helm { .. } => app.image.clone(),
            };
            out.push(AppBinding {
                app: app_name.clone(),
                env: env_name.clone(),
                application: app.argocd_application_name(app_name, env_name),
                argocd_namespace: env
                    .argocd
                    .as_ref()
                    .map_or_else(|| "argocd".to_owned(), |a| a.namespace.clone()),
                namespace: app.namespace_in(app_name, env_name, &env.namespace),
                rollout: app.rollout_name(app_name).to_owned(),
                image: app.image.clone(),
                image_name,
                layout: app.layout.clone(),
                file: app.layout.path_for(app_name, env_name),
                repo_url: url.clone(),
                repo_path: repo_path.clone(),
                branch: inv.gitops.branch.clone(),
            });
        }
    }
    out
}

/// Reads the tag a layout file holds (kustomize `images[].newTag` by name, or a Helm dotted key).
pub fn tag_from_text(text: &str, layout: &Layout, image_name: &str) -> Option<String> {
    let doc: Value = serde_saphyr::from_str(text).ok()?;
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match layout {
        Layout::Kustomize { .. } => doc
            .get("images")?
            .as_array()?
            .iter()
            .find(|i| s(i, "/name") == image_name)
            .and_then(|i| i.get("newTag"))
            .and_then(scalar),
        Layout::Helm { key, .. } => {
            let mut cur = &doc;
            for part in key.split('.') {
                cur = cur.get(part)?;
            }
            scalar(cur)
        }
    }
}

/// The tip commit of `branch` and the tag in `file` there.
pub fn read_tag(b: &AppBinding) -> Result<(String, Option<String>), git2::Error> {
    read_tag_at(b, &format!("refs/heads/{}", b.branch))
}

/// The commit `revision` names (a SHA, a branch, a tag) and the tag in `file` there.
pub fn read_tag_at(
    b: &AppBinding,
    revision: &str,
) -> Result<(String, Option<String>), git2::Error> {
    let repo = git2::Repository::open(&b.repo_path)?;
    let commit = repo.revparse_single(revision)?.peel_to_commit()?;
    let tree = commit.tree()?;
    let tag = tree
        .get_path(std::path::Path::new(&b.file))
        .ok()
        .and_then(|e| e.to_object(&repo).ok())
        .and_then(|o| {
            o.as_blob()
                .map(|b| String::from_utf8_lossy(b.content()).into_owned())
        })
        .and_then(|t| tag_from_text(&t, &b.layout, &b.image_name));
    Ok((commit.id().to_string(), tag))
}

/// The image of the Rollout's first container.
pub fn live_image(rollout: Option<&Value>) -> Option<String> {
    rollout
        .and_then(|r| r.pointer("/spec/template/spec/containers/0/image"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The simulated Argo CD.
pub struct ArgoCdSim {
    store: Arc<Store>,
    bindings: Vec<AppBinding>,
}

fn health_of(rollout_phase: Option<&str>) -> (&'static str, &'static str) {
    match rollout_phase {
        None => ("Missing", "Rollout is missing"),
        Some("Healthy") => ("Healthy", ""),
        Some("Paused") => ("Suspended", "Rollout is paused"),
        Some("Degraded") => ("Degraded", "Rollout is degraded"),
        Some(_) => ("Progressing", "Rollout is progressing"),
    }
}

impl ArgoCdSim {
    pub fn new(store: Arc<Store>, bindings: Vec<AppBinding>) -> Self {
        ArgoCdSim { store, bindings }
    }

    pub fn tick(&mut self) {
        for i in 0..self.bindings.len() {
            let b = self.bindings[i].clone();
            if let Err(e) = self.reconcile(&b) {
                tracing::debug!("sandbox argocd {}: {e}", b.application);
            }
        }
    }

    fn source(b: &AppBinding) -> Value {
        let path = b.file.rsplit_once('/').map_or("", |(d, _)| d);
        json!({"repoURL": b.repo_url, "path": path, "targetRevision": b.branch})
    }

    fn reconcile(&mut self, b: &AppBinding) -> Result<(), StoreError> {
        let Some(app) = self
            .store
            .get(ids::applications(), &b.argocd_namespace, &b.application)
        else {
            return Ok(());
        };
        let mut app = app.value();
        let mut status = app.get("status").cloned().unwrap_or_else(|| json!({}));
        let source = Self::source(b);
        let destination =
            json!({"server": "https://kubernetes.default.svc", "namespace": b.namespace});
        let now = now_rfc3339();
        let rollout = self
            .store
            .get(ids::rollouts(), &b.namespace, &b.rollout)
            .map(|r| r.value());

        match read_tag(b) {
            Err(e) => {
                status["sync"] = json!({"status": "Unknown", "comparedTo": {"source": source, "destination": destination}});
                status["conditions"] = json!([{"type": "ComparisonError", "message": format!("Failed to load target state: {}", e.message()), "lastTransitionTime": now}]);
            }
            Ok((revision, tag)) => {
                if let Value::Object(m) = &mut status {
                    m.shift_remove("conditions");
                }
                let desired = tag.as_ref().map(|t| format!("{}:{t}", b.image));
                let live = live_image(rollout.as_ref());
                // Wait until the rollout controller has taken the current spec in, so a seeded
                // Rollout deploys its first revision before Argo CD moves it on.
                let observed = rollout
                    .as_ref()
                    .is_some_and(|r| r.pointer("/status/stableRS").is_some());
                let out_of_sync =
                    observed && desired.is_some() && live.is_some() && desired != live;
                let first = status.get("history").is_none();
                let windows = self.windows(b, &app);
                let read = app.clone();
                let ctx = ops::SyncCtx {
                    store: &self.store,
                    app: &read,
                    binding: b,
                    rollout: rollout.as_ref(),
                    source: &source,
                    now: &now,
                };
                if app.get("operation").is_some_and(|o| !o.is_null()) {
                    if ops::operation_step(&ctx, &mut app, &mut status, &windows)?
                        && let Value::Object(m) = &mut app
                    {
                        m.shift_remove("operation");
                    }
                } else if first && rollout.is_some() {
                    // The Application's first sync, as Argo CD does on creation.
                    ops::apply_sync(
                        &ctx,
                        &mut status,
                        &revision,
                        tag.as_deref(),
                        out_of_sync,
                        &json!({"automated": true}),
                    )?;
                } else if out_of_sync && ops::auto_sync_due(&app, &status, &revision, &windows) {
                    ops::apply_sync(
                        &ctx,
                        &mut status,
                        &revision,
                        tag.as_deref(),
                        true,
                        &json!({"automated": true}),
                    )?;
                }
                let live = live_image(
                    self.store
                        .get(ids::rollouts(), &b.namespace, &b.rollout)
                        .map(|r| r.value())
                        .as_ref(),
                );
                let sync_status = match (&desired, &live) {
                    (None, _) => "Unknown",
                    (Some(d), Some(l)) if observed && d != l => "OutOfSync",
                    _ => "Synced",
                };
                status["sync"] = json!({"status": sync_status, "revision": revision, "comparedTo": {"source": source, "destination": destination}});
            }
        }
        let rollout = self
            .store
            .get(ids::rollouts(), &b.namespace, &b.rollout)
            .map(|r| r.value());
        let (health, msg) = health_of(
            rollout
                .as_ref()
                .and_then(|r| r.pointer("/status/phase"))
                .and_then(Value::as_str),
        );
        if s(&status, "/health/status") != health {
            status["health"] = if msg.is_empty() {
                json!({"status": health, "lastTransitionTime": now})
            } else {
                json!({"status": health, "message": msg, "lastTransitionTime": now})
            };
        }
        status["summary"] = json!({"images": self.live_images(rollout.as_ref())});
        status["sourceType"] = json!(match b.layout {
            Layout::Kustomize { .. } => "Kustomize",
            Layout::Helm { .. } => "Helm",
        });
        status["resourceHealthSource"] = json!("appTree");
        status["controllerNamespace"] = json!(b.argocd_namespace);
        // A refresh asked for by annotation is done by this pass: the controller removes it.
        let refreshed = app
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
            .and_then(|a| a.shift_remove(REFRESH_ANNOTATION))
            .is_some();
        let stored = self
            .store
            .get(ids::applications(), &b.argocd_namespace, &b.application)
            .map(|a| a.value());
        if refreshed || app.get("status") != Some(&status) || stored.as_ref() != Some(&app) {
            status["reconciledAt"] = json!(now);
            app["status"] = status;
            // Only over the version read: a user's write meanwhile (a terminate) is read next pass.
            super::write_if_unchanged(&self.store, ids::applications(), app)?;
        }
        Ok(())
    }

    /// The sync windows of the Application's project that name it.
    fn windows(&self, b: &AppBinding, app: &Value) -> Vec<SyncWindow> {
        let project = match s(app, "/spec/project") {
            "" => "default",
            p => p,
        };
        let Some(p) = self
            .store
            .get(ids::appprojects(), &b.argocd_namespace, project)
        else {
            return Vec::new();
        };
        let all: Vec<SyncWindow> = p
            .value()
            .pointer("/spec/syncWindows")
            .and_then(|w| serde_json::from_value(w.clone()).ok())
            .unwrap_or_default();
        let target = Target {
            application: &b.application,
            namespace: &b.namespace,
            server: "https://kubernetes.default.svc",
            cluster_name: "in-cluster",
        };
        matching(&all, target).into_iter().cloned().collect()
    }

    /// Images of the live pods the Rollout selects (what `summary.images` reports).
    fn live_images(&self, rollout: Option<&Value>) -> Vec<String> {
        let Some(r) = rollout else { return Vec::new() };
        let selector = r
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let Ok(sel) = LabelSelector::parse(&selector) else {
            return Vec::new();
        };
        if sel.is_empty() {
            return Vec::new();
        }
        let mut images = BTreeSet::new();
        for p in self
            .store
            .list(ids::pods(), Some(s(r, "/metadata/namespace")))
            .0
        {
            if sel.matches(&p.labels) {
                let v = p.value();
                for c in v
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    images.insert(s(c, "/image").to_owned());
                }
            }
        }
        images.into_iter().collect()
    }
}
