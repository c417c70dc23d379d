//! The SQLite checkout engine: one thread with its own connection takes the checkouts that
//! are waiting, runs each inside a SAVEPOINT of one transaction, and commits them together
//! with a single fsync. Nobody hears "yes" before that commit is on disk.
//!
//! Why: through sqlx every statement crosses to the driver's worker thread and back, and on
//! two busy cores that hand-off, not SQLite, limits a checkout of ~20 statements to a few
//! hundred a second. Run in-thread with one commit per batch, the same statements reach
//! thousands a second (see perf-facts.md and BENCHMARKS.md). The SQL is the same text as the
//! sqlx stores use (`shopping.rs`).

use super::shopping::{
    build_order, OrderLineRow, OrderPartRow, OrderRow, CART_LINES, CART_LINE_DELETE, EVENTS_SELECT, EVENT_INSERT,
    KEY_ANSWER, KEY_INSERT, KEY_SELECT, LINES_SELECT, LINE_INSERT, ORDER_INSERT, ORDER_SELECT, PARTS_SELECT,
    PART_INSERT, PRODUCT_NAME, SLOT_STATE, SLOT_TAKE, STOCK_TAKE,
};
use super::{CheckoutInput, CheckoutOutcome, StoreError, StoreResult};
use crate::domain::checkout::Refusal;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use shared::api::Order;
use shared::order::OrderStatus;
use std::{collections::BTreeMap, path::Path, time::Duration};
use tokio::sync::{mpsc, oneshot};

/// At most this many checkouts share one commit.
const MAX_BATCH: usize = 512;

struct Job {
    input: CheckoutInput,
    reply: oneshot::Sender<StoreResult<CheckoutOutcome>>,
}

pub struct CheckoutEngine {
    jobs: mpsc::Sender<Job>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

fn stopped() -> StoreError {
    StoreError::Sqlite("the checkout engine has stopped".into())
}

impl CheckoutEngine {
    pub fn start(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        // The same durability as the sqlx connections: WAL, and FULL so a commit survives a power cut.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let (jobs, queue) = mpsc::channel(8192);
        std::thread::Builder::new()
            .name("sqlite-checkout".into())
            .spawn(move || run(conn, queue))
            .map_err(|e| StoreError::Sqlite(format!("starting the checkout thread: {e}")))?;
        Ok(Self { jobs })
    }

