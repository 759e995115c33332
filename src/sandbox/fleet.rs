//! A sandbox at a platform team's scale (`shipdeck demo --apps N`): N apps × dev/stg/prod, each
//! environment its own simulated cluster (its own API server on 127.0.0.1), the apps spread
//! over N/10 team namespaces, and states seeded so every kind of "needs me" line appears: a few
//! canaries paused for promotion, a prod whose sync is off and behind git, a dev tag whose
//! checks failed. Churn comes from the demo's CI (a build a minute per ten apps).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::github::{GithubSandbox, Scenario};
use super::gitremote::{SeedError, SeededGitops, seed_with, sig};
use super::kube::{KubeSandbox, KubeSandboxOptions};
use crate::inventory::Inventory;

/// The fleet's environments, in promotion order; each is one cluster.
pub const ENVS: [&str; 3] = ["dev", "stg", "prod"];

/// The image registry path the fleet's apps share.
const REGISTRY: &str = "harbor.sandbox.local/fleet";

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct FleetOpts {
    pub apps: usize,
    /// Pods no Rollout made, per namespace per cluster (a busy platform's other workloads).
    pub unrelated_pods: usize,
    pub speed: f64,
}

pub fn app_name(i: usize) -> String {
    format!("svc-{i:03}")
}

/// One team (and namespace) per ten apps.
pub fn teams(apps: usize) -> usize {
    (apps / 10).max(1)
}

fn team(i: usize, apps: usize) -> usize {
    i % teams(apps)
}

/// The kube context of an environment's cluster.
pub fn context(env: &str) -> String {
    format!("fleet-{env}")
}

/// `c` + app + build: 7 hex digits, like a short SHA, unique per app and build.
fn tag(i: usize, build: usize) -> String {
    format!("c{:03x}{build:03x}", i % 0x1000)
}

/// Which seeded state an app is in (by its index, so tests know where to look).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// Everything promoted and healthy; dev one build ahead.
    Calm,
    /// stg got a new tag: its canary waits at the indefinite pause.
    Paused,
    /// prod's git moved while its auto-sync is off: git is ahead of the cluster.
    BehindGit,
    /// dev runs a build whose `test` check failed.
    FailedGates,
    /// dev got a `bad…` build: its canary's analysis fails and aborts it.
    Aborted,
}

pub fn seeded(i: usize) -> Seeded {
    if i % 20 == 3 {
        Seeded::Paused
    } else if i % 50 == 17 {
        Seeded::BehindGit
    } else if i % 25 == 11 {
        Seeded::FailedGates
    } else if i % 50 == 29 {
        Seeded::Aborted
    } else {
        Seeded::Calm
    }
}

/// The apps, environments and runners of the fleet's inventory (the demo adds the rest).
pub fn inventory_world(apps: usize) -> String {
    let mut s = String::from("apps:\n");
    for i in 0..apps {
        let name = app_name(i);
        let _ = write!(
            s,
            "  {name}:\n    image: {REGISTRY}/{name}\n    namespace: \"team-{t:02}-{{env}}\"\n    labels:\n      team: team-{t:02}\n      tier: {tier}\n    layout:\n      kind: kustomize\n      path: apps/{name}/overlays/{{env}}/kustomization.yaml\n",
            t = team(i, apps),
            tier = if i % 3 == 0 { "edge" } else { "core" },
        );
    }
    s.push_str("\nenvironments:\n");
    let checks = [
        "[]",
        "[build, test]",
        "[lint, type-check, test, build, trivy, codeql, gitleaks]",
    ];
    for (k, env) in ENVS.iter().enumerate() {
        let _ = write!(
            s,
            "  {env}:\n    kube_context: {ctx}\n    namespace: {env}\n    required_checks: {}\n",
            checks[k],
            ctx = context(env)
        );
        match *env {
            "dev" => s.push_str("    auto_release: true\n"),
            "stg" => s.push_str("    promote_from: dev\n"),
            _ => s.push_str("    protected: true\n    promote_from: stg\n"),
        }
    }
    let _ = write!(
        s,
        "\nrunners:\n  kube_context: {}\n  namespace: arc-runners\n  scale_sets: [fleet-runners]\n",
        context("dev")
    );
    s
}

fn kustomization(name: &str, tag: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {name}\nresources:\n  - ../../base\nimages:\n  - name: {REGISTRY}/{name}\n    newTag: \"{tag}\"\n"
    )
}

/// The tags git holds per env, at the first commit and at the tip.
fn tags(i: usize) -> [[String; 3]; 2] {
    let (t1, t2, t3) = (tag(i, 1), tag(i, 2), tag(i, 3));
    match seeded(i) {
        Seeded::Paused => [[t2.clone(), t1.clone(), t1.clone()], [t3, t2, t1]],
        Seeded::BehindGit => [[t2.clone(), t2.clone(), t1], [t3, t2.clone(), t2]],
        Seeded::Aborted => [
            [t2.clone(), t2.clone(), t1.clone()],
            [format!("bad{:04x}", i % 0x10000), t2, t1],
        ],
        Seeded::Calm | Seeded::FailedGates => [[t2.clone(), t2.clone(), t1.clone()], [t3, t2, t1]],
    }
}

/// A tree from paths → contents, built bottom-up (one tree write per folder).
fn tree_of(repo: &Repository, files: &BTreeMap<String, Vec<u8>>) -> Result<Oid, git2::Error> {
    let mut here = repo.treebuilder(None)?;
    let mut folders: BTreeMap<&str, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for (path, content) in files {
        match path.split_once('/') {
            Some((dir, rest)) => {
                folders
                    .entry(dir)
                    .or_default()
                    .insert(rest.to_owned(), content.clone());
            }
            None => {
                here.insert(path, repo.blob(content)?, 0o100_644)?;
            }
        }
    }
    for (dir, inner) in folders {
        here.insert(dir, tree_of(repo, &inner)?, 0o040_000)?;
    }
    here.write()
}

