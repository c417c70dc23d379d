//! Login by SMS code or WeChat, `me`, logout.

use crate::auth::{new_code, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::limits::Limit;
use crate::state::AppState;
use crate::store::accounts::CodeRequest;
use crate::store::UserRecord;
use crate::wechat::WechatError;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use secrecy::ExposeSecret;
use shared::api::{LoginRequest, LoginResponse, SmsCodeRequest, SmsCodeResponse, User, WechatLoginRequest};
use shared::{ErrorBody, ErrorCode, SmsCode};

/// Sends a login code by SMS (in demo mode the code is also in the reply).
#[utoipa::path(
    tag = "auth",
    request_body = SmsCodeRequest,
    responses(
        (status = 200, body = SmsCodeResponse),
        (status = 400, body = ErrorBody, description = "Not a mainland mobile number"),
        (status = 429, body = ErrorBody, description = "Too many codes for this phone or client"),
        (status = 503, body = ErrorBody, description = "The SMS gateway failed"),
    )
)]
#[post("/auth/sms-code")]
pub async fn sms_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SmsCodeRequest>,
) -> ApiResult<web::Json<SmsCodeResponse>> {
    let phone = &body.phone;
    let sms = &state.config.sms;
    let code = new_code();
    let code_hash = state.code_key.hash(phone.as_str(), &code);
    let ip = state.limits.client(&req);
    state.limits.check(Limit::SmsPerClient, &ip)?;
    let request = CodeRequest { phone: phone.as_str(), client_ip: &ip, code_hash: &code_hash, now: Utc::now() };
    state.store.accounts().issue_code(request, &sms.rules()).await??;
    let send = !state.config.demo || state.sms.configured();
    if let Err(e) = if send { state.sms.send(phone.as_str(), &code, sms.code_ttl).await } else { Ok(()) } {
        // Not sent: the code is taken back, so asking again is not held up by it.
        tracing::warn!(error = %e, "SMS not sent");
        state.store.accounts().withdraw_code(phone.as_str(), &code_hash).await?;
        return Err(ApiError::new(ErrorCode::SmsUnavailable, "短信发送失败，请稍后再试 (could not send the SMS)"));
    }
    Ok(web::Json(SmsCodeResponse {
        sent: true,
        dev_code: state.config.demo.then_some(code),
        expires_in: sms.code_ttl.as_secs() as i64,
    }))
}

fn login_reply(state: &AppState, user: UserRecord) -> ApiResult<web::Json<LoginResponse>> {
    let (token, _) = state.jwt.issue(user.id, Utc::now()).map_err(|e| ApiError::internal("issuing token", e))?;
    Ok(web::Json(LoginResponse { token, user: user.into() }))
}

/// Logs in with the phone and the code sent to it. A phone seen for the first time becomes
/// a new resident.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Wrong, expired or used code"),
        (status = 429, body = ErrorBody, description = "Too many wrong codes"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let phone = &body.phone;
    state.limits.check(Limit::LoginPerClient, state.limits.client(&req))?;
    state.limits.check(Limit::LoginPerPhone, phone.as_str())?;
    let code = SmsCode::parse(&body.code).map_err(|e| ApiError::new(ErrorCode::InvalidField, e.to_string()))?;
    let now = Utc::now();
    let presented = state.code_key.hash(phone.as_str(), code.as_str());
    state.store.accounts().use_code(phone.as_str(), &presented, &state.config.sms.rules(), now).await??;
    let user = state.store.accounts().user_for_phone(phone.as_str(), now).await?;
    login_reply(&state, user)
}

