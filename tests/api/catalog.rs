use crate::SERVER_BIN;
use serde_json::{json, Value};
use tests::{on_both_databases, spawn_app, start, start_process, test_config, Db};

on_both_databases! {
    the_demo_market_is_seeded => demo_market;
    products_filter_by_category_stall_and_text => product_filters;
    product_detail_and_boxes => product_detail;
    staff_price_changes_are_recorded_and_validated => price_changes;
    seeding_twice_changes_nothing => seeding_is_idempotent;
    json_answers_are_gzipped_for_clients_that_take_them => gzipped;
    products_come_in_pages_in_a_stable_order => paged_products;
    catalogue_reads_carry_validators_that_change_with_stock_and_price => validators;
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

async fn demo_market(db: Db) {
    let app = spawn_app(db).await;
    let vendors = app.get("/api/v1/vendors", None).await;
    assert_eq!(vendors.status, 200);
    assert!(items(&vendors.body).len() >= 12);
    let products = app.get("/api/v1/products", None).await;
    let all = items(&products.body);
    assert!(all.len() >= 100, "{} products", all.len());
    for p in all {
        for field in ["id", "vendor_id", "name", "unit", "price_fen", "stock", "category"] {
            assert!(!p[field].is_null(), "{field} in {p}");
        }
        assert!(p["price_fen"].as_i64().expect("price") > 0);
    }
    assert!(all.iter().any(|p| p["name"] == "大白菜" && p["unit"] == "斤"));
    let categories = app.get("/api/v1/categories", None).await;
    let cats = items(&categories.body);
    assert!(cats.iter().any(|c| c["id"] == "vegetable" && c["name_zh"] == "蔬菜"));
    let counted: i64 = cats.iter().map(|c| c["product_count"].as_i64().expect("count")).sum();
    assert_eq!(counted as usize, all.len());
}

async fn product_filters(db: Db) {
    let app = spawn_app(db).await;
    let fruit = app.get("/api/v1/products?category=fruit", None).await;
    let fruit = items(&fruit.body);
    assert!(!fruit.is_empty());
    assert!(fruit.iter().all(|p| p["category"] == "fruit"));

    let vendor_id = fruit[0]["vendor_id"].as_i64().expect("vendor");
    let stall = app.get(&format!("/api/v1/products?vendor_id={vendor_id}"), None).await;
    let stall = items(&stall.body);
    assert!(!stall.is_empty());
    assert!(stall.iter().all(|p| p["vendor_id"] == vendor_id));

    let apples = app.get("/api/v1/products?q=%E8%8B%B9%E6%9E%9C", None).await; // 苹果
    let apples = items(&apples.body);
    assert!(apples.iter().any(|p| p["name"] == "红富士苹果"));
    // The text is found in the name, the description or the stall's name.
    assert!(apples.iter().all(|p| ["name", "description", "vendor_name"]
        .iter()
        .any(|f| p[*f].as_str().unwrap_or_default().contains("苹果"))));

    let combined =
        app.get(&format!("/api/v1/products?category=vegetable&q=%E8%90%9D%E5%8D%9C&vendor_id={}", 1), None).await; // 萝卜
    let combined = items(&combined.body);
    assert_eq!(combined.len(), 2, "胡萝卜 and 白萝卜 at A01: {combined:?}");

    // LIKE wildcards in the search text are literal characters.
    let percent = app.get("/api/v1/products?q=%25", None).await;
    assert_eq!(items(&percent.body).len(), 0);
    let none = app.get("/api/v1/products?category=nothing", None).await;
    assert_eq!(none.status, 200);
    assert!(items(&none.body).is_empty());

    for bad in ["/api/v1/products?vendor_id=abc", "/api/v1/products?colour=red", "/api/v1/products?category=a%20b"] {
        let r = app.get(bad, None).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "invalid_query", "{bad}");
    }
    let long = "菜".repeat(41);
    let r = app.get(&format!("/api/v1/products?q={long}"), None).await;
    assert_eq!(r.status, 400);
}

