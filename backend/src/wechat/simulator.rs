//! A stand-in for the WeChat platform, served over real HTTP on loopback. It keeps the rules
//! that matter to us: codes are single-use and expire after five minutes, the app id and
//! secret must match, logins are rate limited per user, and some users are refused.
//!
//! `POST /sim/wx.login {"device"}` plays the part of `wx.login()` on a phone: it mints a code
//! for the simulated WeChat user of that device. A device whose name starts with `blocked`
//! is a high-risk user (40226); one starting with `busy` sees WeChat busy (-1) once.

use actix_web::{dev::ServerHandle, web, App, HttpResponse, HttpServer};
use rand::{distributions::Alphanumeric, Rng};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const CODE_TTL: Duration = Duration::from_secs(300);
const LOGINS_PER_MINUTE: usize = 100;

struct IssuedCode {
    device: String,
    issued: Instant,
    used: bool,
}

pub struct SimState {
    appid: String,
    secret: String,
    codes: Mutex<HashMap<String, IssuedCode>>,
    /// openid -> recent login instants, for the per-user rate limit.
    logins: Mutex<HashMap<String, Vec<Instant>>>,
    busy_once: Mutex<std::collections::HashSet<String>>,
    /// access_tokens handed out.
    tokens: Mutex<std::collections::HashSet<String>>,
    /// The stable access_token now handed to every caller, and until when.
    stable: Mutex<Option<(String, Instant)>>,
    /// getPhoneNumber codes minted: code -> phone (single-use).
    phone_codes: Mutex<HashMap<String, String>>,
    /// Subscribe messages received, for tests to read (`GET /sim/messages`).
    messages: Mutex<Vec<serde_json::Value>>,
    /// WeChat Pay, when the server pays through the simulator.
    pub(super) pay: Option<super::sim_pay::SimPay>,
}

/// A running simulator.
pub struct Simulator {
    pub base_url: String,
    handle: ServerHandle,
}

