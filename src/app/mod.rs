//! The pure core: state, the actions that change it, the effects it asks for, and the keymap.
//! Nothing here awaits, touches the filesystem or talks to a client.

pub mod action;
pub mod fleet;
pub mod keymap;
pub mod logs;
pub mod slo;
pub mod state;
pub mod tasks;
pub mod timeline;
pub mod update;
pub mod views;

pub use action::{Action, Command, Effect, TimerKey};
pub use keymap::Keymap;
pub use state::{Overlay, Panel, State};
pub use update::{key_blocked, update};
