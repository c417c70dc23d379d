//! Delivery batches on either database, written once over `sql.rs`: a slot's orders grouped by
//! building (a group-buy's drop is one batch), claimed by one volunteer, picked up, handed over
//! door by door. The store loads and locks (the batch, then its orders by id); the rules are
//! `domain::delivery`'s.

use super::sql::{args, id_list, Arg, Pool, Row, Tx};
use super::StoreResult;
use crate::domain::delivery::{
    decide_claim, decide_handoff, decide_pickup, BatchSnapshot, Handoff, HandoffSnapshot, Proof,
};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use shared::api::{Batch, Stop, StopItem};
use shared::order::{BatchStatus, OrderStatus};
use std::collections::BTreeMap;

pub struct Batches {
    pool: Pool,
}

/// The orders an open batch gathers: the slot's orders for its building (or its group-buy) that
/// no batch holds yet and that are with the stalls. `$1` slot, `$2` building, `$3` group-buy.
const OPEN_ORDERS: &str = "o.slot_id = $1 AND o.batch_id IS NULL \
     AND o.status IN ('placed', 'paid', 'confirmed', 'packed') AND o.building IS NOT NULL \
     AND ((CAST($3 AS BIGINT) IS NULL AND o.group_buy_id IS NULL AND o.building = $2) OR o.group_buy_id = $3)";

const BATCH: &str = "SELECT b.id, b.slot_id, s.starts_at, b.building, b.group_buy_id, b.status, b.volunteer_id, \
     u.phone, b.created_at, b.claimed_at FROM batches b JOIN slots s ON s.id = b.slot_id \
     LEFT JOIN users u ON u.id = b.volunteer_id";

/// The condition on `orders o` for the orders a batch holds, and its arguments: an open batch's
/// are those it gathers (`OPEN_ORDERS`), a claimed one's its own.
fn held(id: i64, open: bool, slot: i64, building: &str, group_buy: Option<i64>) -> (&'static str, Vec<Arg>) {
    if open {
        (OPEN_ORDERS, args![slot, building, group_buy].to_vec())
    } else {
        ("o.batch_id = $1", args![id].to_vec())
    }
}

impl Batches {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// A slot's batches: open ones are made for every building (and group-buy) with orders no
    /// batch holds yet, so each has an id to claim; then every batch of the slot, in order.
    pub async fn list(&self, slot_id: i64, now: DateTime<Utc>) -> StoreResult<Vec<Batch>> {
        // Pages poll this list: the write (SQLite's one write lock) is taken only when some
        // building's waiting orders have no open batch yet.
        let missing = self
            .pool
            .row(
                "SELECT 1 FROM orders o WHERE o.slot_id = $1 AND o.batch_id IS NULL AND o.building IS NOT NULL \
                 AND o.status IN ('placed', 'paid', 'confirmed', 'packed') AND NOT EXISTS (SELECT 1 FROM batches b \
                 WHERE b.status = 'open' AND b.slot_id = o.slot_id \
                 AND b.building = CASE WHEN o.group_buy_id IS NULL THEN o.building ELSE '' END \
                 AND COALESCE(b.group_buy_id, 0) = COALESCE(o.group_buy_id, 0)) LIMIT 1",
                &args![slot_id],
            )
            .await?;
        if missing.is_some() {
            let mut tx = self.pool.begin().await?;
            tx.exec(
                "INSERT INTO batches (slot_id, building, group_buy_id, status, created_at) \
                 SELECT DISTINCT o.slot_id, CASE WHEN o.group_buy_id IS NULL THEN o.building ELSE '' END, \
                 o.group_buy_id, 'open', $2 FROM orders o WHERE o.slot_id = $1 AND o.batch_id IS NULL \
                 AND o.building IS NOT NULL AND o.status IN ('placed', 'paid', 'confirmed', 'packed') \
                 ON CONFLICT DO NOTHING",
                &args![slot_id, now],
            )
            .await?;
            tx.commit().await?;
        }
        let rows =
            self.pool.rows(&format!("{BATCH} WHERE b.slot_id = $1 ORDER BY b.building, b.id"), &args![slot_id]).await?;
        let mut out = Vec::new();
        for r in &rows {
            let (batch, _) = self.shown(r, false).await?;
            // An open batch whose orders were all cancelled holds nothing: not shown.
            if batch.orders > 0 || batch.status != BatchStatus::Waiting {
                out.push(batch);
            }
        }
        Ok(out)
    }

