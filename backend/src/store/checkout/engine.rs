//! The checkout engine: the checkouts waiting in this process go to the database together, in
//! one transaction on a connection of the engine's own: load (and lock) what they need, let
//! `domain::checkout::decide` decide them all, write what it decided, commit once. Nobody hears
//! "yes" before that commit is on disk. A first order's address becomes its resident's home in
//! the same commit. While a batch runs, the next one gathers (`queue.rs`).
//!
//! Why batches: on two cores a checkout that was its own transaction cost far more in
//! per-transaction and per-statement work than in its own rows, and a hot row stayed locked until
//! each single commit reached the disk (BENCHMARKS.md). A batch costs a fixed number of
//! statements, whatever its size: every kind of row is read or written by one statement with the
//! batch as a JSON parameter.
//!
//! The two databases differ only in how a batch's statements reach them, side by side below;
//! both load the same snapshot, as one JSON document (`Loaded`):
//! - SQLite, on a connection of the engine's own: three calls to the driver, each a hop to its
//!   thread and back (that hop, not SQLite, was the cost of a statement): the transaction begun
//!   and the keys claimed; the snapshot as one JSON document; every write and the commit.
//! - PostgreSQL: two function calls between BEGIN and COMMIT, so the hot rows stay locked for
//!   as few round trips as possible: `fxs_checkout_load($1)` claims the keys and locks the slots
//!   and products in a fixed order, so two server processes' batches never deadlock, and returns
//!   the snapshot; `fxs_checkout_apply($1)` writes each kind of row with one statement
//!   (migration 0015). Both only load and write; the rules are the domain's.

use super::slots::{SlotRecord, SLOT_COLUMNS};
use crate::domain::area::BuildingAt;
use crate::domain::checkout::SlotRow;
use crate::domain::checkout::{
    building_in, decide, Answer, BookedOrder, CheckoutChanges, CheckoutDecision, CheckoutJob, CheckoutSnapshot, Home,
    HouseholdAt, ProductRow, StoredKey,
};
use crate::domain::points::PointRow;
use crate::domain::slots::NeedFlags;
use crate::store::accounts::Sessions;
use crate::store::catalogue::PRODUCT_SELECT;
use crate::store::db::{Arg, Db, Tx};
use crate::store::queue::{deliver, gather, jobs_of, submit, Queue, Waiting};
use crate::store::{broken, retryable, StoreError, StoreResult};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::order::SlotKind;
use shared::{Fen, HouseholdId, MarketId, OrderId, ProductId, SlotId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use std::collections::{BTreeSet, HashSet};

use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

/// At most this many checkouts share one commit.
const MAX_BATCH: usize = 256;
/// A batch that deadlocks or fails to serialize (PostgreSQL, two processes) is tried again, one
/// caller at a time, this often.
const RETRIES: usize = 3;

pub struct Engine {
    jobs: mpsc::Sender<Waiting<CheckoutJob, Answer>>,
    stop: Arc<Notify>,
    /// Told when the engine's thread has let go of its connection.
    finished: Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
}

impl Engine {
    /// Checkouts waiting for the engine now.
    pub fn waiting(&self) -> usize {
        crate::store::queue::depth(&self.jobs)
    }
}

fn stopped() -> StoreError {
    broken("the checkout engine has stopped")
}

impl Engine {
    /// SQLite. `sessions`: a new home changes who a resident is; their remembered session is
    /// forgotten after the commit, before anyone hears the answer.
    pub fn sqlite(options: SqliteConnectOptions, sessions: Arc<Sessions>) -> Self {
        let path = options.get_filename().to_owned();
        Self::start(Own::Sqlite { path, conn: None }, sessions)
    }

    pub fn postgres(options: PgConnectOptions, sessions: Arc<Sessions>) -> Self {
        // A pool of one: the engine's own connection, replaced when it breaks.
        let own = PgPoolOptions::new().max_connections(1).test_before_acquire(false).connect_lazy_with(options);
        Self::start(Own::Postgres(Db::Postgres(own)), sessions)
    }

    /// The engine runs on a thread of its own with a runtime of its own, as the market's one
    /// writer should: its every wait on the database is answered at once, not queued behind the
    /// requests that the server's workers are busy with (on two cores, sharing them cost the
    /// checkout rush a quarter to a half of its rate: BENCHMARKS.md).
    fn start(own: Own, sessions: Arc<Sessions>) -> Self {
        let (jobs, queue) = mpsc::channel(8192);
        let stop = Arc::new(Notify::new());
        let (done, finished) = tokio::sync::oneshot::channel();
        let stopping = stop.clone();
        let thread = std::thread::Builder::new().name("checkout".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(run(own, sessions, queue, stopping)),
                Err(e) => tracing::error!(error = %e, "the checkout engine could not start"),
            }
            let _ = done.send(());
        });
        if let Err(e) = thread {
            tracing::error!(error = %e, "the checkout engine's thread could not start");
        }
        Self { jobs, stop, finished: Mutex::new(Some(finished)) }
    }

    /// These checkouts, decided in this order in one batch (with whatever else is waiting).
    pub async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
        submit(&self.jobs, jobs, stopped).await
    }

    /// Finishes the batch under way, then closes the engine's connection.
    pub async fn stop(&self) {
        self.stop.notify_one();
        let finished = self.finished.lock().ok().and_then(|mut f| f.take());
        if let Some(finished) = finished {
            let _ = finished.await;
        }
    }
}

