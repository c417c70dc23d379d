//! Checkout and the resident's orders.

use crate::auth::AuthUser;
use crate::domain::checkout::{self, new_handoff_code, request_hash, Answer, CheckoutJob};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::checkout::CancelOutcome;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use shared::api::{CheckoutRequest, Order, OrderSummary};
use shared::{ErrorBody, ErrorCode};

/// Checks out the caller's whole cart in one atomic step: the slot place and every line's
/// stock are taken together or not at all. Send a fresh `Idempotency-Key` for each attempt
/// and the same one when retrying it.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Client-made unique string per checkout attempt")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, body = Order),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such slot"),
        (status = 409, body = ErrorBody, description = "`slot_full`, `slot_closed`, `out_of_stock`, `over_limit`, `cart_empty` or `idempotency_key_in_use`"),
        (status = 422, body = ErrorBody, description = "`idempotency_key_mismatch`"),
    )
)]
#[post("/orders")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<CheckoutRequest>,
) -> ApiResult<HttpResponse> {
    state.limits.check(crate::limits::Limit::CheckoutPerUser, auth.user.id)?;
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidField, "the Idempotency-Key header is required"))?
        .to_owned();
    checkout::validate_key(&key).map_err(|(c, m)| ApiError::new(c, m))?;
    let body = body.into_inner();
    checkout::validate(&body).map_err(|(c, m)| ApiError::new(c, m))?;
    let now = chrono::Utc::now();
    let job = CheckoutJob {
        user_id: auth.user.id,
        key,
        request_hash: request_hash(&body),
        slot_id: body.slot_id,
        payment: body.payment,
        address: body.address,
        note: body.note,
        handoff_code: new_handoff_code(),
        now,
        pay_by: now + chrono::Duration::from_std(state.config.payment_timeout).unwrap_or_default(),
        lines: None,
        pickup_point_id: body.pickup_point_id,
    };
    let answer = state.store.orders().checkout(vec![job]).await?.pop();
    let outcome = match &answer {
        Some(Answer::Placed(_)) => "placed",
        Some(Answer::Refused(refusal)) => refusal.code.as_str(),
        Some(Answer::KeyMismatch) => ErrorCode::IdempotencyKeyMismatch.as_str(),
        Some(Answer::KeyInUse) => ErrorCode::IdempotencyKeyInUse.as_str(),
        None => "none",
    };
    crate::metrics::Metrics::count(&state.metrics.checkouts, outcome);
    match answer {
        // A key's first answer again is rendered as it was: the order as placed, or the refusal.
        Some(Answer::Placed(order)) => Ok(HttpResponse::Created().json(order)),
        Some(Answer::Refused(refusal)) => Err(refusal.into()),
        Some(Answer::KeyMismatch) => Err(ApiError::new(
            ErrorCode::IdempotencyKeyMismatch,
            "this Idempotency-Key was used with a different request; make a new key for a new checkout",
        )),
        Some(Answer::KeyInUse) => {
            Err(ApiError::new(ErrorCode::IdempotencyKeyInUse, "this checkout is still being processed; retry shortly"))
        }
        None => Err(ApiError::internal("checkout", "the checkout engine gave no answer")),
    }
}

/// The caller's own orders (and their household's group-buy orders), newest first, a page at a
/// time (`limit`, `cursor`).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(shared::api::PageQuery),
    responses((status = 200, body = shared::api::Page<OrderSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/orders")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<OrderSummary>>> {
    let limit = super::page_limit(query.limit)?;
    let before = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.strip_prefix('o').and_then(|id| id.parse::<i64>().ok()).ok_or_else(super::bad_cursor)?),
    };
    let household = auth.user.household.as_ref().map(|h| h.id.get());
    let (items, next) = state.store.orders().for_user(auth.user.id, household, limit, before).await?;
    Ok(web::Json(shared::api::Page { items, next_cursor: next.map(|id| format!("o{id}")) }))
}

/// One order with its lines, stall parts and timeline. Another resident's order is 404;
/// staff see any order of their market (another market's 404) but never its hand-off code.
#[utoipa::path(tag = "orders", security(("bearer" = [])), responses((status = 200, body = Order), (status = 404, body = ErrorBody)))]
#[get("/orders/{id}")]
pub async fn detail(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Order>> {
    let (owner, mut order) =
        state.store.orders().get(id.into_inner()).await?.ok_or_else(|| ApiError::not_found("order"))?;
    let mine = owner.is(auth.user.id, auth.user.household.as_ref().map(|h| h.id.get()));
    if !mine && !super::batches::staff_of_order(&state, &auth, order.id.get()).await? {
        return Err(ApiError::not_found("order"));
    }
    let refunds = state.store.payments().refunds(order.id.get()).await?;
    order.refunds = refunds
        .into_iter()
        .map(|r| shared::api::Refund { amount_fen: r.amount, reason: r.reason, status: r.status })
        .collect();
    if let Some(address) = order.address.as_ref().filter(|_| !order.status.is_final()) {
        order.to_gate = state.store.setup().closed(&address.building).await?;
    }
    if !mine {
        order.handoff_code = None;
    } else if !order.status.is_final() {
        // On its way (or before): the code as a QR code too, for the volunteer to scan.
        order.handoff_qr = order
            .handoff_code
            .as_deref()
            .and_then(|code| crate::qr::svg(&shared::order::handoff_qr_text(order.id.get(), code)));
    }
    Ok(web::Json(order))
}

/// Cancels the caller's order while no stall has confirmed it; stock and the slot place go back.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = Order), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`not_cancellable`"))
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Order>> {
    let id = id.into_inner();
    match state.store.orders().cancel(id, auth.user.id, chrono::Utc::now()).await? {
        CancelOutcome::Cancelled => {}
        CancelOutcome::NotFound => return Err(ApiError::not_found("order")),
        CancelOutcome::NotCancellable(status) => {
            return Err(ApiError::new(
                ErrorCode::NotCancellable,
                format!(
                    "订单已{}，不能取消 (an order that is {} cannot be cancelled)",
                    status.as_str(),
                    status.as_str()
                ),
            ))
        }
    }
    let (_, order) = state.store.orders().get(id).await?.ok_or_else(|| ApiError::not_found("order"))?;
    Ok(web::Json(order))
}
