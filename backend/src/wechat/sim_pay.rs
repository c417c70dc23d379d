//! The simulator's WeChat Pay v3 (part of `simulator.rs`'s server): it checks every merchant
//! request's signature with the merchant's public key, makes prepays, plays the phone's
//! `wx.requestPayment` (checking `paySign`), and sends payment notifications signed with its own
//! platform key and encrypted with the APIv3 key, exactly as the server must verify them. It
//! keeps what it sent (`GET /sim/notifications`) so tests can replay and alter them.

use super::pay::{self, RequestPayment};
use actix_web::{web, HttpRequest, HttpResponse};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

const PLATFORM_KEY: &str = include_str!("demo_keys/platform_key.pem");

/// What the simulator needs to be WeChat Pay for one merchant.
pub struct SimPay {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial: String,
    pub merchant: RsaPublicKey,
    pub platform_serial: String,
    platform: RsaPrivateKey,
    pub api_v3_key: String,
    transactions: Mutex<HashMap<String, SimTransaction>>,
    /// out_refund_no -> (out_trade_no, amount): each refunded once.
    refunds: Mutex<HashMap<String, (String, i64)>>,
    /// Refund requests still to answer with a system error after doing them (an answer lost on
    /// the way: the merchant must ask again with the same out_refund_no).
    lose_refund_answers: std::sync::atomic::AtomicUsize,
    /// Refund notifications still to lose on the way (the merchant must ask).
    lose_refund_notices: std::sync::atomic::AtomicUsize,
    /// Refunds whose notification is on its way (sent at the first answer that got through).
    refunds_told: Mutex<std::collections::HashSet<String>>,
    sent: Mutex<Vec<SentNotice>>,
    http: reqwest::Client,
}

#[derive(Clone)]
struct SimTransaction {
    out_trade_no: String,
    prepay_id: String,
    total: i64,
    openid: String,
    notify_url: String,
    state: String,
    transaction_id: Option<String>,
    success_time: Option<String>,
}

/// A notification as sent, with the answer it got.
#[derive(Clone, Serialize, Deserialize)]
pub struct SentNotice {
    pub url: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub status: u16,
}

impl SimPay {
    pub fn new(config: &crate::config::PayConfig, appid: &str) -> Result<Self, pay::PayError> {
        use secrecy::ExposeSecret;
        let merchant = RsaPublicKey::from(&pay::private_key(config.merchant_key.expose_secret())?);
        Ok(Self {
            mchid: config.mchid.clone(),
            appid: appid.to_owned(),
            merchant_serial: config.merchant_serial.clone(),
            merchant,
            platform_serial: config.platform_serial.clone(),
            platform: pay::private_key(PLATFORM_KEY)?,
            api_v3_key: config.api_v3_key.expose_secret().to_owned(),
            transactions: Mutex::new(HashMap::new()),
            refunds: Mutex::new(HashMap::new()),
            lose_refund_answers: Default::default(),
            refunds_told: Default::default(),
            lose_refund_notices: Default::default(),
            sent: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        })
    }

    /// A signed answer, as WeChat Pay signs its own.
    fn answer(&self, status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
        let text = body.to_string();
        let (timestamp, nonce) = (chrono::Utc::now().timestamp().to_string(), pay::nonce());
        let signature = pay::sign(&self.platform, &pay::response_message(&timestamp, &nonce, &text));
        HttpResponse::build(status)
            .content_type("application/json")
            .insert_header(("Wechatpay-Serial", self.platform_serial.clone()))
            .insert_header(("Wechatpay-Signature", signature))
            .insert_header(("Wechatpay-Timestamp", timestamp))
            .insert_header(("Wechatpay-Nonce", nonce))
            .body(text)
    }

