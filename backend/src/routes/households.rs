//! A household is its members': residents waiting to join an address, answered by a member or
//! by staff; staff keep each household's register of phones and its members. The rule of who is
//! a member at once, and who may answer, is `domain::households`'.

use crate::auth::{AuthUser, StaffUser};
use crate::domain::households::Approver;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::masked_phone;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::api::{
    HouseholdPeople, HouseholdPerson, HouseholdRequest, ImportQuery, Invite, Invited, Page, PageQuery, Register,
    RegisterImport, RequestAnswered, SetRegister,
};
use shared::{ErrorBody, ErrorCode, Phone};

/// The residents waiting to join the caller's household, oldest first (members only: a
/// resident who is not a member of a household has none to answer).
#[utoipa::path(
    tag = "households",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<HouseholdRequest>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/me/household/requests")]
pub async fn requests(
    state: web::Data<AppState>,
    auth: AuthUser,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<HouseholdRequest>>> {
    let items = match &auth.user.household {
        Some(home) => state.store.households().requests(home.id.get()).await?,
        None => Vec::new(),
    };
    let items: Vec<HouseholdRequest> = items
        .into_iter()
        .map(|r| HouseholdRequest {
            id: r.id,
            phone: masked_phone(r.phone),
            requested_at: r.requested_at.map(crate::domain::time::to_api),
        })
        .collect();
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), |i, _| i)?))
}

fn invited(phones: Vec<String>) -> Invited {
    Invited { phones: phones.into_iter().filter_map(|p| masked_phone(Some(p))).collect() }
}

/// A member invites a phone into their household (a family member, a carer): its resident is a
/// member at once, now if they asked already or when they give the address. At most 20 phones a
/// household; the phones invited so far, masked.
#[utoipa::path(
    tag = "households",
    security(("bearer" = [])),
    request_body = Invite,
    responses(
        (status = 200, body = Invited),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a member of a household"),
        (status = 409, body = ErrorBody, description = "`over_limit`: the register is full"),
    )
)]
#[post("/me/household/invites")]
pub async fn invite(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<Invite>,
) -> ApiResult<web::Json<Invited>> {
    let member_of = auth.user.household.as_ref().map(|h| h.id.get());
    let now = chrono::Utc::now();
    let phones = state.store.households().invite(member_of, body.phone.as_str(), auth.user.id, now).await??;
    Ok(web::Json(invited(phones)))
}

