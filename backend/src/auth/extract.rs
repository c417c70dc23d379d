//! Authentication as extractors: a handler that takes `AuthUser` cannot run for an anonymous
//! caller, and one that takes `StaffUser` cannot run for anyone but staff.

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::UserRecord;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use shared::{ErrorCode, Role};
use std::{future::Future, pin::Pin};

/// A logged-in caller, looked up fresh from the database.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRecord,
    pub jti: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl AuthUser {
    pub fn has(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("please log in (Authorization: Bearer <token>)"))?;
    let value =
        header.to_str().map_err(|_| ApiError::new(ErrorCode::InvalidToken, "malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "expected Authorization: Bearer <token>"))?;
    Ok(token.to_owned())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("auth", "AppState missing"))?;
            let token = token?;
            let claims = state.jwt.verify(&token).map_err(|e| {
                tracing::debug!(error = %e, "token refused");
                ApiError::new(ErrorCode::InvalidToken, "invalid or expired token; please log in again")
            })?;
            let id = claims.user_id().ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "invalid token subject"))?;
            let user =
                state.store.accounts().session_user(id, &claims.jti).await?.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidToken, "this login has ended; please log in again")
                })?;
            Ok(AuthUser { user, jti: claims.jti.clone(), expires_at: claims.expires_at() })
        })
    }
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, $role:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub AuthUser);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let auth = AuthUser::from_request(req, payload);
                Box::pin(async move {
                    let user = auth.await?;
                    if user.has($role) {
                        Ok($name(user))
                    } else {
                        Err(ApiError::forbidden(concat!("only ", $label, " may do this")))
                    }
                })
            }
        }
    };
}

role_guard!(
    /// Community or market staff.
    StaffUser,
    Role::Staff,
    "staff"
);

role_guard!(
    /// A stall holder (摊主); their stall is `user.vendor_id`.
    VendorUser,
    Role::Vendor,
    "stall holders"
);

role_guard!(
    /// A producer (a farm, cooperative or wholesaler): the one it speaks for is found by the
    /// account (`store::Producers::of_user`).
    ProducerUser,
    Role::Producer,
    "producers"
);
