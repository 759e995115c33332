#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The live cluster view (issue 5): derivations against the plugin's fixtures, panels, and the
//! watches and actions against the sandbox API server.

pub(crate) mod cluster;
mod derive;
mod panels;
mod rbac;
mod runners;