/// The engine's connection.
enum Own {
    /// Made when first needed, and again after a failure.
    Sqlite {
        path: std::path::PathBuf,
        conn: Option<Connection>,
    },
    Postgres(Db),
}

async fn run(mut own: Own, sessions: Arc<Sessions>, mut queue: Queue<CheckoutJob, Answer>, stop: Arc<Notify>) {
    loop {
        let first = tokio::select! {
            first = queue.recv() => first,
            () = stop.notified() => None,
        };
        let Some(first) = first else { break };
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        match commit(&mut own, &sessions, &jobs_of(&batch)).await {
            Ok(answers) => deliver(batch, answers),
            Err(e) if batch.len() == 1 && !retryable(&e) => {
                if let Some(w) = batch.into_iter().next() {
                    let _ = w.reply.send(Err(e));
                }
            }
            Err(e) => {
                // Nothing of a failed batch was kept (one transaction): each caller's checkouts
                // are tried again on their own, so one that cannot be written, or a deadlock
                // between two processes' batches, fails nobody else.
                if batch.len() > 1 {
                    tracing::warn!(error = %e, size = batch.len(), "checkout batch failed; retrying one by one");
                }
                for w in batch {
                    let mut result = commit(&mut own, &sessions, &w.jobs).await;
                    for _ in 0..RETRIES {
                        match &result {
                            Err(e) if retryable(e) => result = commit(&mut own, &sessions, &w.jobs).await,
                            _ => break,
                        }
                    }
                    let _ = w.reply.send(result);
                }
            }
        }
    }
    match own {
        Own::Sqlite { conn: Some(c), .. } => drop(c.close()),
        Own::Sqlite { conn: None, .. } => {}
        Own::Postgres(db) => db.close().await,
    }
}

/// Load (and lock), decide, write, commit: one transaction.
async fn commit(own: &mut Own, sessions: &Sessions, jobs: &[CheckoutJob]) -> StoreResult<Vec<Answer>> {
    let started = std::time::Instant::now();
    let decision = match own {
        Own::Postgres(db) => {
            let mut tx = db.begin().await?;
            let decision = postgres_batch(&mut tx, jobs).await?;
            tx.commit().await?;
            decision
        }
        Own::Sqlite { path, conn } => {
            let c = match conn {
                Some(c) => c,
                None => conn.insert(open_sqlite(path)?),
            };
            match sqlite_batch(c, jobs) {
                Ok(decision) => decision,
                Err(e) => {
                    // Nothing of the batch is kept; a connection that cannot even roll back is
                    // replaced.
                    if c.execute_batch("ROLLBACK").is_err() {
                        *conn = None;
                    }
                    return Err(e);
                }
            }
        }
    };
    tracing::debug!(checkouts = jobs.len(), micros = started.elapsed().as_micros(), "checkout batch");
    for home in &decision.changes.homes {
        sessions.forget_user(home.user_id);
    }
    Ok(decision.answers)
}

fn decided(snapshot: &CheckoutSnapshot, jobs: &[CheckoutJob]) -> StoreResult<CheckoutDecision> {
    decide(snapshot, jobs).map_err(broken)
}

