//! The sandbox's secrets folder: a fresh age identity, a `.sops.yaml`, and a few encrypted
//! files of realistic shape, one of them stale.

use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::Serialize;
use zeroize::Zeroizing;

use super::config::SopsConfig;
use super::{Result, SecretsError, keys, ops};

/// What [`seed`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSecrets {
    /// `<workspace>/age/keys.txt` (mode 0600): the inventory's `secrets.age_key_file`.
    pub key_file: PathBuf,
    pub public_key: String,
    /// `<workspace>/secrets`: the inventory's `secrets.paths`.
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The file whose data key is older than 90 days.
    pub stale: PathBuf,
}

fn random_token(len: usize) -> Zeroizing<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Zeroizing::new(
        bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect(),
    )
}

/// Writes the demo secrets under `workspace`. Refuses to overwrite an existing key file.
pub fn seed(workspace: &Path) -> Result<DemoSecrets> {
    // Whole seconds, as sops writes `lastmodified`.
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_default();
    let key_file = workspace.join("age").join("keys.txt");
    let kg = keys::keygen_to_file(&key_file, now)?;
    let dir = workspace.join("secrets");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SecretsError::Io { path: p, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let pk = &kg.public_key;
    let sops_yaml = format!(
        "# Which age keys can read which files (sops creation rules).\ncreation_rules:\n  - path_regex: \\.env$\n    age: {pk}\n  - path_regex: .*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: >-\n      {pk}\n  - age:\n      - {pk}\n"
    );
    let cfg_path = dir.join(".sops.yaml");
    std::fs::write(&cfg_path, sops_yaml).map_err(io(&cfg_path))?;
    let cfg = SopsConfig::load(&cfg_path)?;

    let stg = Zeroizing::new(format!(
        "# Kubernetes Secret for miker-web in staging\napiVersion: v1\nkind: Secret\nmetadata:\n  name: miker-web-secrets\n  namespace: miker-staging\ntype: Opaque\nstringData:\n  DATABASE_URL: mysql://miker:{}@mysql.internal:3306/miker\n  REDIS_PASSWORD: {}\n  SESSION_SECRET: {}\n",
        &*random_token(20),
        &*random_token(24),
        &*random_token(40)
    ));
    let prod = Zeroizing::new(format!(
        "# Kubernetes Secret for miker-web in production (rotate me: older than 90 days)\napiVersion: v1\nkind: Secret\nmetadata:\n  name: miker-web-secrets\n  namespace: miker-prod\ntype: Opaque\nstringData:\n  DATABASE_URL: mysql://miker:{}@mysql-prod.internal:3306/miker\n  REDIS_PASSWORD: {}\n",
        &*random_token(20),
        &*random_token(24)
    ));
    let registry = Zeroizing::new(format!(
        "{{\"registry\": {{\"url\": \"registry.example.internal\", \"username\": \"robot$miker\", \"password\": \"{}\"}}, \"github_api_token\": \"ghp_{}\"}}",
        &*random_token(32),
        &*random_token(36)
    ));
    let bot = Zeroizing::new(format!(
        "# Feishu release bot\nFEISHU_WEBHOOK=https://open.feishu.cn/open-apis/bot/v2/hook/{}\nFEISHU_SECRET={}\nFEISHU_APP_ID_unencrypted=cli_demo0000\n",
        &*random_token(16),
        &*random_token(24)
    ));
    let stale_lm = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 120))
        .unwrap_or(now)
        .to_string();
    let plan: [(&str, &str, Option<String>); 4] = [
        ("miker-web/stg/secret.enc.yaml", &stg, None),
        ("miker-web/prod/secret.enc.yaml", &prod, Some(stale_lm)),
        ("ci/registry.enc.json", &registry, None),
        ("feishu/bot.enc.env", &bot, None),
    ];
    let mut files = Vec::new();
    for (rel, plain, lm) in plan {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let text = ops::encrypt_for_rule(&path, plain, &cfg, lm)?;
        ops::write_atomic(&path, text.as_bytes())?;
        files.push(path);
    }
    Ok(DemoSecrets {
        key_file,
        public_key: kg.public_key,
        stale: files[1].clone(),
        dir,
        files,
    })
}
