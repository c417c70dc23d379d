//! Cart, slots, checkout and orders, on both databases.

use serde_json::{json, Value};
use std::time::Duration;
use tests::{on_both_databases, spawn_app, spawn_app_with, Db, TestApp};

on_both_databases! {
    the_cart_keeps_lines_and_enforces_limits => cart_flow;
    checkout_makes_one_order_split_per_stall => checkout_happy_path;
    a_retried_checkout_never_makes_a_second_order => idempotency;
    paying_twice_with_new_keys_buys_the_cart_once => pay_twice;
    refused_checkouts_take_nothing => refusals;
    priority_households_get_the_reserve => priority_reserve;
    cancel_and_expiry_give_back_stock_and_place => cancel_and_expiry;
    other_peoples_orders_are_404 => order_privacy;
    staff_manage_slots_and_households => staff_tools;
    a_residents_orders_come_in_pages_newest_first => paged_orders;
    staff_find_households_by_building_unit_and_room_a_page_at_a_time => paged_households;
}

const STAFF: &str = "13800000000";

/// The demo goods these tests buy, found by name.
struct Goods {
    cabbage: i64,
    potatoes: i64,
    tomatoes: i64,
    eggplant: i64,
    onions: i64,
    /// From the fruit stall: another stall than the vegetables'.
    banana: i64,
}

async fn goods(app: &TestApp) -> Goods {
    Goods {
        cabbage: app.product_id("大白菜").await,
        potatoes: app.product_id("土豆").await,
        tomatoes: app.product_id("西红柿").await,
        eggplant: app.product_id("茄子").await,
        onions: app.product_id("洋葱").await,
        banana: app.product_id("香蕉").await,
    }
}

async fn product(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/products/{id}"), None).await.body
}

async fn slot(app: &TestApp, id: i64) -> Value {
    let all = app.get("/api/v1/slots", None).await.body;
    all["items"].as_array().expect("items").iter().find(|s| s["id"] == id).cloned().expect("slot listed")
}

fn delivery(slot_id: &Value) -> Value {
    json!({ "slot_id": slot_id, "address": { "building": "3", "unit": "2", "room": "501" }, "payment": "on_delivery" })
}

async fn cart_flow(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (token, _) = app.login("13900000001").await;
    assert_eq!(app.get("/api/v1/cart", None).await.status, 401);
    let empty = app.get("/api/v1/cart", Some(&token)).await;
    assert_eq!(empty.body, json!({ "items": [], "total_fen": 0, "has_problems": false }));

    let r = app.set_cart(&token, g.cabbage, 3).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["items"][0]["name"], "大白菜");
    assert_eq!(r.body["items"][0]["line_total_fen"], 360);
    assert_eq!(r.body["total_fen"], 360);
    let r = app.set_cart(&token, g.cabbage, 5).await;
    assert_eq!(r.body["items"][0]["quantity"], 5);
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));

    // Rationing: 草莓 is limited to 3 per order.
    let strawberries = app.get("/api/v1/products?q=%E8%8D%89%E8%8E%93", None).await.body["items"][0].clone();
    let sid = strawberries["id"].as_i64().expect("id");
    let r = app.set_cart(&token, sid, 4).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "over_limit");
    assert_eq!(app.set_cart(&token, sid, 3).await.status, 200);
    let r = app.set_cart(&token, g.potatoes, 99).await; // 土豆: 600 in stock, fine
    assert_eq!(r.status, 200);
    let (staff, _) = app.login(STAFF).await;
    app.change_product(&staff, g.potatoes, &json!({ "stock": 10 })).await;
    let short = app.set_cart(&token, g.potatoes, 11).await;
    assert_eq!(short.error_code(), "out_of_stock");
    let said = short.body["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(said.starts_with("土豆 只剩10"), "the resident is told how many are left: {said}");
    for (q, code) in [(-1, 400), (100, 400)] {
        assert_eq!(app.set_cart(&token, g.cabbage, q).await.status, code);
    }
    assert_eq!(app.set_cart(&token, 999_999, 1).await.status, 404);

    // The line whose stock ran out and the line whose price changed are flagged, not dropped.
    app.change_product(&staff, g.cabbage, &json!({ "price_fen": 150 })).await;
    let cart = app.get("/api/v1/cart", Some(&token)).await.body;
    let items = cart["items"].as_array().expect("items");
    let cabbage = items.iter().find(|i| i["product_id"] == g.cabbage).expect("cabbage");
    assert_eq!(cabbage["price_fen"], 150);
    assert_eq!(cabbage["price_was_fen"], 120);
    let potatoes = items.iter().find(|i| i["product_id"] == g.potatoes).expect("potatoes");
    assert_eq!(potatoes["available"], false);
    assert_eq!(cart["has_problems"], true);

    // Removing a line; another resident's cart is their own.
    let r = app.set_cart(&token, g.potatoes, 0).await;
    assert!(r.body["items"].as_array().expect("items").iter().all(|i| i["product_id"] != g.potatoes));
    let (other, _) = app.login("13900000004").await;
    assert_eq!(app.get("/api/v1/cart", Some(&other)).await.body["items"], json!([]));
}

