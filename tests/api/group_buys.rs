//! Group-buys for quarantined buildings, through HTTP on both databases: leaders, opening,
//! atomic joins under concurrency (also through two server processes on PostgreSQL), closing
//! once (by hand, at the deadline by the server, by two at once), proxy shares, the console.

use crate::SERVER_BIN;
use serde_json::{json, Value};
use tests::{join_all, on_both_databases, spawn_app_with, start, start_process, test_config, Db, TestApp};

on_both_databases! {
    staff_make_leaders_who_open_group_buys_for_their_own_buildings => leaders_open;
    households_join_change_and_leave_with_every_rule_held => joining;
    concurrent_joins_never_pass_an_items_maximum => concurrent_joins;
    closing_makes_one_order_per_share_once => closing;
    a_shortfall_fails_and_gives_everything_back => shortfall;
    the_server_closes_a_group_buy_at_its_deadline => deadline;
    a_deadline_passed_while_the_server_was_down_is_closed_when_it_starts => deadline_across_restart;
    volunteers_place_shares_for_households_without_a_phone => proxy_shares;
    paid_shares_become_paid_orders_or_come_back_when_it_fails => paid_shares;
}

const STAFF: &str = "13800000000";
const VOLUNTEER: &str = "13800000201";
const LEADER: &str = "13700000001";

/// A test server whose jobs run often and that lets many residents log in from one address.
async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |c| {
        c.sms.per_ip_per_hour = 100_000;
        c.expiry_interval = std::time::Duration::from_millis(300);
    })
    .await
}

struct Market {
    staff: String,
    leader: String,
    cabbage: i64,
    potatoes: i64,
    slot: Value,
}

