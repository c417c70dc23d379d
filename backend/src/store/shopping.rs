//! The shared statements for carts, slots, households, checkout and orders. Expanded into each
//! store by `impl_store!` (see `common.rs`), like the rest of the shared SQL.

use super::common::row_struct;
use chrono::{DateTime, Utc};

row_struct! {
    pub(super) struct OrderRow {
        id: i64,
        user_id: i64,
        status: String,
        payment: String,
        total_fen: i64,
        slot_id: i64,
        slot_kind: String,
        slot_starts_at: DateTime<Utc>,
        slot_ends_at: DateTime<Utc>,
        building: Option<String>,
        unit: Option<String>,
        room: Option<String>,
        note: Option<String>,
        handoff_code: String,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    }
}

row_struct! {
    pub(super) struct OrderLineRow {
        product_id: i64,
        vendor_id: i64,
        name: String,
        unit: String,
        quantity: i64,
        price_fen: i64,
    }
}

row_struct! {
    pub(super) struct OrderPartRow {
        vendor_id: i64,
        vendor_name: String,
        status: String,
        subtotal_fen: i64,
    }
}

row_struct! {
    pub(super) struct OrderSummaryRow {
        id: i64,
        status: String,
        total_fen: i64,
        slot_id: i64,
        slot_starts_at: DateTime<Utc>,
        item_count: i64,
        created_at: DateTime<Utc>,
    }
}

row_struct! {
    pub(super) struct HouseholdRow {
        id: i64,
        community: String,
        building: String,
        unit: String,
        room: String,
        quarantined: bool,
        hardship: bool,
        elderly: bool,
    }
}

impl From<HouseholdRow> for shared::api::Household {
    fn from(r: HouseholdRow) -> Self {
        shared::api::Household {
            id: r.id,
            community: r.community,
            building: r.building,
            unit: r.unit,
            room: r.room,
            quarantined: r.quarantined,
            hardship: r.hardship,
            elderly: r.elderly,
        }
    }
}

pub(super) const SLOT_COLUMNS: &str = "id, kind, starts_at, ends_at, cutoff_at, capacity, booked, priority_capacity, \
     priority_booked, priority_release_at, closed";

pub(super) const HOUSEHOLD_SELECT: &str = "SELECT h.id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly FROM households h JOIN buildings b ON b.id = h.building_id";

// The checkout's statements. The SQLite checkout engine runs these; PostgreSQL's
// `fxs_checkout_batch` (migrations/postgres/0004) applies the same rules in PL/pgSQL: change them
// together. The order reads are shared with `load_order` below.
pub(super) const KEY_INSERT: &str = "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, key) DO NOTHING";
pub(super) const KEY_SELECT: &str =
    "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2";
pub(super) const KEY_ANSWER: &str =
    "UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE user_id = $1 AND key = $2";
pub(super) const CART_LINES: &str =
    "SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY product_id";
pub(super) const SLOT_TAKE: &str = "UPDATE slots SET booked = booked + 1, priority_booked = priority_booked + CASE WHEN $3 THEN 1 ELSE 0 END WHERE id = $1 AND NOT closed AND cutoff_at > $2 AND booked + CASE WHEN $3 THEN 0 WHEN priority_release_at IS NOT NULL AND priority_release_at > $2 AND priority_capacity > priority_booked THEN priority_capacity - priority_booked ELSE 0 END < capacity RETURNING kind";
pub(super) const SLOT_STATE: &str = "SELECT closed, cutoff_at FROM slots WHERE id = $1";
pub(super) const STOCK_TAKE: &str = "UPDATE products SET stock = stock - $2 WHERE id = $1 AND active AND stock >= $2 RETURNING vendor_id, name, unit, price_fen, per_order_limit";
pub(super) const PRODUCT_NAME: &str = "SELECT name FROM products WHERE id = $1";
pub(super) const ORDER_INSERT: &str = "INSERT INTO orders (user_id, slot_id, status, payment, total_fen, building, unit, room, note, handoff_code, priority_booking, created_at, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12) RETURNING id";
pub(super) const LINE_INSERT: &str = "INSERT INTO order_lines (order_id, product_id, vendor_id, name, unit, quantity, price_fen) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const CART_LINE_DELETE: &str =
    "DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2 AND quantity = $3";
