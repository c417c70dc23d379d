//! The shared statements for carts, slots, households, checkout and orders. Expanded into each
//! store by `impl_store!` (see `common.rs`), like the rest of the shared SQL.

use super::common::row_struct;
use crate::domain::order::{GroupBuyOrigin, LineRecord, OrderRecord, PartRecord};
use chrono::{DateTime, Utc};
use shared::Fen;

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
        priority_booking: bool,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        group_buy_id: Option<i64>,
        household_id: Option<i64>,
        placed_by_label: Option<String>,
        left_at_door: bool,
        handoff_note: Option<String>,
        paid_by_donations: bool,
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
        short_quantity: i64,
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
        group_buy_id: Option<i64>,
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

// The reads of an order, for its JSON (`domain::order::OrderRecord`).
pub(super) const ORDER_SELECT: &str = "SELECT o.id, o.user_id, o.status, o.payment, o.total_fen, o.slot_id, s.kind AS slot_kind, s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at, o.building, o.unit, o.room, o.note, o.handoff_code, o.priority_booking, o.created_at, o.expires_at, o.group_buy_id, o.household_id, o.placed_by_label, o.left_at_door, o.handoff_note, EXISTS (SELECT 1 FROM pool_allocations a WHERE a.order_id = o.id) AS paid_by_donations FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.id = $1";
pub(super) const LINES_SELECT: &str = "SELECT product_id, vendor_id, name, unit, quantity, price_fen, short_quantity FROM order_lines WHERE order_id = $1 ORDER BY vendor_id, product_id";
pub(super) const PARTS_SELECT: &str = "SELECT p.vendor_id, v.name AS vendor_name, p.status, p.subtotal_fen FROM order_parts p JOIN vendors v ON v.id = p.vendor_id WHERE p.order_id = $1 ORDER BY p.vendor_id";
pub(super) const EVENTS_SELECT: &str = "SELECT status, at FROM order_events WHERE order_id = $1 ORDER BY id";

fn status_of(s: &str) -> shared::order::OrderStatus {
    shared::order::OrderStatus::parse(s).unwrap_or(shared::order::OrderStatus::Placed)
}

pub(super) fn order_record(
    o: OrderRow,
    lines: Vec<OrderLineRow>,
    parts: Vec<OrderPartRow>,
    events: Vec<(String, DateTime<Utc>)>,
) -> OrderRecord {
    use shared::api::Address;
    let address = match (o.building, o.unit, o.room) {
        (Some(building), Some(unit), Some(room)) => Some(Address { building, unit, room }),
        _ => None,
    };
    OrderRecord {
        id: o.id,
        user_id: o.user_id,
        status: status_of(&o.status),
        payment: shared::order::Payment::parse(&o.payment).unwrap_or(shared::order::Payment::OnDelivery),
        total_fen: Fen::stored(o.total_fen),
        slot_id: o.slot_id,
        slot_kind: shared::order::SlotKind::parse(&o.slot_kind).unwrap_or(shared::order::SlotKind::Delivery),
        slot_starts_at: o.slot_starts_at,
        slot_ends_at: o.slot_ends_at,
        address,
        note: o.note,
        handoff_code: o.handoff_code,
        priority_booking: o.priority_booking,
        created_at: o.created_at,
        expires_at: o.expires_at,
        lines: lines
            .into_iter()
            .map(|l| LineRecord {
                product_id: l.product_id,
                vendor_id: l.vendor_id,
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: Fen::stored(l.price_fen),
                short: l.short_quantity,
            })
            .collect(),
        parts: parts
            .into_iter()
            .map(|p| PartRecord {
                vendor_id: p.vendor_id,
                vendor_name: p.vendor_name,
                status: p.status,
                subtotal_fen: Fen::stored(p.subtotal_fen),
            })
            .collect(),
        timeline: events.into_iter().map(|(s, at)| (status_of(&s), at)).collect(),
        group_buy: match (o.group_buy_id, o.household_id) {
            (Some(group_buy_id), Some(household_id)) => {
                Some(GroupBuyOrigin { group_buy_id, household_id, placed_by: o.placed_by_label })
            }
            _ => None,
        },
        left_at_door: o.left_at_door.then(|| o.handoff_note.unwrap_or_default()),
        paid_by_donations: o.paid_by_donations,
    }
}

pub(super) fn summary(r: OrderSummaryRow) -> shared::api::OrderSummary {
    shared::api::OrderSummary {
        id: r.id,
        status: status_of(&r.status),
        total_fen: Fen::stored(r.total_fen),
        slot_id: r.slot_id,
        slot_starts_at: crate::domain::time::to_api(r.slot_starts_at),
        item_count: r.item_count,
        created_at: crate::domain::time::to_api(r.created_at),
        group_buy_id: r.group_buy_id,
    }
}

