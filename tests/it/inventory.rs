//! Inventory loading and its error messages.
