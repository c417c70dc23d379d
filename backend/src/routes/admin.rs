//! Staff tools.

use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;
use actix_web::{patch, web};
use shared::api::{Product, UpdateProductRequest};
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
        .map(Fen::new)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidField, format!("price_fen: {e}")))?;
    state
        .store
        .update_product(id.into_inner(), stock, price.map(Fen::get), staff.0.user.id, chrono::Utc::now())
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("product"))
}
