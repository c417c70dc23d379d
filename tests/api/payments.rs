//! WeChat Pay through HTTP on both databases: the parameters for `wx.requestPayment` (signed
//! with the merchant key), the demo phone paying through the simulator, and notifications:
//! only a verified, matching one pays the order, once; forged, altered, replayed-late and
//! wrong-amount ones are refused and change nothing; money for a cancelled order is taken and
//! owed back.

use backend::wechat::{pay, sim_pay::SimPay};
use serde_json::{json, Value};
use tests::{join_all, on_both_databases, start, test_config, Db, TestApp};

on_both_databases! {
    a_resident_pays_with_wechat_and_the_order_is_paid_once => pays;
    only_a_verified_matching_notification_pays_and_only_once => notifications;
    a_lost_notification_is_found_by_asking_and_money_after_expiry_goes_back => lost_and_late;
    shortages_and_cancels_of_paid_orders_are_refunded_through_wechat_pay_once => refunded;
    a_refund_whose_answer_was_lost_is_asked_again_and_made_once => refund_retried;
}

const MERCHANT_PUB: &str = include_str!("../../backend/src/wechat/demo_keys/merchant_pub.pem");

/// A resident's order waiting for WeChat payment: (token, order).
async fn waiting_order(app: &TestApp, phone: &str) -> (String, Value) {
    let (staff, _) = app.login("13800000000").await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let (token, _) = app.login(phone).await;
    app.put_in_cart(&token, app.product_id("大白菜").await, 2).await;
    let body = json!({ "slot_id": slot["id"], "payment": "wechat", "address": { "building": "3", "unit": "1", "room": "101" } });
    let r = app.checkout(&token, &format!("pay-{phone}"), &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "pending_payment");
    (token, r.body)
}

async fn order_of(app: &TestApp, token: &str, order: &Value) -> Value {
    app.get(&format!("/api/v1/orders/{}", order["id"]), Some(token)).await.body
}

