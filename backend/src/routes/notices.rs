//! A resident's notices (what happened to their orders), and their acceptance of WeChat
//! subscribe messages. What gives a notice is `domain::notices`'.

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use shared::api::{Notice, SmsNotices, Subscribe};
use shared::{ErrorBody, ErrorCode};

/// The caller's notices, newest first (the latest 50).
#[utoipa::path(tag = "notices", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<Notice>), (status = 401, body = ErrorBody)))]
#[get("/me/notices")]
pub async fn mine(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<Notice>>> {
    // The newest 500 are what a resident can page through.
    let items: Vec<Notice> = state
        .store
        .notices()
        .for_user(auth.user.id, shared::api::MAX_LIMIT)
        .await?
        .into_iter()
        .map(|n| Notice {
            id: n.id,
            order_id: n.order_id.map(shared::OrderId),
            kind: n.kind,
            title: n.title,
            body: n.body,
            created_at: n.created_at,
        })
        .collect();
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), |_, n| std::cmp::Reverse(n.id))?))
}

/// The kinds of subscribe message the resident just accepted (`wx.requestSubscribeMessage`):
/// each acceptance lets one message of its kind be sent.
#[utoipa::path(
    tag = "notices",
    security(("bearer" = [])),
    request_body = Subscribe,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[post("/me/subscriptions")]
pub async fn subscribe(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<Subscribe>,
) -> ApiResult<HttpResponse> {
    let kinds: Vec<&str> = body.kinds.iter().map(String::as_str).collect();
    if kinds.is_empty() || kinds.len() > 10 {
        return Err(ApiError::new(ErrorCode::InvalidField, "kinds: one to ten"));
    }
    if let Some(bad) = kinds.iter().find(|k| !crate::domain::notices::KINDS.contains(k)) {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            format!("kinds: {bad:?} is not one of {:?}", crate::domain::notices::KINDS),
        ));
    }
    state.store.notices().subscribe(auth.user.id, &kinds).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the caller's notices also come by SMS (for residents without WeChat).
#[utoipa::path(tag = "notices", security(("bearer" = [])), responses((status = 200, body = SmsNotices), (status = 401, body = ErrorBody)))]
#[get("/me/sms-notices")]
pub async fn sms_choice(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<SmsNotices>> {
    Ok(web::Json(SmsNotices { on: state.store.notices().sms_chosen(auth.user.id).await? }))
}

/// The caller asks for their notices by SMS when WeChat cannot bring them (no WeChat, or no
/// acceptance left), or no longer. Needs a phone on record (409 otherwise).
#[utoipa::path(
    tag = "notices",
    security(("bearer" = [])),
    request_body = SmsNotices,
    responses((status = 200, body = SmsNotices), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[put("/me/sms-notices")]
pub async fn choose_sms(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<SmsNotices>,
) -> ApiResult<web::Json<SmsNotices>> {
    if !state.store.notices().choose_sms(auth.user.id, body.on).await? {
        return Err(ApiError::new(
            ErrorCode::WrongState,
            "短信通知需要先绑定手机号 (notices by SMS need a phone on record)",
        ));
    }
    Ok(web::Json(SmsNotices { on: body.on }))
}

/// Demo mode only: the subscribe messages the WeChat simulator received (what residents' WeChat
/// would show), for tests and the curious.
#[utoipa::path(tag = "demo", responses((status = 200), (status = 404, body = ErrorBody)))]
#[get("/demo/wechat-messages")]
pub async fn demo_messages(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let base = state.simulator_url.as_deref().ok_or_else(|| ApiError::not_found("demo API"))?;
    let all: serde_json::Value = state
        .http
        .get(format!("{base}/sim/messages"))
        .send()
        .await
        .map_err(|e| ApiError::internal("WeChat simulator", e))?
        .json()
        .await
        .map_err(|e| ApiError::internal("WeChat simulator reply", e))?;
    Ok(HttpResponse::Ok().json(all))
}
