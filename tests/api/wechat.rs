//! WeChat login through code2Session, against the simulator over real HTTP.

use serde_json::json;
use tests::{on_both_databases, spawn_app, spawn_app_with, Db};

on_both_databases! {
    wechat_login_makes_one_user_per_wechat_account => wechat_login;
    wechat_errors_become_clear_api_errors => wechat_errors;
}

async fn wx_code(app: &tests::TestApp, device: &str) -> String {
    let r = app.post("/api/v1/demo/wechat-code", &json!({ "device": device }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["code"].as_str().expect("code").to_owned()
}

async fn wechat_login(db: Db) {
    let app = spawn_app(db).await;
    let code = wx_code(&app, "phone-a").await;
    let first = app.post("/api/v1/auth/wechat", &json!({ "code": code }), None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["user"]["roles"], json!(["resident"]));
    assert_eq!(first.body["user"]["phone"], serde_json::Value::Null);
    let token = first.body["token"].as_str().expect("token");
    assert_eq!(app.get("/api/v1/me", Some(token)).await.body["id"], first.body["user"]["id"]);

    // The same WeChat user again is the same account; another device is another account.
    let again = app.post("/api/v1/auth/wechat", &json!({ "code": wx_code(&app, "phone-a").await }), None).await;
    assert_eq!(again.body["user"]["id"], first.body["user"]["id"]);
    let other = app.post("/api/v1/auth/wechat", &json!({ "code": wx_code(&app, "phone-b").await }), None).await;
    assert_ne!(other.body["user"]["id"], first.body["user"]["id"]);

    // Codes are single-use.
    let reused = app.post("/api/v1/auth/wechat", &json!({ "code": code }), None).await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.error_code(), "wechat_code_used");
}

async fn wechat_errors(db: Db) {
    let app = spawn_app(db).await;
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": "made-up" }), None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "invalid_wechat_code");
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": "" }), None).await;
    assert_eq!(r.status, 400);
    let blocked = wx_code(&app, "blocked-1").await;
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": blocked }), None).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "wechat_user_blocked");
    // WeChat busy once: the server retries and the login goes through.
    let busy = wx_code(&app, "busy-1").await;
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": busy }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Outside demo mode with no WeChat configured: a clear 503, and no demo endpoint.
    let app = spawn_app_with(db, |c| c.demo = false).await;
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": "abc" }), None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "wechat_unavailable");
    let r = app.post("/api/v1/demo/wechat-code", &json!({ "device": "x" }), None).await;
    assert_eq!(r.status, 404);
}
