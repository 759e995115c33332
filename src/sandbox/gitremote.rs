//! A seeded GitOps repository in a local bare remote (demo and tests): the files embedded from
//! `assets/sandbox/gitops/`, with a few weeks of history by a few people, as a team would have it.

// "GitOps" is the field's name, not an identifier to put in backticks.
#![allow(clippy::doc_markdown)]

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature, Time};

use crate::services::gitops::{TagSpot, set_tag};

/// The seeded remote.
#[derive(Debug, Clone)]
pub struct SeededGitops {
    /// `<workspace>/gitops.git`
    pub bare: PathBuf,
    /// `file://<workspace>/gitops.git`, as the demo inventory writes it.
    pub url: String,
}

/// Errors while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("seed edit: {0}")]
    Edit(#[from] crate::services::gitops::GitopsError),
    #[error("{0} already exists; remove it or use another workspace")]
    Exists(PathBuf),
}

/// The image names the demo inventory uses.
pub const WEB_IMAGE: &str = "harbor.sandbox.local/miker/miker-web";
pub const API_IMAGE: &str = "harbor.sandbox.local/miker/miker-api";

const FILES: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../assets/sandbox/gitops/README.md"),
    ),
    (
        "apps/miker-web/base/kustomization.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/base/kustomization.yaml"),
    ),
    (
        "apps/miker-web/base/deployment.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/base/deployment.yaml"),
    ),
    (
        "apps/miker-web/base/service.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/base/service.yaml"),
    ),
    (
        "apps/miker-web/overlays/dev/kustomization.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/overlays/dev/kustomization.yaml"),
    ),
    (
        "apps/miker-web/overlays/stg/kustomization.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/overlays/stg/kustomization.yaml"),
    ),
    (
        "apps/miker-web/overlays/prod/kustomization.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-web/overlays/prod/kustomization.yaml"),
    ),
    (
        "apps/miker-api/values-dev.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-api/values-dev.yaml"),
    ),
    (
        "apps/miker-api/values-stg.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-api/values-stg.yaml"),
    ),
    (
        "apps/miker-api/values-prod.yaml",
        include_str!("../../assets/sandbox/gitops/apps/miker-api/values-prod.yaml"),
    ),
];

/// The people in the history.
const ALICE: (&str, &str) = ("Alice Chen", "alice@miker.example");
const BOB: (&str, &str) = ("Bob Okafor", "bob@miker.example");
const CAROL: (&str, &str) = ("Carol Díaz", "carol@miker.example");

/// One step of history: who, when (UTC, 2026-11), which app/env gets which tag.
struct Step {
    who: (&'static str, &'static str),
    when: &'static str,
    app: &'static str,
    env: &'static str,
    tag: &'static str,
    subject: &'static str,
}

const HISTORY: &[Step] = &[
    Step {
        who: BOB,
        when: "2026-11-05T09:12:00Z",
        app: "miker-web",
        env: "dev",
        tag: "5d2e8a1",
        subject: "release.sh: miker-web dev → 5d2e8a1",
    },
    Step {
        who: BOB,
        when: "2026-11-06T14:40:00Z",
        app: "miker-web",
        env: "stg",
        tag: "5d2e8a1",
        subject: "release.sh: miker-web stg → 5d2e8a1",
    },
    Step {
        who: CAROL,
        when: "2026-11-09T10:05:00Z",
        app: "miker-web",
        env: "prod",
        tag: "5d2e8a1",
        subject: "release.sh: miker-web prod → 5d2e8a1 (CHG-2291)",
    },
    Step {
        who: ALICE,
        when: "2026-11-12T16:20:00Z",
        app: "miker-api",
        env: "dev",
        tag: "6f0a3c9",
        subject: "release.sh: miker-api dev → 6f0a3c9",
    },
    Step {
        who: BOB,
        when: "2026-11-16T11:31:00Z",
        app: "miker-web",
        env: "dev",
        tag: "71be0e3",
        subject: "release.sh: miker-web dev → 71be0e3",
    },
    Step {
        who: BOB,
        when: "2026-11-17T09:02:00Z",
        app: "miker-web",
        env: "stg",
        tag: "71be0e3",
        subject: "release.sh: miker-web stg → 71be0e3",
    },
    Step {
        who: CAROL,
        when: "2026-11-19T13:45:00Z",
        app: "miker-web",
        env: "prod",
        tag: "71be0e3",
        subject: "release.sh: miker-web prod → 71be0e3 (CHG-2310)",
    },
    Step {
        who: ALICE,
        when: "2026-11-20T15:10:00Z",
        app: "miker-api",
        env: "stg",
        tag: "6f0a3c9",
        subject: "release.sh: miker-api stg → 6f0a3c9",
    },
    Step {
        who: ALICE,
        when: "2026-11-24T08:55:00Z",
        app: "miker-web",
        env: "prod",
        tag: "",
        subject: "miker-web prod: run 4 replicas for the winter sale",
    },
    Step {
        who: BOB,
        when: "2026-11-27T17:26:00Z",
        app: "miker-web",
        env: "dev",
        tag: "9f1c2ab",
        subject: "release.sh: miker-web dev → 9f1c2ab",
    },
    Step {
        who: CAROL,
        when: "2026-11-28T10:18:00Z",
        app: "miker-web",
        env: "stg",
        tag: "9f1c2ab",
        subject: "release.sh: miker-web stg → 9f1c2ab",
    },
];

