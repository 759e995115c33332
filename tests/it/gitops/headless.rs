//! The real binary: `release`, `promote`, `rollback`, `history` with JSON output and exit codes.

use std::process::{Command, Output, Stdio};

use super::{World, remote_file};

pub(crate) fn shipdeck(w: &World, args: &[&str]) -> Output {
    let home = w.dir.path().join("cli-home");
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args(args)
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"))
        .env("SHIPDECK_ACTOR", "ci-bot")
        .env_remove("GITOPS_REPO_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn release_json_and_exit_codes() {
    let w = World::new();
    let o = shipdeck(
        &w,
        &[
            "release",
            "miker-web",
            "--env",
            "stg",
            "--tag",
            "abc1234",
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    for k in [
        "action",
        "app",
        "env",
        "from",
        "to",
        "commit",
        "pushed",
        "attempts",
        "duration_ms",
    ] {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
    assert_eq!(v["action"], "release");
    assert_eq!(v["from"], "9f1c2ab");
    assert_eq!(v["to"], "abc1234");
    assert_eq!(v["pushed"], true);

    // Bad tag: exit 2, nothing pushed.
    let o = shipdeck(
        &w,
        &[
            "release",
            "miker-web",
            "--env",
            "stg",
            "--tag",
            "no good",
            "--yes",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid tag"));

    // Protected env: --yes alone is refused (5); with --confirm-env it goes.
    let o = shipdeck(&w, &["promote", "miker-web", "--to", "prod", "--yes"]);
    assert_eq!(o.status.code(), Some(5));
    let o = shipdeck(
        &w,
        &[
            "promote",
            "miker-web",
            "--to",
            "prod",
            "--yes",
            "--confirm-env",
            "prod",
            "--output",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("71be0e3"), Some("abc1234"))
    );

    let o = shipdeck(
        &w,
        &[
            "rollback",
            "miker-web",
            "--env",
            "prod",
            "--confirm-env",
            "prod",
            "--output",
            "json",
        ],
    );
    // This world has no cluster: the git half is written, the abort cannot be, and a rollback
    // that could not check for a canary in flight is not a success (exit 4, the reason said).
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("cluster: abort failed: kubeconfig"), "{err}");
    let doc = json(&o);
    assert_eq!(doc["to"], "71be0e3");
    assert_eq!(doc["pushed"], true);
    assert_eq!(doc["cluster"]["failed"], true);
    assert!(
        remote_file(w.bare(), "apps/miker-web/overlays/prod/kustomization.yaml")
            .contains("newTag: 71be0e3 #")
    );
    let o = shipdeck(
        &w,
        &["history", "miker-web", "--env", "prod", "--output", "json"],
    );
    assert_eq!(o.status.code(), Some(0));
    let h = json(&o);
    assert_eq!(h[0]["tag"], "71be0e3");
    assert_eq!(h[0]["action"], "rollback");
    assert_eq!(h[1]["tag"], "abc1234");
    let o = shipdeck(&w, &["history", "miker-web", "--env", "prod"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Carol Díaz"));
}

#[test]
fn a_refusing_remote_exits_4_and_a_conflict_3() {
    let w = World::new();
    let hook = w.bare().join("hooks").join("pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'no pushes today' >&2\nexit 1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = shipdeck(
        &w,
        &[
            "release",
            "miker-web",
            "--env",
            "dev",
            "--tag",
            "abc1234",
            "--yes",
            "--output",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    let v = json(&o);
    assert!(
        v["error"].as_str().unwrap().contains("no pushes today"),
        "{v}"
    );
}
