//! Release events and the interactive cards (or plain text) that carry them to a chat.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::inventory::EventKind;

/// How a card presents each kind of event (the kinds themselves are defined with the inventory,
/// whose `feishu.chats.<name>.events` lists them).
impl EventKind {
    /// The card header's colour: red for failures and anything that pulls a release back.
    pub fn template(self) -> &'static str {
        match self {
            EventKind::ReleaseFailed
            | EventKind::Rollback
            | EventKind::Abort
            | EventKind::AutoAbort
            | EventKind::Degraded
            | EventKind::AnalysisFailed
            | EventKind::CrashLoop
            | EventKind::SyncFailed => "red",
            EventKind::ReleaseSucceeded => "green",
            EventKind::GateOverride => "orange",
            EventKind::SecretRotation | EventKind::RecipientAdded | EventKind::RecipientRemoved => {
                "purple"
            }
            EventKind::ReleaseStarted
            | EventKind::Promote
            | EventKind::Text
            | EventKind::Argocd => "blue",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            EventKind::ReleaseStarted => "Release started",
            EventKind::ReleaseSucceeded => "Release succeeded",
            EventKind::ReleaseFailed => "Release failed",
            EventKind::Promote => "Promoted",
            EventKind::Rollback => "Rolled back",
            EventKind::Abort => "Canary aborted",
            EventKind::GateOverride => "Gates overridden",
            EventKind::SecretRotation => "Secrets rotated",
            EventKind::RecipientAdded => "Secret recipient added",
            EventKind::RecipientRemoved => "Secret recipient removed",
            EventKind::Text => "Message",
            EventKind::AutoAbort => "Canary aborted by analysis",
            EventKind::Degraded => "Rollout degraded",
            EventKind::AnalysisFailed => "Analysis failed",
            EventKind::CrashLoop => "Canary pods crash-looping",
            EventKind::SyncFailed => "Argo CD sync failed",
            EventKind::Argocd => "Argo CD",
        }
    }
}

/// One event to tell chats about. Build it with a constructor and the `with_*` setters; the
/// notifier turns it into a card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub kind: EventKind,
    pub app: Option<String>,
    pub env: Option<String>,
    /// Tag (or environment, for a promotion) before.
    pub from: Option<String>,
    /// Tag (or environment) after.
    pub to: Option<String>,
    pub actor: String,
    pub commit_url: Option<String>,
    /// One line, e.g. "7/7 passed" or "codeql failed, overridden".
    pub gates: Option<String>,
    /// Free text: the reason, the error, the files rotated.
    pub detail: Option<String>,
    /// What a promote brings: the count, the first pull requests, the compare page.
    pub changes: Option<CardChanges>,
    pub at: Timestamp,
}

/// The changes block of a promote card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardChanges {
    /// `12 commits, 5 PRs ahead`.
    pub headline: String,
    /// `#482 Checkout: pay by invoice` and the like, at most [`CARD_CHANGE_LINES`].
    pub lines: Vec<String>,
    /// Lines beyond those.
    pub more: usize,
    pub compare_url: Option<String>,
}

/// How many change lines a card lists (a chat card is not the release notes).
pub const CARD_CHANGE_LINES: usize = 8;

impl Notification {
    fn new(kind: EventKind, actor: &str) -> Self {
        Notification {
            kind,
            app: None,
            env: None,
            from: None,
            to: None,
            actor: actor.to_owned(),
            commit_url: None,
            gates: None,
            detail: None,
            changes: None,
            at: Timestamp::now(),
        }
    }

    fn release(kind: EventKind, app: &str, env: &str, from: &str, to: &str, actor: &str) -> Self {
        Notification {
            app: Some(app.to_owned()),
            env: Some(env.to_owned()),
            from: Some(from.to_owned()),
            to: Some(to.to_owned()),
            ..Self::new(kind, actor)
        }
    }

    /// A release of `app` to `env` moving the tag `from` → `to` has been pushed.
    pub fn release_started(app: &str, env: &str, from: &str, to: &str, actor: &str) -> Self {
        Self::release(EventKind::ReleaseStarted, app, env, from, to, actor)
    }

    /// The rollout reached 100 % healthy.
    pub fn release_succeeded(app: &str, env: &str, from: &str, to: &str, actor: &str) -> Self {
        Self::release(EventKind::ReleaseSucceeded, app, env, from, to, actor)
    }

