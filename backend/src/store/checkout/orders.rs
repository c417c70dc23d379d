//! Orders: checkouts (through the engine, `engine.rs`), a resident's orders, one order with
//! everything shown about it, and ending an order early (a resident's cancel, the expiry of an
//! unpaid one) as `domain::order` decides over the rows locked. Also the writes every area makes
//! of an order: a new order's rows (`write_orders`, for the SQLite engine and group-buys) and a
//! step of its timeline (`add_event`).

use super::engine::Engine;
use crate::domain::checkout::{Answer, CheckoutJob};
use crate::domain::order::{
    decide_cancel, decide_expiry, CancelDecision, EndingSnapshot, GiveBack, GroupBuyOrigin, LineRecord, OrderRecord,
    PartRecord,
};
use crate::store::db::{args, Arg, Db, Tx};
use crate::store::money::{donations::POOL_RETURN_INSERT, payments::CANCEL_REFUND_INSERT};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use shared::api::{Address, Order, OrderSummary};
use shared::order::{OrderStatus, Payment, SlotKind};
use shared::{Fen, GroupBuyId, HouseholdId, OrderId, ProductId, SlotId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    NotFound,
    NotCancellable(OrderStatus),
}

/// Whose an order is: the resident who placed it, and for a group-buy order the household
/// whose share it was (every member of the household may see it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderOwner {
    pub user_id: i64,
    pub household_id: Option<i64>,
}

impl OrderOwner {
    /// Whether this user, living in `household`, may see the order as its owner.
    pub fn is(&self, user_id: i64, household: Option<i64>) -> bool {
        self.user_id == user_id || (self.household_id.is_some() && self.household_id == household)
    }
}

pub struct Orders {
    db: Db,
    engine: Engine,
}

impl Orders {
    /// Checkouts waiting in the engine's queue now.
    pub fn waiting(&self) -> usize {
        self.engine.waiting()
    }

    pub fn new(db: Db, engine: Engine) -> Self {
        Self { db, engine }
    }

