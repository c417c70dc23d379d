//! Satellite pickup points (自提点), through HTTP on both databases: staff set points up,
//! residents choose one at checkout (racing for its last places), the point's orders go as one
//! batch that the volunteer drops there, the keeper hands each over by its code, and an order
//! nobody collected is kept a day or returned to stock.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app, Db, TestApp};

on_both_databases! {
    a_pickup_point_takes_its_orders_its_keeper_hands_them_over_and_the_rest_go_back => to_the_point;
}

const STAFF: &str = "13800000000";
const KEEPER_A: &str = "13800000511";
const KEEPER_B: &str = "13800000512";

fn point(name: &str, capacity: i64, keeper: &str, uncollected: &str) -> Value {
    json!({ "name": name, "address": format!("{name}门口"), "opens": "08:00", "closes": "20:00",
            "capacity": capacity, "keeper_phone": keeper, "uncollected": uncollected })
}

/// A delivery slot tomorrow 10:00–12:00 Shanghai time (inside the points' hours).
async fn morning_slot(app: &TestApp, staff: &str) -> Value {
    let day = (Utc::now() + Duration::hours(8)).date_naive() + Duration::days(1);
    let at = |h: u32| day.and_hms_opt(h, 0, 0).map(|t| t.and_utc().to_rfc3339()).unwrap_or_default();
    let body = json!({ "kind": "delivery", "starts_at": at(2), "ends_at": at(4), "cutoff_at": at(1), "capacity": 50 });
    let r = app.post("/api/v1/admin/slots", &body, Some(staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

/// Until when the order waits at its point, as its household sees it.
async fn collect_by(app: &TestApp, token: &str, order: &Value) -> chrono::DateTime<Utc> {
    let seen = app.get(&format!("/api/v1/orders/{}", order["id"]), Some(token)).await.body;
    let at = chrono::DateTime::parse_from_rfc3339(seen["collect_by"].as_str().unwrap_or_default());
    at.map(|t| t.to_utc()).unwrap_or_else(|e| panic!("collect_by: {e} in {seen:?}"))
}

fn batch_named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"].as_array().and_then(|l| l.iter().find(|b| b["building"] == name)).expect("the point's batch")
}

async fn to_the_point(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let a =
        app.post("/api/v1/admin/pickup-points", &point("阳光花园自提点", 2, KEEPER_A, "keep_day"), Some(&staff)).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    let b = app.post("/api/v1/admin/pickup-points", &point("翠竹苑自提点", 5, KEEPER_B, "return"), Some(&staff)).await;
    assert_eq!(b.status, 201, "{:?}", b.body);
    assert_eq!(a.body["keeper_phone"], KEEPER_A);
    // Bad input and the wrong person change nothing.
    let twice = point("阳光花园自提点", 2, KEEPER_A, "keep_day");
    let r = app.post("/api/v1/admin/pickup-points", &twice, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    let mut shut = point("夜里", 2, KEEPER_A, "keep_day");
    shut["closes"] = json!("07:00");
    let r = app.post("/api/v1/admin/pickup-points", &shut, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    let (resident, _) = app.login("13900000699").await;
    let r = app.post("/api/v1/admin/pickup-points", &point("别处", 2, KEEPER_A, "keep_day"), Some(&resident)).await;
    assert_eq!(r.status, 403);
    // The demo's two points and these two.
    assert_eq!(
        app.get("/api/v1/admin/pickup-points", Some(&staff)).await.body["items"].as_array().map(Vec::len),
        Some(4)
    );

    let slot = morning_slot(&app, &staff).await;
    let listed = app.get(&format!("/api/v1/pickup-points?slot_id={}", slot["id"]), None).await.body;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    let ours: Vec<Option<i64>> = items
        .iter()
        .filter(|p| [&a.body["id"], &b.body["id"]].contains(&&p["id"]))
        .map(|p| p["remaining"].as_i64())
        .collect();
    assert_eq!(ours, [Some(2), Some(5)]);
    assert!(items.iter().all(|p| p.get("keeper_phone").is_none()), "keepers' phones are staff's: {items:?}");

    // Three residents race for point A's last two places in the slot: exactly two get them.
    let cabbage = app.product_id("大白菜").await;
    let stock_before = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"].as_i64();
    let mut tokens = Vec::new();
    for n in 1..=4 {
        let (token, _) = app.login(&format!("139000006{n:02}")).await;
        app.put_in_cart(&token, cabbage, 2).await;
        tokens.push(token);
    }
    let to = |point: &Value| {
        json!({ "slot_id": slot["id"], "payment": "on_delivery", "pickup_point_id": point["id"],
                "address": { "building": "3", "unit": "1", "room": "101" } })
    };
    let body_a = to(&a.body);
    let answers = join_all(tokens[..3].iter().map(|t| app.checkout(t, "point-a", &body_a)).collect()).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 409], "{:?}", answers.iter().map(|r| &r.body).collect::<Vec<_>>());
    assert!(answers.iter().filter(|r| r.status == 409).all(|r| r.error_code() == "slot_full"));
    let placed: Vec<(String, Value)> = tokens[..3]
        .iter()
        .zip(&answers)
        .filter(|(_, r)| r.status == 201)
        .map(|(t, r)| (t.clone(), r.body.clone()))
        .collect();
    assert_eq!(placed[0].1["pickup_point"]["name"], "阳光花园自提点");
    assert!(placed[0].1.get("address").is_none_or(Value::is_null), "no door: {:?}", placed[0].1);
    let r = app.checkout(&tokens[3], "point-b", &to(&b.body)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let at_b = r.body;
    let listed = app.get(&format!("/api/v1/pickup-points?slot_id={}", slot["id"]), None).await.body;
    let point_a = listed["items"].as_array().and_then(|l| l.iter().find(|p| p["id"] == a.body["id"]).cloned());
    assert_eq!(point_a.map(|p| p["remaining"].clone()), Some(json!(0)));

    // The stall packs; the volunteers' board shows one batch per point, named by it.
    let vendor =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("vendor");
    let (stall, _) = app.login(&format!("138000001{vendor:02}")).await;
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot["id"]), Some(&stall)).await.body;
    for p in parts["items"].as_array().expect("parts") {
        assert!(p["pickup_point"].as_str().is_some_and(|n| n.ends_with("自提点")), "the stall labels the bag: {p:?}");
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&stall)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    let (volunteer, _) = app.login("13800000201").await;
    let list = app.get(&format!("/api/v1/batches?slot_id={}", slot["id"]), Some(&volunteer)).await.body;
    let batch_a = batch_named(&list, "阳光花园自提点").clone();
    assert_eq!((batch_a["orders"].as_i64(), batch_a["status"].as_str()), (Some(2), Some("ready")));
    assert_eq!(batch_a["pickup_point_id"], a.body["id"]);
    let batch_b = batch_named(&list, "翠竹苑自提点").clone();
    let path_a = format!("/api/v1/batches/{}", batch_a["id"]);
    let r = app.post(&format!("{path_a}/claim"), &json!({}), Some(&volunteer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post(&format!("{path_a}/drop"), &json!({}), Some(&volunteer)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "not picked up yet");
    assert_eq!(app.post(&format!("{path_a}/pickup"), &json!({}), Some(&volunteer)).await.status, 200);
    let (other, _) = app.login("13800000202").await;
    assert_eq!(app.post(&format!("{path_a}/drop"), &json!({}), Some(&other)).await.status, 403);
    let r = app.post(&format!("{path_a}/drop"), &json!({}), Some(&volunteer)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("done")), "{:?}", r.body);
    let (first_token, first) = &placed[0];
    let seen = app.get(&format!("/api/v1/orders/{}", first["id"]), Some(first_token)).await.body;
    assert_eq!(seen["status"], "out_for_delivery");
    assert!(seen["at_point_at"].is_string() && seen["collect_by"].is_string(), "{seen:?}");
    // Its household is told it is there, once.
    let told = app.get("/api/v1/me/notices", Some(first_token)).await.body;
    let arrived: Vec<&Value> =
        told["items"].as_array().map(|l| l.iter().filter(|n| n["kind"] == "at_point").collect()).unwrap_or_default();
    assert_eq!(arrived.len(), 1, "{told:?}");
    assert!(arrived[0]["body"].as_str().is_some_and(|b| b.contains("阳光花园自提点")), "{told:?}");

    // Each keeper sees only their point's orders; a resident is no keeper.
    let (keeper_a, _) = app.login(KEEPER_A).await;
    let (keeper_b, _) = app.login(KEEPER_B).await;
    let waiting = app.get("/api/v1/keeper/orders", Some(&keeper_a)).await.body;
    assert_eq!(waiting["items"].as_array().map(Vec::len), Some(2), "{waiting:?}");
    assert!(waiting["items"][0]["at_point_at"].is_string());
    assert_eq!(app.get("/api/v1/keeper/orders", Some(&keeper_b)).await.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/v1/keeper/orders", Some(&tokens[0])).await.status, 403);

    // The keeper hands over by the code; another keeper and the volunteer (their round is over) cannot.
    let handoff =
        |order: &Value, code: &str| (format!("/api/v1/orders/{}/handoff", order["id"]), json!({ "code": code }));
    let code = first["handoff_code"].as_str().unwrap_or_default();
    let (path, right) = handoff(first, code);
    assert_eq!(app.post(&path, &right, Some(&keeper_b)).await.status, 403);
    assert_eq!(app.post(&path, &right, Some(&volunteer)).await.status, 403);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app.post(&path, &handoff(first, wrong).1, Some(&keeper_a)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_code"));
    let r = app.post(&path, &right, Some(&keeper_a)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("delivered")), "{:?}", r.body);
    assert!(r.body.get("handoff_code").is_none(), "the code is the resident's");

    // Nobody comes for the other order: kept a day (its household told), then returned.
    let store = &app.state.as_ref().expect("in-process server").store;
    let (second_token, second) = &placed[1];
    let until = collect_by(&app, second_token, second).await;
    assert_eq!(store.points().sweep_uncollected(until - Duration::minutes(1), 100).await.expect("sweep").len(), 0);
    let kept = store.points().sweep_uncollected(until + Duration::minutes(1), 100).await.expect("sweep");
    assert_eq!(kept.len(), 1);
    assert_eq!(collect_by(&app, second_token, second).await, until + Duration::days(1));
    let returned = store.points().sweep_uncollected(until + Duration::days(1), 100).await.expect("sweep");
    assert_eq!(returned.len(), 1);
    let seen = app.get(&format!("/api/v1/orders/{}", second["id"]), Some(second_token)).await.body;
    assert_eq!(seen["status"], "cancelled");

    // Point B returns at once: its batch dropped, its order goes back the first time it is due.
    let path_b = format!("/api/v1/batches/{}", batch_b["id"]);
    for step in ["claim", "pickup", "drop"] {
        let r = app.post(&format!("{path_b}/{step}"), &json!({}), Some(&volunteer)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    let back = store.points().sweep_uncollected(until + Duration::minutes(1), 100).await.expect("sweep");
    assert_eq!(back.iter().map(|d| d.0).collect::<Vec<_>>(), [at_b["id"].as_i64().unwrap_or_default()]);
    let stock_after = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"].as_i64();
    assert_eq!(stock_after.zip(stock_before).map(|(a, b)| b - a), Some(2), "the delivered order's 2 stay sold");
    app.books_balance().await;
}
