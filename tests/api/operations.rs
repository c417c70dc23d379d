//! Running the market: `/readyz`, the request id every answer carries, and the binary's
//! operator commands — `check` reads the books beside a running server and finds a break,
//! `backup` copies SQLite while orders are placed, `restore` puts the copy back once the server
//! is stopped, and the restored market has every order the backup saw.

use crate::SERVER_BIN;
use serde_json::json;
use tests::{command, on_both_databases, start_process, test_config, Db};

on_both_databases! {
    ready_and_every_answer_carries_its_request_id => ready;
    check_reads_the_books_of_a_running_market => books;
    a_server_told_to_stop_answers_the_checkouts_it_took => terminated;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_orders_come_restores_whole() {
    backup_and_restore().await
}

async fn ready(db: Db) {
    let app = tests::spawn_app(db).await;
    let r = app.client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 200);
    let id = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("request id");
    assert_eq!(id.len(), 16, "{id}");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ready", "{body}");
    assert!(body["migration"].as_i64() > Some(0), "{body}");
    // The proxy's id is kept, on errors too; one that is not usable is replaced.
    let r =
        app.client.get(app.url("/api/v1/orders/1")).header("X-Request-Id", "nginx-4f1c8a2e").send().await.expect("get");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("nginx-4f1c8a2e"));
    let r = app.client.get(app.url("/")).header("X-Request-Id", "a b<c>").send().await.expect("get");
    let id = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(id.len(), 16, "replaced: {id}");

    // /metrics: requests by route pattern (never an id), checkouts by outcome, the pool, slots.
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345690").await;
    let slot = app.open_slot(&staff, 50, 0, 30).await;
    let body = json!({ "slot_id": slot["id"], "address": { "building": "2", "unit": "1", "room": "302" }, "payment": "on_delivery" });
    assert_eq!(app.checkout(&resident, "m-1", &body).await.status, 409, "an empty cart");
    app.put_in_cart(&resident, app.product_id("大白菜").await, 1).await;
    assert_eq!(app.checkout(&resident, "m-2", &body).await.status, 201);
    let r = app.client.get(app.url("/metrics")).send().await.expect("metrics");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with("application/openmetrics-text"));
    let text = r.text().await.expect("text");
    for line in [
        r#"fxs_http_requests_total{method="GET",route="/readyz",status="200"} 1"#,
        r#"fxs_http_requests_total{method="GET",route="/api/v1/orders/{id}",status="401"} 1"#,
        r#"fxs_checkouts_total{outcome="placed"} 1"#,
        r#"fxs_queue_depth{queue="checkout"} 0"#,
        "fxs_donation_pool_balance_fen ",
        "fxs_http_request_duration_seconds_bucket{",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    let refused = text.lines().find(|l| l.starts_with("fxs_checkouts_total{outcome=") && !l.contains("placed"));
    assert!(refused.is_some_and(|l| l.ends_with(" 1")), "the empty cart's refusal counted: {text}");
    assert!(text.contains(&format!("fxs_slot_capacity{{slot=\"{}\"", slot["id"])), "{text}");
    assert!(!text.contains("/api/v1/orders/1\""), "no raw paths");
    // Every metric the Grafana dashboard and the alert rules in deploy/ read is one the server
    // describes.
    let read = |path: &str| std::fs::read_to_string(format!("{}/../deploy/{path}", env!("CARGO_MANIFEST_DIR")));
    let dashboard = read("grafana-dashboard.json").expect("deploy/grafana-dashboard.json")
        + &read("prometheus/alerts.yml").expect("deploy/prometheus/alerts.yml");
    let mut drawn: Vec<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("fxs_"))
        .map(|w| w.trim_end_matches("_bucket").trim_end_matches("_total"))
        .collect();
    drawn.sort_unstable();
    drawn.dedup();
    assert!(drawn.len() >= 8, "{drawn:?}");
    for name in drawn {
        assert!(text.contains(&format!("# TYPE {name} ")), "deploy/ reads {name}, which the server does not describe");
    }
}

