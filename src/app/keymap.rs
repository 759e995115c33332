//! Keys become Actions here and nowhere else. Bindings are data: the embedded default
//! (assets/keymap.yaml) overlaid by the user's file.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use super::action::{Action, Command};

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.yaml");

/// A key as written in the keymap: a code plus ctrl/alt. Shift is folded into the character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub code: KeyName,
    pub ctrl: bool,
    pub alt: bool,
}

/// The part of a key that is not a modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyName {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Backspace,
    F(u8),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            write!(f, "ctrl-")?;
        }
        if self.alt {
            write!(f, "alt-")?;
        }
        match self.code {
            KeyName::Char(' ') => write!(f, "space"),
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::Enter => write!(f, "enter"),
            KeyName::Esc => write!(f, "esc"),
            KeyName::Tab => write!(f, "tab"),
            KeyName::BackTab => write!(f, "shift-tab"),
            KeyName::Up => write!(f, "↑"),
            KeyName::Down => write!(f, "↓"),
            KeyName::Left => write!(f, "←"),
            KeyName::Right => write!(f, "→"),
            KeyName::Home => write!(f, "home"),
            KeyName::End => write!(f, "end"),
            KeyName::PageUp => write!(f, "pgup"),
            KeyName::PageDown => write!(f, "pgdn"),
            KeyName::Backspace => write!(f, "backspace"),
            KeyName::F(n) => write!(f, "f{n}"),
        }
    }
}

/// Why a keymap file was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap: {0}")]
    Yaml(String),
    #[error("keymap: unknown key `{0}` (use a character or a name like enter, esc, tab, ctrl-x)")]
    BadKey(String),
}

impl Key {
    /// Parses `p`, `P`, `?`, `ctrl-c`, `alt-x`, `enter`, `f5`, `backtab`.
    pub fn parse(text: &str) -> Result<Key, KeymapError> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyName::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyName::Enter,
                "esc" | "escape" => KeyName::Esc,
                "tab" => KeyName::Tab,
                "backtab" | "shift-tab" => KeyName::BackTab,
                "up" => KeyName::Up,
                "down" => KeyName::Down,
                "left" => KeyName::Left,
                "right" => KeyName::Right,
                "home" => KeyName::Home,
                "end" => KeyName::End,
                "pageup" => KeyName::PageUp,
                "pagedown" => KeyName::PageDown,
                "backspace" => KeyName::Backspace,
                "space" => KeyName::Char(' '),
                other => match other.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    Some(n) if (1..=12).contains(&n) => KeyName::F(n),
                    _ => return Err(KeymapError::BadKey(text.to_owned())),
                },
            },
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The keymap's view of a terminal key event.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => KeyName::BackTab,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::F(n) => KeyName::F(n),
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

/// A full-screen view with keys of its own (a section of the keymap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    Secrets,
    Tmp,
    Feishu,
    Changes,
    Logs,
    Timeline,
    Fleet,
}

/// How keys are read right now: bound commands, or typing into a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Keys go through the bindings.
    Normal,
    /// A text field has focus (palette, typed confirmation): characters are text.
    Text,
    /// A modal without a text field (help, yes/no): esc/q close, enter/y accept.
    Modal,
    /// A view: its section of the keymap first, then the modal keys.
    View(View),
}

/// The bindings: the main screen's, and each view's own.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<Key, Command>,
    views: BTreeMap<View, BTreeMap<Key, Command>>,
}

/// One line of a keymap file: `key: action`, or `view: { key: action, … }`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Bind(Command),
    Section(BTreeMap<String, Command>),
}

