//! WeChat Pay API v3 (mini-program JSAPI payment), the cryptography and the calls:
//! requests signed with the merchant's RSA key (`WECHATPAY2-SHA256-RSA2048`), the `paySign`
//! the mini-program hands to `wx.requestPayment`, notifications and answers verified against
//! the platform key before anything in them is read, and resources decrypted with the APIv3
//! key (AEAD_AES_256_GCM). RustCrypto's `rsa` and `aes-gcm` do the cryptography.
//!
//! The simulator (`simulator.rs`) uses the same functions from the other side, with its own
//! platform key, so demo mode and the tests exercise every signature for real.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayError {
    #[error("bad key: {0}")]
    Key(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("cannot decrypt the resource")]
    Decrypt,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("WeChat Pay answered {0}: {1}")]
    Refused(u16, String),
    #[error("WeChat Pay unreachable: {0}")]
    Unreachable(String),
}

pub fn private_key(pem: &str) -> Result<RsaPrivateKey, PayError> {
    RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| PayError::Key(e.to_string()))
}

pub fn public_key(pem: &str) -> Result<RsaPublicKey, PayError> {
    RsaPublicKey::from_public_key_pem(pem).map_err(|e| PayError::Key(e.to_string()))
}

/// Base64 RSA-SHA256 (PKCS#1 v1.5) of `message`.
pub fn sign(key: &RsaPrivateKey, message: &str) -> String {
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(message.as_bytes());
    B64.encode(signature.to_bytes())
}

/// Whether `signature` (base64) is `key`'s RSA-SHA256 signature of `message`.
pub fn verify(key: &RsaPublicKey, message: &str, signature: &str) -> bool {
    let Ok(bytes) = B64.decode(signature.trim()) else { return false };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return false };
    VerifyingKey::<Sha256>::new(key.clone()).verify(message.as_bytes(), &signature).is_ok()
}

/// What a request's signature covers: `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n")
}

/// What a notification's or answer's signature covers: `TIMESTAMP\nNONCE\nBODY\n`.
pub fn response_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// The `Authorization` header of a merchant request.
pub fn authorization(
    mchid: &str,
    serial: &str,
    key: &RsaPrivateKey,
    message: &str,
    timestamp: i64,
    nonce: &str,
) -> String {
    format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\"",
        sign(key, message)
    )
}

/// The fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",...` header.
pub fn authorization_fields(header: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let rest = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ")?;
    rest.split(',')
        .map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_owned(), v.trim_matches('"').to_owned()))
        })
        .collect()
}

/// `paySign` for `wx.requestPayment`: over `appId\ntimeStamp\nnonceStr\npackage\n`.
pub fn pay_sign(key: &RsaPrivateKey, appid: &str, timestamp: &str, nonce: &str, package: &str) -> String {
    sign(key, &format!("{appid}\n{timestamp}\n{nonce}\n{package}\n"))
}

/// Decrypts a notification's `resource` (AEAD_AES_256_GCM, the tag at the ciphertext's end).
pub fn decrypt(api_v3_key: &[u8], nonce: &str, associated_data: &str, ciphertext: &str) -> Result<Vec<u8>, PayError> {
    let cipher =
        Aes256Gcm::new_from_slice(api_v3_key).map_err(|_| PayError::Key("the APIv3 key is 32 bytes".into()))?;
    if nonce.len() != 12 {
        return Err(PayError::Decrypt);
    }
    let sealed = B64.decode(ciphertext).map_err(|_| PayError::Decrypt)?;
    cipher
        .decrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: &sealed, aad: associated_data.as_bytes() })
        .map_err(|_| PayError::Decrypt)
}

/// Encrypts a resource as WeChat Pay does (for the simulator): base64 of ciphertext and tag.
pub fn encrypt(api_v3_key: &[u8], nonce: &str, associated_data: &str, plain: &[u8]) -> Result<String, PayError> {
    let cipher =
        Aes256Gcm::new_from_slice(api_v3_key).map_err(|_| PayError::Key("the APIv3 key is 32 bytes".into()))?;
    if nonce.len() != 12 {
        return Err(PayError::Decrypt);
    }
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: plain, aad: associated_data.as_bytes() })
        .map_err(|_| PayError::Decrypt)?;
    Ok(B64.encode(sealed))
}

