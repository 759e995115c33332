//! The engine the TUI and the headless commands call: read tags and history, apply changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git2::{Oid, Repository, Signature};

use super::auth::Auth;
use super::edit::{TagSpot, read_tag, set_tag};
use super::history::{Target, walk};
use super::message::commit_message;
use super::repo::{self, CloneLock, Pushed};
use super::tag::validate_tag;
use super::{
    Action, ChangeOutcome, ChangeRequest, EnvTag, GitopsError, KnownTag, Result, TagChange,
};
use crate::inventory::{Inventory, Layout};
use crate::paths::Paths;
use crate::services::TaskCtl;

/// Push attempts before giving up on a remote that keeps moving.
pub const MAX_ATTEMPTS: u32 = 10;

/// One GitOps remote and its persistent working clone. Cheap to share (`Arc`); every call
/// locks the clone for its duration, so several processes may act at once.
#[derive(Debug)]
pub struct GitopsEngine {
    inv: Inventory,
    url: String,
    branch: String,
    clone_dir: PathBuf,
    lock_path: PathBuf,
    auth: Auth,
    /// How long one call may talk to the remote (`gitops.timeout_secs`).
    timeout: Duration,
}

/// What was learnt while applying, for the audit line even when it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The env's tag when the change was tried.
    pub from: Option<String>,
    /// The tag it was to set.
    pub to: Option<String>,
    pub attempts: u32,
}

/// A change not made: where it would go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    /// The file in the GitOps repo.
    pub file: String,
    pub from: String,
    pub to: String,
}

#[derive(Default)]
struct Progress {
    from: Option<String>,
    to: Option<String>,
    attempts: u32,
}

