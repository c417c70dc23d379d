//! Stable prices (稳物价) through HTTP on both databases: the public price board, the emergency
//! cap (a rise over it refused, measured from the day's opening price; a product's ceiling),
//! and the record for the price regulator as CSV.

use serde_json::json;
use tests::{on_both_databases, spawn_app_with, Db};

on_both_databases! {
    the_emergency_cap_refuses_a_rise_over_it_and_the_record_keeps_every_change => capped;
    a_group_buy_price_obeys_the_cap_and_goes_on_the_record => group_prices;
}

async fn capped(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let product = app.get(&format!("/api/v1/products/{cabbage}"), None).await.body;
    let price = product["price_fen"].as_i64().expect("price");
    let (stall, _) = app.login(&format!("138000001{:02}", product["vendor_id"].as_i64().unwrap_or(0))).await;
    let (resident, _) = app.login("13900000601").await;
    let own = format!("/api/v1/vendor/products/{cabbage}");

    // The board is public, and the cap is off.
    let board = app.get("/api/v1/prices", None).await;
    assert_eq!(board.status, 200, "{:?}", board.body);
    assert_eq!(board.body["cap"], json!({ "enabled": false, "max_daily_rise_percent": 10 }));
    let row = board.body["items"].as_array().expect("items").iter().find(|i| i["product_id"] == cabbage).cloned();
    assert_eq!(row.expect("on the board")["price_fen"], price);

    // Only staff switch the cap; a nonsense percent is refused.
    let on = json!({ "enabled": true, "max_daily_rise_percent": 5 });
    assert_eq!(app.put("/api/v1/admin/price-cap", &on, Some(&stall)).await.status, 403);
    assert_eq!(app.put("/api/v1/admin/price-cap", &on, Some(&resident)).await.status, 403);
    let bad = json!({ "enabled": true, "max_daily_rise_percent": 101 });
    assert_eq!(app.put("/api/v1/admin/price-cap", &bad, Some(&staff)).await.status, 400);
    let r = app.put("/api/v1/admin/price-cap", &on, Some(&staff)).await;
    assert_eq!((r.status, &r.body), (200, &on));
    assert_eq!(app.get("/api/v1/prices", None).await.body["cap"], on);

    // A rise over 5 % of the morning's price is refused and changes nothing; within it is taken;
    // a second rise is still measured from the morning; a fall is always taken.
    let top = price + price * 5 / 100;
    let r = app.patch(&own, &json!({ "price_fen": top + 1 }), Some(&stall)).await;
    assert_eq!((r.status, r.error_code()), (409, "price_capped"), "{:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["price_fen"], price);
    assert_eq!(app.patch(&own, &json!({ "price_fen": top }), Some(&stall)).await.status, 200);
    let r =
        app.patch(&format!("/api/v1/admin/products/{cabbage}"), &json!({ "price_fen": top + 1 }), Some(&staff)).await;
    assert_eq!(r.status, 409, "staff too: {:?}", r.body);
    assert_eq!(app.patch(&own, &json!({ "price_fen": price - 10 }), Some(&stall)).await.status, 200);

    // Staff set a ceiling under the percent; a stall cannot set one.
    assert_eq!(app.patch(&own, &json!({ "price_ceiling_fen": 10_000 }), Some(&stall)).await.status, 403);
    let r = app
        .patch(&format!("/api/v1/admin/products/{cabbage}"), &json!({ "price_ceiling_fen": price }), Some(&staff))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.patch(&own, &json!({ "price_fen": price + 1 }), Some(&stall)).await.status, 409);
    assert_eq!(app.patch(&own, &json!({ "price_fen": price }), Some(&stall)).await.status, 200);

    // The cap off: any price again.
    let off = json!({ "enabled": false, "max_daily_rise_percent": 5 });
    assert_eq!(app.put("/api/v1/admin/price-cap", &off, Some(&staff)).await.status, 200);
    assert_eq!(app.patch(&own, &json!({ "price_fen": price * 3 }), Some(&stall)).await.status, 200);

    // The record for the regulator: every change today, old and new, by whom (staff only).
    let today =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+8")).format("%Y-%m-%d");
    let path = format!("/api/v1/admin/prices.csv?from={today}&to={today}");
    let csv = app.client.get(app.url(&path)).bearer_auth(&staff).send().await.expect("csv");
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("text");
    assert!(text.starts_with('\u{FEFF}'), "BOM for Excel");
    // (The demo's own group-buy priced 大白菜 too: its row names it in the last column.)
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(",大白菜,") && !l.contains(",#")).collect();
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    // The demo's opening price, then the four changes: old and new on each.
    assert_eq!(rows.len(), 5, "{text}");
    assert!(rows[1].contains(&format!(",{},{},", yuan(price), yuan(top))), "{}", rows[1]);
    // (A leading + is written '+, as every cell a spreadsheet could take for a formula.)
    assert!(rows[4].contains(&format!(",{},{},'+200.0,", yuan(price), yuan(price * 3))), "{}", rows[4]);
    let refused = app.client.get(app.url(&path)).bearer_auth(&resident).send().await.expect("csv");
    assert_eq!(refused.status(), 403);
    assert_eq!(app.get("/api/v1/admin/prices.csv?from=today&to=2026-01-01", Some(&staff)).await.status, 400);
}

/// A group price is a discount under the same cap: never above the product's own price, never
/// above what the cap allows today, and on the regulator's record beside the product's prices.
async fn group_prices(db: Db) {
    let app = spawn_app_with(db, |c| c.sms.resend_interval = std::time::Duration::ZERO).await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let morning =
        app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["price_fen"].as_i64().expect("price");
    // Raised while the cap was off, then the cap goes on: 5 % over the morning's price is the top.
    app.change_product(&staff, cabbage, &json!({ "price_fen": morning * 2, "stock": 1000 })).await;
    let on = json!({ "enabled": true, "max_daily_rise_percent": 5 });
    assert_eq!(app.put("/api/v1/admin/price-cap", &on, Some(&staff)).await.status, 200);
    let top = morning + morning * 5 / 100;
    let slot = app.open_slot(&staff, 100, 0, 30).await;
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    let body = |price: i64| {
        json!({
            "title": "白菜团购", "buildings": ["5"], "min_households": 1, "deadline": deadline,
            "slot_id": slot["id"], "on_shortfall": "proceed",
            "items": [{ "product_id": cabbage, "price_fen": price, "max_quantity": 10, "per_household_limit": 2 }],
        })
    };
    let r = app.post("/api/v1/group-buys", &body(morning * 2 + 1), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (400, "invalid_field"), "above its own price: {:?}", r.body);
    let r = app.post("/api/v1/group-buys", &body(top + 1), Some(&staff)).await;
    assert_eq!((r.status, r.error_code()), (409, "price_capped"), "above the cap: {:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{cabbage}"), None).await.body["stock"], 1000, "nothing set aside");
    let r = app.post("/api/v1/group-buys", &body(top), Some(&staff)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].clone();

    let today =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+8")).format("%Y-%m-%d");
    let path = format!("/api/v1/admin/prices.csv?from={today}&to={today}");
    let text =
        app.client.get(app.url(&path)).bearer_auth(&staff).send().await.expect("csv").text().await.expect("text");
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    let row = text.lines().find(|l| l.contains(&format!(",#{id} 白菜团购"))).unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(",大白菜,"), "{row}");
    assert!(row.contains(&format!(",{},{},", yuan(morning * 2), yuan(top))), "old is its own price then: {row}");
}
