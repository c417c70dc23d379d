//! `--reads`: what a phone and a staff console wait for at a market's size, on a quiet server,
//! one request at a time over one kept-alive connection that takes gzip as a phone does: the
//! first product page, a category page, a search, a resident's order list, the staff's household
//! search. Also how long the seeding took, the database's size and the server's memory, and
//! staff bringing in the register of 20,000 phones from a spreadsheet (checked, applied, again)
//! and the goods spreadsheet (2,000 new goods, then every product's price changed).

use super::{login, ms, percentile, start_server, status_kib, Args};
use std::time::{Duration, Instant};

/// Requests per scene.
const ROUNDS: usize = 1_000;
/// What residents type in the search box: whole names, parts of names, a place, a way of growing.
const SEARCHES: &[&str] =
    &["鸡蛋", "白菜", "苹果", "有机", "寿光", "排骨", "豆腐", "虾", "馒头", "油", "章丘大葱", "家庭装"];

struct Timed {
    latencies: Vec<Duration>,
    bytes: u64,
    answers: u64,
}

async fn scene(http: &reqwest::Client, urls: &[(String, Option<String>)]) -> Timed {
    let mut t = Timed { latencies: Vec::with_capacity(urls.len()), bytes: 0, answers: 0 };
    for (url, token) in urls {
        let mut req = http.get(url).header("Accept-Encoding", "gzip");
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let sent = Instant::now();
        let r = req.send().await.expect("request");
        let status = r.status();
        let body = r.bytes().await.expect("body");
        t.latencies.push(sent.elapsed());
        assert!(status.is_success(), "{url}: {status}");
        t.bytes += body.len() as u64;
        t.answers += 1;
    }
    t.latencies.sort();
    t
}

async fn database_bytes(data_dir: &std::path::Path, database_url: Option<&str>) -> u64 {
    match database_url {
        None => ["fuxiansheng.db", "fuxiansheng.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(data_dir.join(f)).ok())
            .map(|m| m.len())
            .sum(),
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            let bytes: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            )
            .fetch_one(&pool)
            .await
            .expect("size");
            bytes as u64
        }
    }
}

/// Phones in the register file: a compound's residents, the most one file takes.
const REGISTER_ROWS: usize = 20_000;

/// Staff's register file of `REGISTER_ROWS` phones over the full-size market's buildings (new
/// flats among them): the dry run, the import, and the same file again (which changes nothing).
async fn register_import(http: &reqwest::Client, base: &str, staff: &str) -> Vec<String> {
    let mut file = String::from("楼号,单元,室,手机\r\n");
    for i in 0..REGISTER_ROWS {
        let (building, unit) = (1 + (i / 3) % 297, 1 + (i / 891) % 3);
        let room = 101 + (i / 2673) % 6 * 100 + i / 16038;
        file.push_str(&format!("{building},{unit},{room},186{i:08}\r\n"));
    }
    let mut lines = Vec::new();
    for (name, dry_run) in [("checked (dry run)", true), ("applied", false), ("applied again", false)] {
        let sent = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/admin/households/register/import?dry_run={dry_run}"))
            .bearer_auth(staff)
            .header("Content-Type", "text/csv")
            .body(file.clone())
            .send()
            .await
            .expect("import");
        assert!(r.status().is_success(), "register import: {}", r.status());
        let answer: serde_json::Value = r.json().await.expect("json");
        lines.push(format!(
            "register file of {REGISTER_ROWS} phones, {name:18} {:6.2} s   {} added",
            sent.elapsed().as_secs_f64(),
            answer["added"]
        ));
    }
    lines
}

/// New goods in the catalogue file: a market's first spreadsheet of them.
const CATALOGUE_ROWS: usize = 2_000;

