//! A real market's first day: without the demo the market starts empty, and the first staff
//! account is made by the server binary's own command.

use crate::sms_gateway::fake_gateway;
use crate::SERVER_BIN;
use serde_json::json;
use tests::{on_both_databases, start, test_config, Db};

on_both_databases! {
    an_empty_market_begins_with_its_first_staff_account => first_staff;
    staff_set_up_the_buildings_the_market_serves => buildings;
    staff_set_up_categories_and_stalls => categories_and_stalls;
    staff_and_stalls_add_products_on_sale_at_once => new_products;
    staff_and_stalls_change_and_retire_products => changed_products;
    staff_find_people_and_give_and_take_their_roles => people;
    staff_pack_and_change_veg_boxes => boxes;
    a_closed_or_resting_stall_sells_nothing => stall_days;
    staff_bring_in_the_buildings_as_a_list => building_list;
}

async fn new_products(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (holder, me) = app.login("13800000101").await;
    let (resident, _) = app.login("13712345673").await;
    let stall = me["vendor_id"].as_i64().expect("the holder's stall");
    let radish = json!({ "vendor_id": stall, "category": "vegetable", "name": "樱桃萝卜", "unit": "斤",
                         "price_fen": 260, "stock": 40, "per_order_limit": 5, "origin": "山东潍坊" });
    assert_eq!(app.post("/api/v1/admin/products", &radish, Some(&resident)).await.status, 403);
    for bad in [
        json!({ "category": "vegetable", "name": "樱桃萝卜", "unit": "斤", "price_fen": 260, "stock": 40 }),
        json!({ "vendor_id": stall, "category": "nothing", "name": "樱桃萝卜", "unit": "斤", "price_fen": 260, "stock": 40 }),
        json!({ "vendor_id": stall, "category": "vegetable", "name": "樱桃萝卜", "unit": "斤", "price_fen": -1, "stock": 40 }),
        json!({ "vendor_id": stall, "category": "vegetable", "name": "樱桃萝卜", "unit": "斤", "price_fen": 260, "stock": -4 }),
    ] {
        assert_eq!(app.post("/api/v1/admin/products", &bad, Some(&staff)).await.status, 400, "{bad}");
    }
    let r = app.post("/api/v1/admin/products", &json!({ "vendor_id": 999999, "category": "vegetable", "name": "x", "unit": "斤", "price_fen": 1, "stock": 1 }), Some(&staff)).await;
    assert_eq!(r.status, 404);
    // Staff add it: on sale at once, its price in the public record.
    let r = app.post("/api/v1/admin/products", &radish, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_i64().expect("id");
    assert_eq!(
        (r.body["name"].clone(), r.body["price_fen"].clone(), r.body["stock"].clone()),
        (json!("樱桃萝卜"), json!(260), json!(40))
    );
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.status, 200);
    let found = app.get(&format!("/api/v1/products?q={}", tests::urlencode("樱桃萝卜")), None).await.body;
    assert!(found["items"].as_array().expect("items").iter().any(|p| p["id"] == id), "{found}");
    let prices = app.get(&format!("/api/v1/products/{id}/prices"), None).await.body;
    assert_eq!(prices["items"][0]["price_fen"], 260);
    let r = app.post("/api/v1/admin/products", &radish, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "already_exists"), "the stall sells it already");
    // The stall holder adds one to their own stall, never to another's.
    let leek = json!({ "category": "vegetable", "name": "细香葱", "unit": "把", "price_fen": 150, "stock": 30 });
    let r = app.post("/api/v1/vendor/products", &leek, Some(&holder)).await;
    assert_eq!((r.status, r.body["vendor_id"].clone()), (201, json!(stall)), "{:?}", r.body);
    let mut theirs = leek.clone();
    theirs["vendor_id"] = json!(stall + 1);
    theirs["name"] = json!("韭菜花");
    assert_eq!(app.post("/api/v1/vendor/products", &theirs, Some(&holder)).await.status, 400);
    assert_eq!(app.post("/api/v1/vendor/products", &leek, Some(&resident)).await.status, 403);
    // Bought like any other product.
    app.put_in_cart(&resident, id, 2).await;
    let cart = app.get("/api/v1/cart", Some(&resident)).await.body;
    assert_eq!(cart["items"][0]["product_id"], id, "{cart}");
    let audit = app.get("/api/v1/admin/audit?subject=product", Some(&staff)).await.body;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(audit["items"][1]["after"]["origin"], "山东潍坊");
}