    fn error(&self, status: u16, code: &str, message: &str) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
        self.answer(status, &json!({ "code": code, "message": message }))
    }

    /// Whether a merchant request carries a valid signature (mchid, serial, fresh timestamp).
    fn signed_by_merchant(&self, req: &HttpRequest, body: &str) -> bool {
        let Some(fields) =
            req.headers().get("Authorization").and_then(|h| h.to_str().ok()).and_then(pay::authorization_fields)
        else {
            return false;
        };
        let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
        let Ok(timestamp) = field("timestamp").parse::<i64>() else { return false };
        if field("mchid") != self.mchid
            || field("serial_no") != self.merchant_serial
            || (chrono::Utc::now().timestamp() - timestamp).abs() > pay::MAX_SKEW_SECONDS
        {
            return false;
        }
        let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
        let message = pay::request_message(req.method().as_str(), path, timestamp, field("nonce_str"), body);
        pay::verify(&self.merchant, &message, field("signature"))
    }

    fn transaction_json(&self, t: &SimTransaction) -> Value {
        json!({
            "appid": self.appid, "mchid": self.mchid, "out_trade_no": t.out_trade_no,
            "transaction_id": t.transaction_id.clone().unwrap_or_default(),
            "trade_type": "JSAPI", "trade_state": t.state, "trade_state_desc": t.state,
            "success_time": t.success_time, "payer": { "openid": t.openid },
            "amount": { "total": t.total, "payer_total": t.total, "currency": "CNY", "payer_currency": "CNY" },
        })
    }

    /// The notification WeChat Pay sends for a transaction: encrypted, then signed.
    pub fn notification(&self, transaction: &Value) -> Result<(HashMap<String, String>, String), pay::PayError> {
        self.event("TRANSACTION.SUCCESS", "transaction", transaction)
    }

    /// A notification of `event_type` about `resource` (`kind`: `transaction` or `refund`):
    /// encrypted, then signed.
    pub fn event(
        &self,
        event_type: &str,
        kind: &str,
        resource: &Value,
    ) -> Result<(HashMap<String, String>, String), pay::PayError> {
        let nonce: String = pay::nonce().chars().take(12).collect();
        let ciphertext = pay::encrypt(self.api_v3_key.as_bytes(), &nonce, kind, resource.to_string().as_bytes())?;
        let body = json!({
            "id": format!("EV-{}", pay::nonce()), "create_time": crate::domain::time::to_api(chrono::Utc::now()),
            "event_type": event_type, "resource_type": "encrypt-resource", "summary": event_type,
            "resource": { "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext, "associated_data": kind,
                          "original_type": kind, "nonce": nonce },
        })
        .to_string();
        let (timestamp, sign_nonce) = (chrono::Utc::now().timestamp().to_string(), pay::nonce());
        let signature = pay::sign(&self.platform, &pay::response_message(&timestamp, &sign_nonce, &body));
        let headers = HashMap::from([
            ("Wechatpay-Serial".to_owned(), self.platform_serial.clone()),
            ("Wechatpay-Signature".to_owned(), signature),
            ("Wechatpay-Timestamp".to_owned(), timestamp),
            ("Wechatpay-Nonce".to_owned(), sign_nonce),
        ]);
        Ok((headers, body))
    }

    async fn notify(&self, t: &SimTransaction) {
        let Ok((headers, body)) = self.notification(&self.transaction_json(t)) else { return };
        self.deliver(&t.notify_url, headers, body).await;
    }

    async fn deliver(&self, url: &str, headers: HashMap<String, String>, body: String) {
        let mut status = 0;
        // WeChat retries for a day; the simulator a few times, quickly.
        for attempt in 0..3u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(500 * attempt)).await;
            }
            let mut req = self.http.post(url).header("Content-Type", "application/json").body(body.clone());
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            if (200..300).contains(&status) {
                break;
            }
        }
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(SentNotice { url: url.to_owned(), headers, body, status });
        }
    }
}

fn pay_of(state: &super::simulator::SimState) -> Option<&SimPay> {
    state.pay.as_ref()
}

/// One off a "lose the next n" counter: true if this one is lost.
fn take_one(counter: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering::SeqCst;
    counter.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// The simulator's WeChat Pay for a merchant request signed as it must be; else the answer.
#[allow(clippy::result_large_err)] // the refusal is answered at once, never passed on
fn signed<'a>(
    state: &'a super::simulator::SimState,
    req: &HttpRequest,
    body: &str,
) -> Result<&'a SimPay, HttpResponse> {
    let p = pay_of(state).ok_or_else(|| HttpResponse::NotFound().finish())?;
    if !p.signed_by_merchant(req, body) {
        return Err(p.error(401, "SIGN_ERROR", "签名错误"));
    }
    Ok(p)
}