async fn checkout_happy_path(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (token, _) = app.login("13900000004").await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    // Two orders of the household in this slot.
    app.raise_household_limit(&staff, &slot, 2).await;
    let boxes = app.get("/api/v1/products?category=box", None).await.body;
    let box_id = boxes["items"][0]["id"].as_i64().expect("box");
    let box_price = boxes["items"][0]["price_fen"].as_i64().expect("price");
    let box_stock = boxes["items"][0]["stock"].as_i64().expect("stock");
    app.put_in_cart(&token, box_id, 1).await;
    app.put_in_cart(&token, g.cabbage, 2).await; // 大白菜 1.20
    app.put_in_cart(&token, g.banana, 1).await; // 香蕉, another stall
    let eggs_before = product(&app, g.cabbage).await["stock"].as_i64().expect("stock");

    let r = app
        .checkout(
            &token,
            "order-1",
            &json!({
                "slot_id": slot["id"], "address": { "building": "1", "unit": "1", "room": "201" },
                "payment": "on_delivery", "note": "放门口就好"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let order = &r.body;
    assert_eq!(order["status"], "placed");
    let banana = product(&app, g.banana).await["price_fen"].as_i64().expect("price");
    assert_eq!(order["total_fen"], box_price + 2 * 120 + banana);
    assert_eq!(order["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(order["parts"].as_array().map(Vec::len), Some(3), "one part per stall");
    assert_eq!(order["address"]["building"], "1");
    assert_eq!(order["note"], "放门口就好");
    let code = order["handoff_code"].as_str().expect("hand-off code");
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(order["timeline"][0]["status"], "placed");

    assert_eq!(product(&app, box_id).await["stock"], box_stock - 1);
    assert_eq!(product(&app, g.cabbage).await["stock"], eggs_before - 2);
    assert_eq!(slot_state(&app, &slot).await, 1);
    assert_eq!(app.get("/api/v1/cart", Some(&token)).await.body["items"], json!([]));

    let list = app.get("/api/v1/orders", Some(&token)).await;
    assert_eq!(list.body["items"][0]["id"], order["id"]);
    let mut detail = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&token)).await.body;
    // The one order's page also has the code as a QR code (FXS:{order}:{code}), drawn as SVG.
    let qr = detail.as_object_mut().and_then(|o| o.remove("handoff_qr")).expect("a QR code");
    assert!(qr.as_str().is_some_and(|svg| svg.starts_with("<svg") && svg.contains("<path")), "{qr}");
    assert_eq!(detail, *order);

    // WeChat payment leaves the order waiting for payment, with an expiry.
    app.put_in_cart(&token, g.cabbage, 1).await;
    let r = app.checkout(&token, "order-2", &json!({ "slot_id": slot["id"], "payment": "wechat" })).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending_payment");
    assert!(r.body["expires_at"].is_string());
    // No address given: the household's, remembered from the first order.
    assert_eq!(r.body["address"]["room"], "201");
}

async fn slot_state(app: &TestApp, slot: &Value) -> i64 {
    self::slot(app, slot["id"].as_i64().expect("id")).await["booked"].as_i64().expect("booked")
}

async fn idempotency(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (token, _) = app.login("13900000004").await;
    let slot = app.open_slot(&staff, 100, 0, 24).await;
    app.raise_household_limit(&staff, &slot, 5).await;
    app.put_in_cart(&token, g.cabbage, 1).await;
    let body = delivery(&slot["id"]);

    // A storm of the same checkout: one order, every answer the same.
    let mut calls = Vec::new();
    for _ in 0..40 {
        calls.push(app.checkout(&token, "storm-key", &body));
    }
    let replies = tests::join_all(calls).await;
    let ids: Vec<&Value> = replies.iter().filter(|r| r.status == 201).map(|r| &r.body["id"]).collect();
    let in_use =
        replies.iter().filter(|r| r.status == 409 && r.body["error"]["code"] == "idempotency_key_in_use").count();
    assert_eq!(ids.len() + in_use, 40, "every reply is the order or 'in use'");
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| **id == *ids[0]));
    assert_eq!(app.get("/api/v1/orders", Some(&token)).await.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(slot_state(&app, &slot).await, 1);

    let replay = app.checkout(&token, "storm-key", &body).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body["id"], *ids[0]);
    let mismatch = app.checkout(&token, "storm-key", &json!({ "slot_id": slot["id"], "payment": "wechat" })).await;
    assert_eq!(mismatch.status, 422);
    assert_eq!(mismatch.error_code(), "idempotency_key_mismatch");
    // Another resident may use the same key string: keys are per resident.
    let (other, _) = app.login("13900000001").await;
    app.put_in_cart(&other, g.cabbage, 1).await;
    assert_eq!(app.checkout(&other, "storm-key", &body).await.status, 201);
    // A refusal is the first answer too.
    let empty = app.checkout(&token, "empty-cart", &body).await;
    assert_eq!(empty.error_code(), "cart_empty");
    app.put_in_cart(&token, g.cabbage, 1).await;
    assert_eq!(app.checkout(&token, "empty-cart", &body).await.error_code(), "cart_empty");
    // A key may hold any visible ASCII, quotes and backslashes too: it is data, never SQL.
    let odd = r#"new-key');DROP/**/TABLE/**/orders;--\'"#;
    let made = app.checkout(&token, odd, &body).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(app.checkout(&token, odd, &body).await.body["id"], made.body["id"], "replayed by the same key");
    assert_eq!(app.send(app.client.post(app.url("/api/v1/orders")).bearer_auth(&token).json(&body)).await.status, 400);
}

/// Two phones, or a double tap that makes a new key each time: many checkouts of one cart at
/// the same moment, each with its own key. The cart is bought once; the others find it empty.
async fn pay_twice(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (token, _) = app.login("13900000002").await;
    let slot = app.open_slot(&staff, 100, 0, 24).await;
    let stock_before = product(&app, g.onions).await["stock"].as_i64().expect("stock");
    app.put_in_cart(&token, g.onions, 2).await;
    let body = delivery(&slot["id"]);
    let (app, token, body) = (&app, &token, &body);
    let calls = (0..12).map(|i| async move { app.checkout(token, &format!("tap-{i}"), body).await }).collect();
    let replies = tests::join_all(calls).await;
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1, "one order");
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(r.error_code(), "cart_empty", "{:?}", r.body);
    }
    assert_eq!(slot_state(app, &slot).await, 1);
    assert_eq!(product(app, g.onions).await["stock"].as_i64(), Some(stock_before - 2));
    assert_eq!(app.get("/api/v1/orders", Some(token)).await.body["items"].as_array().map(Vec::len), Some(1));
}

