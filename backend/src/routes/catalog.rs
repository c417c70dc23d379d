//! The market's catalog: categories, stalls, products, 菜盒子. Public: no login needed.

use super::Validated;
use crate::domain::time::to_api;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, web, HttpRequest};
use shared::api::{Category, MarketPageQuery, Page, PricePoint, Product, ProductQuery, Vendor};
use shared::{ErrorBody, ErrorCode};

const MAX_QUERY_CHARS: usize = 40;

/// Product categories, in the order the market shows them.
#[utoipa::path(tag = "catalog", params(MarketPageQuery), responses((status = 200, body = Page<Category>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/categories")]
pub async fn categories(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: web::Query<MarketPageQuery>,
) -> ApiResult<Validated<Page<Category>>> {
    let market = super::markets::market_of(&state, &req, page.market_id).await?;
    let all = state.store.catalogue().categories(market).await?;
    // The market's own order (菜盒子 first); categories are the market's fixed set.
    Ok(Validated(super::paged(all, page.limit, page.cursor.as_deref(), |i, _| i)?))
}

/// The market's stalls (经营业户).
#[utoipa::path(tag = "catalog", params(MarketPageQuery), responses((status = 200, body = Page<Vendor>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market")))]
#[get("/vendors")]
pub async fn vendors(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: web::Query<MarketPageQuery>,
) -> ApiResult<Validated<Page<Vendor>>> {
    let market = super::markets::market_of(&state, &req, page.market_id).await?;
    let all = state.store.catalogue().vendors(market).await?;
    Ok(Validated(super::paged(all, page.limit, page.cursor.as_deref(), |_, v| (v.stall_no.clone(), v.id))?))
}

/// One stall.
#[utoipa::path(tag = "catalog", responses((status = 200, body = Vendor), (status = 404, body = ErrorBody)))]
#[get("/vendors/{id}")]
pub async fn vendor(state: web::Data<AppState>, id: web::Path<i64>) -> ApiResult<Validated<Vendor>> {
    state.store.catalogue().vendor(id.into_inner()).await?.map(Validated).ok_or_else(|| ApiError::not_found("stall"))
}

/// Products on sale, filtered by category, stall and text; 菜盒子 first.
#[utoipa::path(
    tag = "catalog",
    params(ProductQuery),
    responses((status = 200, body = Page<Product>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such market"))
)]
#[get("/products")]
pub async fn products(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ProductQuery>,
) -> ApiResult<Validated<Page<Product>>> {
    let query = query.into_inner();
    let market = super::markets::market_of(&state, &req, query.market_id).await?;
    if query.q.as_deref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("q is limited to {MAX_QUERY_CHARS} characters")));
    }
    if query
        .category
        .as_deref()
        .is_some_and(|c| c.len() > 32 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "category must be a category id such as `vegetable`"));
    }
    let page = product_page(&query)?;
    let (items, next_cursor) = state.store.catalogue().products(market, &query, &page).await?;
    Ok(Validated(Page { items, next_cursor }))
}

/// `limit` (1 to 500, default 200) and `cursor` (a previous page's `next_cursor`) checked.
fn product_page(query: &ProductQuery) -> ApiResult<crate::store::catalogue::ProductPage> {
    let limit = super::page_limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(|c| crate::store::catalogue::ProductKey::parse(c).ok_or_else(super::bad_cursor))
        .transpose()?;
    Ok(crate::store::catalogue::ProductPage { limit, after })
}

/// One product; a 菜盒子 lists what is in it.
#[utoipa::path(tag = "catalog", responses((status = 200, body = shared::api::ProductWithLots), (status = 404, body = ErrorBody)))]
#[get("/products/{id}")]
pub async fn product(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<Validated<shared::api::ProductWithLots>> {
    let id = id.into_inner();
    let detail = state.store.catalogue().product(id).await?.ok_or_else(|| ApiError::not_found("product"))?;
    let lots = state.store.supply().on_sale(id).await?;
    Ok(Validated(shared::api::ProductWithLots { detail, lots }))
}

/// The price-stability record (稳物价): every price this product has had, newest first.
#[utoipa::path(tag = "catalog", params(shared::api::PageQuery), responses((status = 200, body = Page<PricePoint>), (status = 404, body = ErrorBody)))]
#[get("/products/{id}/prices")]
pub async fn price_history(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    page: web::Query<shared::api::PageQuery>,
) -> ApiResult<Validated<Page<PricePoint>>> {
    let id = id.into_inner();
    let history = state.store.catalogue().price_history(id).await?;
    if history.is_empty() {
        return Err(ApiError::not_found("product"));
    }
    let points: Vec<PricePoint> =
        history.into_iter().map(|e| PricePoint { price_fen: e.price_fen, changed_at: to_api(e.changed_at) }).collect();
    // Newest first; two changes at the same moment keep the store's order.
    let key = |i: usize, p: &PricePoint| (std::cmp::Reverse(p.changed_at.clone()), i);
    Ok(Validated(super::paged(points, page.limit, page.cursor.as_deref(), key)?))
}
