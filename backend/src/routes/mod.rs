//! The HTTP surface: one module per resource, thin handlers (parse -> domain -> store -> DTO).

mod admin;
mod auth;
mod cart;
mod catalog;
mod demo;
mod health;
mod orders;
mod slots;

use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::UserRecord;
use actix_files::{Files, NamedFile};
use actix_web::{
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    error::{JsonPayloadError, PathError, QueryPayloadError},
    middleware::Compress,
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
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(web::JsonConfig::default().limit(MAX_JSON_BYTES).error_handler(json_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .service(health::healthz)
        .service(
            scope("/api/v1")
                .service(auth::sms_code)
                .service(auth::login)
                .service(auth::wechat_login)
                .service(auth::logout)
                .service(auth::me)
                .service(auth::set_household)
                .service(catalog::categories)
                .service(catalog::vendors)
                .service(catalog::vendor)
                .service(catalog::products)
                .service(catalog::product)
                .service(catalog::price_history)
                .service(admin::update_product)
                .service(admin::households)
                .service(admin::flag_household)
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
                .default_service(web::to(api_not_found)),
        )
        .split_for_parts();
    let api = web::Data::new(api);
    app.app_data(api)
        .route("/api/openapi.json", web::get().to(openapi_json))
        .service(web::scope("/api").default_service(web::to(api_not_found)))
        .service(
            web::scope("").wrap(Compress::default()).service(precompressed(static_dir.clone())).service(
                Files::new("/", static_dir).index_file("index.html").default_handler(web::to(storefront_route)),
            ),
        )
        .wrap(tracing_actix_web::TracingLogger::default())
}

async fn openapi_json(api: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(api.get_ref())
}

async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, format!("no API at {} {}", req.method(), req.path())))
}

/// The storefront's files as `./scripts/build-storefront` compressed them (gzip -9, once at build
/// time: a quarter smaller than the on-the-fly gzip, and no CPU per request), for a client that
/// takes gzip: `/pkg/market_bg.wasm` is answered from `pkg/market_bg.wasm.gz` when that is
/// there and not older than the file itself. Everything else goes on to `Files`.
fn precompressed(static_dir: std::path::PathBuf) -> actix_web::Resource {
    let dir = static_dir.clone();
    let has_gz = move |ctx: &actix_web::guard::GuardContext<'_>| {
        let takes_gzip = ctx
            .head()
            .headers()
            .get(actix_web::http::header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip")));
        takes_gzip && compressed_twin(&dir, ctx.head().uri.path()).is_some()
    };
    web::resource("/{file:.+}").guard(actix_web::guard::Get()).guard(actix_web::guard::fn_guard(has_gz)).to(
        move |req: HttpRequest| {
            let dir = static_dir.clone();
            async move {
                let Some((gz, ext)) = compressed_twin(&dir, req.path()) else {
                    return Ok(HttpResponse::NotFound().finish());
                };
                let file = NamedFile::open_async(gz)
                    .await?
                    .set_content_type(actix_files::file_extension_to_mime(&ext))
                    .set_content_encoding(actix_web::http::header::ContentEncoding::Gzip)
                    .disable_content_disposition()
                    .use_last_modified(true);
                let mut res = file.into_response(&req);
                res.headers_mut().insert(
                    actix_web::http::header::VARY,
                    actix_web::http::header::HeaderValue::from_static("accept-encoding"),
                );
                Ok::<_, actix_web::Error>(res)
            }
        },
    )
}

/// `path`'s gzip twin in the storefront folder and the type of the file it stands for: only for
/// plain relative paths of the storefront's own kinds of file, and only when the twin is not older.
fn compressed_twin(dir: &std::path::Path, path: &str) -> Option<(std::path::PathBuf, String)> {
    let rel = path.strip_prefix('/')?;
    let plain = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if !rel.split('/').all(plain) {
        return None;
    }
    let ext = rel.rsplit_once('.')?.1;
    if !matches!(ext, "wasm" | "js" | "css" | "html") {
        return None;
    }
    let original = dir.join(rel);
    let gz = dir.join(format!("{rel}.gz"));
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&gz)? >= modified(&original)?).then(|| (gz, ext.to_owned()))
}

/// Client-side routes (`/products/12`, `/orders`, `/staff`) are the storefront's: answer with
/// the page of their bundle (`shared::storefront`).
async fn storefront_route(req: HttpRequest, state: web::Data<AppState>) -> actix_web::Result<HttpResponse> {
    let page = shared::storefront::Bundle::of(req.path()).page();
    let index = state.config.static_dir.join(page);
    match NamedFile::open_async(&index).await {
        Ok(file) => Ok(file.use_last_modified(true).into_response(&req)),
        Err(_) => Ok(HttpResponse::ServiceUnavailable().content_type("text/html; charset=utf-8").body(format!(
            "<!doctype html><meta charset=utf-8><title>傅鲜生</title><p>The storefront is not built yet \
             (looked in {}). Run <code>./scripts/demo</code>, or set FXS_STATIC_DIR.</p>",
            state.config.static_dir.display()
        ))),
    }
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::new(ErrorCode::InvalidJson, "expected a JSON body with Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(e) => ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}")),
        other => ApiError::new(ErrorCode::InvalidJson, format!("could not read the JSON body: {other}")),
    };
    api.into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {err}")).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::NotFound, format!("no such resource ({err})")).into()
}

impl From<UserRecord> for shared::api::User {
    fn from(u: UserRecord) -> Self {
        shared::api::User {
            id: u.id,
            phone: u.phone,
            roles: u.roles,
            display_name: u.display_name,
            household: u.household,
            vendor_id: u.vendor_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compressed_twin;

    #[test]
    fn only_plain_storefront_paths_have_a_compressed_twin() {
        let dir = std::env::temp_dir().join(format!("fxs_twin_{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).expect("dir");
        std::fs::write(dir.join("pkg/a.js"), "x").expect("file");
        std::fs::write(dir.join("pkg/a.js.gz"), "gz").expect("twin");
        std::fs::write(dir.join("secret.txt"), "s").expect("file");
        std::fs::write(dir.join("secret.txt.gz"), "gz").expect("twin");
        assert_eq!(compressed_twin(&dir, "/pkg/a.js"), Some((dir.join("pkg/a.js.gz"), "js".to_owned())));
        for refused in
            ["/pkg/../pkg/a.js", "/pkg/./a.js", "//pkg/a.js", "/pkg/a%2Ejs", "/secret.txt", "pkg/a.js", "/pkg/b.js"]
        {
            assert_eq!(compressed_twin(&dir, refused), None, "{refused}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