/// The phones invited into (or recorded on) the caller's household, masked; none for a
/// resident who is no member.
#[utoipa::path(
    tag = "households",
    security(("bearer" = [])),
    responses((status = 200, body = Invited), (status = 401, body = ErrorBody))
)]
#[get("/me/household/invites")]
pub async fn invites(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<Invited>> {
    let phones = match &auth.user.household {
        Some(home) => state.store.households().register_of(home.id.get()).await?,
        None => Vec::new(),
    };
    Ok(web::Json(invited(phones)))
}

/// Answers `requester`'s request: through `/me` as a member of the caller's own household;
/// through `/admin/households/{id}` (`staff_for`, the caller checked as staff) for that household.
async fn answer(
    state: &AppState,
    auth: &AuthUser,
    requester: i64,
    staff_for: Option<i64>,
    let_in: bool,
) -> ApiResult<web::Json<RequestAnswered>> {
    let approver = match staff_for {
        Some(household) => Approver { staff: false, member_of: Some(household) },
        None => Approver { staff: false, member_of: auth.user.household.as_ref().map(|h| h.id.get()) },
    };
    state.store.households().answer_request(approver, requester, let_in).await??;
    Ok(web::Json(RequestAnswered { id: requester, approved: let_in }))
}

/// A member lets a waiting resident into their household.
#[utoipa::path(
    tag = "households",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "the waiting resident's user id")),
    responses((status = 200, body = RequestAnswered), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/me/household/requests/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<RequestAnswered>> {
    answer(&state, &auth, id.into_inner(), None, true).await
}

/// A member turns a request down: the resident is not let in (their orders still reach the door
/// they gave).
#[utoipa::path(
    tag = "households",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "the waiting resident's user id")),
    responses((status = 200, body = RequestAnswered), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/me/household/requests/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<RequestAnswered>> {
    answer(&state, &auth, id.into_inner(), None, false).await
}

/// Staff let a waiting resident into the household they asked for.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "household"), ("user_id" = i64, Path, description = "the waiting resident")),
    responses((status = 200, body = RequestAnswered), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[post("/admin/households/{id}/members/{user_id}")]
pub async fn admit(
    state: web::Data<AppState>,
    staff: StaffUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<web::Json<RequestAnswered>> {
    let (household, user) = path.into_inner();
    super::admin::staff_household(&state, &staff, household).await?;
    answer(&state, &staff.0, user, Some(household), true).await
}

/// Staff take a member out of a household (they moved, or were let in by mistake), or turn
/// down a resident waiting to join it.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "household"), ("user_id" = i64, Path, description = "the member")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/admin/households/{id}/members/{user_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    staff: StaffUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (household, user) = path.into_inner();
    super::admin::staff_household(&state, &staff, household).await?;
    if !state.store.households().remove_member(household, user).await? {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "不是这户的成员或申请人 (not a member of this household nor waiting to join it)",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Staff record the phones living in a household (the whole register; at most 20): a resident
/// with one of them becomes a member at once, now or when they give this address.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "household")),
    request_body = SetRegister,
    responses((status = 200, body = Register), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[put("/admin/households/{id}/register")]
pub async fn register(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<SetRegister>,
) -> ApiResult<web::Json<Register>> {
    let household = id.into_inner();
    super::admin::staff_household(&state, &staff, household).await?;
    if body.phones.len() > 20 {
        return Err(ApiError::new(ErrorCode::InvalidField, "phones: at most 20 a household"));
    }
    let phones: Vec<String> = body.phones.iter().map(|p| p.as_str().to_owned()).collect();
    let kept = state
        .store
        .households()
        .set_register(household, &phones, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("household"))?;
    let phones = kept.into_iter().filter_map(|p| Phone::parse(&p).ok()).collect();
    Ok(web::Json(Register { household_id: shared::HouseholdId(household), phones }))
}

/// The largest register file taken (about 150,000 rows of address and phone).
const MAX_REGISTER_FILE: usize = 5 * 1024 * 1024;
/// The most rows of one register file (a compound's residents at a time).
const MAX_REGISTER_ROWS: usize = 20_000;

/// Staff bring in the register as a spreadsheet (XLSX, or CSV in UTF-8 or GBK) with
/// the columns 小区 (may be left out), 楼号, 单元, 室 and 手机 (or community, building, unit,
/// room, phone): each phone goes on its address's register in the staff's market. `dry_run=true` (the default)
/// answers row by row what would happen; `dry_run=false` applies the file when no row is an
/// error, all or nothing; the same file twice changes nothing. Residents waiting to join whose
/// phone is now registered become members at once.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV (UTF-8 or GBK) or XLSX, told by its bytes; headings in row 1"),
    responses((status = 200, body = RegisterImport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody))
)]
#[post("/admin/households/register/import")]
pub async fn import_register(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<web::Json<RegisterImport>> {
    use crate::domain::households::RegisterLine;
    use crate::routes::sheets::Sheet;
    let bytes = crate::routes::sheets::body(payload, MAX_REGISTER_FILE).await?;
    let sheet = Sheet::read_any(&bytes, MAX_REGISTER_ROWS)?;
    let column = |names: &[&str]| sheet.column(names);
    let [community, building, unit, room, phone] = [
        column(&["小区", "community"]),
        column(&["楼号", "楼", "楼栋", "building"]),
        column(&["单元", "unit"]),
        column(&["室", "房号", "门牌", "room"]),
        column(&["手机", "手机号", "电话", "phone"]),
    ];
    if building.is_none() || unit.is_none() || room.is_none() || phone.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "第1行应为列名：楼号、单元、室、手机（小区可选） (row 1 must name the columns building, unit, room, phone)",
        ));
    }
    let lines: Vec<RegisterLine> = sheet
        .rows
        .iter()
        .map(|(row, cells)| RegisterLine {
            row: *row,
            community: Sheet::cell(cells, community).to_owned(),
            building: Sheet::cell(cells, building).to_owned(),
            unit: Sheet::cell(cells, unit).to_owned(),
            room: Sheet::cell(cells, room).to_owned(),
            phone: Sheet::cell(cells, phone).to_owned(),
        })
        .collect();
    let apply = !query.dry_run;
    let user = &staff.0.user;
    let (plan, let_in) =
        state.store.households().import_register(user.market_id, &lines, apply, user.id, chrono::Utc::now()).await?;
    let applied = apply && plan.clean();
    Ok(web::Json(RegisterImport {
        added: u32::try_from(plan.add.len()).unwrap_or(u32::MAX),
        let_in: u32::try_from(let_in).unwrap_or(u32::MAX),
        rows: plan.rows,
        applied,
    }))
}

/// Every household's register in the staff's market as the spreadsheet the import takes (UTF-8
/// with BOM): export, edit, import.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/households/register.csv")]
pub async fn register_csv(state: web::Data<AppState>, staff: StaffUser) -> ApiResult<HttpResponse> {
    let mut rows =
        vec![["小区 community", "楼号 building", "单元 unit", "室 room", "手机 phone"].map(str::to_owned).to_vec()];
    for e in state.store.households().registers(staff.0.user.market_id).await? {
        rows.push(vec![e.community, e.building, e.unit, e.room, e.phone]);
    }
    Ok(super::sheets::csv_download("household-register.csv", &rows))
}

/// Who lives in a household (its members), who waits to join it, and its register of phones:
/// what staff answer requests and keep the register from. Full phones: staff call people.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "household")),
    responses((status = 200, body = HouseholdPeople), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/admin/households/{id}/people")]
pub async fn people(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<HouseholdPeople>> {
    let id = id.into_inner();
    super::admin::staff_household(&state, &staff, id).await?;
    let households = state.store.households();
    households.get(id).await?.ok_or_else(|| ApiError::not_found("household"))?;
    let person = |r: crate::store::accounts::JoinRequest| HouseholdPerson {
        id: r.id,
        phone: r.phone,
        requested_at: r.requested_at.map(crate::domain::time::to_api),
    };
    let members = households.members(id).await?.into_iter().map(person).collect();
    let waiting = households.requests(id).await?.into_iter().map(person).collect();
    let phones = households.register_of(id).await?.iter().filter_map(|p| Phone::parse(p).ok()).collect();
    Ok(web::Json(HouseholdPeople { household_id: shared::HouseholdId(id), members, waiting, register: phones }))
}