    /// Each checkout takes its resident's whole cart in one atomic step (slot place, every line's
    /// stock, the order) or nothing, as `domain::checkout::decide` says; these are decided
    /// together, in this order, in one commit. One answer per checkout, in the same order.
    pub async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
        self.engine.checkout(jobs).await
    }

    /// Stops the checkout engine (the server is stopping).
    pub(crate) async fn stop(&self) {
        self.engine.stop().await;
    }

    /// The resident's orders and their household's group-buy orders, newest first: at most
    /// `limit` with ids below `before`, and the id to go on from when there are more. A
    /// household's group-buy orders are every member's, whoever joined or placed the share.
    pub async fn for_user(
        &self,
        user_id: i64,
        household_id: Option<i64>,
        limit: i64,
        before: Option<i64>,
    ) -> StoreResult<(Vec<OrderSummary>, Option<i64>)> {
        let rows: Vec<SummaryRow> = self
            .db
            .all(
                "SELECT o.id, o.status, o.total_fen, o.slot_id, s.starts_at AS slot_starts_at, \
                 (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id) AS item_count, o.created_at, \
                 o.group_buy_id FROM orders o JOIN slots s ON s.id = o.slot_id \
                 WHERE (o.user_id = $1 OR (o.household_id = $2 AND o.group_buy_id IS NOT NULL)) \
                 AND o.id < $3 ORDER BY o.id DESC LIMIT $4",
                &args![user_id, household_id, before.unwrap_or(i64::MAX), limit + 1],
            )
            .await?;
        let more = rows.len() as i64 > limit;
        let shown: Vec<OrderSummary> = rows.into_iter().take(limit as usize).map(SummaryRow::into_api).collect();
        let next = if more { shown.last().map(|o| o.id.get()) } else { None };
        Ok((shown, next))
    }

    /// The order and whose it is.
    pub async fn get(&self, id: i64) -> StoreResult<Option<(OrderOwner, Order)>> {
        let Some(record) = self.record(id).await? else { return Ok(None) };
        let owner = OrderOwner {
            user_id: record.user_id,
            household_id: record.group_buy.as_ref().map(|g| g.household_id.get()),
        };
        let mut order = record.to_api();
        // Each line with its product's photo as it is now, when it has one.
        #[derive(Deserialize)]
        struct Photo {
            product_id: ProductId,
            photo: String,
        }
        let photos: Vec<Photo> = self
            .db
            .all(
                "SELECT l.product_id, p.photo FROM order_lines l JOIN products p ON p.id = l.product_id \
                 WHERE l.order_id = $1 AND p.photo IS NOT NULL",
                &args![id],
            )
            .await?;
        for line in &mut order.items {
            line.photo = photos.iter().find(|p| p.product_id == line.product_id).map(|p| crate::photos::urls(&p.photo));
        }
        Ok(Some((owner, order)))
    }

    /// The order with everything shown about it.
    pub async fn record(&self, id: i64) -> StoreResult<Option<OrderRecord>> {
        let Some(order) = self.db.opt::<OrderRow>(ORDER_SELECT, &args![id]).await? else { return Ok(None) };
        let lines = self.db.all(LINES_SELECT, &args![id]).await?;
        let parts = self.db.all(PARTS_SELECT, &args![id]).await?;
        let events = self.db.all(EVENTS_SELECT, &args![id]).await?;
        Ok(Some(order.into_record(lines, parts, events)))
    }

    /// A resident cancels their own order, as `domain::order::decide_cancel` allows.
    pub async fn cancel(&self, id: i64, user_id: i64, now: DateTime<Utc>) -> StoreResult<CancelOutcome> {
        let mut tx = self.db.begin().await?;
        let order = load_ending(&mut tx, id).await?;
        match decide_cancel(order.as_ref(), user_id, now) {
            CancelDecision::Cancel(back) => {
                give_back(&mut tx, &back).await?;
                tx.commit().await?;
                Ok(CancelOutcome::Cancelled)
            }
            CancelDecision::NotFound => Ok(CancelOutcome::NotFound),
            CancelDecision::NotCancellable(status) => Ok(CancelOutcome::NotCancellable(status)),
        }
    }

    /// Expires unpaid orders past their time, giving back stock and slot places. Returns their ids.
    pub async fn expire_unpaid(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>> {
        let due: Vec<i64> = self
            .db
            .all(
                "SELECT id FROM orders WHERE status = 'pending_payment' AND expires_at <= $1 \
                 ORDER BY expires_at LIMIT $2",
                &args![now, limit],
            )
            .await?;
        let mut expired = Vec::new();
        for id in due {
            let mut tx = self.db.begin().await?;
            // Decided on the order as locked now: a payment or a cancel that got there first wins.
            let Some(order) = load_ending(&mut tx, id).await? else { continue };
            if let Some(back) = decide_expiry(&order, now) {
                give_back(&mut tx, &back).await?;
                tx.commit().await?;
                expired.push(id);
            }
        }
        Ok(expired)
    }
}

// ---------- reading an order ----------

const ORDER_SELECT: &str = "SELECT o.id, o.user_id, o.status, o.payment, o.total_fen, o.slot_id, \
     s.kind AS slot_kind, s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at, o.building, o.unit, o.room, \
     o.community, o.note, o.handoff_code, o.priority_booking, o.created_at, o.expires_at, o.group_buy_id, o.household_id, \
     o.placed_by_label, o.left_at_door, o.handoff_note, o.standing_order_id, o.door_photo, \
     EXISTS (SELECT 1 FROM pool_allocations a WHERE a.order_id = o.id) AS paid_by_donations, \
     o.pickup_point_id, pp.name AS point_name, pp.address AS point_address, pp.opens AS point_opens, \
     pp.closes AS point_closes, o.at_point_at, o.collect_by \
     FROM orders o JOIN slots s ON s.id = o.slot_id LEFT JOIN pickup_points pp ON pp.id = o.pickup_point_id \
     WHERE o.id = $1";
const LINES_SELECT: &str = "SELECT product_id, vendor_id, name, unit, quantity, price_fen, short_quantity \
     FROM order_lines WHERE order_id = $1 ORDER BY vendor_id, product_id";
