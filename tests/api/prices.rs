//! Stable prices (稳物价) through HTTP on both databases: the public price board, the emergency
//! cap (a rise over it refused, measured from the day's opening price; a product's ceiling),
//! and the record for the price regulator as CSV.

use serde_json::json;
use tests::{on_both_databases, spawn_app_with, Db};

on_both_databases! {
    the_emergency_cap_refuses_a_rise_over_it_and_the_record_keeps_every_change => capped;
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
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(",大白菜,")).collect();
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
