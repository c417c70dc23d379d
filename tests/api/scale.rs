//! The market at its real size (`FXS_DEMO_SCALE=seed`), here with two days of history instead
//! of thirty so that the suite stays quick: 85 stalls, 2,000 products, 20,000 households and
//! their residents, seeded once, read a page at a time.

use crate::SERVER_BIN;
use serde_json::json;
use serde_json::Value;
use std::collections::HashSet;
use tests::{on_both_databases, spawn_app_with, start, start_process, test_config, Db, TestApp};

on_both_databases! {
    the_full_size_market_is_seeded_once_and_read_a_page_at_a_time => full_size;
    every_list_comes_in_pages_in_a_stable_order => every_list_pages;
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

/// Every item of a list, page by page of `limit`: (items, pages).
async fn every_page(app: &TestApp, path: &str, limit: usize, token: Option<&str>) -> (Vec<Value>, usize) {
    let (mut all, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={}", tests::urlencode(c))).unwrap_or_default();
        let r = app.get(&format!("{path}{sep}limit={limit}{after}"), token).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert!(items(&r.body).len() <= limit);
        all.extend(items(&r.body).iter().cloned());
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (all, pages),
        }
        assert!(pages < 1_000, "paging ends");
    }
}

async fn full_size(db: Db) {
    let (mut config, schema) = test_config(db).await;
    config.demo_full_size = true;
    config.demo_days = 2;
    config.demo_orders = 10_000;
    config.sms.resend_interval = std::time::Duration::ZERO;
    let app = start(config.clone(), db, schema).await;

    let stalls = app.get("/api/v1/vendors", None).await;
    assert_eq!(items(&stalls.body).len(), 85, "85 stalls");
    let (products, pages) = every_page(&app, "/api/v1/products", 500, None).await;
    assert_eq!(products.len(), 2_000, "2,000 products");
    assert_eq!(pages, 4);
    let ids: HashSet<i64> = products.iter().filter_map(|p| p["id"].as_i64()).collect();
    assert_eq!(ids.len(), 2_000, "each once");
    // The first page a phone asks for is a page, not the market.
    let first = app.get("/api/v1/products?limit=40", None).await.body;
    assert_eq!(items(&first).len(), 40);
    assert!(first["next_cursor"].is_string());

    // Any part of a Chinese name finds it, across stalls and pages.
    let (eggs, _) = every_page(&app, &format!("/api/v1/products?q={}", tests::urlencode("鸡蛋")), 25, None).await;
    assert!(eggs.len() > 25, "{} eggs", eggs.len());
    let egg_stalls: HashSet<i64> = eggs.iter().filter_map(|p| p["vendor_id"].as_i64()).collect();
    assert!(egg_stalls.len() > 1);
    for p in &eggs {
        let text = format!("{}{}{}", p["name"], p["description"], p["vendor_name"]);
        assert!(text.contains("鸡蛋"), "{p}");
    }

    // The search index never loses a match: each search finds exactly the products whose name,
    // description or stall's name holds the text, as reading every product would.
    for q in ["虾", "鸡蛋", "西红柿", "家庭装", "老王", "有机章丘", "·小份", "菜 盒", "zz"] {
        let expected: HashSet<i64> = products
            .iter()
            .filter(|p| ["name", "description", "vendor_name"].iter().any(|f| p[*f].as_str().unwrap_or("").contains(q)))
            .filter_map(|p| p["id"].as_i64())
            .collect();
        let (found, _) = every_page(&app, &format!("/api/v1/products?q={}", tests::urlencode(q)), 500, None).await;
        let found: HashSet<i64> = found.iter().filter_map(|p| p["id"].as_i64()).collect();
        assert_eq!(found, expected, "search {q}");
    }

    // A resident of the neighbourhood has a home on record and the orders of the month.
    let (resident, me) = app.login("15800000007").await;
    assert!(me["household"]["building"].is_string(), "{me}");
    let (mine, _) = every_page(&app, "/api/v1/orders", 1, Some(&resident)).await;
    for o in &mine {
        assert!(["delivered", "cancelled", "expired"].contains(&o["status"].as_str().unwrap_or("?")), "{o}");
        let whole = app.get(&format!("/api/v1/orders/{}", o["id"]), Some(&resident)).await;
        assert_eq!(whole.status, 200);
        let lines: i64 = whole.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|l| l["price_fen"].as_i64().unwrap_or(0) * l["quantity"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(lines, whole.body["total_fen"].as_i64().unwrap_or(-1), "{}", whole.body);
    }
    let ids: Vec<i64> = mine.iter().filter_map(|o| o["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    // Staff find a home among 20,000 by building, unit and room, a page at a time.
    let (staff, _) = app.login("13800000000").await;
    // Building 250 is a tower of 领秀城: 26 floors, four flats a floor in each of its two units.
    let (homes, pages) = every_page(&app, "/api/v1/admin/households?building=250&unit=2", 40, Some(&staff)).await;
    assert_eq!(homes.len(), 26 * 4, "a tower's unit");
    assert_eq!(pages, 3);
    assert!(homes.iter().all(|h| h["building"] == "250" && h["unit"] == "2" && h["community"] == "领秀城"));
    let floor = app.get("/api/v1/admin/households?building=250&unit=2&room=26", Some(&staff)).await;
    assert_eq!(items(&floor.body).len(), 4, "the 26th floor");

    // The month of history balances the books as the day's orders do: its goods came in
    // through the stock ledger.
    let out = tests::command(SERVER_BIN, &config).arg("check").output().expect("check runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("the books balance"), "{text}");

    // A second start on the same data seeds nothing twice.
    let (neighbour, _) = app.login("15800000008").await;
    let (theirs, _) = every_page(&app, "/api/v1/orders", 50, Some(&neighbour)).await;
    let (second, first) = match db {
        Db::Sqlite => {
            app.stop().await;
            (start(config, db, None).await, None)
        }
        Db::Postgres => (start_process(SERVER_BIN, &config, db).await, Some(app)),
    };
    let (again, _) = every_page(&second, "/api/v1/products", 500, None).await;
    assert_eq!(again.len(), 2_000);
    let (theirs_again, _) = every_page(&second, "/api/v1/orders", 50, Some(&neighbour)).await;
    assert_eq!(theirs_again, theirs);
    drop(first);
}

/// The list whole (one page of 500) and page by page of 1 and of 2 are the same, in the same order.
async fn pages_agree(app: &TestApp, path: &str, token: Option<&str>, at_least: usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let whole = app.get(&format!("{path}{sep}limit=500"), token).await;
    assert_eq!(whole.status, 200, "{path}: {:?}", whole.body);
    assert!(whole.body["next_cursor"].is_null(), "{path}");
    let whole = items(&whole.body).clone();
    assert!(whole.len() >= at_least, "{path}: {} items", whole.len());
    for limit in [1, 2] {
        let (paged, pages) = every_page(app, path, limit, token).await;
        assert_eq!(paged, whole, "{path} by {limit}");
        assert_eq!(pages, whole.len().div_ceil(limit).max(1), "{path} by {limit}");
    }
    for bad in ["limit=0", "limit=501", "cursor=nonsense"] {
        let r = app.get(&format!("{path}{sep}{bad}"), token).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_query"), "{path} {bad}: {:?}", r.body);
    }
}

async fn every_list_pages(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login("13800000000").await;
    pages_agree(&app, "/api/v1/categories", None, 5).await;
    pages_agree(&app, "/api/v1/vendors", None, 10).await;
    pages_agree(&app, "/api/v1/slots", None, 10).await;
    // Three prices of one product.
    let cabbage = app.product_id("大白菜").await;
    for price in [130, 140] {
        app.change_product(&staff, cabbage, &json!({ "price_fen": price })).await;
    }
    pages_agree(&app, &format!("/api/v1/products/{cabbage}/prices"), None, 3).await;
    // Three orders of one stall's goods in one slot: the stall's list and the slot's batches.
    let slot = app.open_slot(&staff, 10, 0, 24).await;
    let slot_id = slot["id"].as_i64().expect("slot");
    for (n, building) in ["1", "2", "4"].iter().enumerate() {
        let (resident, _) = app.login(&format!("1390000086{n}")).await;
        app.put_in_cart(&resident, cabbage, 1).await;
        let body = json!({ "slot_id": slot_id, "payment": "on_delivery",
            "address": { "building": building, "unit": "1", "room": "101" } });
        let order = app.checkout(&resident, &format!("pages-{n}"), &body).await;
        assert_eq!(order.status, 201, "{:?}", order.body);
    }
    let stall = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["vendor_id"].as_i64().expect("stall");
    let mut holder = None;
    for n in 1..=14 {
        let (token, user) = app.login(&format!("138000001{n:02}")).await;
        if user["vendor_id"].as_i64() == Some(stall) {
            holder = Some(token);
        }
    }
    let holder = holder.expect("the stall's holder");
    pages_agree(&app, "/api/v1/vendor/orders", Some(&holder), 3).await;
    pages_agree(&app, &format!("/api/v1/vendor/orders?slot_id={slot_id}"), Some(&holder), 3).await;
    pages_agree(&app, &format!("/api/v1/batches?slot_id={slot_id}"), Some(&staff), 0).await;
    pages_agree(&app, "/api/v1/group-buys", Some(&staff), 1).await;
    pages_agree(&app, "/api/v1/admin/refunds", Some(&staff), 0).await;
    pages_agree(&app, "/api/v1/admin/problems", Some(&staff), 0).await;
    pages_agree(&app, "/api/v1/admin/donations/needs", Some(&staff), 0).await;
    pages_agree(&app, "/api/v1/me/donations", Some(&staff), 0).await;
    let (resident, _) = app.login("13900000860").await;
    pages_agree(&app, "/api/v1/me/notices", Some(&resident), 0).await;
    pages_agree(&app, "/api/v1/orders", Some(&resident), 1).await;
    pages_agree(&app, "/api/v1/admin/households?building=1", Some(&staff), 1).await;
}