/// What a batch's jobs are, as the load reads them: user, key, request hash, slot and the
/// address's parts, trimmed.
fn jobs_json(jobs: &[CheckoutJob]) -> Value {
    Value::Array(
        jobs.iter()
            .map(|j| {
                let a = j.address.as_ref();
                json!({
                    "u": j.user_id, "k": j.key, "h": j.request_hash, "s": j.slot_id,
                    "b": a.map(|a| a.building.trim()), "un": a.map(|a| a.unit.trim()), "r": a.map(|a| a.room.trim()),
                    "l": j.lines, "p": j.pickup_point_id,
                })
            })
            .collect(),
    )
}

// ---------- PostgreSQL: two calls ----------

async fn postgres_batch(tx: &mut Tx, jobs: &[CheckoutJob]) -> StoreResult<CheckoutDecision> {
    #[derive(Deserialize)]
    struct Loaded {
        snapshot: String,
    }
    let loaded: Loaded =
        tx.one("SELECT fxs_checkout_load(CAST($1 AS JSONB)) AS snapshot", &[Arg::json(&jobs_json(jobs))]).await?;
    let snapshot = snapshot_from(&loaded.snapshot)?;
    let decision = decided(&snapshot, jobs)?;
    tx.exec("SELECT fxs_checkout_apply(CAST($1 AS JSONB))", &[Arg::json(&apply_request(&decision.changes))]).await?;
    Ok(decision)
}

#[derive(Deserialize)]
struct LoadedKey {
    u: i64,
    k: String,
    #[serde(flatten)]
    key: StoredKey,
}

#[derive(Deserialize)]
struct LoadedCart {
    u: i64,
    lines: Vec<(ProductId, i64)>,
}

#[derive(Deserialize)]
struct LoadedHome {
    u: i64,
    #[serde(flatten)]
    home: Home,
}

#[derive(Deserialize)]
struct LoadedBuilding {
    number: String,
    #[serde(flatten)]
    at: BuildingAt,
}

#[derive(Deserialize)]
struct LoadedHousehold {
    building_id: i64,
    unit: String,
    room: String,
    #[serde(flatten)]
    at: HouseholdAt,
}

/// `fxs_checkout_load`'s answer (one JSON document), as the domain's snapshot.
fn snapshot_from(text: &str) -> StoreResult<CheckoutSnapshot> {
    #[derive(Deserialize)]
    struct Loaded {
        keys: Vec<LoadedKey>,
        carts: Vec<LoadedCart>,
        homes: Vec<LoadedHome>,
        slots: Vec<SlotRecord>,
        products: Vec<ProductRow>,
        buildings: Vec<LoadedBuilding>,
        households: Vec<LoadedHousehold>,
        booked: Vec<BookedOrder>,
        order_ids: Vec<OrderId>,
        points: Vec<PointRow>,
        point_booked: Vec<PointBooked>,
    }
    #[derive(Deserialize)]
    struct PointBooked {
        point: i64,
        slot: SlotId,
        n: i64,
    }
    let l: Loaded = serde_json::from_str(text)
        .map_err(|e| broken(format!("the checkout's load answered something unexpected: {e}")))?;
    Ok(CheckoutSnapshot {
        keys: l.keys.into_iter().map(|k| ((k.u, k.k), k.key)).collect(),
        carts: l.carts.into_iter().map(|c| (c.u, c.lines)).collect(),
        homes: l.homes.into_iter().map(|h| (h.u, h.home)).collect(),
        slots: l.slots.into_iter().map(|s| (s.id, s.into_row())).collect(),
        products: l.products.into_iter().map(|p| (p.id, p)).collect(),
        buildings: l.buildings.into_iter().fold(std::collections::HashMap::new(), |mut all, b| {
            all.entry(b.number).or_insert_with(Vec::new).push(b.at);
            all
        }),
        households: l.households.into_iter().map(|h| ((h.building_id, h.unit, h.room), h.at)).collect(),
        booked: l.booked,
        order_ids: l.order_ids,
        points: l.points.into_iter().map(|p| (p.id, p)).collect(),
        point_booked: l.point_booked.into_iter().map(|b| ((b.point, b.slot), b.n)).collect(),
    })
}

