//! `--morning`: a lockdown morning on the full-size market, for `--minutes` (10): new residents
//! arrive at `--rate` a second, each a phone of its own (own connection, own source address),
//! and browse (the first page, a category, a search, two products), log in, fill a cart, pay
//! (the first order carries their new flat's address), look at their order, and three in ten
//! join the morning's group-buy; the market's 85 stall consoles hold the live feed open and
//! confirm and pack their parts as they come; 50 volunteers claim ready batches, pick them up
//! and hand every order over with its code; four staff boards refresh every 5 s.
//!
//! Against servers it starts (`--db`, `--servers`, seeded at full size first) or an existing
//! deployment (`--base http://127.0.0.1:8080` through nginx, e.g. `deploy/run-local` with
//! `FXS_DEMO_SCALE=seed`; `--pids A,B` names its servers for memory and CPU). Reports each
//! kind of request's count, refusals, errors, p50/p99/max; the servers' memory every 30 s; CPU
//! per checkout. Errors (5xx, a failed connection) fail the run.

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

const STALL_CONSOLES: usize = 85;
const VOLUNTEERS: usize = 50;
const BUILDINGS: usize = 12;
/// The everyday goods residents buy this morning (restocked for the morning by staff).
const GOODS: usize = 40;
const SEARCHES: [&str; 6] = ["白菜", "土豆", "苹果", "鸡蛋", "猪肉", "米"];

/// One kind of request's answers: latencies, refusals (4xx), errors (5xx or no answer).
type Answers = (Vec<Duration>, usize, usize);

/// Every answer, by kind of request.
#[derive(Default)]
struct Tally {
    by_kind: Mutex<BTreeMap<&'static str, Answers>>,
}

/// The servers' memory (MiB each) at seconds into the morning.
type MemoryTimeline = Arc<Mutex<Vec<(f64, Vec<f64>)>>>;

impl Tally {
    /// Sends `req`, notes its answer under `kind`; (status, body).
    async fn call(&self, kind: &'static str, req: reqwest::RequestBuilder) -> (u16, Value) {
        let started = Instant::now();
        let (status, body) = match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({ "error": { "code": format!("transport: {e}") } })),
        };
        let took = started.elapsed();
        let mut by_kind = self.by_kind.lock().expect("tally");
        let entry = by_kind.entry(kind).or_default();
        entry.0.push(took);
        if status == 0 || status >= 500 {
            entry.2 += 1;
            if entry.2 <= 3 {
                eprintln!("error: {kind} answered {status}: {body}");
            }
        } else if status >= 400 {
            entry.1 += 1;
        }
        (status, body)
    }
}

/// Resident `i`'s new flat in run `run`: building 1–12, unit 1, a room no seeded flat has (and
/// no other run's: a morning may be run again on the same database).
fn new_flat(run: u64, i: usize) -> Value {
    json!({ "building": format!("{}", 1 + i % BUILDINGS), "unit": "1", "room": format!("{run}{:05}", i / BUILDINGS) })
}

struct Morning {
    base: Vec<String>,
    tally: Tally,
    slots: Vec<i64>,
    group_buy: i64,
    goods: Vec<i64>,
    categories: Vec<String>,
    /// Hand-off codes of the orders placed: order -> code (volunteers read them at the door).
    codes: Mutex<HashMap<i64, String>>,
    placed: std::sync::atomic::AtomicUsize,
    until: Instant,
    /// Two digits of this run (from the clock): its residents' phones, flats and keys are its own.
    run: u64,
}

impl Morning {
    fn base(&self, i: usize) -> &str {
        &self.base[i % self.base.len()]
    }
}

