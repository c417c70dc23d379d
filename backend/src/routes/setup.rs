//! Setting the market up: the area it serves (its buildings; a closed one's deliveries go to
//! its gate), the catalogue's categories and stalls, and the audit record of every change to
//! the set-up. Staff only; the rules are `domain::area`'s and `domain::setup`'s.

use crate::auth::{StaffUser, VendorUser};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, patch, post, put, web, HttpResponse};
use shared::api::{
    AuditEntry, AuditQuery, Building, Category, CategoryOnRecord, NewBuilding, NewCategory, NewProduct, NewStall, Page,
    PageQuery, ProductDetail, UpdateBuilding, UpdateCategory, UpdateStall, Vendor,
};
use shared::{ErrorBody, ErrorCode};

/// Every building the market delivers to, by compound and number, with its households on record.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<Building>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/buildings")]
pub async fn buildings(
    state: web::Data<AppState>,
    staff: StaffUser,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Building>>> {
    let items = state.store.setup().buildings(staff.0.user.market_id).await?;
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), |i, _| i)?))
}

/// Adds a building to the area the market serves: from then on residents may give addresses
/// in it. Its number is the market's once (an address names a building by its number alone):
/// a number on record is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewBuilding,
    responses((status = 201, body = Building), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/buildings")]
pub async fn add_building(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewBuilding>,
) -> ApiResult<HttpResponse> {
    let made =
        state.store.setup().add_building(staff.0.user.market_id, &body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Changes a building's units, or closes it (a quarantined compound: deliveries go to its
/// gate) and opens it again.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "building")),
    request_body = UpdateBuilding,
    responses((status = 200, body = Building), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/buildings/{id}")]
pub async fn change_building(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateBuilding>,
) -> ApiResult<web::Json<Building>> {
    let changed = state
        .store
        .setup()
        .change_building(staff.0.user.market_id, id.into_inner(), &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("building"))??;
    Ok(web::Json(changed))
}

/// Adds a category of goods: shown in the catalogue at once (its key, made from the English
/// name, is what `GET /products?category=` takes). A name on record is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses((status = 201, body = Category), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/categories")]
pub async fn add_category(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewCategory>,
) -> ApiResult<HttpResponse> {
    let made = state.store.setup().add_category(&body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Every category on record for staff: those on the catalogue first, then the retired ones
/// (brought back with `PATCH /admin/categories/{id}` `{"retired": false}`).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<CategoryOnRecord>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/categories")]
pub async fn categories_on_record(
    state: web::Data<AppState>,
    _staff: StaffUser,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<CategoryOnRecord>>> {
    let items = state.store.catalogue().categories_on_record().await?;
    Ok(web::Json(super::paged(items, page.limit, page.cursor.as_deref(), |i, _| i)?))
}

/// Changes a category's names, place in the list or emoji (its key stays).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the category's key, e.g. `vegetable`")),
    request_body = UpdateCategory,
    responses((status = 200, body = Category), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[patch("/admin/categories/{id}")]
pub async fn change_category(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<String>,
    body: web::Json<UpdateCategory>,
) -> ApiResult<web::Json<Category>> {
    let changed = state
        .store
        .setup()
        .change_category(&id, &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("category"))??;
    Ok(web::Json(changed))
}

/// Adds a stall of the market hall (its number `hall` + `number`, e.g. `A03`; a number on
/// record is 409 `already_exists`). Its holder is given with `PUT /admin/users/{phone}/roles`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewStall,
    responses((status = 201, body = Vendor), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/stalls")]
pub async fn add_stall(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewStall>,
) -> ApiResult<HttpResponse> {
    let made =
        state.store.setup().add_stall(staff.0.user.market_id, &body, staff.0.user.id, chrono::Utc::now()).await??;
    Ok(HttpResponse::Created().json(made))
}

/// Changes a stall's name, category, description (its number stays), opening (`open`: 停业 when
/// false) or day of rest (`closed_on`, 休市).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "stall")),
    request_body = UpdateStall,
    responses((status = 200, body = Vendor), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/admin/stalls/{id}")]
pub async fn change_stall(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<UpdateStall>,
) -> ApiResult<web::Json<Vendor>> {
    let changed = state
        .store
        .setup()
        .change_stall(Some(staff.0.user.market_id), id.into_inner(), &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("stall"))??;
    Ok(web::Json(changed))
}

/// A stall holder says when their own stall is closed (`open`) or rests (`closed_on`); the rest
/// of the stall's record is staff's (403).
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    request_body = UpdateStall,
    responses((status = 200, body = Vendor), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[patch("/vendor/stall")]
pub async fn change_own_stall(
    state: web::Data<AppState>,
    vendor: VendorUser,
    body: web::Json<UpdateStall>,
) -> ApiResult<web::Json<Vendor>> {
    let stall = super::vendor::stall(&vendor)?;
    if body.name.is_some() || body.category.is_some() || body.description.is_some() {
        return Err(ApiError::forbidden(
            "摊位名称、分类和介绍由市场工作人员修改 (staff change a stall's name, category and description)",
        ));
    }
    if body.open.is_none() && body.closed_on.is_none() {
        return Err(ApiError::new(ErrorCode::InvalidField, "give `open` and/or `closed_on`"));
    }
    let changed = state
        .store
        .setup()
        .change_stall(None, stall, &body, vendor.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("stall"))??;
    Ok(web::Json(changed))
}

/// Adds a product to a stall (staff; `vendor_id` required): on sale at once, its first price
/// in the public price record (稳物价). A name the stall sells already is 409 `already_exists`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses((status = 201, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/products")]
pub async fn add_product(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<NewProduct>,
) -> ApiResult<HttpResponse> {
    let vendor = body.vendor_id.ok_or_else(|| ApiError::new(ErrorCode::InvalidField, "vendor_id: which stall"))?;
    new_product(&state, Some(staff.0.user.market_id), vendor, &body, staff.0.user.id).await
}

/// A stall holder adds a product to their own stall (the same body without `vendor_id`).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses((status = 201, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/vendor/products")]
pub async fn add_own_product(
    state: web::Data<AppState>,
    holder: VendorUser,
    body: web::Json<NewProduct>,
) -> ApiResult<HttpResponse> {
    if body.vendor_id.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidField, "vendor_id: a stall adds products to itself only"));
    }
    new_product(&state, None, super::vendor::stall(&holder)?, &body, holder.0.user.id).await
}

async fn new_product(
    state: &AppState,
    market: Option<shared::MarketId>,
    vendor: i64,
    body: &NewProduct,
    by: i64,
) -> ApiResult<HttpResponse> {
    let id = state
        .store
        .setup()
        .add_product(market, vendor, body, by, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("stall"))??;
    let made = state.store.catalogue().product(id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    Ok(HttpResponse::Created().json(made))
}

/// The record of changes to the market's set-up, newest first: who, when, before and after
/// (the staff's market's: changes made by its people).
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEntry>>> {
    let items = state.store.setup().audit(staff.0.user.market_id, query.subject.as_deref()).await?;
    Ok(web::Json(super::paged(items, query.limit, query.cursor.as_deref(), |_, e| -e.id)?))
}

/// The largest catalogue file taken (CSV or XLSX).
const MAX_CATALOGUE_FILE: usize = 5 * 1024 * 1024;
/// The most rows of one catalogue file.
const MAX_CATALOGUE_ROWS: usize = 5_000;

/// Staff bring in the market's spreadsheet of goods: CSV (UTF-8 or GBK, as Excel saves it) or
/// XLSX, headings in row 1: 编号 (empty for a new product), 摊位号, 分类, 品名, 单位, 价格 (yuan),
/// 库存, 限购 (empty: none), 产地, 在售 (是/否), 说明 — or the English words after them in the
/// export's headings. Only 摊位号 and 品名 must be there; a column left out changes nothing.
/// `dry_run=true` (the default) answers row by row (create / update / unchanged / error with
/// its column and reason); `dry_run=false` applies it when no row is an error, all or nothing,
/// every price through the emergency cap and into the public price record, every change in the
/// audit. The same file twice changes nothing.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(shared::api::ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV (UTF-8 or GBK) or XLSX, headings in row 1"),
    responses((status = 200, body = shared::api::CatalogueImport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody))
)]
#[post("/admin/catalogue/import")]
pub async fn import_catalogue(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<shared::api::ImportQuery>,
    payload: web::Payload,
) -> ApiResult<web::Json<shared::api::CatalogueImport>> {
    use crate::domain::catalogue_import::{CatalogueLine, Planned};
    use crate::routes::sheets::Sheet;
    let bytes = crate::routes::sheets::body(payload, MAX_CATALOGUE_FILE).await?;
    let sheet = Sheet::read_any(&bytes, MAX_CATALOGUE_ROWS)?;
    let column = |names: &[&str]| sheet.column(names);
    let [id, stall, category, name, unit, price, stock, limit, origin, on_sale, description] = [
        column(&["编号", "id"]),
        column(&["摊位号", "摊位", "stall"]),
        column(&["分类", "类别", "category"]),
        column(&["品名", "商品", "名称", "name"]),
        column(&["单位", "unit"]),
        column(&["价格", "单价", "price"]),
        column(&["库存", "stock"]),
        column(&["限购", "limit"]),
        column(&["产地", "origin"]),
        column(&["在售", "on_sale", "sale"]),
        column(&["说明", "描述", "description"]),
    ];
    if stall.is_none() || name.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "第1行应为列名，至少有摊位号和品名 (row 1 must name the columns, at least stall and name)",
        ));
    }
    let cell = |cells: &[String], column: Option<usize>| column.map(|_| Sheet::cell(cells, column).to_owned());
    let lines: Vec<CatalogueLine> = sheet
        .rows
        .iter()
        .map(|(row, cells)| CatalogueLine {
            row: *row,
            id: cell(cells, id),
            stall: Sheet::cell(cells, stall).to_owned(),
            name: Sheet::cell(cells, name).to_owned(),
            category: cell(cells, category),
            unit: cell(cells, unit),
            price: cell(cells, price),
            stock: cell(cells, stock),
            limit: cell(cells, limit),
            origin: cell(cells, origin),
            on_sale: cell(cells, on_sale),
            description: cell(cells, description),
        })
        .collect();
    let apply = !query.dry_run;
    let user = &staff.0.user;
    let plan = state.store.setup().import_catalogue(user.market_id, &lines, apply, user.id, chrono::Utc::now()).await?;
    let count = |create: bool| {
        let n = plan.changes.iter().filter(|c| matches!(c, Planned::Create(_)) == create).count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    Ok(web::Json(shared::api::CatalogueImport {
        applied: apply && plan.clean(),
        created: count(true),
        updated: count(false),
        rows: plan.rows,
    }))
}

/// The headings of the catalogue's file, as the export writes them and the import reads them.
const CATALOGUE_HEADINGS: [&str; 11] = [
    "编号 id",
    "摊位号 stall",
    "分类 category",
    "品名 name",
    "单位 unit",
    "价格 price",
    "库存 stock",
    "限购 limit",
    "产地 origin",
    "在售 on_sale",
    "说明 description",
];

/// Every product of the staff's market but the boxes, on sale or retired, in the columns the
/// import takes (UTF-8 with a byte-order mark): export, edit, import.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/catalogue/export.csv")]
pub async fn export_catalogue_csv(state: web::Data<AppState>, staff: StaffUser) -> ApiResult<HttpResponse> {
    let rows = catalogue_rows(&state, staff.0.user.market_id).await?;
    Ok(super::sheets::csv_download("catalogue.csv", &rows))
}

/// The same as an XLSX workbook (Excel, WPS): numbers as numbers, the rest as text.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/admin/catalogue/export.xlsx")]
pub async fn export_catalogue_xlsx(state: web::Data<AppState>, staff: StaffUser) -> ApiResult<HttpResponse> {
    let rows = catalogue_rows(&state, staff.0.user.market_id).await?;
    // 编号, 价格, 库存 and 限购 are numbers.
    let book = super::sheets::workbook("商品 catalogue", &rows, &[0, 5, 6, 7])?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", "attachment; filename=\"catalogue.xlsx\""))
        .body(book))
}

/// The catalogue's file as rows of cells, the headings first.
async fn catalogue_rows(state: &AppState, market: shared::MarketId) -> ApiResult<Vec<Vec<String>>> {
    let mut rows = vec![CATALOGUE_HEADINGS.map(str::to_owned).to_vec()];
    for p in state.store.setup().catalogue_entries(market).await? {
        rows.push(vec![
            p.id.to_string(),
            p.stall_no,
            p.category,
            p.name,
            p.unit,
            super::sheets::yuan(p.price_fen),
            p.stock.to_string(),
            p.per_order_limit.map(|l| l.to_string()).unwrap_or_default(),
            p.origin,
            if p.active { "是" } else { "否" }.to_owned(),
            p.description,
        ]);
    }
    Ok(rows)
}

/// Staff give a product its photo: the picture itself as the body (`image/jpeg`, `image/png`
/// or `image/webp`, up to 10 MB; what it is, is read from the bytes). It is turned upright,
/// stripped of its metadata (a phone's GPS position never reaches residents) and stored as a
/// thumbnail and a larger JPEG under names that never change. Not a picture: 400 `invalid_image`.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "product")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG, PNG or WebP photo"),
    responses((status = 200, body = shared::api::Product), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody))
)]
#[put("/admin/products/{id}/photo")]
pub async fn product_photo(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<web::Json<shared::api::Product>> {
    let id = id.into_inner();
    let product = state.store.catalogue().product_any(id).await?;
    super::markets::ours(staff.0.user.market_id, product.map(|p| p.market_id), "product")?;
    set_photo(&state, id, payload, staff.0.user.id).await
}

/// A stall holder gives their own product its photo, as staff do. Another stall's: 404.
#[utoipa::path(
    tag = "vendors",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "product")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG, PNG or WebP photo"),
    responses((status = 200, body = shared::api::Product), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody))
)]
#[put("/vendor/products/{id}/photo")]
pub async fn own_product_photo(
    state: web::Data<AppState>,
    vendor: VendorUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> ApiResult<web::Json<shared::api::Product>> {
    let stall = super::vendor::stall(&vendor)?;
    let id = id.into_inner();
    let theirs = state.store.catalogue().product_any(id).await?.is_some_and(|p| p.vendor_id == stall);
    if !theirs {
        return Err(ApiError::not_found("product"));
    }
    set_photo(&state, id, payload, vendor.0.user.id).await
}

/// Reads a photo from the request, prepares it (off the server's threads) and stores it in the
/// public photo folder: its key.
pub(crate) async fn stored_photo(state: &AppState, payload: web::Payload) -> ApiResult<String> {
    let bytes = super::sheets::body(payload, crate::photos::MAX_PHOTO_BYTES).await?;
    let dir = state.config.photo_dir.clone();
    let prepared =
        web::block(move || -> Result<Result<crate::photos::Prepared, crate::domain::Refusal>, std::io::Error> {
            let prepared = match crate::photos::prepare(&bytes) {
                Ok(p) => p,
                Err(refusal) => return Ok(Err(refusal)),
            };
            crate::photos::store(&dir, &prepared)?;
            Ok(Ok(prepared))
        })
        .await
        .map_err(|e| ApiError::internal("preparing a photo", e))?
        .map_err(|e| ApiError::internal("storing a photo", e))??;
    Ok(prepared.key)
}

/// Reads, prepares, stores and records a product's photo.
async fn set_photo(
    state: &AppState,
    id: i64,
    payload: web::Payload,
    by: i64,
) -> ApiResult<web::Json<shared::api::Product>> {
    let key = stored_photo(state, payload).await?;
    state
        .store
        .setup()
        .set_photo(id, &key, by, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    let product = state.store.catalogue().product_any(id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    Ok(web::Json(product))
}

/// Staff make a 菜盒子 the market packs: a name, price, stock and contents (products on sale,
/// 1 to 20 lines) -> 201 the box as `GET /products/{id}` shows it, on the 菜盒子 shelf at once.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    request_body = shared::api::NewBox,
    responses((status = 201, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[post("/admin/boxes")]
pub async fn add_box(
    state: web::Data<AppState>,
    staff: StaffUser,
    body: web::Json<shared::api::NewBox>,
) -> ApiResult<HttpResponse> {
    let user = &staff.0.user;
    let id = state.store.setup().add_box(user.market_id, &body, user.id, chrono::Utc::now()).await??;
    let made = state.store.catalogue().product_detail_any(id).await?.ok_or_else(|| ApiError::not_found("box"))?;
    Ok(HttpResponse::Created().json(made))
}

/// Staff change a box: name, price (under the emergency cap, into the price record), stock,
/// limit, description, contents (`items` replaces them), `on_sale: false` retires it. Every
/// change is in the audit. Not a box: 404.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "box")),
    request_body = shared::api::UpdateBox,
    responses((status = 200, body = ProductDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
#[patch("/admin/boxes/{id}")]
pub async fn change_box(
    state: web::Data<AppState>,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Json<shared::api::UpdateBox>,
) -> ApiResult<web::Json<ProductDetail>> {
    let id = id.into_inner();
    if *body == shared::api::UpdateBox::default() {
        return Err(ApiError::new(ErrorCode::InvalidField, "say what to change (`name`, `price_fen`, `items`, ...)"));
    }
    state
        .store
        .setup()
        .change_box(staff.0.user.market_id, id, &body, staff.0.user.id, chrono::Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("box"))??;
    let changed = state.store.catalogue().product_detail_any(id).await?.ok_or_else(|| ApiError::not_found("box"))?;
    Ok(web::Json(changed))
}

/// The most rows of one list of buildings.
const MAX_BUILDING_ROWS: usize = 2_000;

/// Staff bring in the buildings the market serves as a list (CSV in UTF-8 or GBK, or XLSX),
/// headings 小区, 楼号, 单元数 (1 when left out), 封闭 (是/否, may be left out) or community,
/// building, units, closed: a number not on record is added, one on record in the same compound
/// changed or left as it is; the same answer as the catalogue's import, all or nothing.
#[utoipa::path(
    tag = "setup",
    security(("bearer" = [])),
    params(shared::api::ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV (UTF-8 or GBK) or XLSX, headings in row 1"),
    responses((status = 200, body = shared::api::CatalogueImport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody))
)]
#[post("/admin/buildings/import")]
pub async fn import_buildings(
    state: web::Data<AppState>,
    staff: StaffUser,
    query: web::Query<shared::api::ImportQuery>,
    payload: web::Payload,
) -> ApiResult<web::Json<shared::api::CatalogueImport>> {
    use crate::domain::area::BuildingLine;
    use crate::routes::sheets::Sheet;
    let bytes = super::sheets::body(payload, MAX_CATALOGUE_FILE).await?;
    let sheet = Sheet::read_any(&bytes, MAX_BUILDING_ROWS)?;
    let [community, building, units, closed] = [
        sheet.column(&["小区", "community"]),
        sheet.column(&["楼号", "楼", "楼栋", "building"]),
        sheet.column(&["单元数", "单元", "units"]),
        sheet.column(&["封闭", "closed"]),
    ];
    if community.is_none() || building.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "第1行应为列名，至少有小区和楼号 (row 1 must name the columns, at least community and building)",
        ));
    }
    let lines: Vec<BuildingLine> = sheet
        .rows
        .iter()
        .map(|(row, cells)| BuildingLine {
            row: *row,
            community: Sheet::cell(cells, community).to_owned(),
            building: Sheet::cell(cells, building).to_owned(),
            units: units.map(|_| Sheet::cell(cells, units).to_owned()),
            closed: closed.map(|_| Sheet::cell(cells, closed).to_owned()),
        })
        .collect();
    let apply = !query.dry_run;
    let plan = state
        .store
        .setup()
        .import_buildings(staff.0.user.market_id, &lines, apply, staff.0.user.id, chrono::Utc::now())
        .await?;
    let clean = plan.rows.iter().all(|r| r.action != shared::api::ImportAction::Error);
    Ok(web::Json(shared::api::CatalogueImport {
        applied: apply && clean,
        created: u32::try_from(plan.create.len()).unwrap_or(u32::MAX),
        updated: u32::try_from(plan.update.len()).unwrap_or(u32::MAX),
        rows: plan.rows,
    }))
}
