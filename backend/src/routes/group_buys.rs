//! Group-buys for quarantined buildings (团购): opening, joining (also on a household's
//! behalf), closing, the leader's list of shares and its CSV. The rules are
//! `domain::group_buy`'s; these handlers parse, ask the store, and answer.

use super::time_field;
use crate::auth::AuthUser;
use crate::domain::group_buy::Viewer;
use crate::domain::group_buy::{Ending, JoinJob, JoinOutcome, OpenRequest, Runner};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::group_buys::Closed;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::api::{Address, Household};
use shared::group_buy::{GroupBuy, OpenGroupBuy, Share, ShareRequest};
use shared::{ErrorBody, ErrorCode, Phone, Role};

/// Who the caller is to group-buys: the buildings they lead, if any.
async fn runner(state: &AppState, auth: &AuthUser) -> ApiResult<Runner> {
    let leads =
        if auth.has(Role::Leader) { state.store.accounts().leads(auth.user.id).await? } else { Default::default() };
    Ok(Runner { user_id: auth.user.id, staff: auth.has(Role::Staff), leads, market: auth.user.market_id })
}

async fn viewer(state: &AppState, auth: &AuthUser) -> ApiResult<Viewer> {
    Ok(Viewer {
        user_id: auth.user.id,
        household_id: auth.user.household.as_ref().map(|h| h.id.get()),
        runner: runner(state, auth).await?,
        volunteer: auth.has(Role::Volunteer),
    })
}

async fn visible(state: &AppState, auth: &AuthUser, id: i64) -> ApiResult<GroupBuy> {
    let viewer = viewer(state, auth).await?;
    state.store.group_buys().group_buy(id, &viewer).await?.ok_or_else(|| ApiError::not_found("group-buy"))
}

/// A group-buy the caller runs (its leader, staff); 404 if they may not even see it.
async fn managed(state: &AppState, auth: &AuthUser, id: i64) -> ApiResult<GroupBuy> {
    let gb = visible(state, auth, id).await?;
    if !gb.manage {
        return Err(ApiError::forbidden("只有团长和工作人员可以管理团购 (only its leader or staff may do this)"));
    }
    Ok(gb)
}

/// Opens a group-buy for some buildings (staff, or a leader for their own buildings): the
/// stock of each item is set aside until it ends.
#[utoipa::path(
    tag = "group-buys",
    security(("bearer" = [])),
    request_body = OpenGroupBuy,
    responses(
        (status = 201, body = GroupBuy),
        (status = 400, body = ErrorBody, description = "A field is wrong; the message names it"),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`out_of_stock`: not enough stock to set aside; `stall_closed`: a stall of its goods is closed, or rests on the drop's day"),
    )
)]
#[post("/group-buys")]
pub async fn open(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<OpenGroupBuy>,
) -> ApiResult<HttpResponse> {
    let runner = runner(&state, &auth).await?;
    if !runner.staff && runner.leads.is_empty() {
        return Err(ApiError::forbidden("只有团长和工作人员可以开团 (only leaders and staff open group-buys)"));
    }
    let b = body.into_inner();
    let request = OpenRequest {
        title: b.title,
        buildings: b.buildings,
        items: b
            .items
            .iter()
            .map(|i| (i.product_id.get(), i.price_fen, i.max_quantity, i.per_household_limit))
            .collect(),
        min_households: b.min_households,
        deadline: time_field("deadline", &b.deadline)?,
        opens_at: b.opens_at.as_deref().map(|t| time_field("opens_at", t)).transpose()?,
        head_start_minutes: b.priority_head_start_minutes.unwrap_or(0),
        slot_id: b.slot_id.get(),
        on_shortfall: b.on_shortfall,
        now: chrono::Utc::now(),
    };
    let id = state.store.group_buys().open(&request, &runner, auth.user.id).await??;
    let gb = visible(&state, &auth, id).await?;
    Ok(HttpResponse::Created().json(gb))
}

/// The group-buys for the caller: a resident's building's, those a leader or staff run, and
/// for volunteers every open one.
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<GroupBuy>), (status = 401, body = ErrorBody)))]
#[get("/group-buys")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<GroupBuy>>> {
    let viewer = viewer(&state, &auth).await?;
    let all = state.store.group_buys().list(&viewer).await?;
    Ok(web::Json(super::paged(all, page.limit, page.cursor.as_deref(), |_, g| std::cmp::Reverse(g.id))?))
}

