//! Producers (产销对接): staff add them; a producer publishes offers by delivery day and sees its
//! purchase orders; a stall orders from the offers until the producer's cut-off; staff see the
//! supply plan. The rules are `domain::supply`'s.

use super::lots::DayQuery;
use crate::auth::{AuthUser, ProducerUser, StaffUser, VendorUser};
use crate::domain::time::{shanghai_date, shanghai_day};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use shared::api::{
    List, NewOffer, NewProducer, Offer, Producer, PurchaseLine, PurchaseOrder, PurchaseRequest, SupplyPlan,
};
use shared::{ErrorBody, ErrorCode, Role};

/// The day asked for (today, Shanghai, when left out), checked.
fn day_of(q: &DayQuery, now: chrono::DateTime<chrono::Utc>) -> ApiResult<String> {
    let day = q.day.as_deref().map(str::trim).map(str::to_owned).unwrap_or_else(|| shanghai_date(now));
    shanghai_day(&day).map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("day: {e}")))?;
    Ok(day)
}

/// The producer the caller speaks for.
async fn speaking_for(state: &AppState, producer: &ProducerUser) -> ApiResult<Producer> {
    state
        .store
        .producers()
        .of_user(producer.0.user.id)
        .await?
        .ok_or_else(|| ApiError::forbidden("这个账户不代表任何供货方 (this account speaks for no producer)"))
}

/// Staff add a producer and the phone that publishes its offers (that account gets the
/// `producer` role).
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = NewProducer, responses((status = 201, body = Producer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: the name or the phone is taken")))]
#[post("/admin/producers")]
pub async fn add(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewProducer>,
) -> ApiResult<HttpResponse> {
    let checked = crate::domain::supply::check_producer(&body)?;
    let producer = state.store.producers().add(&checked, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(producer))
}

/// Every producer (staff).
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, body = List<Producer>), (status = 403, body = ErrorBody)))]
#[get("/admin/producers")]
pub async fn all(state: web::Data<AppState>, _staff: StaffUser) -> ApiResult<web::Json<List<Producer>>> {
    Ok(web::Json(List { items: state.store.producers().all().await? }))
}

/// The producer the caller speaks for.
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, body = Producer), (status = 403, body = ErrorBody)))]
#[get("/producer")]
pub async fn own_producer(state: web::Data<AppState>, producer: ProducerUser) -> ApiResult<web::Json<Producer>> {
    Ok(web::Json(speaking_for(&state, &producer).await?))
}

/// A producer publishes an offer: a good, how much of it each delivery day, at what price.
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = NewOffer, responses((status = 201, body = Offer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/producer/offers")]
pub async fn publish(
    state: web::Data<AppState>,
    producer: ProducerUser,
    body: web::Json<NewOffer>,
) -> ApiResult<HttpResponse> {
    let me = speaking_for(&state, &producer).await?;
    let offer = state.store.producers().publish(&me, &body, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(offer))
}

/// The producer's own offers, newest first, with their days from today on.
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, body = List<Offer>), (status = 403, body = ErrorBody)))]
#[get("/producer/offers")]
pub async fn own_offers(state: web::Data<AppState>, producer: ProducerUser) -> ApiResult<web::Json<List<Offer>>> {
    let me = speaking_for(&state, &producer).await?;
    let now = chrono::Utc::now();
    Ok(web::Json(List { items: state.store.producers().own_offers(me.id, &shanghai_date(now), now).await? }))
}

/// The producer withdraws an offer: nothing more can be ordered of it; what was ordered stays.
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, body = Offer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/producer/offers/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    producer: ProducerUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Offer>> {
    let me = speaking_for(&state, &producer).await?;
    let now = chrono::Utc::now();
    let offer = state.store.producers().withdraw(me.id, id.into_inner(), &shanghai_date(now), now).await?;
    Ok(web::Json(offer.ok_or_else(|| ApiError::not_found("offer"))?))
}

/// The producer's purchase orders, one per delivery day from `day` (today when left out) on,
/// each with every stall's lines: the producer's own only.
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, body = List<PurchaseOrder>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/producer/purchase-orders")]
pub async fn purchase_orders(
    state: web::Data<AppState>,
    producer: ProducerUser,
    q: web::Query<DayQuery>,
) -> ApiResult<web::Json<List<PurchaseOrder>>> {
    let me = speaking_for(&state, &producer).await?;
    let now = chrono::Utc::now();
    let from = day_of(&q, now)?;
    Ok(web::Json(List { items: state.store.producers().purchase_orders(me.id, &from, now).await? }))
}

