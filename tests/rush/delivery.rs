//! `--delivery`: one slot's orders from placed to delivered through the API, step by step, with
//! the stall consoles listening. N new residents of 12 buildings (the first order carries the
//! address) each order from two stalls at once; every stall confirms and packs its parts; the
//! slot's batches form by building; ten volunteers claim them (two at each batch at once: one
//! wins), pick up and hand every order over with its code. Meanwhile 100 consoles of one stall
//! are connected to its live feed: how long a new order takes to reach all of them is measured
//! alone (20 probes, one at a time) and during the rush (every order of that stall).

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

const CONSOLES: usize = 100;
const PROBES: usize = 20;
const BUILDINGS: usize = 12;

/// When each console first heard of each order: order -> (consoles that heard, last of them).
type Heard = Arc<Mutex<HashMap<i64, (usize, Instant)>>>;

/// One console: reads the stall's feed until the benchmark ends; each `order` event is noted.
async fn console(base: String, token: String, heard: Heard, ready: Arc<tokio::sync::Barrier>) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
    let mut res =
        http.get(format!("{base}/api/v1/vendor/events")).bearer_auth(&token).send().await.expect("feed opens");
    assert_eq!(res.status(), 200);
    let mut pending = String::new();
    let mut seen = std::collections::HashSet::new();
    let mut greeted = false;
    while let Ok(Some(bytes)) = res.chunk().await {
        pending.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            if event.contains("event: ready") && !greeted {
                greeted = true;
                ready.wait().await;
            }
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let Some(order) = serde_json::from_str::<Value>(data).ok().and_then(|v| v["order_id"].as_i64()) else {
                continue;
            };
            if seen.insert(order) {
                let now = Instant::now();
                let mut heard = heard.lock().expect("lock");
                let entry = heard.entry(order).or_insert((0, now));
                entry.0 += 1;
                entry.1 = now;
            }
        }
    }
}

/// Runs `each` over `items`, `concurrency` at a time; (answers by status and code, seconds).
async fn step<T, F, Fut>(concurrency: usize, items: Vec<T>, each: F) -> (BTreeMap<String, usize>, f64)
where
    T: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for item in items {
        let (gate, fut) = (gate.clone(), each(item));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok();
            fut.await
        }));
    }
    let mut answers = BTreeMap::new();
    for t in tasks {
        let (status, body) = t.await.expect("task");
        let code = body["error"]["code"].as_str().unwrap_or("ok").to_owned();
        *answers.entry(format!("{status} {code}")).or_default() += 1;
    }
    (answers, started.elapsed().as_secs_f64())
}

pub(super) async fn slot(http: &reqwest::Client, base: &str, staff: &str, hours: i64, capacity: usize) -> i64 {
    let start = chrono::Utc::now() + chrono::Duration::hours(hours);
    let (status, slot) = call(
        http,
        http.post(format!("{base}/api/v1/admin/slots")).bearer_auth(staff).json(&json!({
            "kind": "delivery", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(),
            "cutoff_at": (start - chrono::Duration::hours(1)).to_rfc3339(), "capacity": capacity,
        })),
    )
    .await;
    assert_eq!(status, 201, "{slot}");
    slot["id"].as_i64().expect("slot id")
}