/// One group-buy with its progress and, for a resident, their household's share.
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), responses((status = 200, body = GroupBuy), (status = 404, body = ErrorBody)))]
#[get("/group-buys/{id}")]
pub async fn detail(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<GroupBuy>> {
    Ok(web::Json(visible(&state, &auth, id.into_inner()).await?))
}

/// Joins, changes or (all quantities 0) leaves, for the caller's household. Atomic: a refused
/// change applies none of its lines.
#[utoipa::path(
    tag = "group-buys",
    security(("bearer" = [])),
    request_body = ShareRequest,
    responses(
        (status = 200, body = Share),
        (status = 204, description = "Left: the household is no longer in it"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`not_eligible`: not a household of its buildings"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`group_full`, `over_limit`, `group_closed`, `not_open_yet` or `slot_full`"),
    )
)]
#[put("/group-buys/{id}/share")]
pub async fn set_share(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ShareRequest>,
) -> ApiResult<HttpResponse> {
    let lines = body.into_inner().items.iter().map(|l| (l.product_id.get(), l.quantity)).collect();
    join_own(&state, &auth, id.into_inner(), lines).await
}

/// Leaves: the household's share and its place in the drop are given back.
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/group-buys/{id}/share")]
pub async fn leave(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    join_own(&state, &auth, id.into_inner(), Vec::new()).await
}

async fn join_own(state: &AppState, auth: &AuthUser, id: i64, lines: Vec<(i64, i64)>) -> ApiResult<HttpResponse> {
    state.limits.check(crate::limits::Limit::JoinPerUser, auth.user.id)?;
    let household = auth.user.household.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::NotEligible, "请先登记住址 (set your home address first: PUT /api/v1/me/household)")
    })?;
    let job = JoinJob {
        group_buy_id: id,
        household_id: household.id.get(),
        user_id: auth.user.id,
        placed_by: None,
        keeps_off_own: false,
        lines,
        now: chrono::Utc::now(),
    };
    answer_join(state, job).await
}

async fn answer_join(state: &AppState, job: JoinJob) -> ApiResult<HttpResponse> {
    let (id, household) = (job.group_buy_id, job.household_id);
    let outcome = state.store.group_buys().join(vec![job]).await?.pop();
    let counted = match &outcome {
        Some(JoinOutcome::Joined(_)) => "joined",
        Some(JoinOutcome::Left) => "left",
        Some(JoinOutcome::Refused(r)) => r.code.as_str(),
        None => "none",
    };
    crate::metrics::Metrics::count(&state.metrics.joins, counted);
    match outcome {
        Some(JoinOutcome::Joined(_)) => {
            let share = state.store.group_buys().shares(id, Some(household)).await?.pop();
            let share = share.ok_or_else(|| ApiError::internal("join", "the share just written is not there"))?;
            Ok(HttpResponse::Ok().json(share))
        }
        Some(JoinOutcome::Left) => Ok(HttpResponse::NoContent().finish()),
        Some(JoinOutcome::Refused(r)) if r.code == ErrorCode::NotFound => Err(ApiError::not_found("group-buy")),
        Some(JoinOutcome::Refused(r)) => Err(r.into()),
        None => Err(ApiError::internal("join", "the join queue gave no answer")),
    }
}

/// How the household is told who placed its share, and whether the placer keeps off a share the
/// household placed itself, if the caller may place it (`domain::group_buy::placer`).
async fn placer(state: &AppState, auth: &AuthUser, address: &Address) -> ApiResult<(String, bool)> {
    let masked = auth.user.phone.as_deref().and_then(|p| Phone::parse(p).ok()).map(|p| p.masked()).unwrap_or_default();
    // A leader's buildings are those they lead; a volunteer's those staff assigned them.
    let theirs = if auth.has(Role::Leader) || auth.has(Role::Volunteer) {
        let led = state.store.accounts().led_buildings(auth.user.id).await?;
        crate::domain::group_buy::names_building(&led, address)
    } else {
        false
    };
    let leads_it = auth.has(Role::Leader) && theirs;
    let serves_it = auth.has(Role::Volunteer) && theirs;
    Ok(crate::domain::group_buy::placer(auth.has(Role::Staff), leads_it, serves_it, &masked)?)
}