const PARTS_SELECT: &str = "SELECT p.vendor_id, v.name AS vendor_name, p.status, p.subtotal_fen FROM order_parts p \
     JOIN vendors v ON v.id = p.vendor_id WHERE p.order_id = $1 ORDER BY p.vendor_id";
const EVENTS_SELECT: &str = "SELECT status, at FROM order_events WHERE order_id = $1 ORDER BY id";

#[derive(Deserialize)]
struct OrderRow {
    id: OrderId,
    user_id: i64,
    status: OrderStatus,
    payment: Payment,
    total_fen: Fen,
    slot_id: SlotId,
    slot_kind: SlotKind,
    slot_starts_at: DateTime<Utc>,
    slot_ends_at: DateTime<Utc>,
    building: Option<String>,
    unit: Option<String>,
    room: Option<String>,
    community: Option<String>,
    note: Option<String>,
    handoff_code: String,
    priority_booking: bool,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    group_buy_id: Option<GroupBuyId>,
    household_id: Option<HouseholdId>,
    placed_by_label: Option<String>,
    left_at_door: bool,
    handoff_note: Option<String>,
    door_photo: Option<String>,
    paid_by_donations: bool,
    standing_order_id: Option<i64>,
    pickup_point_id: Option<i64>,
    point_name: Option<String>,
    point_address: Option<String>,
    point_opens: Option<String>,
    point_closes: Option<String>,
    at_point_at: Option<DateTime<Utc>>,
    collect_by: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct LineRow {
    product_id: ProductId,
    vendor_id: i64,
    name: String,
    unit: String,
    quantity: i64,
    price_fen: Fen,
    short_quantity: i64,
}

#[derive(Deserialize)]
struct PartRow {
    vendor_id: i64,
    vendor_name: String,
    status: String,
    subtotal_fen: Fen,
}

#[derive(Deserialize)]
struct EventRow {
    status: OrderStatus,
    at: DateTime<Utc>,
}

impl OrderRow {
    fn into_record(self, lines: Vec<LineRow>, parts: Vec<PartRow>, events: Vec<EventRow>) -> OrderRecord {
        let address = match (self.building, self.unit, self.room) {
            (Some(building), Some(unit), Some(room)) => {
                Some(Address { building, unit, room, community: self.community })
            }
            _ => None,
        };
        let pickup_point = self.pickup_point_id.map(|id| shared::api::PointPlace {
            id,
            name: self.point_name.unwrap_or_default(),
            address: self.point_address.unwrap_or_default(),
            opens: self.point_opens.unwrap_or_default(),
            closes: self.point_closes.unwrap_or_default(),
        });
        OrderRecord {
            pickup_point,
            at_point_at: self.at_point_at,
            collect_by: self.collect_by,
            id: self.id,
            user_id: self.user_id,
            status: self.status,
            payment: self.payment,
            total_fen: self.total_fen,
            slot_id: self.slot_id,
            slot_kind: self.slot_kind,
            slot_starts_at: self.slot_starts_at,
            slot_ends_at: self.slot_ends_at,
            address,
            note: self.note,
            handoff_code: self.handoff_code,
            priority_booking: self.priority_booking,
            created_at: self.created_at,
            expires_at: self.expires_at,
            lines: lines
                .into_iter()
                .map(|l| LineRecord {
                    product_id: l.product_id,
                    vendor_id: l.vendor_id,
                    name: l.name,
                    unit: l.unit,
                    quantity: l.quantity,
                    price_fen: l.price_fen,
                    short: l.short_quantity,
                })
                .collect(),
            parts: parts
                .into_iter()
                .map(|p| PartRecord {
                    vendor_id: p.vendor_id,
                    vendor_name: p.vendor_name,
                    status: p.status,
                    subtotal_fen: p.subtotal_fen,
                })
                .collect(),
            timeline: events.into_iter().map(|e| (e.status, e.at)).collect(),
            group_buy: match (self.group_buy_id, self.household_id) {
                (Some(group_buy_id), Some(household_id)) => {
                    Some(GroupBuyOrigin { group_buy_id, household_id, placed_by: self.placed_by_label })
                }
                _ => None,
            },
            left_at_door: self.left_at_door.then(|| self.handoff_note.unwrap_or_default()),
            door_photo: self.door_photo.is_some(),
            paid_by_donations: self.paid_by_donations,
            standing_order_id: self.standing_order_id,
        }
    }
}

#[derive(Deserialize)]
struct SummaryRow {
    id: shared::OrderId,
    status: OrderStatus,
    total_fen: Fen,
    slot_id: shared::SlotId,
    slot_starts_at: DateTime<Utc>,
    item_count: i64,
    created_at: DateTime<Utc>,
    group_buy_id: Option<shared::GroupBuyId>,
}

impl SummaryRow {
    fn into_api(self) -> OrderSummary {
        OrderSummary {
            id: self.id,
            status: self.status,
            total_fen: self.total_fen,
            slot_id: self.slot_id,
            slot_starts_at: crate::domain::time::to_api(self.slot_starts_at),
            item_count: self.item_count,
            created_at: crate::domain::time::to_api(self.created_at),
            group_buy_id: self.group_buy_id,
        }
    }
}

// ---------- ending an order ----------

#[derive(Deserialize)]
struct Ending {
    user_id: i64,
    status: OrderStatus,
    expires_at: Option<DateTime<Utc>>,
    priority_booking: bool,
    slot_id: SlotId,
    total_fen: i64,
}

#[derive(Deserialize)]
struct Places {
    booked: i64,
    priority_booked: i64,
}

#[derive(Deserialize)]
struct EndingLine {
    product_id: ProductId,
    quantity: i64,
    stock: i64,
}

/// What ending an order needs, locked as checkout locks: the order, its slot, then its
/// products in id order, so the two never wait on each other in a circle.
async fn load_ending(tx: &mut Tx, id: i64) -> StoreResult<Option<EndingSnapshot>> {
    let sql =
        tx.locked("SELECT user_id, status, expires_at, priority_booking, slot_id, total_fen FROM orders WHERE id = $1");
    let Some(order) = tx.opt::<Ending>(&sql, &args![id]).await? else { return Ok(None) };
    let part_statuses: Vec<String> =
        tx.all("SELECT status FROM order_parts WHERE order_id = $1 ORDER BY vendor_id", &args![id]).await?;
    let sql = tx.locked("SELECT booked, priority_booked FROM slots WHERE id = $1");
    let slot: Places = tx.one(&sql, &args![order.slot_id]).await?;
    let sql = tx.locked_of(
        "SELECT l.product_id, l.quantity, p.stock FROM order_lines l JOIN products p ON p.id = l.product_id \
         WHERE l.order_id = $1 ORDER BY l.product_id",
        "p",
    );
    let lines: Vec<EndingLine> = tx.all(&sql, &args![id]).await?;
    Ok(Some(EndingSnapshot {
        order_id: OrderId(id),
        user_id: order.user_id,
        status: order.status,
        expires_at: order.expires_at,
        total_fen: order.total_fen,
        part_statuses,
        priority_booking: order.priority_booking,
        slot_id: order.slot_id,
        slot_booked: slot.booked,
        slot_priority_booked: slot.priority_booked,
        lines: lines.into_iter().map(|l| (l.product_id, l.quantity, l.stock)).collect(),
    }))
}

/// Writes an ended order as the domain decided: its status, the slot place and stock given
/// back, its parts ended with it, the step, and a paid order's money owed back (to the resident
/// through WeChat Pay, or to the donation pool that paid it).
async fn give_back(tx: &mut Tx, back: &GiveBack) -> StoreResult<()> {
    let status = back.status.as_str();
    tx.exec("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1", &args![back.order_id, status, back.at])
        .await?;
    super::slots::write_places(tx, back.slot_id, back.slot_booked, back.slot_priority_booked).await?;
    for (product_id, stock) in &back.stock {
        tx.exec("UPDATE products SET stock = $2 WHERE id = $1", &args![*product_id, *stock]).await?;
    }
    tx.exec(
        "UPDATE order_parts SET status = $2, updated_at = $3 WHERE order_id = $1",
        &args![back.order_id, status, back.at],
    )
    .await?;
    add_event(tx, back.order_id, back.status, back.at, back.by_user).await?;
    if let Some(amount) = back.refund_fen {
        tx.exec(CANCEL_REFUND_INSERT, &args![back.order_id, amount, back.at]).await?;
        tx.exec(
            POOL_RETURN_INSERT,
            &args![back.order_id, amount, back.at, format!("P{}-C", back.order_id), "cancelled"],
        )
        .await?;
    }
    Ok(())
}

/// An order nobody collected from its pickup point goes back (`domain::order::decide_return`):
/// cancelled, its goods back in stock and in the lots they were packed from, its money owed
/// back. False: it is no longer waiting there (collected meanwhile).
pub(crate) async fn return_uncollected(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    #[derive(Deserialize)]
    struct Short {
        product_id: ProductId,
        short_quantity: i64,
    }
    let Some(order) = load_ending(tx, id).await? else { return Ok(false) };
    if order.status != OrderStatus::OutForDelivery {
        return Ok(false);
    }
    let short: Vec<Short> = tx
        .all(
            "SELECT product_id, short_quantity FROM order_lines WHERE order_id = $1 AND short_quantity > 0",
            &args![id],
        )
        .await?;
    let short: Vec<(ProductId, i64)> = short.into_iter().map(|s| (s.product_id, s.short_quantity)).collect();
    let (back, written_off) = crate::domain::order::decide_return(&order, &short, now);
    give_back(tx, &back).await?;
    for (product, n) in written_off {
        tx.exec(
            "INSERT INTO stock_changes (product_id, change, reason, changed_at) VALUES ($1, $2, 'counted', $3)",
            &args![product, -n, now],
        )
        .await?;
    }
    tx.exec(
        "UPDATE lots SET remaining = remaining + (SELECT SUM(x.quantity) FROM order_line_lots x \
         WHERE x.lot_id = lots.id AND x.order_id = $1) WHERE id IN (SELECT lot_id FROM order_line_lots WHERE order_id = $1)",
        &args![id],
    )
    .await?;
    tx.exec("DELETE FROM order_line_lots WHERE order_id = $1", &args![id]).await?;
    Ok(true)
}

// ---------- writing orders ----------

/// A step in an order's timeline, by whom (None: the market itself).
pub(crate) async fn add_event(
    tx: &mut Tx,
    order_id: OrderId,
    status: OrderStatus,
    at: DateTime<Utc>,
    by: Option<i64>,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO order_events (order_id, status, at, by_user) VALUES ($1, $2, $3, $4)",
        &args![order_id, status.as_str(), at, by],
    )
    .await?;
    Ok(())
}

