//! Staff tools.

use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, patch, post, put, web};
use shared::api::{FlagHousehold, Household, Product, UpdateProductRequest};
use shared::{ErrorBody, ErrorCode};

/// Changes a product: stock, price (into the price-stability record, under the emergency cap),
/// ceiling, name, unit, category, per-order limit, origin, description; `on_sale: false` retires
/// it (out of the catalogue, never deleted), `true` puts it back. Every change is in the audit.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, body = Product),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`price_capped`: over the emergency price cap; `already_exists`: the stall sells a product of that name"),
    )
)]
#[patch("/admin/products/{id}")]
pub async fn update_product(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateProductRequest>,
) -> ApiResult<web::Json<Product>> {
    change_product(&state, Some(staff.0.user.market_id), id.into_inner(), body.into_inner(), staff.0.user.id).await
}

/// Changes a product as `by` (`domain::setup::decide_product_change`): the one path for staff
/// and stall holders. The answer shows it on sale or retired.
pub(crate) async fn change_product(
    state: &AppState,
    market: Option<shared::MarketId>,
    id: i64,
    body: UpdateProductRequest,
    by: i64,
) -> ApiResult<web::Json<Product>> {
    if body == UpdateProductRequest::default() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "say what to change (`stock`, `price_fen`, `name`, `on_sale`, ...)",
        ));
    }
    state
        .store
        .setup()
        .change_product(market, id, &body, by, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("product"))??;
    let product = state.store.catalogue().product_any(id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    Ok(web::Json(product))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FindQuery {
    /// Text in the product's name (1 to 30 characters).
    pub q: String,
}

/// Staff find goods by name, on sale and retired alike (on sale first; at most 50): a retired
/// product is found here to put it back on sale.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(FindQuery), responses((status = 200, body = shared::api::List<Product>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/products")]
pub async fn find_products(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<FindQuery>,
) -> ApiResult<web::Json<shared::api::List<Product>>> {
    let q = query.q.trim();
    if q.is_empty() || q.chars().count() > 30 {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "q: 1 to 30 characters"));
    }
    Ok(web::Json(shared::api::List { items: state.store.catalogue().find_any(staff.0.user.market_id, q).await? }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HouseholdQuery {
    /// Building number, e.g. `3`.
    pub building: Option<String>,
    /// Unit, e.g. `2` (with a building).
    pub unit: Option<String>,
    /// Room, or its start: `30` finds 301, 302, ...
    pub room: Option<String>,
    /// Households per page (1 to 500, default 200).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Households on record by building, unit and room (staff), a page at a time in the order of
/// buildings, units and rooms.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(HouseholdQuery), responses((status = 200, body = shared::api::Page<Household>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/households")]
pub async fn households(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<HouseholdQuery>,
) -> ApiResult<web::Json<shared::api::Page<Household>>> {
    let limit = super::page_limit(query.limit)?;
    let after = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.strip_prefix('h').and_then(|id| id.parse::<i64>().ok()).ok_or_else(super::bad_cursor)?),
    };
    let clean = |v: &Option<String>, field: &str| -> ApiResult<Option<String>> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > 16 => {
                Err(ApiError::new(ErrorCode::InvalidQuery, format!("{field} is at most 16 characters")))
            }
            other => Ok(other.map(str::to_owned)),
        }
    };
    let filter = crate::store::accounts::HouseholdFilter {
        building: clean(&query.building, "building")?,
        unit: clean(&query.unit, "unit")?,
        room: clean(&query.room, "room")?,
    };
    let (items, next) = state.store.households().search(staff.0.user.market_id, &filter, limit, after).await?;
    Ok(web::Json(shared::api::Page { items, next_cursor: next.map(|id| format!("h{id}")) }))
}

/// Flags a household as quarantined, in hardship or elderly: it gets the slots' priority reserve.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = FlagHousehold,
    responses((status = 200, body = Household), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/households/{id}")]
pub async fn flag_household(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<FlagHousehold>,
) -> ApiResult<web::Json<Household>> {
    let id = id.into_inner();
    staff_household(&state, &staff, id).await?;
    let b = body.into_inner();
    if b.quarantined.is_none() && b.hardship.is_none() && b.elderly.is_none() {
        return Err(ApiError::new(ErrorCode::InvalidField, "give `quarantined`, `hardship` and/or `elderly`"));
    }
    state
        .store
        .households()
        .flag(id, b.quarantined, b.hardship, b.elderly)
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("household"))
}

