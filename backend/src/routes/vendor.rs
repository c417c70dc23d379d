//! A stall's console: the parts of orders for the caller's own stall, confirmed (with what it
//! cannot supply) and packed. The rules are `shared::order`'s and `domain::stall`'s.

use crate::auth::VendorUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, http::header, patch, post, web, HttpResponse};
use shared::api::{ConfirmPart, Product, StallEvent, UpdateProductRequest, VendorOrdersQuery, VendorPart};
use shared::order::PartStep;
use shared::ErrorBody;

pub(crate) fn stall(vendor: &VendorUser) -> ApiResult<i64> {
    vendor.0.user.vendor_id.ok_or_else(|| ApiError::forbidden("这个账户没有摊位 (this account keeps no stall)"))
}

/// The parts of orders for the caller's stall, for one slot or every open one: lines, where
/// they go, a masked phone; never the full phone or the hand-off code.
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    params(VendorOrdersQuery),
    responses((status = 200, body = shared::api::Page<VendorPart>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/vendor/orders")]
pub async fn parts(
    state: web::Data<AppState>,
    vendor: VendorUser,
    query: web::Query<VendorOrdersQuery>,
) -> ApiResult<web::Json<shared::api::Page<VendorPart>>> {
    let stall = stall(&vendor)?;
    let all = state.store.stalls().parts(stall, query.slot_id.map(|s| s.get()), chrono::Utc::now()).await?;
    let key = |_: usize, p: &VendorPart| {
        (p.slot_starts_at.clone(), p.slot_id, p.building.clone(), p.unit.clone(), p.room.clone(), p.order_id)
    };
    Ok(web::Json(super::paged(all, query.limit, query.cursor.as_deref(), key)?))
}

/// The stall's live feed, as server-sent events: `ready` at once, then an `order` event
/// (`StallEvent`) within a second of each order placed with a part at the stall and of each
/// step it takes; `resync` when the console fell behind and should reload; `ended`, and the end
/// of the stream, within seconds of the login ending (logout, expiry, the stall taken away).
/// Read with `fetch`
/// (the login goes in the Authorization header, as everywhere).
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", body = StallEvent),
        (status = 403, body = ErrorBody)
    )
)]
#[get("/vendor/events")]
pub async fn events(state: web::Data<AppState>, vendor: VendorUser) -> ApiResult<HttpResponse> {
    let stall = stall(&vendor)?;
    let login = crate::feed::FeedLogin {
        store: state.store.clone(),
        user_id: vendor.0.user.id,
        jti: vendor.0.jti.clone(),
        expires_at: vendor.0.expires_at,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Told to nginx: pass each event on as it comes.
        .insert_header(("X-Accel-Buffering", "no"))
        // Never compressed: a compressor would hold events back until its buffer fills.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(crate::feed::events(stall, state.feed.subscribe(), login)))
}

async fn step(
    state: &AppState,
    vendor: &VendorUser,
    part_id: i64,
    step: PartStep,
    shortages: &[(shared::ProductId, i64)],
) -> ApiResult<web::Json<VendorPart>> {
    let stall = stall(vendor)?;
    let by = vendor.0.user.id;
    state.store.stalls().step(stall, part_id, step, shortages, by, chrono::Utc::now()).await??;
    state.store.stalls().part(stall, part_id).await?.map(web::Json).ok_or_else(|| ApiError::not_found("order part"))
}

/// Confirms the part: the stall will supply it, less the shortages it names (they do not come
/// and are not paid for; the resident sees them and the new total). A part of another stall: 404.
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    request_body = ConfirmPart,
    responses(
        (status = 200, body = VendorPart),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_state`: not a step this part or order can take now"),
    )
)]
#[post("/vendor/orders/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
    body: Option<web::Json<ConfirmPart>>,
) -> ApiResult<web::Json<VendorPart>> {
    let shortages: Vec<(shared::ProductId, i64)> =
        body.map(|b| b.into_inner().shortages.iter().map(|s| (s.product_id, s.quantity)).collect()).unwrap_or_default();
    step(&state, &vendor, id.into_inner(), PartStep::Confirm, &shortages).await
}

/// Marks the part packed, ready for collection.
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    responses((status = 200, body = VendorPart), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/vendor/orders/{id}/packed")]
pub async fn packed(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<VendorPart>> {
    step(&state, &vendor, id.into_inner(), PartStep::Pack, &[]).await
}

/// A stall holder changes their own product as staff do (stock, price into the price-stability
/// record with who and when, name, unit, category, limit, origin, description, `on_sale`), but
/// not its ceiling. Another stall's product: 404.
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, body = Product),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`price_capped`: over the emergency price cap; `already_exists`: the stall sells a product of that name")
    )
)]
#[patch("/vendor/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
    body: web::Json<UpdateProductRequest>,
) -> ApiResult<web::Json<Product>> {
    let stall = stall(&vendor)?;
    let id = id.into_inner();
    let theirs = state.store.catalogue().product_any(id).await?.is_some_and(|p| p.vendor_id == stall);
    if !theirs {
        return Err(ApiError::not_found("product"));
    }
    if body.price_ceiling_fen.is_some() {
        return Err(ApiError::forbidden("只有市场工作人员能设限价 (only staff set a price ceiling)"));
    }
    super::admin::change_product(&state, None, id, body.into_inner(), vendor.0.user.id).await
}
