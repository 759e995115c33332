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

/// Reads until the first full frame is on screen; returns the parser.
fn until_first_frame(s: &mut OsSession) -> vt100::Parser {
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
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
        let full = [
            "Environments",
            "Rollout",
            "Gates",
            "Runners",
            "Activity",
            "? help",
        ]
        .iter()
        .all(|t| text.contains(t));
        if full {
            return parser;
        }
        assert!(Instant::now() < deadline, "no full frame:\n{text}");
        std::thread::sleep(Duration::from_micros(200));
    }
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
    for _ in 0..runs {
        let home = tempfile::tempdir().expect("tempdir");
        let start = Instant::now();
        let mut s = spawn(home.path());
        until_first_frame(&mut s);
        times.push(start.elapsed());
        quit(s);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "start → first full frame (release, demo, {COLS}x{ROWS}, {runs} runs): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(times[runs / 2]),
        ms(times[runs - 1])
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
    until_first_frame(&mut s);
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
    quit(s);
    let _ = world.kill();
    let _ = world.wait();
}