fn file_of(app: &str, env: &str) -> (String, TagSpot<'static>) {
    if app == "miker-web" {
        (
            format!("apps/miker-web/overlays/{env}/kustomization.yaml"),
            TagSpot::Kustomize {
                image_name: WEB_IMAGE,
            },
        )
    } else {
        (
            format!("apps/{app}/values-{env}.yaml"),
            TagSpot::Helm { key: "image.tag" },
        )
    }
}

pub fn sig(who: (&str, &str), when: &str) -> Result<Signature<'static>, SeedError> {
    let secs = when
        .parse::<jiff::Timestamp>()
        .map(jiff::Timestamp::as_second)
        .map_err(|e| git2::Error::from_str(&format!("seed time {when}: {e}")))?;
    Ok(Signature::new(who.0, who.1, &Time::new(secs, 0))?)
}

/// Creates `<workspace>/gitops.git` with the seeded history on `main`.
/// Every tag the seeded history sets, oldest first, without duplicates (the demo registers them
/// as finished builds in the sandbox GitHub without reading the repository back).
pub fn seeded_tags() -> Vec<&'static str> {
    let mut tags: Vec<&'static str> = Vec::new();
    for step in HISTORY {
        if !tags.contains(&step.tag) {
            tags.push(step.tag);
        }
    }
    tags
}

pub fn seed(workspace: &Path) -> Result<SeededGitops, SeedError> {
    seed_with(workspace, |repo| {
        let mut tree: Option<Oid> = None;
        for (path, text) in FILES {
            let t = tree.map(|t| repo.find_tree(t)).transpose()?;
            tree = Some(write_in_tree(repo, t.as_ref(), path, text.as_bytes())?);
        }
        let first = sig(ALICE, "2026-11-02T10:00:00Z")?;
        let root_tree = repo.find_tree(tree.ok_or_else(|| git2::Error::from_str("no files"))?)?;
        let mut head = repo.commit(
            None,
            &first,
            &first,
            "Bootstrap the miker GitOps repo: miker-web (kustomize) and miker-api (helm)\n",
            &root_tree,
            &[],
        )?;
        for step in HISTORY {
            let parent = repo.find_commit(head)?;
            let (path, spot) = file_of(step.app, step.env);
            let entry = parent.tree()?.get_path(Path::new(&path))?;
            let blob = repo.find_blob(entry.id())?;
            let old = String::from_utf8_lossy(blob.content()).into_owned();
            let new = if step.tag.is_empty() {
                old.replace("    count: 3", "    count: 4")
            } else {
                set_tag(&old, spot, step.tag, &path)?
            };
            let tree = write_in_tree(repo, Some(&parent.tree()?), &path, new.as_bytes())?;
            let s = sig(step.who, step.when)?;
            head = repo.commit(
                None,
                &s,
                &s,
                &format!("{}\n", step.subject),
                &repo.find_tree(tree)?,
                &[&parent],
            )?;
        }
        Ok(head)
    })
}

/// Creates `<workspace>/gitops.git` with `main` at the commit `build` makes in an in-memory
/// repository (its objects land on disk as one pack).
pub fn seed_with(
    workspace: &Path,
    build: impl FnOnce(&Repository) -> Result<Oid, SeedError>,
) -> Result<SeededGitops, SeedError> {
    let bare = workspace.join("gitops.git");
    if bare.exists() {
        return Err(SeedError::Exists(bare));
    }
    std::fs::create_dir_all(workspace).map_err(|source| SeedError::Io {
        path: workspace.to_path_buf(),
        source,
    })?;
    // The history is built in a repository that lives only in memory and lands on disk as one
    // pack: written object by object, the loose files (and the pack-directory rescans each
    // new object costs) were most of the demo's start-up.
    let repo = Repository::from_odb(git2::Odb::new()?)?;
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1)?;
    let head = build(&repo)?;
    let mut pack = git2::Buf::new();
    mempack.dump(&repo, &mut pack)?;
    // No template hooks either: a dozen sample files nobody runs.
    let remote = Repository::init_opts(
        &bare,
        git2::RepositoryInitOptions::new()
            .bare(true)
            .external_template(false)
            .initial_head("main"),
    )?;
    let remote_odb = remote.odb()?;
    let mut writer = remote_odb.packwriter()?;
    std::io::Write::write_all(&mut writer, &pack).map_err(|source| SeedError::Io {
        path: bare.join("objects/pack"),
        source,
    })?;
    writer.commit()?;
    remote.reference("refs/heads/main", head, true, "seed")?;
    Ok(SeededGitops {
        url: format!("file://{}", bare.display()),
        bare,
    })
}

/// Writes `content` at `path` into `tree` (or an empty one); returns the new root tree.
pub fn write_in_tree(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    path: &str,
    content: &[u8],
) -> Result<Oid, git2::Error> {
    let blob = repo.blob(content)?;
    insert(repo, tree, &path.split('/').collect::<Vec<_>>(), blob)
}

fn insert(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    parts: &[&str],
    blob: Oid,
) -> Result<Oid, git2::Error> {
    let Some((name, rest)) = parts.split_first() else {
        return Err(git2::Error::from_str("empty path"));
    };
    let mut b = repo.treebuilder(tree)?;
    if rest.is_empty() {
        b.insert(name, blob, 0o100_644)?;
    } else {
        let sub = tree
            .and_then(|t| t.get_name(name))
            .map(|e| repo.find_tree(e.id()))
            .transpose()?;
        let id = insert(repo, sub.as_ref(), rest, blob)?;
        b.insert(name, id, 0o040_000)?;
    }
    b.write()
}
