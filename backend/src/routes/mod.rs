//! The HTTP surface: one module per resource, thin handlers (parse -> domain -> store -> DTO).

mod admin;
mod auth;
mod batches;
mod cart;
mod catalog;
mod demo;
mod donations;
mod gate;
mod group_buys;
mod headers;
mod health;
mod households;
mod lots;
mod markets;
mod notices;
mod orders;
pub(crate) mod pay;
mod points;
mod prices;
mod producers;
mod setup;
mod sheets;
mod slots;
mod standing;
mod storefront;
mod vendor;

pub use headers::SecurityHeaders;

use crate::error::{self, ApiError};
use crate::state::AppState;
use crate::store::UserRecord;
use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    web, App, HttpRequest, HttpResponse,
};
use shared::ErrorCode;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_actix_web::{scope, AppExt};

/// Request bodies larger than this are refused with 413.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "傅鲜生 market API",
        description = "Online market of a community fresh-food market: catalog, login, carts, delivery slots, orders. Money in fen, times RFC 3339.",
    ),
    modifiers(&BearerAuth),
    components(schemas(shared::ErrorBody, shared::ErrorDetail, shared::ErrorCode))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let static_dir = state.config.static_dir.clone();
    let photo_dir = state.config.photo_dir.clone();
    let protect = state.clone();
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(web::JsonConfig::default().limit(MAX_JSON_BYTES).error_handler(error::json_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            scope("/api/v1")
                // JSON answers gzip-compressed for clients that take it (the live feed opts out:
                // each event must leave as it comes).
                .wrap(actix_web::middleware::Compress::default())
                .service(auth::sms_code)
                .service(auth::login)
                .service(auth::wechat_login)
                .service(auth::logout)
                .service(auth::me)
                .service(auth::set_household)
                .service(households::requests)
                .service(households::invite)
                .service(households::invites)
                .service(households::approve)
                .service(households::reject)
                .service(households::admit)
                .service(households::remove)
                .service(households::register)
                .service(households::import_register)
                .service(households::register_csv)
                .service(households::people)
                .service(standing::create)
                .service(standing::list)
                .service(standing::change)
                .service(standing::end)
                .service(catalog::categories)
                .service(catalog::vendors)
                .service(catalog::vendor)
                .service(catalog::products)
                .service(catalog::product)
                .service(catalog::price_history)
                .service(admin::update_product)
                .service(admin::find_products)
                .service(admin::households)
                .service(admin::flag_household)
                .service(admin::set_roles)
                .service(admin::users)
                .service(admin::erase)
                .service(setup::buildings)
                .service(setup::add_building)
                .service(setup::change_building)
                .service(setup::categories_on_record)
                .service(setup::add_category)
                .service(setup::change_category)
                .service(setup::add_stall)
                .service(setup::change_stall)
                .service(setup::add_product)
                .service(setup::add_own_product)
                .service(setup::import_catalogue)
                .service(setup::import_buildings)
                .service(setup::change_own_stall)
                .service(setup::export_catalogue_csv)
                .service(setup::export_catalogue_xlsx)
                .service(setup::product_photo)
                .service(setup::own_product_photo)
                .service(setup::add_box)
                .service(setup::change_box)
                .service(setup::audit)
                .service(group_buys::open)
                .service(group_buys::list)
                .service(group_buys::detail)
                .service(group_buys::set_share)
                .service(group_buys::leave)
                .service(group_buys::pay_share)
                .service(group_buys::set_share_for)
                .service(group_buys::household_for)
                .service(group_buys::close)
                .service(group_buys::call_off)
                .service(group_buys::share_list)
                .service(group_buys::shares_csv)
                .service(vendor::parts)
                .service(vendor::events)
                .service(vendor::confirm)
                .service(vendor::packed)
                .service(vendor::update_product)
                .service(batches::list)
                // Before `/batches/{id}`, which would take "slots" for an id.
                .service(batches::slots_with_work)
                .service(batches::my_hours)
                .service(batches::hours_csv)
                .service(batches::detail)
                .service(batches::manifest_csv)
                .service(batches::claim)
                .service(batches::pickup)
                .service(batches::handoff)
                .service(batches::reset_handoff)
                .service(batches::left_at_door)
                .service(batches::put_door_photo)
                .service(batches::get_door_photo)
                .service(lots::take_in)
                .service(lots::own_lots)
                .service(lots::own_test)
                .service(lots::own_certificate_photo)
                .service(lots::all_lots)
                .service(lots::staff_test)
                .service(lots::hold)
                .service(lots::trace)
                .service(lots::trace_csv)
                .service(lots::product_lots)
                .service(lots::board)
                .service(producers::add)
                .service(producers::all)
                .service(producers::own_producer)
                .service(producers::publish)
                .service(producers::own_offers)
                .service(producers::withdraw)
                .service(producers::purchase_orders)
                .service(producers::purchase_order_csv)
                .service(producers::offers)
                .service(producers::order)
                .service(producers::own_lines)
                .service(producers::plan)
                .service(producers::plan_csv)
                .service(batches::contacts)
                .service(batches::contacts_csv)
                .service(gate::add)
                .service(gate::all)
                .service(gate::rotate)
                .service(gate::enter)
                .service(gate::visits)
                .service(gate::investigation_csv)
                .service(markets::markets)
                .service(markets::open_market)
                .service(points::open_points)
                .service(points::all_points)
                .service(points::add_point)
                .service(points::change_point)
                .service(points::keeper_orders)
                .service(points::drop_at_point)
                .service(batches::report_problem)
                .service(batches::problems)
                .service(cart::get_cart)
                .service(cart::set_item)
                .service(slots::list)
                .service(slots::create)
                .service(slots::update)
                .service(orders::create)
                .service(orders::list)
                .service(orders::detail)
                .service(orders::cancel)
                .service(demo::wechat_code)
                .service(pay::pay_order)
                .service(pay::open_refunds)
                .service(notices::mine)
                .service(auth::bind_phone)
                .service(demo::wechat_phone_code)
                .service(notices::subscribe)
                .service(notices::sms_choice)
                .service(notices::choose_sms)
                .service(notices::demo_messages)
                .service(prices::board)
                .service(prices::set_cap)
                .service(prices::record_csv)
                .service(pay::notify)
                .service(pay::demo_pay)
                .service(donations::pool)
                .service(donations::give)
                .service(donations::pay_gift)
                .service(donations::mine)
                .service(donations::record)
                .service(donations::needs)
                .service(donations::allocate)
                .service(donations::gift_box)
                .service(donations::ledger)
                .service(donations::ledger_csv)
                .default_service(web::to(api_not_found)),
        )
        .split_for_parts();
    let mut api = api;
    common_answers(&mut api);
    let api = web::Data::new(api);
    app.app_data(api)
        .route("/api/openapi.json", web::get().to(openapi_json))
        .service(web::scope("/api").default_service(web::to(api_not_found)))
        .service(storefront::photos(photo_dir))
        .service(storefront::service(static_dir))
        .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::MaskedRootSpan>::new())
        .wrap_fn(move |mut req, service| {
            use crate::telemetry::{request_id, REQUEST_ID};
            use actix_web::dev::Service as _;
            let path = req.path().to_owned();
            let protect = protect.clone();
            // Set before the log's span opens (TracingLogger, inside this), so the span has it.
            let id = request_id(req.headers().get(REQUEST_ID));
            req.headers_mut().insert(REQUEST_ID, id.clone());
            // The route's pattern, never the raw path: ids and phones stay out of the metrics.
            let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
            let method = req.method().clone();
            let started = std::time::Instant::now();
            let answer = service.call(req);
            async move {
                let mut res = answer.await?;
                protect.security.apply(&path, res.headers_mut());
                res.headers_mut().insert(REQUEST_ID, id);
                let seconds = started.elapsed().as_secs_f64();
                protect.metrics.answered(method.as_str(), &route, res.status().as_u16(), seconds);
                Ok(res)
            }
        })
}