    pub async fn checkout(&self, input: CheckoutInput) -> StoreResult<CheckoutOutcome> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { input, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn run(conn: Connection, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let batch = super::with_waiting(first, &mut queue, MAX_BATCH);
        let results = commit_batch(&conn, &batch);
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// Every checkout of the batch in its own savepoint, then one commit for all.
fn commit_batch(conn: &Connection, batch: &[Job]) -> Vec<StoreResult<CheckoutOutcome>> {
    let all_failed = |e: rusqlite::Error| batch.iter().map(|_| Err(StoreError::Sqlite(e.to_string()))).collect();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return all_failed(e);
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let one = conn.execute_batch("SAVEPOINT job").and_then(|()| checkout_one(conn, &job.input));
        match one {
            Ok(outcome) => {
                if let Err(e) = conn.execute_batch("RELEASE job") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return all_failed(e);
                }
                results.push(Ok(outcome));
            }
            Err(e) => {
                tracing::error!(error = %e, "checkout failed inside its batch");
                if conn.execute_batch("ROLLBACK TO job; RELEASE job").is_err() {
                    let _ = conn.execute_batch("ROLLBACK");
                    return all_failed(e);
                }
                results.push(Err(StoreError::from(e)));
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => results,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            all_failed(e)
        }
    }
}

/// The form sqlx writes `DateTime<Utc>` in, so both drivers' times compare as text.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn time_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(idx)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

fn checkout_one(c: &Connection, i: &CheckoutInput) -> rusqlite::Result<CheckoutOutcome> {
    let now = ts(i.now);
    let fresh = c.prepare_cached(KEY_INSERT)?.execute(named_params! {
        "$1": i.user_id, "$2": i.key, "$3": i.request_hash, "$4": now,
    })?;
    if fresh == 0 {
        let (hash, status, body): (String, Option<i64>, Option<String>) = c
            .prepare_cached(KEY_SELECT)?
            .query_row(named_params! { "$1": i.user_id, "$2": i.key }, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        return Ok(if hash != i.request_hash {
            CheckoutOutcome::KeyMismatch
        } else {
            match (status, body) {
                (Some(status), Some(body)) => CheckoutOutcome::Answer { status: status as u16, body },
                _ => CheckoutOutcome::KeyInUse,
            }
        });
    }
    c.execute_batch("SAVEPOINT checkout")?;
    let (status, body, outcome) = match take_and_place(c, i, &now)? {
        Ok(order_id) => {
            let (_, order) = load_order(c, order_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            let body = serde_json::to_string(&order).unwrap_or_default();
            (201, body, CheckoutOutcome::Created(Box::new(order)))
        }
        Err(refusal) => {
            c.execute_batch("ROLLBACK TO checkout")?;
            (refusal.status(), refusal.body(), CheckoutOutcome::Refused(refusal))
        }
    };
    c.execute_batch("RELEASE checkout")?;
    c.prepare_cached(KEY_ANSWER)?.execute(named_params! {
        "$1": i.user_id, "$2": i.key, "$3": i64::from(status), "$4": body,
    })?;
    Ok(outcome)
}

fn take_and_place(c: &Connection, i: &CheckoutInput, now: &str) -> rusqlite::Result<Result<i64, Refusal>> {
    let cart: Vec<(i64, i64)> = c
        .prepare_cached(CART_LINES)?
        .query_map(named_params! { "$1": i.user_id }, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if cart.is_empty() {
        return Ok(Err(Refusal::CartEmpty));
    }
    let kind: Option<String> = c
        .prepare_cached(SLOT_TAKE)?
        .query_row(named_params! { "$1": i.slot_id, "$2": now, "$3": i.priority }, |r| r.get(0))
        .optional()?;
    let Some(kind) = kind else {
        let state: Option<(bool, DateTime<Utc>)> = c
            .prepare_cached(SLOT_STATE)?
            .query_row(named_params! { "$1": i.slot_id }, |r| Ok((r.get(0)?, time_at(r, 1)?)))
            .optional()?;
        return Ok(Err(match state {
            None => Refusal::NoSuchSlot,
            Some((closed, cutoff)) if closed || cutoff <= i.now => Refusal::SlotClosed,
            Some(_) => Refusal::SlotFull,
        }));
    };
    let address = if kind == "delivery" {
        match &i.address {
            Some(a) => Some(a.clone()),
            None => return Ok(Err(Refusal::AddressNeeded)),
        }
    } else {
        None
    };
    let mut lines = Vec::with_capacity(cart.len());
    for (product_id, quantity) in &cart {
        let taken: Option<(i64, String, String, i64, Option<i64>)> = c
            .prepare_cached(STOCK_TAKE)?
            .query_row(named_params! { "$1": product_id, "$2": quantity }, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((vendor_id, name, unit, price_fen, limit)) = taken else {
            let name: Option<String> = c
                .prepare_cached(PRODUCT_NAME)?
                .query_row(named_params! { "$1": product_id }, |r| r.get(0))
                .optional()?;
            return Ok(Err(Refusal::OutOfStock { name: name.unwrap_or_default() }));
        };
        if let Some(limit) = limit.filter(|l| quantity > l) {
            return Ok(Err(Refusal::OverLimit { name, limit }));
        }
        lines.push((*product_id, *quantity, vendor_id, name, unit, price_fen));
    }
    let total: i64 = lines.iter().map(|l| l.1 * l.5).sum();
    let status = i.payment.initial_status();
    let expires = if status == OrderStatus::PendingPayment { i.expires_at.map(ts) } else { None };
    let note = i.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let order_id: i64 = c.prepare_cached(ORDER_INSERT)?.query_row(
        named_params! {
            "$1": i.user_id, "$2": i.slot_id, "$3": status.as_str(), "$4": i.payment.as_str(), "$5": total,
            "$6": address.as_ref().map(|a| a.building.trim()), "$7": address.as_ref().map(|a| a.unit.trim()),
            "$8": address.as_ref().map(|a| a.room.trim()), "$9": note, "$10": i.handoff_code, "$11": i.priority,
            "$12": now, "$13": expires,
        },
        |r| r.get(0),
    )?;
    let mut subtotals: BTreeMap<i64, i64> = BTreeMap::new();
    for (product_id, quantity, vendor_id, name, unit, price_fen) in &lines {
        c.prepare_cached(LINE_INSERT)?.execute(named_params! {
            "$1": order_id, "$2": product_id, "$3": vendor_id, "$4": name, "$5": unit, "$6": quantity, "$7": price_fen,
        })?;
        *subtotals.entry(*vendor_id).or_default() += quantity * price_fen;
        c.prepare_cached(CART_LINE_DELETE)?
            .execute(named_params! { "$1": i.user_id, "$2": product_id, "$3": quantity })?;
    }
    for (vendor_id, subtotal) in subtotals {
        c.prepare_cached(PART_INSERT)?
            .execute(named_params! { "$1": order_id, "$2": vendor_id, "$3": subtotal, "$4": now })?;
    }
    c.prepare_cached(EVENT_INSERT)?.execute(named_params! {
        "$1": order_id, "$2": status.as_str(), "$3": now, "$4": i.user_id,
    })?;
    Ok(Ok(order_id))
}

fn load_order(c: &Connection, id: i64) -> rusqlite::Result<Option<(i64, Order)>> {
    let row = c
        .prepare_cached(ORDER_SELECT)?
        .query_row(named_params! { "$1": id }, |r| {
            Ok(OrderRow {
                id: r.get(0)?,
                user_id: r.get(1)?,
                status: r.get(2)?,
                payment: r.get(3)?,
                total_fen: r.get(4)?,
                slot_id: r.get(5)?,
                slot_kind: r.get(6)?,
                slot_starts_at: time_at(r, 7)?,
                slot_ends_at: time_at(r, 8)?,
                building: r.get(9)?,
                unit: r.get(10)?,
                room: r.get(11)?,
                note: r.get(12)?,
                handoff_code: r.get(13)?,
                created_at: time_at(r, 14)?,
                expires_at: match r.get::<_, Option<String>>(15)? {
                    Some(_) => Some(time_at(r, 15)?),
                    None => None,
                },
            })
        })
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let lines = c
        .prepare_cached(LINES_SELECT)?
        .query_map(named_params! { "$1": id }, |r| {
            Ok(OrderLineRow {
                product_id: r.get(0)?,
                vendor_id: r.get(1)?,
                name: r.get(2)?,
                unit: r.get(3)?,
                quantity: r.get(4)?,
                price_fen: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let parts = c
        .prepare_cached(PARTS_SELECT)?
        .query_map(named_params! { "$1": id }, |r| {
            Ok(OrderPartRow {
                vendor_id: r.get(0)?,
                vendor_name: r.get(1)?,
                status: r.get(2)?,
                subtotal_fen: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let events = c
        .prepare_cached(EVENTS_SELECT)?
        .query_map(named_params! { "$1": id }, |r| Ok((r.get::<_, String>(0)?, time_at(r, 1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(build_order(row, lines, parts, events)))
}
