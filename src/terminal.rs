//! Terminal guard.
