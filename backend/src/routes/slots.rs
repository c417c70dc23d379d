//! Delivery and pickup time slots: residents see what is left; staff open, adjust and close them.

use super::time_field;
use crate::auth::StaffUser;
use crate::domain::slots::broken_rule;
use crate::domain::slots::SlotChange;
use crate::domain::time::{shanghai_day, shanghai_today_start, to_api};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::checkout::{NewSlot, SlotRecord};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use shared::api::{CreateSlot, Slot, SlotQuery, UpdateSlot};
use shared::{ErrorBody, ErrorCode};

pub fn slot_view(s: SlotRecord, now: DateTime<Utc>) -> Slot {
    let row = s.into_row();
    let state = &row.state;
    let closed = state.is_closed(now);
    Slot {
        id: row.id,
        market_id: row.market_id,
        kind: row.kind,
        starts_at: to_api(row.starts_at),
        ends_at: to_api(row.ends_at),
        cutoff_at: to_api(state.cutoff_at),
        capacity: state.capacity,
        remaining: if closed { 0 } else { state.remaining(now) },
        booked: state.booked,
        priority_capacity: state.priority_capacity,
        priority_release_at: state.priority_release_at.map(to_api),
        priority_remaining: if closed { 0 } else { state.priority_remaining() },
        closed,
        household_limit: state.household_limit,
    }
}

/// Slots of one day (Asia/Shanghai), or from today on when no date is given.
#[utoipa::path(tag = "slots", params(SlotQuery), responses((status = 200, body = shared::api::Page<Slot>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/slots")]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SlotQuery>,
) -> ApiResult<web::Json<shared::api::Page<Slot>>> {
    let market = super::markets::market_of(&state, &req, query.market_id).await?;
    let now = Utc::now();
    let (from, to) = match &query.date {
        Some(d) => shanghai_day(d).map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e))?,
        None => {
            let start = shanghai_today_start(now);
            (start, start + chrono::Duration::days(8))
        }
    };
    let slots: Vec<Slot> =
        state.store.slots().between(Some(market), from, to).await?.into_iter().map(|s| slot_view(s, now)).collect();
    Ok(web::Json(super::paged(slots, query.limit, query.cursor.as_deref(), |_, s| (s.starts_at.clone(), s.id))?))
}

/// Opens a slot (staff).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = CreateSlot,
    responses((status = 201, body = Slot), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[post("/admin/slots")]
pub async fn create(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<CreateSlot>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let starts_at = time_field("starts_at", &b.starts_at)?;
    let ends_at = time_field("ends_at", &b.ends_at)?;
    let cutoff_at = time_field("cutoff_at", &b.cutoff_at)?;
    let priority_release_at =
        b.priority_release_at.as_deref().map(|t| time_field("priority_release_at", t)).transpose()?;
    let invalid = |m: &str| Err(ApiError::new(ErrorCode::InvalidField, m.to_owned()));
    if ends_at <= starts_at {
        return invalid("结束时间必须晚于开始时间 (ends_at must be after starts_at)");
    }
    let household_limit = b.household_limit.unwrap_or(1);
    if let Some(rule) = broken_rule(starts_at, cutoff_at, b.capacity, b.priority_capacity, household_limit) {
        return invalid(rule);
    }
    let slot = NewSlot {
        kind: b.kind,
        starts_at,
        ends_at,
        cutoff_at,
        capacity: b.capacity,
        priority_capacity: b.priority_capacity,
        priority_release_at,
        household_limit,
    };
    let now = Utc::now();
    let created = state.store.slots().create(staff.0.user.market_id, &slot, now).await?;
    Ok(HttpResponse::Created().json(slot_view(created, now)))
}

/// Adjusts or closes a slot (staff). Capacity cannot go below the orders already booked.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = UpdateSlot,
    responses(
        (status = 200, body = Slot),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`capacity_below_booked`"),
    )
)]
#[patch("/admin/slots/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateSlot>,
) -> ApiResult<web::Json<Slot>> {
    let b = body.into_inner();
    let change = SlotChange {
        capacity: b.capacity,
        priority_capacity: b.priority_capacity,
        priority_release_at: b
            .priority_release_at
            .as_deref()
            .map(|t| time_field("priority_release_at", t))
            .transpose()?,
        cutoff_at: b.cutoff_at.as_deref().map(|t| time_field("cutoff_at", t)).transpose()?,
        closed: b.closed,
        household_limit: b.household_limit,
    };
    match state.store.slots().change(staff.0.user.market_id, id.into_inner(), &change).await? {
        Some(Ok(s)) => Ok(web::Json(slot_view(s, Utc::now()))),
        Some(Err(refusal)) => Err(refusal.into()),
        None => Err(ApiError::not_found("slot")),
    }
}
