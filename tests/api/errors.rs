//! Bad input of every kind gets a 4xx with the one JSON error shape, and changes nothing.

use serde_json::json;
use tests::{on_both_databases, spawn_app, Db};

on_both_databases! {
    bad_bodies_get_clear_json_errors => bad_bodies;
    unknown_paths_get_json_404 => unknown_paths;
    health_and_openapi_are_served => health_and_openapi;
}

async fn bad_bodies(db: Db) {
    let app = spawn_app(db).await;
    let url = app.url("/api/v1/auth/sms-code");
    let raw = |body: &'static str| app.client.post(&url).header("content-type", "application/json").body(body);

    let cases = [
        (raw("{\"phone\": "), 400, "invalid_json"),
        (raw("[]"), 400, "invalid_json"),
        (raw("{\"phone\": 13900000001}"), 400, "invalid_json"),
        (raw("{\"phone\": \"13900000001\", \"admin\": true}"), 400, "invalid_json"),
        (raw("{\"phone\": \"12345\"}"), 400, "invalid_phone"),
        (raw("{\"phone\": \"23900000001\"}"), 400, "invalid_phone"),
        (
            app.client.post(&url).header("content-type", "text/plain").body("{\"phone\":\"13900000001\"}"),
            400,
            "invalid_json",
        ),
    ];
    for (req, status, code) in cases {
        let r = app.send(req).await;
        assert_eq!(r.status, status, "{:?}", r.body);
        assert_eq!(r.error_code(), code, "{:?}", r.body);
    }
    let huge = format!("{{\"phone\": \"{}\"}}", "1".repeat(200_000));
    let r = app.send(app.client.post(&url).header("content-type", "application/json").body(huge)).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error_code(), "payload_too_large");
    // None of that sent a code: the first real request for the phone is still allowed.
    let ok = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13900000001" }), None).await;
    assert_eq!(ok.status, 200);
}

async fn unknown_paths(db: Db) {
    let app = spawn_app(db).await;
    for path in ["/api/v1/nothing-here", "/api/v2/products", "/api/v1/products/abc"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.error_code(), "not_found");
    }
    let r = app.send(app.client.delete(app.url("/api/v1/products"))).await;
    assert_eq!(r.status, 404);
    r.error_code();
}

async fn health_and_openapi(db: Db) {
    let app = spawn_app(db).await;
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, 200);
    let paths = spec.body["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/auth/sms-code",
        "/api/v1/auth/login",
        "/api/v1/auth/wechat",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/vendors",
        "/api/v1/categories",
        "/api/v1/admin/products/{id}",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(spec.body["components"]["schemas"]["Product"].is_object());
}