/// Staff, a leader of buildings 5 and 6, two products with plenty of stock (priced above the
/// group prices of `opening`), a drop slot.
async fn market(app: &TestApp) -> Market {
    let (staff, _) = app.login(STAFF).await;
    let made = app
        .put(
            &format!("/api/v1/admin/users/{LEADER}/roles"),
            &json!({ "roles": ["resident", "leader"], "buildings": ["5", "6"] }),
            Some(&staff),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    assert_eq!(made.body["leader_buildings"], json!(["5", "6"]));
    let (leader, me) = app.login(LEADER).await;
    assert!(me["roles"].as_array().expect("roles").contains(&json!("leader")));
    let cabbage = app.product_id("大白菜").await;
    let potatoes = app.product_id("土豆").await;
    for (p, price) in [(cabbage, 180), (potatoes, 250)] {
        app.change_product(&staff, p, &json!({ "stock": 5000, "price_fen": price })).await;
    }
    let slot = app.open_slot(&staff, 5000, 0, 30).await;
    Market { staff, leader, cabbage, potatoes, slot }
}

fn in_hours(h: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339()
}

fn opening(m: &Market, buildings: &[&str], max: i64, limit: i64, min_households: i64, shortfall: &str) -> Value {
    json!({
        "title": "白菜土豆团购",
        "buildings": buildings,
        "items": [
            { "product_id": m.cabbage, "price_fen": 150, "max_quantity": max, "per_household_limit": limit },
            { "product_id": m.potatoes, "price_fen": 200, "max_quantity": max, "per_household_limit": limit },
        ],
        "min_households": min_households,
        "deadline": in_hours(5),
        "slot_id": m.slot["id"],
        "on_shortfall": shortfall,
    })
}

async fn open(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/api/v1/group-buys", body, Some(token)).await;
    assert_eq!(r.status, 201, "open: {:?}", r.body);
    assert_eq!(r.body["status"], "open");
    r.body
}

/// A resident living at building/unit/room, logged in.
async fn resident(app: &TestApp, phone: &str, building: &str, room: &str) -> String {
    let (token, _) = app.login(phone).await;
    let home = json!({ "building": building, "unit": "1", "room": room });
    let r = app.put("/api/v1/me/household", &home, Some(&token)).await;
    assert_eq!(r.status, 200, "home: {:?}", r.body);
    token
}

async fn stock(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/v1/products/{id}"), None).await.body["stock"].as_i64().expect("stock")
}

async fn slot_remaining(app: &TestApp, slot: &Value) -> i64 {
    let all = app.get("/api/v1/slots", None).await.body;
    let s = all["items"].as_array().expect("items").iter().find(|s| s["id"] == slot["id"]).cloned().expect("slot");
    s["remaining"].as_i64().expect("remaining")
}

fn share(lines: &[(i64, i64)]) -> Value {
    json!({ "items": lines.iter().map(|(p, q)| json!({ "product_id": p, "quantity": q })).collect::<Vec<_>>() })
}

fn joined(gb: &Value, product: i64) -> i64 {
    gb["items"].as_array().expect("items").iter().find(|i| i["product_id"] == product).expect("item")["joined_quantity"]
        .as_i64()
        .expect("joined_quantity")
}

async fn leaders_open(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let before = stock(&app, m.cabbage).await;

    // Bad input: 400 naming the field, and nothing is set aside.
    let good = opening(&m, &["5"], 100, 3, 2, "cancel");
    for (field, bad) in [
        ("title", json!({ "title": "" })),
        ("buildings", json!({ "buildings": ["99"] })),
        ("buildings", json!({ "buildings": [] })),
        ("items", json!({ "items": [] })),
        ("min_households", json!({ "min_households": 0 })),
        ("deadline", json!({ "deadline": "tomorrow" })),
        ("deadline", json!({ "deadline": in_hours(-1) })),
        ("slot_id", json!({ "slot_id": 999_999 })),
        ("slot_id", json!({ "deadline": in_hours(40) })),
        (
            "per_household_limit",
            json!({ "items": [{ "product_id": m.cabbage, "price_fen": 150, "max_quantity": 5, "per_household_limit": 6 }] }),
        ),
        (
            "price_fen",
            json!({ "items": [{ "product_id": m.cabbage, "price_fen": 181, "max_quantity": 5, "per_household_limit": 1 }] }),
        ),
        (
            "product_id",
            json!({ "items": [{ "product_id": 999_999, "price_fen": 150, "max_quantity": 5, "per_household_limit": 1 }] }),
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in bad.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/group-buys", &body, Some(&m.staff)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert_eq!(r.error_code(), "invalid_field");
        assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains(field), "{field}: {:?}", r.body);
    }
    // More than the stock cannot be set aside.
    let mut greedy = good.clone();
    greedy["items"][0]["max_quantity"] = json!(before + 1);
    greedy["items"][0]["per_household_limit"] = json!(1);
    let r = app.post("/api/v1/group-buys", &greedy, Some(&m.staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "out_of_stock"));
    assert_eq!(stock(&app, m.cabbage).await, before);

    // A leader opens for their own buildings only; a resident not at all.
    let r = app.post("/api/v1/group-buys", &opening(&m, &["5", "7"], 10, 1, 1, "cancel"), Some(&m.leader)).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let plain = resident(&app, "13900000101", "5", "101").await;
    let r = app.post("/api/v1/group-buys", &good, Some(&plain)).await;
    assert_eq!(r.status, 403);
    assert_eq!(stock(&app, m.cabbage).await, before);

    let gb = open(&app, &m.leader, &good).await;
    assert_eq!(gb["buildings"], json!(["5"]));
    assert_eq!(gb["min_households"], 2);
    assert_eq!(gb["joined_households"], 0);
    assert_eq!(gb["manage"], true);
    assert_eq!(joined(&gb, m.cabbage), 0);
    assert_eq!(stock(&app, m.cabbage).await, before - 100, "the maximum is set aside");

    // Who sees it: the leader and staff (they run it), residents of building 5, not of 8.
    // (The demo market has a group-buy of its own, for buildings 3 and 5.)
    let listed = |token: String| {
        let (app, id) = (&app, gb["id"].clone());
        async move {
            let all =
                app.get("/api/v1/group-buys", Some(&token)).await.body["items"].as_array().cloned().unwrap_or_default();
            all.iter().any(|g| g["id"] == id)
        }
    };
    assert!(listed(m.leader.clone()).await);
    assert!(listed(m.staff.clone()).await);
    assert!(listed(plain.clone()).await);
    let elsewhere = resident(&app, "13900000102", "8", "101").await;
    assert!(!listed(elsewhere.clone()).await);
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    assert_eq!(app.get(&path, Some(&elsewhere)).await.status, 404);
    assert_eq!(app.get(&path, Some(&plain)).await.body["manage"], false);

    // Roles: bad input is refused and changes nothing.
    for bad in [
        json!({ "roles": ["leader"] }),
        json!({ "roles": ["leader"], "buildings": ["99"] }),
        json!({ "roles": ["king"] }),
        json!({ "roles": ["resident"], "buildings": ["5"] }),
    ] {
        let r = app.put(&format!("/api/v1/admin/users/{LEADER}/roles"), &bad, Some(&m.staff)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let r = app.put("/api/v1/admin/users/12345/roles", &json!({ "roles": ["resident"] }), Some(&m.staff)).await;
    assert_eq!(r.status, 400);
    let r =
        app.put(&format!("/api/v1/admin/users/{LEADER}/roles"), &json!({ "roles": ["staff"] }), Some(&m.leader)).await;
    assert_eq!(r.status, 403);
    let me = app.get("/api/v1/me", Some(&m.leader)).await;
    assert_eq!(me.body["leader_buildings"], json!(["5", "6"]));
    // Taking the role away takes effect on the next request.
    let r = app
        .put(&format!("/api/v1/admin/users/{LEADER}/roles"), &json!({ "roles": ["resident"] }), Some(&m.staff))
        .await;
    assert_eq!(r.status, 200);
    let r = app.post(&format!("{path}/close"), &json!({}), Some(&m.leader)).await;
    assert_eq!(r.status, 404, "no longer runs it, and does not live there: {:?}", r.body);
}

async fn joining(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let gb = open(&app, &m.staff, &opening(&m, &["5"], 10, 4, 2, "cancel")).await;
    let id = gb["id"].clone();
    let path = format!("/api/v1/group-buys/{id}");
    let places = slot_remaining(&app, &m.slot).await;
    let a = resident(&app, "13900000201", "5", "201").await;
    let b = resident(&app, "13900000202", "5", "202").await;
    let outsider = resident(&app, "13900000203", "6", "203").await;
    let (homeless, _) = app.login("13900000204").await;

    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 3), (m.potatoes, 1)]), Some(&a)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["total_fen"], 3 * 150 + 200);
    assert_eq!(r.body["room"], "201");
    let seen = app.get(&path, Some(&a)).await.body;
    assert_eq!(seen["joined_households"], 1);
    assert_eq!(joined(&seen, m.cabbage), 3);
    assert_eq!(seen["my_share"]["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(slot_remaining(&app, &m.slot).await, places - 1, "the drop's slot counts the household");

    // Refusals change nothing, not even part of a change.
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 5)]), Some(&b)).await;
    assert_eq!((r.status, r.error_code()), (409, "over_limit"));
    let r = app.put(&format!("{path}/share"), &share(&[(m.potatoes, 2), (m.cabbage, 4)]), Some(&b)).await;
    assert_eq!(r.status, 200);
    // 7 of 10 cabbages are taken: asking for 4 more with a potato is refused whole.
    let c = resident(&app, "13900000205", "5", "205").await;
    let r = app.put(&format!("{path}/share"), &share(&[(m.potatoes, 1), (m.cabbage, 4)]), Some(&c)).await;
    assert_eq!((r.status, r.error_code()), (409, "group_full"), "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().is_some_and(|t| t.contains('3')), "says how many are left");
    let seen = app.get(&path, Some(&c)).await.body;
    assert_eq!((joined(&seen, m.cabbage), joined(&seen, m.potatoes)), (7, 3), "nothing of the refused change");
    assert!(seen["my_share"].is_null());
    assert_eq!(slot_remaining(&app, &m.slot).await, places - 2);
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&outsider)).await;
    assert_eq!((r.status, r.error_code()), (403, "not_eligible"));
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&homeless)).await;
    assert_eq!((r.status, r.error_code()), (403, "not_eligible"));
    for bad in [share(&[(m.cabbage, -1)]), share(&[(999_999, 1)]), json!({ "items": "many" })] {
        let r = app.put(&format!("{path}/share"), &bad, Some(&a)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    assert_eq!(app.put("/api/v1/group-buys/999999/share", &share(&[(m.cabbage, 1)]), Some(&a)).await.status, 404);

    // Changing keeps the place; leaving (all zero, or DELETE) gives it back.
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&a)).await;
    assert_eq!(r.status, 200);
    assert_eq!(slot_remaining(&app, &m.slot).await, places - 2);
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 0), (m.potatoes, 0)]), Some(&a)).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app.delete(&format!("{path}/share"), Some(&b)).await;
    assert_eq!(r.status, 204);
    let seen = app.get(&path, Some(&a)).await.body;
    assert_eq!(seen["joined_households"], 0);
    assert_eq!((joined(&seen, m.cabbage), joined(&seen, m.potatoes)), (0, 0));
    assert!(seen["my_share"].is_null());
    assert_eq!(slot_remaining(&app, &m.slot).await, places);

    // A resident may not close it nor see its shares.
    assert_eq!(app.post(&format!("{path}/close"), &json!({}), Some(&a)).await.status, 403);
    assert_eq!(app.get(&format!("{path}/shares"), Some(&a)).await.status, 403);
}