impl GitopsEngine {
    /// Opens (creating on first use) the working clone for the inventory's GitOps remote under
    /// `<data>/gitops/`, or the local working copy named by `GITOPS_REPO_DIR`.
    /// Takes the whole inventory: the engine keeps it to map every app × environment to its file
    /// and to honour `read_only`.
    pub fn open(inv: &Inventory, paths: &Paths) -> Result<Self> {
        let repo_dir = std::env::var_os("GITOPS_REPO_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self::open_at(inv, paths, repo_dir)
    }

    /// Like [`GitopsEngine::open`] with the working copy given explicitly (`None`: the data dir).
    /// Takes the whole inventory: the engine keeps it to map every app × environment to its file
    /// and to honour `read_only`.
    pub fn open_at(inv: &Inventory, paths: &Paths, repo_dir: Option<PathBuf>) -> Result<Self> {
        let url = inv.gitops_url();
        let (clone_dir, lock_path) = if let Some(dir) = repo_dir {
            let git_dir = if dir.join(".git").is_dir() {
                dir.join(".git")
            } else {
                dir.clone()
            };
            let lock = git_dir.join("shipdeck.lock");
            (dir, lock)
        } else {
            let dir = repo::clone_dir_for(&paths.data_dir, &url);
            let lock = dir.with_extension("lock");
            (dir, lock)
        };
        let timeout = Duration::from_secs(inv.gitops.timeout_secs.max(1));
        repo::set_transport_timeouts(
            Duration::from_secs(inv.gitops.connect_timeout_secs.max(1)),
            timeout,
        );
        {
            let _lock = repo::lock(&lock_path, &TaskCtl::detached().within(timeout))?;
            repo::open_or_init(&clone_dir)?;
        }
        Ok(GitopsEngine {
            inv: inv.clone(),
            branch: inv.gitops.branch.clone(),
            auth: Auth::from_config(
                inv.gitops.token_env.as_deref(),
                inv.gitops.ssh_key_file.as_deref(),
            ),
            url,
            clone_dir,
            lock_path,
            timeout,
        })
    }

    /// The remote URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The working clone's folder.
    pub fn clone_dir(&self) -> &Path {
        &self.clone_dir
    }

    /// Every app × environment (inventory order) after one fetch: tag, and the commit that set it.
    pub fn snapshot(&self) -> Result<Vec<EnvTag>> {
        let (_lock, repo, tip) = self.session(&TaskCtl::detached())?;
        self.snapshot_at(&repo, tip)
    }

    /// The remote branch's tip, asked cheaply (refs only, like `git ls-remote`): whether a
    /// snapshot is worth fetching.
    pub fn remote_tip(&self) -> Result<String> {
        let ctl = TaskCtl::detached().within(self.timeout);
        repo::remote_tip(&self.clone_dir, &self.url, &self.branch, &self.auth, &ctl)
            .map(|o| o.to_string())
    }

    /// The tip the working clone last fetched, if any.
    pub fn fetched_tip(&self) -> Option<String> {
        let repo = repo::open_or_init(&self.clone_dir).ok()?;
        repo.refname_to_id(&repo::tracking_ref(&self.branch))
            .ok()
            .map(|o| o.to_string())
    }

    /// Like [`GitopsEngine::snapshot`] without contacting the remote: what the working clone
    /// last fetched (a first paint before the fetch returns, or offline).
    pub fn snapshot_cached(&self) -> Result<Vec<EnvTag>> {
        let _lock = repo::lock(&self.lock_path, &TaskCtl::detached().within(self.timeout))?;
        let repo = repo::open_or_init(&self.clone_dir)?;
        let tip = repo
            .refname_to_id(&repo::tracking_ref(&self.branch))
            .map_err(|_| GitopsError::Remote {
                url: self.url.clone(),
                message: "nothing fetched yet".to_owned(),
            })?;
        self.snapshot_at(&repo, tip)
    }

    fn snapshot_at(&self, repo: &Repository, tip: Oid) -> Result<Vec<EnvTag>> {
        let mut pairs = Vec::new();
        for app in self.inv.apps.keys() {
            for env in self.inv.environments.keys() {
                pairs.push((app.as_str(), env.as_str()));
            }
        }
        let targets = pairs
            .iter()
            .map(|(a, e)| self.target(a, e))
            .collect::<Result<Vec<_>>>()?;
        let changes = walk(repo, tip, &targets, &|_, c| !c.is_empty())?;
        Ok(pairs
            .iter()
            .zip(&targets)
            .zip(changes)
            .map(|(((app, env), t), ch)| {
                let (tag, problem) = match current(repo, tip, t) {
                    Ok(tag) => (Some(tag), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                EnvTag {
                    app: (*app).to_owned(),
                    env: (*env).to_owned(),
                    file: t.path.clone(),
                    tag,
                    changed: ch.into_iter().next().map(|c| c.commit),
                    problem,
                }
            })
            .collect())
    }

    /// An environment's tag changes, newest first (the rollback picker).
    pub fn history(&self, app: &str, env: &str) -> Result<Vec<TagChange>> {
        let target = self.target(app, env)?;
        let (_lock, repo, tip) = self.session(&TaskCtl::detached())?;
        let mut all = walk(&repo, tip, std::slice::from_ref(&target), &|_, _| false)?;
        Ok(all.pop().unwrap_or_default())
    }

    /// Tags the release picker can offer for an app: current in some env or seen in history,
    /// newest first.
    pub fn known_tags(&self, app: &str) -> Result<Vec<KnownTag>> {
        let envs: Vec<&str> = self.inv.env_names().collect();
        let targets = envs
            .iter()
            .map(|e| self.target(app, e))
            .collect::<Result<Vec<_>>>()?;
        let (_lock, repo, tip) = self.session(&TaskCtl::detached())?;
        let changes = walk(&repo, tip, &targets, &|_, _| false)?;
        let mut known: Vec<KnownTag> = Vec::new();
        let mut rolled_back: Vec<(String, String)> = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            let now = current(&repo, tip, t).ok();
            for c in &changes[i] {
                let index = if let Some(p) = known.iter().position(|k| k.tag == c.tag) {
                    p
                } else {
                    known.push(KnownTag {
                        tag: c.tag.clone(),
                        current_in: Vec::new(),
                        last_seen: c.commit.time.clone(),
                        last_seen_unix: c.commit.unix,
                        first_seen_unix: c.commit.unix,
                        rolled_back_in: Vec::new(),
                    });
                    known.len() - 1
                };
                let entry = &mut known[index];
                if c.commit.unix > entry.last_seen_unix {
                    entry.last_seen_unix = c.commit.unix;
                    entry.last_seen.clone_from(&c.commit.time);
                }
                entry.first_seen_unix = entry.first_seen_unix.min(c.commit.unix);
                // A rollback's change names the tag it took out as its previous one.
                if c.action.as_deref() == Some("rollback")
                    && let Some(out) = c.previous.as_deref()
                {
                    rolled_back.push((out.to_owned(), envs[i].to_owned()));
                }
                if now.as_deref() == Some(c.tag.as_str())
                    && !entry.current_in.iter().any(|e| e == envs[i])
                {
                    entry.current_in.push(envs[i].to_owned());
                }
            }
        }
        for (tag, env) in rolled_back {
            if let Some(k) = known.iter_mut().find(|k| k.tag == tag)
                && !k.rolled_back_in.contains(&env)
            {
                k.rolled_back_in.push(env);
            }
        }
        known.sort_by_key(|k| std::cmp::Reverse(k.last_seen_unix));
        Ok(known)
    }

    /// Releases, promotes or rolls back: one commit changing one line, pushed without force,
    /// retried on a moving remote, stopped on a conflicting change. Journaling is the caller's
    /// (`ops::gitops`), which also records refusals that never reach git.
    pub fn apply(&self, req: &ChangeRequest, ctl: &TaskCtl) -> Result<ChangeOutcome> {
        self.apply_traced(req, ctl).0
    }

    /// [`GitopsEngine::apply`], with what was learnt on the way (the tags seen, the attempts)
    /// for the journal line of a change that failed.
    pub fn apply_traced(
        &self,
        req: &ChangeRequest,
        ctl: &TaskCtl,
    ) -> (Result<ChangeOutcome>, Trace) {
        let started = Instant::now();
        let mut progress = Progress::default();
        let ctl = &ctl.clone().within(self.timeout);
        let result = self.apply_inner(req, ctl, started, &mut progress);
        let trace = Trace {
            from: progress.from,
            to: progress.to,
            attempts: progress.attempts,
        };
        (result, trace)
    }

    /// What a change would do, without writing: the tag now, the tag it would set, the file.
    pub fn preview(&self, req: &ChangeRequest, ctl: &TaskCtl) -> Result<Preview> {
        let target = self.target(&req.app, &req.env)?;
        let source_env = match req.action {
            Action::Promote => Some(self.promote_source(req)?),
            _ => None,
        };
        let (_lock, repo, tip) = self.session(ctl)?;
        let text =
            repo::read_file(&repo, tip, &target.path)?.ok_or_else(|| GitopsError::NotFound {
                file: target.path.clone(),
                what: format!("no such file on branch `{}`", self.branch),
            })?;
        let now = read_tag(&text, target.spot, &target.path)?;
        let to = self.resolve_to(req, &repo, tip, &target, &now, source_env.as_deref())?;
        Ok(Preview {
            file: target.path.clone(),
            from: now,
            to,
        })
    }

    fn apply_inner(
        &self,
        req: &ChangeRequest,
        ctl: &TaskCtl,
        started: Instant,
        progress: &mut Progress,
    ) -> Result<ChangeOutcome> {
        if self.inv.read_only {
            return Err(GitopsError::ReadOnly);
        }
        let target = self.target(&req.app, &req.env)?;
        if let Some(t) = &req.tag {
            validate_tag(t)?;
        }
        let source_env = match req.action {
            Action::Promote => Some(self.promote_source(req)?),
            _ => None,
        };
        let (_lock, repo, mut tip) = self.session(ctl)?;
        let sig = self.signature(&repo)?;
        let mut baseline: Option<String> = req.expected_from.clone();
        let mut to: Option<String> = None;
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                // Racing pushers: 80 ms before the first retry, doubling to 1 s, jittered.
                let backoff = crate::services::retry::Backoff::new(
                    Duration::from_millis(80),
                    Duration::from_secs(1),
                );
                let wait = backoff.delay(attempt - 1);
                // A retry never runs past the op's deadline: stop now rather than start one
                // that cannot finish.
                if ctl
                    .deadline()
                    .is_some_and(|end| Instant::now() + wait >= end)
                {
                    return Err(repo::deadline(
                        &self.url,
                        ctl,
                        "retrying a push the remote moved under",
                    ));
                }
                std::thread::sleep(wait);
                if ctl.is_cancelled() {
                    return Err(GitopsError::Cancelled);
                }
                tip = repo::fetch(&repo, &self.url, &self.branch, &self.auth, ctl)?;
            }
            let text = repo::read_file(&repo, tip, &target.path)?.ok_or_else(|| {
                GitopsError::NotFound {
                    file: target.path.clone(),
                    what: format!("no such file on branch `{}`", self.branch),
                }
            })?;
            let now = read_tag(&text, target.spot, &target.path)?;
            let base_tag = baseline.get_or_insert_with(|| now.clone()).clone();
            progress.from = Some(base_tag.clone());
            let to_tag = if let Some(t) = &to {
                t.clone()
            } else {
                let t = self.resolve_to(req, &repo, tip, &target, &now, source_env.as_deref())?;
                validate_tag(&t)?;
                to = Some(t.clone());
                t
            };
            progress.to = Some(to_tag.clone());
            if now == to_tag {
                return Ok(Self::outcome(
                    req,
                    Some(now),
                    to_tag,
                    None,
                    progress,
                    started,
                ));
            }
            if now != base_tag {
                let last = walk(&repo, tip, std::slice::from_ref(&target), &|_, c| {
                    !c.is_empty()
                })?
                .pop()
                .and_then(|c| c.into_iter().next());
                return Err(GitopsError::Conflict {
                    env: req.env.clone(),
                    by: last
                        .as_ref()
                        .map_or_else(|| "someone".to_owned(), |c| c.commit.author.clone()),
                    at: last.map_or_else(|| "an unknown time".to_owned(), |c| c.commit.time),
                    to: now,
                });
            }
            let new_text = set_tag(&text, target.spot, &to_tag, &target.path)?;
            let message = commit_message(req, Some(&now), &to_tag, source_env.as_deref());
            let commit = repo::commit_file(
                &repo,
                tip,
                &target.path,
                new_text.as_bytes(),
                &sig,
                &message,
            )?;
            if ctl.is_cancelled() {
                return Err(GitopsError::Cancelled);
            }
            ctl.report(
                u64::from(attempt),
                Some(u64::from(MAX_ATTEMPTS)),
                format!("pushing {} {} → {to_tag}", req.app, req.env),
            );
            progress.attempts = attempt;
            match repo::push(&repo, &self.url, &self.branch, tip, commit, &self.auth, ctl)? {
                Pushed::Ok => {
                    repo::set_tracking(&repo, &self.branch, commit)?;
                    return Ok(Self::outcome(
                        req,
                        Some(now),
                        to_tag,
                        Some(commit),
                        progress,
                        started,
                    ));
                }
                Pushed::NotFastForward => {
                    tracing::info!(attempt, "push rejected as non-fast-forward; refetching");
                }
            }
        }
        Err(GitopsError::Contended {
            attempts: MAX_ATTEMPTS,
        })
    }

