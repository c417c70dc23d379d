//! Configuration from the environment (see docs/contract.md). Everything has a default that runs the
//! market on one machine with the embedded database.

pub use secrecy::{ExposeSecret, SecretString};
use std::{path::PathBuf, time::Duration};

#[derive(Debug, Clone)]
pub struct Config {
    /// `FXS_ADDR`: where to listen. Port 0 picks a free port (tests).
    pub addr: String,
    /// `FXS_DATA_DIR`: the SQLite file and generated secrets live here.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: a `postgres://` URL selects PostgreSQL instead of SQLite.
    pub database_url: Option<String>,
    /// `FXS_DEMO=1`: seed the demo market, return SMS codes, simulate WeChat.
    pub demo: bool,
    /// `FXS_DEMO_SCALE=seed` (with `FXS_DEMO=1`): the demo market at its real size
    /// (`demo::scale`) instead of the small one.
    pub demo_full_size: bool,
    /// `FXS_DEMO_PHOTOS=0` leaves the demo's goods without the photos drawn for them (they are
    /// drawn on its first start otherwise; tests leave them out unless they ask).
    pub demo_photos: bool,
    /// `FXS_DEMO_SCALE_DAYS`: days of history the full-size market is seeded with (30; fewer
    /// for a quick trial or a test).
    pub demo_days: i64,
    /// `FXS_DEMO_SCALE_PRODUCTS` and `FXS_DEMO_SCALE_ORDERS`: the full-size market's products
    /// (2,000) and orders over its days (150,000); other sizes are for the benchmarks.
    pub demo_products: i64,
    pub demo_orders: i64,
    /// `FXS_STATIC_DIR`: the built storefront.
    pub static_dir: PathBuf,
    /// `FXS_PHOTO_DIR`: product photos (`photos` in the data folder when unset). Server
    /// processes of one market share it (a folder on their machine, or a shared one).
    pub photo_dir: PathBuf,
    /// `FXS_DOOR_PHOTO_DIR`: photos of orders left at the door (`door-photos` in the data folder
    /// when unset). Never served as files: only through the API, to the household, the
    /// volunteer and staff. Shared by the server processes of one market, as `FXS_PHOTO_DIR`.
    pub door_photo_dir: PathBuf,
    /// `FXS_JWT_SECRET`: HS256 key; generated into the data folder when unset.
    pub jwt_secret: Option<SecretString>,
    /// `FXS_TOKEN_TTL_HOURS`: how long a login lasts.
    pub token_ttl: Duration,
    /// `FXS_HSTS_MAX_AGE`: seconds of `Strict-Transport-Security`, set when the market is served
    /// over TLS (behind the proxy that ends it); unset, no HSTS.
    pub hsts_max_age: Option<u64>,
    /// `FXS_KEEP_IDEMPOTENCY_DAYS`: how long a checkout's Idempotency-Key and first answer are
    /// kept (a retry within it gets the first answer).
    pub keep_idempotency_keys: Duration,
    /// `FXS_KEEP_CONTACT_DAYS`: how long who handed which order over (a contact trace) is kept;
    /// after it the order stays, the volunteer's name on it does not.
    pub keep_contact_traces: Duration,
    /// Abuse limits (`FXS_LIMIT_*`, per minute) and the proxies trusted to name the client.
    pub limits: crate::limits::LimitsConfig,
    /// `FXS_PAYMENT_TIMEOUT_MINUTES`: an order awaiting WeChat payment expires after this.
    pub payment_timeout: Duration,
    /// How often unpaid orders are checked for expiry.
    pub expiry_interval: Duration,
    /// `FXS_LATE_BATCH_MINUTES`: a packed batch nobody has claimed for longer than this is late
    /// (perishables, and in summer the sun): red on the dispatch board, counted in `/metrics`.
    pub late_batch_minutes: i64,
    /// `FXS_PUBLIC_URL`: the address residents reach the market at (`https://…`, no trailing
    /// slash), for what is printed (the gate's poster); None: the address the request came to.
    pub public_url: Option<String>,
    pub sms: SmsConfig,
    pub wechat: WechatConfig,
    pub pay: PayConfig,
}