/// A day's purchase order as a spreadsheet (UTF-8 with BOM): what to load for each stall, the
/// producer's own only.
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/producer/purchase-orders.csv")]
pub async fn purchase_order_csv(
    state: web::Data<AppState>,
    producer: ProducerUser,
    q: web::Query<DayQuery>,
) -> ApiResult<HttpResponse> {
    let me = speaking_for(&state, &producer).await?;
    let now = chrono::Utc::now();
    let day = day_of(&q, now)?;
    let orders = state.store.producers().purchase_orders(me.id, &day, now).await?;
    let mut rows = vec![[
        "日期 day",
        "摊位 stall",
        "摊名 name",
        "品名 product",
        "数量 quantity",
        "单位 unit",
        "单价 price",
        "金额 amount",
    ]
    .map(str::to_owned)
    .to_vec()];
    for line in orders.into_iter().filter(|o| o.day == day).flat_map(|o| o.lines) {
        rows.push(vec![
            line.day,
            line.stall_no,
            line.vendor_name,
            line.product,
            line.quantity.to_string(),
            line.unit,
            line.price_fen.yuan(),
            line.price_fen.times(line.quantity).yuan(),
        ]);
    }
    Ok(super::sheets::csv_download(&format!("purchase-order-{day}.csv"), &rows))
}

/// The offers delivering on a day (today when left out), for stalls to order from (stall
/// holders and staff).
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, body = List<Offer>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/offers")]
pub async fn offers(
    state: web::Data<AppState>,
    user: AuthUser,
    q: web::Query<DayQuery>,
) -> ApiResult<web::Json<List<Offer>>> {
    if !user.has(Role::Vendor) && !user.has(Role::Staff) {
        return Err(ApiError::forbidden("only stall holders and staff may do this"));
    }
    let now = chrono::Utc::now();
    let day = day_of(&q, now)?;
    Ok(web::Json(List { items: state.store.producers().offers_on(&day, now).await? }))
}

/// A stall sets what it wants of offers on a day (0 takes a line away), all lines or none;
/// answers the stall's lines for that day.
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = PurchaseRequest, responses((status = 200, body = List<PurchaseLine>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`out_of_stock`: not that much left that day; `wrong_state`: past the cut-off, or withdrawn")))]
#[post("/vendor/purchase-orders")]
pub async fn order(
    state: web::Data<AppState>,
    vendor: VendorUser,
    body: web::Json<PurchaseRequest>,
) -> ApiResult<web::Json<List<PurchaseLine>>> {
    let stall = super::vendor::stall(&vendor)?;
    let lines = state.store.producers().order(stall, &body, vendor.0.user.id, chrono::Utc::now()).await??;
    Ok(web::Json(List { items: lines }))
}

/// The stall's purchase lines for a day (today when left out).
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, body = List<PurchaseLine>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/vendor/purchase-orders")]
pub async fn own_lines(
    state: web::Data<AppState>,
    vendor: VendorUser,
    q: web::Query<DayQuery>,
) -> ApiResult<web::Json<List<PurchaseLine>>> {
    let stall = super::vendor::stall(&vendor)?;
    let now = chrono::Utc::now();
    let day = day_of(&q, now)?;
    Ok(web::Json(List { items: state.store.producers().stall_lines(stall, &day, now).await? }))
}

/// The staff's market's supply plan as a spreadsheet (UTF-8 with BOM), short ones first.
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/supply.csv")]
pub async fn plan_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    q: web::Query<DayQuery>,
) -> ApiResult<HttpResponse> {
    let SupplyPlan { day, items: rows } = plan_of(&state, staff.0.user.market_id, &q).await?;
    let mut sheet = vec![[
        "摊位 stall",
        "摊名 name",
        "商品 product",
        "单位 unit",
        "订单 orders",
        "团购 group-buys",
        "库存 stock",
        "在途 on order",
        "缺货风险 short",
    ]
    .map(str::to_owned)
    .to_vec()];
    for r in rows {
        sheet.push(vec![
            r.stall_no,
            r.vendor_name,
            r.product_name,
            r.unit,
            r.ordered.to_string(),
            r.group_buy.to_string(),
            r.stock.to_string(),
            r.on_order.to_string(),
            if r.short { "是 yes" } else { "" }.to_owned(),
        ]);
    }
    Ok(super::sheets::csv_download(&format!("supply-{day}.csv"), &sheet))
}

/// The staff's market's supply plan for a day (today when left out): per product of its stalls,
/// what residents ordered or joined for that day beside its stock and what is on order from producers; short ones first.
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(DayQuery), responses((status = 200, body = SupplyPlan), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/supply")]
pub async fn plan(
    state: web::Data<AppState>,
    staff: StaffUser,
    q: web::Query<DayQuery>,
) -> ApiResult<web::Json<SupplyPlan>> {
    Ok(web::Json(plan_of(&state, staff.0.user.market_id, &q).await?))
}

/// A market's supply plan for the day: the store's counts, `domain::supply::plan`'s order and
/// shortages.
async fn plan_of(state: &AppState, market: shared::MarketId, q: &DayQuery) -> ApiResult<SupplyPlan> {
    let day = day_of(q, chrono::Utc::now())?;
    let bounds = shanghai_day(&day).map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("day: {e}")))?;
    let rows = state.store.producers().plan_rows(market, &day, bounds).await?;
    Ok(SupplyPlan { items: crate::domain::supply::plan(rows), day })
}
