//! Nothing acknowledged is lost in a crash, beyond checkouts (rush.rs has those): the server
//! process is killed (SIGKILL) while group-buy joins, stall confirmations, payments from the
//! donation pool and WeChat Pay's payment notifications are under way, then again while hand-offs and the group-buy's close are; after
//! each restart on the same database every change that was answered 200, 201 or 204 is there, and the
//! market's books still add up (stock and the group-buy's set-aside, places booked, shares within
//! the maximum, one order per share, the pool's ledger).

use crate::SERVER_BIN;
use serde_json::{json, Value};
use tests::{on_both_databases, start, start_process, test_config, Db, TestApp};
use tokio::sync::mpsc;

on_both_databases! {
    a_server_killed_mid_joins_confirmations_hand_offs_and_close_loses_nothing_acknowledged => killed;
}

const STAFF: &str = "13800000000";
const VOLUNTEER: &str = "13800000201";
const RESIDENTS: usize = 24;
/// Residents 0.. of these live in quarantined flats whose orders the pool pays.
const HELPED: usize = 8;
/// Residents of building 6 whose orders wait for WeChat payment.
const PAYERS: usize = 6;
const START_STOCK: i64 = 1000;

/// Runs the requests all at once and kills the server once `kill_after` have been answered 200;
/// returns, for each, its answer (none: the crash took it).
async fn crash_during(
    app: &mut TestApp,
    requests: Vec<reqwest::RequestBuilder>,
    kill_after: usize,
) -> Vec<Option<(u16, Value)>> {
    let (yes, mut heard) = mpsc::unbounded_channel::<()>();
    let running: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let yes = yes.clone();
            tokio::spawn(async move {
                let reply = req.send().await.ok()?;
                let status = reply.status().as_u16();
                let text = reply.text().await.ok()?;
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if matches!(status, 200 | 201 | 204) {
                    let _ = yes.send(());
                }
                Some((status, body))
            })
        })
        .collect();
    for _ in 0..kill_after {
        if heard.recv().await.is_none() {
            break;
        }
    }
    app.kill();
    let mut answers = Vec::new();
    for r in running {
        answers.push(r.await.expect("request task"));
    }
    answers
}

fn acked(answers: &[Option<(u16, Value)>]) -> Vec<usize> {
    answers.iter().enumerate().filter(|(_, a)| matches!(a, Some((200 | 201 | 204, _)))).map(|(i, _)| i).collect()
}

/// The pool's ledger, checked line by line (donations.rs); returns the balance.
async fn ledger_balance(app: &TestApp, staff: &str) -> i64 {
    crate::donations::assert_balances(&app.get("/api/v1/admin/donations/ledger", Some(staff)).await.body)
}

async fn stock(app: &TestApp, product: i64) -> i64 {
    app.get(&format!("/api/v1/products/{product}"), None).await.body["stock"].as_i64().expect("stock")
}

