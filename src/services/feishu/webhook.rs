//! One signed POST to a custom bot webhook, with Feishu's body codes turned into errors.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value as Json;

use super::{FeishuError, Result, http_client, sign};

/// A message Feishu accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub chat: String,
    /// Feishu's `msg`.
    pub msg: String,
}

/// Posts to custom bot webhooks. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
}

impl WebhookClient {
    pub fn new() -> Result<Self> {
        Ok(WebhookClient {
            http: http_client()?,
        })
    }

    /// Signs (when the bot has a secret) and posts `body` (`msg_type` + `content`/`card`).
    /// `now` is the signing time in Unix seconds (Feishu accepts ±1 hour).
    pub async fn send(
        &self,
        chat: &str,
        url: &SecretString,
        secret: Option<&SecretString>,
        body: &Json,
        now: i64,
    ) -> Result<Delivered> {
        let mut body = body.clone();
        if let (Some(secret), Some(obj)) = (secret, body.as_object_mut()) {
            obj.insert("timestamp".to_owned(), Json::String(now.to_string()));
            obj.insert(
                "sign".to_owned(),
                Json::String(sign(now, secret.expose_secret())),
            );
        }
        // The URL holds the bot's token: errors name the chat, never the URL.
        let shown = format!("the webhook of chat `{chat}`");
        let resp = self
            .http
            .post(url.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| FeishuError::Transport {
                url: shown.clone(),
                source: e.without_url(),
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| FeishuError::Transport {
            url: shown.clone(),
            source: e.without_url(),
        })?;
        let parsed: Option<Json> = serde_json::from_str(&text).ok();
        let code = parsed
            .as_ref()
            .and_then(|j| j.get("code").or_else(|| j.get("StatusCode")))
            .and_then(Json::as_i64);
        let msg = parsed
            .as_ref()
            .and_then(|j| j.get("msg").or_else(|| j.get("StatusMessage")))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        let chat = chat.to_owned();
        match code {
            Some(0) if (200..300).contains(&status) => Ok(Delivered { chat, msg }),
            Some(19021) => Err(FeishuError::Signature { chat }),
            Some(11232) => Err(FeishuError::BotRateLimited { chat }),
            Some(9499) => Err(FeishuError::BadRequest { chat, msg }),
            Some(code) => Err(FeishuError::Api {
                code,
                url: shown,
                msg,
            }),
            None => Err(FeishuError::Http {
                status,
                url: shown,
                body: text.chars().take(200).collect(),
            }),
        }
    }
}
