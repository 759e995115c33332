//! Where the GitHub token comes from: the inventory's `token_env`, `GITHUB_TOKEN`, `GH_TOKEN`,
//! else `gh auth token`. The caller reads the environment (at the edge) and passes a lookup,
//! so tests never touch process env vars.

use std::time::Duration;

use secrecy::SecretString;

/// The first non-empty token among `token_env`, `GITHUB_TOKEN`, `GH_TOKEN`.
pub fn token_from_env(
    token_env: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<SecretString> {
    token_env
        .into_iter()
        .chain(["GITHUB_TOKEN", "GH_TOKEN"])
        .filter_map(lookup)
        .map(|t| t.trim().to_owned())
        .find(|t| !t.is_empty())
        .map(SecretString::from)
}

/// Which host `gh` should be asked about.
#[derive(Debug, PartialEq, Eq)]
enum GhHost {
    /// github.com, gh's default.
    Default,
    /// A GitHub Enterprise host.
    Enterprise(String),
    /// A loopback sandbox: a real token has no business there.
    Skip,
}

fn gh_host(api_url: &str) -> GhHost {
    let rest = api_url.split_once("://").map_or(api_url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    match host {
        "api.github.com" | "github.com" | "" => GhHost::Default,
        "127.0.0.1" | "localhost" | "[" => GhHost::Skip,
        h => GhHost::Enterprise(h.to_owned()),
    }
}

/// Asks `gh auth token` (for the API's host). `None` when gh is absent or not logged in.
pub async fn token_from_gh(api_url: &str) -> Option<SecretString> {
    let mut cmd = tokio::process::Command::new("gh");
    cmd.args(["auth", "token"]);
    match gh_host(api_url) {
        GhHost::Skip => return None,
        GhHost::Default => {}
        GhHost::Enterprise(h) => {
            cmd.args(["--hostname", &h]);
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(5), cmd.output())
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let token = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!token.is_empty()).then(|| SecretString::from(token))
}

/// The edge: process environment first, then `gh`.
pub async fn resolve_token(token_env: Option<&str>, api_url: &str) -> Option<SecretString> {
    if let Some(t) = token_from_env(token_env, |name| std::env::var(name).ok()) {
        return Some(t);
    }
    token_from_gh(api_url).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn order_and_blanks() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let t = token_from_env(
            Some("MY_TOKEN"),
            env(&[("MY_TOKEN", "a"), ("GITHUB_TOKEN", "b")]),
        );
        assert_eq!(t.unwrap().expose_secret(), "a");
        let t = token_from_env(None, env(&[("GITHUB_TOKEN", " "), ("GH_TOKEN", "c")]));
        assert_eq!(t.unwrap().expose_secret(), "c");
        assert!(token_from_env(None, env(&[])).is_none());
        let dbg = format!(
            "{:?}",
            token_from_env(None, env(&[("GH_TOKEN", "secret-value")]))
        );
        assert!(!dbg.contains("secret-value"));
    }

    #[test]
    fn hosts_for_gh() {
        assert_eq!(gh_host("https://api.github.com"), GhHost::Default);
        assert_eq!(
            gh_host("https://ghe.corp.example/api/v3"),
            GhHost::Enterprise("ghe.corp.example".to_owned())
        );
        assert_eq!(gh_host("http://127.0.0.1:4000"), GhHost::Skip);
    }
}
