//! The two reads the inventory asks for: one build's artifacts, and every env's newest backup.
//! Shared by the cockpit's driver, the promotion guard and the headless commands.

use serde::Serialize;

use super::{BackupAge, PrefixSummary, S3Client, S3Error, backup_age};
use crate::inventory::Inventory;

/// The commit an image tag names, as `{sha}` in the artifacts prefix: what
/// `github.tag_sha_regex` reads, else the tag itself (the usual tag is the SHA).
pub fn sha_of(inv: &Inventory, tag: &str) -> String {
    let re = inv
        .github
        .as_ref()
        .and_then(|g| g.tag_sha_regex.as_deref())
        .and_then(|r| regex::Regex::new(r).ok());
    crate::services::github::sha_from_tag(tag, re.as_ref()).unwrap_or_else(|_| tag.to_owned())
}

/// The artifacts of `tag` built for `app`, as `env` would get them. `Ok(None)`: the
/// inventory has no `artifacts:`.
pub async fn artifacts(
    inv: &Inventory,
    app: &str,
    env: &str,
    tag: &str,
) -> Result<Option<PrefixSummary>, S3Error> {
    let Some(cfg) = &inv.artifacts else {
        return Ok(None);
    };
    let client = S3Client::new("artifacts", &cfg.store(), inv.base_dir())?;
    let prefix = cfg.prefix_for(app, env, tag, &sha_of(inv, tag));
    let listing = client.list(&prefix, None, None).await?;
    Ok(Some(PrefixSummary::of(client.bucket(), &prefix, &listing)))
}

/// One env's backup read: its age, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupRead {
    pub env: String,
    #[serde(flatten)]
    pub age: Option<BackupAge>,
    /// Why the store could not be read (then `age` is absent and the freshness unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every checked env's newest backup, read concurrently. `Err`: no `backups:` section, or a
/// client that cannot be built (a bad endpoint, an unset key variable).
pub async fn backups(inv: &Inventory) -> Result<Vec<BackupRead>, S3Error> {
    let Some(cfg) = &inv.backups else {
        return Ok(Vec::new());
    };
    let client = S3Client::new("backups", &cfg.store(), inv.base_dir())?;
    let envs: Vec<String> = match &cfg.envs {
        Some(e) => e.clone(),
        None => inv.env_names().map(str::to_owned).collect(),
    };
    let max_age = cfg.max_age();
    let reads = envs.into_iter().map(|env| {
        let (client, prefix) = (client.clone(), cfg.prefix_for(&env));
        async move {
            match client.list(&prefix, None, None).await {
                Ok(listing) => BackupRead {
                    age: Some(backup_age(
                        &env,
                        client.bucket(),
                        &prefix,
                        &listing,
                        jiff::Timestamp::now(),
                        max_age,
                    )),
                    env,
                    error: None,
                },
                Err(e) => BackupRead {
                    env,
                    age: None,
                    error: Some(e.to_string()),
                },
            }
        }
    });
    Ok(futures::future::join_all(reads).await)
}
