//! The resident's cart, kept on the server so it follows them from phone to phone.

use crate::auth::AuthUser;
use crate::domain::checkout::{line_refusal, Offer, MAX_LINE_QUANTITY};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::checkout::CartLineRecord;
use actix_web::{get, put, web};
use shared::api::{Cart, CartItem, SetCartQuantity};
use shared::{ErrorBody, ErrorCode, Fen};

/// Lines priced at today's prices, with anything that cannot be bought as it is flagged.
pub fn cart_view(lines: Vec<CartLineRecord>) -> Cart {
    let items: Vec<CartItem> = lines
        .into_iter()
        .map(|l| {
            let offer = Offer {
                name: &l.name,
                unit: &l.unit,
                active: l.active,
                stock: l.stock,
                per_order_limit: l.per_order_limit,
            };
            let available = line_refusal(offer, l.quantity).is_none();
            CartItem {
                product_id: shared::ProductId(l.product_id),
                vendor_id: l.vendor_id,
                vendor_name: l.vendor_name,
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: Fen::stored(l.price_fen),
                line_total_fen: Fen::stored(l.price_fen).times(l.quantity),
                stock: l.stock,
                per_order_limit: l.per_order_limit,
                available,
                price_was_fen: (l.price_fen_at_add != l.price_fen).then_some(Fen::stored(l.price_fen_at_add)),
                photo: l.photo.as_deref().map(crate::photos::urls),
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
    Ok(web::Json(cart_view(state.store.cart().lines(auth.user.id).await?)))
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
    let product =
        state.store.catalogue().product(product_id).await?.ok_or_else(|| ApiError::not_found("product"))?.product;
    // Listed products are sold (`store.product` finds only those).
    let offer = Offer {
        name: &product.name,
        unit: &product.unit,
        active: true,
        stock: product.stock,
        per_order_limit: product.per_order_limit,
    };
    if let Some(refusal) = line_refusal(offer, quantity).filter(|_| quantity > 0) {
        return Err(refusal.into());
    }
    let price = product.price_fen.get();
    state.store.cart().set_quantity(auth.user.id, product_id, quantity, price, chrono::Utc::now()).await?;
    Ok(web::Json(cart_view(state.store.cart().lines(auth.user.id).await?)))
}
