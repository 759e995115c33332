//! Credentials for fetch and push: ssh agent or key file, an HTTPS token from a named env var,
//! else git's credential helper. The token is held as a secret and never logged.

use std::path::PathBuf;

use git2::{Cred, CredentialType};
use secrecy::{ExposeSecret, SecretString};

/// How to authenticate to the GitOps remote.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    pub token: Option<SecretString>,
    /// The env var the token was to come from (`gitops.token_env`), for messages.
    pub token_env: Option<String>,
    pub ssh_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("token_env", &self.token_env)
            .field("ssh_key_file", &self.ssh_key_file)
            .finish()
    }
}

impl Auth {
    /// Reads the token env var named in the inventory (if any) and expands `~` in the key path.
    pub fn from_config(token_env: Option<&str>, ssh_key_file: Option<&str>) -> Self {
        let token = token_env
            .and_then(|name| std::env::var(name).ok())
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        let ssh_key_file = ssh_key_file.map(|p| match p.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map_or_else(|| PathBuf::from(p), |h| PathBuf::from(h).join(rest)),
            None => PathBuf::from(p),
        });
        Auth {
            token,
            token_env: token_env.map(str::to_owned),
            ssh_key_file,
        }
    }

    /// What an SSH connection offers, for messages: the key file, else the agent's keys.
    pub fn ssh_offer(&self) -> String {
        match &self.ssh_key_file {
            Some(key) => format!("the key {}", key.display()),
            None => "the ssh agent's keys".to_owned(),
        }
    }

    /// A libgit2 credentials callback. Gives up after a few tries so a wrong key cannot loop.
    pub fn callback(
        &self,
    ) -> impl FnMut(&str, Option<&str>, CredentialType) -> Result<Cred, git2::Error> + '_ {
        let mut tries = 0u32;
        // What was offered last, for the message when the remote keeps saying no.
        let mut offered = String::new();
        move |url, user, allowed| {
            tries += 1;
            if tries > 4 {
                return Err(git2::Error::from_str(&format!(
                    "authentication failed: the remote rejected the credentials{offered}"
                )));
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(user.unwrap_or("git"));
            }
            if allowed.contains(CredentialType::SSH_KEY) {
                let user = user.unwrap_or("git");
                offered = format!(" ({} for user `{user}`)", self.ssh_offer());
                return match &self.ssh_key_file {
                    Some(key) => Cred::ssh_key(user, None, key, None),
                    None => Cred::ssh_key_from_agent(user),
                };
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                if let Some(token) = &self.token {
                    if let Some(name) = &self.token_env {
                        offered = format!(" (the token in `{name}`)");
                    }
                    return Cred::userpass_plaintext(
                        user.unwrap_or("x-access-token"),
                        token.expose_secret(),
                    );
                }
                let config = git2::Config::open_default()?;
                return Cred::credential_helper(&config, url, user).map_err(|_| {
                    git2::Error::from_str(&match &self.token_env {
                        Some(name) => format!(
                            "authentication needed: `{name}` (gitops.token_env) is not set and no git credential helper answered"
                        ),
                        None => "authentication needed: name the env var that holds a token in gitops.token_env, or configure a git credential helper".to_owned(),
                    })
                });
            }
            Err(git2::Error::from_str(
                "no usable credentials for this remote",
            ))
        }
    }
}