/// One resident's visit, from the first page to the order's page.
async fn resident(m: Arc<Morning>, http: reqwest::Client, i: usize) {
    let base = m.base(i).to_owned();
    let t = &m.tally;
    t.call("first page", http.get(format!("{base}/api/v1/products?limit=40"))).await;
    let category = &m.categories[i % m.categories.len()];
    t.call("category page", http.get(format!("{base}/api/v1/products?limit=40&category={category}"))).await;
    let term = tests::urlencode(SEARCHES[i % SEARCHES.len()]);
    t.call("search", http.get(format!("{base}/api/v1/products?limit=40&q={term}"))).await;
    let (a, b) = (m.goods[i % m.goods.len()], m.goods[(i * 7 + 3) % m.goods.len()]);
    for id in [a, b] {
        t.call("product page", http.get(format!("{base}/api/v1/products/{id}"))).await;
    }
    let phone = format!("136{}{i:06}", m.run);
    let (_, sent) =
        t.call("sms code", http.post(format!("{base}/api/v1/auth/sms-code")).json(&json!({ "phone": phone }))).await;
    let Some(code) = sent["dev_code"].as_str() else { return };
    let (_, login) = t
        .call("login", http.post(format!("{base}/api/v1/auth/login")).json(&json!({ "phone": phone, "code": code })))
        .await;
    let Some(token) = login["token"].as_str().map(str::to_owned) else { return };
    for (id, quantity) in [(a, 1), (b, 2)] {
        let put = http
            .put(format!("{base}/api/v1/cart/items/{id}"))
            .bearer_auth(&token)
            .json(&json!({ "quantity": quantity }));
        t.call("cart", put).await;
    }
    t.call("cart", http.get(format!("{base}/api/v1/cart")).bearer_auth(&token)).await;
    let body =
        json!({ "slot_id": m.slots[i % m.slots.len()], "address": new_flat(m.run, i), "payment": "on_delivery" });
    let (status, order) = t
        .call(
            "checkout",
            http.post(format!("{base}/api/v1/orders"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("morning-{}-{i}", m.run))
                .json(&body),
        )
        .await;
    if status == 201 {
        m.placed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let (Some(id), Some(code)) = (order["id"].as_i64(), order["handoff_code"].as_str()) {
            m.codes.lock().expect("codes").insert(id, code.to_owned());
            for _ in 0..2 {
                t.call("order page", http.get(format!("{base}/api/v1/orders/{id}")).bearer_auth(&token)).await;
            }
        }
    }
    t.call("my orders", http.get(format!("{base}/api/v1/orders")).bearer_auth(&token)).await;
    if i % 10 < 3 {
        let share = json!({ "items": [{ "product_id": m.goods[0], "quantity": 1 }] });
        let put = http.put(format!("{base}/api/v1/group-buys/{}/share", m.group_buy)).bearer_auth(&token).json(&share);
        t.call("group-buy join", put).await;
    }
}

/// A stall's console as the page works: the live feed held open on its own connection; the
/// slots its events name (every morning slot each 30 s besides) are listed, every page of them,
/// and the stall's new parts confirmed and packed.
async fn stall(m: Arc<Morning>, n: usize) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(2).build().expect("client");
    let base = m.base(n).to_owned();
    let token = login(&http, &base, &format!("138000001{:02}", n + 1)).await;
    let feed = http.get(format!("{base}/api/v1/vendor/events")).bearer_auth(&token).send().await;
    let told: Arc<Mutex<std::collections::BTreeSet<i64>>> = Arc::default();
    let heard = Arc::new(tokio::sync::Notify::new());
    if let Ok(mut res) = feed {
        let (heard, told) = (heard.clone(), told.clone());
        tokio::spawn(async move {
            let mut pending = String::new();
            while let Ok(Some(bytes)) = res.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&bytes));
                while let Some(end) = pending.find("\n\n") {
                    let event: String = pending.drain(..end + 2).collect();
                    let slot = event
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .and_then(|d| serde_json::from_str::<Value>(d).ok())
                        .and_then(|v| v["slot_id"].as_i64());
                    if let Some(slot) = slot {
                        told.lock().expect("told").insert(slot);
                        heard.notify_one();
                    }
                }
            }
        });
    }
    let mut done = std::collections::HashSet::new();
    let mut every_slot = Instant::now();
    while Instant::now() < m.until {
        let _ = tokio::time::timeout(Duration::from_secs(5), heard.notified()).await;
        let mut slots: Vec<i64> = std::mem::take(&mut *told.lock().expect("told")).into_iter().collect();
        if every_slot.elapsed() > Duration::from_secs(30) {
            slots = m.slots.clone();
            every_slot = Instant::now();
        }
        for slot in slots {
            let mut cursor: Option<String> = None;
            loop {
                let page = cursor.as_ref().map(|c| format!("&cursor={}", tests::urlencode(c))).unwrap_or_default();
                let url = format!("{base}/api/v1/vendor/orders?slot_id={slot}&limit=500{page}");
                let (status, list) = m.tally.call("stall: list", http.get(url).bearer_auth(&token)).await;
                if status != 200 {
                    break;
                }
                for part in list["items"].as_array().into_iter().flatten() {
                    let Some(id) = part["id"].as_i64() else { continue };
                    if part["status"] == "packed" || !done.insert(id) {
                        continue;
                    }
                    for (kind, step) in [("stall: confirm", "confirm"), ("stall: packed", "packed")] {
                        let url = format!("{base}/api/v1/vendor/orders/{id}/{step}");
                        m.tally.call(kind, http.post(url).bearer_auth(&token)).await;
                    }
                }
                match list["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
        }
    }
}

/// A volunteer: every 2 s looks for a ready batch, claims it (another may win), picks it up and
/// hands each order over with the resident's code.
async fn volunteer(m: Arc<Morning>, n: usize) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(2).build().expect("client");
    let base = m.base(n).to_owned();
    let token = login(&http, &base, &format!("138000002{:02}", n + 1)).await;
    while Instant::now() < m.until {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let slot = m.slots[n % m.slots.len()];
        let (_, list) = m
            .tally
            .call("volunteer: batches", http.get(format!("{base}/api/v1/batches?slot_id={slot}")).bearer_auth(&token))
            .await;
        let ready: Vec<i64> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["status"] == "ready")
            .filter_map(|b| b["id"].as_i64())
            .collect();
        let Some(&batch) = ready.get(n % ready.len().max(1)) else { continue };
        let (status, _) = m
            .tally
            .call("volunteer: claim", http.post(format!("{base}/api/v1/batches/{batch}/claim")).bearer_auth(&token))
            .await;
        if status != 200 {
            continue;
        }
        m.tally
            .call("volunteer: pickup", http.post(format!("{base}/api/v1/batches/{batch}/pickup")).bearer_auth(&token))
            .await;
        let (_, b) = m
            .tally
            .call("volunteer: manifest", http.get(format!("{base}/api/v1/batches/{batch}")).bearer_auth(&token))
            .await;
        for stop in b["manifest"].as_array().into_iter().flatten() {
            let Some(order) = stop["order_id"].as_i64() else { continue };
            let code = m.codes.lock().expect("codes").get(&order).cloned();
            let Some(code) = code else { continue };
            let url = format!("{base}/api/v1/orders/{order}/handoff");
            m.tally
                .call("volunteer: hand-off", http.post(url).bearer_auth(&token).json(&json!({ "code": code })))
                .await;
        }
    }
}

