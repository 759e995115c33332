//! The sandbox Kubernetes API server and its simulated controllers, driven over HTTP by
//! kube-rs and the real `kubectl`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod argocd;
pub(crate) mod fidelity;
mod kubectl;
mod provenance;
mod sim;

use std::path::Path;
use std::time::Duration;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use shipdeck::sandbox::kube::{KubeSandbox, KubeSandboxOptions};

pub fn opts(dir: &Path) -> KubeSandboxOptions {
    let mut o = KubeSandboxOptions::new(dir);
    o.controllers = false;
    o
}

pub async fn start(dir: &Path) -> KubeSandbox {
    KubeSandbox::start(opts(dir)).await.unwrap()
}

pub async fn client(sb: &KubeSandbox) -> Client {
    client_at(sb.kubeconfig_path()).await
}

pub async fn client_at(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

pub fn rollout_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"))
}

pub fn rollouts(c: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(c.clone(), ns, &rollout_resource())
}

/// Polls `f` until it returns Some, failing after `secs` seconds with `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
