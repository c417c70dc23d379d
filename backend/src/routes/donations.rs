//! The donation pool (爱心捐助), one per market: residents give money or 菜盒子 to their market
//! with WeChat Pay, staff record organisations' gifts to theirs and pay its quarantined and
//! hardship households' orders from its pool, the ledger (and its CSV) shows every move. The rules are `domain::donations`'; the pool is kept
//! by `store::donations`.

use super::pay::{pay_failed, pay_unavailable, payer_openid};
use crate::auth::{AuthUser, StaffUser};
use crate::domain::donations::{gift_amount, Offer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::money::donations::NewGift;
use crate::wechat::pay::RequestPayment;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use shared::api::{
    AllocateRequest, Allocated, Gift, GiveRequest, Ledger, LedgerQuery, PoolNeed, PoolSummary, RecordGift,
};
use shared::{ErrorBody, ErrorCode, Fen, MarketId};

/// What a gift to `market` is worth: money, or boxes of the market's 菜盒子 at its price now.
/// Exactly one of the two.
async fn value(
    state: &AppState,
    market: MarketId,
    amount_fen: Option<i64>,
    boxes: Option<i64>,
    product_id: Option<i64>,
) -> ApiResult<(Fen, i64, Option<i64>)> {
    let offer = match (amount_fen, boxes) {
        (Some(fen), None) => Offer::Money(fen),
        (None, Some(boxes)) => {
            let product = product_id
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidField, "product_id: 选一种菜盒子 (which 菜盒子)"))?;
            let price = state.store.donations().box_product(market, product).await?.map(|(price, _)| price);
            Offer::Boxes { boxes, box_price: price }
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                "amount_fen: 捐款金额或菜盒子数量，二选一 (money or boxes, one of the two)",
            ))
        }
    };
    let amount = gift_amount(&offer)?;
    Ok(match offer {
        Offer::Money(_) => (amount, 0, None),
        Offer::Boxes { boxes, .. } => (amount, boxes, product_id),
    })
}

/// A market's pool at a glance (`?market_id=`, else the caller's market, else the first):
/// balance, everything received, orders paid and households helped.
#[utoipa::path(tag = "donations", params(shared::api::MarketQuery), responses((status = 200, body = PoolSummary), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/donations/pool")]
pub async fn pool(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    query: web::Query<shared::api::MarketQuery>,
) -> ApiResult<web::Json<PoolSummary>> {
    let market = super::markets::market_of(&state, &req, query.market_id).await?;
    Ok(web::Json(state.store.donations().summary(market).await?))
}

