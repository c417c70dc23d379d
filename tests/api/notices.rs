//! Notices through HTTP on both databases: a step on an order tells its resident in the
//! storefront, and as a WeChat subscribe message only when they accepted one (one message per
//! acceptance, within WeChat's field limits, recorded by the simulator); residents without
//! WeChat are told in the storefront only.

use serde_json::{json, Value};
use tests::{on_both_databases, spawn_app_with, Db, TestApp};

on_both_databases! {
    a_confirmed_order_is_told_in_the_storefront_and_once_on_wechat_if_accepted => told;
}

async fn wechat_resident(app: &TestApp, device: &str) -> String {
    let r = app.post("/api/v1/demo/wechat-code", &json!({ "device": device }), None).await;
    let code = r.body["code"].as_str().expect("code").to_owned();
    let r = app.post("/api/v1/auth/wechat", &json!({ "code": code }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["token"].as_str().expect("token").to_owned()
}

/// An order of one 大白菜 to building 3, confirmed by its stall.
async fn confirmed_order(app: &TestApp, token: &str, key: &str, stall: &str, slot: &Value) -> i64 {
    app.put_in_cart(token, app.product_id("大白菜").await, 1).await;
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery", "address": { "building": "3", "unit": "1", "room": "301" } });
    let r = app.checkout(token, key, &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_i64().expect("id");
    let parts = app.get("/api/v1/vendor/orders", Some(stall)).await.body;
    let part = parts["items"].as_array().expect("parts").iter().find(|p| p["order_id"] == id).cloned().expect("part");
    let r = app.post(&format!("/api/v1/vendor/orders/{}/confirm", part["id"]), &json!({}), Some(stall)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    id
}

async fn notices_of(app: &TestApp, token: &str, order: i64) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let list = app.get("/api/v1/me/notices", Some(token)).await.body;
        let mine: Vec<Value> =
            list["items"].as_array().into_iter().flatten().filter(|n| n["order_id"] == order).cloned().collect();
        if !mine.is_empty() {
            return mine;
        }
        assert!(std::time::Instant::now() < deadline, "no notice for order {order}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn told(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.sms.resend_interval = std::time::Duration::ZERO;
        c.expiry_interval = std::time::Duration::from_millis(200);
    })
    .await;
    let (staff, _) = app.login("13800000000").await;
    let slot = app.open_slot(&staff, 20, 0, 24).await;
    // Three orders of one household in this slot.
    app.raise_household_limit(&staff, &slot, 3).await;
    let cabbage = app.get(&format!("/api/v1/products/{}", app.product_id("大白菜").await), None).await.body;
    let (stall, _) = app.login(&format!("138000001{:02}", cabbage["vendor_id"].as_i64().unwrap_or(0))).await;
    let wechat = wechat_resident(&app, "notice-phone").await;
    let (by_phone, _) = app.login("13900000701").await;

    // Accepting: only known kinds, and a login is needed.
    assert_eq!(app.post("/api/v1/me/subscriptions", &json!({ "kinds": ["confirmed"] }), None).await.status, 401);
    let r = app.post("/api/v1/me/subscriptions", &json!({ "kinds": ["everything"] }), Some(&wechat)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    for token in [&wechat, &by_phone] {
        assert_eq!(
            app.post("/api/v1/me/subscriptions", &json!({ "kinds": ["confirmed"] }), Some(token)).await.status,
            204
        );
    }

    // Both orders are confirmed: both residents are told in the storefront; only the WeChat one
    // on WeChat, once, on the order's page.
    let first = confirmed_order(&app, &wechat, "n-1", &stall, &slot).await;
    let theirs = confirmed_order(&app, &by_phone, "n-2", &stall, &slot).await;
    let told = notices_of(&app, &wechat, first).await;
    assert_eq!(told[0]["kind"], "confirmed");
    assert!(told[0]["body"].as_str().is_some_and(|b| b.contains(&first.to_string())), "{told:?}");
    assert_eq!(notices_of(&app, &by_phone, theirs).await[0]["kind"], "confirmed");
    let other = app.get("/api/v1/me/notices", Some(&by_phone)).await.body;
    assert!(other["items"].as_array().expect("items").iter().all(|n| n["order_id"] != first), "only their own");
    let sent = app.get("/api/v1/demo/wechat-messages", None).await.body;
    let sent = sent.as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["page"], format!("/orders/{first}"));
    assert_eq!(sent[0]["data"]["character_string1"]["value"], first.to_string());

    // The acceptance is used up: a second confirmed order is told in the storefront only.
    let second = confirmed_order(&app, &wechat, "n-3", &stall, &slot).await;
    assert_eq!(notices_of(&app, &wechat, second).await[0]["kind"], "confirmed");
    let sent = app.get("/api/v1/demo/wechat-messages", None).await.body;
    assert_eq!(sent.as_array().map(Vec::len), Some(1));

    // Notices by SMS: chosen by a resident without WeChat (their phone), refused to one with no
    // phone; then their next notice comes as a text message (the demo's Tencent simulator),
    // and nobody else's does.
    let sms = "/api/v1/me/sms-notices";
    assert_eq!(app.get(sms, Some(&by_phone)).await.body, json!({ "on": false }));
    let r = app.put(sms, &json!({ "on": true }), Some(&wechat)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "no phone to send to");
    assert_eq!(app.put(sms, &json!({ "on": "yes" }), Some(&by_phone)).await.status, 400);
    let r = app.put(sms, &json!({ "on": true }), Some(&by_phone)).await;
    assert_eq!((r.status, r.body.clone()), (200, json!({ "on": true })));
    assert_eq!(app.get(sms, Some(&by_phone)).await.body, json!({ "on": true }));
    let texted = confirmed_order(&app, &by_phone, "n-4", &stall, &slot).await;
    assert_eq!(notices_of(&app, &by_phone, texted).await[0]["kind"], "confirmed");
    let simulator = app.simulator.clone().expect("the demo's simulator");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let texts = loop {
        let all: Value =
            app.client.get(format!("{simulator}/sim/sms")).send().await.expect("sim").json().await.expect("json");
        let texts: Vec<Value> = all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["params"].as_array().is_some_and(|p| p.len() == 2))
            .cloned()
            .collect();
        if !texts.is_empty() || std::time::Instant::now() > deadline {
            break texts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(texts.len(), 1, "one notice by SMS: {texts:?}");
    assert_eq!(texts[0]["phone"], "+8613900000701");
    assert_eq!(texts[0]["params"], json!(["摊主已确认", texted.to_string()]));
    // Turned off again: the choice is theirs.
    assert_eq!(app.put(sms, &json!({ "on": false }), Some(&by_phone)).await.body, json!({ "on": false }));
}