async fn refusals(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (a, _) = app.login("13900000004").await;
    let (b, _) = app.login("13900000001").await;
    let one_place = app.open_slot(&staff, 1, 0, 24).await;
    let roomy = app.open_slot(&staff, 50, 0, 30).await;

    assert_eq!(app.checkout(&a, "k0", &delivery(&roomy["id"])).await.error_code(), "cart_empty");
    app.put_in_cart(&a, g.cabbage, 1).await;
    app.put_in_cart(&b, g.cabbage, 1).await;
    assert_eq!(app.checkout(&a, "k1", &delivery(&one_place["id"])).await.status, 201);
    let full = app.checkout(&b, "k1", &delivery(&one_place["id"])).await;
    assert_eq!(full.status, 409);
    assert_eq!(full.error_code(), "slot_full");
    assert_eq!(
        app.get("/api/v1/cart", Some(&b)).await.body["items"].as_array().map(Vec::len),
        Some(1),
        "the cart is kept"
    );

    // Scarce stock: one left, nothing of a refused checkout is taken.
    app.change_product(&staff, g.eggplant, &json!({ "stock": 1 })).await;
    app.put_in_cart(&a, g.eggplant, 1).await;
    app.put_in_cart(&b, g.eggplant, 1).await;
    app.put_in_cart(&b, g.cabbage, 2).await;
    assert_eq!(app.checkout(&a, "k2", &delivery(&roomy["id"])).await.status, 201);
    let cabbage = product(&app, g.cabbage).await["stock"].clone();
    let booked = slot_state(&app, &roomy).await;
    let out = app.checkout(&b, "k2", &delivery(&roomy["id"])).await;
    assert_eq!(out.status, 409);
    assert_eq!(out.error_code(), "out_of_stock");
    assert!(out.body["error"]["message"].as_str().unwrap_or_default().contains("茄子"));
    assert_eq!(product(&app, g.cabbage).await["stock"], cabbage, "the other line's stock was not taken");
    assert_eq!(slot_state(&app, &roomy).await, booked, "the slot place was not taken");
    assert_eq!(product(&app, g.eggplant).await["stock"], 0);

    // Closed by staff, past its cut-off, or not there at all.
    app.put_in_cart(&b, g.eggplant, 0).await;
    app.change_slot(&staff, &roomy["id"], &json!({ "closed": true })).await;
    assert_eq!(app.checkout(&b, "k3", &delivery(&roomy["id"])).await.error_code(), "slot_closed");
    let past_cutoff = app.open_slot(&staff, 10, 0, 0).await;
    assert_eq!(past_cutoff["closed"], true);
    assert_eq!(app.checkout(&b, "k4", &delivery(&past_cutoff["id"])).await.error_code(), "slot_closed");
    assert_eq!(app.checkout(&b, "k5", &delivery(&json!(999_999))).await.status, 404);
    // Delivery needs an address: a new resident without a household gives none.
    let (new, _) = app.login("13700000000").await;
    app.put_in_cart(&new, g.cabbage, 1).await;
    let open = app.open_slot(&staff, 10, 0, 24).await;
    let r = app.checkout(&new, "k6", &json!({ "slot_id": open["id"], "payment": "on_delivery" })).await;
    assert_eq!(r.status, 400);
    let r = app.checkout(&new, "k7", &json!({ "slot_id": open["id"], "payment": "cash" })).await;
    assert_eq!(r.status, 400);
    let r = app
        .checkout(
            &new,
            "k8",
            &json!({ "slot_id": open["id"], "payment": "on_delivery",
        "address": { "building": "99", "unit": "1", "room": "101" } }),
        )
        .await;
    assert_eq!(r.status, 400, "no building 99: {:?}", r.body);
}

