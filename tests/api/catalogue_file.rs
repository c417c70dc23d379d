//! The market's spreadsheet of goods: export, edit, import (CSV in UTF-8 or GBK, and XLSX), a
//! dry run first, all or nothing, the same file twice changing nothing.

use serde_json::{json, Value};
use std::time::Instant;
use tests::{on_both_databases, Db, TestApp};

on_both_databases! {
    staff_export_edit_and_import_the_catalogue => round_trip;
    a_bad_catalogue_file_changes_nothing => bad_files;
    two_thousand_goods_come_in_at_once => many;
}

const STAFF: &str = "13800000000";

async fn import(app: &TestApp, staff: &str, file: Vec<u8>, dry_run: bool) -> tests::Reply {
    let url = app.url(&format!("/api/v1/admin/catalogue/import?dry_run={dry_run}"));
    app.send(app.client.post(url).bearer_auth(staff).header("Content-Type", "text/csv").body(file)).await
}

async fn export(app: &TestApp, staff: &str, format: &str) -> Vec<u8> {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/admin/catalogue/export.{format}")))
        .bearer_auth(staff)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status().as_u16(), 200);
    res.bytes().await.expect("bytes").to_vec()
}

fn actions(r: &tests::Reply) -> Vec<(i64, String)> {
    r.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| (row["row"].as_i64().unwrap_or(0), row["action"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn counted(r: &tests::Reply, action: &str) -> usize {
    actions(r).iter().filter(|(_, a)| a == action).count()
}

async fn round_trip(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let exported = export(&app, &staff, "csv").await;
    let text = String::from_utf8(exported.clone()).expect("utf-8");
    assert!(
        text.starts_with("\u{FEFF}编号 id,摊位号 stall,分类 category,品名 name,单位 unit,价格 price,库存 stock,限购 limit,产地 origin,在售 on_sale,说明 description\r\n"),
        "{}",
        &text[..200]
    );
    let lines = text.lines().count();
    // The same file back changes nothing.
    let r = import(&app, &staff, exported.clone(), false).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((counted(&r, "unchanged"), r.body["applied"].clone()), (lines - 1, json!(true)));
    // Edited: 土豆 cheaper and retired, a new product at stall A01 (the demo's first stall).
    let potatoes = app.product_id("土豆").await;
    let mut edited: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = edited.iter().position(|l| l.starts_with(&format!("{potatoes},"))).expect("土豆's row");
    let mut cells: Vec<String> = edited[at].split(',').map(str::to_owned).collect();
    cells[5] = "1.00".into();
    cells[9] = "否".into();
    edited[at] = cells.join(",");
    let stall = edited[1].split(',').nth(1).expect("a stall").to_owned();
    edited.push(format!(",{stall},蔬菜,紫甘蓝,个,4.5,30,2,云南,是,新到"));
    let file = edited.join("\r\n").into_bytes();
    let dry = import(&app, &staff, file.clone(), true).await;
    assert_eq!(
        (dry.body["created"].clone(), dry.body["updated"].clone(), dry.body["applied"].clone()),
        (json!(1), json!(1), json!(false))
    );
    assert_eq!(app.get(&format!("/api/v1/products/{potatoes}"), None).await.status, 200, "a dry run changes nothing");
    let r = import(&app, &staff, file.clone(), false).await;
    assert_eq!(r.body["applied"], true, "{:?}", r.body);
    assert_eq!(app.get(&format!("/api/v1/products/{potatoes}"), None).await.status, 404, "retired");
    let kale = app.product_id("紫甘蓝").await;
    let kale = app.get(&format!("/api/v1/products/{kale}"), None).await.body;
    assert_eq!(
        (kale["price_fen"].clone(), kale["stock"].clone(), kale["per_order_limit"].clone(), kale["origin"].clone()),
        (json!(450), json!(30), json!(2), json!("云南"))
    );
    let prices = app.get(&format!("/api/v1/products/{potatoes}/prices"), None).await.body;
    assert_eq!(prices["items"][0]["price_fen"], 100, "the new price is in the public record");
    // Twice: nothing more.
    let again = import(&app, &staff, file, false).await;
    assert_eq!(
        (again.body["created"].clone(), again.body["updated"].clone()),
        (json!(0), json!(0)),
        "{:?}",
        again.body
    );
    // And the export shows it as the import left it: the retired product too.
    let text = String::from_utf8(export(&app, &staff, "csv").await).expect("utf-8");
    assert!(text.contains(",紫甘蓝,个,4.50,30,2,云南,是,新到\r\n"), "{text}");
    assert!(text.lines().any(|l| l.starts_with(&format!("{potatoes},")) && l.contains(",否,")));
    // Each change is in the audit.
    let audit = app.get("/api/v1/admin/audit?subject=product", Some(&staff)).await.body;
    let actions: Vec<_> = audit["items"].as_array().expect("items").iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    // GBK, as Excel saves CSV on a Chinese system.
    let text = format!("摊位号,品名,价格\r\n{stall},紫甘蓝,4.60\r\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let r = import(&app, &staff, gbk.to_vec(), false).await;
    assert_eq!((r.status, r.body["updated"].clone()), (200, json!(1)), "{:?}", r.body);
    // XLSX, as Excel and WPS save it: the export comes back unchanged, an edit is taken.
    let book = export(&app, &staff, "xlsx").await;
    assert!(book.starts_with(b"PK\x03\x04"), "a zip");
    let r = import(&app, &staff, book.clone(), false).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!((counted(&r, "unchanged"), counted(&r, "error")), (lines, 0), "{:?}", r.body);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, heading) in ["摊位号", "品名", "价格", "库存"].iter().enumerate() {
        sheet.write_string(0, c as u16, *heading).expect("heading");
    }
    sheet.write_string(3, 0, &stall).expect("cell");
    sheet.write_string(3, 1, "紫甘蓝").expect("cell");
    sheet.write_number(3, 2, 4.8).expect("cell");
    sheet.write_number(3, 3, 12).expect("cell");
    let r = import(&app, &staff, workbook.save_to_buffer().expect("xlsx"), false).await;
    assert_eq!((r.status, r.body["updated"].clone()), (200, json!(1)), "{:?}", r.body);
    assert_eq!(r.body["rows"][0]["row"], 4, "rows numbered as the spreadsheet shows them");
    let kale = app.get(&format!("/api/v1/products/{}", app.product_id("紫甘蓝").await), None).await.body;
    assert_eq!((kale["price_fen"].clone(), kale["stock"].clone()), (json!(480), json!(12)));
    // Only staff.
    let (resident, _) = app.login("13712345675").await;
    assert_eq!(import(&app, &resident, b"a,b\n".to_vec(), true).await.status, 403);
    let res = app.client.get(app.url("/api/v1/admin/catalogue/export.csv")).bearer_auth(&resident).send().await;
    assert_eq!(res.expect("export").status().as_u16(), 403);
}

async fn bad_files(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let before = export(&app, &staff, "csv").await;
    let stall = String::from_utf8(before.clone())
        .expect("utf-8")
        .lines()
        .nth(1)
        .expect("a row")
        .split(',')
        .nth(1)
        .expect("stall")
        .to_owned();
    for (file, why) in [
        (b"name,price\n\xE7\xB4\xAB,4\n".to_vec(), "no stall column"),
        (Vec::new(), "an empty file"),
        (vec![0x81, 0x20, 0xFF, 0xFE, 0x00, 0x81], "neither UTF-8 nor GBK"),
        (b"PK\x03\x04 not really a spreadsheet".to_vec(), "a zip that is no XLSX"),
    ] {
        let r = import(&app, &staff, file, false).await;
        assert_eq!(r.status, 400, "{why}: {:?}", r.body);
    }
    let file = format!("摊位号,分类,品名,单位,价格,库存\n{stall},蔬菜,紫甘蓝,个,4.5,30\n{stall},蔬菜,芹菜,把,abc,30\n");
    let r = import(&app, &staff, file.into_bytes(), false).await;
    assert_eq!(r.status, 200);
    assert_eq!(actions(&r), [(2, "create".to_owned()), (3, "error".to_owned())]);
    assert_eq!(r.body["rows"][1]["errors"][0]["column"], "价格");
    assert_eq!(r.body["applied"], false);
    assert_eq!(export(&app, &staff, "csv").await, before, "nothing changed");
}

/// 2,000 new goods checked, then applied, then again (nothing changes); the time is printed
/// (the figure in the README comes from `./scripts/rush --reads`, a release build at full size).
async fn many(db: Db) {
    let app = tests::spawn_app(db).await;
    let (staff, _) = app.login(STAFF).await;
    let text = String::from_utf8(export(&app, &staff, "csv").await).expect("utf-8");
    let stalls: Vec<String> = text.lines().skip(1).filter_map(|l| l.split(',').nth(1).map(str::to_owned)).collect();
    let mut file = String::from("摊位号,分类,品名,单位,价格,库存,限购,产地\n");
    for i in 0..2_000 {
        file.push_str(&format!(
            "{},蔬菜,货品{i:04},斤,{}.{:02},{},5,本地\n",
            stalls[i % stalls.len()],
            1 + i % 20,
            i % 100,
            10 + i
        ));
    }
    let started = Instant::now();
    let dry = import(&app, &staff, file.clone().into_bytes(), true).await;
    let checked = started.elapsed();
    assert_eq!(
        dry.body["created"],
        2_000,
        "{:?}",
        dry.body["rows"].as_array().map(|r| r.iter().find(|r| r["action"] == "error").cloned())
    );
    let started = Instant::now();
    let r = import(&app, &staff, file.clone().into_bytes(), false).await;
    let applied = started.elapsed();
    assert_eq!(r.body["applied"], true);
    let started = Instant::now();
    let again = import(&app, &staff, file.into_bytes(), false).await;
    let unchanged = started.elapsed();
    assert_eq!(counted(&again, "unchanged"), 2_000);
    eprintln!("catalogue import of 2,000 rows: checked in {checked:?}, applied in {applied:?}, again (unchanged) in {unchanged:?}");
    let found: Value = app.get(&format!("/api/v1/products?q={}", tests::urlencode("货品1999")), None).await.body;
    assert_eq!(found["items"][0]["per_order_limit"], 5);
}