    /// One batch; with its manifest when `with_manifest` (its volunteer, staff).
    pub async fn batch(&self, id: i64, with_manifest: bool) -> StoreResult<Option<(Batch, Option<i64>)>> {
        let Some(r) = self.pool.row(&format!("{BATCH} WHERE b.id = $1"), &args![id]).await? else { return Ok(None) };
        Ok(Some(self.shown(&r, with_manifest).await?))
    }

    /// The batch as shown, and its volunteer's id.
    async fn shown(&self, r: &Row, with_manifest: bool) -> StoreResult<(Batch, Option<i64>)> {
        let id: i64 = r.get(0)?;
        let slot_id: i64 = r.get(1)?;
        let building: String = r.get(3)?;
        let group_buy_id: Option<i64> = r.get(4)?;
        let stored: String = r.get(5)?;
        let volunteer_id: Option<i64> = r.get(6)?;
        let (which, held_args) = held(id, stored == "open", slot_id, &building, group_buy_id);
        let orders = self
            .pool
            .rows(
                &format!(
                    "SELECT o.id, o.status, o.building, o.unit, o.room, u.phone, o.note, o.handoff_attempts \
                     FROM orders o JOIN users u ON u.id = o.user_id WHERE {which} \
                     ORDER BY o.building, o.unit, o.room, o.id"
                ),
                &held_args,
            )
            .await?;
        let statuses: Vec<OrderStatus> = orders
            .iter()
            .map(|o| o.get::<String>(1).map(|s| OrderStatus::parse(&s).unwrap_or(OrderStatus::Placed)))
            .collect::<Result<_, _>>()?;
        let snapshot = BatchSnapshot {
            id,
            stored,
            volunteer_id,
            orders: orders.iter().zip(&statuses).map(|(o, s)| Ok((o.get(0)?, *s))).collect::<sqlx::Result<_>>()?,
        };
        let label = if group_buy_id.is_some() {
            let mut buildings: Vec<String> =
                orders.iter().filter_map(|o| o.get::<Option<String>>(2).ok().flatten()).collect();
            buildings.dedup();
            buildings.join("、")
        } else {
            building
        };
        let manifest = if with_manifest { Some(self.manifest(&orders, &statuses).await?) } else { None };
        let since: DateTime<Utc> = r.get::<Option<DateTime<Utc>>>(9)?.map_or_else(|| r.get(8), Ok)?;
        Ok((
            Batch {
                id,
                slot_id,
                slot_starts_at: to_api(r.get(2)?),
                building: label,
                group_buy_id,
                orders: orders.len() as i64,
                status: snapshot.status(),
                volunteer: super::masked_phone(r.get(7)?),
                since: to_api(since),
                manifest,
            },
            volunteer_id,
        ))
    }