async fn priority_reserve(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (normal_a, _) = app.login("13900000004").await; // 赵女士: no flags
    let (normal_b, user_b) = app.login("13700000001").await;
    let (quarantined, _) = app.login("13900000002").await; // 李先生
    let (elderly, _) = app.login("13900000001").await; // 张阿姨
                                                       // 3 places, 2 held for priority households until two hours before the slot.
    let slot = app.open_slot(&staff, 3, 2, 24).await;
    assert_eq!(slot["remaining"], 1);
    assert_eq!(slot["priority_remaining"], 3);
    for t in [&normal_a, &normal_b, &quarantined, &elderly] {
        app.put_in_cart(t, g.cabbage, 1).await;
    }
    // Each at their own home: an address in a priority household would make them priority too.
    let at_home = |slot: &Value, building: &str| json!({ "slot_id": slot["id"], "address": { "building": building, "unit": "1", "room": "101" }, "payment": "on_delivery" });
    let own = json!({ "slot_id": slot["id"], "payment": "on_delivery" });
    assert_eq!(app.checkout(&normal_a, "p1", &own).await.status, 201);
    assert_eq!(app.checkout(&normal_b, "p1", &at_home(&slot, "4")).await.error_code(), "slot_full");
    assert_eq!(app.checkout(&quarantined, "p1", &own).await.status, 201);
    assert_eq!(app.checkout(&elderly, "p1", &own).await.status, 201);
    assert_eq!(self::slot(&app, slot["id"].as_i64().expect("id")).await["booked"], 3);

    // A second slot: after the release time the reserve opens to all.
    let later = app.open_slot(&staff, 2, 2, 24).await;
    assert_eq!(app.checkout(&normal_b, "p2", &at_home(&later, "4")).await.error_code(), "slot_full");
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let r = app
        .patch(&format!("/api/v1/admin/slots/{}", later["id"]), &json!({ "priority_release_at": past }), Some(&staff))
        .await;
    assert_eq!(r.body["remaining"], 2);
    assert_eq!(app.checkout(&normal_b, "p3", &at_home(&later, "4")).await.status, 201);
    assert_eq!(user_b["household"], Value::Null);
}