/// WeChat Pay v3. In demo mode everything defaults to the built-in simulator and the demo keys
/// (`backend/src/wechat/demo_keys`); outside it, payment is on only when `FXS_WECHATPAY_MCHID`
/// is set, and then every other setting is required.
#[derive(Debug, Clone)]
pub struct PayConfig {
    /// `FXS_WECHATPAY_API`: e.g. `https://api.mch.weixin.qq.com`; demo: the simulator.
    pub api_base: Option<String>,
    /// `FXS_WECHATPAY_MCHID`
    pub mchid: String,
    /// `FXS_WECHATPAY_SERIAL`: the merchant certificate's serial number.
    pub merchant_serial: String,
    /// `FXS_WECHATPAY_KEY_FILE`: the merchant's RSA private key (PKCS#8 PEM).
    pub merchant_key: SecretString,
    /// `FXS_WECHATPAY_PLATFORM_SERIAL`: the platform certificate's serial number.
    pub platform_serial: String,
    /// `FXS_WECHATPAY_PLATFORM_KEY_FILE`: the platform's RSA public key (PEM).
    pub platform_key: String,
    /// `FXS_WECHATPAY_APIV3_KEY`: 32 characters.
    pub api_v3_key: SecretString,
    /// `FXS_WECHATPAY_NOTIFY_URL`: where WeChat Pay posts notifications (https, no query);
    /// demo: this server's own `/api/v1/pay/notify`.
    pub notify_url: Option<String>,
}

const DEMO_MERCHANT_KEY: &str = include_str!("wechat/demo_keys/merchant_key.pem");
/// The demo's WeChat app, known to everyone who reads this code: never a real market's.
const DEMO_APPID: &str = "wx-fuxiansheng-demo";
/// The demo's Tencent Cloud SMS keys: good only with the simulator, which checks every
/// request's signature with them.
pub const DEMO_SMS_SECRET_ID: &str = "AKIDfuxianshengdemo";
pub const DEMO_SMS_SECRET_KEY: &str = "fuxiansheng-demo-sms-key";
const DEMO_SECRET: &str = "demo-secret";
const DEMO_PLATFORM_KEY: &str = include_str!("wechat/demo_keys/platform_pub.pem");

