//! SMS verification codes: made here, stored only as HMACs under a key of their own, delivered
//! through Tencent Cloud SMS (API 3.0, TC3-HMAC-SHA256 signed requests) or an SMS gateway
//! webhook; in demo mode shown on screen and sent to the Tencent simulator.

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use std::{path::Path, time::Duration};

pub fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// The key of the login codes' hashes (HMAC-SHA256), its own, never the token key: a copy of
/// the database does not reveal live codes, and a leaked code key signs no token.
pub struct CodeKey(SecretSlice<u8>);

impl CodeKey {
    pub fn new(key: &[u8]) -> Self {
        Self(key.to_vec().into())
    }

    /// The configured key (`FXS_SMS_CODE_KEY`), or the one kept in the data folder.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> std::io::Result<Self> {
        let key = super::keys::kept_secret(configured, "FXS_SMS_CODE_KEY", data_dir, "sms_code_key")?;
        Ok(Self::new(key.as_bytes()))
    }

    /// The stored form of a code sent to a phone: HMAC-SHA256 over phone and code, in hex.
    pub fn hash(&self, phone: &str, code: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret()).expect("HMAC takes any key");
        mac.update(phone.as_bytes());
        mac.update(b"|");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Tencent Cloud SMS as configured (`FXS_SMS_TENCENT_*`): the API keys, the SMS app, the
/// approved sign name (签名) and the login-code template (its one parameter is the code).
#[derive(Clone, Debug)]
pub struct TencentSms {
    pub secret_id: String,
    pub secret_key: secrecy::SecretString,
    pub app_id: String,
    pub sign_name: String,
    pub template_id: String,
    /// `FXS_SMS_TENCENT_NOTICE_TEMPLATE`: the notices' template (parameters: what happened, the
    /// order); without it no notice goes by SMS through Tencent.
    pub notice_template_id: Option<String>,
    pub region: String,
    /// `https://sms.tencentcloudapi.com` unless a stand-in is configured (the simulator).
    pub endpoint: String,
}

/// The API version and action the login code is sent with.
pub const TENCENT_VERSION: &str = "2021-01-11";
pub const TENCENT_ACTION: &str = "SendSms";

/// The `Authorization` header of a Tencent Cloud API 3.0 request (TC3-HMAC-SHA256): the
/// canonical request of a POST to `/` with the JSON `payload`, signed for the service `sms` on
/// the UTC day of `timestamp` with a key derived from the secret key.
pub fn tc3_authorization(secret_id: &str, secret_key: &str, host: &str, payload: &str, timestamp: i64) -> String {
    let date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap_or_default().format("%Y-%m-%d").to_string();
    let signature = tc3_signature(secret_key, host, payload, timestamp, &date);
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{date}/sms/tc3_request, SignedHeaders=content-type;host, \
         Signature={signature}"
    )
}

/// The signature alone (the simulator recomputes it to check a request).
pub fn tc3_signature(secret_key: &str, host: &str, payload: &str, timestamp: i64, date: &str) -> String {
    use sha2::Digest as _;
    let sha = |text: &str| hex::encode(Sha256::digest(text.as_bytes()));
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\ncontent-type;host\n{}",
        sha(payload)
    );
    let to_sign = format!("TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n{}", sha(&canonical));
    let mac = |key: &[u8], text: &str| -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
        m.update(text.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let day = mac(format!("TC3{secret_key}").as_bytes(), date);
    let service = mac(&day, "sms");
    let signing = mac(&service, "tc3_request");
    hex::encode(mac(&signing, &to_sign))
}

/// Sends login codes: through Tencent Cloud SMS when configured, else the webhook
/// (`FXS_SMS_WEBHOOK`).
pub struct SmsSender {
    http: reqwest::Client,
    webhook: Option<String>,
    tencent: Option<TencentSms>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("no SMS gateway is configured (FXS_SMS_TENCENT_* or FXS_SMS_WEBHOOK)")]
    NotConfigured,
    #[error("SMS gateway failed: {0}")]
    Gateway(String),
}

impl SmsSender {
    pub fn new(http: reqwest::Client, webhook: Option<String>, tencent: Option<TencentSms>) -> Self {
        Self { http, webhook, tencent }
    }

    /// Whether codes have somewhere to go.
    pub fn configured(&self) -> bool {
        self.tencent.is_some() || self.webhook.is_some()
    }

    #[tracing::instrument(skip(self, phone, code), fields(phone = %crate::telemetry::mask_phones(phone)))]
    pub async fn send(&self, phone: &str, code: &str, ttl: Duration) -> Result<(), SmsError> {
        if let Some(tencent) = &self.tencent {
            return self.send_tencent(tencent, phone, &tencent.template_id, &[code]).await;
        }
        let url = self.webhook.as_deref().ok_or(SmsError::NotConfigured)?;
        let text = format!("【傅鲜生】您的验证码是{code}，{}分钟内有效。请勿告诉他人。", ttl.as_secs() / 60);
        self.send_webhook(url, &serde_json::json!({ "phone": phone, "code": code, "text": text })).await
    }

