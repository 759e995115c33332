//! GitOps engine against real git: seeded bare remotes, `git daemon`, hooks, kustomize.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod edit_prop;
mod engine;
pub(crate) mod headless;
mod https_auth;
pub(crate) mod remote;
mod ssh_auth;

use std::path::{Path, PathBuf};
use std::process::Command;

use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::sandbox::gitremote::{SeededGitops, seed};
use shipdeck::services::gitops::GitopsEngine;

/// A seeded remote and an inventory pointing at it, all in one tempdir.
pub struct World {
    pub dir: tempfile::TempDir,
    pub seeded: SeededGitops,
    pub inventory_path: PathBuf,
}

impl World {
    pub fn new() -> World {
        Self::with_url(None)
    }

    /// `url`: override the remote URL (e.g. a git daemon's `git://`).
    pub fn with_url(url: Option<&str>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let seeded = seed(dir.path()).unwrap();
        let url = url.map_or_else(|| seeded.url.clone(), str::to_owned);
        let inventory_path = dir.path().join("inventory.yaml");
        std::fs::write(&inventory_path, inventory_text(&url)).unwrap();
        World {
            dir,
            seeded,
            inventory_path,
        }
    }

    /// Adds a third app, `miker-worker` (helm), to the remote and the inventory.
    pub fn add_worker_app(&self) {
        let wc = self.dir.path().join("add-worker");
        git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                self.seeded.url.as_str(),
                wc.to_str().unwrap(),
            ],
        );
        for env in ["dev", "stg", "prod"] {
            std::fs::write(
                wc.join(format!("apps/miker-api/worker-{env}.yaml")),
                "# worker\nimage:\n  repository: harbor.sandbox.local/miker/miker-worker\n  tag: \"aaaa111\"\n",
            )
            .unwrap();
        }
        git(&wc, &["add", "-A"]);
        git(&wc, &["commit", "-qm", "add miker-worker"]);
        git(&wc, &["push", "-q", "origin", "main"]);
        let url = self.inventory().gitops_url();
        let text = inventory_text(&url).replace(
            "environments:",
            "  miker-worker:\n    image: harbor.sandbox.local/miker/miker-worker\n    layout: {kind: helm, path: \"apps/miker-api/worker-{env}.yaml\", key: image.tag}\nenvironments:",
        );
        std::fs::write(&self.inventory_path, text).unwrap();
    }

    pub fn inventory(&self) -> Inventory {
        Inventory::load(&self.inventory_path).unwrap()
    }

    /// A separate data dir = a separate machine's working clone.
    pub fn paths(&self, who: &str) -> Paths {
        Paths::under(&self.dir.path().join("home").join(who))
    }

    pub fn engine(&self, who: &str) -> GitopsEngine {
        GitopsEngine::open_at(&self.inventory(), &self.paths(who), None).unwrap()
    }

    pub fn bare(&self) -> &Path {
        &self.seeded.bare
    }
}

pub fn inventory_text(url: &str) -> String {
    format!(
        r#"gitops:
  url: "{url}"
  branch: main
  author: {{name: shipdeck-test, email: shipdeck-test@example.com}}
apps:
  miker-web:
    image: harbor.sandbox.local/miker/miker-web
    layout: {{kind: kustomize, path: "apps/{{app}}/overlays/{{env}}/kustomization.yaml"}}
  miker-api:
    image: harbor.sandbox.local/miker/miker-api
    layout: {{kind: helm, path: "apps/{{app}}/values-{{env}}.yaml", key: image.tag}}
environments:
  dev: {{namespace: miker-dev}}
  stg: {{namespace: miker-stg, promote_from: dev}}
  prod: {{namespace: miker-prod, protected: true, promote_from: stg}}
"#
    )
}

/// `git` with a sandboxed config (no global or system settings leak in).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let empty = dir.join(".no-global-gitconfig");
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", &empty)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .unwrap_or_else(|e| panic!("`git` must be installed for these tests: {e}"));
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file's text at the remote's `main`.
pub fn remote_file(bare: &Path, path: &str) -> String {
    git(bare, &["show", &format!("main:{path}")])
}

pub fn remote_main(bare: &Path) -> String {
    git(bare, &["rev-parse", "main"]).trim().to_owned()
}
