//! The one owner of the terminal: raw mode, alternate screen and mouse on enter; all undone on
//! exit, on drop, on panic, and around a suspend.

use std::io::{Stdout, Write, stdout};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal while the cockpit runs.
pub struct TerminalGuard {
    terminal: Tui,
    active: bool,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and installs a panic hook that restores the
    /// terminal before the previous hook prints.
    pub fn enter() -> std::io::Result<TerminalGuard> {
        install_panic_hook();
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        let mut guard = TerminalGuard {
            terminal,
            active: false,
        };
        guard.resume()?;
        Ok(guard)
    }

    pub fn terminal(&mut self) -> &mut Tui {
        &mut self.terminal
    }

    /// Re-enters after a suspend.
    pub fn resume(&mut self) -> std::io::Result<()> {
        enable_raw_mode()?;
        execute!(
            self.terminal.backend_mut(),
            EnterAlternateScreen,
            EnableMouseCapture,
            cursor::Hide
        )?;
        self.terminal.clear()?;
        self.active = true;
        Ok(())
    }

    /// Gives the terminal back to the shell.
    pub fn exit(&mut self) -> std::io::Result<()> {
        if self.active {
            self.active = false;
            restore()?;
        }
        Ok(())
    }

    /// Ctrl-Z: restore, stop the process, and re-enter once the shell continues it.
    pub fn suspend(&mut self) -> std::io::Result<()> {
        self.exit()?;
        stop_self();
        self.resume()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Nothing useful can be done with an error while dropping.
        let _ = self.exit();
    }
}

/// Undoes everything `enter` did; safe to call more than once.
pub fn restore() -> std::io::Result<()> {
    let mut out = stdout();
    let raw = disable_raw_mode();
    let screen = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    let _ = out.flush();
    raw.and(screen)
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore();
        previous(info);
    }));
}

/// Sends SIGTSTP to this process, as a shell's job control expects; execution continues
/// here after `fg`.
#[allow(unsafe_code)]
fn stop_self() {
    // SAFETY: raise(3) with a valid signal number has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
}
