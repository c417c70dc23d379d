//! The built storefront (`frontend/dist`): its files, sent precompressed to browsers that take
//! gzip, and each storefront page path answered with its bundle's HTML page.

use crate::state::AppState;
use actix_files::{Files, NamedFile};
use actix_web::{middleware::Compress, web, HttpRequest, HttpResponse};

/// Every storefront file, and the pages of client-side routes, with on-the-fly gzip for what was
/// not compressed at build time.
pub fn service(static_dir: std::path::PathBuf) -> impl actix_web::dev::HttpServiceFactory {
    web::scope("")
        .wrap(Compress::default())
        .service(precompressed(static_dir.clone()))
        .service(web::resource("/").guard(actix_web::guard::Get()).to(page))
        .service(Files::new("/", static_dir).index_file("index.html").default_handler(web::to(page)))
}

/// Product photos (`photos.rs`) from the photo folder: their names are their content, so a
/// browser (and a proxy in front) keeps each for a year without asking again.
pub fn photos(dir: std::path::PathBuf) -> impl actix_web::dev::HttpServiceFactory {
    use actix_web::dev::Service as _;
    use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
    web::scope("/photos")
        .wrap_fn(|req, service| {
            let answer = service.call(req);
            async move {
                let mut res = answer.await?;
                if res.status().is_success() {
                    let forever = HeaderValue::from_static("public, max-age=31536000, immutable");
                    res.headers_mut().insert(CACHE_CONTROL, forever);
                }
                Ok(res)
            }
        })
        .service(Files::new("", dir).use_etag(false))
}

/// The storefront's files as `./scripts/build-storefront` compressed them (gzip -9, once at build
/// time: a quarter smaller than the on-the-fly gzip, and no CPU per request), for a client that
/// takes gzip: `/pkg/market_bg.wasm` is answered from `pkg/market_bg.wasm.gz` when that is
/// there and not older than the file itself. Everything else goes on to `Files`.
fn precompressed(static_dir: std::path::PathBuf) -> actix_web::Resource {
    let dir = static_dir.clone();
    let has_gz = move |ctx: &actix_web::guard::GuardContext<'_>| {
        takes_gzip(ctx.head().headers()) && compressed_twin(&dir, ctx.head().uri.path()).is_some()
    };
    web::resource("/{file:.+}").guard(actix_web::guard::Get()).guard(actix_web::guard::fn_guard(has_gz)).to(
        move |req: HttpRequest| {
            let dir = static_dir.clone();
            async move {
                match compressed_twin(&dir, req.path()) {
                    Some((gz, ext)) => gzipped(&req, gz, &ext).await,
                    None => Ok(HttpResponse::NotFound().finish()),
                }
            }
        },
    )
}

/// Whether the client takes gzip.
fn takes_gzip(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers
        .get(actix_web::http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip")))
}

/// A file's gzip twin, sent as the file of type `ext`, gzip-encoded.
async fn gzipped(req: &HttpRequest, gz: std::path::PathBuf, ext: &str) -> actix_web::Result<HttpResponse> {
    let file = NamedFile::open_async(gz)
        .await?
        .set_content_type(actix_files::file_extension_to_mime(ext))
        .set_content_encoding(actix_web::http::header::ContentEncoding::Gzip)
        .disable_content_disposition()
        .use_last_modified(true);
    let mut res = file.into_response(req);
    res.headers_mut()
        .insert(actix_web::http::header::VARY, actix_web::http::header::HeaderValue::from_static("accept-encoding"));
    Ok(res)
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
async fn page(req: HttpRequest, state: web::Data<AppState>) -> actix_web::Result<HttpResponse> {
    let page = shared::storefront::Bundle::of(req.path()).page();
    // As compressed at build time (the first page of every visit: a quarter smaller).
    if takes_gzip(req.headers()) {
        if let Some((gz, ext)) = compressed_twin(&state.config.static_dir, &format!("/{page}")) {
            return gzipped(&req, gz, &ext).await;
        }
    }
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