/// Residents on building 5 each with their own home, logged in.
async fn residents(app: &TestApp, n: usize, first_phone: u64) -> Vec<String> {
    let mut tokens = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(25) {
        let made = join_all(
            chunk
                .iter()
                .map(|&i| async move {
                    let (phone, room) = (format!("{}", first_phone + i as u64), format!("{}", 1000 + i));
                    resident(app, &phone, "5", &room).await
                })
                .collect(),
        )
        .await;
        tokens.extend(made);
    }
    tokens
}

async fn concurrent_joins(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let gb = open(&app, &m.staff, &opening(&m, &["5"], 100, 2, 1, "cancel")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    let people = residents(&app, 160, 13_910_000_000).await;
    // A second server process on the same PostgreSQL takes half of them.
    let second = match db {
        Db::Postgres => {
            let (mut config, _) = test_config(db).await;
            config.database_url = app.database_url.clone();
            config.sms.per_ip_per_hour = 100_000;
            Some(start_process(SERVER_BIN, &config, db).await)
        }
        Db::Sqlite => None,
    };
    let server = |i: usize| match &second {
        Some(s) if i % 2 == 1 => s,
        _ => &app,
    };
    // Each asks for one cabbage and, every third, a second one: 100 can be had.
    let answers = join_all(
        people
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let body = share(&[(m.cabbage, if i % 3 == 0 { 2 } else { 1 })]);
                let path = format!("{path}/share");
                async move { server(i).put(&path, &body, Some(t)).await }
            })
            .collect(),
    )
    .await;
    let mut taken = 0;
    let mut households = 0;
    for (i, r) in answers.iter().enumerate() {
        match r.status {
            200 => {
                households += 1;
                taken += if i % 3 == 0 { 2 } else { 1 };
            }
            409 => assert_eq!(r.error_code(), "group_full"),
            other => panic!("unexpected {other}: {:?}", r.body),
        }
    }
    let seen = app.get(&path, Some(&m.staff)).await.body;
    assert!(taken <= 100, "never over the maximum: {taken}");
    assert!(taken >= 99, "only a last 2 may not fit: {taken}");
    assert_eq!(joined(&seen, m.cabbage), taken, "every accepted join counted, none lost");
    assert_eq!(seen["joined_households"], households);
    let shares = app.get(&format!("{path}/shares"), Some(&m.staff)).await.body;
    assert_eq!(shares["items"].as_array().map(Vec::len), Some(households as usize));

    // Everyone changes at once: half leave, half ask for one more; still within the maximum.
    let accepted: Vec<&String> = answers.iter().zip(&people).filter(|(r, _)| r.status == 200).map(|(_, t)| t).collect();
    let changes = join_all(
        accepted
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let body = share(&[(m.cabbage, if i % 2 == 0 { 0 } else { 2 })]);
                let path = format!("{path}/share");
                async move { server(i).put(&path, &body, Some(t)).await }
            })
            .collect(),
    )
    .await;
    assert!(changes.iter().all(|r| [200, 204, 409].contains(&r.status)));
    let shares = app.get(&format!("{path}/shares"), Some(&m.staff)).await.body;
    let total: i64 = shares["items"]
        .as_array()
        .expect("items")
        .iter()
        .flat_map(|s| s["items"].as_array().cloned().unwrap_or_default())
        .map(|l| l["quantity"].as_i64().unwrap_or(0))
        .sum();
    let seen = app.get(&path, Some(&m.staff)).await.body;
    assert_eq!(joined(&seen, m.cabbage), total, "the counter is the sum of the shares");
    assert!(total <= 100);
    assert_eq!(seen["joined_households"].as_i64(), shares["items"].as_array().map(|a| a.len() as i64));
    if let Some(s) = second {
        s.stop().await;
    }
}

