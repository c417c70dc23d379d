//! Satellite pickup points (自提点): staff set them up, residents choose one at checkout, the
//! volunteer drops a point's batch there, and the keeper sees what waits and hands each order
//! over by its code (`POST /orders/{id}/handoff`).

use crate::auth::{AuthUser, StaffUser};
use crate::domain::points::check_point;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use shared::api::{List, NewPickupPoint, PickupPoint, PointOrder, PointQuery};
use shared::ErrorBody;

/// The open pickup points; with `slot_id`, the places each has left in that slot.
#[utoipa::path(tag = "points", params(PointQuery), responses((status = 200, body = List<PickupPoint>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/pickup-points")]
pub async fn open_points(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<PointQuery>,
) -> ApiResult<web::Json<List<PickupPoint>>> {
    let market = super::markets::market_of(&state, &req, q.market_id).await?;
    Ok(web::Json(List { items: state.store.points().all(market, false, q.slot_id).await? }))
}

/// Every point, closed ones too, with its keeper's phone (staff).
#[utoipa::path(tag = "points", security(("bearer" = [])), responses((status = 200, body = List<PickupPoint>), (status = 403, body = ErrorBody)))]
#[get("/admin/pickup-points")]
pub async fn all_points(state: web::Data<AppState>, staff: StaffUser) -> ApiResult<web::Json<List<PickupPoint>>> {
    Ok(web::Json(List { items: state.store.points().all(staff.0.user.market_id, true, None).await? }))
}

/// Staff set up a point: address, opening hours, orders per slot, keeper, what happens to an
/// order nobody collects.
#[utoipa::path(tag = "points", security(("bearer" = [])), request_body = NewPickupPoint, responses((status = 201, body = PickupPoint), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: the name is taken")))]
#[post("/admin/pickup-points")]
pub async fn add_point(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewPickupPoint>,
) -> ApiResult<HttpResponse> {
    let point = check_point(&body)?;
    let saved =
        state.store.points().save(staff.0.user.market_id, None, &point, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(saved.ok_or_else(|| ApiError::not_found("pickup point"))?))
}

/// Staff change a point (`active: false` takes no new orders; those there stay).
#[utoipa::path(tag = "points", security(("bearer" = [])), request_body = NewPickupPoint, responses((status = 200, body = PickupPoint), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/admin/pickup-points/{id}")]
pub async fn change_point(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<NewPickupPoint>,
) -> ApiResult<web::Json<PickupPoint>> {
    let point = check_point(&body)?;
    let saved = state
        .store
        .points()
        .save(staff.0.user.market_id, Some(id.into_inner()), &point, staff.0.user.id, chrono::Utc::now())
        .await??;
    Ok(web::Json(saved.ok_or_else(|| ApiError::not_found("pickup point"))?))
}

/// The keeper's list: orders waiting at their points (first) and on their way.
#[utoipa::path(tag = "points", security(("bearer" = [])), responses((status = 200, body = List<PointOrder>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not a point's keeper")))]
#[get("/keeper/orders")]
pub async fn keeper_orders(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<List<PointOrder>>> {
    if !state.store.points().keeps(auth.user.id).await? {
        return Err(ApiError::forbidden("您不是自提点的管理员 (you keep no pickup point)"));
    }
    Ok(web::Json(List { items: state.store.points().keeper_orders(auth.user.id, chrono::Utc::now()).await? }))
}

/// The batch's volunteer left a point's batch at the point: its orders wait there for their
/// households until the point closes; the round is done.
#[utoipa::path(tag = "points", security(("bearer" = [])), responses((status = 200, body = shared::api::Batch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: not out, or not a point's batch")))]
#[post("/batches/{id}/drop")]
pub async fn drop_at_point(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<shared::api::Batch>> {
    let id = id.into_inner();
    state.store.batches().drop_at_point(id, auth.user.id, chrono::Utc::now()).await??;
    let (batch, _) = state.store.batches().batch(id, false).await?.ok_or_else(|| ApiError::not_found("batch"))?;
    Ok(web::Json(batch))
}
