//! `AppState`: everything a request handler may use, made once at start-up (`startup.rs`) and
//! shared by every worker. Its own module so that routes and start-up need not import each other.

use crate::auth::{CodeKey, JwtKeys, SmsSender};
use crate::config::Config;
use crate::store::DynStore;
use crate::wechat::WechatClient;

/// Everything a request handler may use.
pub struct AppState {
    pub store: DynStore,
    pub config: Config,
    pub jwt: JwtKeys,
    /// The login codes' HMAC key.
    pub code_key: CodeKey,
    pub wechat: WechatClient,
    pub sms: SmsSender,
    pub http: reqwest::Client,
    /// Base URL of the built-in WeChat simulator, when it runs (demo mode).
    pub simulator_url: Option<String>,
    /// WeChat Pay, when payment is on (demo: through the simulator).
    pub pay: Option<crate::wechat::pay::PayClient>,
    /// The abuse limits of this process (`limits.rs`).
    pub limits: crate::limits::Limits,
    /// The headers that protect every answer (`routes/headers.rs`).
    pub security: crate::routes::SecurityHeaders,
    /// The stalls' live feed of this process (`feed.rs`).
    pub feed: crate::feed::StallFeed,
    /// What `/metrics` reports (`metrics.rs`).
    pub metrics: crate::metrics::Metrics,
}