/// What `fxs_checkout_apply` writes: each kind of row as one array.
fn apply_request(ch: &CheckoutChanges) -> Value {
    let mut orders = Vec::with_capacity(ch.orders.len());
    let (mut lines, mut parts, mut events) = (Vec::new(), Vec::new(), Vec::new());
    for o in &ch.orders {
        let a = o.address.as_ref();
        orders.push(json!({
            "id": o.id, "user_id": o.user_id, "slot_id": o.slot_id, "status": o.status.as_str(),
            "payment": o.payment.as_str(), "total_fen": o.total_fen, "building": a.map(|a| &a.building),
            "unit": a.map(|a| &a.unit), "room": a.map(|a| &a.room), "note": o.note, "handoff_code": o.handoff_code,
            "priority_booking": o.priority_booking, "created_at": o.created_at, "expires_at": o.expires_at,
            "pickup_point_id": o.pickup_point.as_ref().map(|p| p.id), "community": a.and_then(|a| a.community.as_ref()),
        }));
        lines.extend(o.lines.iter().map(|l| {
            json!({
                "order_id": o.id, "product_id": l.product_id, "vendor_id": l.vendor_id, "name": l.name,
                "unit": l.unit, "quantity": l.quantity, "price_fen": l.price_fen,
            })
        }));
        parts.extend(o.parts.iter().map(|p| {
            json!({
                "order_id": o.id, "vendor_id": p.vendor_id, "status": p.status, "subtotal_fen": p.subtotal_fen,
                "updated_at": o.created_at,
            })
        }));
        events.extend(o.timeline.iter().map(
            |(status, at)| json!({ "order_id": o.id, "status": status.as_str(), "at": at, "by_user": o.user_id }),
        ));
    }
    json!({
        "slots": slot_rows(ch),
        "stock": stock_rows(ch),
        "homes": home_rows(ch),
        "orders": orders,
        "lines": lines,
        "parts": parts,
        "events": events,
        "cart": cart_rows(ch),
        "keys": key_rows(ch),
    })
}

fn slot_rows(ch: &CheckoutChanges) -> Vec<Value> {
    ch.slots
        .iter()
        .map(|s| json!({ "slot_id": s.slot_id, "booked": s.booked, "priority_booked": s.priority_booked }))
        .collect()
}

fn stock_rows(ch: &CheckoutChanges) -> Vec<Value> {
    ch.stock.iter().map(|(id, stock)| json!({ "id": id, "stock": stock })).collect()
}

fn home_rows(ch: &CheckoutChanges) -> Vec<Value> {
    ch.homes
        .iter()
        .map(|h| {
            json!({
                "user_id": h.user_id, "building_id": h.building_id, "unit": h.unit, "room": h.room,
                "household_id": h.household_id, "member": h.member,
            })
        })
        .collect()
}

fn cart_rows(ch: &CheckoutChanges) -> Vec<Value> {
    ch.cart_removals.iter().map(|(u, p, q)| json!({ "user_id": u, "product_id": p, "quantity": q })).collect()
}

fn key_rows(ch: &CheckoutChanges) -> Vec<Value> {
    ch.key_answers
        .iter()
        .map(|k| json!({ "user_id": k.user_id, "key": k.key, "answer": k.answer.to_stored() }))
        .collect()
}

// ---------- SQLite: in the engine's thread, a prepared statement a row ----------

fn open_sqlite(path: &std::path::Path) -> StoreResult<Connection> {
    let c = Connection::open(path)?;
    // The same durability as the other connections: WAL, and FULL so a commit survives a power cut.
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(c)
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        broken(format!("sqlite: {e}"))
    }
}

/// The batch on SQLite, in one `BEGIN IMMEDIATE` transaction: its one write lock taken at once,
/// so the rows read stay as read and the next order ids are free until the commit.
fn sqlite_batch(c: &Connection, jobs: &[CheckoutJob]) -> StoreResult<CheckoutDecision> {
    c.execute_batch("BEGIN IMMEDIATE")?;
    let snapshot = sqlite_load(c, jobs)?;
    let decision = decided(&snapshot, jobs)?;
    sqlite_write(c, &decision.changes)?;
    c.execute_batch("COMMIT")?;
    Ok(decision)
}

/// The form sqlx writes `DateTime<Utc>` in, so both drivers' times compare as text.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn time(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(column)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn flags(row: &rusqlite::Row<'_>) -> rusqlite::Result<NeedFlags> {
    Ok(NeedFlags { quarantined: row.get("quarantined")?, hardship: row.get("hardship")?, elderly: row.get("elderly")? })
}

