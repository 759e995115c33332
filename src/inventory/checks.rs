//! Checks of what the YAML types cannot say: names that are safe to show and to use as
//! Kubernetes names, paths that stay inside the GitOps repo, a helm key and a regex that can
//! work, and URLs without credentials in them. Every problem is reported, not just the first.

use std::path::Path;

use super::{Inventory, InventoryError, Layout};

/// Every problem found, in file order as far as it can be told.
pub(super) fn problems(inv: &Inventory, text: &str, path: &Path) -> Vec<InventoryError> {
    let mut out = Vec::new();
    let mut report = |needle: &str, message: String, fix: &str| {
        let (line, col) = find_any(text, needle);
        out.push(InventoryError::Invalid {
            path: path.to_path_buf(),
            line,
            col,
            message,
            fix: fix.to_owned(),
        });
    };
    for name in inv.apps.keys() {
        if let Some(why) = bad_name(name) {
            report(
                &format!("{name}:"),
                format!("app name {}: {why}", shown(name)),
                "use a DNS label: lowercase letters, digits and `-`, at most 63 characters",
            );
        }
    }
    for name in inv.environments.keys() {
        if let Some(why) = bad_name(name) {
            report(
                &format!("{name}:"),
                format!("environment name {}: {why}", shown(name)),
                "use a DNS label: lowercase letters, digits and `-`, at most 63 characters",
            );
        }
    }
    for (app, a) in &inv.apps {
        // The namespace template, filled in for every env, must name a namespace.
        let bad_ns = a.namespace.as_deref().and_then(|t| {
            inv.environments
                .keys()
                .map(|env| a.namespace_in(app, env, ""))
                .find_map(|ns| bad_name(&ns).map(|why| (t, ns, why)))
        });
        if let Some((t, ns, why)) = bad_ns {
            report(
                &format!("namespace: {t}"),
                format!(
                    "apps.{}.namespace `{t}` gives {}: {why}",
                    app.escape_debug(),
                    shown(&ns)
                ),
                "give a namespace name; {app} and {env} are replaced, e.g. payments-{env}",
            );
        }
        let (Layout::Kustomize { path: p, .. } | Layout::Helm { path: p, .. }) = &a.layout;
        if let Some(why) = bad_repo_path(p) {
            report(
                &format!("path: {p}"),
                format!("apps.{}.layout.path `{p}` {why}", app.escape_debug()),
                "give a path relative to the GitOps repo's root, e.g. envs/{env}/kustomization.yaml",
            );
        }
        if let Layout::Helm { key, .. } = &a.layout
            && key.split('.').any(|part| part.trim().is_empty())
        {
            report(
                &format!("key: {key}"),
                format!(
                    "apps.{}.layout.key `{key}` has an empty part",
                    app.escape_debug()
                ),
                "give the dotted path of the tag in the values file, e.g. image.tag",
            );
        }
    }
    for (app, a) in &inv.apps {
        for (key, message, fix) in a
            .slo
            .as_ref()
            .map(super::prometheus::problems)
            .unwrap_or_default()
        {
            report(
                &format!("{key}:"),
                format!("apps.{}.{message}", app.escape_debug()),
                fix,
            );
        }
    }
    for (key, message, fix) in inv
        .guard
        .as_ref()
        .map(super::guard::problems)
        .unwrap_or_default()
    {
        report(
            &format!("{}:", key.trim_start_matches("guard.")),
            message,
            &fix,
        );
    }
    if let Some(url) = inv.prometheus.as_ref().map(|p| p.url.as_str())
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        report(
            url,
            format!(
                "prometheus.url `{}` must start with http:// or https://",
                crate::redact::url(url)
            ),
            "give the base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090",
        );
    }
    if let Some(re) = inv.github.as_ref().and_then(|g| g.tag_sha_regex.as_deref()) {
        match regex::Regex::new(re) {
            Err(e) => report(
                "tag_sha_regex:",
                format!(
                    "github.tag_sha_regex is not a valid regex: {}",
                    e.to_string().lines().last().unwrap_or("invalid")
                ),
                "fix the pattern; its first capture group is the commit SHA",
            ),
            Ok(r) if r.captures_len() < 2 => report(
                "tag_sha_regex:",
                "github.tag_sha_regex has no capture group".to_owned(),
                "wrap the SHA part in parentheses, e.g. '^v[0-9.]+-([0-9a-f]{7,40})$'",
            ),
            Ok(_) => {}
        }
    }
    for (needle, message, fix) in super::pipeline::problems(inv) {
        report(&needle, message, fix);
    }
    let urls = [
        (
            "gitops.url",
            Some(inv.gitops.url.as_str()),
            "gitops.token_env",
        ),
        (
            "github.api_url",
            inv.github.as_ref().and_then(|g| g.api_url.as_deref()),
            "github.token_env",
        ),
        (
            "feishu.api_url",
            inv.feishu.as_ref().and_then(|f| f.api_url.as_deref()),
            "feishu.app_secret_env",
        ),
        (
            "prometheus.url",
            inv.prometheus.as_ref().map(|p| p.url.as_str()),
            "prometheus.token_env",
        ),
    ];
    for (key, url, instead) in urls {
        if let Some(url) = url
            && has_credentials(url)
        {
            report(
                url,
                format!(
                    "{key} has a user or password in it ({}): it would be shown, logged and journaled",
                    crate::redact::url(url)
                ),
                &format!(
                    "remove `user:password@` from the URL and name the env var holding the token in {instead}"
                ),
            );
        }
    }
    out.sort_by_key(|e| match e {
        InventoryError::Invalid { line, col, .. } => (*line, *col),
        _ => (0, 0),
    });
    out
}