/// Logs in with a `wx.login()` code through WeChat's code2Session.
#[utoipa::path(
    tag = "auth",
    request_body = WechatLoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Invalid or used WeChat code"),
        (status = 403, body = ErrorBody, description = "WeChat refused this user"),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "WeChat unavailable"),
    )
)]
#[post("/auth/wechat")]
pub async fn wechat_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<WechatLoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    state.limits.check(Limit::LoginPerClient, state.limits.client(&req))?;
    let code = body.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::new(ErrorCode::InvalidField, "code must be the string wx.login() returned"));
    }
    let session = state.wechat.code2session(code).await.map_err(|e| match e {
        WechatError::InvalidCode => ApiError::new(ErrorCode::InvalidWechatCode, "微信登录码无效 (invalid WeChat code)"),
        WechatError::CodeUsed => {
            ApiError::new(ErrorCode::WechatCodeUsed, "微信登录码已使用 (WeChat code already used)")
        }
        WechatError::RateLimited => ApiError::too_many("微信登录过于频繁 (too many WeChat logins)", 60),
        WechatError::Blocked => {
            ApiError::new(ErrorCode::WechatUserBlocked, "微信拒绝了此用户 (WeChat refused this user)")
        }
        other => {
            tracing::warn!(error = %other, "WeChat login failed");
            ApiError::new(ErrorCode::WechatUnavailable, "微信暂时无法登录，请用手机号登录 (WeChat unavailable)")
        }
    })?;
    let user = state
        .store
        .accounts()
        .user_for_openid(&session.openid, session.session_key.expose_secret(), Utc::now())
        .await?;
    login_reply(&state, user)
}

/// Ends this login: the token is refused from now on.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 204), (status = 401, body = ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    state.store.accounts().revoke_token(&auth.jti, auth.expires_at).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets the caller's home address (七里山小区 building, unit, room); returns the caller.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = shared::api::Address,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[put("/me/household")]
pub async fn set_household(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<shared::api::Address>,
) -> ApiResult<web::Json<User>> {
    let address = body.into_inner();
    crate::domain::checkout::validate_address(&address).map_err(|(c, m)| ApiError::new(c, m))?;
    if state.store.households().set_home(auth.user.id, &address, Utc::now()).await??.is_none() {
        return Err(crate::domain::Refusal::no_building(address.building.trim()).into());
    }
    let user = state.store.accounts().user(auth.user.id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(super::user_view(&state, user).await?))
}

/// The caller, with their household if one is on record.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<User>> {
    Ok(web::Json(super::user_view(&state, auth.user).await?))
}

/// Binds the phone WeChat vouches for (the code of the mini-program's getPhoneNumber button) to
/// the caller's WeChat login, so a WeChat-only resident can be delivered to. If a phone account
/// already has that phone, the two become one (that account, with the WeChat login, every order,
/// share and notice of both) and the answer is a login for it; the old WeChat-only login ends.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = WechatLoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "Invalid or used code"),
        (status = 409, body = ErrorBody, description = "`wechat_required`; `wrong_state`: bound elsewhere"),
        (status = 503, body = ErrorBody, description = "WeChat unavailable"),
    )
)]
#[post("/me/phone/wechat")]
pub async fn bind_phone(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<WechatLoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let code = body.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::new(ErrorCode::InvalidField, "code must be the string getPhoneNumber gave"));
    }
    let phone = state.wechat.phone_number(code).await.map_err(|e| match e {
        WechatError::InvalidCode => {
            ApiError::new(ErrorCode::InvalidWechatCode, "手机号授权码无效 (invalid phone code)")
        }
        other => {
            tracing::warn!(error = %other, "getuserphonenumber failed");
            ApiError::new(ErrorCode::WechatUnavailable, "微信暂时无法提供手机号，请稍后再试 (WeChat unavailable)")
        }
    })?;
    let phone = shared::Phone::parse(&phone)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, format!("WeChat gave a phone we cannot use: {e}")))?;
    let now_user = state.store.accounts().bind_phone(auth.user.id, phone.as_str()).await??;
    let user = state.store.accounts().user(now_user).await?.ok_or_else(|| ApiError::not_found("user"))?;
    login_reply(&state, user)
}
