//! End to end: the real binary in a pseudo-terminal on the demo, read through a terminal
//! emulator (vt100), driven by keys, and checked to leave the terminal as it found it.

use std::io::Write;
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;

const COLS: u16 = 120;
const ROWS: u16 = 40;
/// A bound on how long to wait before declaring failure; not a performance assertion.
const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) struct Screen {
    session: Session,
    parser: vt100::Parser,
}

impl Screen {
    pub(crate) fn start(args: &[&str], home: &std::path::Path) -> Screen {
        let bin = env!("CARGO_BIN_EXE_shipdeck");
        // Size the pty before the program starts, so its first frame is already 120×40.
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
        let session = Session::spawn(cmd).expect("spawn shipdeck in a pty");
        Screen {
            session,
            parser: vt100::Parser::new(ROWS, COLS, 0),
        }
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 8192];
        while let Ok(n) = self.session.try_read(&mut buf) {
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            self.parser.process(chunk);
            // Answer cursor-position queries (CSI 6n) as a real terminal does.
            let queries = chunk.windows(4).filter(|w| *w == b"\x1b[6n").count();
            for _ in 0..queries {
                let (row, col) = self.parser.screen().cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                self.session.write_all(reply.as_bytes()).unwrap();
                self.session.flush().unwrap();
            }
        }
    }

    pub(crate) fn text(&self) -> String {
        self.parser.screen().contents()
    }

    pub(crate) fn wait_for(&mut self, what: &str, ok: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            self.pump();
            if ok(&self.text()) {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited for {what}; the screen shows:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn send(&mut self, keys: &str) {
        self.session.write_all(keys.as_bytes()).unwrap();
        self.session.flush().unwrap();
    }

    pub(crate) fn wait_exit(&mut self) -> WaitStatus {
        let start = Instant::now();
        loop {
            self.pump();
            let status = self.session.get_process().status().unwrap();
            if !matches!(status, WaitStatus::StillAlive) {
                self.pump();
                return status;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "shipdeck did not exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn demo_shows_panels_help_and_quits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let ws = home.path().join("ws");
    let mut s = Screen::start(&["demo", "--dir", ws.to_str().unwrap()], home.path());

    // Two apps: the cockpit opens on the fleet; F goes to the app screen.
    s.wait_for("the fleet view", |t| {
        t.contains("Fleet: 2 apps × 3 envs") && t.contains("miker-web") && t.contains("miker-api")
    });
    s.send("F");
    // A frame reaches the terminal in several writes: wait for its last row (the key bar) too.
    s.wait_for("the five panels and the key bar", |t| {
        [
            "Environments",
            "Rollout",
            "Gates",
            "Runners",
            "Activity",
            "? help",
        ]
        .iter()
        .all(|p| t.contains(p))
    });
    assert!(
        s.parser.screen().alternate_screen(),
        "the cockpit runs on the alternate screen"
    );
    let text = s.text();
    assert!(
        text.contains("dev") && text.contains("stg") && text.contains("prod"),
        "{text}"
    );

    s.send("?");
    s.wait_for("the help overlay", |t| {
        t.contains("Help: keys") && t.contains("rollback")
    });

    s.send("\x1b");
    s.wait_for("help to close", |t| !t.contains("Help: keys"));

    // Focus moves with tab; zoom shows one panel.
    s.send("\tz");
    s.wait_for("the rollout panel zoomed", |t| {
        t.contains("Rollout") && !t.contains("Environments")
    });
    s.send("z");
    s.wait_for("back to all panels", |t| {
        t.contains("Environments") && t.contains("Runners")
    });

    s.send("q");
    let status = s.wait_exit();
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "exit status {status:?}"
    );
    assert!(
        !s.parser.screen().alternate_screen(),
        "back on the normal screen"
    );
    assert!(!s.parser.screen().hide_cursor(), "cursor visible again");
    assert!(
        ws.join("inventory.yaml").is_file(),
        "a --dir workspace is kept"
    );
}

#[test]
fn sigterm_and_sigint_restore_the_terminal_and_exit_as_shells_expect() {
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let home = tempfile::tempdir().unwrap();
        let ws = home.path().join("ws");
        let mut s = Screen::start(&["demo", "--dir", ws.to_str().unwrap()], home.path());
        s.wait_for("the cockpit", |t| {
            t.contains("Fleet:") && t.contains("? help")
        });
        let pid = s.session.get_process().pid();
        let killed = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = s.wait_exit();
        // 128 + the signal's number, as a shell reports a process the signal ended.
        assert!(
            matches!(status, WaitStatus::Exited(_, c) if c == code),
            "{signal}: exit status {status:?}"
        );
        assert!(!s.parser.screen().alternate_screen());
        assert!(!s.parser.screen().hide_cursor());
    }
}

#[test]
fn a_bad_keymap_is_shown_at_start_and_a_second_demo_on_the_folder_is_refused() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(home.path().join("config/keymap.yaml"), "quit: [\n").unwrap();
    let ws = home.path().join("ws");
    let mut s = Screen::start(&["demo", "--dir", ws.to_str().unwrap()], home.path());
    // Over the fleet view it opens on, the status line says it.
    s.wait_for("the keymap problem on screen", |t| {
        t.contains("Fleet:") && t.contains("keymap override ignored")
    });
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["demo", "--dir", ws.to_str().unwrap()])
        .env("SHIPDECK_CONFIG", home.path().join("config2"))
        .env("SHIPDECK_DATA", home.path().join("data2"))
        .env("SHIPDECK_STATE", home.path().join("state2"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    let pid = s.session.get_process().pid().to_string();
    assert_eq!(second.status.code(), Some(5), "{err}");
    assert!(
        err.contains("already runs a sandbox") && err.contains(&pid),
        "{err}"
    );
    s.send("q");
    let _ = s.wait_exit();
}
