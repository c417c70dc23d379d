//! Dispatch and volunteers: a slot's delivery batches by building, claimed by one volunteer,
//! picked up, handed over door by door with the resident's code. The rules are
//! `domain::delivery`'s; who sees a manifest is decided here from the batch's volunteer.

use crate::auth::{AuthUser, StaffUser};
use crate::domain::delivery::Proof;
use crate::domain::markets::elsewhere;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use shared::api::{
    Batch, BatchesQuery, Contact, ContactQuery, HandoffRequest, LeftAtDoor, Order, Problem, ReportProblem,
};
use shared::order::BatchStatus;
use shared::{ErrorBody, ErrorCode, Role};

fn may_dispatch(auth: &AuthUser) -> ApiResult<()> {
    if auth.has(Role::Staff) || auth.has(Role::Volunteer) {
        Ok(())
    } else {
        Err(ApiError::forbidden("只有志愿者和工作人员可以看配送批次 (volunteers and staff only)"))
    }
}

/// The batch as this caller may see it: the manifest (households, phones, notes) only for staff
/// and, until it is done, the volunteer who claimed it.
async fn seen(state: &AppState, auth: &AuthUser, id: i64) -> ApiResult<Batch> {
    let (batch, volunteer) =
        state.store.batches().batch(id, true).await?.ok_or_else(|| ApiError::not_found("batch"))?;
    if let Some(refusal) = elsewhere(auth.user.market_id, batch.market_id, "batch") {
        return Err(refusal.into());
    }
    let theirs = volunteer == Some(auth.user.id) && batch.status != BatchStatus::Done;
    if auth.has(Role::Staff) || theirs {
        return Ok(batch);
    }
    Ok(Batch { manifest: None, ..batch })
}

/// Which delivery slots (from two hours ago to two days ahead) have work for volunteers: ready
/// batches, and the caller's own (staff, volunteers).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = shared::api::List<shared::api::SlotWork>), (status = 403, body = ErrorBody)))]
#[get("/batches/slots")]
pub async fn slots_with_work(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<shared::api::List<shared::api::SlotWork>>> {
    may_dispatch(&auth)?;
    let now = chrono::Utc::now();
    let items = state
        .store
        .batches()
        .work_by_slot(
            auth.user.market_id,
            now - chrono::Duration::hours(2),
            now + chrono::Duration::days(2),
            auth.user.id,
        )
        .await?;
    Ok(web::Json(shared::api::List { items }))
}

/// The caller's rounds as a volunteer: all told, and the latest 20 (volunteers, staff).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = shared::api::VolunteerHours), (status = 403, body = ErrorBody)))]
#[get("/me/volunteer-hours")]
pub async fn my_hours(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<shared::api::VolunteerHours>> {
    may_dispatch(&auth)?;
    let since = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let rounds = state.store.batches().rounds(None, Some(auth.user.id), since, chrono::Utc::now()).await?;
    let (count, minutes) =
        crate::domain::delivery::volunteer_hours(&rounds.iter().map(|(r, ..)| r.clone()).collect::<Vec<_>>())
            .first()
            .map_or((0, 0), |(_, n, m)| (*n, *m));
    let recent = rounds
        .into_iter()
        .take(20)
        .map(|(r, batch, building, ..)| shared::api::VolunteerRound {
            batch_id: shared::BatchId(batch),
            building,
            claimed_at: crate::domain::time::to_api(r.claimed_at),
            done_at: crate::domain::time::to_api(r.done_at),
            minutes: r.minutes(),
        })
        .collect();
    Ok(web::Json(shared::api::VolunteerHours { rounds: count, minutes, recent }))
}

/// Every volunteer's rounds and hours done in a time range, as a spreadsheet for the
/// neighbourhood committee's records (UTF-8 with BOM; staff).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(shared::api::HoursQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/volunteer-hours.csv")]
pub async fn hours_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<shared::api::HoursQuery>,
) -> ApiResult<HttpResponse> {
    let (from, to) = (super::time_field("from", &query.from)?, super::time_field("to", &query.to)?);
    if to <= from {
        return Err(ApiError::new(ErrorCode::InvalidField, "to: must be after from"));
    }
    let rounds = state.store.batches().rounds(Some(staff.0.user.market_id), None, from, to).await?;
    let who: std::collections::BTreeMap<i64, (Option<String>, Option<String>)> =
        rounds.iter().map(|(r, _, _, phone, name)| (r.volunteer_id, (phone.clone(), name.clone()))).collect();
    let tally = crate::domain::delivery::volunteer_hours(&rounds.into_iter().map(|(r, ..)| r).collect::<Vec<_>>());
    let mut rows =
        vec![["手机 phone", "姓名 name", "批次 rounds", "分钟 minutes", "小时 hours"].map(str::to_owned).to_vec()];
    for (volunteer, count, minutes) in tally {
        let (phone, name) = who.get(&volunteer).cloned().unwrap_or_default();
        rows.push(vec![
            phone.unwrap_or_default(),
            name.unwrap_or_default(),
            count.to_string(),
            minutes.to_string(),
            format!("{}.{:02}", minutes / 60, minutes % 60 * 100 / 60),
        ]);
    }
    Ok(super::sheets::csv_download("volunteer-hours.csv", &rows))
}

/// A slot's batches: one per building (a group-buy's drop is one), with their state, their
/// volunteer and since when they have waited (staff, volunteers).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(BatchesQuery), responses((status = 200, body = shared::api::Page<Batch>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/batches")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<BatchesQuery>,
) -> ApiResult<web::Json<shared::api::Page<Batch>>> {
    may_dispatch(&auth)?;
    let now = chrono::Utc::now();
    let mut all = state.store.batches().list(query.slot_id.get(), now).await?;
    // Another market's slot has no batches for this caller (a slot's batches are its market's:
    // the first one tells, with no read of the slot on every refresh of the dispatch board).
    if all.first().is_some_and(|b| elsewhere(auth.user.market_id, b.market_id, "slot").is_some()) {
        all.clear();
    }
    mark_late(&mut all, now, state.config.late_batch_minutes);
    Ok(web::Json(super::paged(all, query.limit, query.cursor.as_deref(), |_, b| (b.building.clone(), b.id))?))
}

