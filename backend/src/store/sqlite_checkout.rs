//! The SQLite checkout engine: one thread with its own connection takes the checkouts that are
//! waiting, loads what they need in one write transaction, lets `domain::checkout::decide`
//! decide them all, writes what it decided and commits once, with a single fsync. Nobody hears
//! "yes" before that commit is on disk. A first order's address becomes the resident's home in
//! the same commit.
//!
//! Why: through sqlx every statement crosses to the driver's worker thread and back, and on
//! two busy cores that hand-off, not SQLite, limits a checkout of ~20 statements to a few
//! hundred a second. Run in-thread with one commit per batch, the same work reaches thousands a
//! second (BENCHMARKS.md).

use super::batch::{deliver, gather, jobs_of, submit, Queue, Waiting};
use super::sessions::Sessions;
use super::{SlotRecord, StoreError, StoreResult};
use crate::domain::checkout::{
    decide, Answer, CheckoutChanges, CheckoutJob, CheckoutSnapshot, Home, HouseholdAt, ProductRow, SlotRow, StoredKey,
};
use crate::domain::slots::NeedFlags;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use shared::Fen;
use std::collections::{BTreeSet, HashSet};
use std::{path::Path, sync::Arc, time::Duration};
use tokio::sync::mpsc;

/// At most this many checkouts share one commit.
const MAX_BATCH: usize = 512;

