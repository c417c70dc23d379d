//! Staff tools.

use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, patch, web};
use shared::api::{FlagHousehold, Household, List, Product, UpdateProductRequest};
use shared::domain::parse_stock;
use shared::{ErrorBody, ErrorCode, Fen};

/// Sets a product's stock and/or price. Price changes go into the price-stability record.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, body = Product),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
#[patch("/admin/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateProductRequest>,
) -> ApiResult<web::Json<Product>> {
    let body = body.into_inner();
    if body.stock.is_none() && body.price_fen.is_none() {
        return Err(ApiError::new(ErrorCode::InvalidField, "give `stock` and/or `price_fen`"));
    }
    let stock = body
        .stock
        .map(parse_stock)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidField, format!("stock: {e}")))?;
    let price = body
        .price_fen
        .map(|p| Fen::price(p.get()))
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidField, format!("price_fen: {e}")))?;
    state
        .store
        .update_product(id.into_inner(), stock, price.map(Fen::get), staff.0.user.id, chrono::Utc::now())
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("product"))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HouseholdQuery {
    /// Building number, e.g. `3`.
    pub building: Option<String>,
}

/// Households on record, by building (staff).
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(HouseholdQuery), responses((status = 200, body = List<Household>), (status = 403, body = ErrorBody)))]
#[get("/admin/households")]
pub async fn households(
    state: web::Data<AppState>,
    _staff: StaffUser,
    query: web::Query<HouseholdQuery>,
) -> ApiResult<web::Json<List<Household>>> {
    Ok(web::Json(List { items: state.store.households(query.building.as_deref()).await? }))
}

/// Flags a household as quarantined, in hardship or elderly: it gets the slots' priority reserve.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = FlagHousehold,
    responses((status = 200, body = Household), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/households/{id}")]
pub async fn flag_household(
    state: web::Data<AppState>,
    _staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<FlagHousehold>,
) -> ApiResult<web::Json<Household>> {
    let b = body.into_inner();
    if b.quarantined.is_none() && b.hardship.is_none() && b.elderly.is_none() {
        return Err(ApiError::new(ErrorCode::InvalidField, "give `quarantined`, `hardship` and/or `elderly`"));
    }
    state
        .store
        .flag_household(id.into_inner(), b.quarantined, b.hardship, b.elderly)
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("household"))
}
