#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! One integration-test binary: every module drives the real library (and, where it matters,
//! the real binary and real outside programs) against local stand-ins on 127.0.0.1.

mod app_core;
mod gates;
mod inventory;
mod live;
mod pty;
mod sandbox_kube;
mod ui_snapshots;
