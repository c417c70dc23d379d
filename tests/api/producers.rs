//! Producers and purchase orders through HTTP on both databases: staff add a producer, who
//! publishes offers by delivery day; stalls order from them for their own goods until the
//! cut-off, never more than a day can deliver (five stalls racing for the last units); each
//! producer sees only its own purchase orders; staff's supply plan puts residents' demand beside
//! stock and what is on order.

use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app, Db, TestApp};

on_both_databases! {
    producers_offer_stalls_order_and_staff_see_what_is_short => producers;
}

/// The Shanghai date `days` from now.
fn day(days: i64) -> String {
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    (chrono::Utc::now() + chrono::Duration::days(days)).with_timezone(&shanghai).format("%Y-%m-%d").to_string()
}

/// The stall of a demo product and its holder's login.
async fn stall_of(app: &TestApp, name: &str) -> (i64, String) {
    let product = app.product_id(name).await;
    let vendor = app.get(&format!("/api/v1/products/{product}"), None).await.body["vendor_id"].as_i64().expect("stall");
    let (token, _) = app.login(&format!("138000001{vendor:02}")).await;
    (product, token)
}

async fn add_producer(app: &TestApp, staff: &str, name: &str, phone: &str) -> Value {
    let body = json!({ "name": name, "origin": "山东寿光", "contact": "0536-5200000", "phone": phone });
    let r = app.post("/api/v1/admin/producers", &body, Some(staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

async fn offer(app: &TestApp, producer: &str, product: &str, quantity: i64, days: &[&str]) -> i64 {
    let body = json!({ "product": product, "quantity": quantity, "unit": "斤", "price_fen": 60, "days": days });
    let r = app.post("/api/v1/producer/offers", &body, Some(producer)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_i64().expect("offer")
}

fn plan_row(plan: &Value, product: i64) -> &Value {
    plan["items"].as_array().and_then(|rows| rows.iter().find(|r| r["product_id"] == product)).unwrap_or(&Value::Null)
}

async fn producers(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13900000004").await;
    let (cabbage, a01) = stall_of(&app, "大白菜").await;

    // Staff add a producer; the phone's account becomes its producer. Bad input changes nothing.
    let bad = json!({ "name": " ", "origin": "山东寿光", "contact": "1", "phone": "13700000001" });
    assert_eq!(app.post("/api/v1/admin/producers", &bad, Some(&staff)).await.status, 400);
    let bad = json!({ "name": "寿光合作社", "origin": "山东寿光", "contact": "1", "phone": "12", "cutoff_hour": 20 });
    assert_eq!(app.post("/api/v1/admin/producers", &bad, Some(&staff)).await.error_code(), "invalid_phone");
    let body = json!({ "name": "寿光合作社", "origin": "山东寿光", "contact": "1", "phone": "13700000001" });
    assert_eq!(app.post("/api/v1/admin/producers", &body, Some(&a01)).await.status, 403, "staff only");
    let shouguang = add_producer(&app, &staff, "寿光合作社", "13700000001").await;
    assert_eq!((shouguang["cutoff_hour"].as_i64(), shouguang["phone"].as_str()), (Some(20), Some("13700000001")));
    let again = app.post("/api/v1/admin/producers", &body, Some(&staff)).await;
    assert_eq!((again.status, again.error_code()), (409, "wrong_state"), "the name and phone are taken");
    add_producer(&app, &staff, "栖霞果园", "13700000002").await;
    let (farm, me) = app.login("13700000001").await;
    assert!(me["roles"].as_array().is_some_and(|r| r.contains(&json!("producer"))), "{me}");
    let (orchard, _) = app.login("13700000002").await;
    let listed = app.get("/api/v1/admin/producers", Some(&staff)).await;
    let names: Vec<&str> =
        listed.body["items"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"寿光合作社") && names.contains(&"栖霞果园"), "{names:?}");
    // The role comes with a producer, not by itself.
    let r = app.put("/api/v1/admin/users/13700000003/roles", &json!({ "roles": ["producer"] }), Some(&staff)).await;
    assert_eq!(r.status, 400, "{:?}", r.body);

    // Offers: for days still open to orders, with what is needed.
    let (d2, d3) = (day(2), day(3));
    let closed = json!({ "product": "大白菜", "quantity": 100, "unit": "斤", "price_fen": 60, "days": [day(0)] });
    let r = app.post("/api/v1/producer/offers", &closed, Some(&farm)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "today's orders closed last night");
    let no_days = json!({ "product": "大白菜", "quantity": 100, "unit": "斤", "price_fen": 60, "days": [] });
    assert_eq!(app.post("/api/v1/producer/offers", &no_days, Some(&farm)).await.status, 400);
    assert_eq!(app.post("/api/v1/producer/offers", &closed, Some(&a01)).await.status, 403, "producers only");
    let scarce = offer(&app, &farm, "白菜", 100, &[&d2]).await;
    let plenty = offer(&app, &farm, "大白菜", 500, &[&d3, &d2]).await;
    let apples = offer(&app, &orchard, "苹果", 300, &[&d2]).await;
    let own = app.get("/api/v1/producer/offers", Some(&farm)).await;
    assert_eq!(own.body["items"].as_array().map(Vec::len), Some(2), "a producer's own offers only");
    assert_eq!(own.body["items"][0]["origin"], "山东寿光", "the producer's origin by default");
    assert_eq!(own.body["items"][0]["days"][0]["day"], d2.as_str(), "days in order");
    let on_day = app.get(&format!("/api/v1/offers?day={d2}"), Some(&a01)).await;
    let ids: Vec<i64> =
        on_day.body["items"].as_array().into_iter().flatten().filter_map(|o| o["id"].as_i64()).collect();
    assert!([scarce, plenty, apples].iter().all(|o| ids.contains(o)), "{:?}", on_day.body);
    let demo =
        on_day.body["items"].as_array().into_iter().flatten().find(|o| o["product"] == "大白菜" && o["id"] != plenty);
    assert_eq!(
        demo.map(|o| o["origin"].clone()),
        Some(json!("山东寿光")),
        "the demo's 寿光 co-operative offers it too"
    );
    assert_eq!(app.get(&format!("/api/v1/offers?day={d2}"), Some(&resident)).await.status, 403);

    // Four stalls race for the scarce offer's 100 斤, 30 each: three get it, one is told.
    let mut racers = Vec::new();
    for name in ["油菜", "冬瓜", "香蕉", "红富士苹果"] {
        racers.push(stall_of(&app, name).await);
    }
    let asks = racers
        .iter()
        .map(|(product, token)| {
            let body = json!({ "day": d2, "lines": [{ "offer_id": scarce, "quantity": 30, "product_id": product }] });
            let app = &app;
            async move { app.post("/api/v1/vendor/purchase-orders", &body, Some(token)).await }
        })
        .collect();
    let answers = join_all(asks).await;
    let won = answers.iter().filter(|r| r.status == 200).count();
    let told: Vec<&str> = answers.iter().filter(|r| r.status != 200).map(|r| r.error_code()).collect();
    assert_eq!((won, told), (3, vec!["out_of_stock"]), "{:?}", answers.iter().map(|r| &r.body).collect::<Vec<_>>());
    let left = app.get(&format!("/api/v1/offers?day={d2}"), Some(&a01)).await;
    let scarce_day = left.body["items"].as_array().and_then(|o| o.iter().find(|o| o["id"] == scarce)).cloned();
    assert_eq!(
        scarce_day.map(|o| (o["days"][0]["ordered"].clone(), o["days"][0]["left"].clone())),
        Some((json!(90), json!(10)))
    );

    // A stall orders for its own goods sold by the offer's unit; all lines or none.
    let order = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_owned());
        async move { app.post("/api/v1/vendor/purchase-orders", &body, Some(&token)).await }
    };
    let spinach = app.product_id("菠菜").await;
    let r = order(&a01, json!({ "day": d2, "lines": [{ "offer_id": plenty, "quantity": 10, "product_id": spinach }] }))
        .await;
    assert_eq!(r.status, 400, "another stall's good: {:?}", r.body);
    let r = order(&a01, json!({ "day": d2, "lines": [{ "offer_id": apples, "quantity": 10 }] })).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "A01 sells no 苹果: {:?}", r.body);
    let both = json!({ "day": d2, "lines": [{ "offer_id": plenty, "quantity": 40 }, { "offer_id": scarce, "quantity": 20, "product_id": cabbage }] });
    let r = order(&a01, both).await;
    assert_eq!((r.status, r.error_code()), (409, "out_of_stock"), "{:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/vendor/purchase-orders?day={d2}"), Some(&a01)).await.body["items"], json!([]));
    let r = order(&a01, json!({ "day": day(4), "lines": [{ "offer_id": plenty, "quantity": 40 }] })).await;
    assert_eq!(r.status, 404, "no delivery that day: {:?}", r.body);
    let r = order(&a01, json!({ "day": d2, "lines": [{ "offer_id": plenty, "quantity": 40 }] })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["items"][0]["product_id"].as_i64(), r.body["items"][0]["quantity"].as_i64()),
        (Some(cabbage), Some(40))
    );
    assert_eq!(r.body["items"][0]["open"], true);

    // Each producer sees its own purchase order for the day, every stall's lines on it.
    let po = app.get("/api/v1/producer/purchase-orders", Some(&farm)).await;
    assert_eq!(po.status, 200, "{:?}", po.body);
    let first = &po.body["items"][0];
    assert_eq!((first["day"].as_str(), first["lines"].as_array().map(Vec::len)), (Some(d2.as_str()), Some(4)));
    assert_eq!(first["total_fen"], (90 + 40) * 60);
    let theirs = app.get("/api/v1/producer/purchase-orders", Some(&orchard)).await;
    assert_eq!(theirs.body["items"], json!([]), "nothing of another producer's");
    assert_eq!(app.get("/api/v1/producer/purchase-orders", Some(&a01)).await.status, 403);
    let sheet = app.client.get(app.url(&format!("/api/v1/producer/purchase-orders.csv?day={d2}"))).bearer_auth(&farm);
    let sheet = sheet.send().await.expect("csv").text().await.expect("text");
    assert_eq!(sheet.lines().count(), 5, "a heading and the four stalls' lines: {sheet}");
    assert!(sheet.contains("大白菜") && sheet.contains("¥24.00"), "A01's 40 斤 at ¥0.60: {sheet}");
    let theirs =
        app.client.get(app.url(&format!("/api/v1/producer/purchase-orders.csv?day={d2}"))).bearer_auth(&orchard);
    assert_eq!(theirs.send().await.expect("csv").text().await.expect("text").lines().count(), 1, "only the heading");

    // Withdrawn: less may still be ordered, more not.
    let r = app.post(&format!("/api/v1/producer/offers/{plenty}/withdraw"), &json!({}), Some(&orchard)).await;
    assert_eq!(r.status, 404, "not the orchard's offer");
    let r = app.post(&format!("/api/v1/producer/offers/{plenty}/withdraw"), &json!({}), Some(&farm)).await;
    assert_eq!((r.status, r.body["withdrawn"].as_bool()), (200, Some(true)));
    let r = order(&a01, json!({ "day": d2, "lines": [{ "offer_id": plenty, "quantity": 50 }] })).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    let r = order(&a01, json!({ "day": d2, "lines": [{ "offer_id": plenty, "quantity": 25 }] })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // The supply plan: residents' demand for the day beside the stock and what is on order.
    let slot = app.open_slot(&staff, 10, 0, 50).await;
    let slot_day = slot["starts_at"].as_str().map(|s| s[..10].to_owned()).expect("starts_at");
    app.put_in_cart(&resident, cabbage, 3).await;
    let r = app.checkout(&resident, "plan-1", &json!({ "slot_id": slot["id"], "payment": "on_delivery" })).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.change_product(&staff, cabbage, &json!({ "stock": 1 })).await;
    let plan = app.get(&format!("/api/v1/admin/supply?day={slot_day}"), Some(&staff)).await;
    assert_eq!(plan.status, 200, "{:?}", plan.body);
    let row = plan_row(&plan.body, cabbage);
    let on_order = if slot_day == d2 { 25 } else { 0 };
    assert_eq!(
        (row["ordered"].as_i64(), row["stock"].as_i64(), row["on_order"].as_i64()),
        (Some(3), Some(1), Some(on_order)),
        "{row}"
    );
    assert_eq!(row["short"], on_order + 1 < 3, "{row}");
    if on_order == 0 {
        assert_eq!(plan.body["items"][0]["product_id"], cabbage, "short ones first");
    }
    let plan = app.get(&format!("/api/v1/admin/supply?day={d2}"), Some(&staff)).await;
    assert_eq!(plan_row(&plan.body, cabbage)["on_order"], 25);
    assert_eq!(app.get("/api/v1/admin/supply?day=tomorrow", Some(&staff)).await.status, 400);
    let sheet = app.client.get(app.url(&format!("/api/v1/admin/supply.csv?day={d2}"))).bearer_auth(&staff);
    let sheet = sheet.send().await.expect("csv").text().await.expect("text");
    assert!(sheet.lines().any(|l| l.contains("大白菜") && l.contains(",25,")), "{sheet}");
    assert_eq!(app.get("/api/v1/admin/supply", Some(&a01)).await.status, 403);
    // Once the cut-off has passed, the producer is told what to deliver, once.
    let store = &app.state.as_ref().expect("in-process server").store;
    let later = chrono::Utc::now() + chrono::Duration::days(2);
    assert_eq!(store.producers().announce_closed(chrono::Utc::now()).await.expect("not yet"), 0);
    assert_eq!(store.producers().announce_closed(later).await.expect("closed"), 1, "the farm's order for {d2}");
    store.producers().announce_closed(later).await.expect("again");
    let told = app.get("/api/v1/me/notices", Some(&farm)).await.body;
    let closed: Vec<&Value> =
        told["items"].as_array().into_iter().flatten().filter(|n| n["kind"] == "purchase_order_closed").collect();
    assert_eq!(closed.len(), 1, "{told}");
    assert!(closed[0].to_string().contains(&d2) && closed[0].to_string().contains("¥"), "{told}");
    app.books_balance().await;
}
