//! One way to show a URL, or a message that carries URLs: without the credentials someone put
//! in it. Userinfo goes (`https://alice:ghp_…@host` → `https://***@host`; `ssh://git@host`
//! keeps its user name, which is no secret), and so do query values whose names say secret
//! (`token`, `sig`, `X-Amz-Signature`, …). Every error type that names a URL, the journal and
//! the chat cards show URLs through this.

/// Query parameters whose values are credentials (compared without case).
const SECRET_PARAMS: [&str; 12] = [
    "token",
    "access_token",
    "private_token",
    "sig",
    "signature",
    "secret",
    "password",
    "key",
    "api_key",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// `url` without credentials.
pub fn url(url: &str) -> String {
    text(url)
}

/// `message` with the credentials of every URL in it removed.
pub fn text(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("://") {
        // The scheme is the run of letters before `://`.
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let scheme = &rest[scheme_start..at];
        out.push_str(&rest[..at + 3]);
        let after = &rest[at + 3..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')'))
            .unwrap_or(after.len());
        out.push_str(&clean(scheme, &after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// One URL after its `scheme://`.
fn clean(scheme: &str, tail: &str) -> String {
    let auth_end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
    let (authority, path) = tail.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) if scheme.starts_with("http") || user.contains(':') => {
            let keep = if scheme.starts_with("http") {
                "***"
            } else {
                user.split(':').next().unwrap_or("***")
            };
            format!("{keep}@{host}")
        }
        _ => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((before, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(k)) => {
                        format!("{k}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            let mut p = format!("{before}?{}", query.join("&"));
            if let Some(f) = fragment {
                p.push('#');
                p.push_str(f);
            }
            p
        }
        None => path.to_owned(),
    };
    format!("{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_params_go_and_the_rest_stays() {
        assert_eq!(
            url("https://alice:ghp_abc@host/org/gitops.git"),
            "https://***@host/org/gitops.git"
        );
        assert_eq!(
            url("http://ghs_x@127.0.0.1:8080/api"),
            "http://***@127.0.0.1:8080/api"
        );
        assert_eq!(url("ssh://git@host/r.git"), "ssh://git@host/r.git");
        assert_eq!(url("ssh://git:pw@host/r.git"), "ssh://git@host/r.git");
        assert_eq!(
            url("https://h/p?a=1&token=s3cr3t&X-Amz-Signature=abc#f"),
            "https://h/p?a=1&token=***&X-Amz-Signature=***#f"
        );
        assert_eq!(url("git@github.com:org/r.git"), "git@github.com:org/r.git");
    }

    #[test]
    fn every_url_in_a_message_is_cleaned() {
        assert_eq!(
            text("cannot reach https://a:b@h/x: refused; retry http://t@h2/y."),
            "cannot reach https://***@h/x: refused; retry http://***@h2/y."
        );
        assert_eq!(text("no url here"), "no url here");
    }
}
