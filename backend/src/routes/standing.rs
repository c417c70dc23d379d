//! Standing orders (常购): a resident keeps a box or a list every N days in a slot window; the
//! `standing-orders` job places each day's order through the checkout (`jobs.rs`). Each is its
//! resident's own: anyone else's is 404.

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use shared::api::{List, StandingOrder, StandingOrderPatch, StandingOrderRequest};
use shared::{ErrorBody, ErrorCode};

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "没有这个常购 (no such standing order)")
}

/// A new standing order: its first order is tried from the day before `first_on` (tomorrow
/// without it), in the first slot of the window with a place.
#[utoipa::path(
    tag = "standing orders",
    security(("bearer" = [])),
    request_body = StandingOrderRequest,
    responses(
        (status = 201, body = StandingOrder),
        (status = 400, body = ErrorBody, description = "a field is wrong (`invalid_field`)"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`not_eligible`: the pool does not pay for this household"),
        (status = 404, body = ErrorBody, description = "a product is not on sale"),
        (status = 409, body = ErrorBody, description = "`over_limit`, or already 5 standing orders (`wrong_state`)"),
    )
)]
#[post("/me/standing-orders")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<StandingOrderRequest>,
) -> ApiResult<HttpResponse> {
    let made = state.store.standing().create(auth.user.id, &body, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// The caller's standing orders, oldest first, each with its next day and its last try.
#[utoipa::path(
    tag = "standing orders",
    security(("bearer" = [])),
    responses((status = 200, body = List<StandingOrder>), (status = 401, body = ErrorBody))
)]
#[get("/me/standing-orders")]
pub async fn list(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<List<StandingOrder>>> {
    Ok(web::Json(List { items: state.store.standing().list(auth.user.id).await? }))
}

/// Changes a standing order: its items, interval, slot, payment, next day, paused; `skip_next`
/// moves the next day on by one interval. An order already placed is the household's to cancel
/// on its own page.
#[utoipa::path(
    tag = "standing orders",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = StandingOrderPatch,
    responses(
        (status = 200, body = StandingOrder),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    )
)]
#[patch("/me/standing-orders/{id}")]
pub async fn change(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<StandingOrderPatch>,
) -> ApiResult<web::Json<StandingOrder>> {
    let changed = state.store.standing().change(auth.user.id, *id, &body, chrono::Utc::now()).await?;
    Ok(web::Json(changed.ok_or_else(not_found)??))
}

/// Ends a standing order; orders it placed stay.
#[utoipa::path(
    tag = "standing orders",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/me/standing-orders/{id}")]
pub async fn end(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    if !state.store.standing().end(auth.user.id, *id, chrono::Utc::now()).await? {
        return Err(not_found());
    }
    Ok(HttpResponse::NoContent().finish())
}