async fn closing(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let before = (stock(&app, m.cabbage).await, stock(&app, m.potatoes).await);
    let gb = open(&app, &m.leader, &opening(&m, &["5", "6"], 20, 5, 2, "cancel")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    let a = resident(&app, "13900000301", "5", "301").await;
    let b = resident(&app, "13900000302", "6", "302").await;
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    assert_eq!(
        app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1), (m.potatoes, 3)]), Some(&b)).await.status,
        200
    );

    // Closed by ten at once: one set of orders.
    let (close_path, nothing) = (format!("{path}/close"), json!({}));
    let closes = join_all((0..10).map(|_| app.post(&close_path, &nothing, Some(&m.leader))).collect()).await;
    for r in &closes {
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["status"], "confirmed");
    }
    assert!(closes[0].body["outcome"].as_str().is_some_and(|o| !o.is_empty()));
    let again = app.post(&format!("{path}/close"), &json!({}), Some(&m.staff)).await;
    assert_eq!(again.body["status"], "confirmed");

    // Each household sees its order, with the group-buy and the group price.
    for (token, total) in [(&a, 300), (&b, 150 + 600)] {
        let orders = app.get("/api/v1/orders", Some(token)).await.body;
        let items = orders["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{orders}");
        assert_eq!(items[0]["group_buy_id"], gb["id"]);
        let order = app.get(&format!("/api/v1/orders/{}", items[0]["id"]), Some(token)).await.body;
        assert_eq!(order["status"], "placed");
        assert_eq!(order["total_fen"], total);
        assert_eq!(order["slot_id"], m.slot["id"]);
        assert_eq!(order["group_buy_id"], gb["id"]);
        assert_eq!(order["handoff_code"].as_str().map(str::len), Some(6));
        let seen = app.get(&path, Some(token)).await.body;
        assert_eq!(seen["status"], "confirmed");
        assert_eq!(seen["my_share"]["order_id"], items[0]["id"]);
        // And is told, once, however many closed it.
        let told = app.get("/api/v1/me/notices", Some(token)).await.body;
        let told: Vec<&serde_json::Value> =
            told["items"].as_array().expect("items").iter().filter(|n| n["kind"] == "group_buy_closed").collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0]["order_id"], items[0]["id"]);
    }
    // What was not taken went back to stock.
    assert_eq!(stock(&app, m.cabbage).await, before.0 - 3);
    assert_eq!(stock(&app, m.potatoes).await, before.1 - 3);
    // No more joining.
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&a)).await;
    assert_eq!((r.status, r.error_code()), (409, "group_closed"));
    let r = app.post(&format!("{path}/cancel"), &json!({}), Some(&m.leader)).await;
    assert_eq!((r.status, r.error_code()), (409, "group_closed"));
}