async fn killed(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.per_ip_per_hour = 100_000;
    let mut first = start_process(SERVER_BIN, &config, db).await;
    let staff = first.login(STAFF).await.0;
    let cabbage = first.product_id("大白菜").await;
    let potatoes = first.product_id("土豆").await;
    for p in [cabbage, potatoes] {
        first.change_product(&staff, p, &json!({ "stock": START_STOCK })).await;
    }
    let vendor = first.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("v");
    let stall_phone = format!("138000001{vendor:02}");
    let slot = first.open_slot(&staff, 200, 0, 30).await;
    let gb_slot = first.open_slot(&staff, 500, 0, 40).await;
    let opening = json!({
        "title": "土豆团购", "buildings": ["5"],
        "items": [{ "product_id": potatoes, "price_fen": 100, "max_quantity": 60, "per_household_limit": 3 }],
        "min_households": 1, "deadline": (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339(),
        "slot_id": gb_slot["id"], "on_shortfall": "proceed",
    });
    let gb = first.post("/api/v1/group-buys", &opening, Some(&staff)).await;
    assert_eq!(gb.status, 201, "{:?}", gb.body);
    let gb = gb.body["id"].as_i64().expect("group-buy");
    let set_aside = START_STOCK - stock(&first, potatoes).await;

    // Residents of building 5, each with an order of one 大白菜.
    let mut residents = Vec::new();
    for i in 0..RESIDENTS {
        let (token, _) = first.login(&format!("137123{:05}", 50_000 + i)).await;
        let home = json!({ "building": "5", "unit": "2", "room": format!("{}", 600 + i) });
        assert_eq!(first.put("/api/v1/me/household", &home, Some(&token)).await.status, 200);
        first.put_in_cart(&token, cabbage, 1).await;
        let body = json!({ "slot_id": slot["id"], "payment": "on_delivery" });
        let r = first.checkout(&token, &format!("crash-{i}"), &body).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        residents.push((
            token,
            r.body["id"].as_i64().expect("id"),
            r.body["handoff_code"].as_str().expect("code").to_owned(),
        ));
    }
    // The first few live in quarantined flats; an organisation's gift fills the pool.
    for (token, _, _) in &residents[..HELPED] {
        let household = first.get("/api/v1/me", Some(token)).await.body["household"]["id"].clone();
        let r = first
            .patch(&format!("/api/v1/admin/households/{household}"), &json!({ "quarantined": true }), Some(&staff))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let gift = json!({ "donor_name": "爱心基金", "amount_fen": 100_000 });
    assert_eq!(first.post("/api/v1/admin/donations", &gift, Some(&staff)).await.status, 201);
    let pool_before = ledger_balance(&first, &staff).await;
    let order_total = first.get(&format!("/api/v1/orders/{}", residents[0].1), Some(&staff)).await.body["total_fen"]
        .as_i64()
        .expect("total");
    // Residents of building 6 whose orders wait for WeChat payment, each asked to pay.
    let sim = backend::wechat::sim_pay::SimPay::new(&config.pay, &config.wechat.appid).expect("the simulator's keys");
    let mut payers = Vec::new();
    for i in 0..PAYERS {
        let (token, _) = first.login(&format!("137123{:05}", 60_000 + i)).await;
        let home = json!({ "building": "6", "unit": "1", "room": format!("{}", 700 + i) });
        assert_eq!(first.put("/api/v1/me/household", &home, Some(&token)).await.status, 200);
        first.put_in_cart(&token, cabbage, 1).await;
        let body = json!({ "slot_id": slot["id"], "payment": "wechat" });
        let r = first.checkout(&token, &format!("pay-{i}"), &body).await;
        assert_eq!(r.body["status"], "pending_payment", "{:?}", r.body);
        let order = r.body;
        assert_eq!(
            first.post(&format!("/api/v1/orders/{}/pay", order["id"]), &json!({}), Some(&token)).await.status,
            200
        );
        payers.push((token, order));
    }
    let notification = |order: &Value| {
        let total = order["total_fen"].as_i64().expect("total");
        let paid = crate::payments::transaction(&sim, order, total, &format!("42000{}", order["id"]));
        sim.notification(&paid).expect("a notification")
    };
    let (stall, _) = first.login(&stall_phone).await;
    let parts = first.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    // Each resident's part, in the residents' order.
    let parts: Vec<i64> = residents
        .iter()
        .map(|(_, order, _)| {
            let items = parts["items"].as_array().expect("parts");
            items.iter().find(|p| p["order_id"] == *order).and_then(|p| p["id"].as_i64()).expect("a part")
        })
        .collect();

    // 1. Joins and confirmations at once; the process dies halfway.
    let quantity = |i: usize| 1 + (i % 3) as i64;
    let mut requests = Vec::new();
    for (i, (token, _, _)) in residents.iter().enumerate() {
        let share = json!({ "items": [{ "product_id": potatoes, "quantity": quantity(i) }] });
        requests.push(
            first.client.put(first.url(&format!("/api/v1/group-buys/{gb}/share"))).bearer_auth(token).json(&share),
        );
    }
    // The stalls confirm the parts of the others' orders while the pool pays the helped ones.
    for part in &parts[HELPED..] {
        let url = first.url(&format!("/api/v1/vendor/orders/{part}/confirm"));
        requests.push(first.client.post(url).bearer_auth(&stall).json(&json!({})));
    }
    for (_, order, _) in &residents[..HELPED] {
        let url = first.url("/api/v1/admin/donations/allocations");
        requests.push(first.client.post(url).bearer_auth(&staff).json(&json!({ "order_id": order })));
    }
    for (_, order) in &payers {
        let (headers, body) = notification(order);
        let mut req = first.client.post(first.url("/api/v1/pay/notify")).header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        requests.push(req.body(body));
    }
    let answers = crash_during(&mut first, requests, RESIDENTS / 2).await;
    let said_yes = acked(&answers);
    let kinds = |from: usize, to: usize| said_yes.iter().filter(|n| (from..to).contains(*n)).count();
    eprintln!(
        "phase 1: answered before the kill: {} of {RESIDENTS} joins, {} of {} confirmations, {} of {HELPED} pool payments",
        kinds(0, RESIDENTS),
        kinds(RESIDENTS, 2 * RESIDENTS - HELPED),
        RESIDENTS - HELPED,
        kinds(2 * RESIDENTS - HELPED, 2 * RESIDENTS)
    );
    eprintln!("phase 1: {} of {PAYERS} payment notifications", kinds(2 * RESIDENTS, answers.len()));

    // The logins made before the crash still hold.
    let mut second = start_process(SERVER_BIN, &config, db).await;
    for &n in &said_yes {
        if n < RESIDENTS {
            let seen = second.get(&format!("/api/v1/group-buys/{gb}"), Some(&residents[n].0)).await.body;
            assert_eq!(seen["my_share"]["items"][0]["quantity"], quantity(n), "an acknowledged join was lost: {seen}");
        } else if n < 2 * RESIDENTS - HELPED {
            let order = residents[n - RESIDENTS + HELPED].1;
            let seen = second.get(&format!("/api/v1/orders/{order}"), Some(&staff)).await.body;
            assert_eq!(seen["status"], "confirmed", "an acknowledged confirmation was lost: {seen}");
        } else if n >= 2 * RESIDENTS {
            let (token, order) = &payers[n - 2 * RESIDENTS];
            let seen = second.get(&format!("/api/v1/orders/{}", order["id"]), Some(token)).await.body;
            assert_eq!(seen["status"], "paid", "an acknowledged payment notification was lost: {seen}");
        } else {
            let order = residents[n - (2 * RESIDENTS - HELPED)].1;
            let seen = second.get(&format!("/api/v1/orders/{order}"), Some(&staff)).await.body;
            assert_eq!(seen["paid_by_donations"], true, "an acknowledged pool payment was lost: {seen}");
        }
    }
    // WeChat Pay sends its notifications again: each order paid, once.
    for (token, order) in &payers {
        let (headers, body) = notification(order);
        let mut req = second.client.post(second.url("/api/v1/pay/notify")).header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        assert_eq!(req.body(body).send().await.expect("sent").status().as_u16(), 204);
        let seen = second.get(&format!("/api/v1/orders/{}", order["id"]), Some(token)).await.body;
        let paid = seen["timeline"].as_array().map_or(0, |t| t.iter().filter(|e| e["status"] == "paid").count());
        assert_eq!((&seen["status"], paid), (&json!("paid"), 1), "{seen}");
    }
    // The pool paid each helped order at most once, and its ledger balances.
    let mut paid_by_pool = 0;
    for (_, order, _) in &residents[..HELPED] {
        let r = second.post("/api/v1/admin/donations/allocations", &json!({ "order_id": order }), Some(&staff)).await;
        assert!(r.status == 201 || (r.status == 409 && r.error_code() == "wrong_state"), "{:?}", r.body);
        paid_by_pool += 1;
    }
    assert_eq!(ledger_balance(&second, &staff).await, pool_before - paid_by_pool * order_total, "each order paid once");
    // Whatever did not get through is pressed again, as the phones would.
    for (i, (token, _, _)) in residents.iter().enumerate() {
        let share = json!({ "items": [{ "product_id": potatoes, "quantity": quantity(i) }] });
        let r = second.put(&format!("/api/v1/group-buys/{gb}/share"), &share, Some(token)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    for part in &parts {
        for step in ["confirm", "packed"] {
            let r = second.post(&format!("/api/v1/vendor/orders/{part}/{step}"), &json!({}), Some(&stall)).await;
            assert!(r.status == 200 || (step == "confirm" && r.status == 409), "{step}: {:?}", r.body);
        }
    }
    let detail = second.get(&format!("/api/v1/group-buys/{gb}"), Some(&staff)).await.body;
    let joined: i64 = (0..RESIDENTS).map(quantity).sum();
    assert_eq!(detail["items"][0]["joined_quantity"], joined, "{detail}");
    assert_eq!(detail["joined_households"], RESIDENTS);
    assert_eq!(
        stock(&second, cabbage).await,
        START_STOCK - (RESIDENTS + PAYERS) as i64,
        "cabbage: stock + sold = start"
    );
    assert_eq!(stock(&second, potatoes).await, START_STOCK - set_aside, "joins take from the set-aside only");

    // 2. Hand-offs and the group-buy's close at once; the process dies again.
    let volunteer = second.login(VOLUNTEER).await.0;
    let list = second.get(&format!("/api/v1/batches?slot_id={}", slot["id"]), Some(&volunteer)).await.body;
    let batch = list["items"].as_array().expect("items").iter().find(|b| b["building"] == "5").cloned().expect("batch");
    for step in ["claim", "pickup"] {
        let r = second.post(&format!("/api/v1/batches/{}/{step}", batch["id"]), &json!({}), Some(&volunteer)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    let mut requests = Vec::new();
    for (_, order, code) in &residents {
        let url = second.url(&format!("/api/v1/orders/{order}/handoff"));
        requests.push(second.client.post(url).bearer_auth(&volunteer).json(&json!({ "code": code })));
    }
    requests.push(
        second.client.post(second.url(&format!("/api/v1/group-buys/{gb}/close"))).bearer_auth(&staff).json(&json!({})),
    );
    let answers = crash_during(&mut second, requests, RESIDENTS / 2).await;
    let said_yes = acked(&answers);
    eprintln!("phase 2: {} of {} answered 200 before the kill", said_yes.len(), answers.len());

    let third = start(config, db, schema).await;
    for &n in &said_yes {
        if n < RESIDENTS {
            let seen = third.get(&format!("/api/v1/orders/{}", residents[n].1), Some(&staff)).await.body;
            assert_eq!(seen["status"], "delivered", "an acknowledged hand-off was lost: {seen}");
        } else {
            let seen = third.get(&format!("/api/v1/group-buys/{gb}"), Some(&staff)).await.body;
            assert_eq!(seen["status"], "confirmed", "an acknowledged close was lost: {seen}");
        }
    }
    // Closing again gives the same group-buy and makes nothing twice: one order per share.
    let r = third.post(&format!("/api/v1/group-buys/{gb}/close"), &json!({}), Some(&staff)).await;
    assert_eq!((r.status, &r.body["status"]), (200, &json!("confirmed")), "{:?}", r.body);
    for (i, (token, _, _)) in residents.iter().enumerate() {
        let mine = third.get("/api/v1/orders", Some(token)).await.body;
        let from_gb: Vec<&Value> =
            mine["items"].as_array().expect("items").iter().filter(|o| o["group_buy_id"] == gb).collect();
        assert_eq!(from_gb.len(), 1, "resident {i}: one order for their share: {mine}");
        let order = third.get(&format!("/api/v1/orders/{}", from_gb[0]["id"]), Some(token)).await.body;
        assert_eq!(order["items"][0]["quantity"], quantity(i), "{order}");
    }
    assert_eq!(stock(&third, potatoes).await, START_STOCK - joined, "the set-aside not joined went back to stock");
    assert_eq!(stock(&third, cabbage).await, START_STOCK - (RESIDENTS + PAYERS) as i64);
    let slots = third.get("/api/v1/slots", None).await.body;
    let booked = |id: &Value| {
        slots["items"].as_array().expect("items").iter().find(|s| s["id"] == *id).map(|s| s["booked"].clone())
    };
    assert_eq!(booked(&slot["id"]), Some(json!(RESIDENTS + PAYERS)), "places booked = orders");
}