/// New orders the domain made, with their lines, stall parts and first steps (taken by `by` of
/// the order: its resident at a checkout, staff or nobody at a group-buy's close): four
/// statements for any number of orders, each kind of row as one JSON parameter. The ids are the
/// domain's (given out by the store beforehand).
pub(crate) async fn write_orders(
    tx: &mut Tx,
    orders: &[OrderRecord],
    by: impl Fn(&OrderRecord) -> Option<i64>,
) -> StoreResult<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let rows = order_rows(orders, by);
    if tx.postgres() {
        for (sql, rows) in ORDER_WRITES_POSTGRES.iter().zip(rows) {
            tx.exec(sql, &[rows]).await?;
        }
    } else {
        // One call: SQLite reads `$1` to `$4` across the four statements.
        tx.exec(&ORDER_WRITES_SQLITE.join(";\n"), &rows).await?;
    }
    Ok(())
}

/// The rows of new orders for `ORDER_WRITES_*`: orders, lines, parts, steps, each kind one JSON
/// parameter.
pub(crate) fn order_rows(orders: &[OrderRecord], by: impl Fn(&OrderRecord) -> Option<i64>) -> [Arg; 4] {
    let mut rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for o in orders {
        let a = o.address.as_ref();
        let origin = o.group_buy.as_ref();
        rows.0.push(json!({
            "id": o.id, "user_id": o.user_id, "slot_id": o.slot_id, "status": o.status, "payment": o.payment,
            "total_fen": o.total_fen, "building": a.map(|a| &a.building), "unit": a.map(|a| &a.unit),
            "room": a.map(|a| &a.room), "community": a.and_then(|a| a.community.as_ref()), "note": o.note,
            "handoff_code": o.handoff_code,
            "priority_booking": o.priority_booking, "created_at": stamp(o.created_at),
            "expires_at": o.expires_at.map(stamp), "group_buy_id": origin.map(|g| g.group_buy_id),
            "household_id": origin.map(|g| g.household_id), "placed_by_label": origin.and_then(|g| g.placed_by.clone()),
        }));
        for l in &o.lines {
            rows.1.push(json!({
                "order_id": o.id, "product_id": l.product_id, "vendor_id": l.vendor_id, "name": l.name,
                "unit": l.unit, "quantity": l.quantity, "price_fen": l.price_fen,
            }));
        }
        for p in &o.parts {
            rows.2.push(json!({
                "order_id": o.id, "vendor_id": p.vendor_id, "status": p.status, "subtotal_fen": p.subtotal_fen,
                "updated_at": stamp(o.created_at),
            }));
        }
        for (status, at) in &o.timeline {
            rows.3.push(json!({
                "order_id": o.id, "status": status, "at": stamp(*at), "by_user": by(o),
            }));
        }
    }
    [Arg::json(&rows.0), Arg::json(&rows.1), Arg::json(&rows.2), Arg::json(&rows.3)]
}