pub async fn run(args: &Args, data_dir: &std::path::Path, database_url: Option<&str>) {
    let mut servers = vec![start_server(args, data_dir, database_url).await];
    for _ in 1..args.servers {
        servers.push(start_server(args, data_dir, database_url).await);
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build().expect("client");
    let base = &bases[0];
    let staff = login(&http, base, "13800000000").await;
    let n = args.residents;
    let rush_slot = slot(&http, base, &staff, 20, n + 10).await;
    let probe_slot = slot(&http, base, &staff, 22, PROBES + 10).await;
    // Every order: one line of the watched stall's product, one of an everyday product of another.
    let watched = *PLENTIFUL.start();
    let (_, product) = call(&http, http.get(format!("{base}/api/v1/products/{watched}"))).await;
    let watched_stall = product["vendor_id"].as_i64().expect("vendor");
    let mut vendor_of = HashMap::new();
    for id in PLENTIFUL {
        let (status, body) = call(
            &http,
            http.patch(format!("{base}/api/v1/admin/products/{id}"))
                .bearer_auth(&staff)
                .json(&json!({ "stock": 1_000_000 })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        vendor_of.insert(id, body["vendor_id"].as_i64().expect("vendor"));
    }
    let others: Vec<i64> = PLENTIFUL.filter(|id| vendor_of[id] != watched_stall).collect();
    let mut stalls: BTreeMap<i64, String> = BTreeMap::new();
    for i in 0..14 {
        let phone = format!("138000001{:02}", i + 1);
        let token = login(&http, base, &phone).await;
        let (_, me) = call(&http, http.get(format!("{base}/api/v1/me")).bearer_auth(&token)).await;
        if let Some(v) = me["vendor_id"].as_i64() {
            stalls.insert(v, token);
        }
    }

    eprintln!("logging in {n} residents and filling their carts…");
    let gate = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for i in 0..n + PROBES {
        let (http, base, gate) = (phone(args, &http, i), bases[i % bases.len()].clone(), gate.clone());
        let other = others[i % others.len()];
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok();
            let token = login(&http, &base, &format!("136{:08}", i)).await;
            fill_cart(&http, &base, &token, &[(watched, 1), (other, 2)]).await;
            (token, http)
        }));
    }
    let mut residents = Vec::new();
    for t in tasks {
        residents.push(t.await.expect("login task"));
    }
    let probes = residents.split_off(n);

    // The watched stall's 100 consoles, each on its own connection, spread over the servers.
    let heard: Heard = Arc::default();
    let ready = Arc::new(tokio::sync::Barrier::new(CONSOLES + 1));
    let opened = Instant::now();
    let consoles: Vec<_> = (0..CONSOLES)
        .map(|c| {
            let (base, token) = (bases[c % bases.len()].clone(), stalls[&watched_stall].clone());
            tokio::spawn(console(base, token, heard.clone(), ready.clone()))
        })
        .collect();
    ready.wait().await;
    let connect_s = opened.elapsed().as_secs_f64();

    // Probes: one order at a time, from its 201 until every console has it.
    let mut alone = Vec::new();
    for (i, (token, http)) in probes.into_iter().enumerate() {
        let base = &bases[i % bases.len()];
        let body = json!({ "slot_id": probe_slot, "address": home(i), "payment": "on_delivery" });
        let (status, order) = call(
            &http,
            http.post(format!("{base}/api/v1/orders"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("probe-{i}"))
                .json(&body),
        )
        .await;
        assert_eq!(status, 201, "{order}");
        let placed = Instant::now();
        let id = order["id"].as_i64().expect("order id");
        let deadline = placed + Duration::from_secs(10);
        loop {
            if let Some((count, last)) = heard.lock().expect("lock").get(&id).copied() {
                if count == CONSOLES {
                    alone.push(last.saturating_duration_since(placed));
                    break;
                }
            }
            assert!(Instant::now() < deadline, "order {id} did not reach every console within 10 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    alone.sort();

    // 1. Placed: every resident at once, new, the address in the first order.
    eprintln!("placing {n} orders…");
    let cpu_before: Vec<f64> = servers.iter().map(|s| cpu_seconds(s.child.id())).collect();
    // Each order's 201: when, and the hand-off code the resident will show at the door.
    let answered: Arc<Mutex<HashMap<i64, (Instant, String)>>> = Arc::default();
    let items: Vec<_> = residents.into_iter().enumerate().collect();
    let (placed, place_s) = step(args.concurrency, items, |(i, (token, http))| {
        let base = bases[i % bases.len()].clone();
        let answered = answered.clone();
        let home = json!({ "building": format!("{}", 1 + i % BUILDINGS), "unit": format!("{}", 1 + i % 3), "room": format!("{}", 101 + i) });
        async move {
            let body = json!({ "slot_id": rush_slot, "address": home, "payment": "on_delivery" });
            let (status, order) = call(
                &http,
                http.post(format!("{base}/api/v1/orders")).bearer_auth(&token).header("Idempotency-Key", format!("d-{i}")).json(&body),
            )
            .await;
            if let (Some(id), Some(code)) = (order["id"].as_i64(), order["handoff_code"].as_str()) {
                answered.lock().expect("lock").insert(id, (Instant::now(), code.to_owned()));
            }
            (status, order)
        }
    })
    .await;
    // Every order reaches every console: the feed's lag behind each 201 during the rush.
    let codes: HashMap<i64, (Instant, String)> = answered.lock().expect("lock").clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lags = loop {
        let heard = heard.lock().expect("lock");
        let done = codes.keys().all(|id| heard.get(id).is_some_and(|(c, _)| *c == CONSOLES));
        if done {
            break codes.iter().map(|(id, (at, _))| heard[id].1.saturating_duration_since(*at)).collect::<Vec<_>>();
        }
        drop(heard);
        assert!(Instant::now() < deadline, "not every order reached every console within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    lags.sort();

    // 2-3. Each stall lists its parts of the slot, confirms each, then packs each.
    let listed = Instant::now();
    let mut parts: Vec<(i64, String)> = Vec::new();
    for (stall, token) in &stalls {
        let (status, list) =
            call(&http, http.get(format!("{base}/api/v1/vendor/orders?slot_id={rush_slot}")).bearer_auth(token)).await;
        assert_eq!(status, 200, "stall {stall}: {list}");
        parts.extend(
            list["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_i64()).map(|p| (p, token.clone())),
        );
    }
    let list_s = listed.elapsed().as_secs_f64();
    let mut stall_steps = Vec::new();
    for what in ["confirm", "packed"] {
        let (answers, secs) = step(args.concurrency, parts.clone(), |(part, token)| {
            let (http, base) = (http.clone(), bases[part as usize % bases.len()].clone());
            async move {
                call(&http, http.post(format!("{base}/api/v1/vendor/orders/{part}/{what}")).bearer_auth(&token)).await
            }
        })
        .await;
        stall_steps.push((what, answers, secs));
    }

    // 4. Dispatch: the slot's batches by building, each ready.
    let formed = Instant::now();
    let (status, batches) =
        call(&http, http.get(format!("{base}/api/v1/batches?slot_id={rush_slot}")).bearer_auth(&staff)).await;
    assert_eq!(status, 200, "{batches}");
    let dispatch_s = formed.elapsed().as_secs_f64();
    let batches: Vec<Value> = batches["items"].as_array().cloned().unwrap_or_default();
    let ready_count = batches.iter().filter(|b| b["status"] == "ready").count();

    // 5. Claims: ten volunteers, two at each batch at once.
    let mut volunteers = Vec::new();
    for v in 0..10 {
        volunteers.push(login(&http, base, &format!("138000002{:02}", v + 1)).await);
    }
    let claims: Vec<(i64, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(k, b)| {
            let id = b["id"].as_i64().unwrap_or(0);
            [(id, k % 10), (id, (k + 1) % 10)]
        })
        .collect();
    let winners: Arc<Mutex<HashMap<i64, usize>>> = Arc::default();
    let (claimed, claim_s) = step(claims.len(), claims, |(batch, v)| {
        let (http, base, token, winners) = (http.clone(), base.clone(), volunteers[v].clone(), winners.clone());
        async move {
            let answer =
                call(&http, http.post(format!("{base}/api/v1/batches/{batch}/claim")).bearer_auth(&token)).await;
            if answer.0 == 200 {
                winners.lock().expect("lock").insert(batch, v);
            }
            answer
        }
    })
    .await;
    let winners = winners.lock().expect("lock").clone();

    // 6. Pick-up, then 7. every hand-off with the resident's code (from the resident's page).
    let (picked, pickup_s) = step(args.concurrency, winners.clone().into_iter().collect(), |(batch, v)| {
        let (http, base, token) = (http.clone(), base.clone(), volunteers[v].clone());
        async move { call(&http, http.post(format!("{base}/api/v1/batches/{batch}/pickup")).bearer_auth(&token)).await }
    })
    .await;
    let mut stops = Vec::new();
    for (batch, v) in &winners {
        let (_, b) = call(&http, http.get(format!("{base}/api/v1/batches/{batch}")).bearer_auth(&volunteers[*v])).await;
        for s in b["manifest"].as_array().into_iter().flatten() {
            let order = s["order_id"].as_i64().expect("order");
            stops.push((order, *v, codes.get(&order).map(|(_, c)| c.clone()).unwrap_or_default()));
        }
    }
    let stop_count = stops.len();
    let (handed, handoff_s) = step(args.concurrency, stops, |(order, v, code)| {
        let (http, base, token) = (http.clone(), bases[order as usize % bases.len()].clone(), volunteers[v].clone());
        async move {
            let body = json!({ "code": code });
            call(&http, http.post(format!("{base}/api/v1/orders/{order}/handoff")).bearer_auth(&token).json(&body))
                .await
        }
    })
    .await;
    let server_cpu: f64 = servers.iter().zip(&cpu_before).map(|(s, before)| cpu_seconds(s.child.id()) - before).sum();
    let peak: Vec<String> = servers
        .iter()
        .map(|s| peak_rss_kib(s.child.id()).map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)))
        .collect();

    // Verified through the API: every batch done, one contact per order.
    let (_, after) =
        call(&http, http.get(format!("{base}/api/v1/batches?slot_id={rush_slot}")).bearer_auth(&staff)).await;
    let done = after["items"].as_array().into_iter().flatten().filter(|b| b["status"] == "done").count();
    let delivered = handed.get("200 ok").copied().unwrap_or(0);
    let ok = placed.get("201 ok") == Some(&n)
        && ready_count == batches.len()
        && batches.len() == BUILDINGS
        && winners.len() == BUILDINGS
        && claimed.get("409 already_claimed") == Some(&BUILDINGS)
        && delivered == n
        && done == BUILDINGS
        && stall_steps.iter().all(|(_, a, _)| a.get("200 ok") == Some(&parts.len()));
    for c in consoles {
        c.abort();
    }

    println!();
    println!(
        "delivery   database: {}   servers: {}   orders: {n} over {BUILDINGS} buildings, two stalls each   in flight: {}{}",
        if args.postgres { "postgres" } else { "sqlite" },
        args.servers,
        args.concurrency,
        if args.own_connections { "   one connection and source address per resident" } else { "" },
    );
    let rate = |count: usize, secs: f64| format!("{count} in {secs:.2} s = {:.0}/s", count as f64 / secs);
    println!("1 placed (new residents, address in the order): {}   {placed:?}", rate(n, place_s));
    println!("  stall lists of the slot (14 stalls, {} parts): {:.2} s", parts.len(), list_s);
    for (what, answers, secs) in &stall_steps {
        println!("{} {what}: {}   {answers:?}", if *what == "confirm" { 2 } else { 3 }, rate(parts.len(), *secs));
    }
    println!("4 dispatch: {} batches formed, {ready_count} ready, in {:.3} s", batches.len(), dispatch_s);
    println!("5 claims, two volunteers at each batch at once: {:.3} s   {claimed:?}", claim_s);
    println!("6 pick-ups: {:.3} s   {picked:?}", pickup_s);
    println!("7 hand-offs with the code: {}   {handed:?}", rate(stop_count, handoff_s));
    println!("  batches done: {done} of {}", batches.len());
    println!("live feed, {CONSOLES} consoles of one stall (connected in {connect_s:.2} s):");
    println!(
        "  one new order, from its 201 to the last console: p50 {:.0} ms   max {:.0} ms   ({PROBES} probes)",
        ms(percentile(&alone, 0.5)),
        ms(percentile(&alone, 1.0))
    );
    println!(
        "  during the rush, each of {} orders to all {CONSOLES} consoles: p50 {:.0} ms   p99 {:.0} ms   max {:.0} ms",
        lags.len(),
        ms(percentile(&lags, 0.5)),
        ms(percentile(&lags, 0.99)),
        ms(percentile(&lags, 1.0))
    );
    println!(
        "server CPU from placing to the last hand-off: {server_cpu:.2} s   peak memory (VmHWM): {}",
        peak.join(", ")
    );
    println!(
        "verified: {}",
        if ok { "ok: every order placed, confirmed, packed, batched, claimed once, delivered" } else { "WRONG" }
    );
    drop(servers);
    if !ok {
        std::process::exit(1);
    }
}