/// Gives a user (made if new) exactly these roles; a leader (团长) runs group-buys for the
/// listed buildings, a volunteer serves them, a stall holder (`vendor`) holds `stall_id` (its
/// previous holder loses it). Takes effect on their next request, and a stall feed of a login
/// that lost its stall ends: roles are looked up every time. Each change is in the audit.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = shared::group_buy::SetRoles,
    responses((status = 200, body = shared::api::User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[put("/admin/users/{phone}/roles")]
pub async fn set_roles(
    state: web::Data<AppState>,
    staff: StaffUser,
    phone: web::Path<String>,
    body: web::Json<shared::group_buy::SetRoles>,
) -> ApiResult<web::Json<shared::api::User>> {
    let phone = shared::Phone::parse(&phone.into_inner())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, format!("phone: {e}")))?;
    let id = state
        .store
        .accounts()
        .set_roles(
            staff.0.user.market_id,
            phone.as_str(),
            &body.into_inner(),
            Some(staff.0.user.id),
            chrono::Utc::now(),
        )
        .await??;
    let user = state.store.accounts().user(id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(crate::routes::user_view(&state, user).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// A phone or its start: `138` finds every phone starting 138.
    pub phone: Option<String>,
    /// Only accounts holding this role (`resident`, `vendor`, `volunteer`, `leader`, `staff`).
    pub role: Option<String>,
    /// Accounts per page (1 to 500, default 200).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Accounts by phone and role (staff), with their roles, buildings and stall, a page at a time
/// in the order they were made.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(UserQuery), responses((status = 200, body = shared::api::Page<shared::api::User>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/users")]
pub async fn users(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<UserQuery>,
) -> ApiResult<web::Json<shared::api::Page<shared::api::User>>> {
    let limit = super::page_limit(query.limit)?;
    let after = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.strip_prefix('u').and_then(|id| id.parse::<i64>().ok()).ok_or_else(super::bad_cursor)?),
    };
    let phone = query.phone.as_deref().unwrap_or("").trim();
    if phone.len() > 11 || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "phone: up to 11 digits"));
    }
    let role = match query.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(
            shared::Role::parse(r)
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidQuery, format!("role: no role `{r}`")))?,
        ),
    };
    let (found, next) = state.store.accounts().search(staff.0.user.market_id, phone, role, limit, after).await?;
    let mut items = Vec::with_capacity(found.len());
    for user in found {
        items.push(crate::routes::user_view(&state, user).await?);
    }
    Ok(web::Json(shared::api::Page { items, next_cursor: next.map(|id| format!("u{id}")) }))
}

/// Erases a resident on their request (个人信息删除): their phone, WeChat login, name, home,
/// cart, notices and register entries go at once, their logins end; their orders stay for the
/// accounts, without the unit, room and notes. Refused (409 `wrong_state`) while an order of
/// theirs is under way, for someone with a role beyond resident (take it away first), and for
/// oneself. A phone nobody has: 404.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("phone" = String, Path, description = "the resident's phone")),
    responses(
        (status = 200, body = shared::api::Erased),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`wrong_state`"),
    )
)]
#[post("/admin/users/{phone}/erase")]
pub async fn erase(
    state: web::Data<AppState>,
    staff: StaffUser,
    phone: web::Path<String>,
) -> ApiResult<web::Json<shared::api::Erased>> {
    let phone = shared::Phone::parse(&phone.into_inner())
        .map_err(|e| ApiError::new(ErrorCode::InvalidPhone, format!("phone: {e}")))?;
    // Another market's resident is not theirs to erase (as if nobody had the phone).
    let market = state.store.accounts().market_of_phone(phone.as_str()).await?;
    super::markets::ours(staff.0.user.market_id, market, "user")?;
    let erased = state
        .store
        .accounts()
        .erase(phone.as_str(), staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("user"))??;
    crate::photos::forget_doors(&state.config.door_photo_dir, &erased.door_photos);
    tracing::info!(
        user = erased.user_id,
        by = staff.0.user.id,
        orders_kept = erased.orders_kept,
        "a resident was erased"
    );
    Ok(web::Json(shared::api::Erased { user_id: erased.user_id, orders_kept: erased.orders_kept }))
}

/// A household of staff's own market (another market's is as if it were not there).
pub(crate) async fn staff_household(state: &AppState, staff: &StaffUser, id: i64) -> ApiResult<()> {
    super::markets::ours(staff.0.user.market_id, state.store.households().market_of(id).await?, "household")
}
