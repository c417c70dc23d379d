//! The PostgreSQL checkout engine: the checkouts waiting in this process go to the database
//! together, in one transaction: `fxs_checkout_load` claims their keys and locks and returns the
//! rows they need (migration 0005), `domain::checkout::decide` decides them here, and
//! `fxs_checkout_apply` writes what it decided, each kind of row with one statement. One commit;
//! nobody hears "yes" before it. One batch at a time per process, on a connection of its own;
//! while a batch runs, the next one gathers. Several server processes do the same against one
//! database, and the load's lock order keeps their batches from deadlocking.
//!
//! Why batches: on two cores a checkout that was its own transaction cost far more in
//! per-transaction and per-round-trip work than in its own statements, and a hot row stayed
//! locked until each single commit reached the disk (BENCHMARKS.md).

use super::batch::{deliver, gather, jobs_of, submit, Queue, Waiting};
use super::{SlotRecord, StoreError, StoreResult};
use crate::domain::checkout::{
    decide, Answer, CheckoutChanges, CheckoutJob, CheckoutSnapshot, Home, HouseholdAt, ProductRow, StoredKey,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};
use tokio::sync::mpsc;

/// At most this many checkouts share one commit.
const MAX_BATCH: usize = 256;
/// A batch that deadlocks or fails to serialize is tried again, one caller at a time, this often.
const RETRIES: usize = 3;

pub struct CheckoutEngine {
    jobs: mpsc::Sender<Waiting>,
}

fn stopped() -> StoreError {
    StoreError::Broken("the checkout engine has stopped".into())
}

impl CheckoutEngine {
    /// Starts the engine's task; it ends when the engine is dropped.
    pub fn start(options: PgConnectOptions) -> Self {
        let (jobs, queue) = mpsc::channel(8192);
        tokio::spawn(run(options, queue));
        Self { jobs }
    }

    /// These checkouts, decided in this order in one batch (with whatever else is waiting).
    pub async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
        submit(&self.jobs, jobs, stopped).await
    }
}

async fn run(options: PgConnectOptions, mut queue: Queue) {
    let mut conn = None;
    while let Some(first) = queue.recv().await {
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        match commit(&mut conn, &options, &jobs_of(&batch)).await {
            Ok(answers) => deliver(batch, answers),
            Err(e) if batch.len() == 1 && !retryable(&e) => {
                if let Some(w) = batch.into_iter().next() {
                    let _ = w.reply.send(Err(e));
                }
            }
            Err(e) => {
                // Nothing of a failed batch was kept (one transaction): each caller's checkouts
                // are tried again on their own, so one bad checkout or a deadlock between
                // processes fails nobody else.
                if batch.len() > 1 {
                    tracing::warn!(error = %e, size = batch.len(), "checkout batch failed; retrying one by one");
                }
                for w in batch {
                    let result = alone(&mut conn, &options, &w.jobs).await;
                    let _ = w.reply.send(result);
                }
            }
        }
    }
}

/// One caller's checkouts in a transaction of their own; a deadlock or a serialization failure
/// is tried again, up to `RETRIES` times.
async fn alone(
    conn: &mut Option<PgConnection>,
    options: &PgConnectOptions,
    jobs: &[CheckoutJob],
) -> StoreResult<Vec<Answer>> {
    let mut result = commit(conn, options, jobs).await;
    for _ in 0..RETRIES {
        match &result {
            Err(e) if retryable(e) => result = commit(conn, options, jobs).await,
            _ => break,
        }
    }
    result
}

fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// Load (and lock), decide, apply, commit. The connection is made when needed and dropped after
/// any failure, so a broken one is replaced.
async fn commit(
    conn: &mut Option<PgConnection>,
    options: &PgConnectOptions,
    jobs: &[CheckoutJob],
) -> StoreResult<Vec<Answer>> {
    let connection = match conn {
        Some(c) => c,
        None => {
            let options = options.clone().options([("standard_conforming_strings", "on")]);
            conn.insert(PgConnection::connect_with(&options).await?)
        }
    };
    let result = async {
        let started = std::time::Instant::now();
        // Plain text, no arguments: sent with the simple query protocol.
        let loaded = connection.fetch_one(load_script(jobs).as_str()).await?;
        let load = started.elapsed();
        let snapshot = snapshot_from(&loaded.try_get::<String, _>(0)?)?;
        let decision = decide(&snapshot, jobs).map_err(|e| StoreError::Broken(e.to_string()))?;
        let decided = started.elapsed();
        // The writes and the commit in one round trip: the hot rows stay locked one trip less,
        // and another process's batch waits that much less for them.
        let changes = sql_text(&apply_request(&decision.changes).to_string());
        let writing = started.elapsed();
        let script = format!("SELECT fxs_checkout_apply({changes}::jsonb); COMMIT");
        connection.execute(script.as_str()).await?;
        tracing::debug!(
            checkouts = jobs.len(),
            load_us = load.as_micros(),
            decide_us = (decided - load).as_micros(),
            apply_and_commit_us = (started.elapsed() - writing).as_micros(),
            "checkout batch"
        );
        Ok(decision.answers)
    }
    .await;
    if result.is_err() {
        *conn = None;
    }
    result
}

/// `text` as an SQL string literal. The engine's connection has `standard_conforming_strings` on
/// (set when it connects), so only a quote needs doubling. No NUL characters reach here (the
/// routes refuse control characters in notes, keys and addresses; PostgreSQL's text has none).
fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The transaction's start and `fxs_checkout_load` with what it needs of each checkout (one
/// array per field), as one text sent with the simple protocol: one round trip for both.
fn load_script(jobs: &[CheckoutJob]) -> String {
    fn array<T>(items: impl Iterator<Item = T>, item: impl Fn(T) -> String, ty: &str) -> String {
        format!("ARRAY[{}]::{ty}[]", items.map(item).collect::<Vec<_>>().join(","))
    }
    let numbers = |f: fn(&CheckoutJob) -> i64| array(jobs.iter().map(f), |n| n.to_string(), "bigint");
    let texts = |f: fn(&CheckoutJob) -> &str| array(jobs.iter().map(f), sql_text, "text");
    let part = |f: fn(&shared::api::Address) -> &str| {
        let item = |a: Option<&shared::api::Address>| a.map_or_else(|| "NULL".into(), |a| sql_text(f(a).trim()));
        array(jobs.iter().map(|j| j.address.as_ref()), item, "text")
    };
    format!(
        "BEGIN; SELECT fxs_checkout_load({}, {}, {}, {}, {}, {}, {})",
        numbers(|j| j.user_id),
        texts(|j| &j.key),
        texts(|j| &j.request_hash),
        numbers(|j| j.slot_id),
        part(|a| &a.building),
        part(|a| &a.unit),
        part(|a| &a.room),
    )
}

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

fn snapshot_from(text: &str) -> StoreResult<CheckoutSnapshot> {
    let l: Loaded = serde_json::from_str(text)
        .map_err(|e| StoreError::Broken(format!("fxs_checkout_load answered something unexpected: {e}")))?;
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
        "slots": ch.slots.iter().map(|s| json!({ "slot_id": s.slot_id, "booked": s.booked, "priority_booked": s.priority_booked })).collect::<Vec<_>>(),
        "stock": ch.stock.iter().map(|(id, stock)| json!({ "id": id, "stock": stock })).collect::<Vec<_>>(),
        "homes": ch.homes.iter().map(|h| json!({
            "user_id": h.user_id, "building_id": h.building_id, "unit": h.unit, "room": h.room, "household_id": h.household_id,
        })).collect::<Vec<_>>(),
        "orders": orders,
        "lines": lines,
        "parts": parts,
        "events": events,
        "cart": ch.cart_removals.iter().map(|(u, p, q)| json!({ "user_id": u, "product_id": p, "quantity": q })).collect::<Vec<_>>(),
        "keys": ch.key_answers.iter().map(|k| json!({ "user_id": k.user_id, "key": k.key, "status": k.status, "body": k.body })).collect::<Vec<_>>(),
    })
}