/// Places, changes or (all quantities 0) withdraws a household's share on its behalf
/// (a household without a smartphone). The share and its order record who placed it.
#[utoipa::path(
    tag = "group-buys",
    security(("bearer" = [])),
    request_body = ShareRequest,
    responses(
        (status = 200, body = Share),
        (status = 204, description = "Withdrawn"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
    )
)]
#[put("/group-buys/{id}/shares/{household_id}")]
pub async fn set_share_for(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, i64)>,
    body: web::Json<ShareRequest>,
) -> ApiResult<HttpResponse> {
    let (id, household_id) = path.into_inner();
    state.limits.check(crate::limits::Limit::JoinPerUser, auth.user.id)?;
    let household =
        state.store.households().get(household_id).await?.ok_or_else(|| ApiError::not_found("household"))?;
    let address = Address {
        building: household.building.clone(),
        unit: household.unit.clone(),
        room: household.room.clone(),
        community: Some(household.community.clone()),
    };
    let (label, keeps_off_own) = placer(&state, &auth, &address).await?;
    visible(&state, &auth, id).await?;
    let user_id = state.store.households().resident(household_id).await?.unwrap_or(auth.user.id);
    let job = JoinJob {
        group_buy_id: id,
        household_id,
        user_id,
        placed_by: Some((auth.user.id, label)),
        keeps_off_own,
        lines: body.into_inner().items.iter().map(|l| (l.product_id.get(), l.quantity)).collect(),
        now: chrono::Utc::now(),
    };
    // Each step taken on the household's behalf is told to its members in the join's own
    // transaction (store::group_buys::joins).
    answer_join(&state, job).await
}

/// Finds (or puts on record) the household at an address in one of the group-buy's buildings,
/// so a share can be placed for it.
#[utoipa::path(
    tag = "group-buys",
    security(("bearer" = [])),
    request_body = Address,
    responses((status = 200, body = Household), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/group-buys/{id}/households")]
pub async fn household_for(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<Address>,
) -> ApiResult<web::Json<Household>> {
    let address = body.into_inner();
    crate::domain::checkout::validate_address(&address).map_err(|(c, m)| ApiError::new(c, m))?;
    let gb = visible(&state, &auth, id.into_inner()).await?;
    crate::domain::group_buy::may_place_in(&gb.buildings, &address)?;
    // Allowed first: a refused caller leaves no household behind.
    placer(&state, &auth, &address).await?;
    let household = state
        .store
        .households()
        .at(auth.user.market_id, &address)
        .await??
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidField, "building: 没有这栋楼 (no such building)"))?;
    Ok(web::Json(household))
}

