//! Commit messages: a subject people can scan, trailers scripts can parse.

use std::fmt::Write as _;

use super::ChangeRequest;

/// `release(miker-web): stg 71be0e3 → 9f1c2ab` plus `Shipdeck-*` trailers.
pub(crate) fn commit_message(
    req: &ChangeRequest,
    from: Option<&str>,
    to: &str,
    source_env: Option<&str>,
) -> String {
    let from_text = from.unwrap_or("none");
    let mut msg = format!(
        "{}({}): {} {from_text} → {to}\n\n",
        req.action, req.app, req.env
    );
    if let Some(src) = source_env {
        let _ = write!(msg, "Promoted from {src}.\n\n");
    }
    let one_line = |s: &str| s.replace(['\n', '\r'], " ").trim().to_owned();
    let mut trailer = |k: &str, v: &str| {
        let _ = writeln!(msg, "Shipdeck-{k}: {}", one_line(v));
    };
    trailer("Action", req.action.as_str());
    trailer("App", &req.app);
    trailer("Env", &req.env);
    trailer("From", from_text);
    trailer("To", to);
    trailer("Actor", &req.actor);
    if let Some(g) = &req.gates {
        trailer("Gates", g);
    }
    if let Some(r) = &req.reason {
        trailer("Reason", r);
    }
    if let Some(c) = &req.changes {
        trailer("Changes", c);
    }
    if let Some(a) = &req.analysis {
        trailer("Analysis", a);
    }
    msg
}
