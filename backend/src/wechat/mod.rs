//! WeChat over HTTP: the client the server uses (`WechatClient`) and a simulator of the
//! platform (`simulator`), so the same code runs against WeChat and, in demo mode and tests,
//! against a local stand-in over real HTTP.

pub mod pay;
pub mod sim_pay;
pub mod simulator;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;

pub struct WechatClient {
    http: reqwest::Client,
    base: Option<String>,
    appid: String,
    secret: SecretString,
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
        Self { http, base: base.map(|b| b.trim_end_matches('/').to_owned()), appid, secret }
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
            .map_err(|e| WechatError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| WechatError::Unreachable(format!("unreadable reply: {e}")))?;
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