/// A random 32-character nonce (letters and digits).
pub fn nonce() -> String {
    use rand::{distributions::Alphanumeric, Rng};
    rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// How far a notification's or answer's timestamp may be from now: an older one is a replay.
pub const MAX_SKEW_SECONDS: i64 = 300;

pub use shared::api::RequestPayment;

/// The merchant's side of WeChat Pay v3.
pub struct PayClient {
    http: reqwest::Client,
    base: String,
    pub mchid: String,
    pub appid: String,
    serial: String,
    key: RsaPrivateKey,
    platform_serial: String,
    platform: RsaPublicKey,
    api_v3_key: secrecy::SecretString,
    notify_url: String,
}

/// A notification's signature headers.
pub struct Signed<'a> {
    pub serial: &'a str,
    pub signature: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
}

#[derive(serde::Deserialize)]
struct Notification {
    event_type: String,
    resource: Resource,
}

#[derive(serde::Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

/// What a verified notification says.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Payment(crate::domain::payment::PaymentNotice),
    Refund {
        out_refund_no: String,
        status: String,
    },
    /// Another event: nothing to do.
    Other,
}

#[derive(serde::Deserialize)]
struct RefundResource {
    mchid: String,
    out_refund_no: String,
    refund_status: String,
}

/// A transaction as WeChat Pay describes it (notification resource or query answer).
#[derive(serde::Deserialize)]
struct Transaction {
    mchid: String,
    appid: String,
    out_trade_no: String,
    #[serde(default)]
    transaction_id: String,
    trade_state: String,
    #[serde(default)]
    success_time: Option<String>,
    #[serde(default)]
    amount: Option<TransactionAmount>,
}

#[derive(serde::Deserialize)]
struct TransactionAmount {
    #[serde(default)]
    total: i64,
    #[serde(default)]
    payer_total: Option<i64>,
}

impl Transaction {
    fn notice(self) -> crate::domain::payment::PaymentNotice {
        let total = self.amount.as_ref().map_or(0, |a| a.payer_total.unwrap_or(a.total));
        crate::domain::payment::PaymentNotice {
            mchid: self.mchid,
            appid: self.appid,
            out_trade_no: self.out_trade_no,
            transaction_id: self.transaction_id,
            trade_state: self.trade_state,
            total,
            success_time: self
                .success_time
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
        }
    }
}

