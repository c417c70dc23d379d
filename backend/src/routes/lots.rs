//! Lots (批次): stalls take deliveries in with their certificates and tests; residents see the
//! lots on sale and the day's tests (公示); staff hold a lot and trace it to every household
//! that had it. The rules are `domain::lots`'s.

use crate::auth::{StaffUser, VendorUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use shared::api::{HoldLot, List, Lot, LotTest, LotTraceEntry, Page, PageQuery, TakeInLot, TestBoardEntry};
use shared::{ErrorBody, ErrorCode};

/// The lot id a page's cursor names (`l<id>`: the last lot given).
fn before(cursor: Option<&str>) -> ApiResult<Option<i64>> {
    cursor.map(|c| c.strip_prefix('l').and_then(|n| n.parse::<i64>().ok()).ok_or_else(super::bad_cursor)).transpose()
}

/// A page of lots: a stall's own (`stall`), or every stall's of staff's `market`.
async fn page_of(
    state: &AppState,
    market: Option<shared::MarketId>,
    stall: Option<i64>,
    q: &PageQuery,
) -> ApiResult<Page<Lot>> {
    let limit = super::page_limit(q.limit)?;
    let mut items = state.store.supply().lots(market, stall, before(q.cursor.as_deref())?, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(|l| format!("l{}", l.id)) } else { None };
    Ok(Page { items, next_cursor })
}

/// A stall takes a delivery in: a lot of its own product, with the certificate that came with
/// it (承诺达标合格证) and any rapid test done on it. Its quantity goes on the product's stock;
/// a failed test takes it in held (recorded, never on sale).
#[utoipa::path(
    tag = "supply",
    security(("bearer" = [])),
    request_body = TakeInLot,
    responses((status = 201, body = Lot), (status = 400, body = ErrorBody, description = "`certificate_required`, `invalid_field`"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/vendor/lots")]
pub async fn take_in(
    state: web::Data<AppState>,
    vendor: VendorUser,
    body: web::Json<TakeInLot>,
) -> ApiResult<HttpResponse> {
    let stall = super::vendor::stall(&vendor)?;
    let lot = state.store.supply().take_in(stall, &body, vendor.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(lot))
}

/// The stall's own lots, newest first.
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<Lot>), (status = 403, body = ErrorBody)))]
#[get("/vendor/lots")]
pub async fn own_lots(
    state: web::Data<AppState>,
    vendor: VendorUser,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Lot>>> {
    let stall = super::vendor::stall(&vendor)?;
    Ok(web::Json(page_of(&state, None, Some(stall), &q).await?))
}

/// A rapid test done on one of the stall's lots after it came in; a failed one holds the lot.
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = LotTest, responses((status = 200, body = Lot), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/vendor/lots/{id}/tests")]
pub async fn own_test(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
    body: web::Json<LotTest>,
) -> ApiResult<web::Json<Lot>> {
    let stall = super::vendor::stall(&vendor)?;
    let store = state.store.supply();
    let lot = store.add_test(id.into_inner(), Some(stall), &body, vendor.0.user.id, chrono::Utc::now()).await?;
    Ok(web::Json(lot.ok_or_else(|| ApiError::not_found("lot"))??))
}

/// A photo of the paper certificate of one of the stall's lots (a JPEG, PNG or WebP body); a
/// new one replaces the last.
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body(content = Vec<u8>, content_type = "image/jpeg"), responses((status = 200, body = Lot), (status = 400, body = ErrorBody, description = "`invalid_image`"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
#[put("/vendor/lots/{id}/certificate-photo")]
pub async fn own_certificate_photo(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<web::Json<Lot>> {
    let stall = super::vendor::stall(&vendor)?;
    let id = id.into_inner();
    if state.store.supply().lot(id).await?.is_none_or(|l| l.vendor_id != stall) {
        return Err(ApiError::not_found("lot"));
    }
    let key = super::setup::stored_photo(&state, payload).await?;
    let lot =
        state.store.supply().set_certificate_photo(id, Some(stall), &key, vendor.0.user.id, chrono::Utc::now()).await?;
    Ok(web::Json(lot.ok_or_else(|| ApiError::not_found("lot"))?))
}

/// Every stall's lots, newest first (staff).
#[utoipa::path(tag = "supply", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<Lot>), (status = 403, body = ErrorBody)))]
#[get("/admin/lots")]
pub async fn all_lots(
    state: web::Data<AppState>,
    staff: StaffUser,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Lot>>> {
    Ok(web::Json(page_of(&state, Some(staff.0.user.market_id), None, &q).await?))
}

/// Staff's rapid test on any lot (the market's own test station).
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = LotTest, responses((status = 200, body = Lot), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/lots/{id}/tests")]
pub async fn staff_test(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<LotTest>,
) -> ApiResult<web::Json<Lot>> {
    let id = id.into_inner();
    staff_lot(&state, &staff, id).await?;
    let lot = state.store.supply().add_test(id, None, &body, staff.0.user.id, chrono::Utc::now()).await?;
    Ok(web::Json(lot.ok_or_else(|| ApiError::not_found("lot"))??))
}

/// Staff stop a lot (a recall, a failed test): off sale at once, what of it was for sale leaves
/// the stock; the households whose orders were packed from it are told.
#[utoipa::path(tag = "supply", security(("bearer" = [])), request_body = HoldLot, responses((status = 200, body = Lot), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: held already")))]
#[post("/admin/lots/{id}/hold")]
pub async fn hold(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<HoldLot>,
) -> ApiResult<web::Json<Lot>> {
    let id = id.into_inner();
    staff_lot(&state, &staff, id).await?;
    let now = chrono::Utc::now();
    let lot = state.store.supply().hold(id, &body.reason, staff.0.user.id, now).await??;
    let title = "食品安全提醒";
    for (user, order) in state.store.supply().holders(id).await? {
        let text = format!(
            "您订单 {order} 中的{}（批次 {id}）已被市场停售召回：请先不要食用，工作人员会联系您退换。",
            lot.product_name
        );
        state
            .store
            .notices()
            .tell(user, Some(order), "lot_recalled", &format!("recall:{id}:{order}"), (title, &text), now)
            .await?;
    }
    // The stall is told which of its orders not yet delivered carry it (their lines are marked
    // on its console too), so it comes back out of the bags before they go.
    for (holder, orders) in state.store.supply().stalls_holding(id).await? {
        let list = orders.iter().map(i64::to_string).collect::<Vec<_>>().join("、");
        let text = format!("批次 {id}（{}）已停售召回：请从订单 {list} 中取出，换货或缺货处理。", lot.product_name);
        let key = format!("recall-stall:{id}:{holder}");
        state.store.notices().tell(holder, None, "lot_recalled_stall", &key, (title, &text), now).await?;
    }
    Ok(web::Json(lot))
}

/// Every order line packed from the lot: the order, its household's door and phone, when it was
/// delivered and who carried it.
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, body = List<LotTraceEntry>), (status = 404, body = ErrorBody)))]
#[get("/admin/lots/{id}/trace")]
pub async fn trace(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<List<LotTraceEntry>>> {
    Ok(web::Json(List { items: traced(&state, &staff, id.into_inner()).await? }))
}

/// The trace as a spreadsheet (UTF-8 with BOM).
#[utoipa::path(tag = "supply", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
#[get("/admin/lots/{id}/trace.csv")]
pub async fn trace_csv(state: web::Data<AppState>, staff: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut rows = vec![[
        "订单 order",
        "状态 status",
        "数量 quantity",
        "楼栋 building",
        "单元 unit",
        "房号 room",
        "电话 phone",
        "送达 delivered",
        "志愿者 volunteer",
    ]
    .map(str::to_owned)
    .to_vec()];
    for t in traced(&state, &staff, id).await? {
        rows.push(vec![
            t.order_id.to_string(),
            t.status.as_str().to_owned(),
            t.quantity.to_string(),
            super::at_building(&t.community, &t.building),
            t.unit,
            t.room,
            t.phone.unwrap_or_default(),
            t.delivered_at.unwrap_or_default(),
            t.volunteer_phone.unwrap_or_default(),
        ]);
    }
    Ok(super::sheets::csv_download(&format!("lot-{id}-trace.csv"), &rows))
}

async fn traced(state: &AppState, staff: &StaffUser, id: i64) -> ApiResult<Vec<LotTraceEntry>> {
    staff_lot(state, staff, id).await?;
    Ok(state.store.supply().trace(id).await?)
}

/// A lot of one of staff's own market's stalls (another market's is as if it were not there).
async fn staff_lot(state: &AppState, staff: &StaffUser, id: i64) -> ApiResult<()> {
    super::markets::ours(staff.0.user.market_id, state.store.supply().lot_market(id).await?, "lot")
}

/// A product's lots on sale, oldest first (sold first), with certificates and tests: what the
/// product's page shows.
#[utoipa::path(tag = "catalog", responses((status = 200, body = List<Lot>)))]
#[get("/products/{id}/lots")]
pub async fn product_lots(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<web::Json<List<Lot>>> {
    Ok(web::Json(List { items: state.store.supply().on_sale(id.into_inner()).await? }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    /// `YYYY-MM-DD` (Shanghai); today when left out.
    pub day: Option<String>,
}

/// Which day's tests of which market the board shows.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct BoardQuery {
    /// `YYYY-MM-DD` (Shanghai); today when left out.
    pub day: Option<String>,
    /// The market (default: the caller's when logged in, else the first).
    pub market_id: Option<shared::MarketId>,
}

/// The public board of a market's rapid tests on a day (农残快检公示): every test of its stalls'
/// lots, and what was done with a failed one.
#[utoipa::path(tag = "catalog", params(BoardQuery), responses((status = 200, body = List<TestBoardEntry>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/tests")]
pub async fn board(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    q: web::Query<BoardQuery>,
) -> ApiResult<web::Json<List<TestBoardEntry>>> {
    let market = super::markets::market_of(&state, &req, q.market_id).await?;
    let now = chrono::Utc::now();
    let day = q.day.clone().unwrap_or_else(|| crate::domain::time::shanghai_date(now));
    let (from, to) = crate::domain::time::shanghai_day(&day)
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("day: {e}")))?;
    Ok(web::Json(List { items: state.store.supply().tests_between(market, from, to).await? }))
}