/// The answers every operation can give, written once rather than on each handler: 400 for bad
/// input (a malformed query, path or body), 413 for a body over the limit, 404 for an id that
/// is nobody's or not the caller's, and 401 and 403 for one that needs a login and a role. Each
/// is the API's one error shape.
fn common_answers(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let names_an_object = path.contains('{');
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in operations.into_iter().flatten() {
            let answers = &mut op.responses.responses;
            answers.entry("400".into()).or_insert_with(|| error("bad input"));
            if op.request_body.is_some() {
                answers.entry("413".into()).or_insert_with(|| error("the body is too large"));
            }
            if names_an_object {
                answers.entry("404".into()).or_insert_with(|| error("no such object, or not the caller's"));
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                answers.entry("401".into()).or_insert_with(|| error("not logged in, or the login has ended"));
                answers.entry("403".into()).or_insert_with(|| error("the caller's role may not do this"));
            }
        }
    }
}

async fn openapi_json(api: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(api.get_ref())
}

async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, format!("no API at {} {}", req.method(), req.path())))
}

/// An RFC 3339 time from a request field; a bad one is 400 naming the field.
/// A catalogue answer with a validator: a weak ETag of its JSON, so a phone that already has it
/// asks with `If-None-Match` and gets 304 with no body; `Cache-Control: no-cache` makes it ask
/// each time, so a change of stock or price is seen at once (the tag changes with the JSON).
pub struct Validated<T>(pub T);