    fn outcome(
        req: &ChangeRequest,
        from: Option<String>,
        to: String,
        commit: Option<Oid>,
        progress: &Progress,
        started: Instant,
    ) -> ChangeOutcome {
        let message = match commit {
            Some(c) => format!(
                "{} {} {} {} → {to}: pushed {} (attempt {})",
                req.action,
                req.app,
                req.env,
                from.as_deref().unwrap_or("none"),
                &c.to_string()[..7],
                progress.attempts
            ),
            None => format!("{} {} already at {to}; nothing to commit", req.app, req.env),
        };
        ChangeOutcome {
            action: req.action,
            app: req.app.clone(),
            env: req.env.clone(),
            from,
            to,
            commit: commit.map(|c| c.to_string()),
            pushed: commit.is_some(),
            attempts: progress.attempts,
            duration_ms: elapsed_ms(started),
            message,
        }
    }

    /// The tag a request moves to, when the caller did not give one.
    fn resolve_to(
        &self,
        req: &ChangeRequest,
        repo: &Repository,
        tip: Oid,
        target: &Target<'_>,
        now: &str,
        source_env: Option<&str>,
    ) -> Result<String> {
        match (req.action, &req.tag) {
            (Action::Rollback, Some(t)) => {
                // Only tags this env has run: a typo must not become a "rollback" to anything.
                let seen = walk(repo, tip, std::slice::from_ref(target), &|_, c| {
                    c.last()
                        .is_some_and(|c| c.tag == *t || c.previous.as_deref() == Some(t))
                })?
                .pop()
                .unwrap_or_default()
                .iter()
                .any(|c| c.tag == *t || c.previous.as_deref() == Some(t));
                if seen {
                    Ok(t.clone())
                } else {
                    Err(GitopsError::Bad(format!(
                        "{} {} never ran {t} (see `shipdeck history {} --env {}`); use release for a new tag",
                        req.app, req.env, req.app, req.env
                    )))
                }
            }
            (_, Some(t)) => Ok(t.clone()),
            (Action::Rollback, None) => {
                let changes = walk(repo, tip, std::slice::from_ref(target), &|_, c| {
                    previous_good(c, now).is_some()
                })?
                .pop()
                .unwrap_or_default();
                // The newest change already was a rollback: its target is where a rollback of
                // the bad tag goes, so running it again (a retried script) changes nothing.
                if changes
                    .first()
                    .is_some_and(|c| c.tag == now && c.action.as_deref() == Some("rollback"))
                {
                    return Ok(now.to_owned());
                }
                previous_good(&changes, now)
                    .or_else(|| changes.first().and_then(|c| c.previous.clone()))
                    .ok_or_else(|| {
                        GitopsError::Bad(format!(
                            "{} {} has no earlier tag to roll back to",
                            req.app, req.env
                        ))
                    })
            }
            (Action::Promote, None) => {
                let src = source_env.unwrap_or_default();
                current(repo, tip, &self.target(&req.app, src)?)
            }
            (Action::Release, None) => Err(GitopsError::Bad("release needs a tag".to_owned())),
        }
    }