async fn cancel_and_expiry(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.payment_timeout = Duration::from_secs(1);
        c.expiry_interval = Duration::from_millis(200);
    })
    .await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (token, _) = app.login("13900000004").await;
    let slot = app.open_slot(&staff, 5, 0, 24).await;
    let stock = product(&app, g.tomatoes).await["stock"].as_i64().expect("stock");

    app.put_in_cart(&token, g.tomatoes, 2).await;
    let order = app.checkout(&token, "c1", &delivery(&slot["id"])).await.body;
    assert_eq!(product(&app, g.tomatoes).await["stock"], stock - 2);
    let path = format!("/api/v1/orders/{}/cancel", order["id"]);
    let r = app.post(&path, &json!({}), Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    let timeline: Vec<&str> =
        r.body["timeline"].as_array().expect("timeline").iter().filter_map(|e| e["status"].as_str()).collect();
    assert_eq!(timeline, ["placed", "cancelled"]);
    assert_eq!(product(&app, g.tomatoes).await["stock"], stock);
    assert_eq!(slot_state(&app, &slot).await, 0);
    let again = app.post(&path, &json!({}), Some(&token)).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "not_cancellable");

    // Unpaid WeChat orders expire and give everything back.
    app.put_in_cart(&token, g.tomatoes, 1).await;
    let unpaid = app.checkout(&token, "c2", &json!({ "slot_id": slot["id"], "payment": "wechat" })).await.body;
    assert_eq!(unpaid["status"], "pending_payment");
    assert_eq!(product(&app, g.tomatoes).await["stock"], stock - 1);
    let mut status = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = app.get(&format!("/api/v1/orders/{}", unpaid["id"]), Some(&token)).await.body["status"].clone();
        if status == "expired" {
            break;
        }
    }
    assert_eq!(status, "expired");
    assert_eq!(product(&app, g.tomatoes).await["stock"], stock);
    assert_eq!(slot_state(&app, &slot).await, 0);
}

async fn order_privacy(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (owner, _) = app.login("13900000004").await;
    let (other, _) = app.login("13900000001").await;
    let (vendor, _) = app.login("13800000101").await;
    let slot = app.open_slot(&staff, 5, 0, 24).await;
    app.put_in_cart(&owner, g.cabbage, 1).await;
    let order = app.checkout(&owner, "x", &delivery(&slot["id"])).await.body;
    let path = format!("/api/v1/orders/{}", order["id"]);
    for t in [&other, &vendor] {
        let r = app.get(&path, Some(t)).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.error_code(), "not_found");
        assert_eq!(app.post(&format!("{path}/cancel"), &json!({}), Some(t)).await.status, 404);
    }
    assert_eq!(app.get("/api/v1/orders", Some(&other)).await.body["items"], json!([]));
    let seen_by_staff = app.get(&path, Some(&staff)).await;
    assert_eq!(seen_by_staff.status, 200);
    assert!(seen_by_staff.body.get("handoff_code").is_none(), "only the resident sees the hand-off code");
    assert_eq!(app.get(&path, None).await.status, 401);
}

