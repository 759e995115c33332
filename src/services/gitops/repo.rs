//! The persistent working clone: a bare repository per remote, fetched incrementally, locked
//! across processes, written to without a checkout.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use git2::{FetchOptions, ObjectType, Oid, PushOptions, RemoteCallbacks, Repository, Signature};

use super::auth::Auth;
use super::{GitopsError, Result};
use crate::services::TaskCtl;

/// Where shipdeck keeps what it fetched (never a branch the user works on).
pub(crate) fn tracking_ref(branch: &str) -> String {
    format!("refs/shipdeck/remotes/{branch}")
}

/// The ref a network push sends from (libgit2 pushes refs, not bare ids).
const OUTGOING: &str = "refs/shipdeck/outgoing";

/// An exclusive lock on the working clone, released on drop (the fd closes).
pub(crate) struct CloneLock {
    _file: File,
}

/// libgit2's socket timeouts: how long connecting, and one read or write, may take. They
/// bound a silent server even where no callback runs (the ref advertisement, an SSH
/// handshake, a TLS handshake). libgit2 keeps them process-wide, so the first engine opened
/// sets them.
pub(crate) fn set_transport_timeouts(connect: Duration, io: Duration) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let ms = |d: Duration| i32::try_from(d.as_millis()).unwrap_or(i32::MAX).max(1);
    ONCE.call_once(|| {
        // SAFETY: libgit2 reads these two globals only while it connects, reads or writes a
        // socket, and in this process that happens only inside a `GitopsEngine`, which is
        // opened after this `Once` completed (`call_once` makes every other caller wait and
        // orders the write before what follows). So no read races this write.
        #[allow(unsafe_code)]
        unsafe {
            let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms(connect));
            let _ = git2::opts::set_server_timeout_in_milliseconds(ms(io));
        }
    });
}

/// The error for a remote call that stopped: cancelled, out of time, or the remote's own.
fn stopped(
    url: &str,
    e: &git2::Error,
    auth: Option<&Auth>,
    ctl: &TaskCtl,
    doing: &'static str,
) -> GitopsError {
    if ctl.is_cancelled() {
        GitopsError::Cancelled
    } else if ctl.expired() || timed_out(e) {
        deadline(url, ctl, doing)
    } else {
        remote_err(url, e, auth)
    }
}

/// libgit2's own socket timeout fired (`set_transport_timeouts`).
fn timed_out(e: &git2::Error) -> bool {
    e.code() == git2::ErrorCode::Timeout || e.message().contains("timed out")
}

pub(crate) fn deadline(url: &str, ctl: &TaskCtl, doing: &'static str) -> GitopsError {
    GitopsError::Deadline {
        url: url.to_owned(),
        secs: ctl.budget_secs().unwrap_or(0),
        doing,
    }
}

/// Waits for the clone's lock until the op's time is up: another shipdeck may be mid-push.
pub(crate) fn lock(path: &Path, ctl: &TaskCtl) -> Result<CloneLock> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| GitopsError::io(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| GitopsError::io(path, e))?;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                // Who holds it, for anyone who has to wait: our PID, in the file itself.
                let _ = file.set_len(0);
                let _ = std::io::Write::write_all(
                    &mut &file,
                    std::process::id().to_string().as_bytes(),
                );
                return Ok(CloneLock { _file: file });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(GitopsError::io(path, e)),
            Err(std::fs::TryLockError::WouldBlock) => {}
        }
        if ctl.is_cancelled() {
            return Err(GitopsError::Cancelled);
        }
        if ctl.expired() {
            return Err(GitopsError::Busy {
                path: path.to_owned(),
                secs: ctl.budget_secs().unwrap_or(0),
                holder: holder(path),
            });
        }
        if !told {
            told = true;
            let by = holder(path).map_or_else(String::new, |pid| format!(" held by PID {pid}"));
            ctl.report(0, None, format!("waiting for the working clone's lock{by}"));
        }
        // Another process (or an earlier op still waiting on its remote) holds it; flock has
        // no timed wait, so look again shortly.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The PID written into the lock file by whoever holds it.
