//! Who acts. Resolved once per process and written into commit trailers, journal lines and chat
//! cards, so an audit names a person (or a service) rather than "unknown".

use std::path::Path;

use serde::Serialize;

/// The identity behind an action.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Actor {
    /// `Alice Doe <alice@example.com>`, `deploy-bot`, `alice`.
    pub name: String,
    /// Where `name` came from: `SHIPDECK_ACTOR`, `git config`, `$USER`, `passwd`.
    pub source: String,
    /// The Kubernetes username the cluster reports for our credentials (SelfSubjectReview),
    /// when a cluster has answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_user: Option<String>,
}

impl Actor {
    /// `SHIPDECK_ACTOR`, else git's `user.name <user.email>` (from the repository at `git_dir`
    /// when given, which includes the user's global config), else `$USER`, else the passwd
    /// name of our uid.
    pub fn local(git_dir: Option<&Path>) -> Actor {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let found = env("SHIPDECK_ACTOR")
            .map(|n| (n, "SHIPDECK_ACTOR"))
            .or_else(|| git_identity(git_dir).map(|n| (n, "git config")))
            .or_else(|| env("USER").map(|n| (n, "$USER")))
            .or_else(|| passwd_name().map(|n| (n, "passwd")));
        let (name, source) = found.unwrap_or_else(|| ("unknown".to_owned(), "nothing"));
        Actor {
            name,
            source: source.to_owned(),
            kube_user: None,
        }
    }

    /// The same actor with the cluster's name for it.
    #[must_use]
    pub fn with_kube_user(mut self, user: Option<String>) -> Actor {
        self.kube_user = user;
        self
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kube_user {
            Some(k) if *k != self.name => write!(f, "{} (k8s: {k})", self.name),
            _ => f.write_str(&self.name),
        }
    }
}

fn git_identity(git_dir: Option<&Path>) -> Option<String> {
    let config = match git_dir.and_then(|d| git2::Repository::open(d).ok()) {
        Some(repo) => repo.config().ok()?,
        None => git2::Config::open_default().ok()?,
    };
    let name = config
        .get_string("user.name")
        .ok()
        .filter(|n| !n.trim().is_empty())?;
    Some(match config.get_string("user.email") {
        Ok(email) if !email.trim().is_empty() => format!("{name} <{email}>"),
        _ => name,
    })
}

/// The login name of the uid that owns this process, from /etc/passwd (no libc call needed:
/// /proc/self belongs to our uid).
fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_names_our_uid() {
        // Every machine that runs the tests has an /etc/passwd line for the uid running them.
        let name = passwd_name();
        assert!(name.as_deref().is_some_and(|n| !n.is_empty()), "{name:?}");
    }

    #[test]
    fn display_adds_the_kube_user_only_when_it_differs() {
        let a = Actor {
            name: "alice".into(),
            source: "$USER".into(),
            kube_user: Some("alice".into()),
        };
        assert_eq!(a.to_string(), "alice");
        let b = a.with_kube_user(Some("system:serviceaccount:ci:deployer".into()));
        assert_eq!(
            b.to_string(),
            "alice (k8s: system:serviceaccount:ci:deployer)"
        );
    }
}
