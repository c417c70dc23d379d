//! Lots through HTTP on both databases: no lot without its certificate, a lot's quantity on the
//! stock, a failed rapid test holding it, packing drawing the oldest lot first, the public test
//! board, a hold taking what is left off sale and telling the households that had it, and the
//! trace (and its spreadsheet); the stock ledger balances throughout.

use serde_json::{json, Value};
use tests::{on_both_databases, spawn_app, Db, TestApp};

on_both_databases! {
    stalls_take_in_certified_lots_and_staff_recall_one_to_the_door => lots;
    a_recalled_lot_reaches_the_boxes_that_held_it => boxes;
}

fn certificate() -> Value {
    json!({ "product": "大白菜", "quantity": "500公斤", "origin": "山东寿光", "issued_at": "2026-12-01",
            "issuer": "寿光市洛城蔬菜合作社", "contact": "0536-5200000" })
}

fn test(result: &str) -> Value {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    json!({ "method": "酶抑制率法", "result": result, "by": "市场快检室", "at": at })
}

async fn stock(app: &TestApp, product: i64) -> i64 {
    app.get(&format!("/api/v1/products/{product}"), None).await.body["stock"].as_i64().expect("stock")
}

async fn lots(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let vendor = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("stall");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    let (other_stall, _) = app.login(&format!("138000001{:02}", vendor + 1)).await;
    let (resident, _) = app.login("13900000004").await;
    // The demo's 大白菜 came in as a lot certified in 寿光; staff stop it first (what was left of
    // it leaves the stock), so that this test's lots are the only ones on sale.
    let demo = app.get(&format!("/api/v1/products/{cabbage}/lots"), None).await.body;
    assert_eq!(demo["items"][0]["certificate"]["origin"], "山东寿光", "{demo}");
    for l in demo["items"].as_array().cloned().unwrap_or_default() {
        let r = app
            .post(&format!("/api/v1/admin/lots/{}/hold", l["id"]), &json!({ "reason": "测试前停售" }), Some(&staff))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let before = stock(&app, cabbage).await;
    assert_eq!(before, 0, "the demo's lot was all of its stock");
    let take_in = |token: String, body: Value| {
        let app = &app;
        async move { app.post("/api/v1/vendor/lots", &body, Some(&token)).await }
    };

    // No certificate, or one missing a part: refused, nothing changes.
    let r = take_in(stall.clone(), json!({ "product_id": cabbage, "quantity": 50 })).await;
    assert_eq!((r.status, r.error_code()), (400, "certificate_required"), "{:?}", r.body);
    let mut blank = certificate();
    blank["issuer"] = json!(" ");
    let r = take_in(stall.clone(), json!({ "product_id": cabbage, "quantity": 50, "certificate": blank })).await;
    assert_eq!((r.status, r.error_code()), (400, "certificate_required"));
    let whole = json!({ "product_id": cabbage, "quantity": 50, "certificate": certificate(), "tests": [test("pass")] });
    assert_eq!(take_in(other_stall.clone(), whole.clone()).await.status, 404, "another stall's product");
    assert_eq!(take_in(resident.clone(), whole.clone()).await.status, 403);
    let bad_test =
        json!({ "product_id": cabbage, "quantity": 50, "certificate": certificate(), "tests": [test("合格")] });
    assert_eq!(take_in(stall.clone(), bad_test).await.status, 400);
    assert_eq!(stock(&app, cabbage).await, before, "nothing refused changed the stock");

    // A certified lot with a passing test goes on sale; residents see it and its test.
    let r = take_in(stall.clone(), whole.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let first = r.body["id"].as_i64().expect("lot");
    assert_eq!((r.body["remaining"].as_i64(), r.body["certificate"]["origin"].as_str()), (Some(50), Some("山东寿光")));
    assert_eq!(stock(&app, cabbage).await, before + 50);
    let page = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body;
    assert_eq!(page["lots"][0]["id"], first, "{page}");
    assert_eq!(page["lots"][0]["tests"][0]["result"], "pass");
    // A second lot fails its test: taken in held, never on sale.
    let failing =
        json!({ "product_id": cabbage, "quantity": 30, "certificate": certificate(), "tests": [test("fail")] });
    let r = take_in(stall.clone(), failing).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let second = r.body["id"].as_i64().expect("lot");
    assert!(r.body["held"]["reason"].as_str().is_some_and(|w| w.contains("快检不合格")), "{:?}", r.body);
    assert_eq!(stock(&app, cabbage).await, before + 50);
    let shown = app.get(&format!("/api/v1/products/{cabbage}/lots"), None).await.body;
    assert_eq!(shown["items"].as_array().map(Vec::len), Some(1), "{shown}");
    // The public board: both of today's tests, and what was done with the failed one.
    let board = app.get("/api/v1/tests", None).await.body;
    let entries = board["items"].as_array().expect("items");
    let of = |lot: i64| entries.iter().find(|e| e["lot_id"] == lot).cloned().unwrap_or_default();
    assert_eq!(of(first)["lot_status"], "on_sale", "{board}");
    assert_eq!(
        (of(second)["lot_status"].as_str(), of(second)["test"]["result"].as_str()),
        (Some("held"), Some("fail"))
    );
    assert_eq!(app.get("/api/v1/tests?day=yesterday", None).await.status, 400);
    // The stall sees its own lots; another stall none of them.
    let mine = app.get("/api/v1/vendor/lots", Some(&stall)).await.body;
    assert_eq!(mine["items"][0]["id"], second, "newest first: {mine}");
    let theirs = app.get("/api/v1/vendor/lots", Some(&other_stall)).await.body;
    assert!(theirs["items"].as_array().is_some_and(|l| l.iter().all(|x| x["id"] != first)), "{theirs}");
    let r = app.post(&format!("/api/v1/vendor/lots/{first}/tests"), &test("pass"), Some(&other_stall)).await;
    assert_eq!(r.status, 404, "not their lot");

    // A photo of the paper certificate: the stall's own lot only, a picture only.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(400, 300, image::Rgb([240, 240, 230]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let put = |token: &str, bytes: Vec<u8>| {
        let req = app.client.put(app.url(&format!("/api/v1/vendor/lots/{first}/certificate-photo")));
        app.send(req.bearer_auth(token.to_owned()).header("Content-Type", "image/png").body(bytes))
    };
    assert_eq!(put(&other_stall, png.clone()).await.status, 404, "not their lot");
    let r = put(&stall, b"not a picture".to_vec()).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_image"));
    let r = put(&stall, png).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let photo = r.body["certificate_photo"]["url"].as_str().expect("the photo's address").to_owned();
    let served = app.client.get(app.url(&photo)).send().await.expect("photo");
    assert_eq!((served.status().as_u16(), served.headers()["content-type"].to_str().ok()), (200, Some("image/jpeg")));
    let shown = app.get(&format!("/api/v1/products/{cabbage}/lots"), None).await.body;
    assert_eq!(shown["items"][0]["certificate_photo"]["url"], photo.as_str(), "residents see it");

    // A resident's order is packed from the oldest lot on sale.
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    app.put_in_cart(&resident, cabbage, 3).await;
    let order = app.checkout(&resident, "lots-1", &json!({ "slot_id": slot["id"], "payment": "on_delivery" })).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    let part = parts["items"][0]["id"].clone();
    for step in ["confirm", "packed", "packed"] {
        let r = app.post(&format!("/api/v1/vendor/orders/{part}/{step}"), &json!({}), Some(&stall)).await;
        assert!(r.status == 200 || (step == "packed" && r.status == 409), "{step}: {:?}", r.body);
    }
    let lot = app.get("/api/v1/admin/lots", Some(&staff)).await.body;
    let first_now =
        lot["items"].as_array().and_then(|l| l.iter().find(|x| x["id"] == first).cloned()).unwrap_or_default();
    assert_eq!(first_now["remaining"], 47, "packed once, from the first lot: {lot}");
    app.books_balance().await;

    // The recall: staff hold the first lot; what is left of it leaves the stock, the household
    // that had it is told, and the trace finds its door.
    let hold = format!("/api/v1/admin/lots/{first}/hold");
    assert_eq!(app.post(&hold, &json!({ "reason": "召回" }), Some(&stall)).await.status, 403);
    assert_eq!(app.post(&hold, &json!({ "reason": " " }), Some(&staff)).await.status, 400);
    let on_sale = stock(&app, cabbage).await;
    let r = app.post(&hold, &json!({ "reason": "供货方通知农残超标，召回" }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["held"]["reason"], "供货方通知农残超标，召回");
    assert_eq!(stock(&app, cabbage).await, on_sale - 47.min(on_sale));
    let r = app.post(&hold, &json!({ "reason": "again" }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    assert_eq!(app.post("/api/v1/admin/lots/999999/hold", &json!({ "reason": "x" }), Some(&staff)).await.status, 404);
    let page = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body;
    assert!(page.get("lots").is_none(), "no lot on sale any more: {page}");
    let trace = app.get(&format!("/api/v1/admin/lots/{first}/trace"), Some(&staff)).await;
    assert_eq!(trace.status, 200);
    let traced = &trace.body["items"][0];
    assert_eq!(
        (traced["order_id"].clone(), traced["quantity"].as_i64()),
        (order.body["id"].clone(), Some(3)),
        "{traced}"
    );
    assert_eq!((traced["building"].as_str(), traced["phone"].as_str()), (Some("1"), Some("13900000004")));
    assert_eq!(app.get(&format!("/api/v1/admin/lots/{first}/trace"), Some(&stall)).await.status, 403);
    assert_eq!(app.get("/api/v1/admin/lots/999999/trace", Some(&staff)).await.status, 404);
    let csv = app.client.get(app.url(&format!("/api/v1/admin/lots/{first}/trace.csv"))).bearer_auth(&staff);
    let csv = csv.send().await.expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("text");
    assert!(text.contains(&order.body["id"].to_string()) && text.contains("13900000004"), "{text}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let notices = app.get("/api/v1/me/notices", Some(&resident)).await.body;
        if notices["items"]
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n["kind"] == "lot_recalled" && n["order_id"] == order.body["id"]))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no recall notice: {notices}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The stall sees the packed line marked on its console and is told which orders to open.
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    let line = &parts["items"][0]["items"][0];
    assert!(line["recalled"].as_str().is_some_and(|r| r.contains(&first.to_string()) && r.contains("农残")), "{line}");
    let told = app.get("/api/v1/me/notices", Some(&stall)).await.body;
    let notice = told["items"].as_array().and_then(|l| l.iter().find(|n| n["kind"] == "lot_recalled_stall").cloned());
    assert!(notice.is_some_and(|n| n.to_string().contains(&order.body["id"].to_string())), "{told}");
    let others = app.get("/api/v1/vendor/orders", Some(&other_stall)).await.body;
    assert!(!others.to_string().contains("recalled"), "nothing for another stall");
    app.books_balance().await;
}

/// A 菜盒子 is packed from its contents' lots: a recall of the cabbage in it reaches the
/// household that bought the box and the stall that packed it.
async fn boxes(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13900000004").await;
    let cabbage = app.product_id("大白菜").await;
    let the_box = json!({ "name": "白菜双拼盒", "price_fen": 990, "stock": 5,
                          "items": [{ "product_id": cabbage, "quantity": 2 }] });
    let r = app.post("/api/v1/admin/boxes", &the_box, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (box_id, packer) = (r.body["id"].as_i64().expect("box"), r.body["vendor_id"].as_i64().expect("stall"));
    let (box_stall, _) = app.login(&format!("138000001{packer:02}")).await;
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    app.put_in_cart(&resident, box_id, 3).await;
    let order = app.checkout(&resident, "box-lots", &json!({ "slot_id": slot["id"], "payment": "on_delivery" })).await;
    assert_eq!(order.status, 201, "{:?}", order.body);
    let order_id = order.body["id"].clone();
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&box_stall)).await.body;
    let part = parts["items"][0]["id"].clone();
    for step in ["confirm", "packed"] {
        let r = app.post(&format!("/api/v1/vendor/orders/{part}/{step}"), &json!({}), Some(&box_stall)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    // Three boxes of two cabbages: six cabbages drawn from the cabbage's lots, oldest first.
    let lots = app.get(&format!("/api/v1/products/{cabbage}/lots"), None).await.body;
    let mut drawn = Vec::new();
    for lot in lots["items"].as_array().cloned().unwrap_or_default() {
        let trace = app.get(&format!("/api/v1/admin/lots/{}/trace", lot["id"]), Some(&staff)).await.body;
        for t in trace["items"].as_array().cloned().unwrap_or_default() {
            assert_eq!(t["order_id"], order_id, "{t}");
            drawn.push((lot["id"].as_i64().expect("lot"), t["quantity"].as_i64().unwrap_or_default()));
        }
    }
    assert_eq!(drawn.iter().map(|(_, q)| q).sum::<i64>(), 6, "{drawn:?} of {lots}");
    app.books_balance().await;

    // The cabbage's lot is recalled: the box's household is told, the box stall sees its line
    // marked and is told which order to open.
    let lot = drawn[0].0;
    let r =
        app.post(&format!("/api/v1/admin/lots/{lot}/hold"), &json!({ "reason": "农残超标，召回" }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let told = |token: String, kind: &'static str| {
        let app = &app;
        let order_id = order_id.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let notices = app.get("/api/v1/me/notices", Some(&token)).await.body;
                let found = notices["items"].as_array().is_some_and(|l| {
                    l.iter().any(|n| n["kind"] == kind && n.to_string().contains(&order_id.to_string()))
                });
                if found {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "no {kind} notice: {notices}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    told(resident.clone(), "lot_recalled").await;
    told(box_stall.clone(), "lot_recalled_stall").await;
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&box_stall)).await.body;
    let line = &parts["items"][0]["items"][0];
    assert_eq!(line["product_id"].as_i64(), Some(box_id));
    assert!(line["recalled"].as_str().is_some_and(|r| r.contains(&lot.to_string())), "{line}");
    app.books_balance().await;
}
