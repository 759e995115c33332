//! The hostile-input corpus (`tests/fixtures/hostile/`, see its README): every case is refused
//! with the exit code and words its `.expect` names, leaks nothing it must not, prints no raw
//! control character, and loses nothing (the GitOps remote and the SOPS file stay as they were).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Expect {
    exit: i32,
    says: Vec<String>,
    never: Vec<String>,
}

fn corpus(kind: &str) -> Vec<(PathBuf, Expect)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hostile")
        .join(kind);
    let mut cases: Vec<(PathBuf, Expect)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the hostile corpus must be at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "expect"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let mut lines = text.lines();
            let exit = lines
                .next()
                .and_then(|l| l.strip_prefix("exit "))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{}: the first line must be `exit N`", p.display()));
            let (mut says, mut never) = (Vec::new(), Vec::new());
            for l in lines {
                if let Some(s) = l.strip_prefix("says ") {
                    says.push(s.to_owned());
                } else if let Some(s) = l.strip_prefix("never ") {
                    never.push(s.to_owned());
                } else {
                    panic!("{}: `{l}` is neither `says` nor `never`", p.display());
                }
            }
            (p.with_extension(""), Expect { exit, says, never })
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(cases.len() >= 3, "too few cases in {}", dir.display());
    cases
}

/// The exit code, the words and the bytes: all as the case expects.
fn check(case: &Path, e: &Expect, out: &std::process::Output) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let name = case.file_name().unwrap().to_string_lossy();
    assert_eq!(out.status.code(), Some(e.exit), "{name}: {text}");
    for s in &e.says {
        assert!(text.contains(s.as_str()), "{name}: no `{s}` in:\n{text}");
    }
    for s in &e.never {
        assert!(!text.contains(s.as_str()), "{name}: `{s}` leaked:\n{text}");
    }
    let raw = [&out.stdout[..], &out.stderr[..]].concat();
    assert!(
        !raw.iter().any(|&b| b < 0x20 && b != b'\n' && b != b'\t'),
        "{name}: a raw control character reached the terminal:\n{text}"
    );
}

fn shipdeck(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    c.env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env_remove("SHIPDECK_INVENTORY")
        .stdin(std::process::Stdio::null());
    c
}

#[test]
fn hostile_inventories_are_refused_with_their_place_and_fix() {
    let home = tempfile::tempdir().unwrap();
    for (case, e) in corpus("inventory") {
        let out = shipdeck(home.path())
            .args(["inventory", "check"])
            .arg(&case)
            .output()
            .unwrap();
        check(&case, &e, &out);
    }
    // Too big to keep in the tree: a file past the 4 MiB cap is refused before it is read.
    let big = home.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 5 << 20]).unwrap();
    let out = shipdeck(home.path())
        .args(["inventory", "check"])
        .arg(&big)
        .output()
        .unwrap();
    let e = Expect {
        exit: 2,
        says: vec!["larger than 4 MiB".to_owned()],
        never: Vec::new(),
    };
    check(&big, &e, &out);
}

#[test]
fn hostile_gitops_files_are_refused_and_the_remote_is_untouched() {
    let w = crate::gitops::World::new();
    let wc = w.dir.path().join("hostile-wc");
    crate::gitops::git(
        w.dir.path(),
        &["clone", "-q", w.seeded.url.as_str(), wc.to_str().unwrap()],
    );
    for (case, e) in corpus("gitops") {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (app, file) = if name.starts_with("helm-") {
            ("miker-api", "apps/miker-api/values-dev.yaml")
        } else {
            (
                "miker-web",
                "apps/miker-web/overlays/dev/kustomization.yaml",
            )
        };
        std::fs::write(wc.join(file), std::fs::read(&case).unwrap()).unwrap();
        crate::gitops::git(&wc, &["commit", "-qam", &format!("hostile: {name}")]);
        crate::gitops::git(&wc, &["push", "-q", "origin", "HEAD:main"]);
        let before = crate::gitops::remote_main(w.bare());
        let out = crate::gitops::headless::shipdeck(
            &w,
            &["--yes", "release", app, "--env", "dev", "--tag", "abc1234"],
        );
        check(&case, &e, &out);
        assert_eq!(
            crate::gitops::remote_main(w.bare()),
            before,
            "{name}: the remote moved"
        );
    }
}

#[test]
fn hostile_sops_files_are_refused_and_left_as_they_were() {
    let home = tempfile::tempdir().unwrap();
    let key = home.path().join("key.txt");
    let out = shipdeck(home.path())
        .arg("keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (case, e) in corpus("sops") {
        let copy = home.path().join(case.file_name().unwrap());
        std::fs::copy(&case, &copy).unwrap();
        let out = shipdeck(home.path())
            .args(["--yes", "secrets", "rotate"])
            .arg(&copy)
            .env("SOPS_AGE_KEY_FILE", &key)
            .env_remove("SOPS_AGE_KEY")
            .output()
            .unwrap();
        check(&case, &e, &out);
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(&case).unwrap(),
            "{}: the file changed",
            case.display()
        );
    }
}

#[test]
fn a_kube_context_the_kubeconfig_lacks_is_bad_input_at_once() {
    let home = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/inventory");
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        format!(
            "gitops: {{url: ./g.git}}\nkube: {{kubeconfig: {}}}\napps:\n  web:\n    image: example.com/web\n    layout: {{kind: kustomize, path: 'envs/{{env}}/k.yaml'}}\nenvironments:\n  stg: {{namespace: shop, kube_context: nope}}\n",
            dir.join("kubeconfig").display()
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = shipdeck(home.path())
        .arg("--inventory")
        .arg(&inv)
        .args(["--yes", "rollout", "promote", "web", "--env", "stg"])
        .output()
        .unwrap();
    let e = Expect {
        exit: 2,
        says: vec!["context `nope` is not in the kubeconfig (it has: sandbox, staging)".to_owned()],
        never: Vec::new(),
    };
    check(&inv, &e, &out);
    // Not after a connect timeout: nothing is dialled.
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[test]
fn a_feishu_secret_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().unwrap();
    let secrets = home.path().join("feishu.env");
    std::fs::write(&secrets, "FEISHU_APP_SECRET=x\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        "gitops: {url: ./g.git}\napps:\n  web:\n    image: example.com/web\n    layout: {kind: kustomize, path: 'envs/{env}/k.yaml'}\nenvironments:\n  stg: {namespace: shop}\nfeishu:\n  secret_file: feishu.env\n",
    )
    .unwrap();
    let out = shipdeck(home.path())
        .args(["inventory", "check"])
        .arg(&inv)
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("is readable by others (mode 644)") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = shipdeck(home.path())
        .args(["inventory", "check"])
        .arg(&inv)
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("readable by others"));
}

#[test]
fn keygen_refuses_a_missing_folder_rather_than_create_it() {
    let home = tempfile::tempdir().unwrap();
    let key = home.path().join("typo/keys.txt");
    let out = shipdeck(home.path())
        .arg("keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    let e = Expect {
        exit: 2,
        says: vec!["does not exist; create it first".to_owned()],
        never: Vec::new(),
    };
    check(&key, &e, &out);
    assert!(!home.path().join("typo").exists());
}