async fn changed_products(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (holder, me) = app.login("13800000101").await;
    let (resident, _) = app.login("13712345674").await;
    let stall = me["vendor_id"].as_i64().expect("the holder's stall");
    let theirs = app.get(&format!("/api/v1/products?vendor_id={stall}"), None).await.body;
    let id = theirs["items"][0]["id"].as_i64().expect("a product of the stall");
    let other = app.get(&format!("/api/v1/products?vendor_id={}", stall + 1), None).await.body;
    let other_id = other["items"][0]["id"].as_i64().expect("a product of another stall");
    let path = format!("/api/v1/admin/products/{id}");
    // Bad changes are refused and change nothing.
    let before = app.get(&format!("/api/v1/products/{id}"), None).await.body;
    for bad in [
        json!({}),
        json!({ "name": "" }),
        json!({ "unit": "一大把子的" }),
        json!({ "category": "nothing" }),
        json!({ "per_order_limit": -1 }),
        json!({ "price_fen": "abc" }),
        json!({ "on_sale": "no" }),
        json!({ "colour": "red" }),
    ] {
        assert_eq!(app.patch(&path, &bad, Some(&staff)).await.status, 400, "{bad}");
    }
    assert_eq!(app.patch(&path, &json!({ "name": "x" }), Some(&resident)).await.status, 403);
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.body, before, "nothing changed");
    // Staff change what it is called, its unit, limit and origin.
    let change = json!({ "name": "本地白萝卜", "unit": "根", "per_order_limit": 3, "origin": "崇明" });
    let r = app.patch(&path, &change, Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["name"].clone(), r.body["unit"].clone(), r.body["per_order_limit"].clone(), r.body["origin"].clone()),
        (json!("本地白萝卜"), json!("根"), json!(3), json!("崇明"))
    );
    let r = app.patch(&path, &json!({ "per_order_limit": 0 }), Some(&staff)).await;
    assert_eq!(r.body["per_order_limit"], json!(null), "0 lifts the limit");
    // The stall holder edits their own products, never another stall's, and sets no ceiling.
    let own = format!("/api/v1/vendor/products/{id}");
    let r = app.patch(&own, &json!({ "description": "早上现拔" }), Some(&holder)).await;
    assert_eq!((r.status, r.body["description"].clone()), (200, json!("早上现拔")), "{:?}", r.body);
    let r = app.patch(&format!("/api/v1/vendor/products/{other_id}"), &json!({ "name": "x" }), Some(&holder)).await;
    assert_eq!(r.status, 404);
    assert_eq!(app.patch(&own, &json!({ "price_ceiling_fen": 500 }), Some(&holder)).await.status, 403);
    // Retired: out of the catalogue and carts, still the stall's and staff's to put back.
    app.put_in_cart(&resident, id, 1).await;
    let r = app.patch(&own, &json!({ "on_sale": false }), Some(&holder)).await;
    assert_eq!((r.status, r.body["on_sale"].clone()), (200, json!(false)), "{:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.status, 404);
    let listed = app.get(&format!("/api/v1/products?vendor_id={stall}"), None).await.body;
    assert!(listed["items"].as_array().expect("items").iter().all(|p| p["id"] != id), "{listed}");
    let slot = app.open_slot(&staff, 50, 0, 30).await;
    let order = json!({ "slot_id": slot["id"], "address": { "building": "2", "unit": "1", "room": "101" },
                        "payment": "on_delivery" });
    let r = app.checkout(&resident, "retired-1", &order).await;
    assert!(r.status >= 400 && r.status < 500, "a retired product cannot be bought: {:?}", r.body);
    // Staff find it again by name to put it back.
    let found = app.get(&format!("/api/v1/admin/products?q={}", tests::urlencode("白萝卜")), Some(&staff)).await;
    let retired = found.body["items"].as_array().expect("items").iter().find(|p| p["id"] == id).cloned();
    assert_eq!(retired.expect("found")["on_sale"], false);
    assert_eq!(app.get("/api/v1/admin/products?q=x", Some(&resident)).await.status, 403);
    assert_eq!(app.get("/api/v1/admin/products?q=", Some(&staff)).await.status, 400);
    let r = app.patch(&path, &json!({ "on_sale": true }), Some(&staff)).await;
    assert_eq!((r.status, r.body["on_sale"].clone()), (200, json!(true)));
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.status, 200, "on sale again");
    // Each change is in the audit record, with what it was before.
    let audit = app.get("/api/v1/admin/audit?subject=product", Some(&staff)).await.body;
    let actions: Vec<_> = audit["items"].as_array().expect("items").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("restore"), json!("retire"), json!("update"), json!("update"), json!("update")]);
    assert_eq!(audit["items"][4]["before"]["name"], before["name"]);
    assert_eq!(audit["items"][4]["after"]["name"], "本地白萝卜");
    assert_eq!(audit["items"][1]["actor"], "13800000101", "the stall holder");
}

