#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Measures the cockpit as a person meets it: the release binary in a pseudo-terminal on the
//! demo, read through a terminal emulator.
//!
//! - start → first full frame (all five panels and the key bar on screen), over several runs;
//! - CPU used while idle (nothing changing) over 30 s, from /proc/<pid>/stat.
//!
//! Run: `cargo bench --bench cockpit` (prints figures; asserts nothing).

use std::io::Write;
use std::time::{Duration, Instant};

use expectrl::session::OsSession;

const COLS: u16 = 120;
const ROWS: u16 = 40;

fn spawn(home: &std::path::Path) -> OsSession {
    let ws = home.join("ws");
    spawn_with(home, &["demo".as_ref(), "--dir".as_ref(), ws.as_os_str()])
}

fn spawn_with(home: &std::path::Path, args: &[&std::ffi::OsStr]) -> OsSession {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "stty cols {COLS} rows {ROWS} && exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .args(args)
        .env("TERM", "xterm-256color")
        .env("SHIPDECK_CONFIG", home.join("config"))
        .env("SHIPDECK_DATA", home.join("data"))
        .env("SHIPDECK_STATE", home.join("state"));
    OsSession::spawn(cmd).expect("spawn")
}

/// Feeds the terminal's output to `parser` until `done` holds for the screen's text.
fn read_until(
    s: &mut OsSession,
    parser: &mut vt100::Parser,
    what: &str,
    done: impl Fn(&str) -> bool,
) {
    let mut buf = [0u8; 16384];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        while let Ok(n) = s.try_read(&mut buf) {
            if n == 0 {
                break;
            }
            parser.process(&buf[..n]);
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let (r, c) = parser.screen().cursor_position();
                let _ = s.write_all(format!("\x1b[{};{}R", r + 1, c + 1).as_bytes());
            }
        }
        let text = parser.screen().contents();
        if done(&text) {
            return;
        }
        assert!(Instant::now() < deadline, "no {what}:\n{text}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Reads until the first full frame is on screen; returns the parser.
fn until_first_frame(s: &mut OsSession) -> vt100::Parser {
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
    read_until(s, &mut parser, "full frame", |text| {
        [
            "Environments",
            "Rollout",
            "Gates",
            "Runners",
            "Activity",
            "? help",
        ]
        .iter()
        .all(|t| text.contains(t))
    });
    parser
}

/// Every env row of the Environments panel has its git tag and its live image (no `—`, no
/// `connecting` in those columns).
fn rows_populated(text: &str) -> bool {
    ["dev", "stg", "prod"].iter().all(|env| {
        text.lines().any(|l| {
            let Some(row) = l
                .strip_prefix('┃')
                .map(|r| r.trim_start_matches([' ', '▸']))
            else {
                return false;
            };
            let Some(rest) = row.strip_prefix(env) else {
                return false;
            };
            let cols: Vec<&str> = rest
                .trim_start_matches('⚿')
                .split_whitespace()
                .take(2)
                .collect();
            cols.len() == 2
                && cols
                    .iter()
                    .all(|c| c.len() >= 7 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
        })
    })
}

/// The demo remote's main commit, read from its refs as git stores them.
fn remote_main(ws: &std::path::Path) -> String {
    let bare = ws.join("gitops.git");
    std::fs::read_to_string(bare.join("refs/heads/main"))
        .or_else(|_| {
            std::fs::read_to_string(bare.join("packed-refs")).map(|p| {
                p.lines()
                    .find(|l| l.ends_with(" refs/heads/main"))
                    .unwrap_or_default()
                    .to_owned()
            })
        })
        .unwrap_or_default()
}

fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

fn quit(mut s: OsSession) {
    let _ = s.write_all(b"q");
    let _ = s.flush();
    let _ = s.get_process().wait();
}

fn main() {
    let runs = 10;
    let mut times = Vec::new();
    let mut populated = Vec::new();
    for _ in 0..runs {
        let home = tempfile::tempdir().expect("tempdir");
        let start = Instant::now();
        let mut s = spawn(home.path());
        let mut parser = until_first_frame(&mut s);
        let first = start.elapsed();
        times.push(first);
        read_until(&mut s, &mut parser, "populated env rows", rows_populated);
        populated.push(start.elapsed().saturating_sub(first));
        quit(s);
    }
    times.sort();
    populated.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "start → first full frame (release, demo, {COLS}x{ROWS}, {runs} runs): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(times[runs / 2]),
        ms(times[runs - 1])
    );
    println!(
        "first frame → every env row has its git tag and live image ({runs} runs): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(populated[0]),
        ms(populated[runs / 2]),
        ms(populated[runs - 1])
    );

    // Idle: the sandbox world frozen (--speed 0) in its own process, so the figure is the
    // cockpit's own: watches open, git and gates read, nothing changing.
    let home = tempfile::tempdir().expect("tempdir");
    let ws = home.path().join("ws");
    let mut world = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["demo", "--no-tui", "--speed", "0", "--dir"])
        .arg(&ws)
        .env("SHIPDECK_DATA", home.path().join("world-data"))
        .env("SHIPDECK_STATE", home.path().join("world-state"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the sandbox");
    let mut out = std::io::BufReader::new(world.stdout.take().expect("stdout"));
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut out, &mut line).expect("read") > 0 {
        if line.contains("running") {
            break;
        }
    }
    let inventory = ws.join("inventory.yaml");
    let start = Instant::now();
    let mut s = spawn_with(
        home.path(),
        &["--inventory".as_ref(), inventory.as_os_str()],
    );
    let mut parser = until_first_frame(&mut s);
    println!(
        "cockpit on a running sandbox: start → first full frame {:.1} ms",
        ms(start.elapsed())
    );
    let pid = s.get_process().pid().as_raw();
    // Let start-up work settle (first git fetch, gate reads, watch lists), then measure.
    std::thread::sleep(Duration::from_secs(5));
    let secs = 30;
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(secs));
    let after = cpu_ticks(pid);
    let hz = 100.0; // USER_HZ on Linux
    #[allow(clippy::cast_precision_loss)]
    let pct = (after - before) as f64 / hz / secs as f64 * 100.0;
    println!(
        "cockpit idle CPU over {secs} s (world frozen): {} ticks = {pct:.3} % of a core",
        after - before
    );
    // Push → git column: a release from another process (as a colleague's would be), timed
    // until the dev row of this cockpit shows the new tag.
    let mut took = Vec::new();
    let pushes: usize = 20;
    for i in 0..pushes {
        let tag = format!("c0ffe{i:02x}");
        // Pushes at random points of the 3 s ref-check cycle (back to back they would all land
        // at the same point of it, and the figure would say where, not how long).
        std::thread::sleep(Duration::from_secs_f64(3.0 * rand::random::<f64>()));
        let tip_before = remote_main(&ws);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .arg("--inventory")
            .arg(&inventory)
            .args([
                "--yes",
                "release",
                "miker-web",
                "--env",
                "dev",
                "--tag",
                &tag,
            ])
            .env("SHIPDECK_CONFIG", home.path().join("cli-config"))
            .env("SHIPDECK_DATA", home.path().join("cli-data"))
            .env("SHIPDECK_STATE", home.path().join("cli-state"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run release");
        // The clock starts when the remote's branch moves, not when the command exits (it
        // still sends its cards then).
        let deadline = Instant::now() + Duration::from_secs(30);
        while remote_main(&ws) == tip_before {
            assert!(
                Instant::now() < deadline,
                "the release never reached the remote"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        let sent = Instant::now();
        let out = out.wait_with_output().expect("release ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        read_until(
            &mut s,
            &mut parser,
            "the pushed tag in the dev row",
            |text| {
                text.lines().any(|l| {
                    let mut cols = l.split_whitespace();
                    cols.next().is_some_and(|c| c.ends_with("dev")) && cols.next() == Some(&tag)
                })
            },
        );
        took.push(sent.elapsed());
    }
    took.sort();
    let p95 = took[(pushes * 95).div_ceil(100) - 1];
    println!(
        "push elsewhere → git column ({pushes} pushes): min {:.0} ms, median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        ms(took[0]),
        ms(took[pushes / 2]),
        ms(p95),
        ms(took[pushes - 1])
    );
    quit(s);
    let _ = world.kill();
    let _ = world.wait();
}