/// A staff board: the slots' batches, the households of a building, open refunds, the pool.
async fn staff_board(m: Arc<Morning>, n: usize, token: String) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(2).build().expect("client");
    let base = m.base(n).to_owned();
    while Instant::now() < m.until {
        let slot = m.slots[n % m.slots.len()];
        m.tally
            .call("staff: batches", http.get(format!("{base}/api/v1/batches?slot_id={slot}")).bearer_auth(&token))
            .await;
        let building = 1 + n % BUILDINGS;
        let households = format!("{base}/api/v1/admin/households?building={building}&limit=50");
        m.tally.call("staff: households", http.get(households).bearer_auth(&token)).await;
        m.tally.call("staff: refunds", http.get(format!("{base}/api/v1/admin/refunds")).bearer_auth(&token)).await;
        m.tally.call("staff: pool", http.get(format!("{base}/api/v1/donations/pool"))).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

pub async fn run(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
    let mut servers = Vec::new();
    let (bases, pids): (Vec<String>, Vec<u32>) = match &args.base {
        Some(base) => (vec![base.clone()], args.pids.clone()),
        None => {
            let mut scaled = args.clone();
            scaled.scale = true;
            servers.push(start_server(&scaled, data_dir, database_url).await);
            for _ in 1..args.servers {
                servers.push(start_server(&scaled, data_dir, database_url).await);
            }
            (servers.iter().map(|s| s.base.clone()).collect(), servers.iter().map(|s| s.child.id()).collect())
        }
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(16).build().expect("client");
    let base = bases[0].clone();
    let staff = login(&http, &base, "13800000000").await;
    let seconds = args.minutes * 60.0;
    let expected = (args.rate.unwrap_or(5) as f64 * seconds) as usize + 100;

    // The morning's slots, goods and group-buy, set by staff before the doors open.
    let mut slots = Vec::new();
    for hours in [20, 22, 24] {
        slots.push(super::delivery::slot(&http, &base, &staff, hours, expected).await);
    }
    let (_, first) = call(&http, http.get(format!("{base}/api/v1/products?limit=200"))).await;
    let goods: Vec<i64> = first["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["is_box"] == false)
        .filter_map(|p| p["id"].as_i64())
        .step_by(3)
        .take(GOODS)
        .collect();
    assert_eq!(goods.len(), GOODS, "{first}");
    for id in &goods {
        let (status, body) = call(
            &http,
            http.patch(format!("{base}/api/v1/admin/products/{id}"))
                .bearer_auth(&staff)
                .json(&json!({ "stock": 1_000_000 })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, cats) = call(&http, http.get(format!("{base}/api/v1/categories"))).await;
    let categories: Vec<String> =
        cats["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    let (_, product) = call(&http, http.get(format!("{base}/api/v1/products/{}", goods[0]))).await;
    let price = product["price_fen"].as_i64().expect("price");
    let buildings: Vec<String> = (1..=BUILDINGS).map(|b| b.to_string()).collect();
    let (status, gb) = call(
        &http,
        http.post(format!("{base}/api/v1/group-buys")).bearer_auth(&staff).json(&json!({
            "title": "早市团购", "buildings": buildings, "min_households": 10, "slot_id": slots[2], "on_shortfall": "proceed",
            "deadline": (chrono::Utc::now() + chrono::Duration::hours(12)).to_rfc3339(),
            "items": [{ "product_id": goods[0], "price_fen": price, "max_quantity": expected, "per_household_limit": 2 }],
        })),
    )
    .await;
    assert_eq!(status, 201, "{gb}");
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let m = Arc::new(Morning {
        base: bases.clone(),
        tally: Tally::default(),
        slots,
        group_buy: gb["id"].as_i64().expect("group-buy"),
        goods,
        categories,
        codes: Mutex::default(),
        placed: Default::default(),
        until,
        run: 10
            + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60) % 90,
    });

    let cpu_before: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
    let mut workers = Vec::new();
    for n in 0..STALL_CONSOLES {
        workers.push(tokio::spawn(stall(m.clone(), n)));
    }
    for n in 0..VOLUNTEERS {
        workers.push(tokio::spawn(volunteer(m.clone(), n)));
    }
    for n in 0..4 {
        workers.push(tokio::spawn(staff_board(m.clone(), n, staff.clone())));
    }
    // Memory every 30 s, and the arrivals.
    let memory: MemoryTimeline = Arc::default();
    {
        let (memory, pids, started) = (memory.clone(), pids.clone(), Instant::now());
        let until = m.until;
        workers.push(tokio::spawn(async move {
            while Instant::now() < until {
                let rss = pids.iter().map(|p| status_kib(*p, "VmRSS:").unwrap_or(0) as f64 / 1024.0).collect();
                memory.lock().expect("memory").push((started.elapsed().as_secs_f64(), rss));
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }));
    }
    let every = Duration::from_secs_f64(1.0 / args.rate.unwrap_or(5).max(1) as f64);
    let mut arrivals = tokio::time::interval(every);
    arrivals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut visits = Vec::new();
    let mut i = 0;
    eprintln!("the morning: {} new residents a second for {:.1} min", args.rate.unwrap_or(5), args.minutes);
    while Instant::now() < until {
        arrivals.tick().await;
        let mut own = args.clone();
        own.own_connections = true;
        visits.push(tokio::spawn(resident(m.clone(), phone(&own, &http, i), i)));
        i += 1;
    }
    for v in visits {
        let _ = v.await;
    }
    for w in workers {
        w.abort();
    }
    let cpu: f64 = pids.iter().zip(&cpu_before).map(|(p, before)| cpu_seconds(*p) - before).sum();
    let peak: Vec<String> =
        pids.iter().map(|p| peak_rss_kib(*p).map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))).collect();
    let placed = m.placed.load(std::sync::atomic::Ordering::Relaxed);

    println!();
    println!(
        "morning   {}   {} residents arrived ({} a second for {:.1} min), {placed} orders placed; {STALL_CONSOLES} stall consoles, {VOLUNTEERS} volunteers, 4 staff boards",
        match &args.base {
            Some(b) => format!("through {b}"),
            None => format!("database: {}   servers: {}", if args.postgres { "postgres" } else { "sqlite" }, args.servers),
        },
        i,
        args.rate.unwrap_or(5),
        args.minutes
    );
    println!(
        "{:22} {:>7} {:>8} {:>6} {:>9} {:>9} {:>9}",
        "request", "count", "refused", "errors", "p50 ms", "p99 ms", "max ms"
    );
    let mut errors = 0;
    let mut worst_p99 = Duration::ZERO;
    let mut residents_p99 = Duration::ZERO;
    for (kind, (mut times, refused, failed)) in std::mem::take(&mut *m.tally.by_kind.lock().expect("tally")) {
        times.sort();
        errors += failed;
        worst_p99 = worst_p99.max(percentile(&times, 0.99));
        if !kind.contains(':') {
            residents_p99 = residents_p99.max(percentile(&times, 0.99));
        }
        println!(
            "{kind:22} {:>7} {refused:>8} {failed:>6} {:>9.1} {:>9.1} {:>9.1}",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(percentile(&times, 1.0))
        );
    }
    let timeline: Vec<String> = memory
        .lock()
        .expect("memory")
        .iter()
        .map(|(at, rss)| format!("{:.0}s {}", at, rss.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join("+")))
        .collect();
    println!("server memory (VmRSS MiB) every 30 s: {}", timeline.join(", "));
    println!("peak memory (VmHWM): {}", peak.join(", "));
    if placed > 0 && !pids.is_empty() {
        println!(
            "server CPU: {cpu:.1} s in all, {:.2} ms per order placed (everything else included)",
            cpu * 1000.0 / placed as f64
        );
    }
    let held = |p99: Duration| if p99 < Duration::from_millis(100) { "under 100 ms: held" } else { "over 100 ms" };
    println!(
        "errors: {errors}   worst p99 of a resident's request: {:.0} ms ({})   of any request: {:.0} ms ({})",
        ms(residents_p99),
        held(residents_p99),
        ms(worst_p99),
        held(worst_p99)
    );
    drop(servers);
    if errors > 0 {
        std::process::exit(1);
    }
}