async fn people(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (old_holder, me) = app.login("13800000102").await;
    let stall = me["vendor_id"].as_i64().expect("the holder's stall");
    // Found by the start of their phone and by role, a page at a time.
    let found = app.get("/api/v1/admin/users?phone=1380000010&role=vendor&limit=3", Some(&staff)).await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    let items = found.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|u| u["roles"].as_array().is_some_and(|r| r.contains(&json!("vendor")))));
    let cursor = found.body["next_cursor"].as_str().expect("more");
    let next = app
        .get(&format!("/api/v1/admin/users?phone=1380000010&role=vendor&limit=3&cursor={cursor}"), Some(&staff))
        .await;
    assert_ne!(next.body["items"][0]["id"], items[0]["id"]);
    for bad in ["?role=king", "?phone=abc", "?cursor=zz", "?limit=0"] {
        assert_eq!(app.get(&format!("/api/v1/admin/users{bad}"), Some(&staff)).await.status, 400, "{bad}");
    }
    assert_eq!(app.get("/api/v1/admin/users", Some(&old_holder)).await.status, 403);
    // A new person takes over the stall: the old holder loses it at once.
    let new_holder = "13712340001";
    let give = |body: serde_json::Value| {
        let app = &app;
        let staff = staff.clone();
        async move { app.put(&format!("/api/v1/admin/users/{new_holder}/roles"), &body, Some(&staff)).await }
    };
    for bad in [
        json!({ "roles": ["vendor"] }),
        json!({ "roles": ["vendor"], "stall_id": 999999 }),
        json!({ "roles": ["resident"], "stall_id": stall }),
        json!({ "roles": ["volunteer"], "buildings": ["999"] }),
    ] {
        assert_eq!(give(bad.clone()).await.status, 400, "{bad}");
    }
    let r = give(json!({ "roles": ["resident", "vendor"], "stall_id": stall })).await;
    assert_eq!((r.status, r.body["vendor_id"].clone()), (200, json!(stall)), "{:?}", r.body);
    assert_eq!(app.get("/api/v1/vendor/orders", Some(&old_holder)).await.status, 403, "no stall any more");
    let (holder, _) = app.login(new_holder).await;
    assert_eq!(app.get("/api/v1/vendor/orders", Some(&holder)).await.status, 200);
    // A volunteer for two buildings; roles taken away end what they allowed.
    let r = give(json!({ "roles": ["volunteer"], "buildings": ["2", "1"] })).await;
    assert_eq!((r.status, r.body["leader_buildings"].clone()), (200, json!(["1", "2"])), "{:?}", r.body);
    assert_eq!(app.get("/api/v1/vendor/orders", Some(&holder)).await.status, 403);
    let stalls = app.get("/api/v1/admin/users?role=vendor&limit=500", Some(&staff)).await.body;
    assert!(
        stalls["items"].as_array().expect("items").iter().all(|u| u["vendor_id"] != json!(stall)),
        "nobody holds it"
    );
    // Each change is in the audit, with who did it.
    let audit = app.get("/api/v1/admin/audit?subject=user", Some(&staff)).await.body;
    let entries = audit["items"].as_array().expect("items");
    assert!(entries.iter().skip(2).all(|e| e["actor"].is_null()), "then only the demo's own set-up: {audit}");
    assert_eq!(entries[0]["after"]["buildings"], json!(["1", "2"]));
    assert_eq!(entries[1]["after"]["stall_id"], json!(stall));
    assert_eq!(entries[1]["actor"], "13800000000");
}