impl PayClient {
    pub fn new(
        http: reqwest::Client,
        config: &crate::config::PayConfig,
        appid: &str,
        base: &str,
        notify_url: &str,
    ) -> Result<Self, PayError> {
        use secrecy::ExposeSecret;
        if config.api_v3_key.expose_secret().len() != 32 {
            return Err(PayError::Key("the APIv3 key is 32 characters".into()));
        }
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            mchid: config.mchid.clone(),
            appid: appid.to_owned(),
            serial: config.merchant_serial.clone(),
            key: private_key(config.merchant_key.expose_secret())?,
            platform_serial: config.platform_serial.clone(),
            platform: public_key(&config.platform_key)?,
            api_v3_key: config.api_v3_key.clone(),
            notify_url: notify_url.to_owned(),
        })
    }

    /// A signed request; the answer's status and body, its signature checked on success.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<String>) -> Result<(u16, String), PayError> {
        let timestamp = chrono::Utc::now().timestamp();
        let nonce = nonce();
        let text = body.clone().unwrap_or_default();
        let message = request_message(method.as_str(), path, timestamp, &nonce, &text);
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", authorization(&self.mchid, &self.serial, &self.key, &message, timestamp, &nonce))
            .header("Accept", "application/json")
            .timeout(std::time::Duration::from_secs(10));
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let res = req.send().await.map_err(|e| PayError::Unreachable(e.without_url().to_string()))?;
        let status = res.status().as_u16();
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (serial, signature, ts, nonce) = (
            header("Wechatpay-Serial"),
            header("Wechatpay-Signature"),
            header("Wechatpay-Timestamp"),
            header("Wechatpay-Nonce"),
        );
        let text = res.text().await.map_err(|e| PayError::Unreachable(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            let signed = Signed { serial: &serial, signature: &signature, timestamp: &ts, nonce: &nonce };
            self.check(&signed, &text, chrono::Utc::now())?;
        }
        Ok((status, text))
    }

    /// The platform's signature over a body, checked before anything in it is read.
    pub fn check(&self, signed: &Signed<'_>, body: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), PayError> {
        if signed.serial != self.platform_serial {
            return Err(PayError::BadSignature);
        }
        let at: i64 = signed.timestamp.parse().map_err(|_| PayError::BadSignature)?;
        if (now.timestamp() - at).abs() > MAX_SKEW_SECONDS {
            return Err(PayError::BadSignature);
        }
        if !verify(&self.platform, &response_message(signed.timestamp, signed.nonce, body), signed.signature) {
            return Err(PayError::BadSignature);
        }
        Ok(())
    }

    /// Creates the JSAPI prepay for an order: its `prepay_id`.
    pub async fn jsapi_prepay(
        &self,
        out_trade_no: &str,
        description: &str,
        total_fen: i64,
        openid: &str,
        time_expire: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<String, PayError> {
        let mut body = serde_json::json!({
            "appid": self.appid, "mchid": self.mchid,
            "description": description.chars().take(127).collect::<String>(),
            "out_trade_no": out_trade_no, "notify_url": self.notify_url,
            "amount": { "total": total_fen, "currency": "CNY" },
            "payer": { "openid": openid },
        });
        if let Some(at) = time_expire {
            body["time_expire"] = crate::domain::time::to_api(at).into();
        }
        let (status, text) =
            self.call(reqwest::Method::POST, "/v3/pay/transactions/jsapi", Some(body.to_string())).await?;
        if status != 200 {
            return Err(PayError::Refused(status, text));
        }
        let answer: serde_json::Value = serde_json::from_str(&text).map_err(|e| PayError::Malformed(e.to_string()))?;
        answer["prepay_id"].as_str().map(str::to_owned).ok_or(PayError::Malformed(text))
    }

    /// What the mini-program hands to `wx.requestPayment` for a prepay.
    pub fn request_payment(&self, prepay_id: &str) -> RequestPayment {
        let time_stamp = chrono::Utc::now().timestamp().to_string();
        let nonce_str = nonce();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = pay_sign(&self.key, &self.appid, &time_stamp, &nonce_str, &package);
        RequestPayment { app_id: self.appid.clone(), time_stamp, nonce_str, package, sign_type: "RSA".into(), pay_sign }
    }

    /// A notification (payment or refund): signature checked over the raw body first, then the
    /// resource decrypted and read. Err for anything forged, altered, replayed late or malformed.
    pub fn notice(
        &self,
        signed: &Signed<'_>,
        body: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Notice, PayError> {
        use secrecy::ExposeSecret;
        let text = std::str::from_utf8(body).map_err(|_| PayError::Malformed("not UTF-8".into()))?;
        self.check(signed, text, now)?;
        let n: Notification = serde_json::from_str(text).map_err(|e| PayError::Malformed(e.to_string()))?;
        if n.resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(PayError::Malformed(format!("algorithm {}", n.resource.algorithm)));
        }
        let plain = decrypt(
            self.api_v3_key.expose_secret().as_bytes(),
            &n.resource.nonce,
            &n.resource.associated_data,
            &n.resource.ciphertext,
        )?;
        if n.event_type == "TRANSACTION.SUCCESS" {
            let t: Transaction = serde_json::from_slice(&plain).map_err(|e| PayError::Malformed(e.to_string()))?;
            return Ok(Notice::Payment(t.notice()));
        }
        if n.event_type.starts_with("REFUND.") {
            let r: RefundResource = serde_json::from_slice(&plain).map_err(|e| PayError::Malformed(e.to_string()))?;
            if r.mchid != self.mchid {
                return Err(PayError::Malformed("a refund for another merchant".into()));
            }
            return Ok(Notice::Refund { out_refund_no: r.out_refund_no, status: r.refund_status });
        }
        Ok(Notice::Other)
    }

    /// Asks WeChat Pay to refund (`out_refund_no` makes a retry refund once): the refund's
    /// status as WeChat Pay answers it (`PROCESSING`, `SUCCESS`, ...).
    pub async fn refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        reason: &str,
        refund_fen: i64,
        total_fen: i64,
    ) -> Result<String, PayError> {
        let body = serde_json::json!({
            "out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
            "reason": reason.chars().take(80).collect::<String>(), "notify_url": self.notify_url,
            "amount": { "refund": refund_fen, "total": total_fen, "currency": "CNY" },
        });
        let (status, text) =
            self.call(reqwest::Method::POST, "/v3/refund/domestic/refunds", Some(body.to_string())).await?;
        if status != 200 {
            return Err(PayError::Refused(status, text));
        }
        let answer: serde_json::Value = serde_json::from_str(&text).map_err(|e| PayError::Malformed(e.to_string()))?;
        answer["status"].as_str().map(str::to_owned).ok_or(PayError::Malformed(text))
    }

    /// Asks WeChat Pay what became of a refund (when its notification did not come).
    pub async fn refund_status(&self, out_refund_no: &str) -> Result<String, PayError> {
        let (status, text) =
            self.call(reqwest::Method::GET, &format!("/v3/refund/domestic/refunds/{out_refund_no}"), None).await?;
        if status != 200 {
            return Err(PayError::Refused(status, text));
        }
        let answer: serde_json::Value = serde_json::from_str(&text).map_err(|e| PayError::Malformed(e.to_string()))?;
        answer["status"].as_str().map(str::to_owned).ok_or(PayError::Malformed(text))
    }

    /// Asks WeChat Pay what became of a payment (when no notification came).
    pub async fn query(&self, out_trade_no: &str) -> Result<crate::domain::payment::PaymentNotice, PayError> {
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}", self.mchid);
        let (status, text) = self.call(reqwest::Method::GET, &path, None).await?;
        if status != 200 {
            return Err(PayError::Refused(status, text));
        }
        let t: Transaction = serde_json::from_str(&text).map_err(|e| PayError::Malformed(e.to_string()))?;
        Ok(t.notice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT: &str = include_str!("demo_keys/merchant_key.pem");
    const MERCHANT_PUB: &str = include_str!("demo_keys/merchant_pub.pem");
    const PLATFORM_PUB: &str = include_str!("demo_keys/platform_pub.pem");

    #[test]
    fn a_signature_verifies_with_its_public_key_only_and_only_for_its_message() {
        let key = private_key(MERCHANT).expect("key");
        let message = request_message("POST", "/v3/pay/transactions/jsapi", 1_700_000_000, "abc", "{\"a\":1}");
        let signature = sign(&key, &message);
        assert!(verify(&public_key(MERCHANT_PUB).expect("pub"), &message, &signature));
        assert!(!verify(&public_key(PLATFORM_PUB).expect("pub"), &message, &signature), "another key");
        assert!(!verify(&public_key(MERCHANT_PUB).expect("pub"), &message.replace("1}", "2}"), &signature));
        assert!(!verify(&public_key(MERCHANT_PUB).expect("pub"), &message, "not base64!"));
        let header = authorization("1900000001", "SERIAL", &key, &message, 1_700_000_000, "abc");
        let fields = authorization_fields(&header).expect("fields");
        assert_eq!(fields["mchid"], "1900000001");
        assert_eq!(fields["serial_no"], "SERIAL");
        assert!(verify(&public_key(MERCHANT_PUB).expect("pub"), &message, &fields["signature"]));
    }

    #[test]
    fn a_resource_decrypts_with_its_key_nonce_and_associated_data_only() {
        let key = [7u8; 32];
        let sealed = encrypt(&key, "0123456789ab", "transaction", b"{\"trade_state\":\"SUCCESS\"}").expect("sealed");
        assert_eq!(
            decrypt(&key, "0123456789ab", "transaction", &sealed).expect("open"),
            b"{\"trade_state\":\"SUCCESS\"}"
        );
        assert_eq!(decrypt(&[8u8; 32], "0123456789ab", "transaction", &sealed), Err(PayError::Decrypt));
        assert_eq!(decrypt(&key, "0123456789ac", "transaction", &sealed), Err(PayError::Decrypt));
        assert_eq!(decrypt(&key, "0123456789ab", "refund", &sealed), Err(PayError::Decrypt));
        let mut bytes = B64.decode(&sealed).expect("b64");
        bytes[0] ^= 1;
        assert_eq!(decrypt(&key, "0123456789ab", "transaction", &B64.encode(bytes)), Err(PayError::Decrypt));
    }
}
