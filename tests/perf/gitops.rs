//! Release latency on a big GitOps repo: shipdeck vs the seed's clone-edit-push script and vs
//! the best a script can do with a persistent clone.
//!
//! Run: `cargo bench --bench gitops` (release profile). Generates a bare repo with 10,000
//! commits and 5,000 files through `git fast-import`, then measures "command → commit on the
//! remote" for each approach in one run, over file://, and prints a table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::many_single_char_names // rows (a), (b), ... mirror the table labels
)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shipdeck::inventory::Inventory;
use shipdeck::paths::Paths;
use shipdeck::services::TaskCtl;
use shipdeck::services::gitops::{Action, ChangeRequest, GitopsEngine};

const APPS: usize = 100;
const FILES_PER_APP: usize = 50;
const COMMITS: usize = 10_000;
const ROUNDS: usize = 5;
const SCRIPT_ROUNDS: usize = 3;
const TARGET: &str = "apps/miker-web/overlays/stg/kustomization.yaml";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = sandboxed(Command::new("git").args(args).current_dir(dir))
        .output()
        .expect("git must be installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sandboxed(c: &mut Command) -> &mut Command {
    c.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
}

fn app_name(i: usize) -> String {
    if i == 0 {
        "miker-web".to_owned()
    } else {
        format!("app-{i:03}")
    }
}

fn overlay(app: &str, env: &str, tag: &str) -> String {
    format!(
        "# {app} — {env} overlay\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nnamespace: {app}-{env}\n\nresources:\n  - ../../base\n\nimages:\n  # set by release tooling\n  - name: harbor.bench.local/team/{app}\n    newTag: {tag} # build sha\n"
    )
}

fn data(out: &mut Vec<u8>, body: &str) {
    let _ = writeln!(out, "data {}", body.len());
    out.extend_from_slice(body.as_bytes());
    out.push(b'\n');
}

/// The fast-import stream: one commit with every file, then one tag change per commit.
fn stream() -> Vec<u8> {
    let mut out = Vec::with_capacity(16 << 20);
    let envs = ["dev", "stg", "prod"];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let t0 = 1_700_000_000u64;
    for n in 1..=COMMITS {
        let _ = writeln!(out, "commit refs/heads/main\nmark :{n}");
        let _ = writeln!(
            out,
            "author Dev {0} <dev{0}@example.com> {1} +0000",
            n % 7,
            t0 + n as u64 * 600
        );
        let _ = writeln!(
            out,
            "committer Dev {0} <dev{0}@example.com> {1} +0000",
            n % 7,
            t0 + n as u64 * 600
        );
        if n == 1 {
            data(&mut out, "bootstrap");
            for a in 0..APPS {
                let app = app_name(a);
                for env in envs {
                    let _ = writeln!(
                        out,
                        "M 100644 inline apps/{app}/overlays/{env}/kustomization.yaml"
                    );
                    data(&mut out, &overlay(&app, env, "0000000"));
                }
                for f in 0..FILES_PER_APP - 3 {
                    let _ = writeln!(out, "M 100644 inline apps/{app}/base/part-{f:02}.yaml");
                    data(
                        &mut out,
                        &format!(
                            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-{f}\ndata:\n  key: value-{f}\n"
                        ),
                    );
                }
            }
        } else {
            let r = next();
            let app = app_name(usize::try_from(r % APPS as u64).unwrap());
            let env = envs[usize::try_from((r >> 8) % 3).unwrap()];
            let tag = format!("{:07x}", (r >> 16) & 0x0fff_ffff);
            data(&mut out, &format!("release {app} {env} {tag}"));
            let _ = writeln!(out, "from :{}", n - 1);
            let _ = writeln!(
                out,
                "M 100644 inline apps/{app}/overlays/{env}/kustomization.yaml"
            );
            data(&mut out, &overlay(&app, env, &tag));
        }
    }
    out
}

