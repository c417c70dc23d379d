//! A stall's console: the parts of orders for
//! one stall, and its steps on them (confirm with shortages, pack), decided by
//! `domain::stall::decide_part_step` over the order the store locks.

use crate::domain::order::LineRecord;
use crate::domain::stall::{decide_part_step, PartSnapshot, Refusal};
use crate::domain::time::to_api;
use crate::store::checkout::orders::add_event;
use crate::store::db::{args, Arg, Db, Tx};
use crate::store::money::{donations::POOL_RETURN_INSERT, payments::SHORTAGE_REFUND_INSERT};
use crate::store::{masked_phone, StoreResult};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{VendorLine, VendorPart};
use shared::order::{OrderStatus, PartStep};
use shared::Fen;
use std::collections::BTreeMap;

/// A step on an order, once for each stall the order has a part at.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StallEvent {
    pub id: i64,
    pub order_id: i64,
    pub status: String,
    pub slot_id: i64,
    pub vendor_id: i64,
    pub part_id: i64,
}

pub struct Stalls {
    db: Db,
}

/// The parts of a stall, with their orders' address and the resident's phone, in slot and
/// address order. `$1`: the stall; `$2`: a slot or NULL; `$3`: a part or NULL.
/// A stall's parts with their orders, slots and residents; each read below adds where the rows
/// come from, on a key: a slot's orders (`orders_slot`), one part, the slots not yet 12 hours
/// over, or the orders still open (`orders_expiry`'s leading status). A catch-all `($2 IS NULL OR
/// ...)` instead made both planners walk every part the stall ever had: 80 ms at full size,
/// which 85 consoles refreshing saturated the server with (`rush --morning`).
const PARTS: &str = "SELECT p.id, p.order_id, o.status AS order_status, p.status, o.slot_id, \
     s.starts_at AS slot_starts_at, o.building, o.community, o.unit, o.room, u.phone, o.note, o.group_buy_id, p.subtotal_fen, \
     pp.name AS pickup_point FROM orders o JOIN order_parts p ON p.order_id = o.id AND p.vendor_id = $1 \
     JOIN slots s ON s.id = o.slot_id JOIN users u ON u.id = o.user_id \
     LEFT JOIN pickup_points pp ON pp.id = o.pickup_point_id WHERE ";
/// Orders a stall works on: placed and paid onwards (not waiting for payment, cancelled, expired).
const WORKED: &str = "o.status NOT IN ('pending_payment', 'cancelled', 'expired')";
/// Orders still on their way to the door.
const OPEN: &str = "o.status IN ('placed', 'paid', 'confirmed', 'packed', 'out_for_delivery')";

