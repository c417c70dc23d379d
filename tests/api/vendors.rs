//! A stall's console through HTTP on both databases: each stall sees exactly its own parts,
//! confirms them (with shortages the resident sees) and packs them; the order follows its parts.

use crate::SERVER_BIN;
use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app, start, start_process, test_config, Db, TestApp};

on_both_databases! {
    stalls_confirm_and_pack_their_own_parts_and_the_order_follows => confirm_and_pack;
    two_stalls_confirming_one_order_at_once_both_count => stalls_at_once;
    a_stall_sets_its_own_stock_and_prices_only => own_products;
    a_stall_console_hears_of_its_orders_as_they_come => live_feed;
    a_stall_feed_closes_when_its_login_ends => feed_ends;
}

/// A console's feed lasts as long as its login: logging out, or staff taking the stall holder's
/// role away, ends it within seconds (`event: ended`, then the end of the stream); a feed of
/// a login that still holds its stall stays open.
async fn feed_ends(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let holders = stall_holders(&app).await;
    let mut tokens = holders.values();
    let (first, second, third) = (
        tokens.next().expect("a stall").clone(),
        tokens.next().expect("two").clone(),
        tokens.next().expect("three").clone(),
    );
    let phone_of = |token: &str| {
        let app = &app;
        let token = token.to_owned();
        async move { app.get("/api/v1/me", Some(&token)).await.body["phone"].as_str().expect("phone").to_owned() }
    };
    let second_phone = phone_of(&second).await;
    let mut logged_out = Feed::open(&app, &first).await;
    let mut demoted = Feed::open(&app, &second).await;
    let mut kept = Feed::open(&app, &third).await;
    assert_eq!(app.post("/api/v1/auth/logout", &json!({}), Some(&first)).await.status, 204);
    let r = app
        .put(&format!("/api/v1/admin/users/{second_phone}/roles"), &json!({ "roles": ["resident"] }), Some(&staff))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for feed in [&mut logged_out, &mut demoted] {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, feed.response.chunk()).await {
                Ok(Ok(Some(bytes))) => feed.text.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) => break,
                other => panic!("the feed did not end ({other:?}); so far: {}", feed.text),
            }
        }
        assert!(feed.text.contains("event: ended"), "{}", feed.text);
    }
    assert!(!kept.within(std::time::Duration::from_millis(200)).await.contains("event: ended"));
    assert_eq!(app.get("/api/v1/vendor/events", Some(&second)).await.status, 403, "no stall, no feed");
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

/// A console's open feed (`GET /vendor/events`): the text read so far.
struct Feed {
    response: reqwest::Response,
    text: String,
}

impl Feed {
    async fn open(app: &TestApp, token: &str) -> Feed {
        let response =
            app.client.get(app.url("/api/v1/vendor/events")).bearer_auth(token).send().await.expect("feed opens");
        assert_eq!(response.status(), 200);
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        let mut feed = Feed { response, text: String::new() };
        feed.until(|t| t.contains("event: ready")).await;
        feed
    }

    /// Reads until `done` holds of what came (at most 10 s, then fails).
    async fn until(&mut self, done: impl Fn(&str) -> bool) -> &str {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done(&self.text) {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.text.push_str(&String::from_utf8_lossy(&bytes)),
                other => panic!("the feed ended or stayed silent ({other:?}); so far: {}", self.text),
            }
        }
        &self.text
    }

    /// What came within `wait` (for what must not come).
    async fn within(&mut self, wait: std::time::Duration) -> &str {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok(Some(bytes))) = tokio::time::timeout_at(deadline, self.response.chunk()).await {
            self.text.push_str(&String::from_utf8_lossy(&bytes));
        }
        &self.text
    }
}

/// The `data` of each `order` event read so far.
fn order_events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter(|e| e.lines().any(|l| l == "event: order"))
        .filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).expect("event data is JSON"))
        .collect()
}

async fn live_feed(db: Db) {
    // On PostgreSQL the consoles listen to a second server process: orders placed through the
    // first reach them through the shared database.
    let (config, schema) = test_config(db).await;
    let app = start(config.clone(), db, schema).await;
    let second = if db == Db::Postgres { Some(start_process(SERVER_BIN, &config, db).await) } else { None };
    let listen = second.as_ref().unwrap_or(&app);
    let holders = stall_holders(&app).await;
    let (cabbage, banana) = (product(&app, "大白菜").await, product(&app, "香蕉").await);
    let cabbage_stall = holders[&cabbage["vendor_id"].as_i64().expect("vendor")].clone();
    let banana_stall = holders[&banana["vendor_id"].as_i64().expect("vendor")].clone();
    let (&idle_id, idle_stall) = holders
        .iter()
        .find(|(v, _)| {
            **v != cabbage["vendor_id"].as_i64().unwrap_or(0) && **v != banana["vendor_id"].as_i64().unwrap_or(0)
        })
        .expect("a third stall");
    assert!(idle_id > 0);

    // Only stall holders listen; a resident is refused.
    let (resident, _) = app.login("13900000002").await;
    assert_eq!(app.get("/api/v1/vendor/events", Some(&resident)).await.status, 403);
    assert_eq!(app.get("/api/v1/vendor/events", None).await.status, 401);

    let mut consoles = Vec::new();
    for token in [&cabbage_stall, &cabbage_stall, &banana_stall] {
        consoles.push(Feed::open(listen, token).await);
    }
    let mut idle = Feed::open(listen, idle_stall).await;

    // An order with both stalls: each of their consoles hears of it, with its own part.
    let (_, order, _, _) = two_stall_order(&app).await;
    let cabbage_part = part_of(&app, &cabbage_stall, &order).await;
    let banana_part = part_of(&app, &banana_stall, &order).await;
    for (feed, part) in consoles.iter_mut().zip([&cabbage_part, &cabbage_part, &banana_part]) {
        let text = feed.until(|t| t.contains("event: order")).await.to_owned();
        let events = order_events(&text);
        assert_eq!(events.len(), 1, "{text}");
        assert_eq!(events[0]["order_id"], order["id"]);
        assert_eq!(events[0]["part_id"], part["id"]);
        assert_eq!(events[0]["slot_id"], order["slot_id"]);
        assert_eq!(events[0]["status"], "placed");
    }

    // A step on the order (the banana stall confirms) is heard by both its stalls.
    let r = app
        .post(&format!("/api/v1/vendor/orders/{}/confirm", banana_part["id"]), &json!({}), Some(&banana_stall))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&cabbage_stall)).await;
    assert_eq!(seen.status, 404, "a stall does not read the resident's order");
    // The order is confirmed only when both have confirmed: confirm the cabbage part too.
    let r = app
        .post(&format!("/api/v1/vendor/orders/{}/confirm", cabbage_part["id"]), &json!({}), Some(&cabbage_stall))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for feed in consoles.iter_mut() {
        let text = feed.until(|t| order_events(t).iter().any(|e| e["status"] == "confirmed")).await.to_owned();
        assert_eq!(order_events(&text).len(), 2, "{text}");
    }

    // A stall the order has nothing at hears nothing of it.
    let text = idle.within(std::time::Duration::from_millis(1500)).await;
    assert!(order_events(text).is_empty(), "{text}");
}
