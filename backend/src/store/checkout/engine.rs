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
//! The two databases differ only in how a batch's statements reach them, side by side below:
//! - SQLite: about twenty statements, each a JSON parameter (`json_each`).
//! - PostgreSQL: two calls, so the hot rows stay locked for as few round trips as possible:
//!   `fxs_checkout_load($1)` claims the keys and locks the slots and products in a fixed order,
//!   so two server processes' batches never deadlock, and returns the snapshot as JSON;
//!   `fxs_checkout_apply($1)` writes each kind of row with one statement (migration 0015). Both
//!   only load and write; the rules are the domain's.

use super::orders::write_orders;
use super::slots::{SlotRecord, SLOT_COLUMNS};
use crate::domain::checkout::{
    decide, Answer, CheckoutChanges, CheckoutDecision, CheckoutJob, CheckoutSnapshot, Home, HouseholdAt, ProductRow,
    StoredKey,
};
use crate::domain::slots::NeedFlags;
use crate::store::accounts::Sessions;
use crate::store::catalogue::PRODUCT_SELECT;
use crate::store::db::{Arg, Db, Tx};
use crate::store::queue::{deliver, gather, jobs_of, submit, Queue, Waiting};
use crate::store::{broken, retryable, StoreError, StoreResult};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
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
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn stopped() -> StoreError {
    broken("the checkout engine has stopped")
}

impl Engine {
    /// SQLite. `sessions`: a new home changes who a resident is; their remembered session is
    /// forgotten after the commit, before anyone hears the answer.
    pub fn sqlite(options: SqliteConnectOptions, sessions: Arc<Sessions>) -> Self {
        let own = SqlitePoolOptions::new().max_connections(1).test_before_acquire(false).connect_lazy_with(options);
        Self::start(Db::Sqlite { reader: own.clone(), writer: own }, sessions)
    }

    pub fn postgres(options: PgConnectOptions, sessions: Arc<Sessions>) -> Self {
        let own = PgPoolOptions::new().max_connections(1).test_before_acquire(false).connect_lazy_with(options);
        Self::start(Db::Postgres(own), sessions)
    }

    /// The engine's task, on a connection of its own (a pool of one, which replaces a broken
    /// connection).
    fn start(db: Db, sessions: Arc<Sessions>) -> Self {
        let (jobs, queue) = mpsc::channel(8192);
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(db, sessions, queue, stop.clone()));
        Self { jobs, stop, task: Mutex::new(Some(task)) }
    }

    /// These checkouts, decided in this order in one batch (with whatever else is waiting).
    pub async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
        submit(&self.jobs, jobs, stopped).await
    }

    /// Finishes the batch under way, then closes the engine's connection.
    pub async fn stop(&self) {
        self.stop.notify_one();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(db: Db, sessions: Arc<Sessions>, mut queue: Queue<CheckoutJob, Answer>, stop: Arc<Notify>) {
    loop {
        let first = tokio::select! {
            first = queue.recv() => first,
            () = stop.notified() => None,
        };
        let Some(first) = first else { break };
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        match commit(&db, &sessions, &jobs_of(&batch)).await {
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
                    let mut result = commit(&db, &sessions, &w.jobs).await;
                    for _ in 0..RETRIES {
                        match &result {
                            Err(e) if retryable(e) => result = commit(&db, &sessions, &w.jobs).await,
                            _ => break,
                        }
                    }
                    let _ = w.reply.send(result);
                }
            }
        }
    }
    db.close().await;
}

/// Load (and lock), decide, write, commit: one transaction.
async fn commit(db: &Db, sessions: &Sessions, jobs: &[CheckoutJob]) -> StoreResult<Vec<Answer>> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    let decision =
        if tx.postgres() { postgres_batch(&mut tx, jobs).await? } else { sqlite_batch(&mut tx, jobs).await? };
    tx.commit().await?;
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
    lines: Vec<(i64, i64)>,
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
    id: i64,
}

#[derive(Deserialize)]
struct LoadedHousehold {
    building_id: i64,
    unit: String,
    room: String,
    #[serde(flatten)]
    at: HouseholdAt,
}

