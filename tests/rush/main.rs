//! The rush benchmark: N residents log in, fill their carts, and press "pay" together against a
//! few slots and scarce products; then the database is checked for oversell and for an order
//! behind every 201. With `--raw`, the same checkouts go straight to the store, without HTTP,
//! to measure the database's own limit on this machine.
//!
//!   rush --db sqlite|postgres [--servers 2] [--residents 2000] [--concurrency 256]
//!        [--rate 1000] [--new-residents] [--own-connections] [--raw] [--bin target/release/fuxiansheng]
//!
//! `--new-residents`: as in a lockdown, nobody has a home on record yet; each first order carries
//! the delivery address (otherwise homes are recorded beforehand, as by 7 a.m. on a later day).
//! `--own-connections`: each resident is a phone of its own: its own connection, from its own
//! source address (127.x.y.z), instead of the generator's shared connection pool.
//! `--cold` (with `--own-connections`): each phone opens a new connection as it presses "pay",
//! as a phone does that slept while it waited (its connection closed meanwhile): the rush's
//! connections all arrive at once.
//!
//! `RUSH_SERVER_LOG` sets the servers' `RUST_LOG` (e.g. `warn,backend::store=debug` shows each
//! checkout batch's size and, on PostgreSQL, where its time went); `RUSH_KEEP_SCHEMA=1` keeps the
//! PostgreSQL schema afterwards for a look with psql.
//!
//! `--group-buy`: instead of checkouts, N residents of one building (each its own household)
//! join one group-buy together; an item's maximum is below what they ask for, so the answers are
//! joins and `group_full` refusals, and the maximum must hold exactly.
//!
//! `--delivery`: one slot's N orders from placed to delivered, each step timed, with 100 stall
//! consoles on the live feed (tests/rush/delivery.rs).
//!
//! `--scale [--products 2000] [--orders 150000]`: the server first seeds the market at its real
//! size (85 stalls, 20,000 households, 60,000 residents, the month's orders), so any scene runs
//! on it. `--reads` (implies `--scale`): instead of checkouts, the reads a phone and a staff
//! console make, one at a time on a quiet server, timed (tests/rush/reads.rs).
//!
//! `--morning [--minutes 10] [--rate 5] [--base URL --pids A,B]`: a lockdown morning of mixed
//! load on the full-size market — residents browsing, paying and joining, 85 stall consoles,
//! 50 volunteers, staff boards — with each kind of request's p50/p99 (tests/rush/morning.rs).
//!
//! Run by `./scripts/rush`, which builds the release server first.

use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Semaphore;

mod delivery;
mod morning;
mod reads;

const SECRET: &str = "rush-benchmark-secret-0123456789abcdef";
/// 茄子, 青椒, 胡萝卜 (demo ids 5, 6, 7): the scarce products.
const SCARCE: [i64; 3] = [5, 6, 7];
/// Everyday goods (vegetables, fruit, staples: demo ids 8..=60 less the scarce ones), plentiful;
/// each cart holds one of them, so most rows are warm rather than one row being red hot.
const PLENTIFUL: std::ops::RangeInclusive<i64> = 8..=60;

fn everyday(i: usize) -> i64 {
    PLENTIFUL.start() + (i as i64 % (PLENTIFUL.end() - PLENTIFUL.start() + 1))
}

#[derive(Debug, Clone)]
struct Args {
    postgres: bool,
    servers: usize,
    residents: usize,
    concurrency: usize,
    slots: usize,
    slot_capacity: i64,
    scarce_stock: i64,
    rate: Option<u64>,
    raw: bool,
    new_residents: bool,
    own_connections: bool,
    /// `--cold`: each phone's checkout opens a new connection.
    cold: bool,
    group_buy: bool,
    delivery: bool,
    /// `--scale`: the server seeds the market at its real size (FXS_DEMO_SCALE=seed) first.
    scale: bool,
    /// `--products N`, `--orders N`: the size of that market (2,000 and 150,000 by default).
    products: usize,
    orders: usize,
    /// `--reads`: instead of checkouts, time the reads a phone and a staff console make.
    reads: bool,
    /// `--morning [--minutes 10] [--rate 5]`: a lockdown morning of mixed load (morning.rs).
    morning: bool,
    minutes: f64,
    /// `--base URL`: a deployment already running (through nginx) instead of servers of its own.
    base: Option<String>,
    /// `--pids A,B`: that deployment's server processes, for memory and CPU.
    pids: Vec<u32>,
    bin: String,
    /// `--pickup-points N [--point-capacity C]`: every resident collects at one of N pickup
    /// points (C orders each per slot, 100 by default) instead of at the door.
    pickup_points: usize,
    point_capacity: i64,
}

