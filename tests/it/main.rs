#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::similar_names,
    clippy::match_wild_err_arm,
    clippy::format_collect
)]

//! One integration-test binary: every module drives the real library (and, where it matters,
//! the real binary and real outside programs) against local stand-ins on 127.0.0.1.

mod app_core;
mod app_gates;
mod app_gitops;
mod app_live;
mod app_slo;
mod app_views;
mod argocd;
mod changes;
mod cli_help;
mod faults;
mod feishu;
mod fleet;
mod fleet_gates;
mod gates;
mod gitops;
mod guard;
mod harness;
mod hostile;
mod inventory;
mod live;
mod logs;
mod migrations;
mod news;
mod ops;
mod pipeline;
mod pipes;
mod pty;
mod release_guard;
mod s3;
mod sandbox_kube;
mod secrets;
mod slo;
mod timeline;
mod tmpclean;
mod ui_pipeline;
mod ui_snapshots;

/// The project's shared fixtures (real CRDs, the Argo Rollouts project's test objects, SOPS
/// vectors): `$SHIPDECK_FIXTURES`, else `../shared/fixtures` beside the checkout, as on developer
/// machines and in CI.
pub fn shared_fixtures() -> std::path::PathBuf {
    let dir = std::env::var_os("SHIPDECK_FIXTURES")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
            std::path::PathBuf::from,
        );
    assert!(
        dir.is_dir(),
        "shared fixtures not found at {}: set SHIPDECK_FIXTURES or put ../shared beside the checkout",
        dir.display()
    );
    dir
}