    fn promote_source(&self, req: &ChangeRequest) -> Result<String> {
        let env = self.inv.env(&req.env)?;
        let src = req
            .source_env
            .clone()
            .or_else(|| env.promote_from().map(str::to_owned))
            .ok_or_else(|| {
                GitopsError::Bad(format!(
                    "{} has no promote_from in the inventory; say which env to promote from",
                    req.env
                ))
            })?;
        self.inv.env(&src)?;
        if src == req.env {
            return Err(GitopsError::Bad(format!(
                "cannot promote {} into itself",
                req.env
            )));
        }
        Ok(src)
    }

    /// Where the tag of `app` in `env` lives.
    fn target(&self, app: &str, env: &str) -> Result<Target<'_>> {
        let a = self.inv.app(app)?;
        self.inv.env(env)?;
        let spot = match &a.layout {
            Layout::Kustomize { image_name, .. } => TagSpot::Kustomize {
                image_name: image_name.as_deref().unwrap_or(&a.image),
            },
            Layout::Helm { key, .. } => TagSpot::Helm { key },
        };
        Ok(Target {
            path: a.layout.path_for(app, env),
            spot,
        })
    }

    /// Lock the clone, open it, fetch: the start of every call.
    fn session(&self, ctl: &TaskCtl) -> Result<(CloneLock, Repository, Oid)> {
        let ctl = &ctl.clone().within(self.timeout);
        let lock = repo::lock(&self.lock_path, ctl)?;
        let repo = repo::open_or_init(&self.clone_dir)?;
        let tip = repo::fetch(&repo, &self.url, &self.branch, &self.auth, ctl)?;
        Ok((lock, repo, tip))
    }

    /// The inventory's author, else git config, else a neutral one.
    fn signature(&self, repo: &Repository) -> Result<Signature<'static>> {
        if let Some(a) = &self.inv.gitops.author {
            return Ok(Signature::now(&a.name, &a.email)?);
        }
        Ok(repo
            .signature()
            .map(|s| s.to_owned())
            .or_else(|_| Signature::now("shipdeck", "shipdeck@localhost"))?)
    }
}

/// The tag before the current one was first put in place by something other than a rollback
/// (so rolling back twice goes further back instead of returning to the bad tag).
fn previous_good(changes: &[TagChange], now: &str) -> Option<String> {
    changes
        .iter()
        .find(|c| c.tag == now && c.action.as_deref() != Some("rollback"))
        .and_then(|c| c.previous.clone())
}

/// The tag at `tip` for a target.
fn current(repo: &Repository, tip: Oid, t: &Target<'_>) -> Result<String> {
    let text = repo::read_file(repo, tip, &t.path)?.ok_or_else(|| GitopsError::NotFound {
        file: t.path.clone(),
        what: "no such file in the GitOps repo".to_owned(),
    })?;
    read_tag(&text, t.spot, &t.path)
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
