//! The headless commands in pipes: a reader that stops early (`| head`) ends them quietly, and
//! a stream written to a pipe is NDJSON with no terminal codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn completions_into_a_closed_pipe_exit_0_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line and hang up, as `| head -1` does.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(first.contains("_shipdeck"), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_watch_into_a_pipe_is_ndjson_and_ends_when_the_reader_goes() {
    let w = crate::ops::World::start_at(true, 10.0).await;
    let p = w.cli_paths();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("--inventory")
        .arg(&w.inventory_path)
        .args([
            "--output",
            "json",
            "rollout",
            "get",
            "miker-web",
            "--env",
            "stg",
            "--watch",
        ])
        .env("SHIPDECK_CONFIG", &p.config_dir)
        .env("SHIPDECK_DATA", &p.data_dir)
        .env("SHIPDECK_STATE", &p.state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    for _ in 0..2 {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("a record within 60 s")
            .unwrap()
            .expect("a line");
        assert!(
            !line.contains('\u{1b}'),
            "a terminal code in a pipe: {line:?}"
        );
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        assert!(v.get("rollout").is_some() || v.get("app").is_some(), "{v}");
    }
    // The reader goes away; the next change ends the watch.
    drop(lines);
    let hung_up = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the watch ended after its reader went away")
        .unwrap();
    eprintln!(
        "watch ended {:.2?} after its reader went away",
        hung_up.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    w.shutdown().await;
}