/// `Shopping` for a store type; expanded by `impl_store!`.
macro_rules! shopping_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Shopping for $store {
        async fn set_home(&self, user_id: i64, address: &Address) -> StoreResult<Option<Household>> {
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
            sqlx::query("UPDATE users SET household_id = $2 WHERE id = $1")
                .bind(user_id)
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.sessions().forget_user(user_id);
            Ok(Some(row.into()))
        }

        async fn households(
            &self,
            filter: &$crate::store::HouseholdFilter,
            limit: i64,
            after: Option<i64>,
        ) -> StoreResult<(Vec<Household>, Option<i64>)> {
            // Keyset paging on (building, unit, room, id): a page costs the same however deep.
            let room = filter.room.as_deref().map(|r| {
                let mut p = like_pattern(r);
                p.remove(0);
                p
            });
            let rows: Vec<HouseholdRow> = sqlx::query_as(&format!(
                "{HOUSEHOLD_SELECT} WHERE (CAST($1 AS TEXT) IS NULL OR b.number = $1) \
                 AND (CAST($2 AS TEXT) IS NULL OR h.unit = $2) \
                 AND (CAST($3 AS TEXT) IS NULL OR h.room LIKE $3 ESCAPE '\\') \
                 AND (CAST($4 AS BIGINT) IS NULL OR (h.building_id, h.unit, h.room, h.id) > \
                      (SELECT k.building_id, k.unit, k.room, k.id FROM households k WHERE k.id = $4)) \
                 ORDER BY h.building_id, h.unit, h.room, h.id LIMIT $5"
            ))
            .bind(filter.building.as_deref())
            .bind(filter.unit.as_deref())
            .bind(room)
            .bind(after)
            .bind(limit + 1)
            .fetch_all(self.reader())
            .await?;
            let more = rows.len() as i64 > limit;
            let shown: Vec<Household> = rows.into_iter().take(limit as usize).map(Into::into).collect();
            let next = if more { shown.last().map(|h| h.id) } else { None };
            Ok((shown, next))
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

        async fn checkout(&self, jobs: Vec<CheckoutJob>) -> StoreResult<Vec<Answer>> {
            self.engine.checkout(jobs).await
        }

        async fn orders_for_user(
            &self,
            user_id: i64,
            household_id: Option<i64>,
            limit: i64,
            before: Option<i64>,
        ) -> StoreResult<(Vec<OrderSummary>, Option<i64>)> {
            // A household's group-buy orders are every member's, whoever joined or placed the share.
            let rows: Vec<OrderSummaryRow> = sqlx::query_as(
                "SELECT o.id, o.status, o.total_fen, o.slot_id, s.starts_at AS slot_starts_at, \
                 (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id) AS item_count, o.created_at, \
                 o.group_buy_id FROM orders o JOIN slots s ON s.id = o.slot_id \
                 WHERE (o.user_id = $1 OR (o.household_id = $2 AND o.group_buy_id IS NOT NULL)) \
                 AND o.id < $3 ORDER BY o.id DESC LIMIT $4",
            )
            .bind(user_id)
            .bind(household_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit + 1)
            .fetch_all(self.reader())
            .await?;
            let more = rows.len() as i64 > limit;
            let shown: Vec<OrderSummary> = rows.into_iter().take(limit as usize).map(summary).collect();
            let next = if more { shown.last().map(|o| o.id) } else { None };
            Ok((shown, next))
        }

        async fn order(&self, id: i64) -> StoreResult<Option<(OrderOwner, Order)>> {
            let mut conn = self.reader().acquire().await?;
            load_order(&mut conn, id).await
        }

        async fn cancel_order(&self, id: i64, user_id: i64, now: DateTime<Utc>) -> StoreResult<CancelOutcome> {
            let mut tx = self.begin_write().await?;
            let order = load_ending(&mut tx, id).await?;
            match crate::domain::order::decide_cancel(order.as_ref(), user_id, now) {
                CancelDecision::Cancel(back) => {
                    give_back(&mut tx, &back).await?;
                    tx.commit().await?;
                    Ok(CancelOutcome::Cancelled)
                }
                CancelDecision::NotFound => Ok(CancelOutcome::NotFound),
                CancelDecision::NotCancellable(status) => Ok(CancelOutcome::NotCancellable(status)),
            }
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
                // Decided on the order as locked now: a payment or a cancel that got there first wins.
                let Some(order) = load_ending(&mut tx, id).await? else { continue };
                if let Some(back) = crate::domain::order::decide_expiry(&order, now) {
                    give_back(&mut tx, &back).await?;
                    tx.commit().await?;
                    expired.push(id);
                }
            }
            Ok(expired)
        }
        }
    };
}

