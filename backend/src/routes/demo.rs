//! Demo mode only: stands in for `wx.login()` on a phone, so the storefront in a browser can
//! log in through the WeChat simulator over the same code path as a real mini-program.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{post, web};
use shared::api::{DemoWechatCodeRequest, DemoWechatCodeResponse};
use shared::{ErrorBody, ErrorCode};

#[utoipa::path(
    tag = "demo",
    request_body = DemoWechatCodeRequest,
    responses(
        (status = 200, body = DemoWechatCodeResponse),
        (status = 404, body = ErrorBody, description = "Not in demo mode"),
    )
)]
#[post("/demo/wechat-code")]
pub async fn wechat_code(
    state: web::Data<AppState>,
    body: web::Json<DemoWechatCodeRequest>,
) -> ApiResult<web::Json<DemoWechatCodeResponse>> {
    let base = state.simulator_url.as_deref().ok_or_else(|| ApiError::not_found("demo API"))?;
    let device = body.into_inner().device;
    if device.is_empty() || device.len() > 64 {
        return Err(ApiError::new(ErrorCode::InvalidField, "device must be 1 to 64 characters"));
    }
    let reply = state
        .http
        .post(format!("{base}/sim/wx.login"))
        .json(&serde_json::json!({ "device": device }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| ApiError::internal("WeChat simulator", e))?
        .json::<DemoWechatCodeResponse>()
        .await
        .map_err(|e| ApiError::internal("WeChat simulator reply", e))?;
    Ok(web::Json(reply))
}

/// Demo mode only: stands in for the mini-program's getPhoneNumber button, for `{"phone"}`.
#[utoipa::path(tag = "demo", responses((status = 200, body = DemoWechatCodeResponse), (status = 404, body = ErrorBody)))]
#[post("/demo/wechat-phone-code")]
pub async fn wechat_phone_code(
    state: web::Data<AppState>,
    body: web::Json<serde_json::Value>,
) -> ApiResult<web::Json<DemoWechatCodeResponse>> {
    let base = state.simulator_url.as_deref().ok_or_else(|| ApiError::not_found("demo API"))?;
    // A phone that is not 11 digits is refused here, as the simulator would, without the round
    // trip (under schemathesis a dropped connection to it made a bad body a 500).
    let phone = body["phone"].as_str().filter(|p| p.len() == 11 && p.bytes().all(|b| b.is_ascii_digit()));
    let Some(phone) = phone else {
        return Err(ApiError::new(ErrorCode::InvalidPhone, "phone: 11 digits"));
    };
    let res = state
        .http
        .post(format!("{base}/sim/phone-code"))
        .json(&serde_json::json!({ "phone": phone }))
        .send()
        .await
        .map_err(|e| ApiError::internal("WeChat simulator", e))?;
    if !res.status().is_success() {
        return Err(ApiError::new(ErrorCode::InvalidPhone, "phone: 11 digits"));
    }
    Ok(web::Json(res.json().await.map_err(|e| ApiError::internal("WeChat simulator reply", e))?))
}