pub async fn jsapi(state: web::Data<super::simulator::SimState>, req: HttpRequest, body: String) -> HttpResponse {
    let p = match signed(&state, &req, &body) {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let Ok(b) = serde_json::from_str::<Value>(&body) else { return p.error(400, "PARAM_ERROR", "body") };
    let text = |k: &str| b[k].as_str().unwrap_or("").to_owned();
    let (out_trade_no, total, openid) =
        (text("out_trade_no"), b["amount"]["total"].as_i64().unwrap_or(0), b["payer"]["openid"].as_str().unwrap_or(""));
    if text("appid") != p.appid || text("mchid") != p.mchid {
        return p.error(400, "PARAM_ERROR", "appid和mch_id不匹配");
    }
    if !(6..=32).contains(&out_trade_no.len())
        || total <= 0
        || openid.is_empty()
        || text("description").chars().count() > 127
    {
        return p.error(400, "PARAM_ERROR", "参数错误");
    }
    let Ok(mut all) = p.transactions.lock() else { return p.error(500, "SYSTEM_ERROR", "busy") };
    if let Some(t) = all.get(&out_trade_no) {
        if t.total != total {
            return p.error(400, "INVALID_REQUEST", "订单号重复");
        }
        return p.answer(actix_web::http::StatusCode::OK, &json!({ "prepay_id": t.prepay_id }));
    }
    let prepay_id = format!("wx{}", pay::nonce());
    all.insert(
        out_trade_no.clone(),
        SimTransaction {
            out_trade_no,
            prepay_id: prepay_id.clone(),
            total,
            openid: openid.to_owned(),
            notify_url: text("notify_url"),
            state: "NOTPAY".into(),
            transaction_id: None,
            success_time: None,
        },
    );
    p.answer(actix_web::http::StatusCode::OK, &json!({ "prepay_id": prepay_id }))
}

pub async fn query(
    state: web::Data<super::simulator::SimState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let p = match signed(&state, &req, "") {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let found = p.transactions.lock().ok().and_then(|all| all.get(path.as_str()).cloned());
    match found {
        Some(t) => p.answer(actix_web::http::StatusCode::OK, &p.transaction_json(&t)),
        None => p.error(404, "ORDER_NOT_EXIST", "订单不存在"),
    }
}

/// `wx.requestPayment` on the phone: `paySign` checked, the payment made, the notification sent
/// (before answering, unless `notify` is false: a notification lost on the way).
#[derive(Deserialize)]
pub struct PhonePays {
    #[serde(flatten)]
    pub request: RequestPayment,
    #[serde(default = "yes")]
    pub notify: bool,
}

fn yes() -> bool {
    true
}

pub async fn request_payment(state: web::Data<super::simulator::SimState>, body: web::Json<PhonePays>) -> HttpResponse {
    let Some(p) = pay_of(&state) else { return HttpResponse::NotFound().finish() };
    let PhonePays { request: r, notify } = body.into_inner();
    let message = format!("{}\n{}\n{}\n{}\n", r.app_id, r.time_stamp, r.nonce_str, r.package);
    if r.app_id != p.appid || r.sign_type != "RSA" || !pay::verify(&p.merchant, &message, &r.pay_sign) {
        return HttpResponse::BadRequest().json(json!({ "errMsg": "requestPayment:fail sign error" }));
    }
    let prepay = r.package.strip_prefix("prepay_id=").unwrap_or("");
    let paid = {
        let Ok(mut all) = p.transactions.lock() else { return HttpResponse::InternalServerError().finish() };
        let Some(t) = all.values_mut().find(|t| t.prepay_id == prepay) else {
            return HttpResponse::BadRequest().json(json!({ "errMsg": "requestPayment:fail prepay_id" }));
        };
        if t.state != "SUCCESS" {
            t.state = "SUCCESS".into();
            t.transaction_id = Some(format!("4200{}", &pay::nonce()[..24].to_ascii_uppercase()));
            t.success_time = Some(crate::domain::time::to_api(chrono::Utc::now()));
        }
        t.clone()
    };
    if notify {
        p.notify(&paid).await;
    }
    HttpResponse::Ok().json(json!({ "errMsg": "requestPayment:ok" }))
}

pub async fn notifications(state: web::Data<super::simulator::SimState>) -> HttpResponse {
    let Some(p) = pay_of(&state) else { return HttpResponse::NotFound().finish() };
    let sent = p.sent.lock().map(|s| s.clone()).unwrap_or_default();
    HttpResponse::Ok().json(sent)
}

/// `POST /v3/refund/domestic/refunds`: a paid transaction refunded, never beyond what was paid,
/// each `out_refund_no` once (a retry answers the same); `REFUND.SUCCESS` is notified after.
pub async fn refund(state: web::Data<super::simulator::SimState>, req: HttpRequest, body: String) -> HttpResponse {
    let p = match signed(&state, &req, &body) {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let Ok(b) = serde_json::from_str::<Value>(&body) else { return p.error(400, "PARAM_ERROR", "body") };
    let (out_trade_no, out_refund_no) =
        (b["out_trade_no"].as_str().unwrap_or("").to_owned(), b["out_refund_no"].as_str().unwrap_or("").to_owned());
    let (amount, total) = (b["amount"]["refund"].as_i64().unwrap_or(0), b["amount"]["total"].as_i64().unwrap_or(0));
    let notify_url = b["notify_url"].as_str().unwrap_or("").to_owned();
    if out_refund_no.is_empty() || out_refund_no.len() > 64 || amount <= 0 {
        return p.error(400, "PARAM_ERROR", "参数错误");
    }
    let paid = p.transactions.lock().ok().and_then(|all| all.get(&out_trade_no).cloned());
    let Some(t) = paid.filter(|t| t.state == "SUCCESS") else {
        return p.error(400, "RESOURCE_NOT_EXISTS", "订单未支付");
    };
    if total != t.total {
        return p.error(400, "PARAM_ERROR", "订单金额不符");
    }
    let answer = |amount: i64| {
        json!({ "refund_id": format!("50{out_refund_no}"), "out_refund_no": out_refund_no, "out_trade_no": out_trade_no,
                "status": "PROCESSING", "amount": { "refund": amount, "total": t.total } })
    };
    // Made once per out_refund_no; asked again, the same refund is answered.
    let amount = {
        let Ok(mut refunds) = p.refunds.lock() else { return p.error(500, "SYSTEM_ERROR", "busy") };
        match refunds.get(&out_refund_no) {
            Some((_, a)) => *a,
            None => {
                let refunded: i64 = refunds.values().filter(|(no, _)| *no == out_trade_no).map(|(_, a)| a).sum();
                if refunded + amount > t.total {
                    return p.error(400, "NOT_ENOUGH", "退款金额超过订单金额");
                }
                refunds.insert(out_refund_no.clone(), (out_trade_no.clone(), amount));
                amount
            }
        }
    };
    let lost = take_one(&p.lose_refund_answers);
    if lost {
        // Done, but the answer never reaches the merchant (nor, yet, the notification).
        return p.error(500, "SYSTEM_ERROR", "系统超时");
    }
    let first_answer = p.refunds_told.lock().map(|mut told| told.insert(out_refund_no.clone())).unwrap_or(false);
    let notice_lost = first_answer && take_one(&p.lose_refund_notices);
    if first_answer && !notice_lost {
        let notice = json!({ "mchid": p.mchid, "out_trade_no": out_trade_no, "transaction_id": t.transaction_id,
                             "out_refund_no": out_refund_no, "refund_id": format!("50{out_refund_no}"), "refund_status": "SUCCESS",
                             "amount": { "refund": amount, "total": t.total, "payer_refund": amount, "payer_total": t.total } });
        let later = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if let Some(p) = later.pay.as_ref() {
                if let Ok((headers, body)) = p.event("REFUND.SUCCESS", "refund", &notice) {
                    p.deliver(&notify_url, headers, body).await;
                }
            }
        });
    }
    p.answer(actix_web::http::StatusCode::OK, &answer(amount))
}

/// Test hook: `{"lose_refund_answers": n}` makes the next n refund requests answer a system
/// error after they are done.
pub async fn trouble(state: web::Data<super::simulator::SimState>, body: web::Json<Value>) -> HttpResponse {
    let Some(p) = pay_of(&state) else { return HttpResponse::NotFound().finish() };
    let n = body["lose_refund_answers"].as_u64().unwrap_or(0) as usize;
    p.lose_refund_answers.store(n, std::sync::atomic::Ordering::SeqCst);
    let n = body["lose_refund_notices"].as_u64().unwrap_or(0) as usize;
    p.lose_refund_notices.store(n, std::sync::atomic::Ordering::SeqCst);
    HttpResponse::NoContent().finish()
}

/// Every refund made: `[{"out_refund_no", "out_trade_no", "amount"}]`.
pub async fn refunds(state: web::Data<super::simulator::SimState>) -> HttpResponse {
    let Some(p) = pay_of(&state) else { return HttpResponse::NotFound().finish() };
    let all: Vec<Value> = p
        .refunds
        .lock()
        .map(|r| {
            r.iter()
                .map(|(no, (trade, a))| json!({ "out_refund_no": no, "out_trade_no": trade, "amount": a }))
                .collect()
        })
        .unwrap_or_default();
    HttpResponse::Ok().json(all)
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}`: a refund made is `SUCCESS`.
pub async fn refund_query(
    state: web::Data<super::simulator::SimState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let p = match signed(&state, &req, "") {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let found = p.refunds.lock().ok().and_then(|r| r.get(path.as_str()).cloned());
    match found {
        Some((trade, amount)) => p.answer(
            actix_web::http::StatusCode::OK,
            &json!({ "out_refund_no": path.as_str(), "out_trade_no": trade, "status": "SUCCESS", "amount": { "refund": amount } }),
        ),
        None => p.error(404, "RESOURCE_NOT_EXISTS", "退款单不存在"),
    }
}