/// Claims the batch's Idempotency-Keys and reads everything `decide` needs.
fn sqlite_load(c: &Connection, jobs: &[CheckoutJob]) -> StoreResult<CheckoutSnapshot> {
    let mut s = CheckoutSnapshot::default();
    let mut claimed: HashSet<(i64, &str)> = HashSet::new();
    let mut buyers: BTreeSet<i64> = BTreeSet::new();
    for j in jobs {
        let id = (j.user_id, j.key.as_str());
        if claimed.contains(&id) || s.keys.contains_key(&(j.user_id, j.key.clone())) {
            continue;
        }
        let fresh = c
            .prepare_cached(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, key) DO NOTHING",
            )?
            .execute(named_params! { "$1": j.user_id, "$2": j.key, "$3": j.request_hash, "$4": ts(j.now) })?;
        if fresh == 1 {
            claimed.insert(id);
            buyers.insert(j.user_id);
            continue;
        }
        let (request_hash, answer): (String, Option<String>) = c
            .prepare_cached("SELECT request_hash, answer FROM idempotency_keys WHERE user_id = $1 AND key = $2")?
            .query_row(named_params! { "$1": j.user_id, "$2": j.key }, |r| {
                Ok((r.get("request_hash")?, r.get("answer")?))
            })?;
        let answer = answer.map(|a| serde_json::from_str(&a)).transpose().map_err(broken)?;
        s.keys.insert((j.user_id, j.key.clone()), StoredKey { request_hash, answer });
    }
    for user in jobs.iter().map(|j| j.user_id).collect::<BTreeSet<_>>() {
        let cart = c
            .prepare_cached("SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY product_id")?
            .query_map(named_params! { "$1": user }, |r| Ok((ProductId(r.get("product_id")?), r.get("quantity")?)))?
            .collect::<Result<Vec<(ProductId, i64)>, _>>()?;
        if buyers.contains(&user) {
            // What the user's jobs buy: the cart, or a standing order's items.
            let named = jobs.iter().filter(|j| j.user_id == user).filter_map(|j| j.lines.as_deref()).flatten();
            for &(product, _) in cart.iter().chain(named) {
                if let std::collections::hash_map::Entry::Vacant(place) = s.products.entry(product) {
                    if let Some(p) = product_row(c, product.get())? {
                        place.insert(p);
                    }
                }
            }
        }
        s.carts.insert(user, cart);
        let home = c
            .prepare_cached(
                "SELECT b.number AS building, b.market_id, b.community, h.unit, h.room, h.quarantined, h.hardship, \
                 h.elderly, h.id \
                 FROM users u \
                 JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id WHERE u.id = $1",
            )?
            .query_row(named_params! { "$1": user }, |r| {
                Ok(Home {
                    building: r.get("building")?,
                    unit: r.get("unit")?,
                    room: r.get("room")?,
                    flags: flags(r)?,
                    household_id: Some(HouseholdId(r.get("id")?)),
                    market_id: MarketId(r.get("market_id")?),
                    community: r.get("community")?,
                })
            })
            .optional()?;
        if let Some(home) = home {
            s.homes.insert(user, home);
        }
    }
    for slot_id in jobs.iter().map(|j| j.slot_id).collect::<BTreeSet<_>>() {
        if let Some(slot) = slot_row(c, slot_id)? {
            s.slots.insert(slot_id, slot);
        }
    }
    // Every building with a number an address names (two communities, of one market or two,
    // may both have a building 3; the domain picks the one the address means).
    let mut named: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for a in jobs.iter().filter_map(|j| j.address.as_ref()) {
        named.insert((a.building.trim(), a.unit.trim(), a.room.trim()));
    }
    let mut found: BTreeSet<(i64, &str, &str)> = BTreeSet::new();
    for &(number, unit, room) in &named {
        // Each number read once, however many flats of it the batch names.
        if !s.buildings.contains_key(number) {
            let mut buildings =
                c.prepare_cached("SELECT id, market_id, community FROM buildings WHERE number = $1 ORDER BY id")?;
            let rows = buildings.query_map(named_params! { "$1": number }, |r| {
                Ok(BuildingAt {
                    id: r.get("id")?,
                    market_id: MarketId(r.get("market_id")?),
                    community: r.get("community")?,
                })
            })?;
            let with_number = rows.collect::<Result<Vec<_>, _>>()?;
            s.buildings.insert(number.to_owned(), with_number);
        }
        found.extend(s.buildings[number].iter().map(|at| (at.id, unit, room)));
    }
    for (building, unit, room) in found {
        let at = (building, unit.to_owned(), room.to_owned());
        if s.households.contains_key(&at) {
            continue;
        }
        let there = c
            .prepare_cached(
                "SELECT id, quarantined, hardship, elderly, \
                 EXISTS (SELECT 1 FROM users m WHERE m.household_id = households.id) AS has_members \
                 FROM households WHERE building_id = $1 AND unit = $2 AND room = $3",
            )?
            .query_row(named_params! { "$1": at.0, "$2": at.1, "$3": at.2 }, |r| {
                Ok(HouseholdAt {
                    id: HouseholdId(r.get("id")?),
                    flags: flags(r)?,
                    has_members: r.get("has_members")?,
                    registered: Vec::new(),
                })
            })
            .optional()?;
        if let Some(mut there) = there {
            let mut registered = c.prepare_cached(
                "SELECT u.id FROM household_register r JOIN users u ON u.phone = r.phone WHERE r.household_id = $1",
            )?;
            let users: HashSet<i64> = jobs.iter().map(|j| j.user_id).collect();
            for id in registered.query_map(named_params! { "$1": there.id.get() }, |r| r.get::<_, i64>("id"))? {
                let id = id?;
                if users.contains(&id) {
                    there.registered.push(id);
                }
            }
            s.households.insert(at, there);
        }
    }
    s.booked = sqlite_booked(c, jobs, &s)?;
    for (point, slot) in jobs.iter().filter_map(|j| j.pickup_point_id.map(|p| (p, j.slot_id))).collect::<BTreeSet<_>>()
    {
        if let std::collections::hash_map::Entry::Vacant(place) = s.points.entry(point) {
            let row = c
                .prepare_cached(
                    "SELECT id, name, address, opens, closes, capacity, active, market_id FROM pickup_points WHERE id = $1",
                )?
                .query_row(named_params! { "$1": point }, |r| {
                    Ok(PointRow {
                        id: r.get("id")?,
                        name: r.get("name")?,
                        address: r.get("address")?,
                        opens: r.get("opens")?,
                        closes: r.get("closes")?,
                        capacity: r.get("capacity")?,
                        active: r.get("active")?,
                        market_id: MarketId(r.get("market_id")?),
                    })
                })
                .optional()?;
            let Some(row) = row else { continue };
            place.insert(row);
        }
        let n: i64 = c
            .prepare_cached(
                "SELECT COUNT(*) AS n FROM orders WHERE pickup_point_id = $1 AND slot_id = $2 \
                 AND status NOT IN ('cancelled', 'expired')",
            )?
            .query_row(named_params! { "$1": point, "$2": slot.get() }, |r| r.get("n"))?;
        s.point_booked.insert((point, slot), n);
    }
    // The one writer: the next ids are free until this commit.
    let last: i64 =
        c.prepare_cached("SELECT COALESCE(MAX(id), 0) AS id FROM orders")?.query_row([], |r| r.get("id"))?;
    s.order_ids = (1..=claimed.len() as i64).map(|n| OrderId(last + n)).collect();
    Ok(s)
}

