//! The demo market: what it is made of (`Seed`, built by `crate::demo`) and writing it into an
//! empty database, once however many server processes start together. The full-size market's
//! month of history goes through the bulk loader (`bulk.rs`).

pub mod bulk;

use super::accounts::Sessions;
use super::db::{args, Db, Tx};
use super::setup::{record_stock, StockReason};
use super::{broken, StoreResult};
use chrono::{DateTime, Utc};
use shared::Role;
use std::collections::HashMap;
use std::sync::Arc;

/// Serialises seeding (and bulk loading) across server processes (PostgreSQL).
pub(crate) const SEED_LOCK: i64 = 74460001;

/// What to seed for the demo market (see `demo.rs`).
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub categories: Vec<SeedCategory>,
    pub vendors: Vec<SeedVendor>,
    pub boxes: Vec<SeedBox>,
    pub buildings: Vec<SeedBuilding>,
    pub accounts: Vec<SeedAccount>,
    /// Who certifies the goods of a category (产销对接): every product of a stall of that
    /// category starts as one lot with this certificate and a passed rapid test.
    pub producers: Vec<SeedProducer>,
    /// Pickup points (自提点), each with its keeper's account.
    pub pickup_points: Vec<SeedPoint>,
}

/// A pickup point: its opening hours, orders per slot, keeper's phone and what happens to an
/// order nobody collects (`keep_day` or `return`).
#[derive(Debug, Clone)]
pub struct SeedPoint {
    pub name: &'static str,
    pub address: &'static str,
    pub opens: &'static str,
    pub closes: &'static str,
    pub capacity: i64,
    pub keeper: &'static str,
    pub uncollected: &'static str,
}

#[derive(Debug, Clone)]
pub struct SeedProducer {
    pub category: &'static str,
    pub origin: &'static str,
    pub issuer: &'static str,
    pub contact: &'static str,
    /// The account that publishes its offers (one of `Seed::accounts`): the producer offers
    /// the first goods of every stall of its category for the coming week.
    pub phone: String,
}

/// How many of each stall's goods its category's producer offers.
const OFFERED_PER_STALL: usize = 4;

#[derive(Debug, Clone)]
pub struct SeedCategory {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub icon: &'static str,
}

#[derive(Debug, Clone)]
pub struct SeedVendor {
    pub name: String,
    pub stall_no: String,
    pub category: &'static str,
    pub description: &'static str,
    pub owner_phone: String,
    pub products: Vec<SeedProduct>,
}

#[derive(Debug, Clone)]
pub struct SeedProduct {
    pub name: String,
    pub unit: &'static str,
    pub price_fen: i64,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    pub description: &'static str,
}

#[derive(Debug, Clone)]
pub struct SeedBox {
    /// Stall number of the stall that packs the box.
    pub stall_no: String,
    pub product: SeedProduct,
    /// (product name, quantity)
    pub contents: Vec<(&'static str, i64)>,
}

#[derive(Debug, Clone)]
pub struct SeedBuilding {
    pub community: &'static str,
    pub number: String,
    pub units: i64,
    pub floors: i64,
}

#[derive(Debug, Clone)]
pub struct SeedAccount {
    pub phone: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// (building number, unit, room, quarantined, hardship, elderly)
    pub household: Option<SeedHousehold>,
}

#[derive(Debug, Clone)]
pub struct SeedHousehold {
    pub building: String,
    pub unit: String,
    pub room: String,
    pub quarantined: bool,
    pub hardship: bool,
    pub elderly: bool,
}

pub struct Seeder {
    db: Db,
    sessions: Arc<Sessions>,
}

impl Seeder {
    pub fn new(db: Db, sessions: Arc<Sessions>) -> Self {
        Self { db, sessions }
    }