/// Free functions the shopping methods use; expanded beside the impl. `$lock`: the clause that
/// locks a row read for changing (none on SQLite, whose writer holds the one write lock);
/// `$lock_products`: the same for the products of a join.
macro_rules! shopping_helpers {
    (lock = $lock:literal, lock_products = $lock_products:literal) => {
        type Conn = <Db as sqlx::Database>::Connection;

        async fn load_order(conn: &mut Conn, id: i64) -> StoreResult<Option<(OrderOwner, Order)>> {
            let row: Option<OrderRow> = sqlx::query_as(ORDER_SELECT).bind(id).fetch_optional(&mut *conn).await?;
            let Some(row) = row else { return Ok(None) };
            let lines: Vec<OrderLineRow> = sqlx::query_as(LINES_SELECT).bind(id).fetch_all(&mut *conn).await?;
            let parts: Vec<OrderPartRow> = sqlx::query_as(PARTS_SELECT).bind(id).fetch_all(&mut *conn).await?;
            let events: Vec<(String, DateTime<Utc>)> =
                sqlx::query_as(EVENTS_SELECT).bind(id).fetch_all(&mut *conn).await?;
            let record = order_record(row, lines, parts, events);
            let owner = OrderOwner {
                user_id: record.user_id,
                household_id: record.group_buy.as_ref().map(|g| g.household_id),
            };
            Ok(Some((owner, record.to_api())))
        }

        /// What ending an order needs, locked as checkout locks: the order, its slot, then its
        /// products in id order, so the two never wait on each other in a circle.
        async fn load_ending(conn: &mut Conn, id: i64) -> StoreResult<Option<EndingSnapshot>> {
            let order: Option<(i64, String, Option<DateTime<Utc>>, bool, i64, i64)> = sqlx::query_as(concat!(
                "SELECT user_id, status, expires_at, priority_booking, slot_id, total_fen FROM orders WHERE id = $1",
                $lock
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let Some((user_id, status, expires_at, priority_booking, slot_id, total_fen)) = order else { return Ok(None) };
            let parts: Vec<(String,)> = sqlx::query_as("SELECT status FROM order_parts WHERE order_id = $1 ORDER BY vendor_id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            let (slot_booked, slot_priority_booked): (i64, i64) =
                sqlx::query_as(concat!("SELECT booked, priority_booked FROM slots WHERE id = $1", $lock))
                    .bind(slot_id)
                    .fetch_one(&mut *conn)
                    .await?;
            let lines: Vec<(i64, i64, i64)> = sqlx::query_as(concat!(
                "SELECT l.product_id, l.quantity, p.stock FROM order_lines l JOIN products p ON p.id = l.product_id \
                 WHERE l.order_id = $1 ORDER BY l.product_id",
                $lock_products
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(Some(EndingSnapshot {
                order_id: id,
                user_id,
                status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Confirmed),
                expires_at,
                total_fen,
                part_statuses: parts.into_iter().map(|(s,)| s).collect(),
                priority_booking,
                slot_id,
                slot_booked,
                slot_priority_booked,
                lines,
            }))
        }

        /// Writes an ended order as the domain decided: its status, the slot place and stock
        /// given back, its parts ended with it, the event.
        async fn give_back(conn: &mut Conn, back: &GiveBack) -> StoreResult<()> {
            let status = back.status.as_str();
            sqlx::query("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(back.order_id)
                .bind(status)
                .bind(back.at)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1")
                .bind(back.slot_id)
                .bind(back.slot_booked)
                .bind(back.slot_priority_booked)
                .execute(&mut *conn)
                .await?;
            for (product_id, stock) in &back.stock {
                sqlx::query("UPDATE products SET stock = $2 WHERE id = $1")
                    .bind(product_id)
                    .bind(stock)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("UPDATE order_parts SET status = $2, updated_at = $3 WHERE order_id = $1")
                .bind(back.order_id)
                .bind(status)
                .bind(back.at)
                .execute(&mut *conn)
                .await?;
            sqlx::query($crate::store::EVENT_INSERT)
                .bind(back.order_id)
                .bind(status)
                .bind(back.at)
                .bind(back.by_user)
                .execute(&mut *conn)
                .await?;
            if let Some(amount) = back.refund_fen {
                sqlx::query($crate::store::payments::CANCEL_REFUND_INSERT)
                    .bind(back.order_id)
                    .bind(amount)
                    .bind(back.at)
                    .execute(&mut *conn)
                    .await?;
                // Or, for an order the donation pool paid, back to the pool.
                sqlx::query($crate::store::donations::POOL_RETURN_INSERT)
                    .bind(back.order_id)
                    .bind(amount)
                    .bind(back.at)
                    .bind(format!("P{}-C", back.order_id))
                    .bind("cancelled")
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
    };
}

pub(super) use shopping_helpers;
pub(super) use shopping_impl;