/// The open orders (not a group-buy's) already in the batch's slots of each job's household: the
/// resident's own and those of the members of their household (or of the household at the
/// address they give, which a first order may make theirs). Each once. Found by person
/// (orders_user: a few orders each; `+slot_id` keeps SQLite off the slot's index), the members
/// through users_household first: never by reading a slot's every order.
fn sqlite_booked(c: &Connection, jobs: &[CheckoutJob], s: &CheckoutSnapshot) -> StoreResult<Vec<BookedOrder>> {
    const OWN: &str = "SELECT id, slot_id FROM orders WHERE user_id = $1 AND +slot_id = $2 \
         AND group_buy_id IS NULL AND status NOT IN ('cancelled', 'expired', 'delivered')";
    const MEMBERS: &str = "SELECT o.id, o.slot_id, o.user_id FROM users m CROSS JOIN orders o ON o.user_id = m.id \
         AND +o.slot_id = $2 WHERE m.household_id = $1 \
         AND o.group_buy_id IS NULL AND o.status NOT IN ('cancelled', 'expired', 'delivered')";
    let mut found: std::collections::BTreeMap<i64, BookedOrder> = std::collections::BTreeMap::new();
    for j in jobs {
        let home = s.homes.get(&j.user_id).and_then(|h| h.household_id);
        let mut own = c.prepare_cached(OWN)?;
        let rows = own.query_map(named_params! { "$1": j.user_id, "$2": j.slot_id.get() }, |row| {
            Ok((row.get::<_, i64>("id")?, SlotId(row.get("slot_id")?)))
        })?;
        for row in rows {
            let (id, slot_id) = row?;
            found.insert(id, BookedOrder { slot_id, user_id: j.user_id, household_id: home });
        }
        let household = match (home, &j.address) {
            (Some(h), _) => Some(h),
            (None, Some(a)) if !s.homes.contains_key(&j.user_id) => {
                let market = s.slots.get(&j.slot_id).map(|slot| slot.market_id);
                building_in(&s.buildings, market, a)
                    .ok()
                    .and_then(|b| s.households.get(&(b.id, a.unit.trim().to_owned(), a.room.trim().to_owned())))
                    .map(|h| h.id)
            }
            _ => None,
        };
        let Some(household) = household else { continue };
        let mut members = c.prepare_cached(MEMBERS)?;
        let rows = members.query_map(named_params! { "$1": household.get(), "$2": j.slot_id.get() }, |row| {
            Ok((row.get::<_, i64>("id")?, SlotId(row.get("slot_id")?), row.get::<_, i64>("user_id")?))
        })?;
        for row in rows {
            let (id, slot_id, user_id) = row?;
            found.insert(id, BookedOrder { slot_id, user_id, household_id: Some(household) });
        }
    }
    Ok(found.into_values().collect())
}