/// An order's refunds: (amount, reason), whatever their progress.
fn refunds(order: &Value) -> Vec<(i64, String)> {
    order["refunds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["amount_fen"].as_i64().unwrap_or(0), r["reason"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn paid_steps(order: &Value) -> usize {
    order["timeline"].as_array().map_or(0, |t| t.iter().filter(|e| e["status"] == "paid").count())
}

async fn pays(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    let app = start(config, db, schema).await;
    let (token, order) = waiting_order(&app, "13900000501").await;
    let path = format!("/api/v1/orders/{}/pay", order["id"]);

    // Only the owner; only an order waiting for payment.
    let (other, _) = app.login("13900000502").await;
    assert_eq!(app.post(&path, &json!({}), Some(&other)).await.status, 404);
    assert_eq!(app.post(&path, &json!({}), None).await.status, 401);

    let params = app.post(&path, &json!({}), Some(&token)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    let p = &params.body;
    let package = p["package"].as_str().expect("package");
    assert!(package.starts_with("prepay_id=wx"), "{package}");
    assert_eq!(p["signType"], "RSA");
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        p["appId"].as_str().unwrap_or(""),
        p["timeStamp"].as_str().unwrap_or(""),
        p["nonceStr"].as_str().unwrap_or(""),
        package
    );
    let merchant = pay::public_key(MERCHANT_PUB).expect("key");
    assert!(pay::verify(&merchant, &message, p["paySign"].as_str().unwrap_or("")), "paySign is the merchant's");
    // Pressing "pay" again reuses the prepay.
    let again = app.post(&path, &json!({}), Some(&token)).await;
    assert_eq!(again.body["package"], p["package"]);

    // A tampered paySign is refused by the phone; the real one pays, through the simulator's
    // notification to this server.
    let mut forged = p.clone();
    forged["package"] = json!("prepay_id=wx-someone-else");
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &forged, None).await.status, 400);
    assert_eq!(order_of(&app, &token, &order).await["status"], "pending_payment");
    let r = app.post("/api/v1/demo/wechat-pay", p, None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = order_of(&app, &token, &order).await;
    assert_eq!(seen["status"], "paid", "{seen}");
    assert_eq!(paid_steps(&seen), 1);
    // Paid: no second payment.
    let r = app.post(&path, &json!({}), Some(&token)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    // Cancelled before any stall started on it: only with its refund, owed once.
    let cancel = format!("/api/v1/orders/{}/cancel", order["id"]);
    let r = app.post(&cancel, &json!({}), Some(&token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.post(&cancel, &json!({}), Some(&token)).await.status, 409);
    let seen = order_of(&app, &token, &order).await;
    assert_eq!(seen["status"], "cancelled");
    assert_eq!(refunds(&seen), vec![(order["total_fen"].as_i64().unwrap_or(0), "cancelled".to_owned())]);
    // On delivery orders are not paid this way.
    let (staff, _) = app.login("13800000000").await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    app.put_in_cart(&token, app.product_id("大白菜").await, 1).await;
    let cod = app.checkout(&token, "pay-cod", &json!({ "slot_id": slot["id"], "payment": "on_delivery" })).await;
    let r = app.post(&format!("/api/v1/orders/{}/pay", cod.body["id"]), &json!({}), Some(&token)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
}

/// A transaction as WeChat Pay describes it in a notification.
pub(crate) fn transaction(sim: &SimPay, order: &Value, total: i64, transaction_id: &str) -> Value {
    json!({
        "appid": sim.appid, "mchid": sim.mchid, "out_trade_no": format!("FXS{:08}", order["id"].as_i64().unwrap_or(0)),
        "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": "SUCCESS",
        "success_time": "2026-12-02T10:00:00+08:00",
        "amount": { "total": total, "payer_total": total, "currency": "CNY" },
    })
}

async fn send(app: &TestApp, headers: &std::collections::HashMap<String, String>, body: &str) -> u16 {
    let mut req =
        app.client.post(app.url("/api/v1/pay/notify")).header("Content-Type", "application/json").body(body.to_owned());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.expect("sent").status().as_u16()
}

async fn notifications(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    let sim = SimPay::new(&config.pay, &config.wechat.appid).expect("the simulator's keys");
    let app = start(config, db, schema).await;
    let (token, order) = waiting_order(&app, "13900000511").await;
    // The resident asked to pay: the payment (out_trade_no) is on record.
    assert_eq!(app.post(&format!("/api/v1/orders/{}/pay", order["id"]), &json!({}), Some(&token)).await.status, 200);
    let total = order["total_fen"].as_i64().expect("total");

    // Forged and altered notifications change nothing.
    let (headers, body) = sim.notification(&transaction(&sim, &order, total, "4200000001")).expect("notice");
    let mut wrong_serial = headers.clone();
    wrong_serial.insert("Wechatpay-Serial".into(), "SOMEONE-ELSE".into());
    let mut bad_signature = headers.clone();
    bad_signature.insert(
        "Wechatpay-Signature".into(),
        pay::sign(
            &pay::private_key(include_str!("../../backend/src/wechat/demo_keys/merchant_key.pem")).expect("key"),
            "x",
        ),
    );
    let mut stale = headers.clone();
    stale.insert("Wechatpay-Timestamp".into(), (chrono::Utc::now().timestamp() - 3600).to_string());
    let altered = body.replacen("\"ciphertext\":\"", "\"ciphertext\":\"A", 1);
    for (what, h, b) in [
        ("serial", &wrong_serial, &body),
        ("signature", &bad_signature, &body),
        ("replayed an hour late", &stale, &body),
        ("altered body", &headers, &altered),
    ] {
        assert_eq!(send(&app, h, b).await, 401, "{what}");
    }
    assert!(send(&app, &std::collections::HashMap::new(), &body).await == 401, "unsigned");
    // Signed and sealed properly, but the wrong amount or merchant: refused.
    let (h, b) = sim.notification(&transaction(&sim, &order, total - 1, "4200000001")).expect("notice");
    assert_eq!(send(&app, &h, &b).await, 400, "wrong amount");
    let mut other = transaction(&sim, &order, total, "4200000001");
    other["mchid"] = json!("1900000999");
    let (h, b) = sim.notification(&other).expect("notice");
    assert_eq!(send(&app, &h, &b).await, 400, "another merchant");
    let seen = order_of(&app, &token, &order).await;
    assert_eq!(seen["status"], "pending_payment");

    // The genuine one, 50 times at once (WeChat's retries and duplicates): one transition.
    let sends = (0..50).map(|_| send(&app, &headers, &body)).collect();
    let statuses = join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    let seen = order_of(&app, &token, &order).await;
    assert_eq!(seen["status"], "paid");
    assert_eq!(paid_steps(&seen), 1, "one paid step: {seen}");
    // And again later, re-signed: still nothing new.
    let (h, b) = sim.notification(&transaction(&sim, &order, total, "4200000001")).expect("notice");
    assert_eq!(send(&app, &h, &b).await, 204);
    assert_eq!(paid_steps(&order_of(&app, &token, &order).await), 1);

    // Money for an order cancelled before it came: taken (204, so WeChat stops) and owed back;
    // the order stays cancelled.
    let (token2, late) = waiting_order(&app, "13900000512").await;
    assert_eq!(app.post(&format!("/api/v1/orders/{}/pay", late["id"]), &json!({}), Some(&token2)).await.status, 200);
    let r = app.post(&format!("/api/v1/orders/{}/cancel", late["id"]), &json!({}), Some(&token2)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let late_total = late["total_fen"].as_i64().expect("total");
    let (h, b) = sim.notification(&transaction(&sim, &late, late_total, "4200000002")).expect("notice");
    assert_eq!(send(&app, &h, &b).await, 204);
    assert_eq!(send(&app, &h, &b).await, 204, "a duplicate too");
    let seen = order_of(&app, &token2, &late).await;
    assert_eq!(seen["status"], "cancelled");
    assert_eq!(paid_steps(&seen), 0);
    assert_eq!(refunds(&seen), vec![(late_total, "late_payment".to_owned())]);
    // Staff see what has not come back yet; residents do not.
    let (staff, _) = app.login("13800000000").await;
    let open = app.get("/api/v1/admin/refunds", Some(&staff)).await;
    assert_eq!(open.status, 200, "{:?}", open.body);
    let listed = open.body["items"].as_array().expect("items").iter().find(|r| r["order_id"] == late["id"]).cloned();
    assert_eq!(listed.expect("listed")["reason"], "late_payment");
    assert_eq!(app.get("/api/v1/admin/refunds", Some(&token2)).await.status, 403);
}

async fn lost_and_late(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    config.payment_timeout = std::time::Duration::from_secs(3);
    config.expiry_interval = std::time::Duration::from_millis(200);
    let sim = SimPay::new(&config.pay, &config.wechat.appid).expect("the simulator's keys");
    let app = start(config, db, schema).await;
    let (token, order) = waiting_order(&app, "13900000521").await;
    let (token2, never) = waiting_order(&app, "13900000522").await;
    let params = app.post(&format!("/api/v1/orders/{}/pay", order["id"]), &json!({}), Some(&token)).await.body;
    assert_eq!(app.post(&format!("/api/v1/orders/{}/pay", never["id"]), &json!({}), Some(&token2)).await.status, 200);

    // The phone pays but the notification is lost: the server asks WeChat Pay before the order
    // would expire, and it is paid, not expired.
    let mut lost = params.clone();
    lost["notify"] = json!(false);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &lost, None).await.status, 200);
    assert_eq!(order_of(&app, &token, &order).await["status"], "pending_payment");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (mut paid, mut expired) = (false, false);
    while !(paid && expired) {
        assert!(std::time::Instant::now() < deadline, "paid {paid}, expired {expired}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let seen = order_of(&app, &token, &order).await;
        assert_ne!(seen["status"], "expired", "a paid order must not expire");
        paid = seen["status"] == "paid" && paid_steps(&seen) == 1;
        expired = order_of(&app, &token2, &never).await["status"] == "expired";
    }

    // Money for the order that expired unpaid arrives late: taken, owed back, not paid.
    let total = never["total_fen"].as_i64().expect("total");
    let (h, b) = sim.notification(&transaction(&sim, &never, total, "4200000009")).expect("notice");
    assert_eq!(send(&app, &h, &b).await, 204);
    let seen = order_of(&app, &token2, &never).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(refunds(&seen), vec![(total, "late_payment".to_owned())]);
}

/// Pays an order through the demo phone.
async fn pay_now(app: &TestApp, token: &str, order: &Value) {
    let params = app.post(&format!("/api/v1/orders/{}/pay", order["id"]), &json!({}), Some(token)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &params.body, None).await.status, 200);
    assert_eq!(order_of(app, token, order).await["status"], "paid");
}

/// Waits until every refund of the order has `status` (10 s at most).
async fn refunds_reach(app: &TestApp, token: &str, order: &Value, status: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = order_of(app, token, order).await;
        let all = seen["refunds"].as_array().cloned().unwrap_or_default();
        if !all.is_empty() && all.iter().all(|r| r["status"] == status) {
            return seen;
        }
        assert!(std::time::Instant::now() < deadline, "refunds never reached {status}: {seen}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn refunded(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    config.expiry_interval = std::time::Duration::from_millis(200);
    let app = start(config, db, schema).await;

    // A paid order of two 大白菜; the stall has only one: the difference goes back.
    let (token, order) = waiting_order(&app, "13900000531").await;
    pay_now(&app, &token, &order).await;
    let cabbage = app.product_id("大白菜").await;
    let vendor = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body;
    let (stall, _) = app.login(&format!("138000001{:02}", vendor["vendor_id"].as_i64().unwrap_or(0))).await;
    let parts = app.get("/api/v1/vendor/orders", Some(&stall)).await.body;
    let part =
        parts["items"].as_array().expect("parts").iter().find(|p| p["order_id"] == order["id"]).cloned().expect("part");
    let short = json!({ "shortages": [{ "product_id": cabbage, "quantity": 1 }] });
    let r = app.post(&format!("/api/v1/vendor/orders/{}/confirm", part["id"]), &short, Some(&stall)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let price = vendor["price_fen"].as_i64().expect("price");
    let seen = refunds_reach(&app, &token, &order, "succeeded").await;
    assert_eq!(refunds(&seen), vec![(price, "shortage".to_owned())]);
    assert_eq!(seen["status"], "confirmed");

    // A paid order cancelled before any stall started: all of it goes back, once.
    let (token2, second) = waiting_order(&app, "13900000532").await;
    pay_now(&app, &token2, &second).await;
    let cancel = format!("/api/v1/orders/{}/cancel", second["id"]);
    let empty = json!({});
    let presses = join_all((0..5).map(|_| app.post(&cancel, &empty, Some(&token2))).collect()).await;
    assert_eq!(presses.iter().filter(|r| r.status == 200).count(), 1, "one cancel");
    let seen = refunds_reach(&app, &token2, &second, "succeeded").await;
    assert_eq!(refunds(&seen), vec![(second["total_fen"].as_i64().unwrap_or(0), "cancelled".to_owned())]);
    assert_eq!(seen["status"], "cancelled");
}

async fn refund_retried(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.resend_interval = std::time::Duration::ZERO;
    config.expiry_interval = std::time::Duration::from_millis(200);
    let app = start(config, db, schema).await;
    let sim = app.simulator.clone().expect("the simulator");
    // WeChat Pay does the refund but its first two answers are lost on the way, and then its
    // notification too: the server asks again (same out_refund_no), then asks how it ended.
    let trouble = json!({ "lose_refund_answers": 2, "lose_refund_notices": 1 });
    let r = app.client.post(format!("{sim}/sim/pay-trouble")).json(&trouble).send().await;
    assert_eq!(r.expect("sim").status(), 204);

    let (token, order) = waiting_order(&app, "13900000541").await;
    pay_now(&app, &token, &order).await;
    assert_eq!(app.post(&format!("/api/v1/orders/{}/cancel", order["id"]), &json!({}), Some(&token)).await.status, 200);
    // Asked again (same out_refund_no) until an answer comes: succeeded, and refunded once.
    let seen = refunds_reach(&app, &token, &order, "succeeded").await;
    let total = order["total_fen"].as_i64().expect("total");
    assert_eq!(refunds(&seen), vec![(total, "cancelled".to_owned())]);
    let made: Value =
        app.client.get(format!("{sim}/sim/refunds")).send().await.expect("sim").json().await.expect("json");
    let made = made.as_array().cloned().unwrap_or_default();
    assert_eq!(made.len(), 1, "one refund at WeChat Pay: {made:?}");
    assert_eq!(made[0]["amount"], total);
}