fn parse_args() -> Args {
    let mut a = Args {
        postgres: false,
        servers: 1,
        residents: 2000,
        concurrency: 256,
        slots: 4,
        slot_capacity: 400,
        scarce_stock: 500,
        rate: None,
        raw: false,
        new_residents: false,
        own_connections: false,
        cold: false,
        group_buy: false,
        delivery: false,
        scale: false,
        products: 2_000,
        orders: 150_000,
        reads: false,
        morning: false,
        minutes: 10.0,
        base: None,
        pids: Vec::new(),
        bin: "target/release/fuxiansheng".into(),
        pickup_points: 0,
        point_capacity: 100,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let next = argv.get(i + 1).cloned().unwrap_or_default();
        let num = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("{} needs a number", argv[i]));
        match argv[i].as_str() {
            "--db" => a.postgres = next == "postgres",
            "--servers" => a.servers = num(&next),
            "--residents" => a.residents = num(&next),
            "--concurrency" => a.concurrency = num(&next),
            "--slots" => a.slots = num(&next),
            "--slot-capacity" => a.slot_capacity = num(&next) as i64,
            "--scarce-stock" => a.scarce_stock = num(&next) as i64,
            "--rate" => a.rate = Some(num(&next) as u64),
            "--bin" => a.bin = next,
            "--products" => a.products = num(&next),
            "--orders" => a.orders = num(&next),
            "--minutes" => a.minutes = next.parse().unwrap_or_else(|_| panic!("--minutes needs a number")),
            "--base" => a.base = Some(next.trim_end_matches('/').to_owned()),
            "--pids" => a.pids = next.split(',').filter_map(|p| p.trim().parse().ok()).collect(),
            "--pickup-points" => a.pickup_points = num(&next),
            "--point-capacity" => a.point_capacity = num(&next) as i64,
            flag @ ("--raw" | "--new-residents" | "--own-connections" | "--cold" | "--group-buy" | "--delivery"
            | "--scale" | "--reads" | "--morning") => {
                match flag {
                    "--morning" => a.morning = true,
                    "--cold" => a.cold = true,
                    "--scale" => a.scale = true,
                    "--reads" => {
                        a.reads = true;
                        a.scale = true;
                    }
                    "--raw" => a.raw = true,
                    "--new-residents" => a.new_residents = true,
                    "--group-buy" => a.group_buy = true,
                    "--delivery" => a.delivery = true,
                    _ => a.own_connections = true,
                }
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) a process has used so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// A size in KiB from the process's /proc status (`VmRSS:`, `VmHWM:`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Resident `i`'s home in 七里山小区.
/// Resident `i`'s flat: a flat of its own for each of the first 21,600 (12 buildings, 3 units,
/// 600 rooms), so each new resident is the first at their address, as a household's first
/// order is.
fn home(i: usize) -> Value {
    json!({ "building": format!("{}", 1 + i % 12), "unit": format!("{}", 1 + (i / 12) % 3), "room": format!("{}", 101 + (i / 36) % 600) })
}

/// The HTTP client of resident `i`: the generator's shared pool, or (`--own-connections`) a
/// phone of its own with one connection from its own loopback address.
fn phone(args: &Args, shared: &reqwest::Client, i: usize) -> reqwest::Client {
    if !args.own_connections {
        return shared.clone();
    }
    let source = std::net::Ipv4Addr::new(127, 1 + (i / 62_500) as u8, ((i / 250) % 250) as u8, 1 + (i % 250) as u8);
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(source))
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(18080)
}

async fn start_server(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) -> Server {
    let port = free_port();
    let mut cmd = Command::new(&args.bin);
    cmd.env("FXS_ADDR", format!("127.0.0.1:{port}"))
        .env("FXS_DATA_DIR", data_dir)
        .env("FXS_DEMO", "1")
        .env("FXS_JWT_SECRET", SECRET)
        .env("FXS_SMS_IP_PER_HOUR", "10000000")
        // The rush is many residents from few addresses (or one), and a few volunteers handing
        // over thousands of orders in minutes: a measure of speed, not of the abuse limits.
        .env("FXS_LIMIT_SMS_CLIENT", "0")
        .env("FXS_LIMIT_LOGIN_CLIENT", "0")
        .env("FXS_LIMIT_LOGIN_PHONE", "0")
        .env("FXS_LIMIT_CHECKOUT", "0")
        .env("FXS_LIMIT_JOIN", "0")
        .env("FXS_LIMIT_CLAIM", "0")
        .env("FXS_LIMIT_HANDOFF", "0")
        .env("RUST_LOG", std::env::var("RUSH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    if args.scale {
        cmd.env("FXS_DEMO_SCALE", "seed")
            .env("FXS_DEMO_SCALE_PRODUCTS", args.products.to_string())
            .env("FXS_DEMO_SCALE_ORDERS", args.orders.to_string());
    }
    let child =
        cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e} (build it: cargo build --release -p backend)", args.bin));
    // Owned at once, so the process is killed and reaped however this ends.
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    // The full-size market takes a while to seed on the first start.
    for _ in 0..if args.scale { 12_000 } else { 600 } {
        if http.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not come up");
}

async fn call(http: &reqwest::Client, req: reqwest::RequestBuilder) -> (u16, Value) {
    let _ = http;
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({ "error": { "code": format!("transport: {e:?}") } })),
    }
}