impl Simulator {
    /// Starts on 127.0.0.1 on a free port.
    pub fn start(appid: &str, secret: &str, pay: Option<super::sim_pay::SimPay>) -> std::io::Result<Self> {
        let outbox = web::Data::new(super::sim_sms::Outbox::default());
        let state = web::Data::new(SimState {
            appid: appid.to_owned(),
            secret: secret.to_owned(),
            codes: Mutex::new(HashMap::new()),
            logins: Mutex::new(HashMap::new()),
            busy_once: Mutex::new(Default::default()),
            tokens: Mutex::new(Default::default()),
            stable: Mutex::new(None),
            messages: Mutex::new(Vec::new()),
            phone_codes: Mutex::new(HashMap::new()),
            pay,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(outbox.clone())
                .route("/sns/jscode2session", web::get().to(jscode2session))
                .route("/sim/wx.login", web::post().to(wx_login))
                .route("/sms", web::post().to(super::sim_sms::send_sms))
                .route("/sim/sms", web::get().to(super::sim_sms::sent))
                .route("/cgi-bin/stable_token", web::post().to(stable_token))
                .route("/cgi-bin/message/subscribe/send", web::post().to(subscribe_send))
                .route("/sim/messages", web::get().to(messages))
                .route("/sim/phone-code", web::post().to(phone_code))
                .route("/wxa/business/getuserphonenumber", web::post().to(phone_number))
                .route("/v3/pay/transactions/jsapi", web::post().to(super::sim_pay::jsapi))
                .route("/v3/pay/transactions/out-trade-no/{no}", web::get().to(super::sim_pay::query))
                .route("/v3/refund/domestic/refunds", web::post().to(super::sim_pay::refund))
                .route("/v3/refund/domestic/refunds/{no}", web::get().to(super::sim_pay::refund_query))
                .route("/sim/requestPayment", web::post().to(super::sim_pay::request_payment))
                .route("/sim/notifications", web::get().to(super::sim_pay::notifications))
                .route("/sim/pay-trouble", web::post().to(super::sim_pay::trouble))
                .route("/sim/refunds", web::get().to(super::sim_pay::refunds))
        })
        // Two: a payment's notification goes to the server while the phone's call waits.
        .workers(2)
        .disable_signals()
        .bind(("127.0.0.1", 0))?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or_default();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { base_url: format!("http://127.0.0.1:{port}"), handle })
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The openid this app sees for a device's WeChat user: stable per app and device.
pub fn openid_for(appid: &str, device: &str) -> String {
    let digest = Sha256::digest(format!("{appid}|{device}").as_bytes());
    format!("o{}", &hex::encode(digest)[..27])
}

#[derive(Deserialize)]
struct WxLogin {
    device: String,
}

async fn wx_login(state: web::Data<SimState>, body: web::Json<WxLogin>) -> HttpResponse {
    let device = body.into_inner().device;
    if device.is_empty() || device.len() > 128 {
        return HttpResponse::BadRequest().json(json!({"errcode": 40097, "errmsg": "invalid device"}));
    }
    let code: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
    if let Ok(mut codes) = state.codes.lock() {
        codes.retain(|_, c| c.issued.elapsed() < CODE_TTL * 2);
        if device.starts_with("busy") {
            if let Ok(mut b) = state.busy_once.lock() {
                b.insert(code.clone());
            }
        }
        codes.insert(code.clone(), IssuedCode { device, issued: Instant::now(), used: false });
    }
    HttpResponse::Ok().json(json!({ "code": code }))
}

#[derive(Deserialize)]
struct Code2Session {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

fn wx_error(errcode: i64, errmsg: &str) -> HttpResponse {
    // WeChat answers 200 with an errcode in the body.
    HttpResponse::Ok().json(json!({ "errcode": errcode, "errmsg": errmsg }))
}

async fn jscode2session(state: web::Data<SimState>, q: web::Query<Code2Session>) -> HttpResponse {
    let q = q.into_inner();
    if q.appid != state.appid {
        return wx_error(40013, "invalid appid");
    }
    if q.secret != state.secret {
        return wx_error(40125, "invalid appsecret");
    }
    if q.grant_type != "authorization_code" {
        return wx_error(40002, "invalid grant_type");
    }
    if let Ok(mut b) = state.busy_once.lock() {
        if b.remove(&q.js_code) {
            return wx_error(-1, "system error");
        }
    }
    let device = {
        let Ok(mut codes) = state.codes.lock() else { return wx_error(-1, "system error") };
        match codes.get_mut(&q.js_code) {
            None => return wx_error(40029, "invalid code"),
            Some(c) if c.issued.elapsed() > CODE_TTL => return wx_error(40029, "invalid code"),
            Some(c) if c.used => return wx_error(40163, "code been used"),
            Some(c) => {
                c.used = true;
                c.device.clone()
            }
        }
    };
    if device.starts_with("blocked") {
        return wx_error(40226, "invalid user");
    }
    let openid = openid_for(&state.appid, &device);
    if let Ok(mut logins) = state.logins.lock() {
        let recent = logins.entry(openid.clone()).or_default();
        recent.retain(|t| t.elapsed() < Duration::from_secs(60));
        if recent.len() >= LOGINS_PER_MINUTE {
            return wx_error(45011, "api minute-quota reach limit");
        }
        recent.push(Instant::now());
    }
    let session_key: String = rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
    HttpResponse::Ok().json(json!({ "openid": openid, "session_key": session_key }))
}

#[derive(Deserialize)]
struct StableTokenBody {
    grant_type: String,
    appid: String,
    secret: String,
    #[serde(default)]
    force_refresh: bool,
}

/// getStableAccessToken: the credentials in the JSON body (never in the URL); every caller gets
/// the same token while it lasts, so several servers of one mini-program never push each other's
/// token out (unlike `GET /cgi-bin/token`, which the simulator does not offer).
async fn stable_token(state: web::Data<SimState>, body: web::Json<StableTokenBody>) -> HttpResponse {
    if body.grant_type != "client_credential" || body.appid != state.appid || body.secret != state.secret {
        return wx_error(40125, "invalid appsecret");
    }
    let Ok(mut current) = state.stable.lock() else { return wx_error(-1, "system error") };
    let now = Instant::now();
    let token = match current.as_ref() {
        Some((token, until)) if !body.force_refresh && now < *until => token.clone(),
        _ => {
            let token: String = rand::thread_rng().sample_iter(&Alphanumeric).take(48).map(char::from).collect();
            *current = Some((token.clone(), now + Duration::from_secs(7200)));
            if let Ok(mut t) = state.tokens.lock() {
                t.insert(token.clone());
            }
            token
        }
    };
    let left = current.as_ref().map_or(7200, |(_, until)| until.saturating_duration_since(now).as_secs());
    HttpResponse::Ok().json(json!({ "access_token": token, "expires_in": left }))
}

#[derive(Deserialize)]
struct TokenParam {
    access_token: String,
}

/// subscribeMessage.send: a known token, an openid, a template, and every field within WeChat's
/// limits (`thing` 20 characters, `character_string` 32, `phrase` 5), else 47003.
async fn subscribe_send(
    state: web::Data<SimState>,
    q: web::Query<TokenParam>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    if !state.tokens.lock().map(|t| t.contains(&q.access_token)).unwrap_or(false) {
        return wx_error(40001, "invalid credential, access_token is invalid");
    }
    let b = body.into_inner();
    if b["touser"].as_str().is_none_or(|t| !t.starts_with('o')) {
        return wx_error(40003, "invalid openid");
    }
    if b["template_id"].as_str().is_none_or(str::is_empty) {
        return wx_error(40037, "invalid template_id");
    }
    let fields = b["data"].as_object().cloned().unwrap_or_default();
    for (key, value) in &fields {
        let n = value["value"].as_str().map_or(0, |v| v.chars().count());
        let limit = if key.starts_with("thing") {
            20
        } else if key.starts_with("phrase") {
            5
        } else {
            32
        };
        if n == 0 || n > limit {
            return wx_error(47003, &format!("argument invalid! data.{key}.value"));
        }
    }
    if let Ok(mut m) = state.messages.lock() {
        m.push(b);
    }
    HttpResponse::Ok().json(json!({ "errcode": 0, "errmsg": "ok" }))
}

async fn messages(state: web::Data<SimState>) -> HttpResponse {
    let all = state.messages.lock().map(|m| m.clone()).unwrap_or_default();
    HttpResponse::Ok().json(all)
}

/// The phone's "use my WeChat phone number" button: a single-use code for `phone`.
async fn phone_code(state: web::Data<SimState>, body: web::Json<serde_json::Value>) -> HttpResponse {
    let phone = body["phone"].as_str().unwrap_or("").to_owned();
    if phone.len() != 11 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return HttpResponse::BadRequest().json(json!({ "errcode": 40097, "errmsg": "invalid phone" }));
    }
    let code: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
    if let Ok(mut codes) = state.phone_codes.lock() {
        codes.insert(code.clone(), phone);
    }
    HttpResponse::Ok().json(json!({ "code": code }))
}

async fn phone_number(
    state: web::Data<SimState>,
    q: web::Query<TokenParam>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    if !state.tokens.lock().map(|t| t.contains(&q.access_token)).unwrap_or(false) {
        return wx_error(40001, "invalid credential, access_token is invalid");
    }
    let code = body["code"].as_str().unwrap_or("");
    let Some(phone) = state.phone_codes.lock().ok().and_then(|mut c| c.remove(code)) else {
        return wx_error(40029, "invalid code");
    };
    HttpResponse::Ok().json(json!({
        "errcode": 0, "errmsg": "ok",
        "phone_info": { "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                        "watermark": { "timestamp": chrono::Utc::now().timestamp(), "appid": state.appid } },
    }))
}