fn slot_row(c: &Connection, id: SlotId) -> rusqlite::Result<Option<SlotRow>> {
    c.prepare_cached(&format!("SELECT {SLOT_COLUMNS} FROM slots WHERE id = $1"))?
        .query_row(named_params! { "$1": id.get() }, |r| {
            let release: Option<String> = r.get("priority_release_at")?;
            Ok(SlotRecord {
                id: SlotId(r.get("id")?),
                market_id: MarketId(r.get("market_id")?),
                kind: SlotKind::parse(&r.get::<_, String>("kind")?).unwrap_or(SlotKind::Delivery),
                starts_at: time(r, "starts_at")?,
                ends_at: time(r, "ends_at")?,
                cutoff_at: time(r, "cutoff_at")?,
                capacity: r.get("capacity")?,
                booked: r.get("booked")?,
                priority_capacity: r.get("priority_capacity")?,
                priority_booked: r.get("priority_booked")?,
                priority_release_at: match release {
                    Some(_) => Some(time(r, "priority_release_at")?),
                    None => None,
                },
                closed: r.get("closed")?,
                household_limit: r.get("household_limit")?,
            }
            .into_row())
        })
        .optional()
}

fn product_row(c: &Connection, id: i64) -> rusqlite::Result<Option<ProductRow>> {
    c.prepare_cached(&format!("{PRODUCT_SELECT} WHERE p.id = $1"))?
        .query_row(named_params! { "$1": id }, |r| {
            Ok(ProductRow {
                id: ProductId(r.get("id")?),
                vendor_id: r.get("vendor_id")?,
                vendor_name: r.get("vendor_name")?,
                name: r.get("name")?,
                unit: r.get("unit")?,
                price_fen: Fen::stored(r.get("price_fen")?),
                stock: r.get("stock")?,
                per_order_limit: r.get("per_order_limit")?,
                active: r.get("active")?,
                category: r.get("category")?,
                is_box: r.get("is_box")?,
                description: r.get("description")?,
                category_sort: r.get("category_sort")?,
                origin: r.get("origin")?,
                photo: r.get("photo")?,
                stall_closed: r.get("stall_closed")?,
                stall_closed_on: r.get("stall_closed_on")?,
                market_id: MarketId(r.get("market_id")?),
            })
        })
        .optional()
}