/// A resident offers a gift of money or 菜盒子 to their market's pool; it is in the pool once
/// paid (`POST /donations/{id}/pay`).
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    request_body = GiveRequest,
    responses((status = 201, body = Gift), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[post("/donations")]
pub async fn give(state: web::Data<AppState>, auth: AuthUser, body: web::Json<GiveRequest>) -> ApiResult<HttpResponse> {
    let market = auth.user.market_id;
    let (amount, boxes, product_id) =
        value(&state, market, body.amount_fen, body.boxes, body.product_id.map(|p| p.get())).await?;
    let gift = NewGift {
        market,
        user_id: Some(auth.user.id),
        donor_name: None,
        amount,
        boxes,
        product_id,
        note: None,
        recorded_by: None,
    };
    let donations = state.store.donations();
    let id = donations.give(&gift, Utc::now()).await?;
    let view = donations.gift_view(id).await?.ok_or_else(|| ApiError::not_found("gift"))?;
    Ok(HttpResponse::Created().json(view))
}

/// Pays the caller's gift with WeChat Pay: the parameters for `wx.requestPayment` (the prepay
/// made once per gift; pressing again reuses it).
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    responses(
        (status = 200, body = RequestPayment),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_state`: paid already; `wechat_required`"),
        (status = 503, body = ErrorBody, description = "`pay_unavailable`"),
    )
)]
#[post("/donations/{id}/pay")]
pub async fn pay_gift(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<RequestPayment>> {
    let pay = state.pay.as_ref().ok_or_else(pay_unavailable)?;
    let donations = state.store.donations();
    let gift = donations
        .gift(id.into_inner())
        .await?
        .filter(|g| g.user_id == Some(auth.user.id))
        .ok_or_else(|| ApiError::not_found("gift"))?;
    if gift.status != "pending_payment" {
        return Err(ApiError::new(ErrorCode::WrongState, "这份捐助已经付过了 (this gift is paid already)"));
    }
    let openid = payer_openid(&state, pay, &auth).await?;
    let gift = donations.ensure_payment(gift.id, &openid).await?;
    let prepay_id = match gift.prepay_id {
        Some(p) => p,
        None => {
            let out_trade_no = crate::store::money::donations::out_trade_no(gift.id);
            let payer = gift.payer_openid.as_deref().unwrap_or(&openid);
            let prepay = pay
                .jsapi_prepay(&out_trade_no, "傅鲜生 爱心捐助", gift.amount.get(), payer, None)
                .await
                .map_err(|e| pay_failed(&out_trade_no, e))?;
            donations.set_prepay(gift.id, &prepay).await?;
            prepay
        }
    };
    Ok(web::Json(pay.request_payment(&prepay_id)))
}

/// The caller's gifts, newest first, each with what it became: how much was spent and on how
/// many households' boxes.
#[utoipa::path(tag = "donations", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<Gift>), (status = 401, body = ErrorBody)))]
#[get("/me/donations")]
pub async fn mine(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<Gift>>> {
    let all = state.store.donations().mine(auth.user.id).await?;
    Ok(web::Json(super::paged(all, page.limit, page.cursor.as_deref(), |_, g| std::cmp::Reverse(g.id))?))
}

/// Records a gift received outside WeChat Pay (an organisation's transfer, or boxes it paid the
/// market for): in the staff's market's pool at once.
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    request_body = RecordGift,
    responses((status = 201, body = Gift), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[post("/admin/donations")]
pub async fn record(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<RecordGift>,
) -> ApiResult<HttpResponse> {
    let donor = body.donor_name.trim();
    if donor.is_empty() || donor.chars().count() > 60 {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "donor_name: 捐助人或单位名称，1 到 60 字 (1 to 60 characters)",
        ));
    }
    let note = body.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::new(ErrorCode::InvalidField, "note: 最多 200 字 (at most 200 characters)"));
    }
    let market = staff.0.user.market_id;
    let (amount, boxes, product_id) =
        value(&state, market, body.amount_fen, body.boxes, body.product_id.map(|p| p.get())).await?;
    let gift = NewGift {
        market,
        user_id: None,
        donor_name: Some(donor),
        amount,
        boxes,
        product_id,
        note,
        recorded_by: Some(staff.0.user.id),
    };
    let donations = state.store.donations();
    let id = donations.give(&gift, Utc::now()).await?;
    let view = donations.gift_view(id).await?.ok_or_else(|| ApiError::not_found("gift"))?;
    Ok(HttpResponse::Created().json(view))
}

/// Orders of the staff's market's quarantined and hardship households waiting to be paid and
/// not yet helped, oldest first.
#[utoipa::path(tag = "donations", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<PoolNeed>), (status = 403, body = ErrorBody)))]
#[get("/admin/donations/needs")]
pub async fn needs(
    state: web::Data<AppState>,
    staff: StaffUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<PoolNeed>>> {
    let all = state.store.donations().needs(staff.0.user.market_id, Utc::now(), 500).await?;
    Ok(web::Json(super::paged(all, page.limit, page.cursor.as_deref(), |_, n| n.order_id)?))
}

/// Pays a flagged household's order from the staff's market's pool: the order becomes paid, the
/// household pays nothing and is not told who gave. Two at once for the last of the pool: one
/// is paid, the other refused (`pool_short`). Another market's order is not found.
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    request_body = AllocateRequest,
    responses(
        (status = 201, body = Allocated),
        (status = 403, body = ErrorBody, description = "`not_eligible`: not a quarantined or hardship household"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`pool_short`, or `wrong_state`: not waiting to be paid, or paid by the pool already"),
    )
)]
#[post("/admin/donations/allocations")]
pub async fn allocate(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<AllocateRequest>,
) -> ApiResult<HttpResponse> {
    let user = &staff.0.user;
    let allocated =
        state.store.donations().allocate(body.order_id.get(), user.id, Some(user.market_id), Utc::now()).await??;
    Ok(HttpResponse::Created().json(allocated))
}

/// Staff send one 菜盒子 to a quarantined or hardship household, paid by the pool (送爱心菜盒):
/// it becomes an order of the household's first member, placed through the checkout (stock, the
/// slot, one order per household per slot; the same press again is the same order), then paid
/// by the pool; the household is told. A pool that cannot pay it after all takes it back.
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "the household")),
    request_body = shared::api::GiftBox,
    responses(
        (status = 201, body = shared::api::Order),
        (status = 400, body = ErrorBody, description = "not a 菜盒子 on sale"),
        (status = 403, body = ErrorBody, description = "`not_eligible`: not a quarantined or hardship household"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`pool_short`, nobody of the household has joined (`wrong_state`), or the checkout's refusals"),
    )
)]
#[post("/admin/households/{id}/gift-box")]
pub async fn gift_box(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<shared::api::GiftBox>,
) -> ApiResult<HttpResponse> {
    use crate::domain::checkout::{new_handoff_code, Answer, CheckoutJob};
    use crate::domain::donations::Recipient;
    let household = id.into_inner();
    super::admin::staff_household(&state, &staff, household).await?;
    let product = body.product_id;
    let facts = state.store.donations().gift_box_facts(staff.0.user.market_id, household, product.get()).await?;
    let now = Utc::now();
    let (member, address) = match crate::domain::donations::decide_gift_box(&facts)? {
        Recipient::Member(id) => (id, None),
        // Nobody has joined: the account the register's phone gets at its first login, and the
        // household's door as the order's address (the checkout lets a registered phone in).
        Recipient::Registered(phone) => {
            let home =
                state.store.households().get(household).await?.ok_or_else(|| ApiError::not_found("household"))?;
            let user = state.store.accounts().user_for_phone(&phone, now).await?;
            (
                user.id,
                Some(shared::api::Address {
                    building: home.building,
                    unit: home.unit,
                    room: home.room,
                    community: None,
                }),
            )
        }
    };
    let key = format!("gift-box:{household}:{}:{}", body.slot_id, product);
    let job = CheckoutJob {
        user_id: member,
        request_hash: key.clone(),
        key,
        slot_id: body.slot_id,
        payment: shared::order::Payment::OnDelivery,
        address,
        note: Some("爱心菜盒：工作人员代送，爱心捐助已付 (a gift box, paid by the pool)".into()),
        handoff_code: new_handoff_code(),
        now,
        pay_by: now,
        lines: Some(vec![(product, 1)]),
        pickup_point_id: None,
    };
    let mut order = match state.store.orders().checkout(vec![job]).await?.pop() {
        Some(Answer::Placed(order)) => *order,
        Some(Answer::Refused(refusal)) => return Err(refusal.into()),
        _ => {
            return Err(ApiError::new(
                ErrorCode::IdempotencyKeyInUse,
                "这一盒正在送出，请稍候 (this box is being sent)",
            ))
        }
    };
    let order_id = order.id.get();
    // The same press again finds this box paid already.
    match state.store.donations().pay_once(order_id, staff.0.user.id, now).await? {
        Ok(()) => {}
        Err(refusal) => {
            // Not paid after all (the pool ran short meanwhile): the box is not sent.
            state.store.orders().cancel(order_id, member, now).await?;
            return Err(refusal.into());
        }
    }
    let (title, text) =
        ("爱心菜盒", format!("工作人员为您家送来一盒爱心菜盒（订单 {order_id}），由爱心捐助支付，您不用付钱。"));
    state
        .store
        .notices()
        .tell(member, Some(order_id), "gift_box", &format!("gift-box:{order_id}"), (title, &text), now)
        .await?;
    // As staff see it: not the household's hand-off code.
    order.handoff_code = None;
    order.handoff_qr = None;
    order.paid_by_donations = true;
    Ok(HttpResponse::Created().json(order))
}

fn range(query: &LedgerQuery) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let day = |field: &str, v: &str| {
        crate::domain::time::shanghai_day(v)
            .map_err(|_| ApiError::new(ErrorCode::InvalidField, format!("{field}: a day, YYYY-MM-DD")))
    };
    let today = crate::domain::time::shanghai_today_start(Utc::now());
    let to = match &query.to {
        Some(v) => day("to", v)?.1,
        None => today + chrono::Duration::days(1),
    };
    let from = match &query.from {
        Some(v) => day("from", v)?.0,
        None => to - chrono::Duration::days(31),
    };
    if to <= from || to - from > chrono::Duration::days(366) {
        return Err(ApiError::new(ErrorCode::InvalidField, "to: on or after from, within a year"));
    }
    Ok((from, to))
}

/// The staff's market's pool's ledger: every gift in, allocation out and money back, with the
/// balance after each, oldest first.
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    params(LedgerQuery),
    responses((status = 200, body = Ledger), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/donations/ledger")]
pub async fn ledger(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<LedgerQuery>,
) -> ApiResult<web::Json<Ledger>> {
    let (from, to) = range(&query)?;
    let (balance_fen, entries) = state.store.donations().ledger(staff.0.user.market_id, from, to, 5_000).await?;
    Ok(web::Json(Ledger { balance_fen, entries }))
}

/// The ledger as a spreadsheet (staff): UTF-8 with BOM, money in and out in separate columns.
#[utoipa::path(
    tag = "donations",
    security(("bearer" = [])),
    params(LedgerQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/donations/ledger.csv")]
pub async fn ledger_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<LedgerQuery>,
) -> ApiResult<HttpResponse> {
    let (from, to) = range(&query)?;
    let (_, entries) = state.store.donations().ledger(staff.0.user.market_id, from, to, 1_000_000).await?;
    let mut rows = vec![[
        "编号 no",
        "时间 time",
        "类别 kind",
        "收入(元) in",
        "支出(元) out",
        "余额(元) balance",
        "捐助编号 gift",
        "捐助人 donor",
        "订单 order",
        "住户 household",
        "经办 by",
    ]
    .map(str::to_owned)
    .to_vec()];
    for e in entries {
        let kind = match e.kind.as_str() {
            "gift" => "捐入 gift",
            "allocation" => "支付订单 allocation",
            _ => "退回 return",
        };
        let (money_in, money_out) = if e.amount_fen >= 0 {
            (super::sheets::yuan(e.amount_fen), String::new())
        } else {
            (String::new(), super::sheets::yuan(-e.amount_fen))
        };
        rows.push(vec![
            e.id.to_string(),
            e.at,
            kind.to_owned(),
            money_in,
            money_out,
            super::sheets::yuan(e.balance_fen.get()),
            e.donation_id.map(|d| d.to_string()).unwrap_or_default(),
            e.donor.unwrap_or_default(),
            e.order_id.map(|o| o.to_string()).unwrap_or_default(),
            e.household.unwrap_or_default(),
            e.by.unwrap_or_default(),
        ]);
    }
    Ok(super::sheets::csv_download("donations-ledger.csv", &rows))
}