async fn staff_tools(db: Db) {
    let app = spawn_app(db).await;
    let g = goods(&app).await;
    let (staff, _) = app.login(STAFF).await;
    let (resident, _) = app.login("13900000004").await;
    let now = chrono::Utc::now();
    let at = |h: i64| (now + chrono::Duration::hours(h)).to_rfc3339();
    let good = json!({ "kind": "pickup", "starts_at": at(5), "ends_at": at(7), "cutoff_at": at(4), "capacity": 2 });
    assert_eq!(app.post("/api/v1/admin/slots", &good, Some(&resident)).await.status, 403);
    for bad in [
        json!({ "kind": "pickup", "starts_at": at(5), "ends_at": at(4), "cutoff_at": at(4), "capacity": 2 }),
        json!({ "kind": "pickup", "starts_at": at(5), "ends_at": at(7), "cutoff_at": at(6), "capacity": 2 }),
        json!({ "kind": "pickup", "starts_at": at(5), "ends_at": at(7), "cutoff_at": at(4), "capacity": -1 }),
        json!({ "kind": "pickup", "starts_at": at(5), "ends_at": at(7), "cutoff_at": at(4), "capacity": 2, "priority_capacity": 3 }),
        json!({ "kind": "boat", "starts_at": at(5), "ends_at": at(7), "cutoff_at": at(4), "capacity": 2 }),
        json!({ "kind": "pickup", "starts_at": "tomorrow", "ends_at": at(7), "cutoff_at": at(4), "capacity": 2 }),
    ] {
        let r = app.post("/api/v1/admin/slots", &bad, Some(&staff)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let slot = app.post("/api/v1/admin/slots", &good, Some(&staff)).await;
    assert_eq!(slot.status, 201);
    assert_eq!(slot.body["kind"], "pickup");
    assert!(slot.body["starts_at"].as_str().unwrap_or_default().ends_with("+08:00"));
    let date = &slot.body["starts_at"].as_str().unwrap_or_default()[..10];
    let day = app.get(&format!("/api/v1/slots?date={date}"), None).await;
    assert!(day.body["items"].as_array().expect("items").iter().any(|s| s["id"] == slot.body["id"]));
    assert_eq!(app.get("/api/v1/slots?date=2026-13-40", None).await.status, 400);

    // Pickup needs no address.
    app.put_in_cart(&resident, g.cabbage, 1).await;
    let r = app.checkout(&resident, "pickup", &json!({ "slot_id": slot.body["id"], "payment": "on_delivery" })).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["slot_kind"], "pickup");
    let path = format!("/api/v1/admin/slots/{}", slot.body["id"]);
    let r = app.patch(&path, &json!({ "capacity": 0 }), Some(&staff)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "capacity_below_booked");
    let r = app.patch(&path, &json!({ "capacity": 10 }), Some(&staff)).await;
    assert_eq!(r.body["capacity"], 10);
    assert_eq!(r.body["remaining"], 9);
    assert_eq!(app.patch("/api/v1/admin/slots/999999", &json!({ "capacity": 1 }), Some(&staff)).await.status, 404);
    // Adjusting the reserve, its release and the cut-off; a slot that would break a rule is
    // refused and left as it was.
    let starts =
        chrono::DateTime::parse_from_rfc3339(slot.body["starts_at"].as_str().expect("starts_at")).expect("time");
    let shanghai =
        |minutes: i64| (starts + chrono::Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%S+08:00").to_string();
    let (cutoff, release) = (shanghai(-30), shanghai(-45));
    let r = app
        .patch(
            &path,
            &json!({ "priority_capacity": 4, "priority_release_at": release, "cutoff_at": cutoff }),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["priority_capacity"].as_i64(), r.body["cutoff_at"].as_str()), (Some(4), Some(cutoff.as_str())));
    assert_eq!(r.body["priority_release_at"], release);
    for bad in [
        json!({ "priority_capacity": 11 }),
        json!({ "capacity": 3, "priority_capacity": 4 }),
        json!({ "cutoff_at": shanghai(1) }),
    ] {
        let r = app.patch(&path, &bad, Some(&staff)).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{bad}");
    }
    let day = app.get(&format!("/api/v1/slots?date={date}"), None).await;
    let now = day.body["items"].as_array().expect("items").iter().find(|s| s["id"] == slot.body["id"]).cloned();
    let now = now.expect("slot");
    assert_eq!((now["capacity"].as_i64(), now["priority_capacity"].as_i64()), (Some(10), Some(4)));
    assert_eq!(now["cutoff_at"], cutoff);

    // Households: staff list and flag them.
    let list = app.get("/api/v1/admin/households?building=5", Some(&staff)).await;
    let household = list.body["items"].as_array().expect("items").first().cloned().expect("a household in 5号楼");
    assert_eq!(app.get("/api/v1/admin/households", Some(&resident)).await.status, 403);
    let r = app
        .patch(&format!("/api/v1/admin/households/{}", household["id"]), &json!({ "hardship": true }), Some(&staff))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["hardship"], true);
    assert_eq!(r.body["quarantined"], household["quarantined"]);
    assert_eq!(
        app.patch(&format!("/api/v1/admin/households/{}", household["id"]), &json!({}), Some(&staff)).await.status,
        400
    );
}