/// A time as the JSON of a batch carries it: the text sqlx writes for SQLite, which PostgreSQL
/// reads into a timestamptz.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// `write_orders`' four statements, on SQLite: each JSON row's fields by name (`$1` to `$4`,
/// so the checkout engine can send them with its other writes in one go).
pub(crate) const ORDER_WRITES_SQLITE: [&str; 4] = [
    "INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, unit, room, community, note, \
     handoff_code, priority_booking, created_at, expires_at, updated_at, group_buy_id, household_id, placed_by_label) \
     SELECT value->>'id', value->>'user_id', value->>'slot_id', value->>'status', value->>'payment', \
     value->>'total_fen', value->>'building', value->>'unit', value->>'room', value->>'community', value->>'note', \
     value->>'handoff_code', value->>'priority_booking', value->>'created_at', value->>'expires_at', \
     value->>'created_at', value->>'group_buy_id', value->>'household_id', value->>'placed_by_label' \
     FROM json_each($1)",
    "INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen) \
     SELECT value->>'order_id', value->>'product_id', value->>'vendor_id', value->>'name', value->>'unit', \
     value->>'quantity', value->>'price_fen' FROM json_each($2)",
    "INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at) \
     SELECT value->>'order_id', value->>'vendor_id', value->>'status', value->>'subtotal_fen', \
     value->>'updated_at' FROM json_each($3)",
    "INSERT INTO order_events (order_id, status, at, by_user) \
     SELECT value->>'order_id', value->>'status', value->>'at', value->>'by_user' FROM json_each($4)",
];

