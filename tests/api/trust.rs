//! Trust: who may see and do what, the headers that protect every answer, the limits.

use serde_json::json;
use tests::{on_both_databases, spawn_app, Db};

on_both_databases! {
    every_answer_carries_the_protective_headers => protective_headers;
}

async fn protective_headers(db: Db) {
    let app = spawn_app(db).await;
    let (token, _) = app.login("13900000002").await;
    let header = |r: &tests::Reply, name: &str| {
        r.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).unwrap_or_default()
    };
    let me = app.get("/api/v1/me", Some(&token)).await;
    let products = app.get("/api/v1/products", None).await;
    let missing = app.get("/api/v1/nothing-here", None).await;
    let bad = app.post("/api/v1/auth/login", &json!({ "phone": "1" }), None).await;
    for (what, r) in [("me", &me), ("products", &products), ("404", &missing), ("400", &bad)] {
        assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
        assert!(header(r, "content-security-policy").contains("frame-ancestors 'none'"), "{what}");
        assert_eq!(header(r, "referrer-policy"), "no-referrer", "{what}");
        assert_eq!(header(r, "strict-transport-security"), "", "{what}: no HSTS unless served over TLS");
    }
    // A resident's own answers stay out of every cache; the catalogue is revalidated, not hidden.
    assert_eq!(header(&me, "cache-control"), "no-store");
    assert_eq!(header(&missing, "cache-control"), "no-store");
    assert_eq!(header(&products, "cache-control"), "no-cache");
    // The storefront's pages: scripts only from the market itself (and its inline boot by hash).
    let page = app.client.get(app.url("/orders")).send().await.expect("page");
    let csp = page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers().get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
}