fn holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Opens the clone, creating an empty bare repository the first time.
pub(crate) fn open_or_init(dir: &Path) -> Result<Repository> {
    match Repository::open(dir) {
        Ok(r) => Ok(r),
        Err(e) if e.code() == git2::ErrorCode::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| GitopsError::io(dir, e))?;
            Ok(Repository::init_bare(dir)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// True for remotes reached through the filesystem (`file://` or a plain path).
pub(crate) fn is_local(url: &str) -> bool {
    url.starts_with("file://") || (!url.contains("://") && !url.contains('@'))
}

fn remote_err(url: &str, e: &git2::Error, auth: Option<&Auth>) -> GitopsError {
    let mut message = e.message().to_owned();
    if let Some(auth) = auth
        && e.class() == git2::ErrorClass::Ssh
        && message.contains("authentication")
    {
        message = format!(
            "the SSH server did not accept {} ({message})",
            auth.ssh_offer()
        );
    }
    // libgit2 checks the server against ~/.ssh/known_hosts, as git does; say what to do.
    if e.class() == git2::ErrorClass::Ssh && message.contains("hostkey") {
        message = format!(
            "the server's SSH host key is not in ~/.ssh/known_hosts or does not match it ({message}); \
             check its fingerprint, then add it (`ssh-keyscan [-p PORT] HOST >> ~/.ssh/known_hosts`)"
        );
    }
    GitopsError::Remote {
        url: url.to_owned(),
        message,
    }
}

/// Fetches the branch into the tracking ref and returns the remote tip.
pub(crate) fn fetch(
    repo: &Repository,
    url: &str,
    branch: &str,
    auth: &Auth,
    ctl: &TaskCtl,
) -> Result<Oid> {
    let tracking = tracking_ref(branch);
    // A local remote whose tip we already have needs no fetch at all.
    if let Some(remote) = open_local(url) {
        let tip = remote
            .refname_to_id(&format!("refs/heads/{branch}"))
            .map_err(|_| GitopsError::Remote {
                url: url.to_owned(),
                message: format!("branch `{branch}` does not exist on the remote"),
            })?;
        if repo.refname_to_id(&tracking).ok() == Some(tip) {
            return Ok(tip);
        }
    }
    let mut remote = repo.remote_anonymous(url)?;
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(auth.callback());
    cbs.transfer_progress(|p| {
        ctl.report(
            p.received_objects() as u64,
            Some(p.total_objects() as u64),
            "fetching",
        );
        !ctl.should_stop()
    });
    cbs.sideband_progress(|_| !ctl.should_stop());
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs);
    opts.download_tags(git2::AutotagOption::None);
    let spec = format!("+refs/heads/{branch}:{tracking}");
    remote
        .fetch(&[spec.as_str()], Some(&mut opts), None)
        .map_err(|e| stopped(url, &e, Some(auth), ctl, "fetching"))?;
    // A remote without the branch fetches nothing: say so rather than act on a stale ref.
    let advertised = remote.list().map_err(|e| remote_err(url, &e, Some(auth)))?;
    let wanted = format!("refs/heads/{branch}");
    let tip = advertised
        .iter()
        .find(|h| h.name() == wanted)
        .map(git2::RemoteHead::oid)
        .ok_or_else(|| GitopsError::Remote {
            url: url.to_owned(),
            message: format!("branch `{branch}` does not exist on the remote"),
        })?;
    Ok(tip)
}

/// Moves the tracking ref (after our own successful push).
pub(crate) fn set_tracking(repo: &Repository, branch: &str, oid: Oid) -> Result<()> {
    repo.reference(&tracking_ref(branch), oid, true, "shipdeck: pushed")?;
    Ok(())
}

/// The blob at `path` in `tree`, if any.
pub(crate) fn blob_at(tree: &git2::Tree<'_>, path: &str) -> Option<Oid> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    (entry.kind() == Some(ObjectType::Blob)).then(|| entry.id())
}

/// Text of the file at `path` in commit `at`. A file that is not UTF-8 is refused with the
/// offset of its first bad byte: re-encoding it would rewrite lines nobody asked to change.
pub(crate) fn read_file(repo: &Repository, at: Oid, path: &str) -> Result<Option<String>> {
    let tree = repo.find_commit(at)?.tree()?;
    let Some(id) = blob_at(&tree, path) else {
        return Ok(None);
    };
    let blob = repo.find_blob(id)?;
    match std::str::from_utf8(blob.content()) {
        Ok(text) => Ok(Some(text.to_owned())),
        Err(e) => Err(GitopsError::Unparsable {
            file: path.to_owned(),
            what: format!(
                "byte {} is not UTF-8 (0x{:02x}); shipdeck edits UTF-8 files only and will not \
                 re-encode this one: convert it to UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
                e.valid_up_to(),
                blob.content().get(e.valid_up_to()).copied().unwrap_or(0)
            ),
        }),
    }
}

/// A commit on top of `base` whose tree differs only in the file at `path`. Only the trees on
/// the path are rewritten; nothing is checked out.
pub(crate) fn commit_file(
    repo: &Repository,
    base: Oid,
    path: &str,
    content: &[u8],
    sig: &Signature<'_>,
    message: &str,
) -> Result<Oid> {
    let parent = repo.find_commit(base)?;
    let blob = repo.blob(content)?;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let tree = replace_in_tree(repo, Some(&parent.tree()?), &parts, blob)?;
    let tree = repo.find_tree(tree)?;
    Ok(repo.commit(None, sig, sig, message, &tree, &[&parent])?)
}

fn replace_in_tree(
    repo: &Repository,
    tree: Option<&git2::Tree<'_>>,
    parts: &[&str],
    blob: Oid,
) -> Result<Oid> {
    let Some((name, rest)) = parts.split_first() else {
        return Err(GitopsError::Bad("empty file path".to_owned()));
    };
    let mut builder = repo.treebuilder(tree)?;
    if rest.is_empty() {
        let mode = tree
            .and_then(|t| t.get_name(name))
            .map_or(0o100_644, |e| e.filemode());
        builder.insert(name, blob, mode)?;
    } else {
        let sub = tree
            .and_then(|t| t.get_name(name))
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .map(|e| repo.find_tree(e.id()))
            .transpose()?;
        let id = replace_in_tree(repo, sub.as_ref(), rest, blob)?;
        builder.insert(name, id, 0o040_000)?;
    }
    Ok(builder.write()?)
}

/// How a push ended.
pub(crate) enum Pushed {
    Ok,
    /// The remote moved since `base`: fetch and try again.
    NotFastForward,
}

/// Pushes `commit` to `refs/heads/<branch>` only if the remote is still at `base`. Never forces.
pub(crate) fn push(
    repo: &Repository,
    url: &str,
    branch: &str,
    base: Oid,
    commit: Oid,
    auth: &Auth,
    ctl: &TaskCtl,
) -> Result<Pushed> {
    let result = if let Some(remote) = open_local(url).filter(|r| r.is_bare() && !has_hooks(r)) {
        push_direct(repo, &remote, url, branch, base, commit)
    } else if is_local(url) {
        push_with_git(repo.path(), url, branch, commit, ctl)
    } else {
        push_with_libgit2(repo, url, branch, base, commit, auth, ctl)
    };
    // Whatever happened, nothing of the attempt stays referenced in the clone.
    if let Ok(mut r) = repo.find_reference(OUTGOING) {
        let _ = r.delete();
    }
    result
}

/// The repository behind a local URL, if it is one.
/// The remote's tip of `branch`, as `git ls-remote` asks it: refs only, no objects move.
pub(crate) fn remote_tip(
    clone_dir: &Path,
    url: &str,
    branch: &str,
    auth: &Auth,
    ctl: &TaskCtl,
) -> Result<Oid> {
    let wanted = format!("refs/heads/{branch}");
    let missing = || GitopsError::Remote {
        url: url.to_owned(),
        message: format!("branch `{branch}` does not exist on the remote"),
    };
    // A remote on this filesystem is read directly; the working clone is not even opened.
    if let Some(local) = open_local(url) {
        return local.refname_to_id(&wanted).map_err(|_| missing());
    }
    let repo = open_or_init(clone_dir)?;
    let mut remote = repo.remote_anonymous(url)?;
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(auth.callback());
    let conn = remote
        .connect_auth(git2::Direction::Fetch, Some(cbs), None)
        .map_err(|e| stopped(url, &e, Some(auth), ctl, "asking for its branch tip"))?;
    let heads = conn
        .list()
        .map_err(|e| stopped(url, &e, Some(auth), ctl, "asking for its branch tip"))?;
    heads
        .iter()
        .find(|h| h.name() == wanted)
        .map(git2::RemoteHead::oid)
        .ok_or_else(missing)
}

fn open_local(url: &str) -> Option<Repository> {
    if !is_local(url) {
        return None;
    }
    let path = url.strip_prefix("file://").unwrap_or(url);
    Repository::open_bare(path).ok()
}

/// Whether anything would run on receive: then only `git push` behaves as the remote expects.
fn has_hooks(remote: &Repository) -> bool {
    const HOOKS: &[&str] = &[
        "pre-receive",
        "update",
        "proc-receive",
        "post-receive",
        "post-update",
        "reference-transaction",
        "push-to-checkout",
    ];
    let custom_path = remote
        .config()
        .and_then(|c| c.get_path("core.hooksPath"))
        .is_ok();
    custom_path
        || HOOKS
            .iter()
            .any(|h| remote.path().join("hooks").join(h).exists())
}

/// A push into a local bare remote without hooks, done as `git push` would but in-process:
/// copy the new objects, then move the branch only if it still points at `base` (the ref
/// update is a compare-and-swap under git's ref lock, so a concurrent pusher is never lost).
fn push_direct(
    repo: &Repository,
    remote: &Repository,
    url: &str,
    branch: &str,
    base: Oid,
    commit: Oid,
) -> Result<Pushed> {
    let (from, to) = (repo.odb()?, remote.odb()?);
    copy_missing(&from, &to, commit)?;
    let name = format!("refs/heads/{branch}");
    match remote.reference_matching(&name, commit, true, base, "push: shipdeck") {
        Ok(_) => Ok(Pushed::Ok),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::Modified | git2::ErrorCode::Locked | git2::ErrorCode::Exists
            ) =>
        {
            Ok(Pushed::NotFastForward)
        }
        Err(e) => Err(remote_err(url, &e, None)),
    }
}