/// `fxs_checkout_load`'s answer, as the domain's snapshot.
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
        order_ids: Vec<i64>,
    }
    let l: Loaded = serde_json::from_str(text)
        .map_err(|e| broken(format!("fxs_checkout_load answered something unexpected: {e}")))?;
    Ok(CheckoutSnapshot {
        keys: l.keys.into_iter().map(|k| ((k.u, k.k), k.key)).collect(),
        carts: l.carts.into_iter().map(|c| (c.u, c.lines)).collect(),
        homes: l.homes.into_iter().map(|h| (h.u, h.home)).collect(),
        slots: l.slots.into_iter().map(|s| (s.id, s.into_row())).collect(),
        products: l.products.into_iter().map(|p| (p.id, p)).collect(),
        buildings: l.buildings.into_iter().map(|b| (b.number, b.id)).collect(),
        households: l.households.into_iter().map(|h| ((h.building_id, h.unit, h.room), h.at)).collect(),
        order_ids: l.order_ids,
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
                "household_id": h.household_id,
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

// ---------- SQLite: a statement per kind of row ----------

/// The batch on SQLite, in a `BEGIN IMMEDIATE` transaction: the rows read stay as read until
/// the commit, and the next order ids are free until then.
async fn sqlite_batch(tx: &mut Tx, jobs: &[CheckoutJob]) -> StoreResult<CheckoutDecision> {
    let snapshot = sqlite_load(tx, jobs).await?;
    let decision = decided(&snapshot, jobs)?;
    sqlite_write(tx, &decision.changes).await?;
    Ok(decision)
}

#[derive(Deserialize)]
struct KeyRow {
    user_id: i64,
    key: String,
}

#[derive(Deserialize)]
struct PriorKey {
    user_id: i64,
    key: String,
    request_hash: String,
    answer: Option<String>,
}

#[derive(Deserialize)]
struct CartRow {
    user_id: i64,
    product_id: i64,
    quantity: i64,
}

#[derive(Deserialize)]
struct HomeRow {
    user_id: i64,
    building: String,
    unit: String,
    room: String,
    quarantined: bool,
    hardship: bool,
    elderly: bool,
}

#[derive(Deserialize)]
struct HouseholdRow {
    id: i64,
    building_id: i64,
    unit: String,
    room: String,
    quarantined: bool,
    hardship: bool,
    elderly: bool,
}

/// Claims the batch's Idempotency-Keys and reads everything `decide` needs.
async fn sqlite_load(tx: &mut Tx, jobs: &[CheckoutJob]) -> StoreResult<CheckoutSnapshot> {
    let batch = Arg::json(&jobs_json(jobs));
    let now = jobs.first().map(|j| j.now).unwrap_or_default();
    // Claimed: the keys new to the database, each once (a key twice in the batch is claimed by
    // its first press; the domain answers the second with the first's answer).
    let claimed: Vec<KeyRow> = tx
        .all(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) \
             SELECT value->>'u', value->>'k', value->>'h', $2 FROM json_each($1) WHERE true ORDER BY key \
             ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key",
            &[batch.clone(), Arg::Time(now)],
        )
        .await?;
    let claimed: HashSet<(i64, String)> = claimed.into_iter().map(|k| (k.user_id, k.key)).collect();
    let prior: Vec<PriorKey> = tx
        .all(
            "SELECT ik.user_id, ik.key, ik.request_hash, ik.answer FROM idempotency_keys ik \
             WHERE (ik.user_id, ik.key) IN (SELECT value->>'u', value->>'k' FROM json_each($1))",
            std::slice::from_ref(&batch),
        )
        .await?;
    let mut s = CheckoutSnapshot::default();
    for k in prior.into_iter().filter(|k| !claimed.contains(&(k.user_id, k.key.clone()))) {
        let answer = k.answer.map(|a| serde_json::from_str(&a)).transpose().map_err(broken)?;
        s.keys.insert((k.user_id, k.key), StoredKey { request_hash: k.request_hash, answer });
    }
    let users = Arg::json(&jobs.iter().map(|j| j.user_id).collect::<BTreeSet<_>>());
    let carts: Vec<CartRow> = tx
        .all(
            "SELECT user_id, product_id, quantity FROM cart_items WHERE user_id IN (SELECT value FROM json_each($1)) \
             ORDER BY user_id, product_id",
            std::slice::from_ref(&users),
        )
        .await?;
    for c in carts {
        s.carts.entry(c.user_id).or_default().push((c.product_id, c.quantity));
    }
    let homes: Vec<HomeRow> = tx
        .all(
            "SELECT u.id AS user_id, b.number AS building, h.unit, h.room, h.quarantined, h.hardship, h.elderly \
             FROM users u JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id \
             WHERE u.id IN (SELECT value FROM json_each($1))",
            &[users],
        )
        .await?;
    for h in homes {
        let flags = NeedFlags { quarantined: h.quarantined, hardship: h.hardship, elderly: h.elderly };
        s.homes.insert(h.user_id, Home { building: h.building, unit: h.unit, room: h.room, flags });
    }
    let slots: Vec<SlotRecord> = tx
        .all(
            &format!("SELECT {SLOT_COLUMNS} FROM slots WHERE id IN (SELECT value FROM json_each($1))"),
            &[Arg::json(&jobs.iter().map(|j| j.slot_id).collect::<BTreeSet<_>>())],
        )
        .await?;
    s.slots = slots.into_iter().map(|r| (r.id, r.into_row())).collect();
    let buyers = Arg::json(&claimed.iter().map(|(u, _)| *u).collect::<BTreeSet<_>>());
    let products: Vec<ProductRow> = tx
        .all(
            &format!(
                "{PRODUCT_SELECT} WHERE p.id IN (SELECT product_id FROM cart_items \
                 WHERE user_id IN (SELECT value FROM json_each($1)))"
            ),
            &[buyers],
        )
        .await?;
    s.products = products.into_iter().map(|p| (p.id, p)).collect();
    let numbers: BTreeSet<&str> = jobs.iter().filter_map(CheckoutJob::building).collect();
    #[derive(Deserialize)]
    struct Building {
        number: String,
        id: i64,
    }
    let buildings: Vec<Building> = tx
        .all(
            "SELECT number, MIN(id) AS id FROM buildings WHERE number IN (SELECT value FROM json_each($1)) \
             GROUP BY number",
            &[Arg::json(&numbers)],
        )
        .await?;
    s.buildings = buildings.into_iter().map(|b| (b.number, b.id)).collect();
    let addresses: BTreeSet<(i64, &str, &str)> = jobs
        .iter()
        .filter_map(|j| j.address.as_ref())
        .filter_map(|a| Some((*s.buildings.get(a.building.trim())?, a.unit.trim(), a.room.trim())))
        .collect();
    let addresses: Vec<Value> = addresses.into_iter().map(|(b, u, r)| json!({ "b": b, "u": u, "r": r })).collect();
    let households: Vec<HouseholdRow> = tx
        .all(
            "SELECT h.id, h.building_id, h.unit, h.room, h.quarantined, h.hardship, h.elderly \
             FROM json_each($1) a JOIN households h ON h.building_id = a.value->>'b' \
             AND h.unit = a.value->>'u' AND h.room = a.value->>'r'",
            &[Arg::json(&addresses)],
        )
        .await?;
    for h in households {
        let flags = NeedFlags { quarantined: h.quarantined, hardship: h.hardship, elderly: h.elderly };
        s.households.insert((h.building_id, h.unit, h.room), HouseholdAt { id: h.id, flags });
    }
    // The one writer: the next ids are free until this commit.
    let last: i64 = tx.one("SELECT COALESCE(MAX(id), 0) AS id FROM orders", &[]).await?;
    s.order_ids = (1..=claimed.len() as i64).map(|n| last + n).collect();
    Ok(s)
}

/// Writes what the batch decided: each kind of row with one statement.
async fn sqlite_write(tx: &mut Tx, ch: &CheckoutChanges) -> StoreResult<()> {
    if !ch.slots.is_empty() {
        tx.exec(
            "UPDATE slots SET booked = value->>'booked', priority_booked = value->>'priority_booked' \
             FROM json_each($1) WHERE slots.id = value->>'slot_id'",
            &[Arg::json(&slot_rows(ch))],
        )
        .await?;
    }
    if !ch.stock.is_empty() {
        tx.exec(
            "UPDATE products SET stock = value->>'stock' FROM json_each($1) WHERE products.id = value->>'id'",
            &[Arg::json(&stock_rows(ch))],
        )
        .await?;
    }
    if !ch.homes.is_empty() {
        let homes = Arg::json(&home_rows(ch));
        tx.exec(
            "INSERT INTO households (building_id, unit, room) \
             SELECT value->>'building_id', value->>'unit', value->>'room' FROM json_each($1) \
             WHERE value->>'household_id' IS NULL ON CONFLICT (building_id, unit, room) DO NOTHING",
            std::slice::from_ref(&homes),
        )
        .await?;
        // Only a resident who still has no home: one set meanwhile (PUT /me/household) stays.
        tx.exec(
            "UPDATE users SET household_id = (SELECT h.id FROM households h WHERE h.building_id = value->>'building_id' \
             AND h.unit = value->>'unit' AND h.room = value->>'room') \
             FROM json_each($1) WHERE users.id = value->>'user_id' AND users.household_id IS NULL",
            &[homes],
        )
        .await?;
    }
    write_orders(tx, &ch.orders, |o| Some(o.user_id)).await?;
    if !ch.cart_removals.is_empty() {
        // A line the resident changed meanwhile stays in the cart.
        tx.exec(
            "DELETE FROM cart_items WHERE (user_id, product_id, quantity) IN \
             (SELECT value->>'user_id', value->>'product_id', value->>'quantity' FROM json_each($1))",
            &[Arg::json(&cart_rows(ch))],
        )
        .await?;
    }
    if !ch.key_answers.is_empty() {
        tx.exec(
            "UPDATE idempotency_keys SET answer = value->>'answer' FROM json_each($1) \
             WHERE idempotency_keys.user_id = value->>'user_id' AND idempotency_keys.key = value->>'key'",
            &[Arg::json(&key_rows(ch))],
        )
        .await?;
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
            slot_id: 3,
            payment: shared::order::Payment::OnDelivery,
            address: Some(shared::api::Address { building: " 5 ".into(), unit: "2".into(), room: "301".into() }),
            note: None,
            handoff_code: "000000".into(),
            now: chrono::Utc::now(),
            pay_by: chrono::Utc::now(),
        };
        let v = jobs_json(&[job]);
        assert_eq!(v[0]["k"], "k'1", "a value is data, never SQL text");
        assert_eq!(v[0]["b"], "5");
    }
}