/// The same on PostgreSQL: each JSON row as a record of the table's own row type.
const ORDER_WRITES_POSTGRES: [&str; 4] = [
    "INSERT INTO orders (id, user_id, slot_id, status, payment, total_fen, building, unit, room, community, note, \
     handoff_code, priority_booking, created_at, expires_at, updated_at, group_buy_id, household_id, placed_by_label) \
     SELECT id, user_id, slot_id, status, payment, total_fen, building, unit, room, community, note, handoff_code, \
     priority_booking, created_at, expires_at, created_at, group_buy_id, household_id, placed_by_label \
     FROM jsonb_populate_recordset(NULL::orders, CAST($1 AS JSONB))",
    "INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen) \
     SELECT order_id, product_id, vendor_id, name, unit, quantity, price_fen \
     FROM jsonb_populate_recordset(NULL::order_lines, CAST($1 AS JSONB))",
    "INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at) \
     SELECT order_id, vendor_id, status, subtotal_fen, updated_at \
     FROM jsonb_populate_recordset(NULL::order_parts, CAST($1 AS JSONB))",
    "INSERT INTO order_events (order_id, status, at, by_user) \
     SELECT order_id, status, at, by_user FROM jsonb_populate_recordset(NULL::order_events, CAST($1 AS JSONB))",
];