    /// The release failed (push refused, analysis failed, …): say why in `with_detail`.
    pub fn release_failed(app: &str, env: &str, from: &str, to: &str, actor: &str) -> Self {
        Self::release(EventKind::ReleaseFailed, app, env, from, to, actor)
    }

    /// `to_env`'s tag was set to `from_env`'s `tag` (tags go in `with_detail` or `from`/`to`).
    pub fn promote(app: &str, from_env: &str, to_env: &str, tag: &str, actor: &str) -> Self {
        let mut n = Self::release(EventKind::Promote, app, to_env, from_env, to_env, actor);
        n.detail = Some(format!("tag {tag}"));
        n
    }

    /// `env` was rolled back from tag `from` to the previous good tag `to`.
    pub fn rollback(app: &str, env: &str, from: &str, to: &str, actor: &str) -> Self {
        Self::release(EventKind::Rollback, app, env, from, to, actor)
    }

    /// The canary of `tag` in `env` was aborted (traffic back on stable).
    pub fn abort(app: &str, env: &str, tag: &str, actor: &str) -> Self {
        let mut n = Self::new(EventKind::Abort, actor);
        n.app = Some(app.to_owned());
        n.env = Some(env.to_owned());
        n.to = Some(tag.to_owned());
        n
    }

    /// Failing gates were overridden with a typed `reason`.
    pub fn gate_override(
        app: &str,
        env: &str,
        from: &str,
        to: &str,
        actor: &str,
        reason: &str,
    ) -> Self {
        let mut n = Self::release(EventKind::GateOverride, app, env, from, to, actor);
        n.detail = Some(format!("reason: {reason}"));
        n
    }

    /// Data keys or recipients of SOPS files were rotated; `what` says which files/recipients.
    pub fn secret_rotation(env: Option<&str>, what: &str, actor: &str) -> Self {
        let mut n = Self::new(EventKind::SecretRotation, actor);
        n.env = env.map(str::to_owned);
        n.detail = Some(what.to_owned());
        n
    }

    /// An age recipient's access changed (`kind` is `RecipientAdded` or `RecipientRemoved`);
    /// `what` names the recipient and the files.
    pub fn recipients(kind: EventKind, what: &str, actor: &str) -> Self {
        let mut n = Self::new(kind, actor);
        n.detail = Some(what.to_owned());
        n
    }

    /// What the cluster did by itself; the actor is the cluster, not a person.
    pub fn cluster(kind: EventKind, app: &str, env: &str, tag: Option<&str>, what: &str) -> Self {
        Notification {
            app: Some(app.to_owned()),
            env: Some(env.to_owned()),
            to: tag.map(str::to_owned),
            detail: Some(what.to_owned()),
            ..Self::new(kind, "cluster")
        }
    }

    /// An Argo CD action from shipdeck: `what` says which (`sync to 9f1c2ab: Succeeded`).
    pub fn argocd(app: &str, env: &str, what: &str, actor: &str) -> Self {
        let mut n = Self::new(EventKind::Argocd, actor);
        n.app = Some(app.to_owned());
        n.env = Some(env.to_owned());
        n.detail = Some(what.to_owned());
        n
    }

    /// Plain text.
    pub fn text(text: &str, actor: &str) -> Self {
        let mut n = Self::new(EventKind::Text, actor);
        n.detail = Some(text.to_owned());
        n
    }

    #[must_use]
    pub fn with_commit_url(mut self, url: impl Into<String>) -> Self {
        self.commit_url = Some(url.into());
        self
    }

    #[must_use]
    pub fn with_gates(mut self, summary: impl Into<String>) -> Self {
        self.gates = Some(summary.into());
        self
    }

