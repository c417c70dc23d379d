//! HS256 tokens with the algorithm pinned and `exp`, `iss` and `aud` checked. Roles are never
//! read from the token: every request looks the user up, so a forged or stale role claim has no
//! effect and logout (revocation by `jti`) takes effect at once.

use chrono::{DateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use std::{path::Path, time::Duration};

pub const ISSUER: &str = "fuxiansheng";
pub const AUDIENCE: &str = "fuxiansheng-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Token id, for revocation.
    pub jti: String,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_else(Utc::now)
    }
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    secret: SecretSlice<u8>,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            secret: secret.to_vec().into(),
        }
    }

    /// The configured secret (`FXS_JWT_SECRET`), or the one kept in the data folder.
    pub fn load(configured: Option<&str>, data_dir: &Path, ttl: Duration) -> std::io::Result<Self> {
        let secret = super::keys::kept_secret(configured, "FXS_JWT_SECRET", data_dir, "jwt_secret")?;
        Ok(Self::new(secret.as_bytes(), ttl))
    }

    pub fn issue(&self, user_id: i64, now: DateTime<Utc>) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let mut jti = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut jti);
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl.as_secs() as i64,
            jti: hex::encode(jti),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }

    pub fn secret(&self) -> &[u8] {
        self.secret.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let (token, claims) = keys.issue(7, Utc::now()).expect("issue");
        assert_eq!(keys.verify(&token).expect("verify").jti, claims.jti);
        let other = JwtKeys::new(b"fedcba9876543210fedcba9876543210", Duration::from_secs(60));
        assert!(other.verify(&token).is_err());
    }

    #[test]
    fn secret_file_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("fxs-jwt-{}", rand::random::<u64>()));
        let a = JwtKeys::load(None, &dir, Duration::from_secs(60)).expect("first");
        let b = JwtKeys::load(None, &dir, Duration::from_secs(60)).expect("second");
        assert_eq!(a.secret(), b.secret());
        let (token, _) = a.issue(1, Utc::now()).expect("issue");
        assert!(b.verify(&token).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }
}