impl<T: serde::Serialize> actix_web::Responder for Validated<T> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, req: &actix_web::HttpRequest) -> HttpResponse {
        use actix_web::http::header;
        use sha2::Digest;
        let body = match serde_json::to_vec(&self.0) {
            Ok(b) => b,
            Err(e) => return actix_web::ResponseError::error_response(&ApiError::internal("answer", e)),
        };
        let digest = sha2::Sha256::digest(&body);
        let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let tag = format!("W/\"{hex}\"");
        let known =
            req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == &tag[2..])
            });
        let mut res = if known { HttpResponse::NotModified() } else { HttpResponse::Ok() };
        res.insert_header((header::ETAG, tag)).insert_header((header::CACHE_CONTROL, "no-cache"));
        if known {
            res.finish()
        } else {
            res.content_type("application/json").body(body)
        }
    }
}

/// A list's `limit`: 1 to 500, 200 when not given.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(shared::api::DEFAULT_LIMIT);
    if (1..=shared::api::MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::new(shared::ErrorCode::InvalidQuery, format!("limit must be 1 to {}", shared::api::MAX_LIMIT)))
    }
}

/// A page of a list the store reads whole because the market's day bounds it, not its history
/// (the stalls, a week's slots, one slot's batches, one group-buy's shares, a stall's open
/// orders, ...): the items after the cursor's key, in the order of `key` (given each item and
/// its place in the store's answer), which is the list's own order. The cursor carries the last
/// key given, so a page boundary holds wherever items come or go. Keys are unique.
pub(crate) fn paged<T, K>(
    items: Vec<T>,
    limit: Option<i64>,
    cursor: Option<&str>,
    key: impl Fn(usize, &T) -> K,
) -> Result<shared::api::Page<T>, ApiError>
where
    K: Ord + serde::Serialize + serde::de::DeserializeOwned,
{
    use base64::Engine as _;
    let codec = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let limit = page_limit(limit)? as usize;
    let after: Option<K> = match cursor {
        None => None,
        Some(c) => {
            Some(codec.decode(c).ok().and_then(|json| serde_json::from_slice(&json).ok()).ok_or_else(bad_cursor)?)
        }
    };
    let mut keyed: Vec<(K, T)> = items.into_iter().enumerate().map(|(i, item)| (key(i, &item), item)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = keyed.into_iter().filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)).peekable();
    let page: Vec<(K, T)> = rest.by_ref().take(limit).collect();
    let next_cursor = match (rest.peek(), page.last()) {
        (Some(_), Some((k, _))) => {
            Some(codec.encode(serde_json::to_vec(k).map_err(|e| ApiError::internal("cursor", e))?))
        }
        _ => None,
    };
    Ok(shared::api::Page { items: page.into_iter().map(|(_, item)| item).collect(), next_cursor })
}

pub(crate) fn bad_cursor() -> ApiError {
    ApiError::new(shared::ErrorCode::InvalidQuery, "cursor must be a next_cursor this server gave")
}

pub(crate) fn time_field(field: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    crate::domain::time::parse_api(value).map_err(|e| ApiError::new(ErrorCode::InvalidField, format!("{field}: {e}")))
}

/// A user as the API shows them, with the buildings a leader runs group-buys for.
pub(crate) async fn user_view(state: &AppState, user: UserRecord) -> Result<shared::api::User, ApiError> {
    let leads = user.roles.contains(&shared::Role::Leader) || user.roles.contains(&shared::Role::Volunteer);
    let id = user.id;
    let mut view: shared::api::User = user.into();
    if leads {
        view.leader_buildings = state.store.accounts().led_buildings(id).await?;
    }
    Ok(view)
}

impl From<UserRecord> for shared::api::User {
    fn from(u: UserRecord) -> Self {
        shared::api::User {
            id: u.id,
            // Phones are checked on the way in; one that is not a phone is not shown.
            phone: u.phone.as_deref().and_then(|p| shared::Phone::parse(p).ok()),
            roles: u.roles,
            display_name: u.display_name,
            // Their home as a member, else the address they wait to be let into.
            household: u.household.or(u.pending),
            vendor_id: u.vendor_id,
            leader_buildings: Vec::new(),
            market_id: u.market_id,
        }
    }
}

/// A building as a spreadsheet names it: its community, then its number (`七里山小区 3`).
fn at_building(community: &str, building: &str) -> String {
    format!("{community} {building}").trim().to_owned()
}
