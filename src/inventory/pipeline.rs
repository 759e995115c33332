//! The seed's other pipeline checkpoints: build artifacts and backups on an S3-compatible
//! store (TOS), and the migration Job a release runs before it goes out.

use std::time::Duration;

use serde::Deserialize;

/// Where an S3-compatible store is, and how shipdeck signs its requests (the same keys in
/// `artifacts:` and `backups:`; serde cannot flatten a struct that denies unknown fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Store {
    /// Endpoint URL, e.g. `https://tos-s3-cn-beijing.volces.com`; buckets are addressed
    /// path-style (`<endpoint>/<bucket>/…`), which every S3-compatible store serves.
    pub endpoint: String,
    pub bucket: String,
    /// The region in the signature's scope (TOS: `cn-beijing`). Default `us-east-1`.
    pub region: Option<String>,
    /// Env var with the access key id. With neither variable named the requests go unsigned
    /// (a bucket readable without credentials, or a proxy that signs for a pod's role).
    pub access_key_env: Option<String>,
    /// Env var with the secret access key.
    pub secret_key_env: Option<String>,
    /// `NAME=value` lines read for a key variable that is unset (relative to the inventory).
    pub secret_file: Option<String>,
    /// How long connecting may take. Seconds; default 5.
    pub connect_timeout_secs: Option<u64>,
    /// How long one request, answer included, may take. Seconds; default 15.
    pub timeout_secs: Option<u64>,
}

impl S3Store {
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or("us-east-1")
    }
}

macro_rules! store_of {
    ($t:ty) => {
        impl $t {
            /// Where its objects are and how to sign for them.
            pub fn store(&self) -> S3Store {
                S3Store {
                    endpoint: self.endpoint.clone(),
                    bucket: self.bucket.clone(),
                    region: self.region.clone(),
                    access_key_env: self.access_key_env.clone(),
                    secret_key_env: self.secret_key_env.clone(),
                    secret_file: self.secret_file.clone(),
                    connect_timeout_secs: self.connect_timeout_secs,
                    timeout_secs: self.timeout_secs,
                }
            }
        }
    };
}
store_of!(ArtifactsConfig);
store_of!(BackupsConfig);

/// Build artifacts synced after a release, checked per commit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    /// Endpoint URL, e.g. `https://tos-s3-cn-beijing.volces.com` (addressed path-style).
    pub endpoint: String,
    pub bucket: String,
    /// The region in the signature's scope. Default `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// Env var with the access key id (neither named: unsigned requests).
    #[serde(default)]
    pub access_key_env: Option<String>,
    /// Env var with the secret access key.
    #[serde(default)]
    pub secret_key_env: Option<String>,
    /// `NAME=value` lines read for a key variable that is unset (keep out of git, mode 0600).
    #[serde(default)]
    pub secret_file: Option<String>,
    /// Seconds; default 5.
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// Seconds; default 15.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Key prefix of one build's artifacts; `{sha}` (the commit the tag names), `{tag}`,
    /// `{app}` and `{env}` are replaced.
    pub prefix: String,
    /// Environments a tag may enter only when its artifacts are there.
    #[serde(default)]
    pub required_in: Vec<String>,
}

impl ArtifactsConfig {
    pub fn prefix_for(&self, app: &str, env: &str, tag: &str, sha: &str) -> String {
        self.prefix
            .replace("{sha}", sha)
            .replace("{tag}", tag)
            .replace("{app}", app)
            .replace("{env}", env)
    }
}

/// The daily backups, one prefix per environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// Endpoint URL, e.g. `https://tos-s3-cn-beijing.volces.com` (addressed path-style).
    pub endpoint: String,
    pub bucket: String,
    /// The region in the signature's scope. Default `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// Env var with the access key id (neither named: unsigned requests).
    #[serde(default)]
    pub access_key_env: Option<String>,
    /// Env var with the secret access key.
    #[serde(default)]
    pub secret_key_env: Option<String>,
    /// `NAME=value` lines read for a key variable that is unset (keep out of git, mode 0600).
    #[serde(default)]
    pub secret_file: Option<String>,
    /// Seconds; default 5.
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// Seconds; default 15.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Key prefix of an env's backups; `{env}` is replaced.
    pub prefix: String,
    /// The newest backup may be this old before it is stale: `26h`, `90m`, `2d`. Default 26h.
    #[serde(default)]
    pub max_age: Option<String>,
    /// The environments whose backups are checked (default: all).
    #[serde(default)]
    pub envs: Option<Vec<String>>,
}

impl BackupsConfig {
    pub fn prefix_for(&self, env: &str) -> String {
        self.prefix.replace("{env}", env)
    }

