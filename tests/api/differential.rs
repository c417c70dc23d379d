//! The checkout decided three ways must agree: by `domain::checkout::decide` alone over a model
//! of the market, by the SQLite store and by the PostgreSQL store. Generated markets (scarce
//! stock, per-order limits, small slots with a priority reserve, cut-offs in the past, closed
//! slots, priority households, residents with and without a home) and generated batches (random
//! carts, repeated Idempotency-Keys with the same or another request, unknown slots and buildings)
//! are run through all three; the answers, the orders, the stock, the slot places, the carts and
//! the homes must come out the same. Each case is reproducible from its number
//! (`FXS_DIFF_CASES` cases, `FXS_DIFF_FIRST` the first; 24 by default).

use backend::domain::checkout::{
    decide, Answer, CheckoutJob, CheckoutSnapshot, Home, HouseholdAt, ProductRow, SlotRow, StoredKey,
};
use backend::domain::slots::SlotChange;
use backend::domain::slots::{NeedFlags, SlotState};
use backend::store::checkout::NewSlot;
use backend::store::seed::{Seed, SeedAccount, SeedBuilding, SeedCategory, SeedHousehold, SeedProduct, SeedVendor};
use backend::store::DynStore;
use chrono::{DateTime, Duration, Utc};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use serde_json::Value;
use shared::api::Address;
use shared::order::{Payment, SlotKind};
use shared::Role;
use std::collections::{BTreeMap, HashMap};
use tests::Db;

const NAMES: [&str; 12] =
    ["白菜", "土豆", "茄子", "青椒", "鸡蛋", "草莓", "豆腐", "猪肉", "大米", "香蕉", "韭菜", "馒头"];
const STALLS: [&str; 3] = ["老王蔬菜", "张记肉铺", "李家粮油"];
const BUILDINGS: [&str; 3] = ["1", "2", "3"];

