//! The deployment's markets: the public list, opening one (the first market's staff), and which
//! market a public list is of (`market_of`).

use crate::auth::{AuthUser, StaffUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{dev::Payload, get, post, web, FromRequest, HttpRequest, HttpResponse};
use shared::api::{List, Market, NewMarket};
use shared::{ErrorBody, MarketId};

/// The market a public list is of: the one asked for (404 when there is none), else the
/// caller's when they are logged in (a token that no longer works counts as none: a catalogue
/// never fails for a stale login), else the first market.
pub async fn market_of(state: &AppState, req: &HttpRequest, asked: Option<MarketId>) -> ApiResult<MarketId> {
    if let Some(id) = asked {
        return if state.store.markets().exists(id).await? { Ok(id) } else { Err(ApiError::not_found("market")) };
    }
    if req.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
        if let Ok(user) = AuthUser::from_request(req, &mut Payload::None).await {
            return Ok(user.user.market_id);
        }
    }
    Ok(MarketId::FIRST)
}

/// A thing of the worker's own market: `found` is its market (None: there is no such thing);
/// another market's is as if it were not there (404, `domain::markets::elsewhere`).
pub fn ours(worker: MarketId, found: Option<MarketId>, what: &str) -> ApiResult<()> {
    let market = found.ok_or_else(|| ApiError::not_found(what))?;
    match crate::domain::markets::elsewhere(worker, market, what) {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

/// The deployment's markets, in the order they were opened.
#[utoipa::path(tag = "markets", responses((status = 200, body = List<Market>)))]
#[get("/markets")]
pub async fn markets(state: web::Data<AppState>) -> ApiResult<web::Json<List<Market>>> {
    Ok(web::Json(List { items: state.store.markets().all().await? }))
}

/// Opens a market (the first market's staff) with its first staff member, who then sets it up
/// as any market's staff do (buildings, stalls, slots, people).
#[utoipa::path(tag = "markets", security(("bearer" = [])), request_body = NewMarket, responses((status = 201, body = Market), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not the first market's staff, or the staff phone belongs to another market"), (status = 409, body = ErrorBody, description = "`already_exists`: the name is taken")))]
#[post("/admin/markets")]
pub async fn open_market(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewMarket>,
) -> ApiResult<HttpResponse> {
    let phone = shared::Phone::parse(body.staff_phone.trim())
        .map_err(|_| crate::domain::Refusal::field("staff_phone", "须为11位手机号 (an 11-digit mobile number)"))?;
    let new = NewMarket { name: body.name.clone(), staff_phone: phone.as_str().to_owned() };
    let user = &staff.0.user;
    let opened =
        state.store.markets().open(state.store.accounts(), &new, user.id, user.market_id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(opened))
}