    /// The allowed age (26 hours unless the inventory says; a bad value was refused at load).
    pub fn max_age(&self) -> Duration {
        self.max_age
            .as_deref()
            .and_then(parse_age)
            .unwrap_or(Duration::from_secs(26 * 3600))
    }
}

/// The migration Job a release runs (Flyway, Liquibase, mongock), found by its labels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    /// The label whose value is the app's name. Default `app.kubernetes.io/name`.
    #[serde(default)]
    pub app_label: Option<String>,
    /// The label whose value is the release's image tag. Default `shipdeck.io/tag`.
    #[serde(default)]
    pub tag_label: Option<String>,
    /// Apps that run migrations (default: all).
    #[serde(default)]
    pub apps: Option<Vec<String>>,
    /// Environments a tag may enter only when its migration succeeded in `must_pass_in`.
    #[serde(default)]
    pub required_for: Vec<String>,
    /// Where that migration must have succeeded. Default `stg`.
    #[serde(default)]
    pub must_pass_in: Option<String>,
}

impl MigrationsConfig {
    pub fn app_label(&self) -> &str {
        self.app_label
            .as_deref()
            .unwrap_or("app.kubernetes.io/name")
    }

    pub fn tag_label(&self) -> &str {
        self.tag_label.as_deref().unwrap_or("shipdeck.io/tag")
    }

    pub fn must_pass_in(&self) -> &str {
        self.must_pass_in.as_deref().unwrap_or("stg")
    }

    pub fn covers(&self, app: &str) -> bool {
        self.apps
            .as_ref()
            .is_none_or(|apps| apps.iter().any(|a| a == app))
    }
}

/// `26h`, `90m`, `2d`, `45s`, or a bare number of seconds.
pub fn parse_age(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let mult = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let secs = n.checked_mul(mult)?;
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// What is wrong with these sections (the key to point at, message, fix).
pub(super) fn problems(inv: &super::Inventory) -> Vec<(String, String, &'static str)> {
    let mut out = Vec::new();
    let stores = [
        (
            "artifacts",
            inv.artifacts.as_ref().map(ArtifactsConfig::store),
        ),
        ("backups", inv.backups.as_ref().map(BackupsConfig::store)),
    ];
    for (section, store) in stores {
        let Some(store) = store else { continue };
        let e = store.endpoint.trim();
        if !(e.starts_with("http://") || e.starts_with("https://")) {
            out.push((
                format!("endpoint: {}", store.endpoint),
                format!("{section}.endpoint `{e}` must start with http:// or https://"),
                "give the store's endpoint URL, e.g. https://tos-s3-cn-beijing.volces.com",
            ));
        }
        if store.access_key_env.is_some() != store.secret_key_env.is_some() {
            out.push((
                format!("{section}:"),
                format!("{section} names only one of access_key_env and secret_key_env"),
                "name both env vars (signed requests) or neither (unsigned requests)",
            ));
        }
    }
    if let Some(b) = &inv.backups
        && let Some(age) = &b.max_age
        && parse_age(age).is_none()
    {
        out.push((
            format!("max_age: {age}"),
            format!("backups.max_age `{age}` is not a duration"),
            "give a number with s, m, h or d, e.g. 26h",
        ));
    }
    let envs: Vec<(&str, &[String])> = [
        inv.artifacts
            .as_ref()
            .map(|a| ("artifacts.required_in", a.required_in.as_slice())),
        inv.migrations
            .as_ref()
            .map(|m| ("migrations.required_for", m.required_for.as_slice())),
        inv.backups
            .as_ref()
            .and_then(|b| b.envs.as_deref().map(|e| ("backups.envs", e))),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (key, names) in envs {
        for name in names {
            if !inv.environments.contains_key(name) {
                out.push((
                    name.clone(),
                    format!("{key} names `{name}`, which is not an environment"),
                    "use a name from environments:",
                ));
            }
        }
    }
    if let Some(m) = &inv.migrations
        && !inv.environments.contains_key(m.must_pass_in())
    {
        out.push((
            "must_pass_in:".to_owned(),
            format!(
                "migrations.must_pass_in `{}` is not an environment",
                m.must_pass_in()
            ),
            "use a name from environments:, e.g. stg",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_write_them() {
        assert_eq!(parse_age("26h"), Some(Duration::from_secs(93_600)));
        assert_eq!(parse_age("90m"), Some(Duration::from_secs(5_400)));
        assert_eq!(parse_age("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_age("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_age("0h"), None);
        assert_eq!(parse_age("26 hours"), None);
        assert_eq!(parse_age("h"), None);
        assert_eq!(parse_age("99999999999999999999d"), None);
    }
}