/// Copies an object and, for commits and trees, whatever it refers to that `to` lacks. A tree
/// already present is complete, so only the rewritten path is walked.
fn copy_missing(from: &git2::Odb<'_>, to: &git2::Odb<'_>, id: Oid) -> Result<()> {
    if to.exists(id) {
        return Ok(());
    }
    let obj = from.read(id)?;
    match obj.kind() {
        ObjectType::Commit => {
            let data = obj.data();
            // The tree is the first header line; parents are already on the remote.
            let tree = std::str::from_utf8(data)
                .ok()
                .and_then(|t| t.lines().next())
                .and_then(|l| l.strip_prefix("tree "))
                .and_then(|h| Oid::from_str(h.trim()).ok())
                .ok_or_else(|| GitopsError::Bad(format!("commit {id} has no tree")))?;
            copy_missing(from, to, tree)?;
        }
        ObjectType::Tree => {
            for child in tree_children(obj.data()) {
                copy_missing(from, to, child)?;
            }
        }
        _ => {}
    }
    to.write(obj.kind(), obj.data())?;
    Ok(())
}

/// Entry ids of a raw tree object (`<mode> <name>\0<20-byte id>`...), skipping submodules.
fn tree_children(mut data: &[u8]) -> Vec<Oid> {
    let mut out = Vec::new();
    while let Some(nul) = data.iter().position(|b| *b == 0) {
        let Some(raw) = data.get(nul + 1..nul + 21) else {
            break;
        };
        let is_submodule = data.starts_with(b"160000 ");
        if let (false, Ok(id)) = (is_submodule, Oid::from_bytes(raw)) {
            out.push(id);
        }
        data = &data[nul + 21..];
    }
    out
}

