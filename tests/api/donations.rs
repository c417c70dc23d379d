//! The donation pool through HTTP on both databases: residents give money or 菜盒子 and pay
//! with WeChat Pay (the simulator), staff record an organisation's gift and pay flagged
//! households' orders from the pool; the household pays nothing and is not told who gave; money
//! a pool-paid order gives back returns to the gifts that paid it; the ledger balances, and
//! concurrent allocations never take the pool below zero.

use serde_json::{json, Value};
use tests::{join_all, on_both_databases, start, test_config, Db, TestApp};

on_both_databases! {
    gifts_pay_flagged_households_orders_and_the_ledger_balances => gifts_and_allocations;
    allocations_at_once_never_take_the_pool_below_zero => concurrent_allocations;
    staff_send_a_pool_paid_box_to_a_flagged_household => gift_box;
}

const STAFF: &str = "13800000000";

/// A resident living at 3-1-`room` with an order of `cabbages` 大白菜 (paid on delivery unless
/// `wechat`): (token, order, household id).
async fn household_order(
    app: &TestApp,
    staff: &str,
    phone: &str,
    room: &str,
    cabbages: i64,
    wechat: bool,
) -> (String, Value, i64) {
    let slot = app.open_slot(staff, 50, 0, 24).await;
    let (token, _) = app.login(phone).await;
    app.put_in_cart(&token, app.product_id("大白菜").await, cabbages).await;
    let payment = if wechat { "wechat" } else { "on_delivery" };
    let body =
        json!({ "slot_id": slot["id"], "payment": payment, "address": { "building": "3", "unit": "1", "room": room } });
    let r = app.checkout(&token, &format!("give-{phone}"), &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let me = app.get("/api/v1/me", Some(&token)).await.body;
    let household = me["household"]["id"].as_i64().expect("a household");
    (token, r.body, household)
}

async fn flag(app: &TestApp, staff: &str, household: i64, flags: Value) {
    let r = app.patch(&format!("/api/v1/admin/households/{household}"), &flags, Some(staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn ledger(app: &TestApp, staff: &str) -> Value {
    let r = app.get("/api/v1/admin/donations/ledger", Some(staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// Every line's balance follows from the one before, never below zero; the last is the pool's.
pub(crate) fn assert_balances(ledger: &Value) -> i64 {
    let mut balance = 0;
    for e in ledger["entries"].as_array().expect("entries") {
        balance += e["amount_fen"].as_i64().expect("amount");
        assert!(balance >= 0, "never below zero: {e}");
        assert_eq!(e["balance_fen"].as_i64(), Some(balance), "{e}");
    }
    assert_eq!(ledger["balance_fen"].as_i64(), Some(balance), "the pool is the ledger's sum");
    balance
}

async fn my_gifts(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/me/donations", Some(token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

/// Gives `body` and pays it through the demo phone: the gift.
async fn give_and_pay(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/api/v1/donations", body, Some(token)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending_payment");
    let gift = r.body;
    let params = app.post(&format!("/api/v1/donations/{}/pay", gift["id"]), &json!({}), Some(token)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &params.body, None).await.status, 200);
    gift
}

async fn gifts_and_allocations(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    config.expiry_interval = std::time::Duration::from_millis(200);
    let app = start(config, db, schema).await;
    let (staff, _) = app.login(STAFF).await;
    let (donor, _) = app.login("13900000601").await;
    // The demo market starts with a gift from the community's fund.
    let start = app.get("/api/v1/donations/pool", None).await.body;
    let base = start["balance_fen"].as_i64().expect("balance");
    let base_gifts = start["gifts"].as_i64().expect("gifts");
    assert_eq!(assert_balances(&ledger(&app, &staff).await), base);

    // Bad gifts change nothing.
    let box_id = app.product_id("菜盒子·家常装").await;
    let cabbage = app.product_id("大白菜").await;
    for (bad, why) in [
        (json!({ "amount_fen": 99 }), "under ¥1"),
        (json!({ "amount_fen": 5000, "boxes": 1, "product_id": box_id }), "both"),
        (json!({}), "neither"),
        (json!({ "boxes": 0, "product_id": box_id }), "no boxes"),
        (json!({ "boxes": 2, "product_id": cabbage }), "not a 菜盒子"),
        (json!({ "boxes": 2 }), "which box"),
    ] {
        let r = app.post("/api/v1/donations", &bad, Some(&donor)).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{why}: {:?}", r.body);
    }
    assert_eq!(app.post("/api/v1/donations", &json!({ "amount_fen": 5000 }), None).await.status, 401);
    assert!(my_gifts(&app, &donor).await.is_empty());

    // ¥50 given and paid through WeChat Pay (the simulator notifies this server).
    let gift = give_and_pay(&app, &donor, &json!({ "amount_fen": 5000 })).await;
    let path = format!("/api/v1/donations/{}/pay", gift["id"]);
    let (stranger, _) = app.login("13900000609").await;
    assert_eq!(app.post(&path, &json!({}), Some(&stranger)).await.status, 404, "only the giver pays it");
    let r = app.post(&path, &json!({}), Some(&donor)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "paid already");
    let mine = my_gifts(&app, &donor).await;
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0]["status"].as_str(), mine[0]["spent_fen"].as_i64()), (Some("received"), Some(0)));
    // Two 菜盒子 at the box's price.
    let box_price =
        app.get(&format!("/api/v1/products/{box_id}"), None).await.body["price_fen"].as_i64().expect("price");
    let boxes = give_and_pay(&app, &donor, &json!({ "boxes": 2, "product_id": box_id })).await;
    assert_eq!(boxes["amount_fen"].as_i64(), Some(2 * box_price));
    assert_eq!(boxes["boxes"], 2);
    // An organisation's transfer, recorded by staff: in the pool at once.
    let org = json!({ "donor_name": "振大社区爱心基金", "amount_fen": 20000, "note": "转账 20261202" });
    assert_eq!(app.post("/api/v1/admin/donations", &org, Some(&donor)).await.status, 403);
    let r = app.post("/api/v1/admin/donations", &json!({ "donor_name": " ", "amount_fen": 20000 }), Some(&staff)).await;
    assert_eq!(r.status, 400);
    let r = app.post("/api/v1/admin/donations", &org, Some(&staff)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (201, Some("received")), "{:?}", r.body);
    let book = ledger(&app, &staff).await;
    assert_eq!(assert_balances(&book), base + 5000 + 2 * box_price + 20000);
    let pool = app.get("/api/v1/donations/pool", None).await.body;
    assert_eq!(pool["balance_fen"].as_i64(), Some(base + 5000 + 2 * box_price + 20000));
    assert_eq!(pool["gifts"].as_i64(), Some(base_gifts + 3));

    // A household's order paid on delivery: not flagged, not helped.
    // Bigger than the demo's gift, so the oldest gift pays first and the donor's pays the rest.
    let (resident, order, household) = household_order(&app, &staff, "13900000611", "611", 99, false).await;
    let allocate = |order: &Value| json!({ "order_id": order["id"] });
    let r = app.post("/api/v1/admin/donations/allocations", &allocate(&order), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (403, "not_eligible"), "{:?}", r.body);
    let needs = app.get("/api/v1/admin/donations/needs", Some(&staff)).await.body;
    assert!(!needs["items"].as_array().expect("items").iter().any(|n| n["order_id"] == order["id"]));
    assert_eq!(app.get("/api/v1/admin/donations/needs", Some(&resident)).await.status, 403);
    // Quarantined: on the list, and paid by the pool.
    flag(&app, &staff, household, json!({ "quarantined": true })).await;
    let needs = app.get("/api/v1/admin/donations/needs", Some(&staff)).await.body;
    let listed = needs["items"].as_array().expect("items").iter().find(|n| n["order_id"] == order["id"]).cloned();
    assert_eq!(listed.expect("listed")["quarantined"], true);
    assert_eq!(app.post("/api/v1/admin/donations/allocations", &allocate(&order), Some(&resident)).await.status, 403);
    let r = app.post("/api/v1/admin/donations/allocations", &allocate(&order), Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let total = order["total_fen"].as_i64().expect("total");
    assert_eq!(r.body["amount_fen"].as_i64(), Some(total));
    let r = app.post("/api/v1/admin/donations/allocations", &allocate(&order), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "paid once");
    // The household sees its order paid by donations, and nothing of who gave.
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(&resident)).await;
    assert_eq!((seen.body["status"].as_str(), seen.body["paid_by_donations"].as_bool()), (Some("paid"), Some(true)));
    let text = seen.body.to_string();
    assert!(!text.contains("0601") && !text.contains("爱心基金"), "the household is not told who gave: {text}");
    // The oldest gift paid first: the donor's ¥50 became this box.
    let mine = my_gifts(&app, &donor).await;
    let first = mine.iter().find(|g| g["id"] == gift["id"]).expect("the first gift");
    assert!(base < total && total - base <= 5000, "the order needs the demo's gift and part of the donor's");
    assert_eq!(first["spent_fen"].as_i64(), Some(total - base));
    assert_eq!(first["boxes_delivered"], 1);
    assert_eq!(assert_balances(&ledger(&app, &staff).await), base + 5000 + 2 * box_price + 20000 - total);
    assert_eq!(app.get("/api/v1/donations/pool", None).await.body["households_helped"], 1);

    // Cancelled: the money goes back to the pool (the job settles it), to the same gift.
    let r = app.post(&format!("/api/v1/orders/{}/cancel", order["id"]), &json!({}), Some(&resident)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let book = loop {
        let book = ledger(&app, &staff).await;
        if book["entries"].as_array().is_some_and(|e| e.iter().any(|e| e["kind"] == "return")) {
            break book;
        }
        assert!(std::time::Instant::now() < deadline, "the return was never settled: {book}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(assert_balances(&book), base + 5000 + 2 * box_price + 20000);
    let kinds: Vec<&str> =
        book["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds[kinds.len() - 5..], ["gift", "gift", "gift", "allocation", "return"]);
    let mine = my_gifts(&app, &donor).await;
    let first = mine.iter().find(|g| g["id"] == gift["id"]).expect("the first gift");
    assert_eq!((first["spent_fen"].as_i64(), first["boxes_delivered"].as_i64()), (Some(0), Some(0)));
    assert_eq!(seen_refunds(&app, &resident, &order).await, 0, "nothing goes to the household's WeChat");

    // A hardship household's order waiting for WeChat payment: the pool pays it; money the
    // resident then pays anyway is owed back to them.
    let (hardship, waiting, household) = household_order(&app, &staff, "13900000612", "612", 1, true).await;
    flag(&app, &staff, household, json!({ "hardship": true })).await;
    let params = app.post(&format!("/api/v1/orders/{}/pay", waiting["id"]), &json!({}), Some(&hardship)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    let r = app.post("/api/v1/admin/donations/allocations", &allocate(&waiting), Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &params.body, None).await.status, 200);
    let seen = app.get(&format!("/api/v1/orders/{}", waiting["id"]), Some(&hardship)).await.body;
    assert_eq!(seen["status"], "paid");
    let refunds: Vec<(i64, &str)> = seen["refunds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["amount_fen"].as_i64().unwrap_or(0), r["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(refunds, vec![(waiting["total_fen"].as_i64().unwrap_or(0), "second_payment")]);

    // The ledger as a spreadsheet.
    let r =
        app.client.get(app.url("/api/v1/admin/donations/ledger.csv")).bearer_auth(&staff).send().await.expect("csv");
    assert_eq!(r.status(), 200);
    let csv = r.text().await.expect("text");
    assert!(csv.starts_with('\u{FEFF}'), "a BOM for spreadsheets");
    assert_eq!(csv.lines().count(), 1 + kinds.len() + 1, "{csv}");
    assert!(csv.contains("振大社区爱心基金") && csv.contains("居民 139****0601"), "{csv}");
    let r = app.get("/api/v1/admin/donations/ledger.csv?from=2026-13-01", Some(&staff)).await;
    assert_eq!(r.status, 400);
    assert_eq!(app.get("/api/v1/admin/donations/ledger", Some(&donor)).await.status, 403);
}

async fn seen_refunds(app: &TestApp, token: &str, order: &Value) -> usize {
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(token)).await.body;
    seen["refunds"].as_array().map_or(0, Vec::len)
}

async fn concurrent_allocations(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    let app = start(config, db, schema).await;
    let (staff, _) = app.login(STAFF).await;
    let r = app.put("/api/v1/admin/users/13800000009/roles", &json!({ "roles": ["staff"] }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (staff2, _) = app.login("13800000009").await;
    // Ten quarantined households, one order of one 大白菜 each.
    let mut orders = Vec::new();
    for i in 0..10 {
        let (_, order, household) =
            household_order(&app, &staff, &format!("139000007{i:02}"), &format!("7{i:02}"), 60, false).await;
        flag(&app, &staff, household, json!({ "quarantined": true })).await;
        orders.push(order);
    }
    let price = orders[0]["total_fen"].as_i64().expect("total");
    let base = app.get("/api/v1/donations/pool", None).await.body["balance_fen"].as_i64().expect("balance");
    assert!(base < price * 10, "the demo's pool alone must not pay all ten: {base} {price}");
    let already = base / price;
    // With the demo's gift, the pool holds three and a half orders more, from two gifts.
    for (name, fen) in [("甲单位", price * 2), ("乙单位", price + price / 2)] {
        let r =
            app.post("/api/v1/admin/donations", &json!({ "donor_name": name, "amount_fen": fen }), Some(&staff)).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    // Two staff press "pay from the pool" for all ten at once, and for the first five times more.
    let bodies: Vec<Value> = orders
        .iter()
        .map(|o| json!({ "order_id": o["id"] }))
        .chain((0..5).map(|_| json!({ "order_id": orders[0]["id"] })))
        .collect();
    let presses = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            app.post("/api/v1/admin/donations/allocations", b, Some(if i % 2 == 0 { &staff } else { &staff2 }))
        })
        .collect();
    let replies = join_all(presses).await;
    let paid = replies.iter().filter(|r| r.status == 201).count();
    let short = replies.iter().filter(|r| r.status == 409 && r.error_code() == "pool_short").count();
    let twice = replies.iter().filter(|r| r.status == 409 && r.error_code() == "wrong_state").count();
    let expected = ((base % price) + price * 2 + price + price / 2) / price + already;
    assert_eq!(paid as i64, expected.min(10), "{replies:?}");
    assert_eq!(paid + short + twice, replies.len(), "{replies:?}");
    let book = ledger(&app, &staff).await;
    let left = base + price * 3 + price / 2 - paid as i64 * price;
    assert!(left >= 0 && left < price, "as many as the pool could pay: {left}");
    assert_eq!(assert_balances(&book), left);
    let allocations = book["entries"].as_array().expect("entries").iter().filter(|e| e["kind"] == "allocation").count();
    assert_eq!(allocations, paid);
    // Exactly three orders left the list of needs.
    let needs = app.get("/api/v1/admin/donations/needs", Some(&staff)).await.body;
    let listed = needs["items"].as_array().expect("items");
    let helped = orders.iter().filter(|o| !listed.iter().any(|n| n["order_id"] == o["id"])).count();
    assert_eq!(helped, paid);
}

async fn pool_balance(app: &TestApp) -> Option<i64> {
    app.get("/api/v1/donations/pool", None).await.body["balance_fen"].as_i64()
}

/// 送爱心菜盒: staff send a 菜盒子 to a quarantined or hardship household, paid by the pool: an
/// order of the household's member, placed through the checkout, paid once however often staff
/// press, told to the household; refused for a household not flagged, for what is not a box, and
/// for anyone but staff.
async fn gift_box(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    let app = start(config, db, schema).await;
    let (staff, _) = app.login(STAFF).await;
    let (resident, _, household) = household_order(&app, &staff, "13900000621", "621", 1, false).await;
    let slot = app.open_slot(&staff, 20, 0, 30).await;
    let box_id = app.product_id("菜盒子·家常装").await;
    let box_price = app.get(&format!("/api/v1/products/{box_id}"), None).await.body["price_fen"].as_i64();
    let path = format!("/api/v1/admin/households/{household}/gift-box");
    let body = json!({ "product_id": box_id, "slot_id": slot["id"] });
    let before = pool_balance(&app).await;

    let r = app.post(&path, &body, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (403, "not_eligible"), "not flagged: {:?}", r.body);
    flag(&app, &staff, household, json!({ "hardship": true })).await;
    assert_eq!(app.post(&path, &body, Some(&resident)).await.status, 403, "staff only");
    let cabbage = app.product_id("大白菜").await;
    let r = app.post(&path, &json!({ "product_id": cabbage, "slot_id": slot["id"] }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "not a box");
    let r = app.post("/api/v1/admin/households/999999/gift-box", &body, Some(&staff)).await;
    assert_eq!(r.status, 404);
    assert_eq!(pool_balance(&app).await, before, "nothing refused took anything");

    let r = app.post(&path, &body, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["paid_by_donations"], true);
    assert!(r.body.get("handoff_code").is_none(), "the household's code is not staff's");
    let order = r.body["id"].clone();
    // Pressed again: the same order, paid once.
    let again = app.post(&path, &body, Some(&staff)).await;
    assert_eq!((again.status, again.body["id"].clone()), (201, order.clone()), "{:?}", again.body);
    assert_eq!(pool_balance(&app).await, before.zip(box_price).map(|(b, p)| b - p));
    // The household sees it, paid, with its code, and is told.
    let seen = app.get(&format!("/api/v1/orders/{order}"), Some(&resident)).await.body;
    assert_eq!((seen["paid_by_donations"].clone(), seen["status"].clone()), (json!(true), json!("paid")), "{seen}");
    assert!(seen["handoff_code"].is_string());
    assert_eq!(seen["items"][0]["product_id"], box_id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let notices = app.get("/api/v1/me/notices", Some(&resident)).await.body;
        if notices["items"]
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n["kind"] == "gift_box" && n["order_id"] == order))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no notice: {notices}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // An elderly couple nobody has signed up for: a flat with only the committee's phone on the
    // register. Without a phone there, staff are told to add one; with one, the box goes to the
    // account that phone gets, at the flat's door, and is there at its first login.
    let url = app.url("/api/v1/admin/households/register/import?dry_run=false");
    let sheet = "楼号,单元,室,手机\n2,1,701,13900000777\n";
    let req = app.client.post(url).bearer_auth(&staff).header("Content-Type", "text/csv").body(sheet);
    assert_eq!(app.send(req).await.status, 200);
    let found = app.get("/api/v1/admin/households?building=2&unit=1&room=701", Some(&staff)).await.body;
    let flat = found["items"][0]["id"].as_i64().expect("the flat the register made");
    flag(&app, &staff, flat, json!({ "quarantined": true })).await;
    let path = format!("/api/v1/admin/households/{flat}/gift-box");
    let r = app.put(&format!("/api/v1/admin/households/{flat}/register"), &json!({ "phones": [] }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post(&path, &body, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "no phone on the register: {:?}", r.body);
    let r = app
        .put(&format!("/api/v1/admin/households/{flat}/register"), &json!({ "phones": ["13900000777"] }), Some(&staff))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post(&path, &body, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let theirs = r.body["id"].clone();
    assert_eq!(r.body["address"], json!({ "building": "2", "unit": "1", "room": "701", "community": "七里山小区" }));
    let (elder, me) = app.login("13900000777").await;
    assert_eq!(me["household"]["id"].as_i64(), Some(flat), "{me}");
    let seen = app.get(&format!("/api/v1/orders/{theirs}"), Some(&elder)).await.body;
    assert_eq!((seen["paid_by_donations"].clone(), seen["status"].clone()), (json!(true), json!("paid")), "{seen}");
}