/// Staff's spreadsheet of goods on the full-size market: `CATALOGUE_ROWS` new goods over its
/// stalls (checked, applied, again), then the morning's prices of every product it sells, each
/// 0.10 yuan up (checked, applied): each change a price record, each under the cap's rule.
async fn catalogue_import(http: &reqwest::Client, base: &str, staff: &str) -> Vec<String> {
    let exported = http
        .get(format!("{base}/api/v1/admin/catalogue/export.csv"))
        .bearer_auth(staff)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    // 编号,摊位号,分类,品名,单位,价格,...: the seed's names and numbers hold no commas.
    let goods: Vec<Vec<String>> = exported
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(6).map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| cells.len() == 6 && cells[2] != "box")
        .collect();
    let stalls: Vec<&str> =
        goods.iter().map(|c| c[1].as_str()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut new_goods = String::from("摊位号,分类,品名,单位,价格,库存,限购,产地\r\n");
    for i in 0..CATALOGUE_ROWS {
        let (yuan, fen, stock) = (1 + i % 20, i % 100, 10 + i);
        new_goods.push_str(&format!(
            "{},蔬菜,新到货品{i:04},斤,{yuan}.{fen:02},{stock},5,本地\r\n",
            stalls[i % stalls.len()]
        ));
    }
    let mut prices = String::from("编号,摊位号,品名,价格\r\n");
    for cells in &goods {
        let fen = shared::domain::fen_of_yuan(&cells[5]).expect("a price in the export") + 10;
        prices.push_str(&format!("{},{},{},{}.{:02}\r\n", cells[0], cells[1], cells[3], fen / 100, fen % 100));
    }
    let mut lines = Vec::new();
    let steps = [
        ("new goods", &new_goods, "checked (dry run)", true),
        ("new goods", &new_goods, "applied", false),
        ("new goods", &new_goods, "applied again", false),
        ("prices", &prices, "checked (dry run)", true),
        ("prices", &prices, "applied", false),
    ];
    for (what, file, name, dry_run) in steps {
        let sent = Instant::now();
        let r = http
            .post(format!("{base}/api/v1/admin/catalogue/import?dry_run={dry_run}"))
            .bearer_auth(staff)
            .header("Content-Type", "text/csv")
            .body(file.clone())
            .send()
            .await
            .expect("import");
        assert!(r.status().is_success(), "catalogue import: {}", r.status());
        let answer: serde_json::Value = r.json().await.expect("json");
        let errors = answer["rows"].as_array().map_or(0, |rows| rows.iter().filter(|r| r["action"] == "error").count());
        assert_eq!(
            errors,
            0,
            "catalogue import of {what}: {:?}",
            answer["rows"].as_array().and_then(|r| r.iter().find(|r| r["action"] == "error"))
        );
        lines.push(format!(
            "catalogue file, {:5} rows of {what:9} {name:18} {:6.2} s   {} new, {} changed",
            file.lines().count() - 1,
            sent.elapsed().as_secs_f64(),
            answer["created"],
            answer["updated"]
        ));
    }
    lines
}

pub async fn run(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
    let started = Instant::now();
    let server = start_server(args, data_dir, database_url).await;
    let seeded = started.elapsed();
    let base = server.base.clone();
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
    let staff = login(&http, &base, "13800000000").await;
    let mut residents = Vec::new();
    for i in 0..100 {
        residents.push(login(&http, &base, &format!("158{:08}", i * 577)).await);
    }
    // The whole catalogue, once, plain: how many products there are.
    let whole: serde_json::Value = http
        .get(format!("{base}/api/v1/products?limit=500"))
        .send()
        .await
        .expect("products")
        .json()
        .await
        .expect("json");
    let first_page = whole["items"].as_array().map_or(0, Vec::len);

    let api = |path: String| format!("{base}/api/v1{path}");
    let first: Vec<_> = (0..ROUNDS).map(|_| (api("/products?limit=40".into()), None)).collect();
    let categories = ["vegetable", "fruit", "meat", "egg", "grain_oil", "tofu", "seafood", "staple"];
    let category: Vec<_> = (0..ROUNDS)
        .map(|i| (api(format!("/products?limit=40&category={}", categories[i % categories.len()])), None))
        .collect();
    let search: Vec<_> = (0..ROUNDS)
        .map(|i| (api(format!("/products?limit=40&q={}", tests::urlencode(SEARCHES[i % SEARCHES.len()]))), None))
        .collect();
    let orders: Vec<_> =
        (0..ROUNDS).map(|i| (api("/orders?limit=20".into()), Some(residents[i % residents.len()].clone()))).collect();
    // Buildings 1..=297, a unit, the start of a room number (a floor).
    let households: Vec<_> = (0..ROUNDS)
        .map(|i| {
            let building = 1 + (i * 37) % 297;
            (
                api(format!("/admin/households?building={building}&unit={}&room={}", 1 + i % 2, 1 + i % 6)),
                Some(staff.clone()),
            )
        })
        .collect();
    // Warm up as a server that has been open a while would be.
    let _ = scene(&http, &first[..50]).await;
    let mut lines = Vec::new();
    for (name, urls) in [
        ("first product page (40)", &first),
        ("a category's first page (40)", &category),
        ("a search (first 40)", &search),
        ("a resident's orders (20)", &orders),
        ("staff household search", &households),
    ] {
        let t = scene(&http, urls).await;
        lines.push(format!(
            "{name:32} p50 {:6.2} ms   p99 {:6.2} ms   max {:7.2} ms   {:6} B gzipped a page",
            ms(percentile(&t.latencies, 0.5)),
            ms(percentile(&t.latencies, 0.99)),
            ms(percentile(&t.latencies, 1.0)),
            t.bytes / t.answers.max(1)
        ));
    }
    lines.extend(register_import(&http, &base, &staff).await);
    lines.extend(catalogue_import(&http, &base, &staff).await);
    let pid = server.child.id();
    let db_bytes = database_bytes(data_dir, database_url).await;
    println!();
    println!(
        "database: {}   market: {} products asked ({} on the first page of 500), {} orders of history",
        if args.postgres { "postgres" } else { "sqlite" },
        args.products,
        first_page,
        args.orders
    );
    println!("started and seeded in {:.1} s; database {:.1} MiB", seeded.as_secs_f64(), db_bytes as f64 / 1048576.0);
    for l in lines {
        println!("{l}");
    }
    println!(
        "server memory: {:.1} MiB now, {:.1} MiB at most (VmRSS, VmHWM; the seeding included)",
        status_kib(pid, "VmRSS:").unwrap_or(0) as f64 / 1024.0,
        status_kib(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0
    );
    drop(server);
}