async fn shortfall(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let before = stock(&app, m.cabbage).await;
    let places = slot_remaining(&app, &m.slot).await;
    let gb = open(&app, &m.staff, &opening(&m, &["5"], 20, 5, 3, "cancel")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    let a = resident(&app, "13900000401", "5", "401").await;
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    let r = app.post(&format!("{path}/close"), &json!({}), Some(&m.staff)).await;
    assert_eq!(r.body["status"], "failed", "{:?}", r.body);
    let seen = app.get(&path, Some(&a)).await.body;
    assert_eq!(seen["status"], "failed");
    assert!(seen["outcome"].as_str().is_some_and(|o| o.contains('3')), "says why: {seen}");
    assert!(app.get("/api/v1/orders", Some(&a)).await.body["items"].as_array().is_some_and(Vec::is_empty));
    let told = app.get("/api/v1/me/notices", Some(&a)).await.body;
    assert_eq!(told["items"][0]["title"], "团购未成团", "{told}");
    assert_eq!(stock(&app, m.cabbage).await, before);
    assert_eq!(slot_remaining(&app, &m.slot).await, places);

    // `proceed`: the one household's share becomes an order anyway; a call-off makes none.
    let gb = open(&app, &m.staff, &opening(&m, &["5"], 20, 5, 3, "proceed")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    let r = app.post(&format!("{path}/close"), &json!({}), Some(&m.staff)).await;
    assert_eq!(r.body["status"], "confirmed");
    assert_eq!(app.get("/api/v1/orders", Some(&a)).await.body["items"].as_array().map(Vec::len), Some(1));
    let gb = open(&app, &m.staff, &opening(&m, &["5"], 20, 5, 1, "proceed")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    let r = app.post(&format!("{path}/cancel"), &json!({}), Some(&m.staff)).await;
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(app.get("/api/v1/orders", Some(&a)).await.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(stock(&app, m.cabbage).await, before - 2);
}

async fn deadline(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    // Everything else first: only opening and joining happen before the close.
    let a = resident(&app, "13900000501", "5", "501").await;
    let mut body = opening(&m, &["5"], 20, 5, 1, "cancel");
    body["deadline"] = json!((chrono::Utc::now() + chrono::Duration::seconds(4)).to_rfc3339());
    let gb = open(&app, &m.staff, &body).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    // On PostgreSQL a second process runs the same job against the same group-buy.
    let second = match db {
        Db::Postgres => {
            let (mut config, _) = test_config(db).await;
            config.database_url = app.database_url.clone();
            Some(start_process(SERVER_BIN, &config, db).await)
        }
        Db::Sqlite => None,
    };
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.get(&path, Some(&a)).await.body["status"].clone();
        if status != "open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, "confirmed");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let orders = app.get("/api/v1/orders", Some(&a)).await.body;
    assert_eq!(orders["items"].as_array().map(Vec::len), Some(1), "one order, whoever closed it: {orders}");
    if let Some(s) = second {
        s.stop().await;
    }
}

async fn deadline_across_restart(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.sms.per_ip_per_hour = 100_000;
    config.expiry_interval = std::time::Duration::from_millis(300);
    let first = start(config.clone(), db, schema.clone()).await;
    let m = market(&first).await;
    let a = resident(&first, "13900000701", "5", "701").await;
    let mut body = opening(&m, &["5"], 20, 5, 1, "cancel");
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(4);
    body["deadline"] = json!(deadline.to_rfc3339());
    let gb = open(&first, &m.staff, &body).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    assert_eq!(first.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    // The server stops before the deadline and starts again after it, on the same data.
    first.stop().await;
    let wait = (deadline - chrono::Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(500);
    tokio::time::sleep(wait).await;
    let again = start(config, db, schema).await;
    let mut status = Value::Null;
    for _ in 0..50 {
        status = again.get(&path, Some(&a)).await.body["status"].clone();
        if status != "open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, "confirmed");
    let orders = again.get("/api/v1/orders", Some(&a)).await.body;
    assert_eq!(orders["items"].as_array().map(Vec::len), Some(1), "{orders}");
}

async fn proxy_shares(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let gb = open(&app, &m.leader, &opening(&m, &["5"], 20, 5, 1, "cancel")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    let (volunteer, _) = app.login(VOLUNTEER).await;
    let plain = resident(&app, "13900000601", "5", "601").await;

    // The volunteer finds the household by its address (put on record if new) and places its share.
    let address = json!({ "building": "5", "unit": "2", "room": "602" });
    let r = app.post(&format!("{path}/households"), &address, Some(&plain)).await;
    assert_eq!(r.status, 403, "a resident does not place shares for others");
    let r = app
        .post(&format!("{path}/households"), &json!({ "building": "6", "unit": "2", "room": "602" }), Some(&volunteer))
        .await;
    assert_eq!((r.status, r.error_code()), (403, "not_eligible"));
    let household = app.post(&format!("{path}/households"), &address, Some(&volunteer)).await;
    assert_eq!(household.status, 200, "{:?}", household.body);
    let hid = household.body["id"].clone();
    let r = app.put(&format!("{path}/shares/{hid}"), &share(&[(m.cabbage, 2)]), Some(&volunteer)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["placed_by"].as_str().is_some_and(|p| p.contains("志愿者") && p.contains("****")), "{:?}", r.body);
    let r = app.put(&format!("{path}/shares/{hid}"), &share(&[(m.cabbage, 2)]), Some(&plain)).await;
    assert_eq!(r.status, 403);

    // A volunteer places shares only in the buildings staff assigned them.
    let assigned = json!({ "roles": ["volunteer"], "buildings": ["6"] });
    let r = app.put("/api/v1/admin/users/13800000299/roles", &assigned, Some(&m.staff)).await;
    assert_eq!((r.status, &r.body["leader_buildings"]), (200, &json!(["6"])), "{:?}", r.body);
    let (elsewhere, _) = app.login("13800000299").await;
    let r = app.put(&format!("{path}/shares/{hid}"), &share(&[(m.cabbage, 1)]), Some(&elsewhere)).await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"), "{:?}", r.body);
    // A share the household placed itself is the household's: a volunteer does not change it;
    // staff may, and the household is told.
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&plain)).await.status, 200);
    let own = app.get("/api/v1/me", Some(&plain)).await.body["household"]["id"].clone();
    let r = app.put(&format!("{path}/shares/{own}"), &share(&[(m.cabbage, 3)]), Some(&volunteer)).await;
    assert_eq!((r.status, r.error_code()), (403, "forbidden"), "{:?}", r.body);
    assert_eq!(app.get(&path, Some(&plain)).await.body["my_share"]["items"][0]["quantity"], 1, "unchanged");
    let r = app.put(&format!("{path}/shares/{own}"), &share(&[(m.cabbage, 2)]), Some(&m.staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let notices = app.get("/api/v1/me/notices", Some(&plain)).await.body;
    let told = notices["items"].as_array().expect("items").iter().any(|n| {
        n["title"] == "有人为您家代下团购"
            && n["body"].as_str().is_some_and(|b| b.contains("工作人员") && b.contains("大白菜×2"))
    });
    assert!(told, "{notices}");
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 0)]), Some(&plain)).await.status, 204);

    // The console: the proxy share listed; the CSV with its BOM.
    let shares = app.get(&format!("{path}/shares"), Some(&m.leader)).await;
    assert_eq!(shares.status, 200);
    let listed = shares.body["items"].as_array().expect("items");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["room"], "602");
    assert!(listed[0]["placed_by"].is_string());
    let csv = app.client.get(app.url(&format!("{path}/shares.csv"))).bearer_auth(&m.leader).send().await.expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/csv"));
    let bytes = csv.bytes().await.expect("bytes");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    assert!(text.contains("大白菜×2") && text.contains("602") && text.contains("志愿者"), "{text}");
    let r = app.client.get(app.url(&format!("{path}/shares.csv"))).bearer_auth(&volunteer).send().await.expect("csv");
    assert_eq!(r.status(), 403);

    // Closed: the order records who placed it. A resident who later lives there sees it.
    let r = app.post(&format!("{path}/close"), &json!({}), Some(&m.leader)).await;
    assert_eq!(r.body["status"], "confirmed");
    let later = resident(&app, "13900000602", "5", "602").await;
    let r =
        app.put("/api/v1/me/household", &json!({ "building": "5", "unit": "2", "room": "602" }), Some(&later)).await;
    assert_eq!(r.status, 200);
    let orders = app.get("/api/v1/orders", Some(&later)).await.body;
    let items = orders["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{orders}");
    let order = app.get(&format!("/api/v1/orders/{}", items[0]["id"]), Some(&later)).await.body;
    assert!(order["placed_by"].as_str().is_some_and(|p| p.contains("志愿者")), "{order}");
    assert_eq!(order["address"]["room"], "602");
    // Nobody else's.
    assert_eq!(app.get(&format!("/api/v1/orders/{}", items[0]["id"]), Some(&plain)).await.status, 404);
}

/// Pays the caller's share through the demo phone (the simulator notifies this server).
async fn pay_share(app: &TestApp, path: &str, token: &str) -> Value {
    let params = app.post(&format!("{path}/share/pay"), &json!({}), Some(token)).await;
    assert_eq!(params.status, 200, "{:?}", params.body);
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &params.body, None).await.status, 200);
    params.body
}