/// Writes what the batch decided, row by row: in-thread, a prepared statement costs
/// microseconds.
fn sqlite_write(c: &Connection, ch: &CheckoutChanges) -> StoreResult<()> {
    for s in &ch.slots {
        c.prepare_cached("UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1")?
            .execute(named_params! { "$1": s.slot_id.get(), "$2": s.booked, "$3": s.priority_booked })?;
    }
    for (product, stock) in &ch.stock {
        c.prepare_cached("UPDATE products SET stock = $2 WHERE id = $1")?
            .execute(named_params! { "$1": product.get(), "$2": stock })?;
    }
    for h in &ch.homes {
        if h.household_id.is_none() {
            c.prepare_cached(
                "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
                 ON CONFLICT (building_id, unit, room) DO NOTHING",
            )?
            .execute(named_params! { "$1": h.building_id, "$2": h.unit, "$3": h.room })?;
        }
        // Only a resident who still has no home: one set meanwhile (PUT /me/household) stays. A
        // member's home is set; anyone else's address waits for a member or staff.
        // (As fxs_checkout_apply: a request to the same household keeps its time.)
        if h.member {
            c.prepare_cached(
                "UPDATE users SET household_id = (SELECT id FROM households WHERE building_id = $2 AND unit = $3 \
                 AND room = $4), pending_household_id = NULL, pending_since = NULL \
                 WHERE id = $1 AND household_id IS NULL",
            )?
            .execute(named_params! { "$1": h.user_id, "$2": h.building_id, "$3": h.unit, "$4": h.room })?;
        } else {
            c.prepare_cached(
                "UPDATE users SET pending_since = CASE WHEN pending_household_id = (SELECT id FROM households \
                 WHERE building_id = $2 AND unit = $3 AND room = $4) THEN pending_since ELSE $5 END, \
                 pending_household_id = (SELECT id FROM households WHERE building_id = $2 AND unit = $3 AND room = $4) \
                 WHERE id = $1 AND household_id IS NULL",
            )?
            .execute(named_params! {
                "$1": h.user_id, "$2": h.building_id, "$3": h.unit, "$4": h.room, "$5": ts(Utc::now()),
            })?;
        }
    }
    for o in &ch.orders {
        let now = ts(o.created_at);
        let address = o.address.as_ref();
        c.prepare_cached(
            "INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, unit, room, note, \
             handoff_code, priority_booking, created_at, expires_at, updated_at, pickup_point_id, community) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $15, $16)",
        )?
        .execute(named_params! {
            "$1": o.id.get(), "$2": o.user_id, "$3": o.slot_id.get(), "$4": o.status.as_str(), "$5": o.payment.as_str(),
            "$6": o.total_fen.get(), "$7": address.map(|a| &a.building), "$8": address.map(|a| &a.unit),
            "$9": address.map(|a| &a.room), "$10": o.note, "$11": o.handoff_code, "$12": o.priority_booking,
            "$13": now, "$14": o.expires_at.map(ts), "$15": o.pickup_point.as_ref().map(|p| p.id),
            "$16": address.and_then(|a| a.community.as_deref()),
        })?;
        for l in &o.lines {
            c.prepare_cached(
                "INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )?
            .execute(named_params! {
                "$1": o.id.get(), "$2": l.product_id.get(), "$3": l.vendor_id, "$4": l.name, "$5": l.unit, "$6": l.quantity,
                "$7": l.price_fen.get(),
            })?;
        }
        for p in &o.parts {
            c.prepare_cached(
                "INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )?
            .execute(
                named_params! { "$1": o.id.get(), "$2": p.vendor_id, "$3": p.status, "$4": p.subtotal_fen.get(), "$5": now },
            )?;
        }
        for (status, at) in &o.timeline {
            c.prepare_cached("INSERT INTO order_events (order_id, status, at, by_user) VALUES ($1, $2, $3, $4)")?
                .execute(named_params! { "$1": o.id.get(), "$2": status.as_str(), "$3": ts(*at), "$4": o.user_id })?;
        }
    }
    for (user, product, quantity) in &ch.cart_removals {
        // A line the resident changed meanwhile stays in the cart.
        c.prepare_cached("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2 AND quantity = $3")?
            .execute(named_params! { "$1": user, "$2": product.get(), "$3": quantity })?;
    }
    for k in &ch.key_answers {
        c.prepare_cached("UPDATE idempotency_keys SET answer = $3 WHERE user_id = $1 AND key = $2")?
            .execute(named_params! { "$1": k.user_id, "$2": k.key, "$3": k.answer.to_stored() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_goes_as_json_with_trimmed_addresses() {
        let job = CheckoutJob {
            user_id: 7,
            key: "k'1".into(),
            request_hash: "h".into(),
            slot_id: shared::SlotId(3),
            payment: shared::order::Payment::OnDelivery,
            address: Some(shared::api::Address {
                building: " 5 ".into(),
                unit: "2".into(),
                room: "301".into(),
                community: None,
            }),
            note: None,
            handoff_code: "000000".into(),
            now: chrono::Utc::now(),
            pay_by: chrono::Utc::now(),
            lines: None,
            pickup_point_id: None,
        };
        let v = jobs_json(&[job]);
        assert_eq!(v[0]["k"], "k'1", "a value is data, never SQL text");
        assert_eq!(v[0]["b"], "5");
    }
}
