//! The live cluster view (issue 5): watches, the plugin's derivations, rollout actions.
//! Until it lands, the UI shows "not connected".

use crate::inventory::Inventory;

/// What the cluster watches have delivered, as the panels read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {}

/// One update from a watch, applied to `LiveState` inside the pure `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {}

impl LiveState {
    /// Applies a watch update (pure). Takes the event by value: real events carry objects.
    #[allow(clippy::needless_pass_by_value)]
    pub fn apply(&mut self, event: LiveEvent) {
        match event {}
    }
}

/// Starts the watches for an inventory; events flow into `tx` until it closes.
/// Returns `None` when this build has no cluster view.
pub fn spawn_watches(
    _inventory: &Inventory,
    _tx: tokio::sync::mpsc::UnboundedSender<LiveEvent>,
) -> Option<tokio::task::JoinHandle<()>> {
    None
}