/// Runs the test server's binary with `args`, the environment of `config`: (status, stdout, stderr).
fn run(config: &backend::config::Config, args: &[&str]) -> (i32, String, String) {
    let out = command(SERVER_BIN, config).args(args).output().expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

async fn books(db: Db) {
    let (config, _schema) = test_config(db).await;
    let mut app = start_process(SERVER_BIN, &config, db).await;
    let (staff, _) = app.login("13800000000").await;
    let (resident, _) = app.login("13712345601").await;
    let cabbage = app.product_id("大白菜").await;
    let slot = app.open_slot(&staff, 50, 0, 30).await;
    app.put_in_cart(&resident, cabbage, 2).await;
    let order = json!({ "slot_id": slot["id"], "address": { "building": "2", "unit": "1", "room": "301" }, "payment": "on_delivery" });
    assert_eq!(app.checkout(&resident, "ops-1", &order).await.status, 201);
    // A second order cancelled gives its cabbages back; a stall's recount goes into the ledger.
    app.put_in_cart(&resident, cabbage, 3).await;
    let other = app.open_slot(&staff, 50, 0, 34).await;
    let mut order = order;
    order["slot_id"] = other["id"].clone();
    let second = app.checkout(&resident, "ops-2", &order).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let cancel = format!("/api/v1/orders/{}/cancel", second.body["id"]);
    assert_eq!(app.post(&cancel, &json!({}), Some(&resident)).await.status, 200);
    let recount = app.patch(&format!("/api/v1/admin/products/{cabbage}"), &json!({ "stock": 40 }), Some(&staff)).await;
    assert_eq!(recount.status, 200, "{:?}", recount.body);
    // Beside the running server: the demo's market, its group-buy and the orders balance.
    let (status, out, err) = run(&config, &["check"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("the books balance"), "{out}");
    // A place booked that no order holds, stock that came from nowhere: found and named.
    let url = config.database_url.clone();
    app.kill();
    let tampered = [
        format!("UPDATE slots SET booked = booked + 1 WHERE id = {}", slot["id"]),
        format!("UPDATE products SET stock = stock + 3 WHERE id = {cabbage}"),
        // The cabbage's stall moved to another market under its orders and group-buy.
        "INSERT INTO markets (id, name, created_at) VALUES (2, '翠苑市场', '2026-12-01T00:00:00Z')".to_owned(),
        format!("UPDATE vendors SET market_id = 2 WHERE id = (SELECT vendor_id FROM products WHERE id = {cabbage})"),
    ];
    match url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(&url).await.expect("pg");
            for sql in &tampered {
                sqlx::query(sql).execute(&pool).await.expect("update");
            }
            pool.close().await;
        }
        None => {
            let file = config.data_dir.join("fuxiansheng.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display())).await.expect("sqlite");
            for sql in &tampered {
                sqlx::query(sql).execute(&pool).await.expect("update");
            }
            pool.close().await;
        }
    }
    let (status, out, _) = run(&config, &["check"]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains(&format!("NOT HELD: slot {}: 2 places booked, 1 orders hold one", slot["id"])), "{out}");
    // (Its set-aside is the demo group-buy's; the ledger's sum is three short of the shelf.)
    let line =
        out.lines().find(|l| l.starts_with(&format!("NOT HELD: product {cabbage}: 43 in stock + 2 in orders + ")));
    let sums = line.and_then(|l| l.split(" = ").nth(1)).map(|tail| {
        let numbers: Vec<i64> = tail.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
        numbers
    });
    assert!(sums.as_ref().is_some_and(|n| n.len() == 2 && n[0] == n[1] + 3), "{out}");
    assert!(out.contains("order lines in market 1's slots are market 2's goods"), "{out}");
    assert!(out.contains("group-buy items of market 1 are market 2's goods"), "{out}");
}

async fn backup_and_restore() {
    let (config, _) = test_config(Db::Sqlite).await;
    let mut app = start_process(SERVER_BIN, &config, Db::Sqlite).await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let slot = app.open_slot(&staff, 500, 0, 30).await;
    let mut residents = Vec::new();
    for i in 0..12 {
        let (token, _) = app.login(&format!("137123456{i:02}")).await;
        app.put_in_cart(&token, cabbage, 1).await;
        residents.push(token);
    }
    // Half the orders before the backup; the rest while it is taken.
    let mut before = Vec::new();
    for (i, token) in residents.iter().enumerate().take(6) {
        let home = json!({ "building": "2", "unit": "1", "room": format!("{}", 401 + i) });
        let r = app
            .checkout(
                token,
                &format!("b-{i}"),
                &json!({ "slot_id": slot["id"], "address": home, "payment": "on_delivery" }),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        before.push(r.body["id"].clone());
    }
    let copy = config.data_dir.with_extension("backup.db");
    let during: Vec<_> = residents[6..]
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let home = json!({ "building": "2", "unit": "2", "room": format!("{}", 401 + i) });
            let request = app
                .client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(token)
                .header("Idempotency-Key", format!("d-{i}"))
                .json(&json!({ "slot_id": slot["id"], "address": home, "payment": "on_delivery" }));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let (status, out, err) = run(&config, &["backup", copy.to_str().expect("path")]);
    assert_eq!(status, 0, "{out}{err}");
    for d in during {
        assert_eq!(d.await.expect("task").expect("answer"), 201);
    }
    // A second backup to the same file is refused; the copy itself balances.
    assert_eq!(run(&config, &["backup", copy.to_str().expect("path")]).0, 2);
    // Restore refuses while the server runs, and a file that is not a market.
    assert_eq!(run(&config, &["restore", copy.to_str().expect("path")]).0, 1);
    let junk = config.data_dir.with_extension("junk.db");
    std::fs::write(&junk, b"not a database").expect("junk");
    app.kill();
    assert_eq!(run(&config, &["restore", junk.to_str().expect("path")]).0, 1);
    let (status, out, err) = run(&config, &["restore", copy.to_str().expect("path")]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("before-restore-"), "the replaced database is kept: {out}");
    let (status, out, _) = run(&config, &["check"]);
    assert_eq!(status, 0, "the restored books balance: {out}");
    // The restored market serves (the staff login made before the backup holds): every order
    // placed before the backup is there.
    let app = start_process(SERVER_BIN, &config, Db::Sqlite).await;
    for id in &before {
        let r = app.get(&format!("/api/v1/orders/{id}"), Some(&staff)).await;
        assert_eq!(r.status, 200, "order {id} restored: {:?}", r.body);
    }
    let _ = std::fs::remove_file(copy);
    let _ = std::fs::remove_file(junk);

    // A new market's database from the command line: its schema, then the demo in it; its
    // books balance too.
    let (mut fresh, _) = test_config(Db::Sqlite).await;
    fresh.demo = false;
    let (status, out, err) = run(&fresh, &["migrate"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("schema at migration"), "{out}");
    let (status, out, err) = run(&fresh, &["seed-demo"]);
    assert_eq!(status, 0, "{out}{err}");
    let (status, out, _) = run(&fresh, &["check"]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("the books balance"), "{out}");
}

/// SIGTERM in the middle of a rush: the server stops taking connections, answers every checkout
/// it took, and exits 0. After a restart each answered order is there, and every resident's
/// retry with their Idempotency-Key gets their order (the one already placed, or a new one).
async fn terminated(db: Db) {
    const RESIDENTS: usize = 40;
    let (mut config, _) = test_config(db).await;
    config.sms.per_ip_per_hour = 100_000;
    let mut app = start_process(SERVER_BIN, &config, db).await;
    let (staff, _) = app.login("13800000000").await;
    let cabbage = app.product_id("大白菜").await;
    let slot = app.open_slot(&staff, 500, 0, 30).await;
    let mut residents = Vec::new();
    for i in 0..RESIDENTS {
        let (token, _) = app.login(&format!("137123457{i:02}")).await;
        app.put_in_cart(&token, cabbage, 1).await;
        residents.push(token);
    }
    let body = |i: usize| json!({ "slot_id": slot["id"], "address": { "building": "3", "unit": "1", "room": format!("{}", 101 + i) }, "payment": "on_delivery" });
    let (told, mut heard) = tokio::sync::mpsc::unbounded_channel::<()>();
    let presses: Vec<_> = residents
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let request = app
                .client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(token)
                .header("Idempotency-Key", format!("term-{i}"))
                .json(&body(i));
            let told = told.clone();
            tokio::spawn(async move {
                let reply = request.send().await.ok()?;
                let status = reply.status().as_u16();
                let order: serde_json::Value = reply.json().await.ok()?;
                let _ = told.send(());
                Some((status, order["id"].clone()))
            })
        })
        .collect();
    for _ in 0..5 {
        let _ = heard.recv().await;
    }
    assert!(app.terminate(), "the server exits 0 on SIGTERM");
    let mut answered = Vec::new();
    for (i, press) in presses.into_iter().enumerate() {
        if let Some((status, id)) = press.await.expect("task") {
            assert_eq!(status, 201, "resident {i}: a checkout taken is answered, never failed");
            answered.push((i, id));
        }
    }
    eprintln!("SIGTERM: {} of {RESIDENTS} checkouts answered before the server stopped", answered.len());
    assert!(answered.len() >= 5);
    let app = start_process(SERVER_BIN, &config, db).await;
    for (i, token) in residents.iter().enumerate() {
        let again = app.checkout(token, &format!("term-{i}"), &body(i)).await;
        assert_eq!(again.status, 201, "resident {i}'s retry: {:?}", again.body);
        if let Some((_, id)) = answered.iter().find(|(n, _)| *n == i) {
            assert_eq!(&again.body["id"], id, "resident {i}: the retry gets the order already placed");
        }
    }
    let slots = app.get("/api/v1/slots", None).await.body;
    let booked = slots["items"].as_array().and_then(|l| l.iter().find(|s| s["id"] == slot["id"]).cloned());
    assert_eq!(booked.expect("slot")["booked"], RESIDENTS, "one order, one place, each");
    let (status, out, _) = run(&config, &["check"]);
    assert_eq!(status, 0, "{out}");
}