    /// A notice by SMS (`domain::notices::sms_text`): through Tencent with the notices' template
    /// (what happened, the order), else the webhook as `{"phone", "text"}`.
    #[tracing::instrument(skip(self, phone, title, text), fields(phone = %crate::telemetry::mask_phones(phone)))]
    pub async fn send_notice(&self, phone: &str, title: &str, order: &str, text: &str) -> Result<(), SmsError> {
        if let Some(tencent) = &self.tencent {
            let template = tencent.notice_template_id.as_deref().ok_or(SmsError::NotConfigured)?;
            let title: String = title.chars().take(12).collect();
            return self.send_tencent(tencent, phone, template, &[&title, order]).await;
        }
        let url = self.webhook.as_deref().ok_or(SmsError::NotConfigured)?;
        self.send_webhook(url, &serde_json::json!({ "phone": phone, "text": text })).await
    }

    async fn send_webhook(&self, url: &str, body: &serde_json::Value) -> Result<(), SmsError> {
        let res = self
            .http
            .post(url)
            .timeout(Duration::from_secs(5))
            .json(body)
            .send()
            .await
            .map_err(|e| SmsError::Gateway(e.without_url().to_string()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(SmsError::Gateway(format!("status {}", res.status())))
        }
    }

    /// One SendSms request, signed; sent only when Tencent answers the phone's status `Ok`.
    async fn send_tencent(&self, t: &TencentSms, phone: &str, template: &str, params: &[&str]) -> Result<(), SmsError> {
        use secrecy::ExposeSecret as _;
        let host = reqwest::Url::parse(&t.endpoint)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_owned(),
                })
            })
            .ok_or_else(|| SmsError::Gateway("FXS_SMS_TENCENT_ENDPOINT is not a URL".into()))?;
        let payload = serde_json::json!({
            "PhoneNumberSet": [format!("+86{phone}")],
            "SmsSdkAppId": t.app_id,
            "SignName": t.sign_name,
            "TemplateId": template,
            "TemplateParamSet": params,
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let authorization = tc3_authorization(&t.secret_id, t.secret_key.expose_secret(), &host, &payload, timestamp);
        let res = self
            .http
            .post(&t.endpoint)
            .timeout(Duration::from_secs(5))
            .header("Authorization", authorization)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Host", host)
            .header("X-TC-Action", TENCENT_ACTION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Version", TENCENT_VERSION)
            .header("X-TC-Region", &t.region)
            .body(payload)
            .send()
            .await
            .map_err(|e| SmsError::Gateway(e.without_url().to_string()))?;
        let answer: serde_json::Value =
            res.json().await.map_err(|e| SmsError::Gateway(format!("unreadable answer: {}", e.without_url())))?;
        let response = &answer["Response"];
        if let Some(error) = response.get("Error") {
            return Err(SmsError::Gateway(format!("{} {}", error["Code"], error["Message"])));
        }
        match response["SendStatusSet"][0]["Code"].as_str() {
            Some("Ok") => Ok(()),
            other => Err(SmsError::Gateway(format!(
                "{} {}",
                other.unwrap_or("no status"),
                response["SendStatusSet"][0]["Message"]
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tencent_request_is_signed_over_its_body_host_and_day() {
        let payload = r#"{"PhoneNumberSet":["+8613900000001"]}"#;
        let auth = tc3_authorization("AKIDdemo", "key", "sms.tencentcloudapi.com", payload, 1_796_500_000);
        assert!(auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDdemo/2026-12-05/sms/tc3_request, SignedHeaders=content-type;host, Signature="), "{auth}");
        let signature = auth.rsplit("Signature=").next().expect("signature");
        assert_eq!(signature.len(), 64);
        let again = |key: &str, host: &str, body: &str, ts: i64| tc3_signature(key, host, body, ts, "2026-12-05");
        assert_eq!(again("key", "sms.tencentcloudapi.com", payload, 1_796_500_000), signature);
        assert_ne!(again("other", "sms.tencentcloudapi.com", payload, 1_796_500_000), signature);
        assert_ne!(
            again("key", "sms.tencentcloudapi.com", r#"{"PhoneNumberSet":["+8613900000002"]}"#, 1_796_500_000),
            signature
        );
        assert_ne!(again("key", "evil.example", payload, 1_796_500_000), signature);
        assert_ne!(again("key", "sms.tencentcloudapi.com", payload, 1_796_500_001), signature);
    }

    #[test]
    fn codes_are_six_digits_and_hashes_are_keyed() {
        for _ in 0..100 {
            let c = new_code();
            assert!(shared::SmsCode::parse(&c).is_ok(), "{c}");
        }
        let (a, b) = (CodeKey::new(b"a"), CodeKey::new(b"b"));
        assert_ne!(a.hash("13900000001", "123456"), b.hash("13900000001", "123456"));
        assert_ne!(a.hash("13900000001", "123456"), a.hash("13900000002", "123456"));
        assert_eq!(a.hash("13900000001", "123456"), a.hash("13900000001", "123456"));
        // RFC 4231's first test case, so the construction is HMAC itself, not something like it.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[0x0b; 20]).expect("key");
        mac.update(b"Hi There");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }
}
