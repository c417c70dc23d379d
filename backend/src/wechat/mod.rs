//! WeChat over HTTP: the client the server uses (`WechatClient`) and a simulator of the
//! platform (`simulator`), so the same code runs against WeChat and, in demo mode and tests,
//! against a local stand-in over real HTTP.

pub mod pay;
pub mod sim_pay;
pub mod sim_sms;
pub mod simulator;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

pub struct WechatClient {
    http: reqwest::Client,
    base: Option<String>,
    appid: String,
    secret: SecretString,
    /// The cached access_token and when to fetch a new one.
    token: tokio::sync::Mutex<Option<(SecretString, std::time::Instant)>>,
}

#[derive(Debug, Clone)]
pub struct WechatSession {
    pub openid: String,
    pub session_key: SecretString,
    pub unionid: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WechatError {
    #[error("WeChat login is not configured (FXS_WECHAT_API)")]
    NotConfigured,
    #[error("invalid code (40029)")]
    InvalidCode,
    #[error("code already used (40163)")]
    CodeUsed,
    #[error("too many logins (45011)")]
    RateLimited,
    #[error("user blocked as high-risk (40226)")]
    Blocked,
    #[error("WeChat is busy (-1)")]
    Busy,
    #[error("WeChat error {0}: {1}")]
    Other(i64, String),
    #[error("WeChat unreachable: {0}")]
    Unreachable(String),
}

#[derive(Deserialize)]
struct Code2SessionReply {
    openid: Option<String>,
    session_key: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WechatClient {
    pub fn new(http: reqwest::Client, base: Option<String>, appid: String, secret: SecretString) -> Self {
        Self { http, base: base.map(|b| b.trim_end_matches('/').to_owned()), appid, secret, token: Default::default() }
    }

    /// The access_token for server APIs (getStableAccessToken: the secret goes in the body, and
    /// every server process of the market gets the same token, so none pushes another's out),
    /// fetched once and reused until shortly before it expires.
    pub async fn access_token(&self) -> Result<SecretString, WechatError> {
        let base = self.base.as_deref().ok_or(WechatError::NotConfigured)?;
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if std::time::Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let reply: serde_json::Value = self
            .http
            .post(format!("{base}/cgi-bin/stable_token"))
            .json(&serde_json::json!({
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret.expose_secret(),
                "force_refresh": false,
            }))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| WechatError::Unreachable(format!("unreadable reply: {}", e.without_url())))?;
        let Some(token) = reply["access_token"].as_str() else {
            return Err(WechatError::Other(reply["errcode"].as_i64().unwrap_or(-1), reply["errmsg"].to_string()));
        };
        // Five minutes early, so a token is never used at its last second.
        let lasts = reply["expires_in"].as_u64().unwrap_or(7200).saturating_sub(300).max(60);
        let token = SecretString::from(token.to_owned());
        *cached = Some((token.clone(), std::time::Instant::now() + Duration::from_secs(lasts)));
        Ok(token)
    }

    /// POSTs `body` to a server API with the access_token; its JSON reply. A token WeChat says
    /// is dead is forgotten (the next call fetches a new one) and the call fails.
    async fn post_with_token(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, WechatError> {
        let base = self.base.as_deref().ok_or(WechatError::NotConfigured)?;
        let token = self.access_token().await?;
        let reply: serde_json::Value = self
            .http
            .post(format!("{base}{path}"))
            .query(&[("access_token", token.expose_secret())])
            .json(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| WechatError::Unreachable(format!("unreadable reply: {}", e.without_url())))?;
        if matches!(reply["errcode"].as_i64(), Some(40001 | 42001)) {
            *self.token.lock().await = None;
            return Err(WechatError::Other(40001, "access_token expired".into()));
        }
        Ok(reply)
    }

    /// The phone number behind a getPhoneNumber code (getuserphonenumber; single-use code).
    pub async fn phone_number(&self, code: &str) -> Result<String, WechatError> {
        let reply =
            self.post_with_token("/wxa/business/getuserphonenumber", &serde_json::json!({ "code": code })).await?;
        match reply["errcode"].as_i64().unwrap_or(0) {
            0 => reply["phone_info"]["purePhoneNumber"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| WechatError::Other(0, "reply without a phone".into())),
            40029 => Err(WechatError::InvalidCode),
            code => Err(WechatError::Other(code, reply["errmsg"].as_str().unwrap_or("").to_owned())),
        }
    }

    /// Sends a subscribe message (subscribeMessage.send).
    pub async fn send_subscribe(
        &self,
        openid: &str,
        template_id: &str,
        page: &str,
        data: &serde_json::Value,
    ) -> Result<(), WechatError> {
        let body = serde_json::json!({
            "touser": openid, "template_id": template_id, "page": page, "data": data,
            "miniprogram_state": "formal", "lang": "zh_CN",
        });
        let reply = self.post_with_token("/cgi-bin/message/subscribe/send", &body).await?;
        match reply["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(()),
            code => Err(WechatError::Other(code, reply["errmsg"].as_str().unwrap_or("").to_owned())),
        }
    }

    /// auth.code2Session. Retries once when WeChat says it is busy.
    #[tracing::instrument(skip_all)]
    pub async fn code2session(&self, code: &str) -> Result<WechatSession, WechatError> {
        match self.code2session_once(code).await {
            Err(WechatError::Busy) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.code2session_once(code).await
            }
            other => other,
        }
    }

    async fn code2session_once(&self, code: &str) -> Result<WechatSession, WechatError> {
        let base = self.base.as_deref().ok_or(WechatError::NotConfigured)?;
        let reply: Code2SessionReply = self
            .http
            .get(format!("{base}/sns/jscode2session"))
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose_secret()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| WechatError::Unreachable(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| WechatError::Unreachable(format!("unreadable reply: {}", e.without_url())))?;
        match reply.errcode {
            0 => match (reply.openid, reply.session_key) {
                (Some(openid), Some(session_key)) if !openid.is_empty() => {
                    Ok(WechatSession { openid, session_key: session_key.into(), unionid: reply.unionid })
                }
                _ => Err(WechatError::Other(0, "reply without openid".into())),
            },
            -1 => Err(WechatError::Busy),
            40029 => Err(WechatError::InvalidCode),
            40163 => Err(WechatError::CodeUsed),
            45011 => Err(WechatError::RateLimited),
            40226 => Err(WechatError::Blocked),
            other => Err(WechatError::Other(other, reply.errmsg)),
        }
    }
}
