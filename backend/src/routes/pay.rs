//! Paying with WeChat Pay (API v3, mini-program JSAPI): the parameters for
//! `wx.requestPayment`, and the notification that moves the order to `paid`. What a verified
//! notification does is `domain::payment`'s; the cryptography is `wechat::pay`'s.

use crate::auth::AuthUser;
use crate::domain::payment::{Merchant, PaymentOutcome};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wechat::pay::{Notice, RequestPayment, Signed};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use shared::order::OrderStatus;
use shared::{ErrorBody, ErrorCode};

/// The payment parameters for the caller's order waiting for payment: the prepay is made with
/// WeChat Pay (once per order; pressing "pay" again reuses it) and signed for the mini-program.
#[utoipa::path(
    tag = "payment",
    security(("bearer" = [])),
    responses(
        (status = 200, body = RequestPayment),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_state`: not waiting for payment; `wechat_required`: no WeChat login to pay with"),
        (status = 503, body = ErrorBody, description = "`pay_unavailable`"),
    )
)]
#[post("/orders/{id}/pay")]
pub async fn pay_order(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<RequestPayment>> {
    let pay = state.pay.as_ref().ok_or_else(pay_unavailable)?;
    let (owner, order) =
        state.store.orders().get(id.into_inner()).await?.ok_or_else(|| ApiError::not_found("order"))?;
    if !owner.is(auth.user.id, auth.user.household.as_ref().map(|h| h.id.get())) {
        return Err(ApiError::not_found("order"));
    }
    let now = chrono::Utc::now();
    let open = order.expires_at.as_deref().and_then(|e| crate::domain::time::parse_api(e).ok()).is_none_or(|e| e > now);
    if order.status != OrderStatus::PendingPayment || !open {
        return Err(ApiError::new(
            ErrorCode::WrongState,
            format!("订单不是待付款 (the order is {}, not waiting for payment)", order.status.as_str()),
        ));
    }
    let payments = state.store.payments();
    let openid = payer_openid(&state, pay, &auth).await?;
    let payment = payments.ensure(order.id.get(), order.total_fen, &openid, now).await?;
    let prepay_id = match payment.prepay_id {
        Some(p) => p,
        None => {
            let expires = order.expires_at.as_deref().and_then(|e| crate::domain::time::parse_api(e).ok());
            let description = format!("傅鲜生网上菜场 订单{}", order.id);
            let prepay = pay
                .jsapi_prepay(&payment.out_trade_no, &description, payment.amount.get(), &payment.payer_openid, expires)
                .await
                .map_err(|e| pay_failed(&payment.out_trade_no, e))?;
            payments.set_prepay(&payment.out_trade_no, &prepay).await?;
            prepay
        }
    };
    Ok(web::Json(pay.request_payment(&prepay_id)))
}

/// The openid the caller pays with: their WeChat login's; in demo mode, a resident who logged
/// in by phone pays as the simulated WeChat user of their account.
pub(crate) async fn payer_openid(
    state: &AppState,
    pay: &crate::wechat::pay::PayClient,
    auth: &AuthUser,
) -> ApiResult<String> {
    match state.store.payments().openid(auth.user.id).await? {
        Some(openid) => Ok(openid),
        None if state.simulator_url.is_some() => {
            Ok(crate::wechat::simulator::openid_for(&pay.appid, &format!("account-{}", auth.user.id)))
        }
        None => Err(ApiError::new(
            ErrorCode::WechatRequired,
            "请先用微信登录再付款，或选择货到付款 (log in with WeChat to pay, or pay on delivery)",
        )),
    }
}

/// WeChat Pay not set up, or not answering.
pub(crate) fn pay_unavailable() -> ApiError {
    ApiError::new(ErrorCode::PayUnavailable, "微信支付未开通 (WeChat Pay is not set up)")
}

pub(crate) fn pay_failed(out_trade_no: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(%out_trade_no, error = %e, "WeChat Pay prepay failed");
    ApiError::new(ErrorCode::PayUnavailable, "微信支付暂时不可用，请稍后再试 (WeChat Pay did not answer)")
}

/// What WeChat Pay says of one `out_trade_no` (a notification or a query's answer), applied to
/// the order, the gift or the group-buy share it names.
pub(crate) async fn apply_notice(
    store: &crate::store::Store,
    notice: &crate::domain::payment::PaymentNotice,
    merchant: &Merchant<'_>,
) -> crate::store::StoreResult<Result<PaymentOutcome, crate::domain::Refusal>> {
    let now = chrono::Utc::now();
    if crate::store::money::donations::is_gift(&notice.out_trade_no) {
        store.donations().apply_payment(notice, merchant, now).await
    } else if crate::store::group_buys::share_payments::is_share(&notice.out_trade_no) {
        store.group_buys().apply_share_payment(notice, merchant, now).await
    } else {
        store.payments().apply(notice, merchant, now).await
    }
}

/// WeChat Pay's notification of a payment. The signature is checked over the raw body before
/// anything is read; then the resource is decrypted and checked against the order (merchant,
/// app, out_trade_no, amount). Only a verified, matching notification pays the order, once;
/// duplicates are answered 204 and change nothing; a forged or wrong one is refused and logged.
#[utoipa::path(tag = "payment", responses((status = 204), (status = 400), (status = 401)))]
#[post("/pay/notify")]
pub async fn notify(state: web::Data<AppState>, req: HttpRequest, body: String) -> HttpResponse {
    let Some(client) = state.pay.as_ref() else { return HttpResponse::NotFound().finish() };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = Signed {
        serial: header("Wechatpay-Serial"),
        signature: header("Wechatpay-Signature"),
        timestamp: header("Wechatpay-Timestamp"),
        nonce: header("Wechatpay-Nonce"),
    };
    let now = chrono::Utc::now();
    let fail = |status: actix_web::http::StatusCode, message: &str| {
        HttpResponse::build(status).json(serde_json::json!({ "code": "FAIL", "message": message }))
    };
    let notice = match client.notice(&signed, body.as_bytes(), now) {
        Ok(Notice::Payment(n)) => n,
        Ok(Notice::Refund { out_refund_no, status }) => {
            return match state.store.payments().refund_reported(&out_refund_no, &status, now).await {
                Ok(_) => HttpResponse::NoContent().finish(),
                Err(e) => {
                    tracing::error!(error = %e, "recording a refund's outcome failed");
                    fail(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "try again")
                }
            };
        }
        Ok(Notice::Other) => return HttpResponse::NoContent().finish(),
        Err(e) => {
            crate::metrics::Metrics::count(&state.metrics.payment_notifications, "unverified");
            tracing::warn!(error = %e, peer = ?req.peer_addr(), "payment notification refused");
            return fail(actix_web::http::StatusCode::UNAUTHORIZED, "verification failed");
        }
    };
    let merchant = Merchant { mchid: &client.mchid, appid: &client.appid };
    match apply_notice(state.store.as_ref(), &notice, &merchant).await {
        Ok(Ok(outcome)) => {
            let counted = if outcome == PaymentOutcome::RefundLate { "refund_late" } else { "paid" };
            crate::metrics::Metrics::count(&state.metrics.payment_notifications, counted);
            if outcome == PaymentOutcome::RefundLate {
                tracing::warn!(out_trade_no = %notice.out_trade_no, "payment came for an order that cannot take it: refund owed");
            }
            HttpResponse::NoContent().finish()
        }
        Ok(Err(refusal)) => {
            crate::metrics::Metrics::count(&state.metrics.payment_notifications, "refused");
            tracing::warn!(out_trade_no = %notice.out_trade_no, reason = %refusal.message, "payment notification refused");
            fail(actix_web::http::StatusCode::BAD_REQUEST, &refusal.message)
        }
        Err(e) => {
            crate::metrics::Metrics::count(&state.metrics.payment_notifications, "failed");
            tracing::error!(error = %e, "recording a payment failed");
            fail(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
    }
}

/// Demo mode only: stands in for `wx.requestPayment` on a phone (the simulated payment page),
/// through the simulator, which checks `paySign`, pays and notifies this server.
#[utoipa::path(tag = "demo", responses((status = 200), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/demo/wechat-pay")]
pub async fn demo_pay(
    state: web::Data<AppState>,
    body: web::Json<shared::api::DemoPayment>,
) -> ApiResult<HttpResponse> {
    let base = state.simulator_url.as_deref().ok_or_else(|| ApiError::not_found("demo API"))?;
    let res = state
        .http
        .post(format!("{base}/sim/requestPayment"))
        .json(&shared::api::DemoPayment { notify: Some(body.notify.unwrap_or(true)), ..body.into_inner() })
        .send()
        .await
        .map_err(|e| ApiError::internal("WeChat simulator", e))?;
    if !res.status().is_success() {
        return Err(ApiError::new(ErrorCode::InvalidField, "支付签名无效 (the payment was refused)"));
    }
    let answer: serde_json::Value = res.json().await.map_err(|e| ApiError::internal("WeChat simulator reply", e))?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Refunds not yet back with residents (owed, asked, failed), by refund number (staff): a failed
/// one was refused by WeChat Pay for good and needs a person.
#[utoipa::path(tag = "payment", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<shared::api::OpenRefund>), (status = 403, body = ErrorBody)))]
#[get("/admin/refunds")]
pub async fn open_refunds(
    state: web::Data<AppState>,
    staff: crate::auth::StaffUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<shared::api::OpenRefund>>> {
    let items: Vec<shared::api::OpenRefund> = state
        .store
        .payments()
        .open_refunds(staff.0.user.market_id, 500)
        .await?
        .into_iter()
        .map(|r| shared::api::OpenRefund {
            out_refund_no: r.out_refund_no,
            order_id: r.order_id.map(shared::OrderId),
            group_buy_id: r.group_buy_id.map(shared::GroupBuyId),
            amount_fen: r.amount,
            reason: r.reason,
            status: r.status,
        })
        .collect();
    // By refund number; a refund leaves the list when its money is back.
    let key = |_: usize, r: &shared::api::OpenRefund| r.out_refund_no.clone();
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), key)?))
}