/// One batch; its manifest for its volunteer (until done) and staff.
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Batch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/batches/{id}")]
pub async fn detail(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    may_dispatch(&auth)?;
    Ok(web::Json(seen(&state, &auth, id.into_inner()).await?))
}

/// The manifest as a spreadsheet for volunteers who prefer paper (UTF-8 with BOM): one row per
/// household, by building, unit and room. Its volunteer (until done) and staff only.
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/batches/{id}/manifest.csv")]
pub async fn manifest_csv(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    may_dispatch(&auth)?;
    let id = id.into_inner();
    let batch = seen(&state, &auth, id).await?;
    let stops = batch.manifest.ok_or_else(|| {
        ApiError::forbidden("只有认领这一批的志愿者和工作人员能看清单 (its volunteer and staff only)")
    })?;
    let mut rows =
        vec![["楼栋 building", "单元 unit", "房号 room", "电话 phone", "商品 items", "备注 note", "订单 order"]
            .map(str::to_owned)
            .to_vec()];
    for s in stops {
        let items: Vec<String> = s.items.iter().map(|i| format!("{}×{}{}", i.name, i.quantity, i.unit)).collect();
        rows.push(vec![
            super::at_building(&s.community, &s.building),
            s.unit,
            s.room,
            s.phone.unwrap_or_default(),
            items.join("; "),
            s.note.unwrap_or_default(),
            s.order_id.to_string(),
        ]);
    }
    Ok(super::sheets::csv_download(&format!("batch-{id}.csv"), &rows))
}

/// Claims a ready batch (volunteers): exactly one of several volunteers at once gets it; the
/// others are told 409 `already_claimed`.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Batch),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`already_claimed`, or `wrong_state` while stalls are still packing"),
    )
)]
#[post("/batches/{id}/claim")]
pub async fn claim(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    if !auth.has(Role::Volunteer) {
        return Err(ApiError::forbidden("只有志愿者可以认领 (volunteers claim batches)"));
    }
    let id = id.into_inner();
    state.limits.check(crate::limits::Limit::ClaimPerUser, auth.user.id)?;
    seen(&state, &auth, id).await?;
    state.store.batches().claim(id, auth.user.id, chrono::Utc::now()).await??;
    Ok(web::Json(seen(&state, &auth, id).await?))
}

