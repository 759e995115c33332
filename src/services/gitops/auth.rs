//! Credentials for fetch and push: ssh agent or key file, an HTTPS token from a named env var,
//! else git's credential helper. The token is held as a secret and never logged.

use std::path::PathBuf;

use git2::{Cred, CredentialType};
use secrecy::{ExposeSecret, SecretString};

/// How to authenticate to the GitOps remote.
#[derive(Clone, Default)]
pub(crate) struct Auth {
    pub token: Option<SecretString>,
    pub ssh_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
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
            ssh_key_file,
        }
    }

    /// A libgit2 credentials callback. Gives up after a few tries so a wrong key cannot loop.
    pub fn callback(
        &self,
    ) -> impl FnMut(&str, Option<&str>, CredentialType) -> Result<Cred, git2::Error> + '_ {
        let mut tries = 0u32;
        move |url, user, allowed| {
            tries += 1;
            if tries > 4 {
                return Err(git2::Error::from_str(
                    "authentication failed (credentials were rejected)",
                ));
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(user.unwrap_or("git"));
            }
            if allowed.contains(CredentialType::SSH_KEY) {
                let user = user.unwrap_or("git");
                return match &self.ssh_key_file {
                    Some(key) => Cred::ssh_key(user, None, key, None),
                    None => Cred::ssh_key_from_agent(user),
                };
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                if let Some(token) = &self.token {
                    return Cred::userpass_plaintext(
                        user.unwrap_or("x-access-token"),
                        token.expose_secret(),
                    );
                }
                let config = git2::Config::open_default()?;
                return Cred::credential_helper(&config, url, user);
            }
            Err(git2::Error::from_str(
                "no usable credentials for this remote",
            ))
        }
    }
}
