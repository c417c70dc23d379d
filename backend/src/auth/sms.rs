//! SMS verification codes: made here, stored only as HMACs under a key of their own, delivered through an SMS
//! gateway webhook (or shown on screen in demo mode).

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

/// Sends codes to the SMS gateway configured as `FXS_SMS_WEBHOOK`.
pub struct SmsSender {
    http: reqwest::Client,
    webhook: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("no SMS gateway is configured (FXS_SMS_WEBHOOK)")]
    NotConfigured,
    #[error("SMS gateway failed: {0}")]
    Gateway(String),
}

impl SmsSender {
    pub fn new(http: reqwest::Client, webhook: Option<String>) -> Self {
        Self { http, webhook }
    }

    #[tracing::instrument(skip(self, phone, code), fields(phone = %crate::telemetry::mask_phones(phone)))]
    pub async fn send(&self, phone: &str, code: &str, ttl: Duration) -> Result<(), SmsError> {
        let url = self.webhook.as_deref().ok_or(SmsError::NotConfigured)?;
        let text = format!("【傅鲜生】您的验证码是{code}，{}分钟内有效。请勿告诉他人。", ttl.as_secs() / 60);
        let res = self
            .http
            .post(url)
            .timeout(Duration::from_secs(5))
            .json(&serde_json::json!({ "phone": phone, "code": code, "text": text }))
            .send()
            .await
            .map_err(|e| SmsError::Gateway(e.without_url().to_string()))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(SmsError::Gateway(format!("status {}", res.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
