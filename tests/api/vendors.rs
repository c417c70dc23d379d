//! A stall's console through HTTP on both databases: each stall sees exactly its own parts,
//! confirms them (with shortages the resident sees) and packs them; the order follows its parts.

use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app, Db, TestApp};

on_both_databases! {
    stalls_confirm_and_pack_their_own_parts_and_the_order_follows => confirm_and_pack;
    two_stalls_confirming_one_order_at_once_both_count => stalls_at_once;
    a_stall_sets_its_own_stock_and_prices_only => own_products;
}

const STAFF: &str = "13800000000";

/// Each stall's id -> its holder's login (demo stall holders `13800000101`…).
async fn stall_holders(app: &TestApp) -> std::collections::BTreeMap<i64, String> {
    let mut out = std::collections::BTreeMap::new();
    for n in 1..=14 {
        let (token, user) = app.login(&format!("138000001{n:02}")).await;
        if let Some(v) = user["vendor_id"].as_i64() {
            out.insert(v, token);
        }
    }
    out
}

async fn product(app: &TestApp, name: &str) -> Value {
    let id = app.product_id(name).await;
    app.get(&format!("/api/v1/products/{id}"), None).await.body
}

/// A resident's order of 3 大白菜 and 2 香蕉 (two stalls), paid on delivery.
async fn two_stall_order(app: &TestApp) -> (String, Value, Value, Value) {
    let (staff, _) = app.login(STAFF).await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let (resident, _) = app.login("13900000001").await;
    let (cabbage, banana) = (product(app, "大白菜").await, product(app, "香蕉").await);
    app.put_in_cart(&resident, cabbage["id"].as_i64().expect("id"), 3).await;
    app.put_in_cart(&resident, banana["id"].as_i64().expect("id"), 2).await;
    let body = json!({ "slot_id": slot["id"], "payment": "on_delivery" });
    let order = app.checkout(&resident, "vendor-test", &body).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    (resident, order.body, cabbage, banana)
}

/// The stall's part of this order, as the stall lists it.
async fn part_of(app: &TestApp, token: &str, order: &Value) -> Value {
    let list = app.get("/api/v1/vendor/orders", Some(token)).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    items.into_iter().find(|p| p["order_id"] == order["id"]).expect("the stall sees its part")
}

async fn confirm_and_pack(db: Db) {
    let app = spawn_app(db).await;
    let (resident, order, cabbage, banana) = two_stall_order(&app).await;
    let holders = stall_holders(&app).await;
    let cabbage_stall = &holders[&cabbage["vendor_id"].as_i64().expect("vendor")];
    let banana_stall = &holders[&banana["vendor_id"].as_i64().expect("vendor")];

    // Each stall sees its own lines only, a masked phone, never the hand-off code.
    let part = part_of(&app, cabbage_stall, &order).await;
    assert_eq!(part["status"], "pending");
    assert_eq!(part["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(part["items"][0]["name"], "大白菜");
    assert_eq!(part["phone"], "139****0001");
    let text = part.to_string();
    assert!(!text.contains("13900000001") && !text.contains(order["handoff_code"].as_str().unwrap_or("x")), "{text}");
    let other = part_of(&app, banana_stall, &order).await;
    assert_ne!(other["id"], part["id"]);
    let path = |p: &Value, step: &str| format!("/api/v1/vendor/orders/{}/{step}", p["id"]);

    // Not someone else's part, not for residents, not packing before confirming.
    let r = app.post(&path(&part, "confirm"), &json!({}), Some(banana_stall)).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert_eq!(app.get("/api/v1/vendor/orders", Some(&resident)).await.status, 403);
    assert_eq!(app.post(&path(&part, "confirm"), &json!({}), Some(&resident)).await.status, 403);
    let r = app.post(&path(&part, "packed"), &json!({}), Some(cabbage_stall)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    // Bad shortages change nothing.
    for bad in [
        json!({ "shortages": [{ "product_id": banana["id"], "quantity": 1 }] }),
        json!({ "shortages": [{ "product_id": cabbage["id"], "quantity": 4 }] }),
        json!({ "shortages": [{ "product_id": cabbage["id"], "quantity": 0 }] }),
    ] {
        let r = app.post(&path(&part, "confirm"), &bad, Some(cabbage_stall)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    assert_eq!(part_of(&app, cabbage_stall, &order).await["status"], "pending");

    // Confirmed with one 大白菜 short: the resident sees it and pays for two.
    let price = cabbage["price_fen"].as_i64().expect("price");
    let shortage = json!({ "shortages": [{ "product_id": cabbage["id"], "quantity": 1 }] });
    let r = app.post(&path(&part, "confirm"), &shortage, Some(cabbage_stall)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "confirmed");
    assert_eq!(r.body["subtotal_fen"], 2 * price);
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&resident)).await.body;
    assert_eq!(seen["total_fen"], order["total_fen"].as_i64().unwrap_or(0) - price);
    let line = seen["items"].as_array().expect("items").iter().find(|l| l["product_id"] == cabbage["id"]).cloned();
    let line = line.expect("the 大白菜 line");
    assert_eq!((line["short_quantity"].as_i64(), line["line_total_fen"].as_i64()), (Some(1), Some(2 * price)));
    assert_eq!(seen["status"], "placed", "one stall of two has confirmed");
    let again = app.post(&path(&part, "confirm"), &json!({}), Some(cabbage_stall)).await;
    assert_eq!((again.status, again.error_code()), (409, "wrong_state"));
    let r = app.post(&format!("/api/v1/orders/{}/cancel", order["id"]), &json!({}), Some(&resident)).await;
    assert_eq!(r.status, 409, "a stall has started on it");

    // The second stall confirms (no body): the order is confirmed; both pack: packed.
    let r = app.client.post(app.url(&path(&other, "confirm"))).bearer_auth(banana_stall).send().await.expect("sent");
    assert_eq!(r.status(), 200);
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&resident)).await.body;
    assert_eq!(seen["status"], "confirmed");
    for (p, token) in [(&part, cabbage_stall), (&other, banana_stall)] {
        let r = app.post(&path(p, "packed"), &json!({}), Some(token)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["status"], "packed");
    }
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&resident)).await.body;
    assert_eq!(seen["status"], "packed");
    let steps: Vec<&str> =
        seen["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["status"].as_str()).collect();
    assert_eq!(steps, ["placed", "confirmed", "packed"]);
}

