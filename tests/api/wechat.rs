//! WeChat login through code2Session, against the simulator over real HTTP.

use serde_json::json;
use tests::{on_both_databases, spawn_app, spawn_app_with, Db};

on_both_databases! {
    wechat_login_makes_one_user_per_wechat_account => wechat_login;
    wechat_errors_become_clear_api_errors => wechat_errors;
    a_wechat_resident_binds_a_phone_and_two_accounts_become_one_without_losing_orders => bind_phone;
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

async fn wechat_token(app: &tests::TestApp, device: &str) -> (String, serde_json::Value) {
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": wx_code(app, device).await }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    (r.body["token"].as_str().expect("token").to_owned(), r.body["user"].clone())
}

async fn phone_code(app: &tests::TestApp, phone: &str) -> String {
    let r = app.post("/api/v1/demo/wechat-phone-code", &json!({ "phone": phone }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["code"].as_str().expect("code").to_owned()
}

/// An order of one 大白菜 (on delivery) to building 3.
async fn an_order(app: &tests::TestApp, token: &str, key: &str, slot: &serde_json::Value) -> i64 {
    app.put_in_cart(token, app.product_id("大白菜").await, 1).await;
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery", "address": { "building": "3", "unit": "2", "room": "502" } });
    let r = app.checkout(token, key, &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_i64().expect("id")
}

fn order_ids(list: &tests::Reply) -> Vec<i64> {
    let mut ids: Vec<i64> =
        list.body["items"].as_array().into_iter().flatten().filter_map(|o| o["id"].as_i64()).collect();
    ids.sort_unstable();
    ids
}

async fn bind_phone(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login("13800000000").await;
    let slot = app.open_slot(&staff, 20, 0, 24).await;
    let bind = |token: String, code: String| {
        let app = &app;
        async move { app.post("/api/v1/me/phone/wechat", &json!({ "code": code }), Some(&token)).await }
    };

    // A WeChat-only resident binds a phone nobody has: theirs now, same account.
    let (w, w_user) = wechat_token(&app, "bind-one").await;
    let r = bind(w.clone(), phone_code(&app, "13900000802").await).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["user"]["id"].clone(), r.body["user"]["phone"].as_str()),
        (w_user["id"].clone(), Some("13900000802"))
    );

    // A phone account with an order; a WeChat-only account with an order and its cart.
    let (p, p_user) = app.login("13900000801").await;
    let first = an_order(&app, &p, "bind-p", &slot).await;
    let (w2, w2_user) = wechat_token(&app, "bind-two").await;
    let second = an_order(&app, &w2, "bind-w", &slot).await;
    app.put_in_cart(&w2, app.product_id("香蕉").await, 2).await;

    // The WeChat one binds the phone account's phone: the two become one, the phone account.
    let code = phone_code(&app, "13900000801").await;
    let r = bind(w2.clone(), code.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["user"]["id"], p_user["id"]);
    let merged = r.body["token"].as_str().expect("token").to_owned();
    assert_eq!(order_ids(&app.get("/api/v1/orders", Some(&merged)).await), vec![first, second], "no order lost");
    assert_eq!(order_ids(&app.get("/api/v1/orders", Some(&p)).await), vec![first, second]);
    let cart = app.get("/api/v1/cart", Some(&merged)).await.body;
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(1), "the cart came along: {cart}");
    assert_eq!(app.get("/api/v1/me", Some(&w2)).await.status, 401, "the old WeChat-only login ended");
    // WeChat logins of that phone now land on the one account.
    let (_, again) = wechat_token(&app, "bind-two").await;
    assert_eq!(again["id"], p_user["id"]);
    assert_ne!(w2_user["id"], p_user["id"]);

    // Refused, changing nothing: a used code; without WeChat; a second phone; another's WeChat phone.
    let r = bind(w.clone(), code).await;
    assert_eq!((r.status, r.error_code()), (401, "invalid_wechat_code"));
    let (plain, _) = app.login("13900000803").await;
    let r = bind(plain, phone_code(&app, "13900000803").await).await;
    assert_eq!((r.status, r.error_code()), (409, "wechat_required"));
    let r = bind(w.clone(), phone_code(&app, "13900000801").await).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    let (w3, _) = wechat_token(&app, "bind-three").await;
    let r = bind(w3, phone_code(&app, "13900000801").await).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "the phone has a WeChat login already");
}
