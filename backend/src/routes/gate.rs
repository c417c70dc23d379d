//! The market's gate (扫码入场): staff put up gates and print their codes; a resident scans one
//! with the phone they order with; staff see who was inside in a time window beside the
//! hand-offs (one investigation, one page and one spreadsheet).

use crate::auth::{AuthUser, StaffUser};
use crate::domain::gate::{check_name, code_from, plausible_code};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::gate::GateRow;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use rand::RngCore;
use shared::api::{EnterGate, Gate, GateEntry, List, NewGate, Page, Visit, VisitQuery};
use shared::{ErrorBody, ErrorCode};

fn new_code() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    code_from(&bytes)
}

/// The gate with the address its poster opens (`FXS_PUBLIC_URL`, else this server as the caller
/// reached it) and the QR code of that address.
fn shown(state: &AppState, req: &HttpRequest, g: GateRow) -> Gate {
    let base = match &state.config.public_url {
        Some(url) => url.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let url = format!("{base}/gate?code={}", g.code);
    Gate { id: g.id, name: g.name, qr_svg: crate::qr::svg(&url).unwrap_or_default(), code: g.code, url }
}

/// Staff put up a gate: its name and a fresh code to print.
#[utoipa::path(tag = "gate", security(("bearer" = [])), request_body = NewGate, responses((status = 201, body = Gate), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "`wrong_state`: the name is taken")))]
#[post("/admin/gates")]
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewGate>,
) -> ApiResult<HttpResponse> {
    let name = check_name(&body.name)?;
    let gate = state
        .store
        .gates()
        .add(staff.0.user.market_id, &name, &new_code(), staff.0.user.id, chrono::Utc::now())
        .await??;
    Ok(HttpResponse::Created().json(shown(&state, &req, gate)))
}

/// The gates with their codes and posters.
#[utoipa::path(tag = "gate", security(("bearer" = [])), responses((status = 200, body = List<Gate>), (status = 403, body = ErrorBody)))]
#[get("/admin/gates")]
pub async fn all(req: HttpRequest, state: web::Data<AppState>, staff: StaffUser) -> ApiResult<web::Json<List<Gate>>> {
    let gates = state.store.gates().all(staff.0.user.market_id).await?;
    Ok(web::Json(List { items: gates.into_iter().map(|g| shown(&state, &req, g)).collect() }))
}

/// A new code for a gate: its old poster stops working.
#[utoipa::path(tag = "gate", security(("bearer" = [])), responses((status = 200, body = Gate), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/gates/{id}/rotate")]
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
) -> ApiResult<web::Json<Gate>> {
    let gate = state
        .store
        .gates()
        .rotate(staff.0.user.market_id, id.into_inner(), &new_code(), staff.0.user.id, chrono::Utc::now())
        .await?;
    Ok(web::Json(shown(&state, &req, gate.ok_or_else(|| ApiError::not_found("gate"))?)))
}

/// A resident at the gate: the code their phone read. 201 a visit recorded; 200 when the same
/// person scanned within minutes (that visit stands).
#[utoipa::path(tag = "gate", security(("bearer" = [])), request_body = EnterGate, responses((status = 201, body = GateEntry), (status = 200, body = GateEntry), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no gate has this code (an old poster?)")))]
#[post("/gate/visits")]
pub async fn enter(state: web::Data<AppState>, user: AuthUser, body: web::Json<EnterGate>) -> ApiResult<HttpResponse> {
    let code = body.code.trim();
    let unknown =
        || ApiError::new(ErrorCode::NotFound, "这个入场码已失效，请扫门口最新的码 (this gate code is not in use)");
    if !plausible_code(code) {
        return Err(unknown());
    }
    let entry = state.store.gates().enter(code, user.user.id, chrono::Utc::now()).await?.ok_or_else(unknown)?;
    Ok(if entry.repeated { HttpResponse::Ok() } else { HttpResponse::Created() }.json(entry))
}

async fn visit_list(
    state: &AppState,
    staff: &StaffUser,
    q: &VisitQuery,
) -> ApiResult<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, Vec<Visit>)> {
    let (from, to) = (super::time_field("from", &q.from)?, super::time_field("to", &q.to)?);
    if to <= from {
        return Err(ApiError::new(ErrorCode::InvalidField, "to: must be after from"));
    }
    let phone = q.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    Ok((from, to, state.store.gates().visits(staff.0.user.market_id, from, to, phone).await?))
}

/// Everyone who came through a gate in a time range (staff), oldest first.
#[utoipa::path(tag = "gate", security(("bearer" = [])), params(VisitQuery), responses((status = 200, body = Page<Visit>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/visits")]
pub async fn visits(
    state: web::Data<AppState>,
    staff: StaffUser,
    q: web::Query<VisitQuery>,
) -> ApiResult<web::Json<Page<Visit>>> {
    let (_, _, found) = visit_list(&state, &staff, &q).await?;
    Ok(web::Json(super::paged(found, q.limit, q.cursor.as_deref(), |_, v| (v.entered_at.clone(), v.id))?))
}

/// One epidemic investigation as a spreadsheet: everyone through a gate and every hand-off at a
/// door in the time range, in time order (UTF-8 with BOM).
#[utoipa::path(tag = "gate", security(("bearer" = [])), params(VisitQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/investigation.csv")]
pub async fn investigation_csv(
    state: web::Data<AppState>,
    staff: StaffUser,
    q: web::Query<VisitQuery>,
) -> ApiResult<HttpResponse> {
    let (from, to, seen) = visit_list(&state, &staff, &q).await?;
    let handoffs = match q.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        // A person's visits, and the hand-offs they made as a volunteer.
        Some(phone) => state.store.batches().contacts(staff.0.user.market_id, Some(phone), None, from, to).await?,
        None => state.store.batches().contacts(staff.0.user.market_id, None, None, from, to).await?,
    };
    let mut lines: Vec<(String, Vec<String>)> = Vec::new();
    for v in seen {
        let at = v.entered_at.clone();
        lines.push((
            at.clone(),
            vec![
                "入场 gate".into(),
                at,
                v.phone.unwrap_or_default(),
                super::at_building(&v.community, &v.building),
                v.unit,
                v.room,
                v.gate,
                String::new(),
            ],
        ));
    }
    for c in handoffs {
        let how = if c.left_at_door { "放门口 left at door" } else { "当面 code" };
        let row = vec![
            "送达 hand-off".into(),
            c.at.clone(),
            c.volunteer_phone.unwrap_or_default(),
            super::at_building(&c.community, &c.building),
            c.unit,
            c.room,
            how.into(),
            c.order_id.to_string(),
        ];
        lines.push((c.at, row));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rows = vec![[
        "类别 kind",
        "时间 time",
        "电话 phone",
        "楼栋 building",
        "单元 unit",
        "房号 room",
        "门/方式 gate or how",
        "订单 order",
    ]
    .map(str::to_owned)
    .to_vec()];
    rows.extend(lines.into_iter().map(|(_, row)| row));
    Ok(super::sheets::csv_download("investigation.csv", &rows))
}
