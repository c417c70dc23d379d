//! The headers every answer carries for the browser's protection: `nosniff` on everything; a
//! strict Content-Security-Policy (no framing, scripts only from this origin, the storefront's
//! own inline boot scripts by their hashes, WebAssembly allowed) and a Referrer-Policy on every
//! answer; `Cache-Control: no-store` on API answers that do not say otherwise (a login, a cart,
//! an order, a household are nobody else's, and a shared cache or the phone's back button must
//! not keep them); HSTS when the market is configured as served over TLS.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use base64::Engine as _;
use sha2::Digest;
use std::path::Path;

/// The storefront's HTML pages (`scripts/build-storefront`); their inline scripts are allowed by hash.
const PAGES: [&str; 3] = ["index.html", "shop.html", "workers.html"];

/// The protective headers, made once at start from the built storefront and the configuration.
pub struct SecurityHeaders {
    page_policy: HeaderValue,
    hsts: Option<HeaderValue>,
}

/// For JSON, files and everything not a page: nothing may run or be framed.
const NOTHING_RUNS: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// The volunteers' service worker (`/sw.js`): it may only fetch from this origin, to keep the
/// pages and the manifest for use without signal.
const WORKER: &str =
    "default-src 'none'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

impl SecurityHeaders {
    /// `hsts_max_age`: seconds for `Strict-Transport-Security`, only when the market is served
    /// over TLS (`FXS_HSTS_MAX_AGE`).
    pub fn new(static_dir: &Path, hsts_max_age: Option<u64>) -> Self {
        let mut hashes: Vec<String> = PAGES
            .iter()
            .filter_map(|page| std::fs::read_to_string(static_dir.join(page)).ok())
            .flat_map(|html| inline_scripts(&html).into_iter().map(script_hash).collect::<Vec<_>>())
            .collect();
        hashes.sort();
        hashes.dedup();
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
             frame-ancestors 'none'",
            hashes.iter().map(|h| format!(" '{h}'")).collect::<String>()
        );
        Self {
            page_policy: HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(NOTHING_RUNS)),
            hsts: hsts_max_age.and_then(|s| HeaderValue::from_str(&format!("max-age={s}")).ok()),
        }
    }

    /// Adds the headers to an answer to `path`, leaving any the handler set itself.
    pub fn apply(&self, path: &str, headers: &mut HeaderMap) {
        let is_page =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
        let policy = match (is_page, path) {
            (true, _) => self.page_policy.clone(),
            (false, "/sw.js") => {
                // Looked for again at each visit, so a new version reaches the phones.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                HeaderValue::from_static(WORKER)
            }
            (false, _) => HeaderValue::from_static(NOTHING_RUNS),
        };
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if path.starts_with("/api/") && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if let Some(hsts) = &self.hsts {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
        }
    }
}

/// The texts of a page's inline `<script>` elements (those without `src`), exactly as written.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script>") else { break };
        if !tag.contains("src=") {
            found.push(&body[..close]);
        }
        rest = &body[close..];
    }
    found
}

/// A script's CSP source: `sha256-` and the base64 of its SHA-256.
fn script_hash(script: &str) -> String {
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_exactly_and_hashed_as_browsers_do() {
        let html = "<head><script src=\"/a.js\"></script><script>\n  go();\n</script></head>\
                    <body><script type=\"module\">import x from \"/x.js\";</script></body>";
        assert_eq!(inline_scripts(html), vec!["\n  go();\n", "import x from \"/x.js\";"]);
        // The CSP specification's own example: `alert('Hello, world.');`.
        assert_eq!(script_hash("alert('Hello, world.');"), "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=");
    }

    #[test]
    fn pages_get_the_storefront_policy_and_api_answers_no_store() {
        let dir = std::env::temp_dir().join(format!("fxs_csp_{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("index.html"), "<script>boot()</script>").expect("page");
        let headers = SecurityHeaders::new(&dir, Some(31_536_000));
        let mut page = HeaderMap::new();
        page.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.apply("/", &mut page);
        let csp = page.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains(&format!("'{}'", script_hash("boot()"))), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(page.get(header::CACHE_CONTROL), None, "pages are the storefront's, cached as files are");
        assert_eq!(page.get(header::STRICT_TRANSPORT_SECURITY), Some(&HeaderValue::from_static("max-age=31536000")));
        let mut api = HeaderMap::new();
        api.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.apply("/api/v1/me", &mut api);
        assert_eq!(api.get(header::CACHE_CONTROL), Some(&HeaderValue::from_static("no-store")));
        assert_eq!(api.get(header::CONTENT_SECURITY_POLICY), Some(&HeaderValue::from_static(NOTHING_RUNS)));
        assert_eq!(api.get(header::X_CONTENT_TYPE_OPTIONS), Some(&HeaderValue::from_static("nosniff")));
        let mut validated = HeaderMap::new();
        validated.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.apply("/api/v1/products", &mut validated);
        assert_eq!(validated.get(header::CACHE_CONTROL), Some(&HeaderValue::from_static("no-cache")));
        // The service worker may fetch from this origin (to keep pages for use without signal).
        let mut worker = HeaderMap::new();
        worker.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript"));
        headers.apply("/sw.js", &mut worker);
        assert_eq!(worker.get(header::CONTENT_SECURITY_POLICY), Some(&HeaderValue::from_static(WORKER)));
        assert_eq!(worker.get(header::CACHE_CONTROL), Some(&HeaderValue::from_static("no-cache")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