async fn boxes(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345677").await;
    let potatoes = app.product_id("土豆").await;
    let cabbage = app.product_id("大白菜").await;
    let a_box = app.get("/api/v1/products?category=box", None).await.body["items"][0]["id"].as_i64().expect("a box");
    let new = json!({ "name": "三口之家菜盒", "price_fen": 4590, "stock": 30, "per_order_limit": 1,
                      "items": [{ "product_id": potatoes, "quantity": 2 }, { "product_id": cabbage, "quantity": 1 }] });
    assert_eq!(app.post("/api/v1/admin/boxes", &new, Some(&resident)).await.status, 403);
    for bad in [
        json!({ "name": "x", "price_fen": 100, "stock": 1, "items": [] }),
        json!({ "name": "x", "price_fen": 100, "stock": 1, "items": [{ "product_id": a_box, "quantity": 1 }] }),
        json!({ "name": "x", "price_fen": 100, "stock": 1, "items": [{ "product_id": 999999, "quantity": 1 }] }),
        json!({ "name": "x", "price_fen": 100, "stock": 1, "items": [{ "product_id": potatoes, "quantity": 0 }] }),
        json!({ "name": "x", "price_fen": 100, "stock": 1, "vendor_id": 999999, "items": [{ "product_id": potatoes, "quantity": 1 }] }),
    ] {
        assert_eq!(app.post("/api/v1/admin/boxes", &bad, Some(&staff)).await.status, 400, "{bad}");
    }
    let r = app.post("/api/v1/admin/boxes", &new, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_i64().expect("id");
    assert_eq!(
        (r.body["is_box"].clone(), r.body["category"].clone(), r.body["unit"].clone()),
        (json!(true), json!("box"), json!("盒"))
    );
    assert_eq!(r.body["box_items"].as_array().map(Vec::len), Some(2));
    let shelf = app.get("/api/v1/products?category=box", None).await.body;
    assert!(shelf["items"].as_array().expect("items").iter().any(|p| p["id"] == id), "on the 菜盒子 shelf at once");
    assert_eq!(app.post("/api/v1/admin/boxes", &new, Some(&staff)).await.status, 409, "its name is taken");
    // Changed: contents and price; retired.
    let path = format!("/api/v1/admin/boxes/{id}");
    let r = app
        .patch(&path, &json!({ "items": [{ "product_id": cabbage, "quantity": 3 }], "price_fen": 4490 }), Some(&staff))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((r.body["box_items"][0]["quantity"].clone(), r.body["price_fen"].clone()), (json!(3), json!(4490)));
    assert_eq!(
        app.patch(&format!("/api/v1/admin/boxes/{potatoes}"), &json!({ "stock": 1 }), Some(&staff)).await.status,
        404,
        "not a box"
    );
    assert_eq!(app.patch(&path, &json!({}), Some(&staff)).await.status, 400);
    let r = app.patch(&path, &json!({ "on_sale": false }), Some(&staff)).await;
    assert_eq!((r.status, r.body["on_sale"].clone()), (200, json!(false)));
    assert_eq!(app.get(&format!("/api/v1/products/{id}"), None).await.status, 404);
    let audit = app.get("/api/v1/admin/audit?subject=product", Some(&staff)).await.body;
    let actions: Vec<_> = audit["items"].as_array().expect("items").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("retire"), json!("items"), json!("update"), json!("create")]);
    assert_eq!(audit["items"][3]["after"]["items"].as_array().map(Vec::len), Some(2));
}

async fn building_list(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let send = |file: String, dry_run: bool| {
        let url = app.url(&format!("/api/v1/admin/buildings/import?dry_run={dry_run}"));
        let req = app.client.post(url).bearer_auth(&staff).header("Content-Type", "text/csv").body(file);
        let app = &app;
        async move { app.send(req).await }
    };
    let list = "小区,楼号,单元数,封闭\n新村小区,501,2,\n新村小区,502,4,是\n七里山小区,3,3,\n".to_owned();
    let dry = send(list.clone(), true).await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    let actions: Vec<_> = dry.body["rows"].as_array().expect("rows").iter().map(|r| r["action"].clone()).collect();
    assert_eq!(actions, [json!("create"), json!("create"), json!("unchanged")]);
    let before =
        app.get("/api/v1/admin/buildings?limit=500", Some(&staff)).await.body["items"].as_array().map(Vec::len);
    let r = send(list.clone(), false).await;
    assert_eq!((r.body["applied"].clone(), r.body["created"].clone()), (json!(true), json!(2)));
    let buildings = app.get("/api/v1/admin/buildings?limit=500", Some(&staff)).await.body;
    let items = buildings["items"].as_array().expect("items");
    assert_eq!(Some(items.len()), before.map(|n| n + 2));
    let b502 = items.iter().find(|b| b["building"] == "502").expect("502");
    assert_eq!((b502["units"].clone(), b502["closed"].clone()), (json!(4), json!(true)));
    let again = send(list, false).await;
    assert_eq!(
        (again.body["created"].clone(), again.body["updated"].clone()),
        (json!(0), json!(0)),
        "twice changes nothing"
    );
    // Another compound's building 501 is a building of its own; with a bad unit count beside
    // it, nothing is applied.
    let bad = send("小区,楼号,单元数\n别的小区,501,2\n新村小区,503,99\n".to_owned(), false).await;
    assert_eq!(bad.body["applied"], false);
    assert_eq!(bad.body["rows"][0]["action"], "create", "{:?}", bad.body);
    assert_eq!(bad.body["rows"][1]["errors"][0]["column"], "单元数");
    // Once two compounds have a building 501, a row naming no compound is refused.
    let r = send("小区,楼号,单元数\n别的小区,501,2\n".to_owned(), false).await;
    assert_eq!(r.body["applied"], true, "{:?}", r.body);
    let r = send("小区,楼号,单元数\n,501,3\n".to_owned(), true).await;
    assert_eq!(r.body["rows"][0]["errors"][0]["column"], "小区", "{:?}", r.body);
    assert_eq!(send("name\nx\n".to_owned(), true).await.status, 400, "no headings we know");
}