/// `<workspace>/gitops.git`: one commit setting every app × env, one moving some of them.
///
/// # Errors
/// The workspace cannot be written.
pub fn seed_gitops(workspace: &Path, apps: usize) -> Result<SeededGitops, SeedError> {
    seed_with(workspace, |repo| {
        let mut head = None;
        for (n, (who, when, subject)) in [
            (
                ("platform-bot", "platform@sandbox.local"),
                "2026-11-20T09:00:00Z",
                "Bootstrap the fleet",
            ),
            (
                ("ci-bot", "ci@sandbox.local"),
                "2026-12-01T09:00:00Z",
                "Release the week's builds",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let mut files = BTreeMap::new();
            files.insert(
                "README.md".to_owned(),
                b"The sandbox fleet: one kustomize overlay per app and environment.\n".to_vec(),
            );
            for i in 0..apps {
                let name = app_name(i);
                let t = &tags(i)[n];
                for (k, env) in ENVS.iter().enumerate() {
                    files.insert(
                        format!("apps/{name}/overlays/{env}/kustomization.yaml"),
                        kustomization(&name, &t[k]).into_bytes(),
                    );
                }
            }
            let tree = repo.find_tree(tree_of(repo, &files)?)?;
            let s = sig(who, when)?;
            let parents: Vec<git2::Commit<'_>> = head
                .map(|h| repo.find_commit(h))
                .transpose()?
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            head = Some(repo.commit(None, &s, &s, &format!("{subject}\n"), &tree, &refs)?);
        }
        head.ok_or_else(|| SeedError::Git(git2::Error::from_str("no commit")))
    })
}

/// Every seeded tag as a finished build in the sandbox GitHub (the failed one with `test` red).
pub fn register_builds(github: &GithubSandbox, apps: usize) {
    // Long enough ago that even a fast sandbox clock puts them hours back: none "just passed".
    let day = std::time::Duration::from_secs(30 * 24 * 3600);
    for i in 0..apps {
        for b in 1..=3 {
            let scenario = if b == 3 && seeded(i) == Seeded::FailedGates {
                Scenario::pipeline().failing("test")
            } else {
                Scenario::pipeline()
            };
            github.add_commit_at(&tag(i, b), scenario, day);
        }
        if seeded(i) == Seeded::Aborted {
            github.add_commit_at(
                &format!("bad{:04x}", i % 0x10000),
                Scenario::pipeline(),
                day,
            );
        }
    }
}

/// The simulated clusters, one per environment, and the kubeconfig naming them all.
pub struct FleetClusters {
    pub clusters: Vec<(String, KubeSandbox)>,
    pub kubeconfig: PathBuf,
}

impl FleetClusters {
    pub async fn shutdown(self) {
        for (_, c) in self.clusters {
            c.shutdown().await;
        }
    }

    /// The cluster of an environment.
    pub fn cluster(&self, env: &str) -> Option<&KubeSandbox> {
        self.clusters.iter().find(|(e, _)| e == env).map(|(_, c)| c)
    }
}

/// Starts one API server per environment, each seeded with that env's slice of the inventory
/// (and the runners in dev's), and writes `<dir>/kubeconfig` with a context per cluster.
///
/// # Errors
/// A server cannot bind or seed, or the kubeconfig cannot be written.
pub async fn start_clusters(
    dir: &Path,
    inventory: &Inventory,
    opts: FleetOpts,
    log_rate: Option<f64>,
) -> Result<FleetClusters, String> {
    let mut clusters = Vec::new();
    let mut config = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for env in ENVS {
        let mut slice = inventory.clone();
        slice.environments.retain(|e, _| e == env);
        if env != "dev" {
            slice.runners = None;
        }
        let mut o = KubeSandboxOptions::new(dir.join(env));
        o.speed = opts.speed;
        o.log_rate = log_rate;
        o.manual_sync = (0..opts.apps)
            .filter(|i| env == "prod" && seeded(*i) == Seeded::BehindGit)
            .map(|i| (app_name(i), env.to_owned()))
            .collect();
        o.behind = (0..opts.apps)
            .filter(|i| env == "dev" && seeded(*i) == Seeded::Aborted)
            .map(|i| (app_name(i), env.to_owned()))
            .collect();
        o.inventory = Some(slice);
        let kube = KubeSandbox::start(o)
            .await
            .map_err(|e| format!("sandbox cluster {env}: {e}"))?;
        if opts.unrelated_pods > 0 {
            for t in 0..teams(opts.apps) {
                super::kube::seed::seed_unrelated_pods(
                    kube.store(),
                    &format!("team-{t:02}-{env}"),
                    opts.unrelated_pods,
                )
                .map_err(|e| format!("sandbox cluster {env}: {e}"))?;
            }
        }
        let _ = write!(
            config,
            "- name: {ctx}\n  cluster:\n    server: {}\n",
            kube.url(),
            ctx = context(env)
        );
        clusters.push((env.to_owned(), kube));
    }
    config.push_str("users:\n- name: fleet\n  user: {}\ncontexts:\n");
    for env in ENVS {
        let _ = write!(
            config,
            "- name: {ctx}\n  context:\n    cluster: {ctx}\n    user: fleet\n    namespace: default\n",
            ctx = context(env)
        );
    }
    let _ = writeln!(config, "current-context: {}", context("dev"));
    let kubeconfig = dir.join("kubeconfig");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(&kubeconfig, config).map_err(|e| format!("{}: {e}", kubeconfig.display()))?;
    Ok(FleetClusters {
        clusters,
        kubeconfig,
    })
}