    #[must_use]
    pub fn with_changes(mut self, changes: CardChanges) -> Self {
        self.changes = Some(changes);
        self
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    #[must_use]
    pub fn at(mut self, at: Timestamp) -> Self {
        self.at = at;
        self
    }

    /// One line for the Activity panel and logs.
    pub fn title(&self) -> String {
        let mut t = self.kind.verb().to_owned();
        if let Some(app) = &self.app {
            t.push_str(": ");
            t.push_str(app);
        }
        if let Some(env) = &self.env
            && self.kind != EventKind::Promote
        {
            t.push(' ');
            t.push_str(env);
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            let _ = write!(t, " {from} → {to}");
        } else if let Some(to) = &self.to {
            t.push(' ');
            t.push_str(to);
        }
        if self.kind == EventKind::Text
            && let Some(d) = &self.detail
        {
            return truncate(d, 80);
        }
        t
    }

    /// The webhook body without signature fields: `text` for plain messages, an interactive
    /// card otherwise.
    pub fn body(&self) -> Json {
        if self.kind == EventKind::Text {
            let text = self.detail.as_deref().unwrap_or_default();
            return json!({ "msg_type": "text", "content": { "text": truncate(text, MAX_TEXT) } });
        }
        json!({ "msg_type": "interactive", "card": self.card() })
    }

    /// The interactive card (Feishu card JSON 1.0).
    pub fn card(&self) -> Json {
        let mut fields = Vec::new();
        let mut field = |label: &str, value: &str| {
            fields.push(json!({
                "is_short": true,
                "text": { "tag": "lark_md", "content": format!("**{label}**\n{}", md(value)) }
            }));
        };
        if let Some(app) = &self.app {
            field("App", app);
        }
        if let Some(env) = &self.env {
            field("Environment", env);
        }
        match (&self.from, &self.to) {
            (Some(from), Some(to)) => field("Change", &format!("{from} → {to}")),
            (None, Some(to)) => field("Tag", to),
            _ => {}
        }
        field("By", &self.actor);
        let mut elements = vec![json!({ "tag": "div", "fields": fields })];
        if let Some(g) = &self.gates {
            elements.push(json!({ "tag": "div", "text": { "tag": "lark_md", "content": format!("**Gates** {}", md(g)) } }));
        }
        if let Some(c) = &self.changes {
            let mut text = format!("**Changes** {}", md(&c.headline));
            for l in &c.lines {
                let _ = write!(text, "\n· {}", md(l));
            }
            if c.more > 0 {
                let _ = write!(text, "\n… and {} more", c.more);
            }
            if let Some(url) = &c.compare_url {
                let _ = write!(text, "\n[compare on GitHub]({url})");
            }
            elements.push(json!({ "tag": "div", "text": { "tag": "lark_md", "content": truncate(&text, MAX_TEXT) } }));
        }
        if let Some(d) = &self.detail {
            elements.push(json!({ "tag": "div", "text": { "tag": "lark_md", "content": md(&truncate(d, MAX_TEXT)) } }));
        }
        if let Some(url) = &self.commit_url {
            elements.push(json!({
                "tag": "action",
                "actions": [ {
                    "tag": "button",
                    "text": { "tag": "plain_text", "content": "View commit" },
                    "url": url,
                    "type": "default",
                    "value": {}
                } ]
            }));
        }
        elements.push(json!({
            "tag": "note",
            "elements": [ { "tag": "plain_text", "content": format!("shipdeck · {}", self.at.strftime("%Y-%m-%d %H:%M:%S UTC")) } ]
        }));
        json!({
            "config": { "wide_screen_mode": true },
            "header": {
                "template": self.kind.template(),
                "title": { "tag": "plain_text", "content": self.title() }
            },
            "elements": elements
        })
    }
}

/// Feishu refuses bodies over 20 KB (9499); free text is cut well below that.
const MAX_TEXT: usize = 4000;

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// Keeps user text from being read as lark_md markup (`*`, `_`, `~`, `<at>`, links).
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' | '_' | '~' | '[' | ']' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_for_failures_and_rollbacks() {
        let n = Notification::rollback("web", "prod", "9f1c2ab", "71be0e3", "alice")
            .with_commit_url("https://github.com/o/r/commit/71be0e3")
            .with_gates("7/7 passed");
        let card = n.card();
        assert_eq!(card["header"]["template"], "red");
        assert_eq!(
            card["header"]["title"]["content"],
            "Rolled back: web prod 9f1c2ab → 71be0e3"
        );
        let text = card.to_string();
        assert!(text.contains("alice") && text.contains("7/7 passed"));
        assert!(text.contains("https://github.com/o/r/commit/71be0e3"));
        assert_eq!(
            Notification::release_started("a", "stg", "x", "y", "b").card()["header"]["template"],
            "blue"
        );
        assert_eq!(
            Notification::release_failed("a", "stg", "x", "y", "b").card()["header"]["template"],
            "red"
        );
        assert_eq!(
            Notification::text("hi", "b").body(),
            json!({"msg_type":"text","content":{"text":"hi"}})
        );
    }

    #[test]
    fn markup_in_user_text_is_escaped() {
        let n = Notification::text("x", "<at id=all></at>*bold*");
        assert_eq!(md(&n.actor), "&lt;at id=all&gt;&lt;/at&gt;\\*bold\\*");
    }
}
