//! An SSH remote, the most common kind for a GitOps repo: OpenSSH's `sshd` on 127.0.0.1 serving
//! the seeded bare repo, reached by the real binary with the key file the inventory names, the
//! server's key checked against `~/.ssh/known_hosts` as git does.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{World, remote_file, remote_main};

fn keygen(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "shipdeck-test", "-f"])
        .arg(path)
        .output()
        .expect("`ssh-keygen` must be installed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// `sshd` with its own host key, accepting one user key, killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    host_pub: String,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    fn start(dir: &Path, authorized: &str) -> Sshd {
        let host_key = dir.join("ssh_host_ed25519_key");
        let host_pub = keygen(&host_key);
        std::fs::write(dir.join("authorized_keys"), format!("{authorized}\n")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nLogLevel ERROR\n",
                host_key.display(),
                dir.join("authorized_keys").display(),
                dir.join("sshd.pid").display(),
            ),
        )
        .unwrap();
        // Privilege separation wants its empty directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("OpenSSH's `sshd` must be installed for this test (.ci/run installs openssh-server)");
        let child = Command::new(sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sshd {
            child,
            port,
            host_pub,
        }
    }

    /// The `known_hosts` line git (and OpenSSH) would have after accepting this server.
    fn known_hosts_line(&self) -> String {
        let mut parts = self.host_pub.split_whitespace();
        let (kind, key) = (parts.next().unwrap(), parts.next().unwrap());
        format!("[127.0.0.1]:{} {kind} {key}\n", self.port)
    }
}

struct Client {
    home: PathBuf,
    key: PathBuf,
}

/// A user home with an ssh key (and, if given, a known_hosts), and the inventory pointing at
/// the server with that key.
fn client(w: &World, sshd: &Sshd, key: &Path, known_hosts: Option<&str>) -> Client {
    let home = w.dir.path().join(format!("home-{}", sshd.port));
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    if let Some(k) = known_hosts {
        std::fs::write(home.join(".ssh/known_hosts"), k).unwrap();
    }
    let url = format!("ssh://root@127.0.0.1:{}{}", sshd.port, w.bare().display());
    let text = super::inventory_text(&url).replace(
        "  branch: main\n",
        &format!("  branch: main\n  ssh_key_file: {}\n", key.display()),
    );
    std::fs::write(&w.inventory_path, text).unwrap();
    Client {
        home,
        key: key.to_path_buf(),
    }
}

fn shipdeck(w: &World, c: &Client, tag: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args([
            "release",
            "miker-web",
            "--env",
            "dev",
            "--tag",
            tag,
            "--yes",
        ])
        .env("HOME", &c.home)
        .env("SHIPDECK_CONFIG", c.home.join("config"))
        .env("SHIPDECK_DATA", c.home.join("data"))
        .env("SHIPDECK_STATE", c.home.join("state"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        // No agent: the key file the inventory names is the only way in.
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("GITOPS_REPO_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_key_file_pushes_over_ssh_to_a_known_host() {
    let w = World::new();
    let keys = w.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let user_pub = keygen(&keys.join("id_ed25519"));
    let sshd = Sshd::start(&keys, &user_pub);
    let c = client(
        &w,
        &sshd,
        &keys.join("id_ed25519"),
        Some(&sshd.known_hosts_line()),
    );
    let o = shipdeck(&w, &c, "abc1234");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        remote_file(w.bare(), "apps/miker-web/overlays/dev/kustomization.yaml")
            .contains("newTag: abc1234")
    );
    assert!(c.key.is_file());
}

#[test]
fn an_unknown_host_or_a_refused_key_stops_before_anything_is_written() {
    let w = World::new();
    let keys = w.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let user_pub = keygen(&keys.join("id_ed25519"));
    let sshd = Sshd::start(&keys, &user_pub);
    let head = remote_main(w.bare());

    // A server whose key is not in known_hosts (or is there with another key): refused, as
    // git's StrictHostKeyChecking would.
    let impostor = keygen(&keys.join("other_host"));
    let wrong = format!("[127.0.0.1]:{} {}\n", sshd.port, {
        let mut p = impostor.split_whitespace();
        format!("{} {}", p.next().unwrap(), p.next().unwrap())
    });
    for known in [None, Some(wrong.as_str())] {
        let c = client(&w, &sshd, &keys.join("id_ed25519"), known);
        let o = shipdeck(&w, &c, "abc1234");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{err}");
        assert!(
            err.contains("SSH host key") && err.contains("known_hosts"),
            "says why and what to do: {err}"
        );
        assert_eq!(remote_main(w.bare()), head, "remote untouched");
    }

    // A known host that does not accept this key.
    let stranger = keys.join("stranger");
    keygen(&stranger);
    let c = client(&w, &sshd, &stranger, Some(&sshd.known_hosts_line()));
    let o = shipdeck(&w, &c, "abc1234");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!(
            "the SSH server did not accept the key {}",
            stranger.display()
        )),
        "says which key: {err}"
    );
    assert_eq!(remote_main(w.bare()), head, "remote untouched");
}
