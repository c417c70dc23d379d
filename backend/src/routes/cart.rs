//! The resident's cart, kept on the server so it follows them from phone to phone.

use crate::auth::AuthUser;
use crate::domain::checkout::MAX_LINE_QUANTITY;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::CartLineRecord;
use actix_web::{get, put, web};
use shared::api::{Cart, CartItem, SetCartQuantity};
use shared::{ErrorBody, ErrorCode};

/// Lines priced at today's prices, with anything that cannot be bought as it is flagged.
pub fn cart_view(lines: Vec<CartLineRecord>) -> Cart {
    let items: Vec<CartItem> = lines
        .into_iter()
        .map(|l| {
            let within_limit = l.per_order_limit.is_none_or(|limit| l.quantity <= limit);
            CartItem {
                product_id: l.product_id,
                vendor_id: l.vendor_id,
                vendor_name: l.vendor_name,
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: l.price_fen,
                line_total_fen: l.price_fen * l.quantity,
                stock: l.stock,
                per_order_limit: l.per_order_limit,
                available: l.active && l.stock >= l.quantity && within_limit,
                price_was_fen: (l.price_fen_at_add != l.price_fen).then_some(l.price_fen_at_add),
            }
        })
        .collect();
    let total_fen = items.iter().map(|i| i.line_total_fen).sum();
    let has_problems = items.iter().any(|i| !i.available);
    Cart { items, total_fen, has_problems }
}

/// The caller's cart.
#[utoipa::path(tag = "cart", security(("bearer" = [])), responses((status = 200, body = Cart), (status = 401, body = ErrorBody)))]
#[get("/cart")]
pub async fn get_cart(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<Cart>> {
    Ok(web::Json(cart_view(state.store.cart(auth.user.id).await?)))
}

/// Sets how many of a product are in the cart; 0 removes the line.
#[utoipa::path(
    tag = "cart",
    security(("bearer" = [])),
    request_body = SetCartQuantity,
    responses(
        (status = 200, body = Cart),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such product"),
        (status = 409, body = ErrorBody, description = "`out_of_stock` or `over_limit`"),
    )
)]
#[put("/cart/items/{product_id}")]
pub async fn set_item(
    state: web::Data<AppState>,
    auth: AuthUser,
    product_id: web::Path<i64>,
    body: web::Json<SetCartQuantity>,
) -> ApiResult<web::Json<Cart>> {
    let product_id = product_id.into_inner();
    let quantity = body.quantity;
    if !(0..=MAX_LINE_QUANTITY).contains(&quantity) {
        return Err(ApiError::new(ErrorCode::InvalidField, format!("quantity must be 0 to {MAX_LINE_QUANTITY}")));
    }
    let product = state.store.product(product_id).await?.ok_or_else(|| ApiError::not_found("product"))?.product;
    if quantity > 0 {
        if let Some(limit) = product.per_order_limit.filter(|l| quantity > *l) {
            return Err(ApiError::new(
                ErrorCode::OverLimit,
                format!(
                    "{} 每单限购{limit}{} ({}: at most {limit} per order)",
                    product.name, product.unit, product.name
                ),
            ));
        }
        if quantity > product.stock {
            return Err(ApiError::new(
                ErrorCode::OutOfStock,
                format!("{} 只剩{}{} (only {} left)", product.name, product.stock, product.unit, product.stock),
            ));
        }
    }
    state.store.set_cart_quantity(auth.user.id, product_id, quantity, product.price_fen, chrono::Utc::now()).await?;
    Ok(web::Json(cart_view(state.store.cart(auth.user.id).await?)))
}