impl PayConfig {
    fn demo() -> Self {
        PayConfig {
            api_base: None,
            mchid: "1900000001".into(),
            merchant_serial: "FXS-DEMO-MERCHANT".into(),
            merchant_key: DEMO_MERCHANT_KEY.into(),
            platform_serial: "FXS-DEMO-PLATFORM".into(),
            platform_key: DEMO_PLATFORM_KEY.into(),
            api_v3_key: "fxs-demo-apiv3-key-0123456789abc".into(),
            notify_url: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `FXS_SMS_WEBHOOK`: codes are POSTed here as `{"phone", "code", "text"}` outside demo mode.
    pub webhook: Option<String>,
    /// `FXS_SMS_TENCENT_SECRET_ID`, `_SECRET_KEY`, `_APP_ID`, `_SIGN`, `_TEMPLATE` (all five),
    /// `_REGION` (ap-guangzhou), `_ENDPOINT`: codes go out through Tencent Cloud SMS.
    pub tencent: Option<crate::auth::sms::TencentSms>,
    pub code_ttl: Duration,
    /// At most one code per phone within this interval.
    pub resend_interval: Duration,
    /// `FXS_SMS_PHONE_PER_HOUR`
    pub per_phone_per_hour: i64,
    /// `FXS_SMS_IP_PER_HOUR`
    pub per_ip_per_hour: i64,
    /// Wrong guesses before a code is dead.
    pub max_attempts: i64,
    /// `FXS_SMS_CODE_KEY`: the key of the codes' HMACs; unset, one is kept in the data folder.
    pub code_key: Option<SecretString>,
}

impl SmsConfig {
    /// The login-code rules these settings make (`domain::accounts`).
    pub fn rules(&self) -> crate::domain::accounts::CodeRules {
        crate::domain::accounts::CodeRules {
            code_ttl: self.code_ttl,
            resend_interval: self.resend_interval,
            per_phone_per_hour: self.per_phone_per_hour,
            per_client_per_hour: self.per_ip_per_hour,
            max_attempts: self.max_attempts,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// `FXS_WECHAT_API`: base URL of the WeChat API. Unset in demo mode: the built-in simulator.
    pub api_base: Option<String>,
    /// `FXS_WECHAT_APPID`
    pub appid: String,
    /// `FXS_WECHAT_SECRET`
    pub secret: SecretString,
    /// `FXS_WECHAT_TEMPLATE`: the subscribe-message template for order updates.
    pub notice_template: String,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let num = |k: &str, default: i64| -> Result<i64, String> {
            match var(k) {
                Some(v) => v.trim().parse().map_err(|_| format!("{k} must be a whole number, got {v:?}")),
                None => Ok(default),
            }
        };
        let demo = matches!(var("FXS_DEMO").as_deref(), Some("1" | "true" | "yes"));
        let mut config =
            Config::default_for(var("FXS_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("./data")));
        config.demo = demo;
        config.demo_photos = !matches!(var("FXS_DEMO_PHOTOS").as_deref(), Some("0" | "false" | "no"));
        config.demo_full_size = match var("FXS_DEMO_SCALE").as_deref().map(str::trim) {
            None | Some("small") => false,
            Some("seed") => true,
            Some(other) => return Err(format!("FXS_DEMO_SCALE must be small or seed, got {other:?}")),
        };
        config.demo_days = num("FXS_DEMO_SCALE_DAYS", crate::demo::scale::DAYS)?;
        if !(1..=90).contains(&config.demo_days) {
            return Err(format!("FXS_DEMO_SCALE_DAYS must be 1 to 90, got {}", config.demo_days));
        }
        config.demo_products = num("FXS_DEMO_SCALE_PRODUCTS", config.demo_products)?;
        if !(1..=crate::demo::scale::MAX_PRODUCTS as i64).contains(&config.demo_products) {
            return Err(format!(
                "FXS_DEMO_SCALE_PRODUCTS must be 1 to {}, got {}",
                crate::demo::scale::MAX_PRODUCTS,
                config.demo_products
            ));
        }
        config.demo_orders = num("FXS_DEMO_SCALE_ORDERS", config.demo_orders)?;
        if !(0..=2_000_000).contains(&config.demo_orders) {
            return Err(format!("FXS_DEMO_SCALE_ORDERS must be 0 to 2,000,000, got {}", config.demo_orders));
        }
        if let Some(addr) = var("FXS_ADDR") {
            config.addr = addr;
        }
        config.database_url = var("DATABASE_URL");
        if let Some(dir) = var("FXS_PHOTO_DIR") {
            config.photo_dir = PathBuf::from(dir);
        }
        if let Some(dir) = var("FXS_DOOR_PHOTO_DIR") {
            config.door_photo_dir = PathBuf::from(dir);
        }
        if let Some(dir) = var("FXS_STATIC_DIR") {
            config.static_dir = PathBuf::from(dir);
        }
        config.jwt_secret = var("FXS_JWT_SECRET").map(SecretString::from);
        config.token_ttl = Duration::from_secs(3600 * num("FXS_TOKEN_TTL_HOURS", 24 * 7)?.max(1) as u64);
        config.payment_timeout = Duration::from_secs(60 * num("FXS_PAYMENT_TIMEOUT_MINUTES", 15)?.max(1) as u64);
        if var("FXS_HSTS_MAX_AGE").is_some() {
            config.hsts_max_age = Some(num("FXS_HSTS_MAX_AGE", 0)?.max(0) as u64);
        }
        config.keep_idempotency_keys =
            Duration::from_secs(24 * 3600 * num("FXS_KEEP_IDEMPOTENCY_DAYS", 7)?.max(1) as u64);
        config.keep_contact_traces = Duration::from_secs(24 * 3600 * num("FXS_KEEP_CONTACT_DAYS", 28)?.max(1) as u64);
        config.late_batch_minutes = num("FXS_LATE_BATCH_MINUTES", 30)?;
        if !(1..=24 * 60).contains(&config.late_batch_minutes) {
            return Err(format!("FXS_LATE_BATCH_MINUTES must be 1 to 1440, got {}", config.late_batch_minutes));
        }
        if let Some(url) = var("FXS_PUBLIC_URL") {
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
                return Err(format!(
                    "FXS_PUBLIC_URL must be an address such as https://market.example.cn, got {url:?}"
                ));
            }
            config.public_url = Some(url);
        }
        let limit = |k: &str, default: u32| -> Result<u32, String> {
            let n = num(k, default as i64)?;
            u32::try_from(n).map_err(|_| format!("{k} must be 0 (off) or a number of requests a minute, got {n}"))
        };
        let l = &mut config.limits;
        l.sms_per_client = limit("FXS_LIMIT_SMS_CLIENT", l.sms_per_client)?;
        l.login_per_phone = limit("FXS_LIMIT_LOGIN_PHONE", l.login_per_phone)?;
        l.login_per_client = limit("FXS_LIMIT_LOGIN_CLIENT", l.login_per_client)?;
        l.checkout_per_user = limit("FXS_LIMIT_CHECKOUT", l.checkout_per_user)?;
        l.join_per_user = limit("FXS_LIMIT_JOIN", l.join_per_user)?;
        l.claim_per_user = limit("FXS_LIMIT_CLAIM", l.claim_per_user)?;
        l.handoff_per_user = limit("FXS_LIMIT_HANDOFF", l.handoff_per_user)?;
        if let Some(list) = var("FXS_TRUSTED_PROXIES") {
            l.trusted_proxies = list
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| a.parse().map_err(|_| format!("FXS_TRUSTED_PROXIES: {a:?} is not an IP address")))
                .collect::<Result<_, _>>()?;
        }
        config.sms.webhook = var("FXS_SMS_WEBHOOK");
        let tencent = ["ID", "KEY"].map(|k| var(&format!("FXS_SMS_TENCENT_SECRET_{k}")));
        let app = ["APP_ID", "SIGN", "TEMPLATE"].map(|k| var(&format!("FXS_SMS_TENCENT_{k}")));
        match (tencent, app) {
            ([Some(secret_id), Some(key)], [Some(app_id), Some(sign_name), Some(template_id)]) => {
                config.sms.tencent = Some(crate::auth::sms::TencentSms {
                    secret_id,
                    secret_key: SecretString::from(key),
                    app_id,
                    sign_name,
                    template_id,
                    notice_template_id: var("FXS_SMS_TENCENT_NOTICE_TEMPLATE"),
                    region: var("FXS_SMS_TENCENT_REGION").unwrap_or_else(|| "ap-guangzhou".into()),
                    endpoint: var("FXS_SMS_TENCENT_ENDPOINT")
                        .unwrap_or_else(|| "https://sms.tencentcloudapi.com".into()),
                })
            }
            ([None, None], [None, None, None]) => {}
            _ => {
                return Err("Tencent Cloud SMS needs all of FXS_SMS_TENCENT_SECRET_ID, FXS_SMS_TENCENT_SECRET_KEY, \
                            FXS_SMS_TENCENT_APP_ID, FXS_SMS_TENCENT_SIGN and FXS_SMS_TENCENT_TEMPLATE"
                    .into())
            }
        }
        config.sms.code_key = var("FXS_SMS_CODE_KEY").map(SecretString::from);
        config.sms.per_phone_per_hour = num("FXS_SMS_PHONE_PER_HOUR", config.sms.per_phone_per_hour)?;
        config.sms.per_ip_per_hour = num("FXS_SMS_IP_PER_HOUR", config.sms.per_ip_per_hour)?;
        config.wechat.api_base = var("FXS_WECHAT_API");
        if let Some(v) = var("FXS_WECHAT_APPID") {
            config.wechat.appid = v;
        }
        if let Some(v) = var("FXS_WECHAT_SECRET") {
            config.wechat.secret = v.into();
        }
        if let Some(v) = var("FXS_WECHAT_TEMPLATE") {
            config.wechat.notice_template = v;
        }
        if let Some(mchid) = var("FXS_WECHATPAY_MCHID") {
            let need = |k: &str| var(k).ok_or_else(|| format!("{k} must be set with FXS_WECHATPAY_MCHID"));
            let file = |k: &str| -> Result<String, String> {
                let path = need(k)?;
                std::fs::read_to_string(&path).map_err(|e| format!("{k}: cannot read {path}: {e}"))
            };
            config.pay.mchid = mchid;
            config.pay.api_base = Some(need("FXS_WECHATPAY_API")?);
            config.pay.merchant_serial = need("FXS_WECHATPAY_SERIAL")?;
            config.pay.merchant_key = file("FXS_WECHATPAY_KEY_FILE")?.into();
            config.pay.platform_serial = need("FXS_WECHATPAY_PLATFORM_SERIAL")?;
            config.pay.platform_key = file("FXS_WECHATPAY_PLATFORM_KEY_FILE")?;
            config.pay.api_v3_key = need("FXS_WECHATPAY_APIV3_KEY")?.into();
            let notify = need("FXS_WECHATPAY_NOTIFY_URL")?;
            if !notify.starts_with("https://") || notify.contains('?') {
                return Err(format!("FXS_WECHATPAY_NOTIFY_URL must be https without a query, got {notify:?}"));
            }
            config.pay.notify_url = Some(notify);
            if config.pay.api_v3_key.expose_secret().len() != 32 {
                return Err("FXS_WECHATPAY_APIV3_KEY must be 32 characters".into());
            }
            if config.pay.merchant_key.expose_secret() == DEMO_MERCHANT_KEY {
                return Err("FXS_WECHATPAY_KEY_FILE is the public demo key: use the merchant's own".into());
            }
        }
        if let Some(url) = &config.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(format!("DATABASE_URL must be a postgres:// URL, got {url:?}"));
            }
        }
        config.safety_catch()?;
        Ok(config)
    }

    /// Demo mode shows every login code on screen and pays through a simulator: with a real
    /// SMS gateway, WeChat app or merchant configured it would hand anyone any account, so it
    /// refuses to start; and a real market never runs on the demo's public WeChat credentials.
    pub fn safety_catch(&self) -> Result<(), String> {
        if self.demo {
            let real = [
                (self.sms.webhook.is_some(), "FXS_SMS_WEBHOOK"),
                (self.sms.tencent.is_some(), "FXS_SMS_TENCENT_SECRET_ID"),
                (self.wechat.api_base.is_some(), "FXS_WECHAT_API"),
                (self.wechat.appid != DEMO_APPID, "FXS_WECHAT_APPID"),
                (self.wechat.secret.expose_secret() != DEMO_SECRET, "FXS_WECHAT_SECRET"),
                (self.pay.api_base.is_some(), "FXS_WECHATPAY_MCHID"),
            ];
            if let Some((_, name)) = real.iter().find(|(set, _)| *set) {
                return Err(format!(
                    "FXS_DEMO=1 with {name} set: demo mode shows login codes on screen and must never run with a \
                     real SMS gateway, WeChat app or merchant. Unset FXS_DEMO, or the real credentials."
                ));
            }
        } else if self.wechat.api_base.is_some()
            && (self.wechat.appid == DEMO_APPID || self.wechat.secret.expose_secret() == DEMO_SECRET)
        {
            return Err("FXS_WECHAT_API is set but FXS_WECHAT_APPID or FXS_WECHAT_SECRET is the demo's: \
                        set the mini-program's own"
                .into());
        }
        Ok(())
    }

    /// Defaults: embedded database in `data_dir`, listen on 127.0.0.1:8080.
    pub fn default_for(data_dir: PathBuf) -> Self {
        let photo_dir = data_dir.join("photos");
        let door_photo_dir = data_dir.join("door-photos");
        Config {
            addr: "127.0.0.1:8080".into(),
            data_dir,
            database_url: None,
            demo: false,
            demo_full_size: false,
            demo_photos: false,
            demo_days: crate::demo::scale::DAYS,
            demo_products: crate::demo::scale::PRODUCTS as i64,
            demo_orders: crate::demo::scale::ORDERS,
            static_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/dist")),
            photo_dir,
            door_photo_dir,
            jwt_secret: None,
            token_ttl: Duration::from_secs(7 * 24 * 3600),
            hsts_max_age: None,
            keep_idempotency_keys: Duration::from_secs(7 * 24 * 3600),
            keep_contact_traces: Duration::from_secs(28 * 24 * 3600),
            limits: crate::limits::LimitsConfig::default(),
            payment_timeout: Duration::from_secs(15 * 60),
            expiry_interval: Duration::from_secs(15),
            late_batch_minutes: 30,
            public_url: None,
            sms: SmsConfig {
                webhook: None,
                tencent: None,
                code_ttl: Duration::from_secs(300),
                resend_interval: Duration::from_secs(60),
                per_phone_per_hour: 5,
                per_ip_per_hour: 30,
                max_attempts: 5,
                code_key: None,
            },
            wechat: WechatConfig {
                api_base: None,
                appid: DEMO_APPID.into(),
                secret: DEMO_SECRET.into(),
                notice_template: "fxs-order-update".into(),
            },
            pay: PayConfig::demo(),
        }
    }

    /// In demo mode without a real WeChat API configured, the built-in simulator stands in.
    pub fn wechat_simulated(&self) -> bool {
        self.demo && (self.wechat.api_base.is_none() || self.pay.api_base.is_none())
    }

    /// Whether residents can pay with WeChat Pay: in demo mode (the simulator, unless a real
    /// one is set), or when a merchant is configured.
    pub fn pay_on(&self) -> bool {
        self.demo || self.pay.api_base.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_mode_refuses_real_credentials_and_a_real_market_the_demo_s() {
        let demo = Config { demo: true, ..Config::default_for(PathBuf::from("/tmp/x")) };
        assert_eq!(demo.safety_catch(), Ok(()));
        let mut with_sms = demo.clone();
        with_sms.sms.webhook = Some("https://sms.example/send".into());
        assert!(with_sms.safety_catch().is_err_and(|e| e.contains("FXS_SMS_WEBHOOK")));
        let mut with_wechat = demo.clone();
        with_wechat.wechat.secret = "the-real-app-secret".into();
        assert!(with_wechat.safety_catch().is_err_and(|e| e.contains("FXS_WECHAT_SECRET")));
        let mut with_pay = demo.clone();
        with_pay.pay.api_base = Some("https://api.mch.weixin.qq.com".into());
        assert!(with_pay.safety_catch().is_err_and(|e| e.contains("FXS_WECHATPAY_MCHID")));
        let mut real = Config { demo: false, ..demo.clone() };
        real.wechat.api_base = Some("https://api.weixin.qq.com".into());
        assert!(real.safety_catch().is_err(), "a real WeChat API with the demo's secret");
        real.wechat.appid = "wx0123456789abcdef".into();
        real.wechat.secret = "the-real-app-secret".into();
        assert_eq!(real.safety_catch(), Ok(()));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut config = Config::default_for(PathBuf::from("/tmp/x"));
        config.jwt_secret = Some("jwt-secret-that-must-not-leak-0123456789".into());
        config.wechat.secret = "wechat-secret-that-must-not-leak".into();
        let shown = format!("{config:?}");
        assert!(!shown.contains("must-not-leak"), "{shown}");
        assert!(shown.contains("wx-fuxiansheng-demo"), "the rest is still there: {shown}");
        let keys = crate::auth::JwtKeys::new(b"jwt-secret-that-must-not-leak-0123456789", Duration::from_secs(60));
        assert_eq!(keys.secret(), b"jwt-secret-that-must-not-leak-0123456789");
    }
}