pub(super) const PART_INSERT: &str = "INSERT INTO order_parts (order_id, vendor_id, status, subtotal_fen, updated_at) VALUES ($1, $2, 'pending', $3, $4)";
pub(super) const EVENT_INSERT: &str =
    "INSERT INTO order_events (order_id, status, at, by_user) VALUES ($1, $2, $3, $4)";
pub(super) const ORDER_SELECT: &str = "SELECT o.id, o.user_id, o.status, o.payment, o.total_fen, o.slot_id, s.kind AS slot_kind, s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at, o.building, o.unit, o.room, o.note, o.handoff_code, o.created_at, o.expires_at FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.id = $1";
pub(super) const LINES_SELECT: &str = "SELECT product_id, vendor_id, name, unit, quantity, price_fen FROM order_lines WHERE order_id = $1 ORDER BY vendor_id, product_id";
pub(super) const PARTS_SELECT: &str = "SELECT p.vendor_id, v.name AS vendor_name, p.status, p.subtotal_fen FROM order_parts p JOIN vendors v ON v.id = p.vendor_id WHERE p.order_id = $1 ORDER BY p.vendor_id";
pub(super) const EVENTS_SELECT: &str = "SELECT status, at FROM order_events WHERE order_id = $1 ORDER BY id";

fn status_of(s: &str) -> shared::order::OrderStatus {
    shared::order::OrderStatus::parse(s).unwrap_or(shared::order::OrderStatus::Placed)
}

pub(super) fn build_order(
    o: OrderRow,
    lines: Vec<OrderLineRow>,
    parts: Vec<OrderPartRow>,
    events: Vec<(String, DateTime<Utc>)>,
) -> (i64, shared::api::Order) {
    use crate::domain::time::to_api;
    use shared::api::{Address, Order, OrderEvent, OrderLine, OrderPart};
    let address = match (o.building, o.unit, o.room) {
        (Some(building), Some(unit), Some(room)) => Some(Address { building, unit, room }),
        _ => None,
    };
    let order = Order {
        id: o.id,
        status: status_of(&o.status),
        total_fen: o.total_fen,
        slot_id: o.slot_id,
        slot_kind: shared::order::SlotKind::parse(&o.slot_kind).unwrap_or(shared::order::SlotKind::Delivery),
        slot_starts_at: to_api(o.slot_starts_at),
        slot_ends_at: to_api(o.slot_ends_at),
        payment: shared::order::Payment::parse(&o.payment).unwrap_or(shared::order::Payment::OnDelivery),
        address,
        note: o.note,
        created_at: to_api(o.created_at),
        expires_at: o.expires_at.map(to_api),
        handoff_code: Some(o.handoff_code),
        items: lines
            .into_iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                vendor_id: l.vendor_id,
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: l.price_fen,
                line_total_fen: l.price_fen * l.quantity,
            })
            .collect(),
        parts: parts
            .into_iter()
            .map(|p| OrderPart {
                vendor_id: p.vendor_id,
                vendor_name: p.vendor_name,
                status: p.status,
                subtotal_fen: p.subtotal_fen,
            })
            .collect(),
        timeline: events.into_iter().map(|(s, at)| OrderEvent { status: status_of(&s), at: to_api(at) }).collect(),
    };
    (o.user_id, order)
}

pub(super) fn summary(r: OrderSummaryRow) -> shared::api::OrderSummary {
    shared::api::OrderSummary {
        id: r.id,
        status: status_of(&r.status),
        total_fen: r.total_fen,
        slot_id: r.slot_id,
        slot_starts_at: crate::domain::time::to_api(r.slot_starts_at),
        item_count: r.item_count,
        created_at: crate::domain::time::to_api(r.created_at),
    }
}