    async fn manifest(&self, orders: &[Row], statuses: &[OrderStatus]) -> StoreResult<Vec<Stop>> {
        let ids = id_list(orders.iter().filter_map(|o| o.get::<i64>(0).ok()));
        let sql = format!(
            "SELECT order_id, name, unit, quantity - short_quantity FROM order_lines WHERE order_id IN {} \
             ORDER BY order_id, vendor_id, product_id",
            self.pool.ids(1)
        );
        let mut items: BTreeMap<i64, Vec<StopItem>> = BTreeMap::new();
        for l in self.pool.rows(&sql, &args![ids.as_str()]).await? {
            let quantity: i64 = l.get(3)?;
            if quantity > 0 {
                items.entry(l.get(0)?).or_default().push(StopItem { name: l.get(1)?, unit: l.get(2)?, quantity });
            }
        }
        orders
            .iter()
            .zip(statuses)
            .map(|(o, status)| {
                let order_id: i64 = o.get(0)?;
                Ok(Stop {
                    order_id,
                    building: o.get::<Option<String>>(2)?.unwrap_or_default(),
                    unit: o.get::<Option<String>>(3)?.unwrap_or_default(),
                    room: o.get::<Option<String>>(4)?.unwrap_or_default(),
                    phone: super::masked_phone(o.get(5)?),
                    note: o.get(6)?,
                    status: *status,
                    items: items.remove(&order_id).unwrap_or_default(),
                    handoff_attempts: o.get(7)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// A volunteer claims a ready batch; exactly one of several at once gets it.
    pub async fn claim(&self, id: i64, volunteer: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.pool.begin().await?;
        let snapshot = load_batch(&mut tx, id).await?;
        let orders = match decide_claim(snapshot.as_ref()) {
            Ok(orders) => orders,
            Err(r) => return Ok(Err(r)),
        };
        tx.exec(
            "UPDATE batches SET status = 'claimed', volunteer_id = $2, claimed_at = $3 WHERE id = $1",
            &args![id, volunteer, now],
        )
        .await?;
        let sql = format!("UPDATE orders SET batch_id = $1 WHERE id IN {}", tx.ids(2));
        tx.exec(&sql, &args![id, id_list(orders).as_str()]).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The batch's volunteer picks it up: it is out, its orders out for delivery.
    pub async fn pickup(&self, id: i64, volunteer: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.pool.begin().await?;
        let snapshot = load_batch(&mut tx, id).await?;
        let orders = match decide_pickup(snapshot.as_ref(), volunteer) {
            Ok(orders) => orders,
            Err(r) => return Ok(Err(r)),
        };
        tx.exec("UPDATE batches SET status = 'out', picked_up_at = $2 WHERE id = $1", &args![id, now]).await?;
        for order in orders {
            set_status(&mut tx, order, OrderStatus::OutForDelivery, volunteer, now).await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A hand-off at the door (or, nobody home, left there with `note`). Ok(Err): refused,
    /// nothing changed; a wrong code is counted and answered as `wrong_code`.
    pub async fn handoff(
        &self,
        order_id: i64,
        volunteer: i64,
        staff: bool,
        proof: Proof<'_>,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.pool.begin().await?;
        // The batch first, then its orders (this one among them): the order every delivery step
        // locks in. An order's batch never changes once set, so it is read without a lock.
        let batch_id: Option<i64> = match tx.row("SELECT batch_id FROM orders WHERE id = $1", &args![order_id]).await? {
            Some(r) => r.get(0)?,
            None => None,
        };
        let snapshot = match batch_id {
            Some(b) => match load_batch(&mut tx, b).await? {
                Some(batch) => {
                    let o = tx
                        .row(
                            "SELECT status, handoff_code, handoff_attempts FROM orders WHERE id = $1",
                            &args![order_id],
                        )
                        .await?
                        .ok_or_else(|| super::StoreError::Broken("the locked order is gone".into()))?;
                    Some(HandoffSnapshot {
                        order_id,
                        status: OrderStatus::parse(&o.get::<String>(0)?).unwrap_or(OrderStatus::Placed),
                        code: o.get(1)?,
                        attempts: o.get(2)?,
                        batch,
                    })
                }
                None => None,
            },
            None => None,
        };
        match decide_handoff(snapshot.as_ref(), volunteer, staff, proof) {
            Err(r) => Ok(Err(r)),
            Ok(Handoff::Wrong { attempts }) => {
                tx.exec("UPDATE orders SET handoff_attempts = $2 WHERE id = $1", &args![order_id, attempts]).await?;
                tx.commit().await?;
                Ok(Err(Refusal::new(
                    shared::ErrorCode::WrongCode,
                    format!("取货码不对（第{attempts}次）(wrong code, try {attempts} of 5)"),
                )))
            }
            Ok(Handoff::Delivered { batch_done }) => {
                set_status(&mut tx, order_id, OrderStatus::Delivered, volunteer, now).await?;
                tx.exec(
                    "UPDATE orders SET delivered_by = $2, delivered_at = $3, left_at_door = $4, handoff_note = $5 \
                     WHERE id = $1",
                    &args![order_id, volunteer, now, proof == Proof::LeftAtDoor, note],
                )
                .await?;
                if let (true, Some(b)) = (batch_done, batch_id) {
                    tx.exec("UPDATE batches SET status = 'done', done_at = $2 WHERE id = $1", &args![b, now]).await?;
                }
                tx.commit().await?;
                Ok(Ok(()))
            }
        }
    }

    /// Staff let an order take codes again after too many wrong ones. False: no such order.
    pub async fn reset_handoff(&self, order_id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = tx.exec("UPDATE orders SET handoff_attempts = 0 WHERE id = $1", &args![order_id]).await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Every hand-off in a time range, for a volunteer (by phone) and/or a building: who
    /// delivered, when, to which household. What an epidemic investigation asks for.
    pub async fn contacts(
        &self,
        volunteer_phone: Option<&str>,
        building: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<shared::api::Contact>> {
        let rows = self
            .pool
            .rows(
                "SELECT o.id, o.delivered_at, v.phone, o.building, o.unit, o.room, o.left_at_door, o.slot_id \
                 FROM orders o JOIN users v ON v.id = o.delivered_by \
                 WHERE o.delivered_at >= $1 AND o.delivered_at < $2 \
                 AND (CAST($3 AS TEXT) IS NULL OR v.phone = $3) AND (CAST($4 AS TEXT) IS NULL OR o.building = $4) \
                 ORDER BY o.delivered_at, o.id LIMIT 10000",
                &args![from, to, volunteer_phone, building],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(shared::api::Contact {
                    order_id: r.get(0)?,
                    at: to_api(r.get(1)?),
                    volunteer_phone: r.get(2)?,
                    building: r.get::<Option<String>>(3)?.unwrap_or_default(),
                    unit: r.get::<Option<String>>(4)?.unwrap_or_default(),
                    room: r.get::<Option<String>>(5)?.unwrap_or_default(),
                    left_at_door: r.get(6)?,
                    slot_id: r.get(7)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// Records a resident's report on their delivered order. Err: refused (not theirs, not
    /// delivered), nothing recorded.
    pub async fn report_problem(
        &self,
        order_id: i64,
        user_id: i64,
        household: Option<i64>,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let Some(o) = tx
            .row("SELECT user_id, household_id, group_buy_id, status FROM orders WHERE id = $1", &args![order_id])
            .await?
        else {
            return Ok(Err(Refusal::new(shared::ErrorCode::NotFound, "no such order")));
        };
        let owner = super::OrderOwner {
            user_id: o.get(0)?,
            household_id: o.get::<Option<i64>>(2)?.and(o.get::<Option<i64>>(1)?),
        };
        if !owner.is(user_id, household) {
            return Ok(Err(Refusal::new(shared::ErrorCode::NotFound, "no such order")));
        }
        let status = OrderStatus::parse(&o.get::<String>(3)?).unwrap_or(OrderStatus::Placed);
        if !shared::order::may_report_problem(status) {
            return Ok(Err(Refusal::new(
                shared::ErrorCode::WrongState,
                "送达后才能反馈问题 (problems are reported once the order is delivered)",
            )));
        }
        let id: i64 = tx
            .row(
                "INSERT INTO order_problems (order_id, user_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &args![order_id, user_id, text, now],
            )
            .await?
            .ok_or_else(|| super::StoreError::Broken("the new report has no id".into()))?
            .get(0)?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Reports, newest first (staff).
    pub async fn problems(&self) -> StoreResult<Vec<shared::api::Problem>> {
        let rows = self
            .pool
            .rows(
                "SELECT p.id, p.order_id, p.text, p.created_at, o.building, o.unit, o.room, u.phone, v.phone \
                 FROM order_problems p JOIN orders o ON o.id = p.order_id JOIN users u ON u.id = p.user_id \
                 LEFT JOIN users v ON v.id = o.delivered_by ORDER BY p.id DESC LIMIT 500",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(shared::api::Problem {
                    id: r.get(0)?,
                    order_id: r.get(1)?,
                    text: r.get(2)?,
                    created_at: to_api(r.get(3)?),
                    building: r.get(4)?,
                    unit: r.get(5)?,
                    room: r.get(6)?,
                    phone: super::masked_phone(r.get(7)?),
                    delivered_by: super::masked_phone(r.get(8)?),
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// The batch an order is in, if any.
    pub async fn batch_of(&self, order_id: i64) -> StoreResult<Option<i64>> {
        match self.pool.row("SELECT batch_id FROM orders WHERE id = $1", &args![order_id]).await? {
            Some(r) => Ok(r.get(0)?),
            None => Ok(None),
        }
    }
}

/// The batch, locked, with the orders it holds (or, open, those it gathers), locked by id.
async fn load_batch(tx: &mut Tx, id: i64) -> StoreResult<Option<BatchSnapshot>> {
    let sql =
        format!("SELECT slot_id, building, group_buy_id, status, volunteer_id FROM batches WHERE id = $1{}", tx.lock());
    let Some(b) = tx.row(&sql, &args![id]).await? else { return Ok(None) };
    let stored: String = b.get(3)?;
    let (slot, building, group_buy): (i64, String, Option<i64>) = (b.get(0)?, b.get(1)?, b.get(2)?);
    let (which, held_args) = held(id, stored == "open", slot, &building, group_buy);
    let sql = format!("SELECT o.id, o.status FROM orders o WHERE {which} ORDER BY o.id{}", tx.lock());
    let orders = tx.rows(&sql, &held_args).await?;
    Ok(Some(BatchSnapshot {
        id,
        stored,
        volunteer_id: b.get(4)?,
        orders: orders
            .iter()
            .map(|o| Ok((o.get(0)?, OrderStatus::parse(&o.get::<String>(1)?).unwrap_or(OrderStatus::Placed))))
            .collect::<sqlx::Result<_>>()?,
    }))
}

async fn set_status(tx: &mut Tx, order: i64, status: OrderStatus, by: i64, now: DateTime<Utc>) -> StoreResult<()> {
    tx.exec("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1", &args![order, status.as_str(), now])
        .await?;
    tx.exec(super::EVENT_INSERT, &args![order, status.as_str(), now, by]).await?;
    Ok(())
}
