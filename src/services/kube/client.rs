//! Clients per kubeconfig context, and where each watch points.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{KubeError, Result};
use crate::inventory::Inventory;

/// Where to connect: a kubeconfig file (or the usual lookup) and a context (or the current one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `None`: `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

impl Target {
    /// The inventory's kubeconfig (resolved against its folder) with a context.
    pub fn from_inventory(inv: &Inventory, context: Option<&str>) -> Target {
        Target {
            kubeconfig: inv.kube.kubeconfig.as_deref().map(|p| inv.resolve(p)),
            context: context.map(str::to_owned),
        }
    }

    /// A readable name for messages.
    pub fn label(&self) -> String {
        self.context
            .clone()
            .unwrap_or_else(|| "current context".to_owned())
    }
}

/// Builds a client for a target (no request is made yet).
pub async fn client(target: &Target) -> Result<Client> {
    let kc = match &target.kubeconfig {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| KubeError::Kubeconfig(e.to_string()))?;
    let opts = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| KubeError::Client {
            context: target.label(),
            message: e.to_string(),
        })?;
    Client::try_from(config).map_err(|e| KubeError::Client {
        context: target.label(),
        message: e.to_string(),
    })
}

/// A kube error in words a person can act on; 403 and 404 keep their meaning.
pub fn describe(e: &kube::Error) -> KubeError {
    if let kube::Error::Api(s) = e {
        let msg = format!("{} ({})", s.message, s.reason);
        return match s.code {
            403 => KubeError::Forbidden(s.message.clone()),
            404 => KubeError::NotFound(s.message.clone()),
            _ => KubeError::Api(msg),
        };
    }
    KubeError::Api(e.to_string())
}