/// Closes it now (its leader, staff): it goes ahead or fails by its rules. Closing again
/// answers the same and makes nothing twice.
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), responses((status = 200, body = GroupBuy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/group-buys/{id}/close")]
pub async fn close(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<GroupBuy>> {
    end(&state, &auth, id.into_inner(), Ending::Close).await
}

/// Calls it off (its leader, staff): no orders, stock and places back, nothing charged.
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), responses((status = 200, body = GroupBuy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/group-buys/{id}/cancel")]
pub async fn call_off(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<GroupBuy>> {
    end(&state, &auth, id.into_inner(), Ending::CallOff).await
}

async fn end(state: &AppState, auth: &AuthUser, id: i64, ending: Ending) -> ApiResult<web::Json<GroupBuy>> {
    let gb = managed(state, auth, id).await?;
    if ending == Ending::CallOff {
        crate::domain::group_buy::may_call_off(gb.status)?;
    }
    match state.store.group_buys().close(id, ending, Some(auth.user.id), chrono::Utc::now()).await? {
        Closed::NotFound => return Err(ApiError::not_found("group-buy")),
        Closed::Now | Closed::Already => {}
    }
    Ok(web::Json(visible(state, auth, id).await?))
}

/// Every household's share, by building, unit and room (its leader, staff).
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<Share>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/group-buys/{id}/shares")]
pub async fn share_list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<Share>>> {
    let id = id.into_inner();
    managed(&state, &auth, id).await?;
    let all = state.store.group_buys().shares(id, None).await?;
    let key = |_: usize, s: &Share| (s.building.clone(), s.unit.clone(), s.room.clone(), s.household_id);
    Ok(web::Json(super::paged(all, page.limit, page.cursor.as_deref(), key)?))
}

/// The shares as a spreadsheet (UTF-8 with a BOM, so spreadsheet programs show the Chinese).
#[utoipa::path(tag = "group-buys", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/group-buys/{id}/shares.csv")]
pub async fn shares_csv(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let gb = managed(&state, &auth, id).await?;
    let shares = state.store.group_buys().shares(id, None).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"group-buy-{id}.csv\"")))
        .body(shares_table(&gb, &shares)))
}

/// The CSV: one row per household, a total row per item.
pub fn shares_table(gb: &GroupBuy, shares: &[Share]) -> String {
    let mut rows = vec![[
        "楼栋 building",
        "单元 unit",
        "房号 room",
        "商品 items",
        "合计(元) total",
        "代下单 placed by",
        "付款 payment",
    ]
    .map(str::to_owned)
    .to_vec()];
    for s in shares {
        let items: Vec<String> = s.items.iter().map(|l| format!("{}×{}{}", l.name, l.quantity, l.unit)).collect();
        rows.push(vec![
            s.building.clone(),
            s.unit.clone(),
            s.room.clone(),
            items.join("; "),
            plain_yuan(s.total_fen),
            s.placed_by.clone().unwrap_or_default(),
            s.payment.as_str().to_owned(),
        ]);
    }
    for i in &gb.items {
        rows.push(vec![
            "合计 total".into(),
            String::new(),
            String::new(),
            format!("{}×{}{}", i.name, i.joined_quantity, i.unit),
            plain_yuan(i.price_fen.times(i.joined_quantity)),
            String::new(),
            String::new(),
        ]);
    }
    super::sheets::table(&rows)
}

/// `12.50`: a number a spreadsheet can add up.
fn plain_yuan(f: shared::Fen) -> String {
    format!("{}.{:02}", f.get() / 100, f.get() % 100)
}

/// Pays the caller's household's share ahead with WeChat Pay: the parameters for
/// `wx.requestPayment` for the share's total now. A paid share cannot change; when the group-buy
/// goes ahead its order is paid, when it fails the money goes back.
#[utoipa::path(
    tag = "group-buys",
    security(("bearer" = [])),
    responses(
        (status = 200, body = crate::wechat::pay::RequestPayment),
        (status = 404, body = ErrorBody, description = "no such group-buy, or no share of the caller's household"),
        (status = 409, body = ErrorBody, description = "`group_closed`, `wrong_state` (paid already) or `wechat_required`"),
        (status = 503, body = ErrorBody, description = "`pay_unavailable`"),
    )
)]
#[post("/group-buys/{id}/share/pay")]
pub async fn pay_share(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<crate::wechat::pay::RequestPayment>> {
    let id = id.into_inner();
    let pay = state.pay.as_ref().ok_or_else(super::pay::pay_unavailable)?;
    let household = auth.user.household.as_ref().map(|h| h.id.get()).ok_or_else(|| ApiError::not_found("share"))?;
    let group_buys = state.store.group_buys();
    let request = group_buys.share_to_pay(id, household).await?.ok_or_else(|| ApiError::not_found("group-buy"))?;
    let now = chrono::Utc::now();
    let amount = crate::domain::group_buy::decide_share_pay(&request, now)?;
    let openid = super::pay::payer_openid(&state, pay, &auth).await?;
    let prepay = group_buys.share_prepay(id, household, auth.user.id, amount, &openid, now).await?;
    let prepay_id = match prepay.prepay_id {
        Some(p) => p,
        None => {
            let description = format!("傅鲜生 团购{id}");
            let made = pay
                .jsapi_prepay(
                    &prepay.out_trade_no,
                    &description,
                    amount.get(),
                    &prepay.payer_openid,
                    Some(request.deadline),
                )
                .await
                .map_err(|e| super::pay::pay_failed(&prepay.out_trade_no, e))?;
            group_buys.set_share_prepay(&prepay.out_trade_no, &made).await?;
            made
        }
    };
    Ok(web::Json(pay.request_payment(&prepay_id)))
}