impl Stalls {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The stall's parts of orders that are with the stalls or past them (not waiting for
    /// payment, cancelled or expired), for one slot; or, without a slot, those still open and
    /// those of slots that ended in the last 12 hours (the stall's work, not its history).
    pub async fn parts(
        &self,
        vendor_id: i64,
        slot_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<VendorPart>> {
        self.read(vendor_id, slot_id, None, now - chrono::Duration::hours(12)).await
    }

    /// The newest step on any order (the order timeline's last id); 0 when there is none.
    pub async fn last_event(&self) -> StoreResult<i64> {
        Ok(self.db.one("SELECT COALESCE(MAX(id), 0) AS id FROM order_events", &args![]).await?)
    }

    /// The steps on orders after `after`, and those among `late` (ids skipped earlier that may
    /// have committed since: on PostgreSQL a step can commit after a later-numbered one), with
    /// each stall the order has a part at. What a stall's live feed tells its consoles.
    pub async fn events_since(&self, after: i64, late: &[i64]) -> StoreResult<Vec<StallEvent>> {
        // Two reads, each on the timeline's key: one `OR` between them would scan the whole
        // timeline (a month of a full-size market: 700,000 steps) four times a second.
        const SELECT: &str = "SELECT e.id, e.order_id, e.status, o.slot_id, p.vendor_id, p.id AS part_id \
             FROM order_events e JOIN orders o ON o.id = e.order_id JOIN order_parts p ON p.order_id = e.order_id WHERE ";
        let mut events: Vec<StallEvent> =
            self.db.all(&format!("{SELECT}e.id > $1 ORDER BY e.id, p.vendor_id LIMIT 5000"), &args![after]).await?;
        if !late.is_empty() {
            let sql = format!("{SELECT}e.id IN {} ORDER BY e.id, p.vendor_id", self.db.list(1));
            events.extend(self.db.all::<StallEvent>(&sql, &[Arg::json(&late)]).await?);
        }
        events.sort_by_key(|e| (e.id, e.vendor_id));
        events.dedup_by_key(|e| (e.id, e.vendor_id));
        Ok(events)
    }

    /// One part of the stall's; None: not the stall's, or not there.
    pub async fn part(&self, vendor_id: i64, part_id: i64) -> StoreResult<Option<VendorPart>> {
        Ok(self.read(vendor_id, None, Some(part_id), DateTime::<Utc>::UNIX_EPOCH).await?.pop())
    }

    async fn read(
        &self,
        vendor_id: i64,
        slot_id: Option<i64>,
        part_id: Option<i64>,
        ended_since: DateTime<Utc>,
    ) -> StoreResult<Vec<VendorPart>> {
        #[derive(Deserialize)]
        struct PartRow {
            id: i64,
            order_id: i64,
            order_status: OrderStatus,
            status: String,
            slot_id: i64,
            slot_starts_at: DateTime<Utc>,
            building: Option<String>,
            community: Option<String>,
            unit: Option<String>,
            room: Option<String>,
            phone: Option<String>,
            note: Option<String>,
            group_buy_id: Option<i64>,
            subtotal_fen: Fen,
            pickup_point: Option<String>,
        }
        #[derive(Deserialize)]
        struct LineRow {
            order_id: i64,
            product_id: i64,
            name: String,
            unit: String,
            quantity: i64,
            price_fen: Fen,
            short_quantity: i64,
        }
        let mut rows: Vec<PartRow> = match (slot_id, part_id) {
            (_, Some(part)) => self.db.all(&format!("{PARTS}p.id = $2 AND {WORKED}"), &args![vendor_id, part]).await?,
            (Some(slot), None) => {
                self.db.all(&format!("{PARTS}o.slot_id = $2 AND {WORKED}"), &args![vendor_id, slot]).await?
            }
            (None, None) => {
                let recent = format!("{PARTS}o.slot_id IN (SELECT id FROM slots WHERE ends_at >= $2) AND {WORKED}");
                let mut rows: Vec<PartRow> = self.db.all(&recent, &args![vendor_id, ended_since]).await?;
                let older = format!("{PARTS}{OPEN} AND s.ends_at < $2");
                rows.extend(self.db.all::<PartRow>(&older, &args![vendor_id, ended_since]).await?);
                rows
            }
        };
        rows.sort_by(|a, b| {
            (a.slot_starts_at, a.slot_id, &a.building, &a.unit, &a.room, a.order_id).cmp(&(
                b.slot_starts_at,
                b.slot_id,
                &b.building,
                &b.unit,
                &b.room,
                b.order_id,
            ))
        });
        rows.truncate(5000);
        let orders: Vec<i64> = rows.iter().map(|r| r.order_id).collect();
        let lines: Vec<LineRow> = if orders.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT l.order_id, l.product_id, l.name, l.unit, l.quantity, l.price_fen, l.short_quantity \
                 FROM order_lines l WHERE l.order_id IN {} AND l.vendor_id = $2 ORDER BY l.order_id, l.product_id",
                self.db.list(1)
            );
            self.db.all(&sql, &[Arg::json(&orders), Arg::Int(vendor_id)]).await?
        };
        #[derive(Deserialize)]
        struct Recalled {
            order_id: i64,
            product_id: i64,
            lot_id: i64,
            hold_reason: Option<String>,
        }
        let recalled: Vec<Recalled> = if orders.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT x.order_id, x.line_product_id AS product_id, x.lot_id, l.hold_reason FROM order_line_lots x \
                 JOIN lots l ON l.id = x.lot_id \
                 JOIN order_lines ol ON ol.order_id = x.order_id AND ol.product_id = x.line_product_id \
                 WHERE x.order_id IN {} AND ol.vendor_id = $2 AND l.held_at IS NOT NULL ORDER BY x.lot_id",
                self.db.list(1)
            );
            self.db.all(&sql, &[Arg::json(&orders), Arg::Int(vendor_id)]).await?
        };
        let mut recalls: BTreeMap<(i64, i64), String> = BTreeMap::new();
        for r in recalled {
            let why =
                format!("批次 {} 已召回 (lot {} recalled): {}", r.lot_id, r.lot_id, r.hold_reason.unwrap_or_default());
            recalls.entry((r.order_id, r.product_id)).or_insert(why);
        }
        let mut by_order: BTreeMap<i64, Vec<VendorLine>> = BTreeMap::new();
        for l in lines {
            by_order.entry(l.order_id).or_default().push(VendorLine {
                product_id: shared::ProductId(l.product_id),
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: l.price_fen,
                short_quantity: l.short_quantity,
                recalled: recalls.remove(&(l.order_id, l.product_id)),
            });
        }
        Ok(rows
            .into_iter()
            .map(|r| VendorPart {
                id: shared::PartId(r.id),
                order_id: shared::OrderId(r.order_id),
                order_status: r.order_status,
                status: r.status,
                slot_id: shared::SlotId(r.slot_id),
                slot_starts_at: to_api(r.slot_starts_at),
                building: r.building,
                community: r.community,
                unit: r.unit,
                room: r.room,
                // Masked: the stall needs to recognise a household, not to call it.
                phone: masked_phone(r.phone),
                note: r.note,
                group_buy_id: r.group_buy_id.map(shared::GroupBuyId),
                pickup_point: r.pickup_point,
                items: by_order.remove(&r.order_id).unwrap_or_default(),
                subtotal_fen: r.subtotal_fen,
            })
            .collect())
    }

    /// A stall's step on one of its parts, decided over the order locked with its parts and the
    /// stall's lines. Err: refused, nothing changed.
    pub async fn step(
        &self,
        vendor_id: i64,
        part_id: i64,
        step: PartStep,
        shortages: &[(shared::ProductId, i64)],
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.db.begin().await?;
        let snapshot = load_part(&mut tx, part_id).await?;
        let change = match decide_part_step(snapshot.as_ref(), vendor_id, step, shortages) {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(s) = snapshot else { return Ok(Ok(())) };
        tx.exec(
            "UPDATE order_parts SET status = $2, subtotal_fen = $3, updated_at = $4 WHERE id = $1",
            &args![part_id, change.part_status, change.part_subtotal, now],
        )
        .await?;
        for &(product, short) in &change.shortages {
            tx.exec(
                "UPDATE order_lines SET short_quantity = $3 WHERE order_id = $1 AND product_id = $2",
                &args![s.order_id, product, short],
            )
            .await?;
        }
        tx.exec(
            "UPDATE orders SET status = $2, total_fen = $3, updated_at = $4 WHERE id = $1",
            &args![s.order_id, change.order_status.as_str(), change.order_total, now],
        )
        .await?;
        if change.order_moved {
            add_event(&mut tx, shared::OrderId(s.order_id), change.order_status, now, Some(by)).await?;
        }
        // Packed now: each line is drawn from the product's lots, oldest first.
        let to_pack: Vec<(i64, i64)> = change.to_pack.iter().map(|(p, q)| (p.get(), *q)).collect();
        crate::store::supply::draw_lots(&mut tx, s.order_id, &to_pack).await?;
        if let Some(amount) = change.refund_fen {
            tx.exec(SHORTAGE_REFUND_INSERT, &args![s.order_id, amount, now, format!("-S{part_id}")]).await?;
            tx.exec(
                POOL_RETURN_INSERT,
                &args![s.order_id, amount, now, format!("P{}-S{part_id}", s.order_id), "shortage"],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// The part, its order (locked on PostgreSQL), every part's stall and status, the stall's lines.
async fn load_part(tx: &mut Tx, part_id: i64) -> StoreResult<Option<PartSnapshot>> {
    #[derive(Deserialize)]
    struct Part {
        order_id: i64,
        vendor_id: i64,
    }
    #[derive(Deserialize)]
    struct Order {
        status: OrderStatus,
        total_fen: Fen,
    }
    #[derive(Deserialize)]
    struct Stall {
        vendor_id: i64,
        status: String,
    }
    let sql = "SELECT order_id, vendor_id FROM order_parts WHERE id = $1";
    let Some(Part { order_id, vendor_id }) = tx.opt(sql, &args![part_id]).await? else { return Ok(None) };
    let sql = tx.locked("SELECT status, total_fen FROM orders WHERE id = $1");
    let Some(order) = tx.opt::<Order>(&sql, &args![order_id]).await? else { return Ok(None) };
    let parts: Vec<Stall> = tx
        .all("SELECT vendor_id, status FROM order_parts WHERE order_id = $1 ORDER BY vendor_id", &args![order_id])
        .await?;
    let lines: Vec<LineRecord> = tx
        .all(
            "SELECT product_id, vendor_id, name, unit, quantity, price_fen, short_quantity AS short FROM order_lines \
             WHERE order_id = $1 AND vendor_id = $2 ORDER BY product_id",
            &args![order_id, vendor_id],
        )
        .await?;
    Ok(Some(PartSnapshot {
        part_id,
        order_id,
        vendor_id,
        order_status: order.status,
        order_total: order.total_fen,
        parts: parts.into_iter().map(|p| (p.vendor_id, p.status)).collect(),
        lines,
    }))
}