async fn product_detail(db: Db) {
    let app = spawn_app(db).await;
    let boxes = app.get("/api/v1/products?category=box", None).await;
    let boxes = items(&boxes.body);
    assert!(boxes.len() >= 3);
    assert!(boxes.iter().all(|b| b["is_box"] == true));
    let id = boxes[0]["id"].as_i64().expect("id");
    let detail = app.get(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["name"], boxes[0]["name"]);
    let contents = detail.body["box_items"].as_array().expect("box items");
    assert!(contents.len() >= 3);
    assert!(contents.iter().all(|i| i["quantity"].as_i64().unwrap_or(0) > 0 && i["name"].is_string()));

    let plain = app.get(&format!("/api/v1/products/{}", app.product_id("大白菜").await), None).await;
    assert_eq!(plain.body["box_items"], json!([]));
    let missing = app.get("/api/v1/products/999999", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), "not_found");
    let vendor = app.get("/api/v1/vendors/1", None).await;
    assert_eq!(vendor.status, 200);
    assert_eq!(vendor.body["stall_no"], "A01");
    assert_eq!(app.get("/api/v1/vendors/999", None).await.status, 404);
}

async fn price_changes(db: Db) {
    let app = spawn_app(db).await;
    let (staff, _) = app.login("13800000000").await;
    let potatoes = app.product_id("土豆").await;
    let path = &format!("/api/v1/admin/products/{potatoes}");
    let before = app.get(&format!("/api/v1/products/{potatoes}"), None).await.body;

    for (body, what) in [
        (json!({}), "nothing to change"),
        (json!({ "stock": -1 }), "negative stock"),
        (json!({ "price_fen": -5 }), "negative price"),
        (json!({ "price_fen": 1_000_000_000_000i64 }), "absurd price"),
        (json!({ "price_fen": "12" }), "price as text"),
        (json!({ "stock": 1, "colour": "x" }), "unknown field"),
    ] {
        let r = app.patch(path, &body, Some(&staff)).await;
        assert_eq!(r.status, 400, "{what}: {:?}", r.body);
        r.error_code();
    }
    assert_eq!(
        app.get(&format!("/api/v1/products/{potatoes}"), None).await.body,
        before,
        "refused changes change nothing"
    );
    assert_eq!(app.patch("/api/v1/admin/products/999999", &json!({ "stock": 1 }), Some(&staff)).await.status, 404);

    let start_price = before["price_fen"].as_i64().expect("price");
    assert_eq!(app.patch(path, &json!({ "price_fen": start_price + 20 }), Some(&staff)).await.status, 200);
    assert_eq!(app.patch(path, &json!({ "stock": 7 }), Some(&staff)).await.status, 200);
    // Setting the same price again is not a change.
    assert_eq!(app.patch(path, &json!({ "price_fen": start_price + 20 }), Some(&staff)).await.status, 200);
    let history = app.get(&format!("/api/v1/products/{potatoes}/prices"), None).await;
    let points = items(&history.body);
    let prices: Vec<i64> = points.iter().map(|p| p["price_fen"].as_i64().expect("price")).collect();
    assert_eq!(prices, vec![start_price + 20, start_price]);
    let after = app.get(&format!("/api/v1/products/{potatoes}"), None).await.body;
    assert_eq!(after["stock"], 7);
    assert_eq!(after["price_fen"], start_price + 20);
}

async fn seeding_is_idempotent(db: Db) {
    let (config, schema) = test_config(db).await;
    let first = start(config.clone(), db, schema).await;
    let count = items(&first.get("/api/v1/products", None).await.body).len();
    let vendors = items(&first.get("/api/v1/vendors", None).await.body).len();
    // A second server on the same data: a restart on SQLite (one process per file), a second
    // process beside the first on PostgreSQL.
    let (first, second) = match db {
        Db::Sqlite => {
            first.stop().await;
            (None, start(config, db, None).await)
        }
        Db::Postgres => {
            let second = start_process(SERVER_BIN, &config, db).await;
            (Some(first), second)
        }
    };
    assert_eq!(items(&second.get("/api/v1/products", None).await.body).len(), count);
    assert_eq!(items(&second.get("/api/v1/vendors", None).await.body).len(), vendors);
    let (_, staff) = second.login("13800000000").await;
    assert_eq!(staff["roles"], json!(["staff"]));
    drop(second);
    drop(first);
}

async fn gzipped(db: Db) {
    use std::io::Read;
    let app = spawn_app(db).await;
    let plain = app.client.get(app.url("/api/v1/products")).send().await.expect("plain");
    assert!(plain.headers().get("content-encoding").is_none(), "no compression unless asked");
    let plain: Value = plain.json().await.expect("json");
    let zipped =
        app.client.get(app.url("/api/v1/products")).header("Accept-Encoding", "gzip").send().await.expect("gzipped");
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    let bytes = zipped.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).expect("gzip");
    let unzipped: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(unzipped, plain);
    assert!(bytes.len() * 4 < text.len(), "{} B gzipped from {} B", bytes.len(), text.len());
    // Errors too are JSON, compressed or not.
    let missing =
        app.client.get(app.url("/api/v1/products/999999")).header("Accept-Encoding", "gzip").send().await.expect("404");
    assert_eq!(missing.status(), 404);
    // The stall's live feed is never compressed: each event must leave as it comes.
    let (stall, _) = app.login("13800000101").await;
    let feed = app
        .client
        .get(app.url("/api/v1/vendor/events"))
        .bearer_auth(&stall)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("feed");
    assert_eq!(feed.status(), 200);
    let encoding = feed.headers().get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or("identity");
    assert_eq!(encoding, "identity");
}