/// `Shopping` for a store type; expanded by `impl_store!`.
macro_rules! shopping_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Shopping for $store {
        async fn building_exists(&self, number: &str) -> StoreResult<bool> {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM buildings WHERE number = $1 LIMIT 1")
                .bind(number.trim())
                .fetch_optional(self.reader())
                .await?;
            Ok(found.is_some())
        }

        async fn ensure_household(&self, user_id: i64, address: &Address, replace: bool) -> StoreResult<Option<Household>> {
            let mut tx = self.begin_write().await?;
            let building: Option<(i64,)> = sqlx::query_as("SELECT id FROM buildings WHERE number = $1 ORDER BY id LIMIT 1")
                .bind(address.building.trim())
                .fetch_optional(&mut *tx)
                .await?;
            let Some((building_id,)) = building else { return Ok(None) };
            sqlx::query(
                "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
                 ON CONFLICT (building_id, unit, room) DO NOTHING",
            )
            .bind(building_id)
            .bind(address.unit.trim())
            .bind(address.room.trim())
            .execute(&mut *tx)
            .await?;
            let row: HouseholdRow = sqlx::query_as(&format!(
                "{HOUSEHOLD_SELECT} WHERE h.building_id = $1 AND h.unit = $2 AND h.room = $3"
            ))
            .bind(building_id)
            .bind(address.unit.trim())
            .bind(address.room.trim())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE users SET household_id = $2 WHERE id = $1 AND ($3 OR household_id IS NULL)")
                .bind(user_id)
                .bind(row.id)
                .bind(replace)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.sessions().forget_user(user_id);
            Ok(Some(row.into()))
        }

        async fn households(&self, building: Option<&str>) -> StoreResult<Vec<Household>> {
            let rows: Vec<HouseholdRow> = sqlx::query_as(&format!(
                "{HOUSEHOLD_SELECT} WHERE (CAST($1 AS TEXT) IS NULL OR b.number = $1) \
                 ORDER BY CAST(b.number AS INTEGER), h.unit, h.room LIMIT 2000"
            ))
            .bind(building)
            .fetch_all(self.reader())
            .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn flag_household(
            &self,
            id: i64,
            quarantined: Option<bool>,
            hardship: Option<bool>,
            elderly: Option<bool>,
        ) -> StoreResult<Option<Household>> {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "UPDATE households SET quarantined = COALESCE($2, quarantined), hardship = COALESCE($3, hardship), \
                 elderly = COALESCE($4, elderly) WHERE id = $1",
            )
            .bind(id)
            .bind(quarantined)
            .bind(hardship)
            .bind(elderly)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let row: HouseholdRow =
                sqlx::query_as(&format!("{HOUSEHOLD_SELECT} WHERE h.id = $1")).bind(id).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            // Everyone living there.
            self.sessions().forget_all();
            Ok(Some(row.into()))
        }

        async fn create_slot(&self, slot: &NewSlot, now: DateTime<Utc>) -> StoreResult<SlotRecord> {
            Ok(sqlx::query_as(&format!(
                "INSERT INTO slots (kind, starts_at, ends_at, cutoff_at, capacity, priority_capacity, \
                 priority_release_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {SLOT_COLUMNS}"
            ))
            .bind(slot.kind.as_str())
            .bind(slot.starts_at)
            .bind(slot.ends_at)
            .bind(slot.cutoff_at)
            .bind(slot.capacity)
            .bind(slot.priority_capacity)
            .bind(slot.priority_release_at)
            .bind(now)
            .fetch_one(self.writer())
            .await?)
        }

        async fn change_slot(&self, id: i64, change: &SlotChange) -> StoreResult<SlotChangeOutcome> {
            let mut tx = self.begin_write().await?;
            let changed: Option<SlotRecord> = sqlx::query_as(&format!(
                "UPDATE slots SET capacity = COALESCE($2, capacity), \
                 priority_capacity = COALESCE($3, priority_capacity), \
                 priority_release_at = COALESCE($4, priority_release_at), cutoff_at = COALESCE($5, cutoff_at), \
                 closed = COALESCE($6, closed) WHERE id = $1 AND COALESCE($2, capacity) >= booked RETURNING {SLOT_COLUMNS}"
            ))
            .bind(id)
            .bind(change.capacity)
            .bind(change.priority_capacity)
            .bind(change.priority_release_at)
            .bind(change.cutoff_at)
            .bind(change.closed)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(slot) = changed {
                // Checked on the slot as changed, before the commit: dropping `tx` undoes it.
                let rule = crate::domain::slots::broken_rule(
                    slot.starts_at,
                    slot.cutoff_at,
                    slot.capacity,
                    slot.priority_capacity,
                );
                if let Some(rule) = rule {
                    return Ok(SlotChangeOutcome::Invalid(rule));
                }
                tx.commit().await?;
                return Ok(SlotChangeOutcome::Changed(slot));
            }
            let booked: Option<(i64,)> =
                sqlx::query_as("SELECT booked FROM slots WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            Ok(match booked {
                Some((booked,)) => SlotChangeOutcome::BelowBooked { booked },
                None => SlotChangeOutcome::NotFound,
            })
        }

        async fn slot(&self, id: i64) -> StoreResult<Option<SlotRecord>> {
            Ok(sqlx::query_as(&format!("SELECT {SLOT_COLUMNS} FROM slots WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.reader())
                .await?)
        }

        async fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<SlotRecord>> {
            Ok(sqlx::query_as(&format!(
                "SELECT {SLOT_COLUMNS} FROM slots WHERE starts_at >= $1 AND starts_at < $2 ORDER BY starts_at, kind, id LIMIT 500"
            ))
            .bind(from)
            .bind(to)
            .fetch_all(self.reader())
            .await?)
        }

        async fn cart(&self, user_id: i64) -> StoreResult<Vec<CartLineRecord>> {
            Ok(sqlx::query_as(
                "SELECT c.product_id, c.quantity, c.price_fen_at_add, p.vendor_id, v.name AS vendor_name, p.name, \
                 p.unit, p.price_fen, p.stock, p.per_order_limit, p.active FROM cart_items c \
                 JOIN products p ON p.id = c.product_id JOIN vendors v ON v.id = p.vendor_id \
                 WHERE c.user_id = $1 ORDER BY p.vendor_id, c.product_id",
            )
            .bind(user_id)
            .fetch_all(self.reader())
            .await?)
        }

        async fn set_cart_quantity(
            &self,
            user_id: i64,
            product_id: i64,
            quantity: i64,
            price_fen: i64,
            now: DateTime<Utc>,
        ) -> StoreResult<()> {
            if quantity == 0 {
                sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2")
                    .bind(user_id)
                    .bind(product_id)
                    .execute(self.writer())
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO cart_items (user_id, product_id, quantity, price_fen_at_add, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, product_id) DO UPDATE SET \
                     quantity = excluded.quantity, price_fen_at_add = excluded.price_fen_at_add, \
                     updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(product_id)
                .bind(quantity)
                .bind(price_fen)
                .bind(now)
                .execute(self.writer())
                .await?;
            }
            Ok(())
        }

        async fn checkout(&self, input: &CheckoutInput) -> StoreResult<CheckoutOutcome> {
            self.checkout_now(input).await
        }

        async fn orders_for_user(&self, user_id: i64) -> StoreResult<Vec<OrderSummary>> {
            let rows: Vec<OrderSummaryRow> = sqlx::query_as(
                "SELECT o.id, o.status, o.total_fen, o.slot_id, s.starts_at AS slot_starts_at, \
                 (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id) AS item_count, o.created_at \
                 FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.user_id = $1 ORDER BY o.id DESC LIMIT 200",
            )
            .bind(user_id)
            .fetch_all(self.reader())
            .await?;
            Ok(rows.into_iter().map(summary).collect())
        }

        async fn order(&self, id: i64) -> StoreResult<Option<(i64, Order)>> {
            let mut conn = self.reader().acquire().await?;
            load_order(&mut conn, id).await
        }

        async fn cancel_order(&self, id: i64, user_id: i64, now: DateTime<Utc>) -> StoreResult<CancelOutcome> {
            let mut tx = self.begin_write().await?;
            let row: Option<(i64, bool)> = sqlx::query_as(
                "UPDATE orders SET status = 'cancelled', updated_at = $3 WHERE id = $1 AND user_id = $2 \
                 AND status IN ('pending_payment', 'placed') \
                 AND NOT EXISTS (SELECT 1 FROM order_parts p WHERE p.order_id = $1 AND p.status <> 'pending') \
                 RETURNING slot_id, priority_booking",
            )
            .bind(id)
            .bind(user_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((slot_id, priority)) = row else {
                let status: Option<(String,)> = sqlx::query_as("SELECT status FROM orders WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Ok(match status {
                    None => CancelOutcome::NotFound,
                    Some((s,)) => CancelOutcome::NotCancellable(OrderStatus::parse(&s).unwrap_or(OrderStatus::Confirmed)),
                });
            };
            give_back(&mut tx, id, slot_id, priority, "cancelled", now, Some(user_id)).await?;
            tx.commit().await?;
            Ok(CancelOutcome::Cancelled)
        }

        async fn expire_unpaid(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<i64>> {
            let due: Vec<(i64,)> = sqlx::query_as(
                "SELECT id FROM orders WHERE status = 'pending_payment' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
            let mut expired = Vec::new();
            for (id,) in due {
                let mut tx = self.begin_write().await?;
                // Conditional: a payment or a cancel that got there first wins.
                let row: Option<(i64, bool)> = sqlx::query_as(
                    "UPDATE orders SET status = 'expired', updated_at = $2 WHERE id = $1 AND status = 'pending_payment' \
                     RETURNING slot_id, priority_booking",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((slot_id, priority)) = row {
                    give_back(&mut tx, id, slot_id, priority, "expired", now, None).await?;
                    tx.commit().await?;
                    expired.push(id);
                }
            }
            Ok(expired)
        }
        }
    };
}

/// Free functions the shopping methods use; expanded beside the impl.
macro_rules! shopping_helpers {
    () => {
        type Conn = <Db as sqlx::Database>::Connection;

        async fn load_order(conn: &mut Conn, id: i64) -> StoreResult<Option<(i64, Order)>> {
            let row: Option<OrderRow> = sqlx::query_as(
                ORDER_SELECT,
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let lines: Vec<OrderLineRow> = sqlx::query_as(
                LINES_SELECT,
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            let parts: Vec<OrderPartRow> = sqlx::query_as(
                PARTS_SELECT,
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            let events: Vec<(String, DateTime<Utc>)> =
                sqlx::query_as(EVENTS_SELECT)
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(Some(build_order(row, lines, parts, events)))
        }

        /// Returns an ended order's slot place and stock. Locks the slot before the products,
        /// in product order, as checkout does, so the two never wait on each other in a circle.
        async fn give_back(
            conn: &mut Conn,
            order_id: i64,
            slot_id: i64,
            priority: bool,
            status: &str,
            now: DateTime<Utc>,
            by_user: Option<i64>,
        ) -> StoreResult<()> {
            sqlx::query(
                "UPDATE slots SET booked = booked - 1, \
                 priority_booked = priority_booked - CASE WHEN $2 AND priority_booked > 0 THEN 1 ELSE 0 END WHERE id = $1",
            )
            .bind(slot_id)
            .bind(priority)
            .execute(&mut *conn)
            .await?;
            let lines: Vec<(i64, i64)> =
                sqlx::query_as("SELECT product_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY product_id")
                    .bind(order_id)
                    .fetch_all(&mut *conn)
                    .await?;
            for (product_id, quantity) in lines {
                sqlx::query("UPDATE products SET stock = stock + $2 WHERE id = $1")
                    .bind(product_id)
                    .bind(quantity)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("UPDATE order_parts SET status = $2, updated_at = $3 WHERE order_id = $1")
                .bind(order_id)
                .bind(status)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query(EVENT_INSERT)
                .bind(order_id)
                .bind(status)
                .bind(now)
                .bind(by_user)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    };
}

pub(super) use shopping_helpers;
pub(super) use shopping_impl;