pub struct CheckoutEngine {
    jobs: mpsc::Sender<Waiting>,
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
    /// `sessions`: a new home changes who a resident is; their remembered session is forgotten
    /// after the commit, before anyone hears the answer.
    pub fn start(path: &Path, sessions: Arc<Sessions>) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        // The same durability as the sqlx connections: WAL, and FULL so a commit survives a power cut.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let (jobs, queue) = mpsc::channel(8192);
        std::thread::Builder::new()
            .name("sqlite-checkout".into())
            .spawn(move || run(&conn, &sessions, queue))
            .map_err(|e| StoreError::Sqlite(format!("starting the checkout thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// These checkouts, decided in this order in one batch (with whatever else is waiting).
    pub async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
        submit(&self.jobs, jobs, stopped).await
    }
}

fn run(conn: &Connection, sessions: &Sessions, mut queue: Queue) {
    while let Some(first) = queue.blocking_recv() {
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        let jobs = jobs_of(&batch);
        tracing::debug!(checkouts = jobs.len(), "checkout batch");
        match commit(conn, sessions, &jobs) {
            Ok(answers) => deliver(batch, answers),
            Err(e) if batch.len() == 1 => {
                if let Some(w) = batch.into_iter().next() {
                    let _ = w.reply.send(Err(e));
                }
            }
            Err(e) => {
                // Nothing of the batch was kept: each caller's checkouts are tried again on
                // their own, so one that cannot be written fails nobody else.
                tracing::warn!(error = %e, size = batch.len(), "checkout batch failed; retrying each on its own");
                for w in batch {
                    let _ = w.reply.send(commit(conn, sessions, &w.jobs));
                }
            }
        }
    }
}

/// Load, decide, write, commit: one transaction, one fsync.
fn commit(conn: &Connection, sessions: &Sessions, jobs: &[CheckoutJob]) -> StoreResult<Vec<Answer>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let decided = load(conn, jobs).map_err(StoreError::from).and_then(|snapshot| {
        let decision = decide(&snapshot, jobs).map_err(|e| StoreError::Broken(e.to_string()))?;
        write(conn, &decision.changes)?;
        Ok(decision)
    });
    let decision = match decided.and_then(|d| conn.execute_batch("COMMIT").map(|()| d).map_err(Into::into)) {
        Ok(d) => d,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    for home in &decision.changes.homes {
        sessions.forget_user(home.user_id);
    }
    Ok(decision.answers)
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

fn flags_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<NeedFlags> {
    Ok(NeedFlags { quarantined: row.get(first)?, hardship: row.get(first + 1)?, elderly: row.get(first + 2)? })
}

/// Claims the batch's Idempotency-Keys and reads everything `decide` needs. Inside the write
/// transaction, so nothing changes underneath.
fn load(c: &Connection, jobs: &[CheckoutJob]) -> rusqlite::Result<CheckoutSnapshot> {
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
        let stored = c
            .prepare_cached(
                "SELECT request_hash, response_status, response_body FROM idempotency_keys \
                 WHERE user_id = $1 AND key = $2",
            )?
            .query_row(named_params! { "$1": j.user_id, "$2": j.key }, |r| {
                Ok(StoredKey { request_hash: r.get(0)?, status: r.get(1)?, body: r.get(2)? })
            })?;
        s.keys.insert((j.user_id, j.key.clone()), stored);
    }
    let users: BTreeSet<i64> = jobs.iter().map(|j| j.user_id).collect();
    for &user in &users {
        let cart = c
            .prepare_cached("SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY product_id")?
            .query_map(named_params! { "$1": user }, |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<(i64, i64)>, _>>()?;
        if buyers.contains(&user) {
            for &(product, _) in &cart {
                if let std::collections::hash_map::Entry::Vacant(place) = s.products.entry(product) {
                    if let Some(p) = product_row(c, product)? {
                        place.insert(p);
                    }
                }
            }
        }
        s.carts.insert(user, cart);
        let home = c
            .prepare_cached(
                "SELECT b.number, h.unit, h.room, h.quarantined, h.hardship, h.elderly FROM users u \
                 JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id WHERE u.id = $1",
            )?
            .query_row(named_params! { "$1": user }, |r| {
                Ok(Home { building: r.get(0)?, unit: r.get(1)?, room: r.get(2)?, flags: flags_at(r, 3)? })
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
    for a in jobs.iter().filter_map(|j| j.address.as_ref()) {
        let number = a.building.trim();
        let building = match s.buildings.get(number) {
            Some(id) => Some(*id),
            None => c
                .prepare_cached("SELECT id FROM buildings WHERE number = $1 ORDER BY id LIMIT 1")?
                .query_row(named_params! { "$1": number }, |r| r.get(0))
                .optional()?,
        };
        let Some(building) = building else { continue };
        s.buildings.insert(number.to_owned(), building);
        let at = (building, a.unit.trim().to_owned(), a.room.trim().to_owned());
        if s.households.contains_key(&at) {
            continue;
        }
        let there = c
            .prepare_cached(
                "SELECT id, quarantined, hardship, elderly FROM households \
                 WHERE building_id = $1 AND unit = $2 AND room = $3",
            )?
            .query_row(named_params! { "$1": at.0, "$2": at.1, "$3": at.2 }, |r| {
                Ok(HouseholdAt { id: r.get(0)?, flags: flags_at(r, 1)? })
            })
            .optional()?;
        if let Some(there) = there {
            s.households.insert(at, there);
        }
    }
    // The one writer: the next ids are free until this commit.
    let last: i64 = c.prepare_cached("SELECT COALESCE(MAX(id), 0) FROM orders")?.query_row([], |r| r.get(0))?;
    s.order_ids = (1..=claimed.len() as i64).map(|n| last + n).collect();
    Ok(s)
}

fn slot_row(c: &Connection, id: i64) -> rusqlite::Result<Option<SlotRow>> {
    c.prepare_cached(
        "SELECT id, kind, starts_at, ends_at, cutoff_at, capacity, booked, priority_capacity, priority_booked, \
         priority_release_at, closed FROM slots WHERE id = $1",
    )?
    .query_row(named_params! { "$1": id }, |r| {
        Ok(SlotRecord {
            id: r.get(0)?,
            kind: r.get(1)?,
            starts_at: time_at(r, 2)?,
            ends_at: time_at(r, 3)?,
            cutoff_at: time_at(r, 4)?,
            capacity: r.get(5)?,
            booked: r.get(6)?,
            priority_capacity: r.get(7)?,
            priority_booked: r.get(8)?,
            priority_release_at: match r.get::<_, Option<String>>(9)? {
                Some(_) => Some(time_at(r, 9)?),
                None => None,
            },
            closed: r.get(10)?,
        }
        .into_row())
    })
    .optional()
}

fn product_row(c: &Connection, id: i64) -> rusqlite::Result<Option<ProductRow>> {
    c.prepare_cached(super::PRODUCT_ROW_SELECT)?
        .query_row(named_params! { "$1": id }, |r| {
            Ok(ProductRow {
                id: r.get(0)?,
                vendor_id: r.get(1)?,
                vendor_name: r.get(2)?,
                name: r.get(3)?,
                unit: r.get(4)?,
                price_fen: Fen::stored(r.get(5)?),
                stock: r.get(6)?,
                per_order_limit: r.get(7)?,
                active: r.get(8)?,
            })
        })
        .optional()
}

/// Writes what the batch decided, row by row: in-thread, a statement costs microseconds.
fn write(c: &Connection, ch: &CheckoutChanges) -> rusqlite::Result<()> {
    for s in &ch.slots {
        c.prepare_cached("UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1")?
            .execute(named_params! { "$1": s.slot_id, "$2": s.booked, "$3": s.priority_booked })?;
    }
    for (product, stock) in &ch.stock {
        c.prepare_cached("UPDATE products SET stock = $2 WHERE id = $1")?
            .execute(named_params! { "$1": product, "$2": stock })?;
    }
    for h in &ch.homes {
        if h.household_id.is_none() {
            c.prepare_cached(
                "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
                 ON CONFLICT (building_id, unit, room) DO NOTHING",
            )?
            .execute(named_params! { "$1": h.building_id, "$2": h.unit, "$3": h.room })?;
        }
        c.prepare_cached(
            "UPDATE users SET household_id = (SELECT id FROM households WHERE building_id = $2 AND unit = $3 \
             AND room = $4) WHERE id = $1 AND household_id IS NULL",
        )?
        .execute(named_params! { "$1": h.user_id, "$2": h.building_id, "$3": h.unit, "$4": h.room })?;
    }
    for o in &ch.orders {
        let now = ts(o.created_at);
        let address = o.address.as_ref();
        c.prepare_cached(super::ORDER_INSERT)?.execute(named_params! {
            "$1": o.id, "$2": o.user_id, "$3": o.slot_id, "$4": o.status.as_str(), "$5": o.payment.as_str(),
            "$6": o.total_fen.get(), "$7": address.map(|a| &a.building), "$8": address.map(|a| &a.unit),
            "$9": address.map(|a| &a.room), "$10": o.note, "$11": o.handoff_code, "$12": o.priority_booking,
            "$13": now, "$14": o.expires_at.map(ts), "$15": None::<i64>, "$16": None::<i64>, "$17": None::<String>,
        })?;
        for l in &o.lines {
            c.prepare_cached(super::LINE_INSERT)?.execute(named_params! {
                "$1": o.id, "$2": l.product_id, "$3": l.vendor_id, "$4": l.name, "$5": l.unit, "$6": l.quantity,
                "$7": l.price_fen.get(),
            })?;
        }
        for p in &o.parts {
            c.prepare_cached(super::PART_INSERT)?.execute(
                named_params! { "$1": o.id, "$2": p.vendor_id, "$3": p.status, "$4": p.subtotal_fen.get(), "$5": now },
            )?;
        }
        for (status, at) in &o.timeline {
            c.prepare_cached(super::EVENT_INSERT)?
                .execute(named_params! { "$1": o.id, "$2": status.as_str(), "$3": ts(*at), "$4": o.user_id })?;
        }
    }
    for (user, product, quantity) in &ch.cart_removals {
        c.prepare_cached("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2 AND quantity = $3")?
            .execute(named_params! { "$1": user, "$2": product, "$3": quantity })?;
    }
    for k in &ch.key_answers {
        c.prepare_cached(
            "UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE user_id = $1 AND key = $2",
        )?
        .execute(named_params! { "$1": k.user_id, "$2": k.key, "$3": k.status, "$4": k.body })?;
    }
    Ok(())
}
