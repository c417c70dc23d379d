//! Dispatch and volunteers: a slot's delivery batches by building, claimed by one volunteer,
//! picked up, handed over door by door with the resident's code. The rules are
//! `domain::delivery`'s; who sees a manifest is decided here from the batch's volunteer.

use crate::auth::{AuthUser, StaffUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use shared::api::{Batch, BatchesQuery, HandoffRequest, List, Order};
use shared::order::BatchStatus;
use shared::{ErrorBody, Role};

fn may_dispatch(auth: &AuthUser) -> ApiResult<()> {
    if auth.has(Role::Staff) || auth.has(Role::Volunteer) {
        Ok(())
    } else {
        Err(ApiError::forbidden("只有志愿者和工作人员可以看配送批次 (volunteers and staff only)"))
    }
}

/// The batch as this caller may see it: the manifest (households, phones, notes) only for staff
/// and, until it is done, the volunteer who claimed it.
async fn seen(state: &AppState, auth: &AuthUser, id: i64) -> ApiResult<Batch> {
    let (batch, volunteer) =
        state.store.batches().batch(id, true).await?.ok_or_else(|| ApiError::not_found("batch"))?;
    let theirs = volunteer == Some(auth.user.id) && batch.status != BatchStatus::Done;
    if auth.has(Role::Staff) || theirs {
        return Ok(batch);
    }
    Ok(Batch { manifest: None, ..batch })
}

/// A slot's batches: one per building (a group-buy's drop is one), with their state, their
/// volunteer and since when they have waited (staff, volunteers).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(BatchesQuery), responses((status = 200, body = List<Batch>), (status = 403, body = ErrorBody)))]
#[get("/batches")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<BatchesQuery>,
) -> ApiResult<web::Json<List<Batch>>> {
    may_dispatch(&auth)?;
    Ok(web::Json(List { items: state.store.batches().list(query.slot_id, chrono::Utc::now()).await? }))
}

/// One batch; its manifest for its volunteer (until done) and staff.
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Batch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/batches/{id}")]
pub async fn detail(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    may_dispatch(&auth)?;
    Ok(web::Json(seen(&state, &auth, id.into_inner()).await?))
}

/// Claims a ready batch (volunteers): exactly one of several volunteers at once gets it; the
/// others are told 409 `already_claimed`.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Batch),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`already_claimed`, or `wrong_state` while stalls are still packing"),
    )
)]
#[post("/batches/{id}/claim")]
pub async fn claim(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    if !auth.has(Role::Volunteer) {
        return Err(ApiError::forbidden("只有志愿者可以认领 (volunteers claim batches)"));
    }
    let id = id.into_inner();
    state.store.batches().claim(id, auth.user.id, chrono::Utc::now()).await??;
    Ok(web::Json(seen(&state, &auth, id).await?))
}

/// The goods left the market: the batch is out and its orders out for delivery (its volunteer).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Batch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/batches/{id}/pickup")]
pub async fn pickup(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    may_dispatch(&auth)?;
    let id = id.into_inner();
    state.store.batches().pickup(id, auth.user.id, chrono::Utc::now()).await??;
    Ok(web::Json(seen(&state, &auth, id).await?))
}

async fn order_as_worker(state: &AppState, id: i64) -> ApiResult<web::Json<Order>> {
    let (_, mut order) = state.store.order(id).await?.ok_or_else(|| ApiError::not_found("order"))?;
    // The code is the resident's to show, never the worker's to read.
    order.handoff_code = None;
    Ok(web::Json(order))
}

/// Hands the order over without contact: the resident shows the 6-digit code, the volunteer
/// types it. A wrong code changes nothing but is counted; after 5 the order takes no more
/// until staff reset it.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    request_body = HandoffRequest,
    responses(
        (status = 200, body = Order),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_code`, `handoff_locked` or `wrong_state`"),
    )
)]
#[post("/orders/{id}/handoff")]
pub async fn handoff(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<HandoffRequest>,
) -> ApiResult<web::Json<Order>> {
    may_dispatch(&auth)?;
    let id = id.into_inner();
    let code = body.into_inner().code;
    state.store.batches().handoff(id, auth.user.id, auth.has(Role::Staff), &code, chrono::Utc::now()).await??;
    order_as_worker(&state, id).await
}

/// Lets an order take hand-off codes again after too many wrong ones (staff).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/orders/{id}/handoff/reset")]
pub async fn reset_handoff(
    state: web::Data<AppState>,
    _staff: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    if !state.store.batches().reset_handoff(id).await? {
        return Err(ApiError::not_found("order"));
    }
    let order = order_as_worker(&state, id).await?;
    Ok(HttpResponse::Ok().json(order.into_inner()))
}