async fn stalls_at_once(db: Db) {
    let app = spawn_app(db).await;
    let (resident, order, cabbage, banana) = two_stall_order(&app).await;
    let holders = stall_holders(&app).await;
    let stalls =
        [&holders[&cabbage["vendor_id"].as_i64().expect("v")], &holders[&banana["vendor_id"].as_i64().expect("v")]];
    let mut parts = Vec::new();
    for s in stalls {
        parts.push(part_of(&app, s, &order).await);
    }
    // Each stall presses confirm three times at once: one of each is taken, and the order, having
    // both, is confirmed once.
    let presses: Vec<(String, &String)> = (0..3)
        .flat_map(|_| parts.iter().zip(stalls).map(|(p, s)| (format!("/api/v1/vendor/orders/{}/confirm", p["id"]), s)))
        .collect();
    let body = json!({});
    let answers = join_all(presses.iter().map(|(path, token)| app.post(path, &body, Some(token))).collect()).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 2, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(answers.iter().all(|r| r.status == 200 || r.error_code() == "wrong_state"));
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&resident)).await.body;
    assert_eq!(seen["status"], "confirmed");
    let confirmed =
        seen["timeline"].as_array().expect("timeline").iter().filter(|e| e["status"] == "confirmed").count();
    assert_eq!(confirmed, 1);
}

async fn own_products(db: Db) {
    let app = spawn_app(db).await;
    let holders = stall_holders(&app).await;
    let (cabbage, banana) = (product(&app, "大白菜").await, product(&app, "香蕉").await);
    let stall = &holders[&cabbage["vendor_id"].as_i64().expect("vendor")];
    let path = |p: &Value| format!("/api/v1/vendor/products/{}", p["id"]);
    let price = cabbage["price_fen"].as_i64().expect("price") + 10;
    let r = app.patch(&path(&cabbage), &json!({ "price_fen": price, "stock": 77 }), Some(stall)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["price_fen"].as_i64(), r.body["stock"].as_i64()), (Some(price), Some(77)));
    let history = app.get(&format!("/api/v1/products/{}/prices", cabbage["id"]), None).await.body;
    assert_eq!(history["items"][0]["price_fen"], price, "the change is in the price record");
    // Not another stall's product, not for residents, not a bad price; nothing changes.
    assert_eq!(app.patch(&path(&banana), &json!({ "stock": 1 }), Some(stall)).await.status, 404);
    let (resident, _) = app.login("13900000001").await;
    assert_eq!(app.patch(&path(&cabbage), &json!({ "stock": 1 }), Some(&resident)).await.status, 403);
    assert_eq!(app.patch(&path(&cabbage), &json!({ "price_fen": -5 }), Some(stall)).await.status, 400);
    assert_eq!(product(&app, "香蕉").await["stock"], banana["stock"]);
    assert_eq!(product(&app, "大白菜").await["stock"], 77);
}