    /// Seeds the demo market unless a market is already there. True when it seeded.
    pub async fn demo(&self, seed: &Seed, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SEED_LOCK).await?;
        let vendors: i64 = tx.one("SELECT COUNT(*) AS n FROM vendors", &args![]).await?;
        if vendors > 0 {
            return Ok(false);
        }
        for (sort, c) in seed.categories.iter().enumerate() {
            tx.exec(
                "INSERT INTO categories (id, name_zh, name_en, icon, sort) VALUES ($1, $2, $3, $4, $5)",
                &args![c.id, c.name_zh, c.name_en, c.icon, sort as i64],
            )
            .await?;
        }
        let mut building_ids = HashMap::new();
        for b in &seed.buildings {
            let id: i64 = tx
                .one(
                    "INSERT INTO buildings (community, number, units, floors) VALUES ($1, $2, $3, $4) RETURNING id",
                    &args![b.community, b.number.as_str(), b.units, b.floors],
                )
                .await?;
            building_ids.insert(b.number.clone(), id);
        }
        let mut user_ids = HashMap::new();
        for a in &seed.accounts {
            let household_id = match &a.household {
                Some(h) => {
                    let building = building_ids
                        .get(&h.building)
                        .copied()
                        .ok_or_else(|| broken(format!("no building {}", h.building)))?;
                    let id: i64 = tx
                        .one(
                            "INSERT INTO households (building_id, unit, room, quarantined, hardship, elderly) \
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                            &args![building, h.unit.as_str(), h.room.as_str(), h.quarantined, h.hardship, h.elderly],
                        )
                        .await?;
                    Some(id)
                }
                None => None,
            };
            let id: i64 = tx
                .one(
                    "INSERT INTO users (phone, display_name, household_id, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (phone) DO UPDATE SET display_name = excluded.display_name, \
                     household_id = COALESCE(excluded.household_id, users.household_id) RETURNING id",
                    &args![a.phone.as_str(), a.display_name.as_str(), household_id, now],
                )
                .await?;
            for role in &a.roles {
                tx.exec(
                    "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &args![id, role.as_str()],
                )
                .await?;
            }
            user_ids.insert(a.phone.clone(), id);
        }
        let mut vendor_ids = HashMap::new();
        let mut product_ids = HashMap::new();
        for v in &seed.vendors {
            let vendor_id: i64 = tx
                .one(
                    "INSERT INTO vendors (name, stall_no, category_id, description, owner_user_id) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &args![
                        v.name.as_str(),
                        v.stall_no.as_str(),
                        v.category,
                        v.description,
                        user_ids.get(&v.owner_phone).copied()
                    ],
                )
                .await?;
            vendor_ids.insert(v.stall_no.clone(), (vendor_id, v.category));
            let producer = seed.producers.iter().find(|p| p.category == v.category);
            for p in &v.products {
                let id = insert_product(&mut tx, vendor_id, v.category, p, false, now).await?;
                product_ids.insert(p.name.as_str(), id);
                if let Some(producer) = producer.filter(|_| p.stock > 0) {
                    insert_lot(&mut tx, (vendor_id, id), p, producer, user_ids.get(&v.owner_phone).copied(), now)
                        .await?;
                }
            }
        }
        for producer in &seed.producers {
            let goods = seed
                .vendors
                .iter()
                .filter(|v| v.category == producer.category)
                .flat_map(|v| v.products.iter().filter(|p| p.stock > 0).take(OFFERED_PER_STALL));
            insert_producer(&mut tx, producer, user_ids.get(&producer.phone).copied(), goods, now).await?;
        }
        // The market's front gate, its code to print from the staff's investigation page.
        let mut bytes = [0u8; 12];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        tx.exec(
            "INSERT INTO gates (name, code, created_at) VALUES ($1, $2, $3)",
            &args!["菜场正门", crate::domain::gate::code_from(&bytes), now],
        )
        .await?;
        // Two pickup points (自提点) in compounds a short walk away, each with its keeper.
        for p in &seed.pickup_points {
            tx.exec(
                "INSERT INTO users (phone, display_name, created_at) VALUES ($1, $2, $3) ON CONFLICT (phone) DO NOTHING",
                &args![p.keeper, format!("{}管理员", p.name), now],
            )
            .await?;
            let keeper_id: i64 = tx.one("SELECT id FROM users WHERE phone = $1", &args![p.keeper]).await?;
            tx.exec(
                "INSERT INTO pickup_points (name, address, opens, closes, capacity, keeper_user_id, uncollected, \
                 active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &args![p.name, p.address, p.opens, p.closes, p.capacity, keeper_id, p.uncollected, true, now],
            )
            .await?;
        }
        for b in &seed.boxes {
            let (vendor_id, category) =
                vendor_ids.get(&b.stall_no).copied().ok_or_else(|| broken(format!("no stall {}", b.stall_no)))?;
            let box_id = insert_product(&mut tx, vendor_id, category, &b.product, true, now).await?;
            for (name, quantity) in &b.contents {
                let item = product_ids
                    .get(name)
                    .copied()
                    .ok_or_else(|| broken(format!("box item {name} is not a product")))?;
                tx.exec(
                    "INSERT INTO box_items (box_id, product_id, quantity) VALUES ($1, $2, $3)",
                    &args![box_id, item, *quantity],
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.sessions.forget_all();
        Ok(true)
    }
}

/// A producer and its offers of `goods` (wholesale at a little over half the stalls' price,
/// as much a day as a stall holds) for the next seven days still open to orders.
async fn insert_producer(
    tx: &mut Tx,
    producer: &SeedProducer,
    owner: Option<i64>,
    goods: impl Iterator<Item = &SeedProduct>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    use crate::domain::supply::{cutoff_at, DEFAULT_CUTOFF_HOUR};
    let id: i64 = tx
        .one(
            "INSERT INTO producers (name, origin, contact, cutoff_hour, owner_user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &args![producer.issuer, producer.origin, producer.contact, DEFAULT_CUTOFF_HOUR, owner, now],
        )
        .await?;
    let days: Vec<String> = (1..=7)
        .map(|d| crate::domain::time::shanghai_date(now + chrono::Duration::days(d)))
        .filter(|day| cutoff_at(day, DEFAULT_CUTOFF_HOUR).is_ok_and(|at| at > now))
        .collect();
    let mut offered: Vec<&str> = Vec::new();
    for p in goods {
        if offered.contains(&p.name.as_str()) {
            continue;
        }
        offered.push(p.name.as_str());
        let offer: i64 = tx
            .one(
                "INSERT INTO offers (producer_id, product, quantity, unit, price_fen, origin, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &args![id, p.name.as_str(), p.stock, p.unit, p.price_fen * 55 / 100, producer.origin, now],
            )
            .await?;
        for day in &days {
            tx.exec("INSERT INTO offer_days (offer_id, day) VALUES ($1, $2)", &args![offer, day.as_str()]).await?;
        }
    }
    Ok(())
}

/// A product's opening stock as one certified lot, tested this morning (the demo's goods came
/// in with their 合格证 like any delivery; the stock itself is already in the ledger).
async fn insert_lot(
    tx: &mut Tx,
    (vendor_id, product_id): (i64, i64),
    p: &SeedProduct,
    producer: &SeedProducer,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let lot: i64 = tx
        .one(
            "INSERT INTO lots (vendor_id, product_id, quantity, remaining, cert_product, cert_quantity, cert_origin, \
             cert_issued_at, cert_issuer, cert_contact, received_by, received_at) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &args![
                vendor_id,
                product_id,
                p.stock,
                p.name.as_str(),
                format!("{}{}", p.stock, p.unit),
                producer.origin,
                now - chrono::Duration::days(1),
                producer.issuer,
                producer.contact,
                by,
                now
            ],
        )
        .await?;
    tx.exec(
        "INSERT INTO lot_tests (lot_id, method, passed, result, tested_by, tested_at, recorded_by) \
         VALUES ($1, '酶抑制率法', $2, 'pass', '市场快检室', $3, $4)",
        &args![lot, true, now, by],
    )
    .await?;
    Ok(())
}

async fn insert_product(
    tx: &mut Tx,
    vendor_id: i64,
    category: &str,
    p: &SeedProduct,
    is_box: bool,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let id: i64 = tx
        .one(
            "INSERT INTO products (vendor_id, category_id, name, unit, price_fen, stock, per_order_limit, is_box, \
             description, updated_at, category_sort) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             (SELECT sort FROM categories WHERE id = $2)) RETURNING id",
            &args![
                vendor_id,
                category,
                p.name.as_str(),
                p.unit,
                p.price_fen,
                p.stock,
                p.per_order_limit,
                is_box,
                p.description,
                now
            ],
        )
        .await?;
    tx.exec(
        "INSERT INTO price_history (product_id, price_fen, changed_at) VALUES ($1, $2, $3)",
        &args![id, p.price_fen, now],
    )
    .await?;
    record_stock(tx, id, p.stock, StockReason::Added, None, now).await?;
    Ok(id)
}
