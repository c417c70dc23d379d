//! Standing orders (常购) through HTTP on both databases: a resident keeps a list every N days;
//! the server places the day's order itself, through the checkout (the cart stays the
//! resident's), names the standing order on it and tells the household; a sold-out item is
//! told and tried again; changes, skips, pauses and the end; bad requests change nothing;
//! nobody else sees or touches it; the pool pays for a household staff flagged in hardship.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::{on_both_databases, spawn_app_with, Db, TestApp};

on_both_databases! {
    a_standing_order_is_placed_by_the_server_and_the_household_told => placed;
    a_standing_order_is_changed_skipped_paused_and_ended_by_its_resident_only => kept;
    a_sold_out_item_is_told_once_and_the_day_tried_again => sold_out;
}

/// `days` from today in Shanghai, YYYY-MM-DD.
fn in_days(days: i64) -> String {
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    (chrono::Utc::now().with_timezone(&shanghai).date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn tomorrow() -> String {
    in_days(1)
}

async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |c| {
        c.sms.resend_interval = Duration::ZERO;
        c.expiry_interval = Duration::from_millis(200);
    })
    .await
}

/// The resident's standing order once the job has tried it (`last` set), within 15 s.
async fn tried(app: &TestApp, token: &str, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = app.get("/api/v1/me/standing-orders", Some(token)).await;
        assert_eq!(list.status, 200, "{:?}", list.body);
        let mine =
            list.body["items"].as_array().expect("a list").iter().find(|s| s["id"] == id).cloned().expect("listed");
        if !mine["last"].is_null() {
            return mine;
        }
        assert!(Instant::now() < deadline, "standing order {id} was not tried: {mine}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn notices(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let list = app.get("/api/v1/me/notices", Some(token)).await.body;
    list["items"].as_array().into_iter().flatten().filter(|n| n["kind"] == kind).cloned().collect()
}

async fn placed(db: Db) {
    let app = app(db).await;
    // 赵女士: a household of building 1, no flags.
    let (token, _) = app.login("13900000004").await;
    let (cabbage, potato, tomato) =
        (app.product_id("大白菜").await, app.product_id("土豆").await, app.product_id("西红柿").await);
    // Her own cart is hers: the standing order never touches it.
    app.put_in_cart(&token, tomato, 2).await;
    let stock_before = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"].as_i64();
    let body = json!({
        "items": [{ "product_id": cabbage, "quantity": 2 }, { "product_id": potato, "quantity": 1 }],
        "every_days": 7, "slot_kind": "delivery", "window": "morning", "payment": "on_delivery",
        "first_on": tomorrow(),
    });
    let made = app.post("/api/v1/me/standing-orders", &body, Some(&token)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["id"].as_i64().expect("id");
    assert_eq!(made.body["next_on"], tomorrow());
    assert_eq!(made.body["items"].as_array().map(Vec::len), Some(2));
    assert!(made.body["total_fen"].as_i64().unwrap_or(0) > 0);

    // Tomorrow's order is tried from today: placed in tomorrow's first morning delivery slot.
    let mine = tried(&app, &token, id).await;
    assert_eq!(mine["last"]["outcome"], "placed", "{mine}");
    assert_eq!(mine["last"]["on"], tomorrow());
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    assert_eq!(mine["next_on"], in_days(8), "the next day is one interval on");
    let order_id = mine["last"]["order_id"].as_i64().expect("the order");
    let order = app.get(&format!("/api/v1/orders/{order_id}"), Some(&token)).await;
    assert_eq!(order.status, 200, "{:?}", order.body);
    assert_eq!(order.body["standing_order_id"], id);
    assert_eq!(order.body["status"], "placed");
    assert_eq!(order.body["payment"], "on_delivery");
    assert_eq!(order.body["address"]["building"], "1", "to the household's home");
    let starts = chrono::DateTime::parse_from_rfc3339(order.body["slot_starts_at"].as_str().expect("start"))
        .expect("a time")
        .with_timezone(&shanghai);
    assert_eq!(starts.date_naive().format("%Y-%m-%d").to_string(), tomorrow());
    assert!(chrono::Timelike::hour(&starts) < 12, "a morning slot: {starts}");
    let items: Vec<(i64, i64)> = order.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| (l["product_id"].as_i64().unwrap_or(0), l["quantity"].as_i64().unwrap_or(0)))
        .collect();
    let mut want = vec![(cabbage, 2), (potato, 1)];
    want.sort_unstable();
    let mut got = items.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    // The stock was taken, the cart left as it was.
    let stock_after = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"].as_i64();
    assert_eq!(stock_after, stock_before.map(|s| s - 2));
    let cart = app.get("/api/v1/cart", Some(&token)).await.body;
    let lines: Vec<(i64, i64)> = cart["items"]
        .as_array()
        .expect("cart")
        .iter()
        .map(|l| (l["product_id"].as_i64().unwrap_or(0), l["quantity"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(lines, [(tomato, 2)]);
    // Told once, with the order.
    let told = notices(&app, &token, "standing_placed").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["order_id"], order_id);
    // Later passes do nothing more (the next day is a week away).
    tokio::time::sleep(Duration::from_millis(800)).await;
    let orders = app.get("/api/v1/orders", Some(&token)).await.body;
    let from_standing = orders["items"].as_array().expect("orders").len();
    assert_eq!(from_standing, 1, "one order: {orders}");
    // She can still cancel it as any order of hers.
    let r = app.post(&format!("/api/v1/orders/{order_id}/cancel"), &json!({}), Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.stop().await;
}

async fn kept(db: Db) {
    let app = app(db).await;
    let (token, _) = app.login("13900000004").await;
    let (other, _) = app.login("13900000002").await;
    let cabbage = app.product_id("大白菜").await;
    let good = json!({
        "items": [{ "product_id": cabbage, "quantity": 1 }],
        "every_days": 14, "slot_kind": "pickup", "window": "evening", "payment": "on_delivery",
        "first_on": "2099-01-01",
    });
    // Bad requests: each a clear error, nothing kept.
    let bad = [
        (json!({ "items": [] }), 400),
        (json!({ "items": [{ "product_id": cabbage, "quantity": 0 }] }), 400),
        (json!({ "items": [{ "product_id": cabbage, "quantity": 1 }, { "product_id": cabbage, "quantity": 2 }] }), 400),
        (json!({ "items": [{ "product_id": 999_999, "quantity": 1 }] }), 404),
        (json!({ "every_days": 0 }), 400),
        (json!({ "every_days": 29 }), 400),
        (json!({ "first_on": "2099-01-01" }), 400),
        (json!({ "first_on": "tomorrow" }), 400),
        (json!({ "window": "night" }), 400),
        (json!({ "payment": "pool" }), 403),
        (json!({ "surprise": true }), 400),
    ];
    let base = json!({
        "items": [{ "product_id": cabbage, "quantity": 1 }],
        "every_days": 14, "slot_kind": "pickup", "window": "evening", "payment": "on_delivery",
    });
    for (change, status) in bad {
        let mut body = base.clone();
        for (k, v) in change.as_object().expect("an object") {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/me/standing-orders", &body, Some(&token)).await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        assert!(r.body["error"]["code"].is_string(), "a JSON error: {:?}", r.body);
    }
    let none = app.get("/api/v1/me/standing-orders", Some(&token)).await.body;
    assert_eq!(none, json!({ "items": [] }), "nothing was kept");
    assert_eq!(app.post("/api/v1/me/standing-orders", &good, None).await.status, 401);

    // A month ahead: the job leaves it alone while it is changed.
    let mut body = good.clone();
    body["first_on"] = json!(in_days(30));
    let made = app.post("/api/v1/me/standing-orders", &body, Some(&token)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["id"].as_i64().expect("id");
    let path = format!("/api/v1/me/standing-orders/{id}");
    let r = app.patch(&path, &json!({ "paused": true }), Some(&token)).await;
    assert_eq!((r.status, r.body["paused"].clone()), (200, json!(true)), "{:?}", r.body);

    // Nobody else sees, changes or ends it.
    assert_eq!(app.get("/api/v1/me/standing-orders", Some(&other)).await.body["items"], json!([]));
    assert_eq!(app.patch(&path, &json!({ "paused": false }), Some(&other)).await.status, 404);
    assert_eq!(app.delete(&path, Some(&other)).await.status, 404);

    // Changes: the window, the interval, the items; a skip moves one interval on.
    let potato = app.product_id("土豆").await;
    let change = json!({ "window": "morning", "every_days": 7, "items": [{ "product_id": potato, "quantity": 3 }] });
    let r = app.patch(&path, &change, Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["window"].clone(), r.body["every_days"].clone()), (json!("morning"), json!(7)));
    assert_eq!(r.body["items"][0]["product_id"], potato);
    assert_eq!(r.body["items"][0]["quantity"], 3);
    let r = app.patch(&path, &json!({ "skip_next": true }), Some(&token)).await;
    assert_eq!(r.body["next_on"], in_days(37), "{:?}", r.body);
    // A bad change changes nothing.
    let r = app.patch(&path, &json!({ "every_days": 40, "window": "evening" }), Some(&token)).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let still = app.get("/api/v1/me/standing-orders", Some(&token)).await.body;
    let still = &still["items"][0];
    assert_eq!((still["window"].clone(), still["every_days"].clone()), (json!("morning"), json!(7)));
    assert_eq!(app.patch("/api/v1/me/standing-orders/999999", &json!({}), Some(&token)).await.status, 404);

    // Ended: gone from the list, a second end is 404.
    assert_eq!(app.delete(&path, Some(&token)).await.status, 204);
    assert_eq!(app.get("/api/v1/me/standing-orders", Some(&token)).await.body["items"], json!([]));
    assert_eq!(app.delete(&path, Some(&token)).await.status, 404);
    app.stop().await;
}

async fn sold_out(db: Db) {
    let app = app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (token, _) = app.login("13900000004").await;
    let cabbage = app.product_id("大白菜").await;
    let body = json!({
        "items": [{ "product_id": cabbage, "quantity": 2 }],
        "every_days": 7, "slot_kind": "delivery", "window": "afternoon", "payment": "on_delivery",
        "first_on": tomorrow(),
    });
    app.change_product(&staff, cabbage, &json!({ "stock": 1 })).await;
    let made = app.post("/api/v1/me/standing-orders", &body, Some(&token)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.body["id"].as_i64().expect("id");
    let mine = tried(&app, &token, id).await;
    assert_eq!(mine["last"]["outcome"], "refused", "{mine}");
    assert!(mine["last"]["message"].as_str().unwrap_or("").contains("大白菜"), "{mine}");
    assert_eq!(mine["next_on"], tomorrow(), "the day is tried again until its window ends");
    // Told once, however many passes come before the next try.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(notices(&app, &token, "standing_refused").await.len(), 1);
    assert_eq!(app.get("/api/v1/orders", Some(&token)).await.body["items"], json!([]));
    // Nothing taken: the one left is still there.
    assert_eq!(app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"], 1);
    app.stop().await;
}