async fn paged_orders(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let slot = app.open_slot(&staff, 50, 0, 24).await;
    app.raise_household_limit(&staff, &slot, 5).await;
    let (token, _) = app.login("13900000881").await;
    let cabbage = app.product_id("大白菜").await;
    let mut placed = Vec::new();
    for n in 0..5 {
        app.put_in_cart(&token, cabbage, 1).await;
        let body = json!({ "slot_id": slot["id"], "payment": "on_delivery",
                           "address": { "building": "3", "unit": "1", "room": "881" } });
        let r = app.checkout(&token, &format!("paged-{n}"), &body).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        placed.push(r.body["id"].as_i64().expect("id"));
    }
    placed.reverse();
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let r = app.get(&format!("/api/v1/orders?limit=2{after}"), Some(&token)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        seen.extend(r.body["items"].as_array().expect("items").iter().map(|o| o["id"].as_i64().expect("id")));
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, placed, "newest first, each once");
    assert_eq!(pages, 3);
    let all = app.get("/api/v1/orders", Some(&token)).await.body;
    assert!(all["next_cursor"].is_null());
    let (other, _) = app.login("13900000882").await;
    assert!(app.get("/api/v1/orders?limit=2", Some(&other)).await.body["items"].as_array().is_some_and(Vec::is_empty));
    for bad in ["limit=0", "limit=501", "cursor=12", "cursor=ox"] {
        let r = app.get(&format!("/api/v1/orders?{bad}"), Some(&token)).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_query"), "{bad}");
    }
}

async fn paged_households(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = Duration::ZERO).await;
    let (staff, _) = app.login(STAFF).await;
    // Six homes in building 3, unit 2 (rooms 301-306), made out of order, and one in unit 1.
    for (n, room) in ["304", "301", "306", "302", "305", "303"].iter().enumerate() {
        let (token, _) = app.login(&format!("1390000097{n}")).await;
        let home = json!({ "building": "3", "unit": "2", "room": room });
        assert_eq!(app.put("/api/v1/me/household", &home, Some(&token)).await.status, 200);
    }
    let (token, _) = app.login("13900000979").await;
    let home = json!({ "building": "3", "unit": "1", "room": "305" });
    assert_eq!(app.put("/api/v1/me/household", &home, Some(&token)).await.status, 200);

    let (mut rooms, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let r =
            app.get(&format!("/api/v1/admin/households?building=3&unit=2&room=30&limit=2{after}"), Some(&staff)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        for h in r.body["items"].as_array().expect("items") {
            assert_eq!((h["building"].as_str(), h["unit"].as_str()), (Some("3"), Some("2")));
            rooms.push(h["room"].as_str().expect("room").to_owned());
        }
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(rooms, ["301", "302", "303", "304", "305", "306"], "in room order, each once");
    assert_eq!(pages, 3);
    // The start of a room number; another unit is not mixed in.
    let r = app.get("/api/v1/admin/households?building=3&room=305", Some(&staff)).await.body;
    let units: Vec<&str> = r["items"].as_array().expect("items").iter().filter_map(|h| h["unit"].as_str()).collect();
    assert_eq!(units, ["1", "2"]);
    for bad in ["limit=0", "cursor=7", "room=12345678901234567"] {
        let r = app.get(&format!("/api/v1/admin/households?{bad}"), Some(&staff)).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_query"), "{bad}");
    }
    assert_eq!(app.get("/api/v1/admin/households?building=3", Some(&token)).await.status, 403);
}