async fn stall_days(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345680").await;
    let potatoes = app.product_id("土豆").await;
    let stall = app.get(&format!("/api/v1/products/{potatoes}"), None).await.body["vendor_id"].as_i64().expect("stall");
    let slot = app.open_slot(&staff, 50, 0, 30).await;
    let day = slot["starts_at"].as_str().expect("starts_at")[..10].to_owned();
    let path = format!("/api/v1/admin/stalls/{stall}");
    for bad in [json!({ "closed_on": "8 December" }), json!({ "open": "no" })] {
        assert_eq!(app.patch(&path, &bad, Some(&staff)).await.status, 400, "{bad}");
    }
    let order = |key: &str| {
        let body = json!({ "slot_id": slot["id"], "address": { "building": "2", "unit": "1", "room": "102" }, "payment": "on_delivery" });
        let (app, resident, key) = (&app, resident.clone(), key.to_owned());
        async move { app.checkout(&resident, &key, &body).await }
    };
    app.put_in_cart(&resident, potatoes, 1).await;
    // Resting (休市) on the slot's day: nothing of it for that slot.
    let r = app.patch(&path, &json!({ "closed_on": day }), Some(&staff)).await;
    assert_eq!((r.status, r.body["closed_on"].clone()), (200, json!(day)), "{:?}", r.body);
    let r = order("rest-1").await;
    assert_eq!((r.status, r.error_code()), (409, "stall_closed"), "{:?}", r.body);
    // Nor a group-buy dropped in that slot: the leader is told which stall rests.
    let opening = json!({
        "title": "土豆团购", "buildings": ["2"],
        "items": [{ "product_id": potatoes, "price_fen": 100, "max_quantity": 5, "per_household_limit": 1 }],
        "min_households": 1, "deadline": (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339(),
        "slot_id": slot["id"], "on_shortfall": "proceed",
    });
    let stock = app.get(&format!("/api/v1/products/{potatoes}"), None).await.body["stock"].clone();
    let r = app.post("/api/v1/group-buys", &opening, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "stall_closed"), "{:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{potatoes}"), None).await.body["stock"], stock, "nothing set aside");
    // Closed (停业): nothing at all; opened again: sold as before.
    app.patch(&path, &json!({ "closed_on": "", "open": false }), Some(&staff)).await;
    let listed = app.get("/api/v1/vendors", None).await.body;
    let shown = listed["items"].as_array().expect("items").iter().find(|v| v["id"] == stall).cloned().expect("listed");
    assert_eq!((shown["open"].clone(), shown["closed_on"].clone()), (json!(false), json!(null)));
    assert_eq!(order("closed-1").await.error_code(), "stall_closed");
    let r = app.patch(&path, &json!({ "open": true }), Some(&staff)).await;
    assert_eq!(r.body["open"], true);
    // The stall holder rests their own stall on a day, and changes nothing else of it.
    let (holder, me) = app.login("13800000101").await;
    assert_eq!(me["vendor_id"].as_i64(), Some(stall), "the demo's holder of 土豆's stall");
    let r = app.patch("/api/v1/vendor/stall", &json!({ "closed_on": day }), Some(&holder)).await;
    assert_eq!((r.status, r.body["closed_on"].clone()), (200, json!(day)), "{:?}", r.body);
    assert_eq!(app.patch("/api/v1/vendor/stall", &json!({ "name": "x" }), Some(&holder)).await.status, 403);
    assert_eq!(app.patch("/api/v1/vendor/stall", &json!({ "open": false }), Some(&resident)).await.status, 403);
    let r = app.patch("/api/v1/vendor/stall", &json!({ "closed_on": "" }), Some(&holder)).await;
    assert_eq!(r.body["closed_on"], json!(null));
    assert_eq!(order("open-1").await.status, 201);
}

