//! shipdeck: a terminal release cockpit for GitOps on Kubernetes.
//!
//! The binary in `main.rs` is thin; everything lives here so that tests drive the same code.

pub mod app;
pub mod audit;
pub mod cli;
pub mod demo;
pub mod driver;
pub mod headless;
pub mod inventory;
pub mod logging;
pub mod ops;
pub mod paths;
pub mod redact;
pub mod sandbox;
pub mod services;
pub mod terminal;
pub mod textpos;
pub mod ui;

pub mod entry;
pub mod guard;
pub use entry::run;