/// A product of the case: (name, stock, per-order limit, price).
type Goods = (&'static str, i64, Option<i64>, i64);
/// A press of "pay": (resident, key, slot number (past the end: no such slot), address, payment,
/// a salt that makes the request differ).
type Press = (usize, String, usize, Option<Address>, Payment, u8);

/// A market and the batches to run on it, from one case number.
struct Case {
    stalls: Vec<Vec<Goods>>,
    /// Per resident: a home (building, unit, room, flags) or none.
    residents: Vec<Option<(&'static str, String, String, NeedFlags)>>,
    /// (kind, capacity, priority capacity, priority held until +h, cut-off at +h, closed)
    slots: Vec<(SlotKind, i64, i64, i64, i64, bool)>,
    /// Per resident: (product number in market order, quantity).
    carts: Vec<Vec<(usize, i64)>>,
    batches: Vec<Vec<Press>>,
}

fn flags(rng: &mut StdRng) -> NeedFlags {
    NeedFlags { quarantined: rng.gen_bool(0.2), hardship: rng.gen_bool(0.15), elderly: rng.gen_bool(0.2) }
}

fn generate(case: u64) -> Case {
    let mut rng = StdRng::seed_from_u64(case);
    let mut names = NAMES.iter();
    let stalls: Vec<Vec<_>> = (0..rng.gen_range(1..=3))
        .map(|_| {
            (0..rng.gen_range(1..=3))
                .filter_map(|_| names.next())
                .map(|name| {
                    let limit = rng.gen_bool(0.3).then(|| rng.gen_range(1..=2));
                    (*name, rng.gen_range(0..=6), limit, rng.gen_range(50..=900))
                })
                .collect()
        })
        .collect();
    let products: usize = stalls.iter().map(Vec::len).sum();
    // One household per address: the homes on record are different ones.
    let mut addresses: Vec<(&'static str, String, String)> = BUILDINGS
        .iter()
        .flat_map(|b| (1..=2).flat_map(move |u| (0..3).map(move |r| (*b, u.to_string(), format!("{}", 101 + r)))))
        .collect();
    addresses.shuffle(&mut rng);
    let residents: Vec<_> = (0..rng.gen_range(2..=6))
        .map(|_| {
            let home = if rng.gen_bool(0.7) { addresses.pop() } else { None };
            home.map(|(b, unit, room)| (b, unit, room, flags(&mut rng)))
        })
        .collect();
    let slots = (0..rng.gen_range(1..=3))
        .map(|_| {
            let capacity = rng.gen_range(0..=4);
            let kind = if rng.gen_bool(0.75) { SlotKind::Delivery } else { SlotKind::Pickup };
            let cutoff = if rng.gen_bool(0.15) { -1 } else { 5 };
            (kind, capacity, rng.gen_range(0..=capacity), rng.gen_range(-2..=3), cutoff, rng.gen_bool(0.1))
        })
        .collect::<Vec<_>>();
    let carts = residents
        .iter()
        .map(|_| {
            let mut lines: BTreeMap<usize, i64> = BTreeMap::new();
            for _ in 0..rng.gen_range(0..=3) {
                lines.insert(rng.gen_range(0..products), rng.gen_range(1..=3));
            }
            lines.into_iter().collect()
        })
        .collect();
    let mut pressed: Vec<Press> = Vec::new();
    let batches = (0..rng.gen_range(1..=2))
        .map(|_| {
            (0..rng.gen_range(1..=10))
                .map(|_| {
                    // Pressed again with the same key: mostly the same request (a retry), sometimes not.
                    if !pressed.is_empty() && rng.gen_bool(0.25) {
                        let mut again = pressed[rng.gen_range(0..pressed.len())].clone();
                        if rng.gen_bool(0.3) {
                            again.5 += 1;
                        }
                        return again;
                    }
                    let address = match rng.gen_range(0..10) {
                        0..=4 => None,
                        5..=8 => Some(Address {
                            building: BUILDINGS[rng.gen_range(0..BUILDINGS.len())].into(),
                            unit: rng.gen_range(1..=2).to_string(),
                            room: format!("{}", 101 + rng.gen_range(0..3)),
                        }),
                        _ => Some(Address { building: "9".into(), unit: "1".into(), room: "101".into() }),
                    };
                    let payment = if rng.gen_bool(0.5) { Payment::Wechat } else { Payment::OnDelivery };
                    let slot = if rng.gen_bool(0.1) { slots.len() } else { rng.gen_range(0..slots.len()) };
                    let job =
                        (rng.gen_range(0..residents.len()), format!("k{}", pressed.len()), slot, address, payment, 0);
                    pressed.push(job.clone());
                    job
                })
                .collect()
        })
        .collect();
    Case { stalls, residents, slots, carts, batches }
}

fn phone(n: usize) -> String {
    format!("1390000{n:04}")
}

/// What the market looks like, as the model keeps it and as it is read back from a store.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    /// Per batch, per checkout: status and body, the order ids numbered in order of appearance.
    answers: Vec<Vec<Value>>,
    stock: Vec<i64>,
    /// (booked, priority booked) per slot.
    places: Vec<(i64, i64)>,
    carts: Vec<Vec<(i64, i64)>>,
    /// Each resident's home (building, unit, room).
    homes: Vec<Option<(String, String, String)>>,
}

/// Order ids differ between stores (PostgreSQL's sequence skips the ids of refused checkouts):
/// the n-th new order is called n everywhere.
fn normalized(batches: &[Vec<Answer>]) -> Vec<Vec<Value>> {
    let mut ids: HashMap<i64, usize> = HashMap::new();
    batches
        .iter()
        .map(|answers| {
            answers
                .iter()
                .map(|a| match a {
                    Answer::Placed(order) => {
                        let mut body = serde_json::to_value(order).expect("JSON order");
                        let id = body["id"].as_i64().expect("order id");
                        let n = ids.len();
                        body["id"] = Value::from(*ids.entry(id).or_insert(n));
                        serde_json::json!({ "placed": body })
                    }
                    Answer::Refused(refusal) => serde_json::json!({ "refused": refusal }),
                    Answer::KeyMismatch => Value::from("mismatch"),
                    Answer::KeyInUse => Value::from("in_use"),
                })
                .collect()
        })
        .collect()
}

fn jobs(case: &Case, batch: usize, users: &[i64], slots: &[i64], now: DateTime<Utc>) -> Vec<CheckoutJob> {
    case.batches[batch]
        .iter()
        .map(|(resident, key, slot, address, payment, salt)| CheckoutJob {
            user_id: users[*resident],
            key: key.clone(),
            request_hash: format!("{slot}-{address:?}-{payment:?}-{salt}"),
            slot_id: slots.get(*slot).copied().unwrap_or(999_999),
            payment: *payment,
            address: address.clone(),
            note: None,
            handoff_code: format!("{:06}", resident * 1111),
            now,
            pay_by: now + Duration::minutes(15),
        })
        .collect()
}

/// Sets the case up in a fresh store; returns the residents', products' and slots' ids.
async fn set_up(store: &DynStore, case: &Case, now: DateTime<Utc>) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let seed = Seed {
        categories: vec![SeedCategory { id: "vegetable", name_zh: "蔬菜", name_en: "Vegetables", icon: "🥬" }],
        vendors: case
            .stalls
            .iter()
            .enumerate()
            .map(|(n, goods)| SeedVendor {
                name: STALLS[n].to_owned(),
                stall_no: format!("A0{n}"),
                category: "vegetable",
                description: "",
                owner_phone: format!("1380000010{n}"),
                products: goods
                    .iter()
                    .map(|(name, stock, limit, price)| SeedProduct {
                        name: (*name).to_owned(),
                        unit: "斤",
                        price_fen: *price,
                        stock: *stock,
                        per_order_limit: *limit,
                        description: "",
                    })
                    .collect(),
            })
            .collect(),
        boxes: Vec::new(),
        buildings: BUILDINGS
            .iter()
            .map(|b| SeedBuilding { community: "七里山小区", number: (*b).into(), units: 2, floors: 6 })
            .collect(),
        accounts: case
            .residents
            .iter()
            .enumerate()
            .map(|(n, home)| SeedAccount {
                phone: phone(n),
                display_name: format!("居民{n}"),
                roles: vec![Role::Resident],
                household: home.as_ref().map(|(b, unit, room, f)| SeedHousehold {
                    building: (*b).into(),
                    unit: unit.clone(),
                    room: room.clone(),
                    quarantined: f.quarantined,
                    hardship: f.hardship,
                    elderly: f.elderly,
                }),
            })
            .collect(),
    };
    assert!(store.seed().demo(&seed, now).await.expect("seed"), "a fresh database is seeded");
    let mut users = Vec::new();
    for n in 0..case.residents.len() {
        users.push(store.accounts().user_for_phone(&phone(n), now).await.expect("resident").id);
    }
    let mut products = Vec::new();
    for vendor in store.catalogue().vendors().await.expect("vendors") {
        let query = shared::api::ProductQuery { vendor_id: Some(vendor.id), ..Default::default() };
        let page = backend::store::catalogue::ProductPage { limit: shared::api::MAX_LIMIT, after: None };
        let (found, _) = store.catalogue().products(&query, &page).await.expect("products");
        let mut found: Vec<_> = found.into_iter().map(|p| p.id).collect();
        found.sort_unstable();
        products.extend(found);
    }
    let mut slots = Vec::new();
    for (kind, capacity, reserve, release_h, cutoff_h, closed) in &case.slots {
        let slot = NewSlot {
            kind: *kind,
            starts_at: now + Duration::hours(6),
            ends_at: now + Duration::hours(8),
            cutoff_at: now + Duration::hours(*cutoff_h),
            capacity: *capacity,
            priority_capacity: *reserve,
            priority_release_at: Some(now + Duration::hours(*release_h)),
        };
        let id = store.slots().create(&slot, now).await.expect("slot").id;
        if *closed {
            store.slots().change(id, &SlotChange { closed: Some(true), ..SlotChange::default() }).await.expect("close");
        }
        slots.push(id);
    }
    for (n, lines) in case.carts.iter().enumerate() {
        for (product, quantity) in lines {
            store.cart().set_quantity(users[n], products[*product], *quantity, 100, now).await.expect("cart");
        }
    }
    (users, products, slots)
}

/// The whole case through one store: one call per batch, decided as one batch.
async fn through_store(db: Db, case: &Case, now: DateTime<Utc>) -> Outcome {
    let (config, schema) = tests::test_config(db).await;
    let store = backend::store::connect(&config).await.expect("store");
    let (users, products, slots) = set_up(&store, case, now).await;
    let mut answers = Vec::new();
    for batch in 0..case.batches.len() {
        let jobs = jobs(case, batch, &users, &slots, now);
        let got = store.orders().checkout(jobs.clone()).await.expect("checkout");
        assert_eq!(got.len(), jobs.len());
        // Every new order reads back exactly as its 201 said.
        for a in &got {
            if let Answer::Placed(placed) = a {
                let shown = serde_json::to_value(placed).expect("json");
                let id = placed.id;
                let (_, order) = store.orders().get(id).await.expect("read").expect("the order is there");
                assert_eq!(serde_json::to_value(order).expect("json"), shown, "{db:?}: order {id} as read back");
            }
        }
        answers.push(got);
    }
    let mut outcome = Outcome {
        answers: normalized(&answers),
        stock: Vec::new(),
        places: Vec::new(),
        carts: Vec::new(),
        homes: Vec::new(),
    };
    for id in &products {
        outcome.stock.push(store.catalogue().product(*id).await.expect("product").expect("there").product.stock);
    }
    for id in &slots {
        let s = store.slots().get(*id).await.expect("slot").expect("there");
        outcome.places.push((s.booked, s.priority_booked));
    }
    for id in &users {
        let cart = store.cart().lines(*id).await.expect("cart");
        let position = |id: i64| products.iter().position(|p| *p == id).unwrap_or(usize::MAX) as i64 + 1;
        let mut lines: Vec<(i64, i64)> = cart.iter().map(|l| (position(l.product_id), l.quantity)).collect();
        lines.sort_unstable();
        outcome.carts.push(lines);
        let user = store.accounts().user(*id).await.expect("user").expect("there");
        outcome.homes.push(user.household.map(|h| (h.building, h.unit, h.room)));
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&config.data_dir);
    if let Some(schema) = schema {
        let pool = sqlx::PgPool::connect(&tests::test_database_url()).await.expect("pg");
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await;
        pool.close().await;
    }
    outcome
}

/// The whole case through `decide` alone, over a model of the rows kept in plain maps.
fn through_domain(case: &Case, now: DateTime<Utc>) -> Outcome {
    let users: Vec<i64> = (1..=case.residents.len() as i64).collect();
    let slots: Vec<i64> = (1..=case.slots.len() as i64).collect();
    let building_id = |number: &str| BUILDINGS.iter().position(|b| *b == number).map(|n| n as i64 + 1);
    let mut s = CheckoutSnapshot::default();
    let mut products = Vec::new();
    for (v, goods) in case.stalls.iter().enumerate() {
        for (name, stock, limit, price) in goods {
            let id = products.len() as i64 + 1;
            products.push(id);
            s.products.insert(
                id,
                ProductRow {
                    id,
                    vendor_id: v as i64 + 1,
                    vendor_name: STALLS[v].into(),
                    name: (*name).into(),
                    unit: "斤".into(),
                    price_fen: shared::Fen::stored(*price),
                    stock: *stock,
                    per_order_limit: *limit,
                    active: true,
                    ..ProductRow::default()
                },
            );
        }
    }
    for (n, home) in case.residents.iter().enumerate() {
        if let Some((b, unit, room, f)) = home {
            s.homes.insert(users[n], Home { building: (*b).into(), unit: unit.clone(), room: room.clone(), flags: *f });
            let at = (building_id(b).unwrap_or_default(), unit.clone(), room.clone());
            let id = s.households.len() as i64 + 1;
            s.households.entry(at).or_insert(HouseholdAt { id, flags: *f });
        }
    }
    for (n, (kind, capacity, reserve, release_h, cutoff_h, closed)) in case.slots.iter().enumerate() {
        let state = SlotState {
            capacity: *capacity,
            booked: 0,
            priority_capacity: *reserve,
            priority_booked: 0,
            priority_release_at: Some(now + Duration::hours(*release_h)),
            cutoff_at: now + Duration::hours(*cutoff_h),
            closed: *closed,
        };
        let row = SlotRow {
            id: slots[n],
            kind: *kind,
            starts_at: now + Duration::hours(6),
            ends_at: now + Duration::hours(8),
            state,
        };
        s.slots.insert(slots[n], row);
    }
    for (n, lines) in case.carts.iter().enumerate() {
        s.carts.insert(users[n], lines.iter().map(|(p, q)| (products[*p], *q)).collect());
    }
    s.buildings = BUILDINGS.iter().map(|b| ((*b).to_owned(), building_id(b).unwrap_or_default())).collect();
    let mut next_order = 1;
    let mut answers = Vec::new();
    for batch in 0..case.batches.len() {
        let jobs = jobs(case, batch, &users, &slots, now);
        s.order_ids = (next_order..next_order + jobs.len() as i64).collect();
        let d = decide(&s, &jobs).expect("decide");
        // Apply what was decided to the model, as a store would.
        let ch = d.changes;
        next_order += ch.orders.len() as i64;
        for b in &ch.slots {
            let state = &mut s.slots.get_mut(&b.slot_id).expect("slot").state;
            (state.booked, state.priority_booked) = (b.booked, b.priority_booked);
        }
        for (id, stock) in &ch.stock {
            s.products.get_mut(id).expect("product").stock = *stock;
        }
        for (user, product, quantity) in &ch.cart_removals {
            if let Some(cart) = s.carts.get_mut(user) {
                cart.retain(|(p, q)| !(p == product && q == quantity));
            }
        }
        for h in &ch.homes {
            let at = (h.building_id, h.unit.clone(), h.room.clone());
            let id = s.households.len() as i64 + 1;
            let there = s.households.entry(at).or_insert(HouseholdAt { id, flags: NeedFlags::default() }).clone();
            let number = BUILDINGS[h.building_id as usize - 1];
            let home = Home { building: number.into(), unit: h.unit.clone(), room: h.room.clone(), flags: there.flags };
            s.homes.entry(h.user_id).or_insert(home);
        }
        for k in &ch.key_answers {
            let job = jobs.iter().find(|j| j.user_id == k.user_id && j.key == k.key).expect("job");
            let stored = StoredKey { request_hash: job.request_hash.clone(), answer: Some(k.answer.clone()) };
            s.keys.insert((k.user_id, k.key.clone()), stored);
        }
        answers.push(d.answers);
    }
    Outcome {
        answers: normalized(&answers),
        stock: products.iter().map(|id| s.products[id].stock).collect(),
        places: slots.iter().map(|id| (s.slots[id].state.booked, s.slots[id].state.priority_booked)).collect(),
        carts: users.iter().map(|u| s.carts.get(u).cloned().unwrap_or_default()).collect(),
        homes: users
            .iter()
            .map(|u| s.homes.get(u).map(|h| (h.building.clone(), h.unit.clone(), h.room.clone())))
            .collect(),
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_and_both_stores_decide_alike() {
    let first = env_number("FXS_DIFF_FIRST", 0);
    let cases = env_number("FXS_DIFF_CASES", 24);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for n in first..first + cases {
        let case = generate(n);
        let now = Utc::now();
        let model = through_domain(&case, now);
        for db in [Db::Sqlite, Db::Postgres] {
            let store = through_store(db, &case, now).await;
            assert_eq!(
                store, model,
                "case {n} on {db:?} differs from the domain alone (FXS_DIFF_FIRST={n} FXS_DIFF_CASES=1)"
            );
        }
        for a in model.answers.iter().flatten() {
            let what = if a.get("placed").is_some() {
                "created"
            } else if let Some(refused) = a.get("refused") {
                refused["code"].as_str().unwrap_or("?")
            } else {
                a.as_str().unwrap_or("?")
            };
            *seen.entry(what.to_owned()).or_default() += 1;
        }
    }
    // The generated cases must reach every outcome, or the comparison proves little.
    eprintln!("outcomes over {cases} cases: {seen:?}");
    if cases >= 24 {
        for what in ["created", "slot_full", "slot_closed", "out_of_stock", "over_limit", "cart_empty", "mismatch"] {
            assert!(seen.contains_key(what), "no {what} in {cases} cases: {seen:?}");
        }
    }
}