async fn categories_and_stalls(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345672").await;
    let dried = json!({ "name": "干货", "name_en": "Dried goods", "icon": "🍄" });
    assert_eq!(app.post("/api/v1/admin/categories", &dried, Some(&resident)).await.status, 403);
    for bad in [json!({ "name": "" }), json!({ "name": "干货", "sort": -1 }), json!({ "name": "干货", "colour": 1 })]
    {
        assert_eq!(app.post("/api/v1/admin/categories", &bad, Some(&staff)).await.status, 400, "{bad}");
    }
    let r = app.post("/api/v1/admin/categories", &dried, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!((r.body["id"].clone(), r.body["name_zh"].clone()), (json!("dried_goods"), json!("干货")));
    let r = app.post("/api/v1/admin/categories", &json!({ "name": "干货" }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "already_exists"));
    // Shown in the catalogue at once, in its place; renamed and moved first.
    let listed = app.get("/api/v1/categories", None).await.body;
    let ids: Vec<_> = listed["items"].as_array().expect("items").iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids.last(), Some(&json!("dried_goods")), "after the others: {ids:?}");
    let r = app
        .patch("/api/v1/admin/categories/dried_goods", &json!({ "name": "山货干货", "sort": 0 }), Some(&staff))
        .await;
    assert_eq!((r.status, r.body["name_zh"].clone()), (200, json!("山货干货")), "{:?}", r.body);
    let listed = app.get("/api/v1/categories", None).await.body;
    let ids: Vec<_> = listed["items"].as_array().expect("items").iter().map(|c| c["id"].clone()).collect();
    let at = |id: &str| ids.iter().position(|c| c == id);
    assert!(at("dried_goods") < at("vegetable"), "moved before the vegetables: {ids:?}");
    assert_eq!(app.patch("/api/v1/admin/categories/nothing", &json!({ "sort": 1 }), Some(&staff)).await.status, 404);
    // Retired: out of the list, no new goods; a category with goods on sale is not retired.
    let r = app.patch("/api/v1/admin/categories/vegetable", &json!({ "retired": true }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "wrong_state"), "its goods are on sale");
    let r = app.patch("/api/v1/admin/categories/dried_goods", &json!({ "retired": true }), Some(&staff)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let listed = app.get("/api/v1/categories", None).await.body;
    assert!(listed["items"].as_array().expect("items").iter().all(|c| c["id"] != "dried_goods"), "{listed}");
    let stall_one = app.get("/api/v1/vendors", None).await.body["items"][0]["id"].clone();
    let into_retired = json!({ "vendor_id": stall_one, "category": "dried_goods", "name": "笋干", "unit": "袋", "price_fen": 1800, "stock": 5 });
    assert_eq!(app.post("/api/v1/admin/products", &into_retired, Some(&staff)).await.status, 400);
    // Staff still find it, last and marked, to bring it back; nobody else may list them.
    assert_eq!(app.get("/api/v1/admin/categories", Some(&resident)).await.status, 403);
    let on_record = app.get("/api/v1/admin/categories", Some(&staff)).await.body;
    let items = on_record["items"].as_array().expect("items");
    let last = items.last().expect("categories");
    assert_eq!((last["id"].clone(), last["retired"].clone()), (json!("dried_goods"), json!(true)), "{on_record}");
    assert!(items
        .iter()
        .any(|c| c["id"] == "vegetable" && c["retired"] == false && c["product_count"].as_i64() > Some(0)));
    let r = app.patch("/api/v1/admin/categories/dried_goods", &json!({ "retired": false }), Some(&staff)).await;
    assert_eq!(r.status, 200);

    // A stall in hall B, number 07, selling dried goods; its number is the market's once.
    let stall = json!({ "name": "山里人家", "hall": "b", "number": "07", "category": "dried_goods" });
    let r = app.post("/api/v1/admin/stalls", &stall, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!((r.body["stall_no"].clone(), r.body["category"].clone()), (json!("B07"), json!("dried_goods")));
    let id = r.body["id"].as_i64().expect("id");
    let r =
        app.post("/api/v1/admin/stalls", &json!({ "name": "又一家", "hall": "B", "number": "07" }), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "already_exists"));
    let r = app.post("/api/v1/admin/stalls", &json!({ "name": "x", "category": "meat_pies" }), Some(&staff)).await;
    assert_eq!(r.status, 400);
    let vendor = app.get(&format!("/api/v1/vendors/{id}"), None).await;
    assert_eq!((vendor.status, vendor.body["name"].clone()), (200, json!("山里人家")), "residents see it at once");
    let r =
        app.patch(&format!("/api/v1/admin/stalls/{id}"), &json!({ "description": "菌菇、笋干" }), Some(&staff)).await;
    assert_eq!((r.status, r.body["description"].clone()), (200, json!("菌菇、笋干")));
    assert_eq!(app.patch("/api/v1/admin/stalls/999999", &json!({ "name": "x" }), Some(&staff)).await.status, 404);

    // Each change is in the audit record.
    let audit = app.get("/api/v1/admin/audit", Some(&staff)).await.body;
    let seen: Vec<(String, String)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (e["subject"].as_str().unwrap_or_default().to_owned(), e["action"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let expect = [
        ("stall", "update"),
        ("stall", "create"),
        ("category", "restore"),
        ("category", "retire"),
        ("category", "update"),
        ("category", "create"),
    ];
    assert_eq!(seen.iter().take(6).map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>(), expect);
}

async fn buildings(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, staff_user) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345671").await;
    let new = json!({ "community": "新村小区", "building": "401", "units": 2 });
    // Not for residents, and a bad body changes nothing.
    assert_eq!(app.post("/api/v1/admin/buildings", &new, Some(&resident)).await.status, 403);
    assert_eq!(app.post("/api/v1/admin/buildings", &new, None).await.status, 401);
    for bad in [
        json!({ "community": "", "building": "401" }),
        json!({ "community": "新村小区", "building": "四〇一" }),
        json!({ "community": "新村小区", "building": "401", "units": 0 }),
        json!({ "community": "新村小区", "building": "401", "floors": 6 }),
    ] {
        let r = app.post("/api/v1/admin/buildings", &bad, Some(&staff)).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    // Before: an address in building 401 is refused; staff add it; then it is taken.
    let home = json!({ "building": "401", "unit": "1", "room": "101" });
    assert_eq!(app.put("/api/v1/me/household", &home, Some(&resident)).await.status, 400);
    let r = app.post("/api/v1/admin/buildings", &new, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        (r.body["community"].clone(), r.body["building"].clone(), r.body["units"].clone(), r.body["closed"].clone()),
        (json!("新村小区"), json!("401"), json!(2), json!(false))
    );
    let id = r.body["id"].as_i64().expect("id");
    let r = app.post("/api/v1/admin/buildings", &new, Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "already_exists"), "a number is its community's once");
    let r = app.put("/api/v1/me/household", &home, Some(&resident)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["household"]["membership"], "member");
    assert_eq!(r.body["household"]["community"], "新村小区");
    // Another community of the market may have a building 401 too: from then on an address
    // in a building 401 says which community it means.
    let other = json!({ "community": "别的小区", "building": "401" });
    let r = app.post("/api/v1/admin/buildings", &other, Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (neighbour, _) = app.login("13712345679").await;
    let r = app.put("/api/v1/me/household", &home, Some(&neighbour)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("请写明小区"), "{:?}", r.body);
    let theirs = json!({ "building": "401", "unit": "1", "room": "101", "community": "别的小区" });
    let r = app.put("/api/v1/me/household", &theirs, Some(&neighbour)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (r.body["household"]["community"].clone(), r.body["household"]["membership"].clone()),
        (json!("别的小区"), json!("member")),
        "not the household of 新村小区 401-1-101"
    );

    // Listed with its households; closed and opened; a bad change changes nothing.
    let list = app.get("/api/v1/admin/buildings?limit=500", Some(&staff)).await;
    let listed = list.body["items"].as_array().expect("items").iter().find(|b| b["id"] == id).cloned().expect("listed");
    assert_eq!(listed["households"], 1);
    let path = format!("/api/v1/admin/buildings/{id}");
    let r = app.patch(&path, &json!({ "closed": true }), Some(&staff)).await;
    assert_eq!((r.status, r.body["closed"].clone()), (200, json!(true)), "{:?}", r.body);
    let r = app.patch(&path, &json!({ "units": 50 }), Some(&staff)).await;
    assert_eq!(r.status, 400);
    let r = app.patch(&path, &json!({ "closed": false, "units": 3 }), Some(&staff)).await;
    assert_eq!((r.body["closed"].clone(), r.body["units"].clone()), (json!(false), json!(3)));
    assert_eq!(app.patch("/api/v1/admin/buildings/999999", &json!({ "closed": true }), Some(&staff)).await.status, 404);
    assert_eq!(app.patch(&path, &json!({ "closed": true }), Some(&resident)).await.status, 403);

    // The audit record: who, when, before and after, newest first; the refused changes are not in it.
    let audit = app.get("/api/v1/admin/audit?subject=building", Some(&staff)).await;
    let subject_id = id.to_string();
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let entries: Vec<_> = audit.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["subject_id"].as_str() == Some(subject_id.as_str()))
        .cloned()
        .collect();
    let actions: Vec<_> = entries.iter().map(|e| e["action"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(actions, ["update", "update", "create"]);
    assert_eq!(entries[2]["after"]["community"], "新村小区");
    assert!(entries[2].get("before").is_none());
    assert_eq!(
        (entries[1]["before"]["closed"].clone(), entries[1]["after"]["closed"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!((entries[0]["before"]["units"].clone(), entries[0]["after"]["units"].clone()), (json!(2), json!(3)));
    assert_eq!(entries[0]["actor"], staff_user["phone"]);
    assert!(entries[0]["at"].is_string());
    assert_eq!(app.get("/api/v1/admin/audit", Some(&resident)).await.status, 403);
}

async fn first_staff(db: Db) {
    let (gateway, sent) = fake_gateway(200).await;
    let (mut config, schema) = test_config(db).await;
    config.demo = false;
    config.sms.webhook = Some(gateway);
    let add_staff = |phone: &str| {
        let out = tests::command(SERVER_BIN, &config).args(["admin", "add-staff", phone]).output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A phone that is not one: exit status 2, said why, nothing made.
    let (status, _, said) = add_staff("12345");
    assert_eq!(status, Some(2));
    assert!(said.contains("11"), "{said}");
    let (status, told, _) = add_staff("13712345670");
    assert_eq!(status, Some(0));
    assert!(told.contains("13712345670 is staff"), "{told}");
    assert!(told.contains("FXS_SMS_WEBHOOK"), "says how the login code arrives: {told}");
    let (status, told, _) = add_staff("13712345670");
    assert_eq!(status, Some(0), "twice is the same");
    assert!(told.contains("already"), "{told}");

    // The server without the demo: an empty market, and the new staff member logs in with the
    // code the SMS gateway carries and reaches the staff's pages.
    let app = start(config, db, schema).await;
    let products = app.get("/api/v1/products", None).await;
    assert_eq!(products.body["items"], json!([]), "no demo goods");
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13712345670" }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let code = sent.lock().expect("lock").last().expect("a code went out")["code"].as_str().expect("code").to_owned();
    let login = app.post("/api/v1/auth/login", &json!({ "phone": "13712345670", "code": code }), None).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let token = login.body["token"].as_str().expect("token").to_owned();
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert!(me.body["roles"].as_array().expect("roles").contains(&json!("staff")), "{:?}", me.body);
    assert_eq!(app.get("/api/v1/admin/households", Some(&token)).await.status, 200);

    // The market built from nothing: a building, a category, a stall with its holder, goods from
    // the market's spreadsheet, a 菜盒子, a delivery slot; then a resident's first order.
    let staff = token;
    let made = |r: tests::Reply| {
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body
    };
    made(
        app.post(
            "/api/v1/admin/buildings",
            &json!({ "community": "新村小区", "building": "1", "units": 2 }),
            Some(&staff),
        )
        .await,
    );
    made(app.post("/api/v1/admin/categories", &json!({ "name": "蔬菜", "name_en": "Vegetable" }), Some(&staff)).await);
    let stall = made(
        app.post("/api/v1/admin/stalls", &json!({ "name": "王阿姨蔬菜", "hall": "A", "number": "01" }), Some(&staff))
            .await,
    );
    let r = app
        .put(
            "/api/v1/admin/users/13712345679/roles",
            &json!({ "roles": ["vendor"], "stall_id": stall["id"] }),
            Some(&staff),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let sheet = "摊位号,分类,品名,单位,价格,库存,限购,产地\nA01,蔬菜,青菜,斤,2.50,100,5,本地\nA01,vegetable,土豆,斤,1.80,200,,山东\n";
    let url = app.url("/api/v1/admin/catalogue/import?dry_run=false");
    let r = app.send(app.client.post(url).bearer_auth(&staff).header("Content-Type", "text/csv").body(sheet)).await;
    assert_eq!((r.status, r.body["created"].clone()), (200, json!(2)), "{:?}", r.body);
    let goods = app.get("/api/v1/products", None).await.body;
    let greens =
        goods["items"].as_array().expect("items").iter().find(|p| p["name"] == "青菜").expect("青菜")["id"].clone();
    let the_box = json!({ "name": "一周菜盒", "price_fen": 1990, "stock": 10, "vendor_id": stall["id"],
                          "items": [{ "product_id": greens, "quantity": 2 }] });
    let the_box = made(app.post("/api/v1/admin/boxes", &the_box, Some(&staff)).await);
    let shelf = app.get("/api/v1/categories", None).await.body;
    assert!(
        shelf["items"].as_array().expect("items").iter().any(|c| c["id"] == "box"),
        "the 菜盒子 shelf is made with the first box"
    );
    let slot = app.open_slot(&staff, 20, 0, 30).await;
    let r = app.post("/api/v1/auth/sms-code", &json!({ "phone": "13712345678" }), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let code = sent.lock().expect("lock").last().expect("a code went out")["code"].as_str().expect("code").to_owned();
    let login = app.post("/api/v1/auth/login", &json!({ "phone": "13712345678", "code": code }), None).await;
    let resident = login.body["token"].as_str().expect("token").to_owned();
    app.put_in_cart(&resident, greens.as_i64().expect("id"), 2).await;
    app.put_in_cart(&resident, the_box["id"].as_i64().expect("id"), 1).await;
    let order = json!({ "slot_id": slot["id"], "address": { "building": "1", "unit": "2", "room": "301" }, "payment": "on_delivery" });
    let r = app.checkout(&resident, "first-order", &order).await;
    assert_eq!(r.status, 201, "the market's first order: {:?}", r.body);
    assert_eq!(r.body["total_fen"], 2 * 250 + 1990);
    let outside = json!({ "slot_id": slot["id"], "address": { "building": "9", "unit": "1", "room": "101" }, "payment": "on_delivery" });
    let r = app.checkout(&resident, "outside", &outside).await;
    assert!(r.status == 400 || r.status == 409, "an address outside the buildings on record: {:?}", r.body);
}
