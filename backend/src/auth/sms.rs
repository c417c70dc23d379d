//! SMS verification codes: made here, stored only as keyed hashes, delivered through an SMS
//! gateway webhook (or shown on screen in demo mode).

use rand::Rng;
use sha2::{Digest, Sha256};
use std::time::Duration;

pub fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// Keyed with the server secret so a copy of the database does not reveal live codes.
pub fn hash_code(secret: &[u8], phone: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret);
    h.update(b"|sms|");
    h.update(phone.as_bytes());
    h.update(b"|");
    h.update(code.as_bytes());
    hex::encode(h.finalize())
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

    #[tracing::instrument(skip(self, code))]
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
            .map_err(|e| SmsError::Gateway(e.to_string()))?;
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
        assert_ne!(hash_code(b"a", "13900000001", "123456"), hash_code(b"b", "13900000001", "123456"));
        assert_ne!(hash_code(b"a", "13900000001", "123456"), hash_code(b"a", "13900000002", "123456"));
    }
}