fn generate(dir: &Path) -> PathBuf {
    let bare = dir.join("remote.git");
    git(dir, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let mut child = sandboxed(Command::new("git").args(["fast-import", "--quiet"]))
        .current_dir(&bare)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child.stdin.take().unwrap().write_all(&stream()).unwrap();
    assert!(child.wait().unwrap().success());
    git(&bare, &["repack", "-adq"]);
    bare
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn sh(dir: &Path, script: &str) {
    let out = sandboxed(Command::new("sh").args(["-ec", script]).current_dir(dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Row {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Row {
    fn median(&self) -> f64 {
        let mut v: Vec<f64> = self
            .samples
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn min(&self) -> f64 {
        self.samples
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .fold(f64::INFINITY, f64::min)
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let t = Instant::now();
    let bare = generate(root);
    let count = git(&bare, &["rev-list", "--count", "main"]);
    let files = git(&bare, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .count();
    println!(
        "generated {} commits, {files} files in {:.1}s",
        count.trim(),
        t.elapsed().as_secs_f64()
    );
    let url = format!("file://{}", bare.display());
    let mut round = 0u32;
    let mut tag = || {
        round += 1;
        format!("{round:07x}")
    };

    // (a) the seed's script: shallow clone, sed, commit, push.
    let mut a = Row {
        name: "(a) script: clone --depth 1, sed, commit, push",
        samples: Vec::new(),
    };
    for i in 0..SCRIPT_ROUNDS {
        let t = tag();
        let script = format!(
            "rm -rf wc-a{i}; git clone -q --depth 1 {url} wc-a{i}; cd wc-a{i}; sed -i 's/newTag: [^ ]*/newTag: {t}/' {TARGET}; git commit -qam 'release {t}'; git push -q origin HEAD:main"
        );
        a.samples.push(time(|| sh(root, &script)));
    }

    // (b) persistent clone with the git CLI.
    git(root, &["clone", "-q", &url, "wc-b"]);
    let wc_b = root.join("wc-b");
    let mut b = Row {
        name: "(b) persistent clone: fetch, reset, sed, commit, push",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        let t = tag();
        let script = format!(
            "git fetch -q origin; git reset -q --hard origin/main; sed -i 's/newTag: [^ ]*/newTag: {t}/' {TARGET}; git commit -qam 'release {t}'; git push -q origin HEAD:main"
        );
        b.samples.push(time(|| sh(&wc_b, &script)));
    }

    // shipdeck, in-process (what the TUI does) and as a command.
    let inv_path = root.join("inventory.yaml");
    std::fs::write(
        &inv_path,
        format!(
            "gitops:\n  url: \"{url}\"\n  author: {{name: bench, email: bench@example.com}}\napps:\n  miker-web:\n    image: harbor.bench.local/team/miker-web\n    layout: {{kind: kustomize, path: \"apps/{{app}}/overlays/{{env}}/kustomization.yaml\"}}\nenvironments:\n  dev: {{namespace: d}}\n  stg: {{namespace: s, promote_from: dev}}\n"
        ),
    )
    .unwrap();
    let inv = Inventory::load(&inv_path).unwrap();
    let paths = Paths::under(&root.join("shipdeck-home"));
    let warm = time(|| {
        GitopsEngine::open_at(&inv, &paths, None)
            .unwrap()
            .snapshot()
            .unwrap();
    });
    println!(
        "shipdeck first use (creates the persistent clone): {:.0} ms",
        warm.as_secs_f64() * 1000.0
    );
    let ctl = TaskCtl::detached();
    let mut c = Row {
        name: "shipdeck engine: open + release (in-process)",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        let t = tag();
        c.samples.push(time(|| {
            let e = GitopsEngine::open_at(&inv, &paths, None).unwrap();
            let o = e
                .apply(
                    &ChangeRequest::new(Action::Release, "miker-web", "stg", Some(&t)),
                    &ctl,
                )
                .unwrap();
            assert!(o.pushed);
        }));
    }
    let mut d = Row {
        name: "shipdeck release command (process)",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        let t = tag();
        d.samples.push(time(|| {
            let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
                .arg("--inventory")
                .arg(&inv_path)
                .args(["release", "miker-web", "--env", "stg", "--tag", &t, "--yes"])
                .env("SHIPDECK_DATA", &paths.data_dir)
                .env("SHIPDECK_STATE", &paths.state_dir)
                .env("SHIPDECK_CONFIG", &paths.config_dir)
                .env_remove("GITOPS_REPO_DIR")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }));
    }
    let engine = GitopsEngine::open_at(&inv, &paths, None).unwrap();
    let mut r = Row {
        name: "shipdeck rollback (previous tag, git part)",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        r.samples.push(time(|| {
            let o = engine
                .apply(
                    &ChangeRequest::new(Action::Rollback, "miker-web", "stg", None),
                    &ctl,
                )
                .unwrap();
            assert!(o.pushed);
        }));
    }
    let mut h = Row {
        name: "shipdeck history (full walk of 10k commits)",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        h.samples.push(time(|| {
            engine.history("miker-web", "stg").unwrap();
        }));
    }
    let mut s = Row {
        name: "shipdeck snapshot (fetch + all envs)",
        samples: Vec::new(),
    };
    for _ in 0..ROUNDS {
        s.samples.push(time(|| {
            engine.snapshot().unwrap();
        }));
    }

    let (ma, mb) = (a.median(), b.median());
    let mut table = format!(
        "\n{:<56} {:>5} {:>10} {:>10} {:>9} {:>9}\n",
        "approach (command → commit on remote)", "runs", "median ms", "min ms", "vs (a)", "vs (b)"
    );
    for row in [&a, &b, &c, &d, &r, &h, &s] {
        let m = row.median();
        let _ = writeln!(
            table,
            "{:<56} {:>5} {:>10.1} {:>10.1} {:>8.0}× {:>8.2}×",
            row.name,
            row.samples.len(),
            m,
            row.min(),
            ma / m,
            mb / m
        );
    }
    println!("{table}");
    println!(
        "goals: ≥100× faster than (a): {:.0}× (command), ≤1/4 of (b): {:.2}× of (b) time; rollback git part ≤100 ms: {:.1} ms",
        ma / d.median(),
        d.median() / mb,
        r.median()
    );
}
