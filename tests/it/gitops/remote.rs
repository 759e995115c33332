//! Pushing over the network (`git daemon`) and remotes that refuse (pre-receive hook).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::{Action, ChangeRequest, ErrorKind};

use super::{World, git, remote_file, remote_main};

/// A `git daemon` serving a folder on 127.0.0.1, killed on drop.
pub(crate) struct Daemon {
    child: Child,
    pub(crate) port: u16,
}

impl Daemon {
    pub(crate) fn start(base: &Path) -> Daemon {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--enable=receive-pack")
            .arg(format!("--base-path={}", base.display()))
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(base)
            .env("GIT_CONFIG_GLOBAL", base.join(".no-global-gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("`git daemon` must be installed for this test: {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "git daemon did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn install_rejecting_hook(bare: &Path) {
    let hook = bare.join("hooks").join("pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'policy: prod is frozen until 2026-12-01 (CHG-2400)' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn release(tag: &str) -> ChangeRequest {
    ChangeRequest::new(Action::Release, "miker-web", "prod", Some(tag))
}

#[test]
fn release_over_git_daemon_network_push() {
    let probe = World::new();
    let daemon = Daemon::start(probe.dir.path());
    let url = format!("git://127.0.0.1:{}/gitops.git", daemon.port);
    // Re-point the inventory at the daemon serving the same bare repo.
    std::fs::write(&probe.inventory_path, super::inventory_text(&url)).unwrap();
    let e = probe.engine("net");
    let snap = e.snapshot().unwrap();
    assert_eq!(snap.len(), 6);
    let out = e.apply(&release("abc1234"), &TaskCtl::detached()).unwrap();
    assert!(out.pushed);
    assert_eq!(out.commit.unwrap(), remote_main(probe.bare()));
    assert!(
        remote_file(
            probe.bare(),
            "apps/miker-web/overlays/prod/kustomization.yaml"
        )
        .contains("newTag: abc1234 #")
    );
    // A second machine over the network, then the first again: incremental fetches.
    let e2 = probe.engine("net2");
    e2.apply(&release("abc1235"), &TaskCtl::detached()).unwrap();
    let out = e.apply(&release("abc1236"), &TaskCtl::detached()).unwrap();
    assert_eq!(out.from.as_deref(), Some("abc1235"));
}

fn assert_refused_and_clean(w: &World, who: &str) {
    let head = remote_main(w.bare());
    let e = w.engine(who);
    let err = e
        .apply(&release("abc1234"), &TaskCtl::detached())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote, "{err}");
    assert!(
        err.to_string()
            .contains("policy: prod is frozen until 2026-12-01 (CHG-2400)"),
        "{err}"
    );
    assert_eq!(remote_main(w.bare()), head, "remote untouched");
    // The working clone tracks the remote tip and holds no leftover ref of the attempt.
    let refs = git(
        e.clone_dir(),
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    );
    assert_eq!(refs.trim(), format!("refs/shipdeck/remotes/main {head}"));
}

#[test]
fn a_rejecting_hook_over_file_url_leaves_everything_clean() {
    let w = World::new();
    install_rejecting_hook(w.bare());
    assert_refused_and_clean(&w, "a");
}

#[test]
fn a_rejecting_hook_over_the_network_leaves_everything_clean() {
    let w = World::new();
    install_rejecting_hook(w.bare());
    let daemon = Daemon::start(w.dir.path());
    let url = format!("git://127.0.0.1:{}/gitops.git", daemon.port);
    std::fs::write(&w.inventory_path, super::inventory_text(&url)).unwrap();
    assert_refused_and_clean(&w, "b");
}