impl Default for Keymap {
    fn default() -> Self {
        // The embedded default is tested; should it ever fail, an empty map still lets the user
        // quit with ctrl-c via the text-mode fallbacks below.
        Keymap::from_yaml(DEFAULT_KEYMAP).unwrap_or(Keymap {
            bindings: BTreeMap::new(),
            views: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// Parses `key: action` lines and `view: { key: action }` sections.
    pub fn from_yaml(text: &str) -> Result<Keymap, KeymapError> {
        let raw: BTreeMap<String, Line> =
            serde_saphyr::from_str(text).map_err(|e| KeymapError::Yaml(e.to_string()))?;
        let mut bindings = BTreeMap::new();
        let mut views: BTreeMap<View, BTreeMap<Key, Command>> = BTreeMap::new();
        for (k, line) in raw {
            match line {
                Line::Bind(cmd) => {
                    bindings.insert(Key::parse(&k)?, cmd);
                }
                Line::Section(keys) => {
                    let view: View = serde_saphyr::from_str(&k).map_err(|_| {
                        KeymapError::Yaml(format!(
                            "`{k}` is neither a key nor a view (secrets, tmp, feishu)"
                        ))
                    })?;
                    let section = views.entry(view).or_default();
                    for (key, cmd) in keys {
                        section.insert(Key::parse(&key)?, cmd);
                    }
                }
            }
        }
        Ok(Keymap { bindings, views })
    }

    /// The default overlaid by the user's bindings.
    pub fn with_overrides(text: &str) -> Result<Keymap, KeymapError> {
        let mut base = Keymap::default();
        let user = Keymap::from_yaml(text)?;
        base.bindings.extend(user.bindings);
        for (view, keys) in user.views {
            base.views.entry(view).or_default().extend(keys);
        }
        Ok(base)
    }

    /// The command bound to a key.
    pub fn command(&self, key: &Key) -> Option<Command> {
        self.bindings.get(key).copied()
    }

    /// Keys bound to a command, for help and the footer.
    pub fn keys_for(&self, cmd: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|(_, c)| **c == cmd)
            .map(|(k, _)| *k)
            .collect()
    }

    /// A view's bindings, in key order, for its hint line.
    pub fn view_keys(&self, view: View) -> Vec<(Key, Command)> {
        self.views
            .get(&view)
            .map(|m| m.iter().map(|(k, c)| (*k, *c)).collect())
            .unwrap_or_default()
    }

    /// Turns a terminal event into an Action, given how input is read right now.
    pub fn resolve(&self, event: &Event, mode: InputMode) -> Option<Action> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.resolve_key(k, mode),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                    column: m.column,
                    row: m.row,
                }),
                MouseEventKind::ScrollUp => Some(Action::Command(Command::Up)),
                MouseEventKind::ScrollDown => Some(Action::Command(Command::Down)),
                _ => None,
            },
            Event::Resize(w, h) => Some(Action::Resize {
                width: *w,
                height: *h,
            }),
            _ => None,
        }
    }

    fn resolve_key(&self, ev: &KeyEvent, mode: InputMode) -> Option<Action> {
        let key = Key::from_event(ev)?;
        match mode {
            InputMode::Normal => self.command(&key).map(Action::Command),
            InputMode::Text => match key.code {
                KeyName::Esc => Some(Action::Command(Command::Cancel)),
                KeyName::Char('c') if key.ctrl => Some(Action::Command(Command::Cancel)),
                KeyName::Char('u') if key.ctrl => Some(Action::ClearInput),
                KeyName::Enter => Some(Action::Submit),
                KeyName::Backspace => Some(Action::Backspace),
                KeyName::Up => Some(Action::Command(Command::Up)),
                KeyName::Down => Some(Action::Command(Command::Down)),
                KeyName::Char(c) if !key.ctrl && !key.alt => Some(Action::Input(c)),
                _ => None,
            },
            InputMode::View(view) => {
                if let Some(cmd) = self.views.get(&view).and_then(|m| m.get(&key)) {
                    return Some(Action::Command(*cmd));
                }
                Self::modal(key)
            }
            InputMode::Modal => Self::modal(key),
        }
    }

    /// Keys of a modal without a text field: esc/q/n close, enter/y accept, j/k move.
    fn modal(key: Key) -> Option<Action> {
        match key.code {
            KeyName::Esc | KeyName::Char('q' | 'n' | '?') => Some(Action::Command(Command::Cancel)),
            KeyName::Char('c') if key.ctrl => Some(Action::Command(Command::Cancel)),
            KeyName::Enter | KeyName::Char('y') => Some(Action::Submit),
            KeyName::Up | KeyName::Char('k') => Some(Action::Command(Command::Up)),
            KeyName::Down | KeyName::Char('j') => Some(Action::Command(Command::Down)),
            _ => None,
        }
    }
}
