//! Setting the market up: the area it serves (its buildings; a closed one's deliveries go to
//! its gate), the catalogue's categories and stalls, and the audit record of every change to
//! the set-up. Staff only; the rules are `domain::area`'s and `domain::setup`'s.

use crate::auth::{StaffUser, VendorUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use shared::api::{
    AuditEntry, AuditQuery, Building, Category, NewBuilding, NewCategory, NewProduct, NewStall, Page, PageQuery,
    ProductDetail, UpdateBuilding, UpdateCategory, UpdateStall, Vendor,
};
use shared::{ErrorBody, ErrorCode};

/// Every building the market delivers to, by compound and number, with its households on record.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<Building>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/buildings")]
pub async fn buildings(
    state: web::Data<AppState>,
    _staff: StaffUser,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Building>>> {
    let items = state.store.setup().buildings().await?;
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), |i, _| i)?))
}

/// Adds a building to the area the market serves: from then on residents may give addresses
/// in it. Its number is the market's once (an address names a building by its number alone):
/// a number on record is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewBuilding,
    responses((status = 201, body = Building), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/buildings")]
pub async fn add_building(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewBuilding>,
) -> ApiResult<HttpResponse> {
    let made = state.store.setup().add_building(&body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Changes a building's units, or closes it (a quarantined compound: deliveries go to its
/// gate) and opens it again.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "building")),
    request_body = UpdateBuilding,
    responses((status = 200, body = Building), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/buildings/{id}")]
pub async fn change_building(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateBuilding>,
) -> ApiResult<web::Json<Building>> {
    let changed = state
        .store
        .setup()
        .change_building(id.into_inner(), &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("building"))??;
    Ok(web::Json(changed))
}

/// Adds a category of goods: shown in the catalogue at once (its key, made from the English
/// name, is what `GET /products?category=` takes). A name on record is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses((status = 201, body = Category), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/categories")]
pub async fn add_category(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewCategory>,
) -> ApiResult<HttpResponse> {
    let made = state.store.setup().add_category(&body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Changes a category's names, place in the list or emoji (its key stays).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the category's key, e.g. `vegetable`")),
    request_body = UpdateCategory,
    responses((status = 200, body = Category), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[patch("/admin/categories/{id}")]
pub async fn change_category(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<String>,
    body: web::Json<UpdateCategory>,
) -> ApiResult<web::Json<Category>> {
    let changed = state
        .store
        .setup()
        .change_category(&id, &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("category"))??;
    Ok(web::Json(changed))
}

/// Adds a stall of the market hall (its number `hall` + `number`, e.g. `A03`; a number on
/// record is 409 `already_exists`). Its holder is given with `PUT /admin/users/{phone}/roles`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewStall,
    responses((status = 201, body = Vendor), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/stalls")]
pub async fn add_stall(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewStall>,
) -> ApiResult<HttpResponse> {
    let made = state.store.setup().add_stall(&body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Changes a stall's name, category or description (its number stays).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "stall")),
    request_body = UpdateStall,
    responses((status = 200, body = Vendor), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/stalls/{id}")]
pub async fn change_stall(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateStall>,
) -> ApiResult<web::Json<Vendor>> {
    let changed = state
        .store
        .setup()
        .change_stall(id.into_inner(), &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("stall"))??;
    Ok(web::Json(changed))
}

/// Adds a product to a stall (staff; `vendor_id` required): on sale at once, its first price
/// in the public price record (稳物价). A name the stall sells already is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses((status = 201, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/products")]
pub async fn add_product(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewProduct>,
) -> ApiResult<HttpResponse> {
    let vendor = body.vendor_id.ok_or_else(|| ApiError::new(ErrorCode::InvalidField, "vendor_id: which stall"))?;
    new_product(&state, vendor, &body, staff.0.user.id).await
}

/// A stall holder adds a product to their own stall (the same body without `vendor_id`).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses((status = 201, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/vendor/products")]
pub async fn add_own_product(
    state: web::Data<AppState>,
    holder: VendorUser,
    body: web::Json<NewProduct>,
) -> ApiResult<HttpResponse> {
    if body.vendor_id.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidField, "vendor_id: a stall adds products to itself only"));
    }
    new_product(&state, super::vendor::stall(&holder)?, &body, holder.0.user.id).await
}

async fn new_product(state: &AppState, vendor: i64, body: &NewProduct, by: i64) -> ApiResult<HttpResponse> {
    let id = state
        .store
        .setup()
        .add_product(vendor, body, by, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("stall"))??;
    let made = state.store.catalogue().product(id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    Ok(HttpResponse::Created().json(made))
}

/// The record of changes to the market's set-up, newest first: who, when, before and after.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    _staff: StaffUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    let items = state.store.setup().audit(query.subject.as_deref()).await?;
    Ok(web::Json(super::paged(items, query.limit, query.cursor.as_deref(), |_, e| -e.id)?))
}
