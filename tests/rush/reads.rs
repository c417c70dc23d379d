//! `--reads`: what a phone and a staff console wait for at a market's size, on a quiet server,
//! one request at a time over one kept-alive connection that takes gzip as a phone does: the
//! first product page, a category page, a search, a resident's order list, the staff's household
//! search. Also how long the seeding took, the database's size and the server's memory, and
//! staff bringing in the register of 20,000 phones from a spreadsheet (checked, applied, again).

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