/// Every product of `query`, page by page of `limit`: (ids in order, pages).
async fn all_pages(app: &tests::TestApp, query: &str, limit: i64) -> (Vec<i64>, usize) {
    let (mut ids, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={}", tests::urlencode(c))).unwrap_or_default();
        let r = app.get(&format!("/api/v1/products?limit={limit}{query}{after}"), None).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let page = items(&r.body);
        assert!(page.len() as i64 <= limit);
        ids.extend(page.iter().map(|p| p["id"].as_i64().expect("id")));
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert!(r.body["next_cursor"].is_null(), "null on the last page");
                return (ids, pages);
            }
        }
        assert!(pages < 1000, "paging must end");
    }
}

async fn paged_products(db: Db) {
    let app = spawn_app(db).await;
    let whole = app.get("/api/v1/products?limit=500", None).await.body;
    let every: Vec<i64> = items(&whole).iter().map(|p| p["id"].as_i64().expect("id")).collect();
    assert!(every.len() > 100, "the demo's catalogue");
    assert!(whole["next_cursor"].is_null());
    // The default page holds the demo's whole catalogue.
    assert!(app.get("/api/v1/products", None).await.body["next_cursor"].is_null());
    // Page by page, in the same order, each once.
    let (paged, pages) = all_pages(&app, "", 7).await;
    assert_eq!(paged, every);
    assert_eq!(pages, every.len().div_ceil(7));
    // Filters and search hold across pages.
    let veg = app.get("/api/v1/products?category=vegetable&limit=500", None).await.body;
    let veg: Vec<i64> = items(&veg).iter().map(|p| p["id"].as_i64().expect("id")).collect();
    assert!(veg.len() > 5);
    assert_eq!(all_pages(&app, "&category=vegetable", 3).await.0, veg);
    let found = app.get(&format!("/api/v1/products?limit=500&q={}", tests::urlencode("菜")), None).await.body;
    let found: Vec<i64> = items(&found).iter().map(|p| p["id"].as_i64().expect("id")).collect();
    assert!(found.len() > 2);
    assert_eq!(all_pages(&app, &format!("&q={}", tests::urlencode("菜")), 2).await.0, found);
    // Bad limits and cursors are refused.
    for bad in ["limit=0", "limit=501", "limit=x", "cursor=nonsense", "cursor=b2.1.1.1"] {
        let r = app.get(&format!("/api/v1/products?{bad}"), None).await;
        assert_eq!((r.status, r.error_code()), (400, "invalid_query"), "{bad}: {:?}", r.body);
    }
}

async fn validators(db: Db) {
    let app = spawn_app(db).await;
    let get = |path: &'static str, tag: Option<String>| {
        let mut req = app.client.get(app.url(path));
        if let Some(t) = tag {
            req = req.header("If-None-Match", t);
        }
        async move { req.send().await.expect("sent") }
    };
    for path in ["/api/v1/products", "/api/v1/categories", "/api/v1/vendors", "/api/v1/prices"] {
        let first = get(path, None).await;
        assert_eq!(first.status(), 200, "{path}");
        let tag = first.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned();
        assert_eq!(first.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-cache"));
        let again = get(path, Some(tag.clone())).await;
        assert_eq!(again.status(), 304, "{path}: the phone has it already");
        assert!(again.bytes().await.expect("body").is_empty());
    }
    // A change of stock is seen at once: the tag changes.
    let first = get("/api/v1/products", None).await;
    let tag = first.headers().get("etag").and_then(|v| v.to_str().ok()).expect("tag").to_owned();
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    app.change_product(&staff, cabbage, &json!({ "stock": 7 })).await;
    let after = get("/api/v1/products", Some(tag.clone())).await;
    assert_eq!(after.status(), 200, "stock changed");
    assert_ne!(after.headers().get("etag").and_then(|v| v.to_str().ok()), Some(tag.as_str()));
    let body: Value = after.json().await.expect("json");
    let listed = items(&body).iter().find(|p| p["id"] == cabbage).cloned().expect("cabbage");
    assert_eq!(listed["stock"], 7);
}