/// Why a name cannot be an app or environment name, if it cannot. Names become Kubernetes
/// label values and file names, and are shown in tables: a DNS label is all of that safely.
fn bad_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 63 {
        return Some("is longer than 63 characters");
    }
    if name.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Some("has control, bidi or zero-width characters, which make tables lie");
    }
    if name.contains('/') || name.contains("..") {
        return Some("has `/` or `..`, which would escape a folder");
    }
    if name.contains(char::is_whitespace) {
        return Some("has spaces");
    }
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !name.chars().all(ok) || name.starts_with('-') || name.ends_with('-') {
        return Some("is not a DNS label");
    }
    None
}

/// Bidi controls and zero-width characters: invisible, yet they reorder or split what is shown.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A name as it can be shown: control and invisible characters escaped.
fn shown(name: &str) -> String {
    format!("`{}`", name.escape_debug())
}

fn bad_repo_path(p: &str) -> Option<&'static str> {
    if p.trim().is_empty() {
        Some("is empty")
    } else if p.starts_with('/') || Path::new(p).is_absolute() {
        Some("is absolute")
    } else if p.split(['/', '\\']).any(|part| part == "..") {
        Some("has `..`, which would leave the repo")
    } else {
        None
    }
}

/// Credentials in the authority: any userinfo over http(s) (a bare `token@` is one), a
/// password elsewhere (`ssh://git@host` names a user and is fine).
fn has_credentials(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    scheme.starts_with("http") || userinfo.contains(':')
}

/// Where `needle` is, written plain or quoted (`key: v`, `key: "v"`, `"key":`, `'key':`).
fn find_any(text: &str, needle: &str) -> (u64, u64) {
    let quoted = |q: char| match needle.split_once(": ") {
        Some((k, v)) => format!("{k}: {q}{v}{q}"),
        None => format!("{q}{}{q}:", needle.trim_end_matches(':')),
    };
    [needle.to_owned(), quoted('"'), quoted('\'')]
        .iter()
        .map(|n| find(text, n))
        .find(|&at| at != (1, 1) || text.starts_with(needle))
        .unwrap_or((1, 1))
}

/// The 1-based line and column of the first occurrence of `needle`, else 1:1.
fn find(text: &str, needle: &str) -> (u64, u64) {
    crate::textpos::find(text, needle).unwrap_or((1, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_label_rules() {
        for ok in ["web", "miker-web", "prod2"] {
            assert_eq!(bad_name(ok), None, "{ok}");
        }
        for bad in [
            "",
            "a/b",
            "..",
            "a b",
            "Prod",
            "-x",
            "x-",
            "st\u{202e}g",
            "p\u{200b}rod",
            "snake_case",
        ] {
            assert!(bad_name(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn paths_stay_inside_the_repo() {
        assert_eq!(bad_repo_path("envs/{env}/k.yaml"), None);
        for bad in ["", "/etc/passwd", "../x", "envs/../../x"] {
            assert!(bad_repo_path(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn credentials_are_found_in_the_authority_only() {
        assert!(has_credentials("https://alice:ghp_x@host/org/r.git"));
        assert!(has_credentials("http://ghs_token@host"));
        assert!(has_credentials("ssh://git:hunter2@host/r.git"));
        assert!(!has_credentials("ssh://git@host/r.git"));
        assert!(!has_credentials("https://host/org/r.git?x=a@b"));
        assert!(!has_credentials("git@github.com:org/r.git"));
    }
}