/// Local remotes go through `git push`, so the remote's hooks run as they would for anyone.
/// (libgit2's local transport writes into the remote directly and skips its hooks.)
fn push_with_git(
    git_dir: &Path,
    url: &str,
    branch: &str,
    commit: Oid,
    ctl: &TaskCtl,
) -> Result<Pushed> {
    let child = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(["push", "--porcelain", "--no-verify", url])
        .arg(format!("{commit}:refs/heads/{branch}"))
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitopsError::Remote {
            url: url.to_owned(),
            message: format!("could not run `git push` (is git installed?): {e}"),
        })?;
    let out = wait_within(child, ctl).map_err(|e| match e {
        Waited::Stopped if ctl.is_cancelled() => GitopsError::Cancelled,
        Waited::Stopped => deadline(url, ctl, "running its receive hooks"),
        Waited::Io(e) => GitopsError::Remote {
            url: url.to_owned(),
            message: format!("`git push` failed to run: {e}"),
        },
    })?;
    if out.status.success() {
        return Ok(Pushed::Ok);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let status_line = stdout.lines().find(|l| l.starts_with('!')).unwrap_or("");
    if status_line.contains("[remote rejected]") && lost_race(status_line, &stderr) {
        return Ok(Pushed::NotFastForward);
    }
    if status_line.contains("[remote rejected]") {
        return Err(GitopsError::Refused(verbatim(&stderr, status_line)));
    }
    if status_line.contains("[rejected]") {
        return Ok(Pushed::NotFastForward);
    }
    Err(GitopsError::Remote {
        url: url.to_owned(),
        message: if stderr.is_empty() {
            stdout.trim().to_owned()
        } else {
            stderr
        },
    })
}