async fn login(http: &reqwest::Client, base: &str, phone: &str) -> String {
    let (_, sent) =
        call(http, http.post(format!("{base}/api/v1/auth/sms-code")).json(&json!({ "phone": phone }))).await;
    let code = sent["dev_code"].as_str().unwrap_or_else(|| panic!("sms-code for {phone}: {sent}")).to_owned();
    let (_, login) =
        call(http, http.post(format!("{base}/api/v1/auth/login")).json(&json!({ "phone": phone, "code": code }))).await;
    login["token"].as_str().unwrap_or_else(|| panic!("login {phone}: {login}")).to_owned()
}

/// Puts (product, quantity) pairs in a resident's cart.
async fn fill_cart(http: &reqwest::Client, base: &str, token: &str, items: &[(i64, i64)]) {
    for (product, quantity) in items {
        let (status, body) = call(
            http,
            http.put(format!("{base}/api/v1/cart/items/{product}"))
                .bearer_auth(token)
                .json(&json!({ "quantity": quantity })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let data_dir = std::env::temp_dir().join(format!("fxs-rush-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut schema = None;
    let database_url = if args.postgres {
        let base =
            std::env::var("FXS_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("rush_{}", std::process::id());
        let pool = sqlx::PgPool::connect(&base).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&pool).await.expect("schema");
        pool.close().await;
        schema = Some((base.clone(), name.clone()));
        Some(format!("{base}?options=-c%20search_path%3D{name}"))
    } else {
        None
    };
    if args.morning {
        morning::run(&args, &data_dir, database_url.as_deref()).await;
    } else if args.reads {
        reads::run(&args, &data_dir, database_url.as_deref()).await;
    } else if args.delivery {
        delivery::run(&args, &data_dir, database_url.as_deref()).await;
    } else if args.group_buy {
        group_buy_rush(&args, &data_dir, database_url.as_deref()).await;
    } else if args.raw {
        raw::run(&args, &data_dir, database_url.as_deref()).await;
    } else {
        http_rush(&args, &data_dir, database_url.as_deref()).await;
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    if let Some((base, name)) = schema.filter(|_| std::env::var_os("RUSH_KEEP_SCHEMA").is_none()) {
        if let Ok(pool) = sqlx::PgPool::connect(&base).await {
            let _ = sqlx::query(&format!("DROP SCHEMA {name} CASCADE")).execute(&pool).await;
        }
    }
}

async fn http_rush(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
    let mut servers = vec![start_server(args, data_dir, database_url).await];
    for _ in 1..args.servers {
        servers.push(start_server(args, data_dir, database_url).await);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    let base = &bases[0];
    let staff = login(&http, base, "13800000000").await;
    // Orders already there (the full-size market's month): the rush's are the ones after.
    let before = last_order(data_dir, database_url).await;

    // The scene: a few slots for tomorrow, three scarce products, one plentiful one. With pickup
    // points, the slots run from 10:00 Shanghai time, inside the points' hours.
    let tomorrow = if args.pickup_points > 0 {
        let day = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(1);
        day.and_hms_opt(2, 0, 0).map(|t| t.and_utc()).unwrap_or_else(chrono::Utc::now)
    } else {
        chrono::Utc::now() + chrono::Duration::hours(20)
    };
    let mut slot_ids = Vec::new();
    for i in 0..args.slots {
        let start = tomorrow + chrono::Duration::hours(2 * i as i64);
        let (status, slot) = call(
            &http,
            http.post(format!("{base}/api/v1/admin/slots")).bearer_auth(&staff).json(&json!({
                "kind": "delivery", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(),
                "cutoff_at": (start - chrono::Duration::hours(1)).to_rfc3339(), "capacity": args.slot_capacity,
            })),
        )
        .await;
        assert_eq!(status, 201, "{slot}");
        slot_ids.push(slot["id"].as_i64().expect("slot id"));
    }
    let mut point_ids = Vec::new();
    for n in 0..args.pickup_points {
        let (status, point) = call(
            &http,
            http.post(format!("{base}/api/v1/admin/pickup-points")).bearer_auth(&staff).json(&json!({
                "name": format!("压测自提点{n}"), "address": format!("{n}号院"), "opens": "00:00", "closes": "23:59",
                "capacity": args.point_capacity,
            })),
        )
        .await;
        assert_eq!(status, 201, "{point}");
        point_ids.push(point["id"].as_i64().expect("point id"));
    }
    let mut initial_stock = BTreeMap::new();
    for (id, stock) in SCARCE.iter().map(|id| (*id, args.scarce_stock)).chain(PLENTIFUL.map(|id| (id, 1_000_000))) {
        let (status, body) = call(
            &http,
            http.patch(format!("{base}/api/v1/admin/products/{id}"))
                .bearer_auth(&staff)
                .json(&json!({ "stock": stock })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        initial_stock.insert(id, stock);
    }

    eprintln!("logging in {} residents and filling their carts…", args.residents);
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for i in 0..args.residents {
        let (http, base, gate) = (phone(args, &http, i), bases[i % bases.len()].clone(), gate.clone());
        let new_resident = args.new_residents;
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok();
            let token = login(&http, &base, &format!("136{:08}", i)).await;
            if !new_resident {
                // Residents with their homes on record, as they would be by 7 a.m. on a later day.
                let (status, body) =
                    call(&http, http.put(format!("{base}/api/v1/me/household")).bearer_auth(&token).json(&home(i)))
                        .await;
                assert_eq!(status, 200, "{body}");
            }
            fill_cart(&http, &base, &token, &[(SCARCE[i % SCARCE.len()], 1), (everyday(i), 2)]).await;
            (token, http)
        }));
    }
    let mut residents = Vec::new();
    for t in tasks {
        residents.push(t.await.expect("login task"));
    }

    eprintln!(
        "rush: {} checkouts, {} in flight, {}",
        args.residents,
        args.concurrency,
        match args.rate {
            Some(r) => format!("offered at {r}/s"),
            None => "all at once".into(),
        }
    );
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let cpu_before: Vec<f64> = servers.iter().map(|s| cpu_seconds(s.child.id())).collect();
    let own_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (token, http)) in residents.into_iter().enumerate() {
        let (base, gate) = (bases[i % bases.len()].clone(), gate.clone());
        // A phone that slept meanwhile: its old connection is gone, the checkout opens a new one.
        let http = if args.cold && args.own_connections { phone(args, &http, i) } else { http };
        let slot = slot_ids[i % slot_ids.len()];
        let mut order = if args.new_residents {
            json!({ "slot_id": slot, "address": home(i), "payment": "on_delivery" })
        } else {
            json!({ "slot_id": slot, "payment": "on_delivery" })
        };
        if !point_ids.is_empty() {
            // Every point in every slot (slots go round by `i`, points by `i / slots`).
            order["pickup_point_id"] = json!(point_ids[(i / slot_ids.len()) % point_ids.len()]);
        }
        let due = args.rate.map(|r| started + Duration::from_micros(i as u64 * 1_000_000 / r));
        tasks.push(tokio::spawn(async move {
            if let Some(due) = due {
                tokio::time::sleep_until(due.into()).await;
            }
            let _permit = gate.acquire().await.ok();
            let sent = Instant::now();
            let (status, body) = call(
                &http,
                http.post(format!("{base}/api/v1/orders"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("rush-{i}"))
                    .json(&order),
            )
            .await;
            (status, body, sent.elapsed(), Instant::now())
        }));
    }
    let mut latencies = Vec::new();
    let mut created = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut last = started;
    for t in tasks {
        let (status, body, latency, done) = t.await.expect("checkout task");
        latencies.push(latency);
        last = last.max(done);
        if status == 201 {
            created.push(body["id"].as_i64().expect("order id"));
        } else {
            let code = body["error"]["code"].as_str().unwrap_or("?").to_owned();
            *refused.entry(format!("{status} {code}")).or_default() += 1;
        }
    }
    let elapsed = last - started;
    let server_cpu: f64 = servers.iter().zip(&cpu_before).map(|(s, before)| cpu_seconds(s.child.id()) - before).sum();
    let own_cpu = cpu_seconds(std::process::id()) - own_before;
    latencies.sort();
    let peak: Vec<String> = servers
        .iter()
        .map(|s| peak_rss_kib(s.child.id()).map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)))
        .collect();

    // Check from the database itself.
    let homes = args.new_residents.then_some(args.residents);
    let verdict =
        verify(data_dir, database_url, before, &created, &slot_ids, &initial_stock, args.slot_capacity, homes).await;
    let verdict = if verdict.starts_with("FAILED") || point_ids.is_empty() {
        verdict
    } else {
        points_hold(data_dir, database_url, &point_ids, args.point_capacity).await.unwrap_or(verdict)
    };
    println!();
    println!(
        "database: {}   servers: {}   residents: {}{}   in flight: {}{}",
        if args.postgres { "postgres" } else { "sqlite" },
        args.servers,
        args.residents,
        if args.new_residents { " (new: the address in the first order)" } else { "" },
        args.concurrency,
        match (args.own_connections, args.cold) {
            (true, true) => "   one source address per resident, a new connection at \"pay\"",
            (true, false) => "   one connection and source address per resident",
            _ => "",
        },
    );
    println!(
        "successful checkouts: {} in {:.2} s = {:.0}/s",
        created.len(),
        elapsed.as_secs_f64(),
        created.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
    println!("refused: {refused:?}");
    println!("server peak memory (VmHWM): {}", peak.join(", "));
    println!(
        "CPU during the rush: servers {:.2} s, generator {:.2} s ({:.0} µs and {:.0} µs per checkout); the database's own is the rest of {:.2} s on 2 cores",
        server_cpu,
        own_cpu,
        server_cpu * 1e6 / args.residents as f64,
        own_cpu * 1e6 / args.residents as f64,
        2.0 * elapsed.as_secs_f64()
    );
    println!("verified from the database: {verdict}");
    drop(servers);
    if !verdict.starts_with("ok") {
        std::process::exit(1);
    }
}

/// 2,000 households of building 5 join one group-buy at once (see `--group-buy`).
async fn group_buy_rush(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
    let mut servers = vec![start_server(args, data_dir, database_url).await];
    for _ in 1..args.servers {
        servers.push(start_server(args, data_dir, database_url).await);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    let base = &bases[0];
    let staff = login(&http, base, "13800000000").await;
    let start = chrono::Utc::now() + chrono::Duration::hours(20);
    let (status, slot) = call(
        &http,
        http.post(format!("{base}/api/v1/admin/slots")).bearer_auth(&staff).json(&json!({
            "kind": "delivery", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(),
            "cutoff_at": (start - chrono::Duration::hours(1)).to_rfc3339(), "capacity": args.residents as i64 + 10,
        })),
    )
    .await;
    assert_eq!(status, 201, "{slot}");
    // Item A is scarce (three quarters of the households can have one), item B plentiful.
    let (scarce, plenty) = (SCARCE[0], everyday(0));
    let scarce_max = (args.residents as i64 * 3 / 4).max(1);
    for id in [scarce, plenty] {
        let (status, body) = call(
            &http,
            http.patch(format!("{base}/api/v1/admin/products/{id}"))
                .bearer_auth(&staff)
                .json(&json!({ "stock": 1_000_000, "price_fen": 100 })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, gb) = call(
        &http,
        http.post(format!("{base}/api/v1/group-buys")).bearer_auth(&staff).json(&json!({
            "title": "rush", "buildings": ["5"], "min_households": 10, "slot_id": slot["id"], "on_shortfall": "cancel",
            "deadline": (start - chrono::Duration::hours(2)).to_rfc3339(),
            "items": [
                { "product_id": scarce, "price_fen": 100, "max_quantity": scarce_max, "per_household_limit": 2 },
                { "product_id": plenty, "price_fen": 100, "max_quantity": 100_000, "per_household_limit": 5 },
            ],
        })),
    )
    .await;
    assert_eq!(status, 201, "{gb}");
    let id = gb["id"].as_i64().expect("group-buy id");

    eprintln!("logging in {} residents of building 5…", args.residents);
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for i in 0..args.residents {
        let (http, base, gate) = (phone(args, &http, i), bases[i % bases.len()].clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok();
            let token = login(&http, &base, &format!("136{:08}", i)).await;
            let home = json!({ "building": "5", "unit": format!("{}", 1 + i % 3), "room": format!("{}", 1000 + i) });
            let (status, body) =
                call(&http, http.put(format!("{base}/api/v1/me/household")).bearer_auth(&token).json(&home)).await;
            assert_eq!(status, 200, "{body}");
            (token, http)
        }));
    }
    let mut residents = Vec::new();
    for t in tasks {
        residents.push(t.await.expect("login task"));
    }
    eprintln!("rush: {} joins, {} in flight", args.residents, args.concurrency);
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let cpu_before: Vec<f64> = servers.iter().map(|s| cpu_seconds(s.child.id())).collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (token, http)) in residents.into_iter().enumerate() {
        let (base, gate) = (bases[i % bases.len()].clone(), gate.clone());
        let due = args.rate.map(|r| started + Duration::from_micros(i as u64 * 1_000_000 / r));
        let body = json!({ "items": [
            { "product_id": scarce, "quantity": 1 + (i % 2) as i64 },
            { "product_id": plenty, "quantity": 1 + (i % 5) as i64 },
        ]});
        tasks.push(tokio::spawn(async move {
            if let Some(due) = due {
                tokio::time::sleep_until(due.into()).await;
            }
            let _permit = gate.acquire().await.ok();
            let sent = Instant::now();
            let (status, body) =
                call(&http, http.put(format!("{base}/api/v1/group-buys/{id}/share")).bearer_auth(&token).json(&body))
                    .await;
            (status, body, sent.elapsed(), Instant::now(), i)
        }));
    }
    let mut latencies = Vec::new();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let (mut taken, mut joined) = (0i64, 0i64);
    let mut last = started;
    for t in tasks {
        let (status, body, latency, done, i) = t.await.expect("join task");
        latencies.push(latency);
        last = last.max(done);
        let code =
            if status == 200 { "joined".to_owned() } else { body["error"]["code"].as_str().unwrap_or("?").to_owned() };
        *answers.entry(format!("{status} {code}")).or_default() += 1;
        if status == 200 {
            joined += 1;
            taken += 1 + (i % 2) as i64;
        }
    }
    let elapsed = last - started;
    let server_cpu: f64 = servers.iter().zip(&cpu_before).map(|(s, before)| cpu_seconds(s.child.id()) - before).sum();
    latencies.sort();
    let (_, seen) = call(&http, http.get(format!("{base}/api/v1/group-buys/{id}")).bearer_auth(&staff)).await;
    // Every share, a page at a time.
    let mut shares: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/group-buys/{id}/shares?limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", tests::urlencode(c)));
        }
        let (_, page) = call(&http, http.get(url).bearer_auth(&staff)).await;
        shares.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let counted = seen["items"][0]["joined_quantity"].as_i64().unwrap_or(-1);
    let share_sum: i64 = shares
        .iter()
        .flat_map(|s| s["items"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["product_id"] == scarce)
        .map(|l| l["quantity"].as_i64().unwrap_or(0))
        .sum();
    let households = seen["joined_households"].as_i64().unwrap_or(-1);
    let verdict = if counted == taken && share_sum == taken && counted <= scarce_max && households == joined {
        format!(
            "ok: {taken} of {scarce_max} set aside taken, none over; {joined} households, every accepted join counted"
        )
    } else {
        format!("WRONG: counter {counted}, shares {share_sum}, answered {taken} (max {scarce_max}); households {households} vs {joined}")
    };
    println!();
    println!(
        "group-buy joins   database: {}   servers: {}   residents of one building: {}   in flight: {}{}",
        if args.postgres { "postgres" } else { "sqlite" },
        args.servers,
        args.residents,
        args.concurrency,
        if args.own_connections { "   one connection and source address per resident" } else { "" },
    );
    println!(
        "joins answered: {} in {:.2} s = {:.0}/s",
        args.residents,
        elapsed.as_secs_f64(),
        args.residents as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
    println!("answers: {answers:?}");
    println!("CPU during the rush: servers {:.2} s of {:.2} s on 2 cores", server_cpu, 2.0 * elapsed.as_secs_f64());
    println!("verified: {verdict}");
    drop(servers);
    if !verdict.starts_with("ok") {
        std::process::exit(1);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The newest order's id (0 when there is none).
async fn last_order(data_dir: &std::path::Path, database_url: Option<&str>) -> i64 {
    const SQL: &str = "SELECT COALESCE(MAX(id), 0) FROM orders";
    match database_url {
        Some(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("connect");
            sqlx::query_scalar(SQL).fetch_one(&pool).await.expect("orders")
        }
        None => {
            let opts =
                sqlx::sqlite::SqliteConnectOptions::new().filename(data_dir.join("fuxiansheng.db")).read_only(true);
            let pool = sqlx::SqlitePool::connect_with(opts).await.expect("open");
            sqlx::query_scalar(SQL).fetch_one(&pool).await.expect("orders")
        }
    }
}

/// No pickup point took more orders in a slot than it takes: None when every one holds.
async fn points_hold(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    points: &[i64],
    capacity: i64,
) -> Option<String> {
    const SQL: &str = "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM orders WHERE pickup_point_id = $1 \
                       AND status NOT IN ('cancelled', 'expired') GROUP BY slot_id) x";
    for point in points {
        let (most,): (i64,) = match database_url {
            Some(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("postgres");
                sqlx::query_as(SQL).bind(point).fetch_one(&pool).await.expect("point")
            }
            None => {
                let opts =
                    sqlx::sqlite::SqliteConnectOptions::new().filename(data_dir.join("fuxiansheng.db")).read_only(true);
                let pool = sqlx::SqlitePool::connect_with(opts).await.expect("sqlite");
                sqlx::query_as(SQL).bind(point).fetch_one(&pool).await.expect("point")
            }
        };
        if most > capacity {
            return Some(format!("FAILED: pickup point {point} took {most} orders in a slot, capacity {capacity}"));
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
async fn verify(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    before: i64,
    created: &[i64],
    slots: &[i64],
    initial: &BTreeMap<i64, i64>,
    capacity: i64,
    homes: Option<usize>,
) -> String {
    macro_rules! check {
        ($pool:expr) => {{
            let pool = $pool;
            let (orders,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE id > $1").bind(before).fetch_one(&pool).await.expect("count");
            if orders as usize != created.len() {
                return format!("FAILED: {} orders in the database, {} answered 201", orders, created.len());
            }
            for id in created {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE id = $1").bind(id).fetch_one(&pool).await.expect("order");
                if n != 1 {
                    return format!("FAILED: order {id} answered 201 but is not in the database");
                }
            }
            for slot in slots {
                let (booked, orders): (i64, i64) = sqlx::query_as(
                    "SELECT booked, (SELECT COUNT(*) FROM orders o WHERE o.slot_id = s.id) FROM slots s WHERE id = $1",
                )
                .bind(slot)
                .fetch_one(&pool)
                .await
                .expect("slot");
                if booked != orders || booked > capacity {
                    return format!("FAILED: slot {slot} booked {booked}, {orders} orders, capacity {capacity}");
                }
            }
            for (product, start) in initial {
                let (stock, sold): (i64, i64) = sqlx::query_as(
                    "SELECT stock, (SELECT COUNT(*) FROM order_lines l WHERE l.product_id = p.id AND l.order_id > $2) FROM products p WHERE id = $1",
                )
                .bind(product)
                .bind(before)
                .fetch_one(&pool)
                .await
                .expect("product");
                let per_order = if PLENTIFUL.contains(product) { 2 } else { 1 };
                if stock < 0 || stock + sold * per_order != *start {
                    return format!("FAILED: product {product}: stock {stock}, sold {sold}, started {start}");
                }
            }
            if let Some(expected) = homes {
                // Every new resident's first order recorded their home (or, where someone already
                // lives, their request to join it), whatever the order's fate.
                // (A server from before households had members has no requests: `--bin` of an
                // older build, for ./scripts/compare.)
                let with_requests = sqlx::query_as(
                    "SELECT COUNT(*) FROM users u JOIN households h ON h.id = COALESCE(u.household_id, u.pending_household_id) \
                     WHERE u.phone LIKE '136%'",
                )
                .fetch_one(&pool)
                .await;
                let (with_home,): (i64,) = match with_requests {
                    Ok(count) => count,
                    Err(_) => sqlx::query_as(
                        "SELECT COUNT(*) FROM users u JOIN households h ON h.id = u.household_id WHERE u.phone LIKE '136%'",
                    )
                    .fetch_one(&pool)
                    .await
                    .expect("homes"),
                };
                if with_home as usize != expected {
                    return format!("FAILED: {with_home} of {expected} new residents have their home on record");
                }
            }
            format!("ok — {} orders, no slot over capacity, no stock below zero, every 201 has its order", orders)
        }};
    }
    match database_url {
        Some(url) => check!(sqlx::PgPool::connect(url).await.expect("connect")),
        None => {
            let opts =
                sqlx::sqlite::SqliteConnectOptions::new().filename(data_dir.join("fuxiansheng.db")).read_only(true);
            check!(sqlx::SqlitePool::connect_with(opts).await.expect("open"))
        }
    }
}

/// The same checkouts, straight into the store: the database's limit without HTTP.
mod raw {
    use super::*;
    use backend::domain::checkout::{Answer, CheckoutJob};
    use shared::order::Payment;

    pub async fn run(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
        backend::telemetry::init("warn");
        let mut config = backend::Config::default_for(data_dir.to_owned());
        config.database_url = database_url.map(Into::into);
        let store = backend::store::connect(&config).await.expect("store");
        store.seed().demo(&backend::demo::market(), chrono::Utc::now()).await.expect("seed");
        let now = chrono::Utc::now();
        let mut slots = Vec::new();
        for i in 0..args.slots {
            let start = now + chrono::Duration::hours(20 + 2 * i as i64);
            let slot = backend::store::checkout::NewSlot {
                kind: shared::order::SlotKind::Delivery,
                starts_at: start,
                ends_at: start + chrono::Duration::hours(2),
                cutoff_at: start - chrono::Duration::hours(1),
                capacity: args.slot_capacity,
                priority_capacity: 0,
                priority_release_at: None,
                household_limit: 1,
            };
            slots.push(store.slots().create(shared::MarketId::FIRST, &slot, now).await.expect("slot").id);
        }
        for id in SCARCE {
            let stock = shared::api::UpdateProductRequest { stock: Some(args.scarce_stock), ..Default::default() };
            store.setup().change_product(None, id, &stock, 1, now).await.expect("stock");
        }
        for id in PLENTIFUL {
            let stock = shared::api::UpdateProductRequest { stock: Some(1_000_000), ..Default::default() };
            store.setup().change_product(None, id, &stock, 1, now).await.expect("stock");
        }
        let mut users = Vec::new();
        for i in 0..args.residents {
            let u = store.accounts().user_for_phone(&format!("136{:08}", i), now).await.expect("user");
            store.cart().set_quantity(u.id, SCARCE[i % SCARCE.len()], 1, 100, now).await.expect("cart");
            store.cart().set_quantity(u.id, everyday(i), 2, 120, now).await.expect("cart");
            users.push(u.id);
        }
        let gate = Arc::new(Semaphore::new(args.concurrency));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, user_id) in users.into_iter().enumerate() {
            let (store, gate) = (store.clone(), gate.clone());
            let slot_id = slots[i % slots.len()];
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.ok();
                let now = chrono::Utc::now();
                let job = CheckoutJob {
                    user_id,
                    key: format!("raw-{i}"),
                    request_hash: "raw".into(),
                    slot_id,
                    payment: Payment::OnDelivery,
                    address: Some(shared::api::Address {
                        building: "3".into(),
                        unit: "1".into(),
                        room: "101".into(),
                        community: None,
                    }),
                    note: None,
                    handoff_code: "123456".into(),
                    now,
                    pay_by: now,
                    lines: None,
                    pickup_point_id: None,
                };
                let outcome = store.orders().checkout(vec![job]).await;
                if let Err(e) = &outcome {
                    eprintln!("checkout failed: {e}");
                }
                matches!(outcome.as_deref(), Ok([Answer::Placed(_)]))
            }));
        }
        let mut ok = 0usize;
        for t in tasks {
            ok += usize::from(t.await.unwrap_or(false));
        }
        let elapsed = started.elapsed();
        println!();
        println!(
            "raw store checkouts ({}, no HTTP, {} in flight): {} in {:.2} s = {:.0}/s",
            store.kind(),
            args.concurrency,
            ok,
            elapsed.as_secs_f64(),
            ok as f64 / elapsed.as_secs_f64()
        );
    }
}