async fn paid_shares(db: Db) {
    let app = app(db).await;
    let m = market(&app).await;
    let sim = app.simulator.clone().expect("the simulator");

    // A group-buy that goes ahead: one household pays ahead, one pays on delivery.
    let gb = open(&app, &m.leader, &opening(&m, &["5", "6"], 20, 5, 2, "cancel")).await;
    let path = format!("/api/v1/group-buys/{}", gb["id"]);
    let a = resident(&app, "13900000401", "5", "401").await;
    let b = resident(&app, "13900000402", "6", "402").await;
    let r = app.post(&format!("{path}/share/pay"), &json!({}), Some(&a)).await;
    assert_eq!((r.status, r.error_code()), (404, "not_found"), "no share yet");
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 2)]), Some(&a)).await.status, 200);
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.potatoes, 1)]), Some(&b)).await.status, 200);
    // Asked to pay, then changed before paying: the old prepay's money is owed back, the new one pays.
    let stale = app.post(&format!("{path}/share/pay"), &json!({}), Some(&a)).await;
    assert_eq!(stale.status, 200, "{:?}", stale.body);
    assert_eq!(app.put(&format!("{path}/share"), &share(&[(m.cabbage, 3)]), Some(&a)).await.status, 200);
    let fresh = pay_share(&app, &path, &a).await;
    assert_ne!(fresh["package"], stale.body["package"], "a changed share gets a new prepay");
    let seen = app.get(&path, Some(&a)).await.body;
    assert_eq!(seen["my_share"]["payment"], "paid", "{seen}");
    // Paid: no change, no leaving, no second payment.
    let r = app.put(&format!("{path}/share"), &share(&[(m.cabbage, 1)]), Some(&a)).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(app.delete(&format!("{path}/share"), Some(&a)).await.status, 409);
    let r = app.post(&format!("{path}/share/pay"), &json!({}), Some(&a)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"));
    // The stale prepay is paid after all: not a second payment of the share, owed back.
    assert_eq!(app.post("/api/v1/demo/wechat-pay", &stale.body, None).await.status, 200);

    let r = app.post(&format!("{path}/close"), &json!({}), Some(&m.leader)).await;
    assert_eq!(r.body["status"], "confirmed", "{:?}", r.body);
    let order_of = |orders: &Value| orders["items"][0]["id"].clone();
    let a_order = order_of(&app.get("/api/v1/orders", Some(&a)).await.body);
    let seen = app.get(&format!("/api/v1/orders/{a_order}"), Some(&a)).await.body;
    assert_eq!((seen["status"].as_str(), seen["payment"].as_str()), (Some("paid"), Some("wechat")), "{seen}");
    assert_eq!(seen["total_fen"], 450);
    let b_order = order_of(&app.get("/api/v1/orders", Some(&b)).await.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{b_order}"), Some(&b)).await.body["status"], "placed");
    // Cancelled before a stall starts: the share's money goes back through its own payment.
    assert_eq!(app.post(&format!("/api/v1/orders/{a_order}/cancel"), &json!({}), Some(&a)).await.status, 200);

    // A group-buy that fails: the paid share is refunded (once), the unpaid one costs nothing.
    let failing = open(&app, &m.leader, &opening(&m, &["5", "6"], 20, 5, 3, "cancel")).await;
    let fpath = format!("/api/v1/group-buys/{}", failing["id"]);
    assert_eq!(app.put(&format!("{fpath}/share"), &share(&[(m.potatoes, 2)]), Some(&a)).await.status, 200);
    assert_eq!(app.put(&format!("{fpath}/share"), &share(&[(m.cabbage, 1)]), Some(&b)).await.status, 200);
    pay_share(&app, &fpath, &a).await;
    let (fclose, nothing) = (format!("{fpath}/close"), json!({}));
    let closes = join_all((0..5).map(|_| app.post(&fclose, &nothing, Some(&m.leader))).collect()).await;
    assert!(closes.iter().all(|r| r.body["status"] == "failed"), "{:?}", closes[0].body);
    let seen = app.get(&fpath, Some(&a)).await.body;
    assert_eq!(seen["my_share"]["payment"], "refund_due", "{seen}");
    assert_eq!(app.get("/api/v1/orders", Some(&a)).await.body["items"].as_array().map(Vec::len), Some(1));

    // Every refund reaches the resident's WeChat, once each: the stale prepay's money, the
    // cancelled order's, the failed group-buy's share.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let open = app.get("/api/v1/admin/refunds", Some(&m.staff)).await.body;
        if open["items"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "refunds still open: {open}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let at_wechat: Value =
        app.client.get(format!("{sim}/sim/refunds")).send().await.expect("sim").json().await.expect("json");
    let mut amounts: Vec<(i64, String)> = at_wechat
        .as_array()
        .expect("refunds")
        .iter()
        .map(|r| (r["amount"].as_i64().unwrap_or(0), r["out_trade_no"].as_str().unwrap_or("").to_owned()))
        .collect();
    amounts.sort();
    let (g1, g2) = (gb["id"].as_i64().unwrap_or(0), failing["id"].as_i64().unwrap_or(0));
    let hh = |me: &Value| me["household"]["id"].as_i64().unwrap_or(0);
    let a_home = hh(&app.get("/api/v1/me", Some(&a)).await.body);
    let mut expected = vec![
        (300, format!("FXG{g1}H{a_home}N1")),
        (400, format!("FXG{g2}H{a_home}N1")),
        (450, format!("FXG{g1}H{a_home}N2")),
    ];
    expected.sort();
    assert_eq!(amounts, expected, "each refunded once, from its own payment");
    // The resident is told the failed group-buy's money came back.
    let told = app.get("/api/v1/me/notices", Some(&a)).await.body;
    assert!(
        told["items"].as_array().expect("items").iter().any(|n| n["kind"] == "refund" && n["order_id"].is_null()),
        "{told}"
    );
}
