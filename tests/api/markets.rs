//! Many markets, one deployment, through HTTP on both databases: the first market's staff open
//! a second market; its staff set it up (a building 3 of its own, a stall, goods, a slot, a
//! pickup point); its residents see and buy only its goods in its slots, and nothing of either
//! market shows in or can be changed from the other.

use serde_json::{json, Value};
use tests::{on_both_databases, spawn_app, Db, TestApp};

on_both_databases! {
    two_markets_share_a_deployment_and_never_mix => two_markets;
}

const STAFF: &str = "13800000000";
const STAFF_2: &str = "13800000611";

fn ids(list: &Value) -> Vec<i64> {
    list["items"].as_array().map(|l| l.iter().filter_map(|i| i["id"].as_i64()).collect()).unwrap_or_default()
}

/// The `field` of every item of a list.
fn ids_of(list: &Value, field: &str) -> Vec<i64> {
    list["items"].as_array().map(|l| l.iter().filter_map(|i| i[field].as_i64()).collect()).unwrap_or_default()
}

/// Every id in every page of a public list, as the anonymous or logged-in caller sees it.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> Vec<i64> {
    let r = app.get(path, token).await;
    assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    ids(&r.body)
}

/// The orders staff see waiting for the donation pool.
async fn needs(app: &TestApp, staff: &str) -> Vec<i64> {
    let r = app.get("/api/v1/admin/donations/needs", Some(staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"].as_array().map(|l| l.iter().filter_map(|n| n["order_id"].as_i64()).collect()).unwrap_or_default()
}

async fn two_markets(db: Db) {
    let app = spawn_app(db).await;
    let (staff, me) = app.login(STAFF).await;
    assert_eq!(me["market_id"], 1);
    let (resident, _) = app.login("13900000611").await;

    // Opening a market: the first market's staff only, a name of its own, a phone that is no
    // other market's person.
    let new = json!({ "name": "翠苑市场", "staff_phone": STAFF_2 });
    assert_eq!(app.post("/api/v1/admin/markets", &new, Some(&resident)).await.status, 403);
    let r = app.post("/api/v1/admin/markets", &json!({ "name": " ", "staff_phone": STAFF_2 }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    let r = app.post("/api/v1/admin/markets", &json!({ "name": "翠苑市场", "staff_phone": "12" }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));
    let taken = json!({ "name": "另一个市场", "staff_phone": "13800000201" });
    let r = app.post("/api/v1/admin/markets", &taken, Some(&staff)).await;
    assert_eq!(r.status, 403, "a volunteer of the first market is not made another's staff: {:?}", r.body);
    let r = app.post("/api/v1/admin/markets", &new, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let market = r.body["id"].as_i64().expect("market id");
    assert_ne!(market, 1);
    assert_eq!(app.post("/api/v1/admin/markets", &new, Some(&staff)).await.error_code(), "already_exists");
    let markets = app.get("/api/v1/markets", None).await.body;
    assert_eq!(ids(&markets), [1, market]);
    let refused =
        app.post("/api/v1/admin/markets", &json!({ "name": "又一个", "staff_phone": STAFF_2 }), Some(&staff)).await;
    assert_eq!(refused.status, 403, "nobody failed to be made staff twice: {:?}", refused.body);

    // Its staff set it up: a building 3 (the first market has one too), a stall, goods, a slot.
    let (staff_2, me_2) = app.login(STAFF_2).await;
    assert_eq!((me_2["market_id"].as_i64(), me_2["roles"].clone()), (Some(market), json!(["staff"])));
    let r = app
        .post("/api/v1/admin/markets", &json!({ "name": "又一个", "staff_phone": "13800000612" }), Some(&staff_2))
        .await;
    assert_eq!(r.status, 403, "a second market's staff open no markets");
    let building = json!({ "community": "翠苑小区", "building": "3", "units": 2 });
    let r = app.post("/api/v1/admin/buildings", &building, Some(&staff_2)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let building_2 = r.body["id"].as_i64().expect("building");
    assert_eq!(r.body["market_id"].as_i64(), Some(market));
    let r = app
        .post(
            "/api/v1/admin/stalls",
            &json!({ "name": "翠苑菜摊", "hall": "M", "number": "901", "category": "vegetable" }),
            Some(&staff_2),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let stall_2 = r.body["id"].as_i64().expect("stall");
    let greens = json!({ "vendor_id": stall_2, "category": "vegetable", "name": "翠苑青菜", "unit": "斤",
                         "price_fen": 300, "stock": 20 });
    let r = app.post("/api/v1/admin/products", &greens, Some(&staff_2)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let greens = r.body["id"].as_i64().expect("product");
    let slot_2 = app.open_slot(&staff_2, 10, 0, 30).await;
    assert_eq!(slot_2["market_id"].as_i64(), Some(market));
    let point = json!({ "name": "翠苑东门自提点", "address": "翠苑小区东门", "opens": "00:00", "closes": "23:59",
                        "capacity": 5 });
    let r = app.post("/api/v1/admin/pickup-points", &point, Some(&staff_2)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let point_2 = r.body["id"].as_i64().expect("point");

    // The first market's things, as its staff and residents know them.
    let cabbage = app.product_id("大白菜").await;
    let slot_1 = app.open_slot(&staff, 10, 0, 30).await;
    let stall_1 = app.get("/api/v1/vendors", None).await.body["items"][0]["id"].as_i64().expect("stall");
    let buildings_1 = ids(&app.get("/api/v1/admin/buildings?limit=500", Some(&staff)).await.body);

    // Public lists are of one market: the first by default, another when asked or logged in there.
    let first = listed(&app, "/api/v1/products?limit=500", None).await;
    assert!(first.contains(&cabbage) && !first.contains(&greens));
    assert_eq!(listed(&app, &format!("/api/v1/products?market_id={market}"), None).await, [greens]);
    assert_eq!(app.get("/api/v1/products?market_id=999", None).await.status, 404);
    assert_eq!(listed(&app, &format!("/api/v1/vendors?market_id={market}"), None).await, [stall_2]);
    assert!(!listed(&app, "/api/v1/vendors?limit=500", None).await.contains(&stall_2));
    assert_eq!(
        listed(&app, &format!("/api/v1/slots?market_id={market}"), None).await,
        [slot_2["id"].as_i64().expect("id")]
    );
    let slots_1 = listed(&app, "/api/v1/slots?limit=500", None).await;
    assert!(
        slots_1.contains(&slot_1["id"].as_i64().expect("id")) && !slots_1.contains(&slot_2["id"].as_i64().expect("id"))
    );
    assert_eq!(listed(&app, &format!("/api/v1/pickup-points?market_id={market}"), None).await, [point_2]);
    assert!(!listed(&app, "/api/v1/pickup-points", None).await.contains(&point_2));
    let categories = app.get(&format!("/api/v1/categories?market_id={market}"), None).await.body;
    let vegetable = categories["items"].as_array().and_then(|c| c.iter().find(|c| c["id"] == "vegetable")).cloned();
    assert_eq!(vegetable.map(|v| v["product_count"].clone()), Some(json!(1)));

    // Staff see and change only their own market's set-up.
    assert_eq!(ids(&app.get("/api/v1/admin/buildings", Some(&staff_2)).await.body), [building_2]);
    assert!(!buildings_1.contains(&building_2));
    let close = json!({ "closed": true });
    assert_eq!(app.patch(&format!("/api/v1/admin/slots/{}", slot_1["id"]), &close, Some(&staff_2)).await.status, 404);
    assert_eq!(
        app.patch(&format!("/api/v1/admin/slots/{}", slot_2["id"]), &json!({ "capacity": 12 }), Some(&staff))
            .await
            .status,
        404
    );
    let rename = json!({ "description": "别人的" });
    assert_eq!(app.patch(&format!("/api/v1/admin/stalls/{stall_1}"), &rename, Some(&staff_2)).await.status, 404);
    assert_eq!(
        app.patch(&format!("/api/v1/admin/buildings/{}", buildings_1[0]), &close, Some(&staff_2)).await.status,
        404
    );
    assert_eq!(
        app.patch(&format!("/api/v1/admin/products/{cabbage}"), &json!({ "stock": 1 }), Some(&staff_2)).await.status,
        404
    );
    let into_1 = json!({ "vendor_id": stall_1, "category": "vegetable", "name": "混进来的", "unit": "斤", "price_fen": 1, "stock": 1 });
    assert_eq!(app.post("/api/v1/admin/products", &into_1, Some(&staff_2)).await.status, 404);
    let found = app.get(&format!("/api/v1/admin/products?q={}", tests::urlencode("青菜")), Some(&staff)).await.body;
    assert!(!ids(&found).contains(&greens), "staff's search is of their market: {found:?}");
    let points_1 = ids(&app.get("/api/v1/admin/pickup-points", Some(&staff)).await.body);
    assert!(!points_1.contains(&point_2));
    let r = app
        .put(
            &format!("/api/v1/admin/pickup-points/{point_2}"),
            &json!({ "name": "改名", "address": "x", "opens": "08:00", "closes": "20:00", "capacity": 1 }),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 404);
    // People: the first market's volunteer is not the second's to change; a newcomer can be.
    let volunteer = json!({ "roles": ["volunteer"] });
    assert_eq!(app.put("/api/v1/admin/users/13800000201/roles", &volunteer, Some(&staff_2)).await.status, 403);
    let r = app.put("/api/v1/admin/users/13800000613/roles", &volunteer, Some(&staff_2)).await;
    assert_eq!((r.status, r.body["market_id"].as_i64()), (200, Some(market)), "{:?}", r.body);
    // A group-buy is of its runner's market: the other market's slot or goods are not there.
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    let group = |slot: &Value, product: i64| {
        json!({ "title": "团购", "buildings": ["3"], "min_households": 1, "deadline": deadline,
                "slot_id": slot["id"], "on_shortfall": "proceed",
                "items": [{ "product_id": product, "price_fen": 100, "max_quantity": 5, "per_household_limit": 1 }] })
    };
    let r = app.post("/api/v1/group-buys", &group(&slot_1, greens), Some(&staff_2)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{:?}", r.body);
    let r = app.post("/api/v1/group-buys", &group(&slot_2, cabbage), Some(&staff_2)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{:?}", r.body);

    // A resident of the second market: their first order's address makes them its resident; they
    // see its goods, and the first market's slots and goods are not theirs.
    let (neighbour, _) = app.login("13900000612").await;
    app.put_in_cart(&neighbour, greens, 2).await;
    let home = json!({ "building": "3", "unit": "1", "room": "101" });
    let placed = app
        .checkout(&neighbour, "m-2", &json!({ "slot_id": slot_2["id"], "address": home, "payment": "on_delivery" }))
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let me = app.get("/api/v1/me", Some(&neighbour)).await.body;
    assert_eq!((me["market_id"].as_i64(), me["household"]["community"].clone()), (Some(market), json!("翠苑小区")));
    assert_eq!(listed(&app, "/api/v1/products", Some(&neighbour)).await, [greens], "logged in, their market's goods");
    app.raise_household_limit(&staff_2, &slot_2, 3).await;
    app.put_in_cart(&neighbour, cabbage, 1).await;
    let r = app.checkout(&neighbour, "m-3", &json!({ "slot_id": slot_1["id"], "payment": "on_delivery" })).await;
    assert_eq!((r.status, r.error_code()), (404, "not_found"), "another market's slot: {:?}", r.body);
    let r = app.checkout(&neighbour, "m-4", &json!({ "slot_id": slot_2["id"], "payment": "on_delivery" })).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "another market's cabbage: {:?}", r.body);
    let stock = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"].clone();
    app.set_cart(&neighbour, cabbage, 0).await;
    assert_eq!(app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"], stock, "nothing taken");

    let reset = format!("/api/v1/orders/{}/handoff/reset", placed.body["id"]);
    assert_eq!(app.post(&reset, &json!({}), Some(&staff)).await.status, 404, "another market's order");
    assert_eq!(app.post(&reset, &json!({}), Some(&staff_2)).await.status, 200);

    // Volunteers see and claim their own market's batches only.
    let (volunteer_2, _) = app.login("13800000613").await;
    let (volunteer_1, _) = app.login("13800000201").await;
    let batches_2 = app.get(&format!("/api/v1/batches?slot_id={}", slot_2["id"]), Some(&volunteer_2)).await.body;
    let batch_2 = batches_2["items"][0].clone();
    assert_eq!(batch_2["market_id"].as_i64(), Some(market), "{batches_2:?}");
    let seen_1 = app.get(&format!("/api/v1/batches?slot_id={}", slot_2["id"]), Some(&volunteer_1)).await.body;
    assert_eq!(seen_1["items"], json!([]), "another market's slot has no batches for them");
    assert_eq!(app.get(&format!("/api/v1/batches/{}", batch_2["id"]), Some(&volunteer_1)).await.status, 404);
    let r = app.post(&format!("/api/v1/batches/{}/claim", batch_2["id"]), &json!({}), Some(&volunteer_1)).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let work = app.get("/api/v1/batches/slots", Some(&volunteer_1)).await.body;
    assert!(!work["items"].as_array().is_some_and(|w| w.iter().any(|s| s["slot_id"] == slot_2["id"])), "{work:?}");
    // A group-buy of the second market is not the first market's staff's to see or call off.
    let opened = app.post("/api/v1/group-buys", &group(&slot_2, greens), Some(&staff_2)).await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    assert_eq!(opened.body["market_id"].as_i64(), Some(market));
    let gb = opened.body["id"].clone();
    assert!(!ids(&app.get("/api/v1/group-buys", Some(&staff)).await.body).contains(&gb.as_i64().unwrap_or(0)));
    assert_eq!(app.get(&format!("/api/v1/group-buys/{gb}"), Some(&staff)).await.status, 404);
    assert_eq!(app.post(&format!("/api/v1/group-buys/{gb}/cancel"), &json!({}), Some(&staff)).await.status, 404);
    assert_eq!(ids(&app.get("/api/v1/group-buys", Some(&staff_2)).await.body), [gb.as_i64().unwrap_or(0)]);

    // A lot of the second market's stall is not the first market's staff's to stop or trace.
    let r = app
        .put(
            "/api/v1/admin/users/13800000615/roles",
            &json!({ "roles": ["vendor"], "stall_id": stall_2 }),
            Some(&staff_2),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (holder_2, _) = app.login("13800000615").await;
    let certificate = json!({ "product": "青菜", "quantity": "10斤", "origin": "山东寿光", "issued_at": "2026-12-01",
                              "issuer": "寿光蔬菜合作社", "contact": "0536-1234567" });
    let r = app
        .post(
            "/api/v1/vendor/lots",
            &json!({ "product_id": greens, "quantity": 10, "certificate": certificate }),
            Some(&holder_2),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let lot = r.body["id"].as_i64().expect("lot");
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let test = json!({ "method": "酶抑制率法", "result": "pass", "by": "翠苑快检室", "at": at });
    let r = app.post(&format!("/api/v1/vendor/lots/{lot}/tests"), &test, Some(&holder_2)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let tested = |board: &Value| ids_of(board, "lot_id").contains(&lot);
    assert!(tested(&app.get(&format!("/api/v1/tests?market_id={market}"), None).await.body), "its market's board");
    assert!(tested(&app.get("/api/v1/tests", Some(&neighbour)).await.body), "their market's board");
    assert!(!tested(&app.get("/api/v1/tests", None).await.body), "not the first market's board");
    assert!(!ids(&app.get("/api/v1/admin/lots?limit=500", Some(&staff)).await.body).contains(&lot));
    assert_eq!(ids(&app.get("/api/v1/admin/lots", Some(&staff_2)).await.body), [lot]);
    let hold = json!({ "reason": "抽检不合格" });
    assert_eq!(app.post(&format!("/api/v1/admin/lots/{lot}/hold"), &hold, Some(&staff)).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/admin/lots/{lot}/trace"), Some(&staff)).await.status, 404);
    assert_eq!(app.post(&format!("/api/v1/admin/lots/{lot}/hold"), &hold, Some(&staff_2)).await.status, 200);

    // Gates: each market's staff put up and see their own.
    let r = app.post("/api/v1/admin/gates", &json!({ "name": "翠苑市场北门" }), Some(&staff_2)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let gate_2 = r.body["id"].as_i64().expect("gate");
    assert!(!ids(&app.get("/api/v1/admin/gates", Some(&staff)).await.body).contains(&gate_2));
    assert_eq!(ids(&app.get("/api/v1/admin/gates", Some(&staff_2)).await.body), [gate_2]);
    assert_eq!(app.post(&format!("/api/v1/admin/gates/{gate_2}/rotate"), &json!({}), Some(&staff)).await.status, 404);

    // Stall numbers and the names of points and gates are each market's own.
    let north = json!({ "name": "翠苑市场北门" });
    assert_eq!(app.post("/api/v1/admin/gates", &north, Some(&staff)).await.status, 201, "the same name elsewhere");
    assert_eq!(app.post("/api/v1/admin/gates", &north, Some(&staff_2)).await.status, 409, "a name in use there");
    assert_eq!(app.post("/api/v1/admin/pickup-points", &point, Some(&staff)).await.status, 201);
    assert_eq!(app.post("/api/v1/admin/pickup-points", &point, Some(&staff_2)).await.status, 409);
    let c01 = json!({ "name": "翠苑肉摊", "hall": "C", "number": "01", "category": "meat" });
    let r = app.post("/api/v1/admin/stalls", &c01, Some(&staff_2)).await;
    assert_eq!((r.status, r.body["stall_no"].as_str()), (201, Some("C01")), "the first market has a C01: {:?}", r.body);
    assert_eq!(app.post("/api/v1/admin/stalls", &c01, Some(&staff_2)).await.error_code(), "already_exists");

    // An address names its community when two have its building: 七里山小区's 3 is the first
    // market's, 翠苑小区's the second's.
    let (newcomer, _) = app.login("13900000613").await;
    let r = app
        .put(
            "/api/v1/me/household",
            &json!({ "community": "翠苑小区", "building": "3", "unit": "2", "room": "201" }),
            Some(&newcomer),
        )
        .await;
    assert_eq!((r.status, r.body["market_id"].as_i64()), (200, Some(market)), "{:?}", r.body);
    let (other, _) = app.login("13900000614").await;
    let r =
        app.put("/api/v1/me/household", &json!({ "building": "3", "unit": "2", "room": "202" }), Some(&other)).await;
    assert_eq!((r.status, r.body["market_id"].as_i64()), (200, Some(1)), "a newcomer's default: {:?}", r.body);
    assert_eq!(r.body["household"]["community"], "七里山小区");
    let household_1 = r.body["household"]["id"].as_i64().expect("household");
    let neighbours = ids(&app.get("/api/v1/admin/households?limit=500", Some(&staff_2)).await.body);
    assert!(!neighbours.is_empty() && !neighbours.contains(&household_1), "{neighbours:?}");
    let firsts = ids(&app.get("/api/v1/admin/households?limit=500", Some(&staff)).await.body);
    assert!(firsts.contains(&household_1) && !firsts.iter().any(|h| neighbours.contains(h)));
    let flag = json!({ "quarantined": true });
    assert_eq!(app.patch(&format!("/api/v1/admin/households/{household_1}"), &flag, Some(&staff_2)).await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/admin/households/{household_1}/people"), Some(&staff_2)).await.status, 404);
    let gift = json!({ "product_id": greens, "slot_id": slot_2["id"] });
    assert_eq!(
        app.post(&format!("/api/v1/admin/households/{household_1}/gift-box"), &gift, Some(&staff_2)).await.status,
        404
    );
    assert_eq!(app.post("/api/v1/admin/users/13900000614/erase", &json!({}), Some(&staff_2)).await.status, 404);
    let people_2 = app.get("/api/v1/admin/users?phone=139&limit=500", Some(&staff_2)).await.body;
    let phones: Vec<&str> = people_2["items"]
        .as_array()
        .map(|l| l.iter().filter_map(|u| u["phone"].as_str()).collect())
        .unwrap_or_default();
    assert!(phones.contains(&"13900000612") && !phones.contains(&"13900000614"), "{phones:?}");
    let r = app
        .put(
            "/api/v1/me/household",
            &json!({ "community": "没有这个小区", "building": "3", "unit": "2", "room": "202" }),
            Some(&other),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"));

    // Each market has its own donation pool: gifts to it, its households' orders paid from it,
    // its own ledger. The first market's (the demo's community fund) is untouched by the second's.
    let pool_1 = app.get("/api/v1/donations/pool", None).await.body;
    let pool_2 = app.get(&format!("/api/v1/donations/pool?market_id={market}"), None).await.body;
    assert_eq!((pool_2["balance_fen"].as_i64(), pool_2["gifts"].as_i64()), (Some(0), Some(0)), "{pool_2:?}");
    assert_eq!(app.get("/api/v1/donations/pool?market_id=999", None).await.status, 404);
    let org = json!({ "donor_name": "翠苑业委会", "amount_fen": 3000 });
    assert_eq!(app.post("/api/v1/admin/donations", &org, Some(&staff_2)).await.status, 201);
    let gift = app.post("/api/v1/donations", &json!({ "amount_fen": 500 }), Some(&neighbour)).await;
    assert_eq!(gift.status, 201, "{:?}", gift.body);
    let params = app.post(&format!("/api/v1/donations/{}/pay", gift.body["id"]), &json!({}), Some(&neighbour)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &params.body, None).await.status, 200);
    let seen = app.get("/api/v1/donations/pool", Some(&neighbour)).await.body;
    assert_eq!((seen["balance_fen"].as_i64(), seen["gifts"].as_i64()), (Some(3500), Some(2)), "{seen:?}");
    assert_eq!(app.get("/api/v1/donations/pool", None).await.body, pool_1, "the first market's pool as it was");
    let home_2 = app.get("/api/v1/me", Some(&neighbour)).await.body["household"]["id"].as_i64().expect("home");
    let r = app.patch(&format!("/api/v1/admin/households/{home_2}"), &flag, Some(&staff_2)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let order_2 = placed.body["id"].as_i64().expect("order");
    assert_eq!(needs(&app, &staff_2).await, [order_2]);
    assert!(!needs(&app, &staff).await.contains(&order_2), "another market's need");
    let allocate = json!({ "order_id": order_2 });
    let r = app.post("/api/v1/admin/donations/allocations", &allocate, Some(&staff)).await;
    assert_eq!(r.status, 404, "not the first market's pool to pay: {:?}", r.body);
    let r = app.post("/api/v1/admin/donations/allocations", &allocate, Some(&staff_2)).await;
    assert_eq!((r.status, r.body["balance_fen"].as_i64()), (201, Some(2900)), "{:?}", r.body);
    let ledger_2 = app.get("/api/v1/admin/donations/ledger", Some(&staff_2)).await.body;
    assert_eq!(crate::donations::assert_balances(&ledger_2), 2900);
    assert_eq!(ledger_2["entries"].as_array().map(Vec::len), Some(3), "two gifts and the allocation");
    let ledger_1 = app.get("/api/v1/admin/donations/ledger", Some(&staff)).await.body;
    assert_eq!(ledger_1["balance_fen"], pool_1["balance_fen"]);
    let orders_1: Vec<i64> = ledger_1["entries"]
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["order_id"].as_i64()).collect())
        .unwrap_or_default();
    assert!(!orders_1.contains(&order_2), "{ledger_1:?}");
    assert_eq!(app.get("/api/v1/donations/pool", None).await.body, pool_1);

    // Prices are a market's: its cap, its board, its record; its catalogue file and boxes.
    let cap = json!({ "enabled": true, "max_daily_rise_percent": 10 });
    assert_eq!(app.put("/api/v1/admin/price-cap", &cap, Some(&staff_2)).await.status, 200);
    let board_2 = app.get(&format!("/api/v1/prices?market_id={market}"), None).await.body;
    assert_eq!(board_2["cap"]["enabled"], true, "{board_2:?}");
    let on_board = |board: &Value| -> Vec<i64> {
        board["items"]
            .as_array()
            .map(|l| l.iter().filter_map(|i| i["product_id"].as_i64()).collect())
            .unwrap_or_default()
    };
    assert_eq!(on_board(&board_2), [greens]);
    let board_1 = app.get("/api/v1/prices", None).await.body;
    assert_eq!(board_1["cap"]["enabled"], false, "the first market's cap stays off");
    assert!(on_board(&board_1).contains(&cabbage) && !on_board(&board_1).contains(&greens));
    assert_eq!(app.get("/api/v1/prices", Some(&neighbour)).await.body["cap"]["enabled"], true, "their market's");
    let r = app.patch(&format!("/api/v1/admin/products/{greens}"), &json!({ "price_fen": 400 }), Some(&staff_2)).await;
    assert_eq!((r.status, r.error_code()), (409, "price_capped"), "{:?}", r.body);
    let cabbage_price = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["price_fen"].as_i64();
    let raised = json!({ "price_fen": cabbage_price.expect("price") * 2 });
    let r = app.patch(&format!("/api/v1/admin/products/{cabbage}"), &raised, Some(&staff)).await;
    assert_eq!(r.status, 200, "no cap in the first market: {:?}", r.body);
    let text = |path: &str, token: &str| {
        let req = app.client.get(app.url(path)).bearer_auth(token);
        async move {
            let res = req.send().await.expect("sheet");
            assert_eq!(res.status().as_u16(), 200);
            res.text().await.expect("text")
        }
    };
    let today =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+8")).format("%Y-%m-%d");
    let record = format!("/api/v1/admin/prices.csv?from={today}&to={today}");
    let (record_1, record_2) = (text(&record, &staff).await, text(&record, &staff_2).await);
    assert!(record_2.contains("翠苑青菜") && !record_2.contains("大白菜"), "{record_2}");
    assert!(record_1.contains("大白菜") && !record_1.contains("翠苑青菜"), "{record_1}");
    let file = "/api/v1/admin/catalogue/export.csv";
    let (file_1, file_2) = (text(file, &staff).await, text(file, &staff_2).await);
    assert!(file_2.contains("翠苑青菜") && !file_2.contains("大白菜"), "{file_2}");
    assert!(!file_1.contains("翠苑青菜"), "{file_1}");
    let reach = "摊位号,品名,价格\n901,翠苑青菜,9.00\n".as_bytes().to_vec();
    let url = app.url("/api/v1/admin/catalogue/import?dry_run=false");
    let r = app.send(app.client.post(url).bearer_auth(&staff).header("Content-Type", "text/csv").body(reach)).await;
    assert_eq!((r.status, r.body["applied"].as_bool()), (200, Some(false)), "{:?}", r.body);
    assert!(r.body["rows"].to_string().contains("901"), "no stall 901 in the first market: {:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{greens}"), None).await.body["price_fen"], 300);
    let photo = app.client.put(app.url(&format!("/api/v1/admin/products/{greens}/photo"))).bearer_auth(&staff);
    let r = app.send(photo.header("Content-Type", "image/jpeg").body(vec![0xFF, 0xD8, 0xFF])).await;
    assert_eq!(r.status, 404, "another market's product: {:?}", r.body);
    let the_box = |item: i64| {
        json!({ "vendor_id": stall_2, "name": "翠苑菜盒", "price_fen": 1000, "stock": 5,
                "items": [{ "product_id": item, "quantity": 1 }] })
    };
    let r = app.post("/api/v1/admin/boxes", &the_box(cabbage), Some(&staff_2)).await;
    assert_eq!(r.status, 400, "another market's cabbage is not theirs to pack: {:?}", r.body);
    let r = app.post("/api/v1/admin/boxes", &the_box(greens), Some(&staff)).await;
    assert_eq!(r.status, 400, "another market's stall does not pack the first's boxes: {:?}", r.body);
    let r = app.post("/api/v1/admin/boxes", &the_box(greens), Some(&staff_2)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let box_2 = r.body["id"].as_i64().expect("box");
    let renamed = json!({ "name": "别人的菜盒" });
    assert_eq!(app.patch(&format!("/api/v1/admin/boxes/{box_2}"), &renamed, Some(&staff)).await.status, 404);
    assert_eq!(app.patch(&format!("/api/v1/admin/boxes/{box_2}"), &renamed, Some(&staff_2)).await.status, 200);

    // The register's file is a market's: its building 3 is 翠苑小区's, the first market's is not.
    let register = |token: &str, file: &str| {
        let url = app.url("/api/v1/admin/households/register/import?dry_run=false");
        app.send(app.client.post(url).bearer_auth(token).header("Content-Type", "text/csv").body(file.to_owned()))
    };
    let file = "小区,楼号,单元,室,手机\n翠苑小区,3,1,101,13900000699\n";
    let r = register(&staff, file).await;
    assert_eq!((r.status, r.body["applied"].as_bool()), (200, Some(false)), "not the first market's 3: {:?}", r.body);
    let r = register(&staff_2, file).await;
    assert_eq!((r.status, r.body["applied"].as_bool(), r.body["added"].as_i64()), (200, Some(true), Some(1)));
    let people = app.get(&format!("/api/v1/admin/households/{home_2}/people"), Some(&staff_2)).await.body;
    assert_eq!(people["register"], json!(["13900000699"]), "{people:?}");
    let sheet = "/api/v1/admin/households/register.csv";
    let (sheet_1, sheet_2) = (text(sheet, &staff).await, text(sheet, &staff_2).await);
    assert!(sheet_2.contains("翠苑小区,3,1,101,13900000699") && !sheet_2.contains("七里山"), "{sheet_2}");
    assert!(!sheet_1.contains("13900000699"), "{sheet_1}");

    // The supply plan is of the market's stalls' goods.
    let day = slot_2["starts_at"].as_str().map(|s| s[..10].to_owned()).expect("starts_at");
    let plan = format!("/api/v1/admin/supply?day={day}");
    let (plan_1, plan_2) = (app.get(&plan, Some(&staff)).await, app.get(&plan, Some(&staff_2)).await);
    assert_eq!((plan_1.status, plan_2.status), (200, 200));
    assert_eq!(ids_of(&plan_2.body, "product_id"), [greens], "the neighbour's two bunches: {:?}", plan_2.body);
    assert!(!ids_of(&plan_1.body, "product_id").contains(&greens));

    // The audit is a market's: changes its people made.
    let audited = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .map(|l| l.iter().filter_map(|e| e["subject_id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let path = "/api/v1/admin/audit?subject=product&limit=500";
    let (audit_1, audit_2) = (app.get(path, Some(&staff)).await, app.get(path, Some(&staff_2)).await);
    assert_eq!((audit_1.status, audit_2.status), (200, 200));
    let (greens_id, cabbage_id) = (greens.to_string(), cabbage.to_string());
    assert!(audited(&audit_2.body).contains(&greens_id), "{:?}", audit_2.body);
    assert!(!audited(&audit_2.body).contains(&cabbage_id), "{:?}", audit_2.body);
    assert!(audited(&audit_1.body).contains(&cabbage_id) && !audited(&audit_1.body).contains(&greens_id));

    // Staff see and hand over only their own market's orders.
    let order = format!("/api/v1/orders/{order_2}");
    assert_eq!(app.get(&order, Some(&staff)).await.status, 404, "another market's order");
    assert_eq!(app.get(&order, Some(&staff_2)).await.status, 200);
    let parts = app.get(&format!("/api/v1/vendor/orders?slot_id={}", slot_2["id"]), Some(&holder_2)).await.body;
    for p in parts["items"].as_array().expect("parts") {
        for step in ["confirm", "packed"] {
            let r = app.post(&format!("/api/v1/vendor/orders/{}/{step}", p["id"]), &json!({}), Some(&holder_2)).await;
            assert_eq!(r.status, 200, "{step}: {:?}", r.body);
        }
    }
    for step in ["claim", "pickup"] {
        let r = app.post(&format!("/api/v1/batches/{}/{step}", batch_2["id"]), &json!({}), Some(&volunteer_2)).await;
        assert_eq!(r.status, 200, "{step}: {:?}", r.body);
    }
    let code = json!({ "code": app.get(&order, Some(&neighbour)).await.body["handoff_code"] });
    let r = app.post(&format!("{order}/handoff"), &code, Some(&staff)).await;
    assert_eq!(r.status, 403, "not theirs to hand over: {:?}", r.body);
    assert_eq!(app.get(&order, Some(&neighbour)).await.body["status"], "out_for_delivery");
    let r = app.post(&format!("{order}/handoff"), &code, Some(&staff_2)).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("delivered")), "{:?}", r.body);
    // The books balance: each market's pool, and nothing of one market tied to another's.
    app.books_balance().await;
}