/// The goods left the market: the batch is out and its orders out for delivery (its volunteer).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Batch), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/batches/{id}/pickup")]
pub async fn pickup(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<web::Json<Batch>> {
    may_dispatch(&auth)?;
    let id = id.into_inner();
    state.store.batches().pickup(id, auth.user.id, chrono::Utc::now()).await??;
    Ok(web::Json(seen(&state, &auth, id).await?))
}

/// Whether the caller is staff of the order's market: another market's staff are no more to
/// its order than any other worker there (`domain::markets::elsewhere`).
pub(crate) async fn staff_of_order(state: &AppState, auth: &AuthUser, order: i64) -> ApiResult<bool> {
    if !auth.has(Role::Staff) {
        return Ok(false);
    }
    let market = state.store.batches().order_market(order).await?;
    Ok(super::markets::ours(auth.user.market_id, market, "order").is_ok())
}

async fn order_as_worker(state: &AppState, id: i64) -> ApiResult<web::Json<Order>> {
    let (_, mut order) = state.store.orders().get(id).await?.ok_or_else(|| ApiError::not_found("order"))?;
    // The code is the resident's to show, never the worker's to read.
    order.handoff_code = None;
    Ok(web::Json(order))
}

/// Hands the order over without contact: the resident shows the 6-digit code, the volunteer
/// types it. A wrong code changes nothing but is counted; after 5 the order takes no more
/// until staff reset it.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    request_body = HandoffRequest,
    responses(
        (status = 200, body = Order),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_code`, `handoff_locked` or `wrong_state`"),
    )
)]
#[post("/orders/{id}/handoff")]
pub async fn handoff(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<HandoffRequest>,
) -> ApiResult<web::Json<Order>> {
    // A pickup point's keeper hands over too (which orders: `domain::delivery::decide_handoff`).
    if may_dispatch(&auth).is_err() && !state.store.points().keeps(auth.user.id).await? {
        may_dispatch(&auth)?;
    }
    state.limits.check(crate::limits::Limit::HandoffPerUser, auth.user.id)?;
    let id = id.into_inner();
    let code = body.into_inner().code;
    let proof = Proof::Code(&code);
    let staff = staff_of_order(&state, &auth, id).await?;
    state.store.batches().handoff(id, auth.user.id, staff, proof, None, chrono::Utc::now()).await??;
    order_as_worker(&state, id).await
}

/// Nobody home: the volunteer leaves the order at the door, with a note the resident sees.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    request_body = LeftAtDoor,
    responses((status = 200, body = Order), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/orders/{id}/left-at-door")]
pub async fn left_at_door(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<LeftAtDoor>,
) -> ApiResult<web::Json<Order>> {
    may_dispatch(&auth)?;
    let note = body.into_inner().note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "note: 请写明放在哪里（1到200字）(say where it was left, 1 to 200 characters)",
        ));
    }
    let id = id.into_inner();
    let now = chrono::Utc::now();
    let staff = staff_of_order(&state, &auth, id).await?;
    state.store.batches().handoff(id, auth.user.id, staff, Proof::LeftAtDoor, Some(&note), now).await??;
    order_as_worker(&state, id).await
}

/// A photo of an order left at the door, taken by its volunteer (or staff): the picture itself
/// as the body, as a product's photo (`image/jpeg`, `image/png` or `image/webp`, up to 10 MB). It
/// is turned upright, shrunk and stripped of its metadata, and kept in a private folder: only
/// the household, the volunteer and staff see it (`GET`). A new photo replaces the one before.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG, PNG or WebP photo"),
    responses((status = 200, body = Order), (status = 400, body = ErrorBody, description = "`invalid_image`"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: not left at the door"))
)]
#[put("/orders/{id}/door-photo")]
pub async fn put_door_photo(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<web::Json<Order>> {
    may_dispatch(&auth)?;
    let id = id.into_inner();
    let bytes = super::sheets::body(payload, crate::photos::MAX_PHOTO_BYTES).await?;
    let (key, picture) = web::block(move || crate::photos::prepare_door(id, &bytes))
        .await
        .map_err(|e| ApiError::internal("preparing a photo at the door", e))??;
    let dir = state.config.door_photo_dir.clone();
    let file_key = key.clone();
    web::block(move || crate::photos::store_door(&dir, &file_key, &picture))
        .await
        .map_err(|e| ApiError::internal("storing a photo at the door", e))?
        .map_err(|e| ApiError::internal("storing a photo at the door", e))?;
    let staff = staff_of_order(&state, &auth, id).await?;
    let recorded = state.store.batches().set_door_photo(id, auth.user.id, staff, &key).await?;
    let forget = match recorded {
        Ok(old) => old.into_iter().collect::<Vec<_>>(),
        // Refused: the picture just written belongs to no order.
        Err(refusal) => {
            crate::photos::forget_doors(&state.config.door_photo_dir, &[key]);
            return Err(refusal.into());
        }
    };
    crate::photos::forget_doors(&state.config.door_photo_dir, &forget);
    order_as_worker(&state, id).await
}

/// An order's photo at the door (a JPEG): for its household, the volunteer of its batch and
/// staff; for anyone else, and for an order without one, 404.
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = ErrorBody))
)]
#[get("/orders/{id}/door-photo")]
pub async fn get_door_photo(state: web::Data<AppState>, auth: AuthUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let none = || ApiError::not_found("photo at the door");
    let (key, volunteer) = state.store.batches().door_photo(id).await?.ok_or_else(none)?;
    let (owner, _) = state.store.orders().get(id).await?.ok_or_else(none)?;
    let mine = owner.is(auth.user.id, auth.user.household.as_ref().map(|h| h.id.get()));
    let staff = staff_of_order(&state, &auth, id).await?;
    if !crate::domain::delivery::may_see_door_photo(mine, staff, volunteer, auth.user.id) {
        return Err(none());
    }
    let path = crate::photos::door_file(&state.config.door_photo_dir, &key);
    let bytes =
        match web::block(move || std::fs::read(path)).await.map_err(|e| ApiError::internal("reading a photo", e))? {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(none()),
            Err(e) => return Err(ApiError::internal("reading a photo at the door", e)),
        };
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// Every hand-off in a time range, for a volunteer (phone) and/or a building (staff): who
/// delivered, when, to which household.
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(ContactQuery), responses((status = 200, body = shared::api::Page<Contact>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/contacts")]
pub async fn contacts(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<ContactQuery>,
) -> ApiResult<web::Json<shared::api::Page<Contact>>> {
    let all = contact_list(&state, &staff, &query).await?;
    Ok(web::Json(super::paged(all, query.limit, query.cursor.as_deref(), |_, c| (c.at.clone(), c.order_id))?))
}

/// The same as a spreadsheet (UTF-8 with BOM).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(ContactQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/contacts.csv")]
pub async fn contacts_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<ContactQuery>,
) -> ApiResult<HttpResponse> {
    let found = contact_list(&state, &staff, &query).await?;
    let mut rows =
        vec![["时间 time", "志愿者 volunteer", "楼栋 building", "单元 unit", "房号 room", "方式 how", "订单 order"]
            .map(str::to_owned)
            .to_vec()];
    for c in found {
        rows.push(vec![
            c.at,
            c.volunteer_phone.unwrap_or_default(),
            super::at_building(&c.community, &c.building),
            c.unit,
            c.room,
            if c.left_at_door { "放门口 left at door".to_owned() } else { "当面 code".to_owned() },
            c.order_id.to_string(),
        ]);
    }
    Ok(super::sheets::csv_download("contacts.csv", &rows))
}

async fn contact_list(state: &AppState, staff: &StaffUser, q: &ContactQuery) -> ApiResult<Vec<Contact>> {
    let (from, to) = (super::time_field("from", &q.from)?, super::time_field("to", &q.to)?);
    if to <= from {
        return Err(ApiError::new(ErrorCode::InvalidField, "to: must be after from"));
    }
    let volunteer = q.volunteer.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let building = q.building.as_deref().map(str::trim).filter(|b| !b.is_empty());
    Ok(state.store.batches().contacts(staff.0.user.market_id, volunteer, building, from, to).await?)
}

/// Lets an order take hand-off codes again after too many wrong ones (staff).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), responses((status = 200, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/orders/{id}/handoff/reset")]
pub async fn reset_handoff(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    super::markets::ours(staff.0.user.market_id, state.store.batches().order_market(id).await?, "order")?;
    if !state.store.batches().reset_handoff(id).await? {
        return Err(ApiError::not_found("order"));
    }
    let order = order_as_worker(&state, id).await?;
    Ok(HttpResponse::Ok().json(order.into_inner()))
}

/// A resident reports a problem with their delivered order (missing, damaged, wrong door).
#[utoipa::path(
    tag = "delivery",
    security(("bearer" = [])),
    request_body = ReportProblem,
    responses((status = 201, description = "Recorded"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/orders/{id}/problem")]
pub async fn report_problem(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: web::Json<ReportProblem>,
) -> ApiResult<HttpResponse> {
    let text = body.into_inner().text.trim().to_owned();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(ApiError::new(ErrorCode::InvalidField, "text: 请写明问题（1到500字）(1 to 500 characters)"));
    }
    let household = auth.user.household.as_ref().map(|h| h.id);
    let problem = state
        .store
        .batches()
        .report_problem(id.into_inner(), auth.user.id, household.map(|h| h.get()), &text, chrono::Utc::now())
        .await??;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": problem })))
}

/// Residents' reports, newest first (staff).
#[utoipa::path(tag = "delivery", security(("bearer" = [])), params(shared::api::PageQuery), responses((status = 200, body = shared::api::Page<Problem>), (status = 403, body = ErrorBody)))]
#[get("/admin/problems")]
pub async fn problems(
    state: web::Data<AppState>,
    staff: StaffUser,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<web::Json<shared::api::Page<Problem>>> {
    let all = state.store.batches().problems(staff.0.user.market_id).await?;
    Ok(web::Json(super::paged(all, page.limit, page.cursor.as_deref(), |_, p| std::cmp::Reverse(p.id))?))
}

/// Marks the batches that wait too long (`domain::delivery::is_late`).
pub fn mark_late(batches: &mut [Batch], now: chrono::DateTime<chrono::Utc>, minutes: i64) {
    for b in batches {
        let since = crate::domain::time::parse_api(&b.since).unwrap_or(now);
        b.late = crate::domain::delivery::is_late(b.status, since, now, minutes);
    }
}
