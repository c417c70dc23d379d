//! Stable prices (稳物价): the public price board, the emergency cap staff switch on, and the
//! record of every price change for the price regulator. The cap's rule is
//! `domain::prices`'; a change over it is refused where prices are set (`admin::change_product`).

use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::sheets::yuan;
use crate::state::AppState;
use crate::store::catalogue::prices::CapSetting;
use actix_web::{get, put, web, HttpResponse};
use shared::api::{PriceBoard, PriceBoardItem, PriceCap, PriceRecordQuery};
use shared::{ErrorBody, ErrorCode, Fen};

fn cap_of(c: CapSetting) -> PriceCap {
    PriceCap { enabled: c.enabled, max_daily_rise_percent: c.max_daily_rise_percent }
}

/// A market's board (`?market_id=`, else the caller's market, else the first): today's prices of
/// every product on sale there, how each moved since the day began, and its cap.
#[utoipa::path(tag = "prices", params(shared::api::MarketQuery), responses((status = 200, body = PriceBoard), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/prices")]
pub async fn board(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    query: web::Query<shared::api::MarketQuery>,
) -> ApiResult<super::Validated<PriceBoard>> {
    let market = super::markets::market_of(&state, &req, query.market_id).await?;
    let prices = state.store.prices();
    let cap = cap_of(prices.cap(market).await?);
    let items = prices
        .board(market, chrono::Utc::now())
        .await?
        .into_iter()
        .map(|r| PriceBoardItem {
            product_id: shared::ProductId(r.product_id),
            name: r.name,
            unit: r.unit,
            vendor_name: r.vendor_name,
            price_fen: Fen::stored(r.price_fen),
            day_open_fen: r.day_open_fen.map(Fen::stored),
            ceiling_fen: r.ceiling_fen.map(Fen::stored),
        })
        .collect();
    Ok(super::Validated(PriceBoard { cap, items }))
}

/// Switches the staff's market's emergency price cap on or off.
#[utoipa::path(
    tag = "prices",
    security(("bearer" = [])),
    request_body = PriceCap,
    responses((status = 200, body = PriceCap), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[put("/admin/price-cap")]
pub async fn set_cap(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<PriceCap>,
) -> ApiResult<web::Json<PriceCap>> {
    let cap = body.into_inner();
    if !(0..=100).contains(&cap.max_daily_rise_percent) {
        return Err(ApiError::new(ErrorCode::InvalidField, "max_daily_rise_percent: 0 to 100"));
    }
    let setting = CapSetting { enabled: cap.enabled, max_daily_rise_percent: cap.max_daily_rise_percent };
    let user = &staff.0.user;
    state.store.prices().set_cap(user.market_id, setting, user.id, chrono::Utc::now()).await?;
    Ok(web::Json(cap_of(state.store.prices().cap(user.market_id).await?)))
}

/// Every price set in a range of days at the staff's market's stalls, for the price regulator:
/// the products' own prices and the group-buys' prices (the last column names the group-buy), UTF-8 with BOM.
#[utoipa::path(
    tag = "prices",
    security(("bearer" = [])),
    params(PriceRecordQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/prices.csv")]
pub async fn record_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<PriceRecordQuery>,
) -> ApiResult<HttpResponse> {
    let day = |field: &str, v: &str| {
        crate::domain::time::shanghai_day(v.trim())
            .map_err(|_| ApiError::new(ErrorCode::InvalidField, format!("{field}: a day, YYYY-MM-DD")))
    };
    let ((from, _), (_, to)) = (day("from", &query.from)?, day("to", &query.to)?);
    if to <= from || to - from > chrono::Duration::days(366) {
        return Err(ApiError::new(ErrorCode::InvalidField, "to: on or after from, within a year"));
    }
    let mut rows = vec![[
        "时间 time",
        "商品编号 product",
        "商品 name",
        "单位 unit",
        "摊位 stall",
        "原价(元) old",
        "新价(元) new",
        "涨跌 change %",
        "改价人 by",
        "团购 group-buy",
    ]
    .map(str::to_owned)
    .to_vec()];
    for c in state.store.prices().changes(staff.0.user.market_id, from, to).await? {
        let change = c
            .old_fen
            .filter(|o| *o > 0)
            .map(|o| format!("{:+.1}", (c.new_fen - o) as f64 * 100.0 / o as f64))
            .unwrap_or_default();
        rows.push(vec![
            crate::domain::time::to_api(c.at),
            c.product_id.to_string(),
            c.name,
            c.unit,
            c.vendor_name,
            c.old_fen.map(yuan).unwrap_or_default(),
            yuan(c.new_fen),
            change,
            c.by.unwrap_or_default(),
            c.group_buy_id.map(|id| format!("#{id} {}", c.group_buy_title.unwrap_or_default())).unwrap_or_default(),
        ]);
    }
    Ok(super::sheets::csv_download("prices.csv", &rows))
}