enum Waited {
    /// Cancelled or out of time: the child was killed.
    Stopped,
    Io(std::io::Error),
}

/// The child's output, or `Stopped` (the child killed) once the op is cancelled or out of
/// time. A remote's hook may hang; the op's deadline still holds.
fn wait_within(
    mut child: std::process::Child,
    ctl: &TaskCtl,
) -> std::result::Result<std::process::Output, Waited> {
    // Drain both pipes beside the wait, so a chatty hook cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(Waited::Io)? {
            break status;
        }
        if ctl.should_stop() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Waited::Stopped);
        }
        // std has no timed wait on a child; 20 ms is far below a push's own time.
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// The server's compare-and-swap on the ref failed: someone pushed between its advertisement
/// and our update. That is a moved remote, not a refusal.
fn lost_race(status: &str, stderr: &str) -> bool {
    status.contains("failed to update ref")
        || status.contains("failed to lock")
        || (stderr.contains("cannot lock ref") && stderr.contains("but expected"))
}

/// The remote's own lines (hook output) plus the status, without git's local hints.
fn verbatim(stderr: &str, status: &str) -> String {
    let remote: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("remote:") || l.starts_with(" ! ") || l.starts_with("error:"))
        .collect();
    if remote.is_empty() {
        status.trim_start_matches('!').trim().to_owned()
    } else {
        remote.join("\n")
    }
}

fn push_with_libgit2(
    repo: &Repository,
    url: &str,
    branch: &str,
    base: Oid,
    commit: Oid,
    auth: &Auth,
    ctl: &TaskCtl,
) -> Result<Pushed> {
    repo.reference(OUTGOING, commit, true, "shipdeck: outgoing")?;
    let moved = RefCell::new(false);
    let refused: RefCell<Option<String>> = RefCell::new(None);
    let remote_lines = RefCell::new(String::new());
    let result = {
        let mut remote = repo.remote_anonymous(url)?;
        let mut cbs = RemoteCallbacks::new();
        cbs.credentials(auth.callback());
        // Compare-and-swap: the server checks the old id we send; we refuse to send one that
        // is not our base, so a moved remote is never overwritten.
        cbs.push_negotiation(|updates| {
            if updates.iter().any(|u| u.src() != base) {
                *moved.borrow_mut() = true;
                return Err(git2::Error::from_str("remote moved"));
            }
            Ok(())
        });
        cbs.push_update_reference(|_, status| {
            if let Some(s) = status {
                *refused.borrow_mut() = Some(s.to_owned());
            }
            Ok(())
        });
        cbs.sideband_progress(|data| {
            remote_lines
                .borrow_mut()
                .push_str(&String::from_utf8_lossy(data));
            !ctl.should_stop()
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(cbs);
        let spec = format!("{OUTGOING}:refs/heads/{branch}");
        remote.push(&[spec.as_str()], Some(&mut opts))
    };
    if *moved.borrow() {
        return Ok(Pushed::NotFastForward);
    }
    if let Some(status) = refused.borrow().clone() {
        if status.contains("fetch first")
            || status.contains("non-fast-forward")
            || lost_race(&status, &remote_lines.borrow())
        {
            return Ok(Pushed::NotFastForward);
        }
        let lines = remote_lines.borrow();
        let text = lines.trim();
        return Err(GitopsError::Refused(if text.is_empty() {
            status
        } else {
            format!("{text}\n{status}")
        }));
    }
    result.map_err(|e| stopped(url, &e, Some(auth), ctl, "pushing"))?;
    Ok(Pushed::Ok)
}

/// The working clone's folder for a remote: `<data>/gitops/<sha256(url)[..16]>`.
pub(crate) fn clone_dir_for(data_dir: &Path, url: &str) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    let hex = digest.iter().take(8).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    data_dir.join("gitops").join(hex)
}
