//! Delivery batches: a slot's orders grouped by building (a group-buy's drop is one batch),
//! claimed by one volunteer, picked up, handed over door by door. The store loads and locks
//! (the batch, then its orders by id); the rules are `domain::delivery`'s.

use crate::domain::delivery::{
    decide_claim, decide_door_photo, decide_handoff, decide_pickup, decide_report, slot_work, AtPointHandoff,
    BatchSnapshot, Handoff, HandoffSnapshot, Proof, ReportedOrder, Round, WaitingOrders,
};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use crate::store::checkout::orders::add_event;
use crate::store::db::{args, Arg, Db, Tx};
use crate::store::{masked_phone, StoreResult};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::{Batch, Stop, StopItem};
use shared::order::{BatchStatus, OrderStatus};
use std::collections::BTreeMap;

pub struct Batches {
    db: Db,
}

/// The orders an open batch gathers: the slot's orders for its building (or its group-buy, or
/// its pickup point) that no batch holds yet and that are with the stalls. `$1` slot, `$2`
/// building, `$3` group-buy, `$4` pickup point, `$5` the building's community.
const OPEN_ORDERS: &str = "o.slot_id = $1 AND o.batch_id IS NULL \
     AND o.status IN ('placed', 'paid', 'confirmed', 'packed') AND (o.building IS NOT NULL OR o.pickup_point_id IS NOT NULL) \
     AND ((CAST($3 AS BIGINT) IS NULL AND o.group_buy_id IS NULL \
           AND ((CAST($4 AS BIGINT) IS NULL AND o.pickup_point_id IS NULL AND o.building = $2 \
                 AND COALESCE(o.community, '') = $5) OR o.pickup_point_id = $4)) \
          OR o.group_buy_id = $3)";

/// The key of the open batch an order joins, as `batches.building` and `batches.community` hold
/// it: its building and community, or '' for a group-buy's or a pickup point's drop (keyed by
/// those).
const BATCH_BUILDING: &str =
    "CASE WHEN o.group_buy_id IS NULL AND o.pickup_point_id IS NULL THEN o.building ELSE '' END";
const BATCH_COMMUNITY: &str =
    "CASE WHEN o.group_buy_id IS NULL AND o.pickup_point_id IS NULL THEN COALESCE(o.community, '') ELSE '' END";

const BATCH: &str =
    "SELECT b.id, b.slot_id, s.market_id, s.starts_at AS slot_starts_at, b.building, b.community, b.group_buy_id, \
     b.status, b.volunteer_id, u.phone AS volunteer_phone, b.created_at, b.claimed_at, b.pickup_point_id, \
     pp.name AS point_name, (SELECT bd.closed FROM buildings bd WHERE bd.market_id = s.market_id \
      AND bd.number = b.building AND bd.community = b.community) AS to_gate FROM batches b \
     JOIN slots s ON s.id = b.slot_id LEFT JOIN users u ON u.id = b.volunteer_id \
     LEFT JOIN pickup_points pp ON pp.id = b.pickup_point_id";

#[derive(Deserialize)]
struct BatchRow {
    id: i64,
    slot_id: i64,
    market_id: shared::MarketId,
    slot_starts_at: DateTime<Utc>,
    building: String,
    community: String,
    group_buy_id: Option<i64>,
    status: String,
    volunteer_id: Option<i64>,
    volunteer_phone: Option<String>,
    created_at: DateTime<Utc>,
    claimed_at: Option<DateTime<Utc>>,
    /// Its building is closed (none for a group-buy's drop).
    to_gate: Option<bool>,
    pickup_point_id: Option<i64>,
    point_name: Option<String>,
}

/// An order a batch holds, as its manifest shows it.
#[derive(Deserialize)]
struct HeldOrder {
    id: i64,
    status: OrderStatus,
    building: Option<String>,
    community: Option<String>,
    unit: Option<String>,
    room: Option<String>,
    phone: Option<String>,
    note: Option<String>,
    handoff_attempts: i64,
    left_at_door: bool,
    door_photo: Option<String>,
}

/// A batch as shown, from its row, its label, how many orders it holds and its state.
fn batch_of(r: BatchRow, label: String, orders: i64, status: BatchStatus, manifest: Option<Vec<Stop>>) -> Batch {
    Batch {
        id: shared::BatchId(r.id),
        market_id: r.market_id,
        slot_id: shared::SlotId(r.slot_id),
        slot_starts_at: to_api(r.slot_starts_at),
        building: label,
        community: r.community,
        group_buy_id: r.group_buy_id.map(shared::GroupBuyId),
        pickup_point_id: r.pickup_point_id,
        orders,
        status,
        volunteer: masked_phone(r.volunteer_phone),
        since: to_api(r.claimed_at.unwrap_or(r.created_at)),
        late: false,
        to_gate: r.to_gate.unwrap_or(false),
        manifest,
    }
}

/// What an open batch is keyed by (besides its slot): its building and community, or its
/// group-buy, or its pickup point.
#[derive(Clone, Copy)]
struct BatchKey<'a> {
    building: &'a str,
    community: &'a str,
    group_buy: Option<i64>,
    point: Option<i64>,
}

/// The condition on `orders o` for the orders a batch holds, and its arguments: an open batch's
/// are those it gathers (`OPEN_ORDERS`), a claimed one's its own.
fn held(id: i64, open: bool, slot: i64, key: BatchKey<'_>) -> (&'static str, Vec<Arg>) {
    if open {
        (OPEN_ORDERS, args![slot, key.building, key.group_buy, key.point, key.community].to_vec())
    } else {
        ("o.batch_id = $1", args![id].to_vec())
    }
}

impl Batches {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A slot's batches: open ones are made for every building (and group-buy) with orders no
    /// batch holds yet, so each has an id to claim; then every batch of the slot, in order.
    pub async fn list(&self, slot_id: i64, now: DateTime<Utc>) -> StoreResult<Vec<Batch>> {
        // Pages poll this list: the write (SQLite's one write lock) is taken only when some
        // building's waiting orders have no open batch yet.
        let missing: Option<i64> = self
            .db
            .opt(
                &format!(
                    "SELECT 1 AS missing FROM orders o WHERE o.slot_id = $1 AND o.batch_id IS NULL \
                     AND (o.building IS NOT NULL OR o.pickup_point_id IS NOT NULL) \
                     AND o.status IN ('placed', 'paid', 'confirmed', 'packed') AND NOT EXISTS (SELECT 1 FROM batches b \
                     WHERE b.status = 'open' AND b.slot_id = o.slot_id AND b.building = {BATCH_BUILDING} \
                     AND b.community = {BATCH_COMMUNITY} \
                     AND COALESCE(b.group_buy_id, 0) = COALESCE(o.group_buy_id, 0) \
                     AND COALESCE(b.pickup_point_id, 0) = COALESCE(o.pickup_point_id, 0)) LIMIT 1"
                ),
                &args![slot_id],
            )
            .await?;
        if missing.is_some() {
            let mut tx = self.db.begin().await?;
            tx.exec(
                &format!(
                    "INSERT INTO batches (slot_id, building, community, group_buy_id, pickup_point_id, status, \
                     created_at) SELECT DISTINCT o.slot_id, {BATCH_BUILDING}, {BATCH_COMMUNITY}, o.group_buy_id, \
                     o.pickup_point_id, 'open', $2 \
                     FROM orders o WHERE o.slot_id = $1 AND o.batch_id IS NULL \
                     AND (o.building IS NOT NULL OR o.pickup_point_id IS NOT NULL) \
                     AND o.status IN ('placed', 'paid', 'confirmed', 'packed') ON CONFLICT DO NOTHING"
                ),
                &args![slot_id, now],
            )
            .await?;
            tx.commit().await?;
        }
        let rows: Vec<BatchRow> =
            self.db.all(&format!("{BATCH} WHERE b.slot_id = $1 ORDER BY b.building, b.id"), &args![slot_id]).await?;
        // The slot's orders are read in two grouped reads, whatever the number of batches (a
        // slot's morning makes hundreds; reading each one's orders made volunteers' lists take
        // 90 ms, then 0.66 s at p99 under `rush --morning`): a claimed, out or done batch holds
        // the orders it took, by building; an open one gathers the waiting orders of its
        // building (or group-buy), by status.
        #[derive(Deserialize)]
        struct Taken {
            batch_id: i64,
            building: Option<String>,
            n: i64,
        }
        #[derive(Deserialize)]
        struct Waiting {
            building: Option<String>,
            community: Option<String>,
            group_buy_id: Option<i64>,
            pickup_point_id: Option<i64>,
            status: OrderStatus,
            n: i64,
        }
        let taken: Vec<Taken> = self
            .db
            .all(
                "SELECT o.batch_id, o.building, COUNT(*) AS n FROM orders o WHERE o.slot_id = $1 \
                 AND o.batch_id IS NOT NULL GROUP BY o.batch_id, o.building ORDER BY o.batch_id, o.building",
                &args![slot_id],
            )
            .await?;
        let waiting: Vec<Waiting> = self
            .db
            .all(
                "SELECT o.building, o.community, o.group_buy_id, o.pickup_point_id, o.status, COUNT(*) AS n \
                 FROM orders o WHERE o.slot_id = $1 AND o.batch_id IS NULL \
                 AND (o.building IS NOT NULL OR o.pickup_point_id IS NOT NULL) \
                 AND o.status IN ('placed', 'paid', 'confirmed', 'packed') \
                 GROUP BY o.building, o.community, o.group_buy_id, o.pickup_point_id, o.status ORDER BY o.building",
                &args![slot_id],
            )
            .await?;
        // batch -> (orders, their buildings in order)
        let mut held: BTreeMap<i64, (i64, Vec<String>)> = BTreeMap::new();
        for t in taken {
            let entry = held.entry(t.batch_id).or_default();
            entry.0 += t.n;
            entry.1.extend(t.building);
        }
        // (building, community, group-buy, point) as an open batch is keyed -> (statuses with
        // counts, buildings)
        type Gathered = (Vec<(OrderStatus, i64)>, Vec<String>);
        let mut gathering: BTreeMap<(String, String, Option<i64>, Option<i64>), Gathered> = BTreeMap::new();
        for w in waiting {
            let building = w.building.unwrap_or_default();
            let key = match (w.group_buy_id, w.pickup_point_id) {
                (Some(_), _) => (String::new(), String::new(), w.group_buy_id, None),
                (None, Some(_)) => (String::new(), String::new(), None, w.pickup_point_id),
                (None, None) => (building.clone(), w.community.unwrap_or_default(), None, None),
            };
            let entry = gathering.entry(key).or_default();
            entry.0.push((w.status, w.n));
            if !building.is_empty() && entry.1.last() != Some(&building) {
                entry.1.push(building);
            }
        }
        let mut out = Vec::new();
        for r in rows {
            let (count, status, buildings) = if r.status == "open" {
                let key = (r.building.clone(), r.community.clone(), r.group_buy_id, r.pickup_point_id);
                let (statuses, buildings) = gathering.remove(&key).unwrap_or_default();
                // Whether a batch is ready asks only which statuses its orders have, not how many.
                let count = statuses.iter().map(|(_, n)| n).sum();
                (count, BatchStatus::of_open(statuses.iter().filter(|(_, n)| *n > 0).map(|(s, _)| s)), buildings)
            } else {
                let (count, buildings) = held.remove(&r.id).unwrap_or_default();
                let snapshot =
                    BatchSnapshot { id: r.id, stored: r.status.clone(), volunteer_id: r.volunteer_id, orders: vec![] };
                (count, snapshot.status(), buildings)
            };
            let label = match (&r.point_name, r.group_buy_id) {
                (Some(point), _) => point.clone(),
                (None, Some(_)) => buildings.join("、"),
                (None, None) => r.building.clone(),
            };
            let batch = batch_of(r, label, count, status, None);
            // An open batch whose orders were all cancelled holds nothing: not shown.
            if batch.orders > 0 || batch.status != BatchStatus::Waiting {
                out.push(batch);
            }
        }
        Ok(out)
    }

    /// One batch; with its manifest when `with_manifest` (its volunteer, staff).
    /// Which delivery slots starting between `from` and `to` have work for volunteers: ready
    /// batches, and the batches `volunteer` has claimed or carries (`domain::delivery::slot_work`
    /// decides). Two grouped reads over those slots' orders and batches.
    pub async fn work_by_slot(
        &self,
        market: shared::MarketId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        volunteer: i64,
    ) -> StoreResult<Vec<shared::api::SlotWork>> {
        #[derive(Deserialize)]
        struct Waiting {
            slot_id: i64,
            building: Option<String>,
            community: Option<String>,
            group_buy_id: Option<i64>,
            pickup_point_id: Option<i64>,
            status: OrderStatus,
            n: i64,
        }
        #[derive(Deserialize)]
        struct Mine {
            slot_id: i64,
        }
        let waiting: Vec<Waiting> = self
            .db
            .all(
                "SELECT o.slot_id, o.building, o.community, o.group_buy_id, o.pickup_point_id, o.status, COUNT(*) AS n \
                 FROM slots s \
                 JOIN orders o ON o.slot_id = s.id WHERE s.starts_at >= $1 AND s.starts_at < $2 AND s.market_id = $3 \
                 AND s.kind = 'delivery' AND o.batch_id IS NULL \
                 AND (o.building IS NOT NULL OR o.pickup_point_id IS NOT NULL) \
                 AND o.status IN ('placed', 'paid', 'confirmed', 'packed') \
                 GROUP BY o.slot_id, o.building, o.community, o.group_buy_id, o.pickup_point_id, o.status",
                &args![from, to, market],
            )
            .await?;
        let mine: Vec<Mine> = self
            .db
            .all(
                "SELECT b.slot_id FROM batches b JOIN slots s ON s.id = b.slot_id WHERE b.volunteer_id = $1 \
                 AND b.status IN ('claimed', 'out') AND s.starts_at >= $2 AND s.starts_at < $3",
                &args![volunteer, from, to],
            )
            .await?;
        let waiting: Vec<WaitingOrders> = waiting
            .into_iter()
            .map(|w| WaitingOrders {
                slot_id: w.slot_id,
                building: w.building.unwrap_or_default(),
                community: w.community.unwrap_or_default(),
                group_buy_id: w.group_buy_id,
                pickup_point_id: w.pickup_point_id,
                status: w.status,
                count: w.n,
            })
            .collect();
        let mine: Vec<i64> = mine.into_iter().map(|m| m.slot_id).collect();
        Ok(slot_work(&waiting, &mine)
            .into_iter()
            .map(|(slot, ready, mine)| shared::api::SlotWork { slot_id: shared::SlotId(slot), ready, mine })
            .collect())
    }

    /// The rounds done between `from` and `to` (of one volunteer, or of all), newest first:
    /// (round, its batch, its building, the volunteer's phone and name).
    /// `market`: only rounds of its slots (None: any, for one volunteer's own).
    pub async fn rounds(
        &self,
        market: Option<shared::MarketId>,
        volunteer: Option<i64>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(Round, i64, String, Option<String>, Option<String>)>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            building: String,
            volunteer_id: i64,
            claimed_at: DateTime<Utc>,
            done_at: DateTime<Utc>,
            phone: Option<String>,
            display_name: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT b.id, b.building, b.volunteer_id, b.claimed_at, b.done_at, u.phone, u.display_name \
                 FROM batches b JOIN users u ON u.id = b.volunteer_id JOIN slots s ON s.id = b.slot_id \
                 WHERE b.status = 'done' AND b.done_at >= $1 AND b.done_at < $2 \
                 AND (CAST($3 AS BIGINT) IS NULL OR b.volunteer_id = $3) \
                 AND (CAST($4 AS BIGINT) IS NULL OR s.market_id = $4) ORDER BY b.done_at DESC, b.id DESC LIMIT 100000",
                &args![from, to, volunteer, market.map(shared::MarketId::get)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let round = Round { volunteer_id: r.volunteer_id, claimed_at: r.claimed_at, done_at: r.done_at };
                (round, r.id, r.building, r.phone, r.display_name)
            })
            .collect())
    }

    pub async fn batch(&self, id: i64, with_manifest: bool) -> StoreResult<Option<(Batch, Option<i64>)>> {
        let Some(r) = self.db.opt(&format!("{BATCH} WHERE b.id = $1"), &args![id]).await? else { return Ok(None) };
        Ok(Some(self.shown(r, with_manifest).await?))
    }

    /// The batch as shown, and its volunteer's id.
    async fn shown(&self, r: BatchRow, with_manifest: bool) -> StoreResult<(Batch, Option<i64>)> {
        let key = BatchKey {
            building: &r.building,
            community: &r.community,
            group_buy: r.group_buy_id,
            point: r.pickup_point_id,
        };
        let (which, held_args) = held(r.id, r.status == "open", r.slot_id, key);
        let orders: Vec<HeldOrder> = self
            .db
            .all(
                &format!(
                    "SELECT o.id, o.status, o.building, o.community, o.unit, o.room, u.phone, o.note, o.handoff_attempts, \
                     o.left_at_door, o.door_photo FROM orders o JOIN users u ON u.id = o.user_id WHERE {which} \
                     ORDER BY o.building, o.unit, o.room, o.id"
                ),
                &held_args,
            )
            .await?;
        let snapshot = BatchSnapshot {
            id: r.id,
            stored: r.status.clone(),
            volunteer_id: r.volunteer_id,
            orders: orders.iter().map(|o| (o.id, o.status)).collect(),
        };
        let label = if let Some(point) = &r.point_name {
            point.clone()
        } else if r.group_buy_id.is_some() {
            let mut buildings: Vec<String> = orders.iter().filter_map(|o| o.building.clone()).collect();
            buildings.dedup();
            buildings.join("、")
        } else {
            r.building.clone()
        };
        let count = orders.len() as i64;
        let manifest = if with_manifest { Some(self.manifest(orders).await?) } else { None };
        let volunteer = r.volunteer_id;
        Ok((batch_of(r, label, count, snapshot.status(), manifest), volunteer))
    }

    async fn manifest(&self, orders: Vec<HeldOrder>) -> StoreResult<Vec<Stop>> {
        #[derive(Deserialize)]
        struct Item {
            order_id: i64,
            name: String,
            unit: String,
            quantity: i64,
        }
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let sql = format!(
            "SELECT order_id, name, unit, quantity - short_quantity AS quantity FROM order_lines \
             WHERE order_id IN {} ORDER BY order_id, vendor_id, product_id",
            self.db.list(1)
        );
        let mut items: BTreeMap<i64, Vec<StopItem>> = BTreeMap::new();
        for l in self.db.all::<Item>(&sql, &[Arg::json(&ids)]).await? {
            if l.quantity > 0 {
                items.entry(l.order_id).or_default().push(StopItem {
                    name: l.name,
                    unit: l.unit,
                    quantity: l.quantity,
                });
            }
        }
        Ok(orders
            .into_iter()
            .map(|o| Stop {
                order_id: shared::OrderId(o.id),
                building: o.building.unwrap_or_default(),
                community: o.community.unwrap_or_default(),
                unit: o.unit.unwrap_or_default(),
                room: o.room.unwrap_or_default(),
                phone: masked_phone(o.phone),
                note: o.note,
                status: o.status,
                items: items.remove(&o.id).unwrap_or_default(),
                handoff_attempts: o.handoff_attempts,
                left_at_door: o.left_at_door,
                door_photo: o.door_photo.is_some(),
            })
            .collect())
    }

    /// A volunteer claims a ready batch; exactly one of several at once gets it.
    pub async fn claim(&self, id: i64, volunteer: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.db.begin().await?;
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
        let sql = format!("UPDATE orders SET batch_id = $1 WHERE id IN {}", tx.list(2));
        tx.exec(&sql, &[Arg::Int(id), Arg::json(&orders)]).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// The batch's volunteer picks it up: it is out, its orders out for delivery.
    pub async fn pickup(&self, id: i64, volunteer: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        let mut tx = self.db.begin().await?;
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

    /// The batch's volunteer drops a pickup point's batch there: its orders wait at the point
    /// until the point closes on the slot's day; the round is done.
    pub async fn drop_at_point(&self, id: i64, volunteer: i64, now: DateTime<Utc>) -> StoreResult<Result<(), Refusal>> {
        #[derive(Deserialize)]
        struct Point {
            pickup_point_id: Option<i64>,
            name: Option<String>,
            closes: Option<String>,
            starts_at: DateTime<Utc>,
        }
        let mut tx = self.db.begin().await?;
        let snapshot = load_batch(&mut tx, id).await?;
        let point: Option<Point> = tx
            .opt(
                "SELECT b.pickup_point_id, pp.name, pp.closes, s.starts_at FROM batches b JOIN slots s ON s.id = b.slot_id \
                 LEFT JOIN pickup_points pp ON pp.id = b.pickup_point_id WHERE b.id = $1",
                &args![id],
            )
            .await?;
        let at = point.as_ref().and_then(|p| p.pickup_point_id);
        let orders = match crate::domain::points::decide_drop(snapshot.as_ref(), at, volunteer) {
            Ok(orders) => orders,
            Err(r) => return Ok(Err(r)),
        };
        let name = point.as_ref().and_then(|p| p.name.clone()).unwrap_or_default();
        let until = point
            .map(|p| crate::domain::points::collect_by(p.closes.as_deref().unwrap_or_default(), p.starts_at))
            .unwrap_or(now)
            .max(now);
        let sql = format!("UPDATE orders SET at_point_at = $1, collect_by = $2 WHERE id IN {}", tx.list(3));
        tx.exec(&sql, &[Arg::Time(now), Arg::Time(until), Arg::json(&orders)]).await?;
        // Each household is told its order is there, and until when (with the drop, or not at all).
        for order in &orders {
            let user: i64 = tx.one("SELECT user_id FROM orders WHERE id = $1", &args![*order]).await?;
            let (title, text) = crate::domain::points::arrival_words(*order, &name, until);
            let key = format!("at-point:{order}");
            tx.exec(crate::store::notices::NOTICE_INSERT, &args![user, *order, "at_point", key, title, text, now])
                .await?;
        }
        tx.exec("UPDATE batches SET status = 'done', done_at = $2 WHERE id = $1", &args![id, now]).await?;
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
        let mut tx = self.db.begin().await?;
        let (batch_id, snapshot) = load_at_door(&mut tx, order_id).await?;
        match decide_handoff(snapshot.as_ref(), volunteer, staff, proof) {
            Err(r) => Ok(Err(r)),
            Ok(Handoff::Wrong { attempts }) => {
                tx.exec("UPDATE orders SET handoff_attempts = $2 WHERE id = $1", &args![order_id, attempts]).await?;
                tx.commit().await?;
                Ok(Err(Refusal::new(
                    shared::ErrorCode::WrongCode,
                    format!("收货码不对（第{attempts}次）(wrong code, try {attempts} of 5)"),
                )))
            }
            Ok(Handoff::Again) => Ok(Ok(())),
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
    /// The market of the order's slot; None: no such order.
    pub async fn order_market(&self, order_id: i64) -> StoreResult<Option<shared::MarketId>> {
        Ok(self
            .db
            .opt("SELECT s.market_id FROM orders o JOIN slots s ON s.id = o.slot_id WHERE o.id = $1", &args![order_id])
            .await?)
    }

    pub async fn reset_handoff(&self, order_id: i64) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx.exec("UPDATE orders SET handoff_attempts = 0 WHERE id = $1", &args![order_id]).await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Records the photo at the door (`key`, already in the private folder) of an order left
    /// there. Ok(Ok(old)): the photo it replaced, for the caller to delete.
    pub async fn set_door_photo(
        &self,
        order_id: i64,
        volunteer: i64,
        staff: bool,
        key: &str,
    ) -> StoreResult<Result<Option<String>, Refusal>> {
        let mut tx = self.db.begin().await?;
        let (_, snapshot) = load_at_door(&mut tx, order_id).await?;
        if let Err(r) = decide_door_photo(snapshot.as_ref(), volunteer, staff) {
            return Ok(Err(r));
        }
        let old: Option<String> =
            tx.one::<Option<String>>("SELECT door_photo FROM orders WHERE id = $1", &args![order_id]).await?;
        tx.exec("UPDATE orders SET door_photo = $2 WHERE id = $1", &args![order_id, key]).await?;
        tx.commit().await?;
        Ok(Ok(old.filter(|o| o != key)))
    }

    /// An order's photo at the door and the volunteer of its batch, if it has one.
    pub async fn door_photo(&self, order_id: i64) -> StoreResult<Option<(String, Option<i64>)>> {
        #[derive(Deserialize)]
        struct Row {
            door_photo: Option<String>,
            volunteer_id: Option<i64>,
        }
        let row: Option<Row> = self
            .db
            .opt(
                "SELECT o.door_photo, b.volunteer_id FROM orders o LEFT JOIN batches b ON b.id = o.batch_id \
                 WHERE o.id = $1",
                &args![order_id],
            )
            .await?;
        Ok(row.and_then(|r| r.door_photo.map(|p| (p, r.volunteer_id))))
    }

    /// Forgets the photos at the door of orders delivered before `before` (kept as long as the
    /// contact trace): the names of the pictures to delete.
    pub async fn forget_door_photos(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let mut tx = self.db.begin().await?;
        let keys: Vec<String> = tx
            .all("SELECT door_photo FROM orders WHERE delivered_at < $1 AND door_photo IS NOT NULL", &args![before])
            .await?;
        tx.exec(
            "UPDATE orders SET door_photo = NULL WHERE delivered_at < $1 AND door_photo IS NOT NULL",
            &args![before],
        )
        .await?;
        tx.commit().await?;
        Ok(keys)
    }

    /// Forgets who carried and handed over the orders delivered before `before` (a contact
    /// trace kept only as long as an investigation needs it): the orders, their times and doors
    /// stay for the accounts; the volunteer on the order, on its delivery steps and on its batch
    /// goes. Returns how many orders were forgotten.
    pub async fn forget_contacts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "UPDATE order_events SET by_user = NULL WHERE status IN ('out_for_delivery', 'delivered') \
             AND by_user IS NOT NULL AND order_id IN \
             (SELECT id FROM orders WHERE delivered_at < $1 AND delivered_by IS NOT NULL)",
            &args![before],
        )
        .await?;
        let forgotten = tx
            .exec(
                "UPDATE orders SET delivered_by = NULL WHERE delivered_at < $1 AND delivered_by IS NOT NULL",
                &args![before],
            )
            .await?;
        tx.exec(
            "UPDATE batches SET volunteer_id = NULL WHERE done_at < $1 AND volunteer_id IS NOT NULL",
            &args![before],
        )
        .await?;
        tx.commit().await?;
        Ok(forgotten)
    }

    /// Every hand-off in a time range, for a volunteer (by phone) and/or a building: who
    /// delivered, when, to which household. What an epidemic investigation asks for.
    pub async fn contacts(
        &self,
        market: shared::MarketId,
        volunteer_phone: Option<&str>,
        building: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<shared::api::Contact>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            delivered_at: DateTime<Utc>,
            phone: Option<String>,
            building: Option<String>,
            community: Option<String>,
            unit: Option<String>,
            room: Option<String>,
            left_at_door: bool,
            slot_id: i64,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT o.id, o.delivered_at, v.phone, o.building, o.community, o.unit, o.room, o.left_at_door, o.slot_id \
                 FROM orders o JOIN users v ON v.id = o.delivered_by JOIN slots s ON s.id = o.slot_id \
                 WHERE o.delivered_at >= $1 AND o.delivered_at < $2 AND s.market_id = $5 \
                 AND (CAST($3 AS TEXT) IS NULL OR v.phone = $3) AND (CAST($4 AS TEXT) IS NULL OR o.building = $4) \
                 ORDER BY o.delivered_at, o.id LIMIT 10000",
                &args![from, to, volunteer_phone, building, market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| shared::api::Contact {
                order_id: shared::OrderId(r.id),
                at: to_api(r.delivered_at),
                volunteer_phone: r.phone,
                building: r.building.unwrap_or_default(),
                community: r.community.unwrap_or_default(),
                unit: r.unit.unwrap_or_default(),
                room: r.room.unwrap_or_default(),
                left_at_door: r.left_at_door,
                slot_id: shared::SlotId(r.slot_id),
            })
            .collect())
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
        let mut tx = self.db.begin().await?;
        let order: Option<ReportedOrder> = tx
            .opt("SELECT user_id, household_id, group_buy_id, status FROM orders WHERE id = $1", &args![order_id])
            .await?;
        if let Err(refusal) = decide_report(order.as_ref(), user_id, household) {
            return Ok(Err(refusal));
        }
        let id: i64 = tx
            .one(
                "INSERT INTO order_problems (order_id, user_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &args![order_id, user_id, text, now],
            )
            .await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Reports, newest first (staff).
    /// `market`'s residents' reports, newest first.
    pub async fn problems(&self, market: shared::MarketId) -> StoreResult<Vec<shared::api::Problem>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            order_id: i64,
            text: String,
            created_at: DateTime<Utc>,
            building: Option<String>,
            unit: Option<String>,
            room: Option<String>,
            phone: Option<String>,
            delivered_by: Option<String>,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT p.id, p.order_id, p.text, p.created_at, o.building, o.unit, o.room, u.phone, \
                 v.phone AS delivered_by FROM order_problems p JOIN orders o ON o.id = p.order_id \
                 JOIN users u ON u.id = p.user_id LEFT JOIN users v ON v.id = o.delivered_by \
                 JOIN slots s ON s.id = o.slot_id WHERE s.market_id = $1 \
                 ORDER BY p.id DESC LIMIT 500",
                &args![market],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| shared::api::Problem {
                id: r.id,
                order_id: shared::OrderId(r.order_id),
                text: r.text,
                created_at: to_api(r.created_at),
                building: r.building,
                unit: r.unit,
                room: r.room,
                phone: masked_phone(r.phone),
                delivered_by: masked_phone(r.delivered_by),
            })
            .collect())
    }

    /// The batch an order is in, if any.
    pub async fn batch_of(&self, order_id: i64) -> StoreResult<Option<i64>> {
        Ok(self.db.opt("SELECT batch_id FROM orders WHERE id = $1", &args![order_id]).await?.flatten())
    }
}

/// The batch, locked, with the orders it holds (or, open, those it gathers), locked by id.
async fn load_batch(tx: &mut Tx, id: i64) -> StoreResult<Option<BatchSnapshot>> {
    #[derive(Deserialize)]
    struct Stored {
        slot_id: i64,
        building: String,
        community: String,
        group_buy_id: Option<i64>,
        pickup_point_id: Option<i64>,
        status: String,
        volunteer_id: Option<i64>,
    }
    #[derive(Deserialize)]
    struct Held {
        id: i64,
        status: OrderStatus,
    }
    let sql = tx.locked(
        "SELECT slot_id, building, community, group_buy_id, pickup_point_id, status, volunteer_id FROM batches \
         WHERE id = $1",
    );
    let Some(b) = tx.opt::<Stored>(&sql, &args![id]).await? else { return Ok(None) };
    let key = BatchKey {
        building: &b.building,
        community: &b.community,
        group_buy: b.group_buy_id,
        point: b.pickup_point_id,
    };
    let (which, held_args) = held(id, b.status == "open", b.slot_id, key);
    let sql = tx.locked(&format!("SELECT o.id, o.status FROM orders o WHERE {which} ORDER BY o.id"));
    let orders: Vec<Held> = tx.all(&sql, &held_args).await?;
    Ok(Some(BatchSnapshot {
        id,
        stored: b.status,
        volunteer_id: b.volunteer_id,
        orders: orders.into_iter().map(|o| (o.id, o.status)).collect(),
    }))
}

async fn set_status(tx: &mut Tx, order: i64, status: OrderStatus, by: i64, now: DateTime<Utc>) -> StoreResult<()> {
    tx.exec("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1", &args![order, status.as_str(), now])
        .await?;
    add_event(tx, shared::OrderId(order), status, now, Some(by)).await
}

/// An order at the door with its batch, locked: the batch first, then its orders (this one
/// among them), the order every delivery step locks in. An order's batch never changes once
/// set, so it is read without a lock. Also the batch's id.
async fn load_at_door(tx: &mut Tx, order_id: i64) -> StoreResult<(Option<i64>, Option<HandoffSnapshot>)> {
    #[derive(Deserialize)]
    struct AtDoor {
        status: OrderStatus,
        handoff_code: String,
        handoff_attempts: i64,
        left_at_door: bool,
        pickup_point_id: Option<i64>,
        keeper_user_id: Option<i64>,
        at_point_at: Option<DateTime<Utc>>,
    }
    let batch_id: Option<i64> = tx.opt("SELECT batch_id FROM orders WHERE id = $1", &args![order_id]).await?.flatten();
    let Some(batch) = (match batch_id {
        Some(b) => load_batch(tx, b).await?,
        None => None,
    }) else {
        return Ok((batch_id, None));
    };
    let o: AtDoor = tx
        .one(
            "SELECT o.status, o.handoff_code, o.handoff_attempts, o.left_at_door, o.pickup_point_id, \
             pp.keeper_user_id, o.at_point_at FROM orders o LEFT JOIN pickup_points pp ON pp.id = o.pickup_point_id \
             WHERE o.id = $1",
            &args![order_id],
        )
        .await?;
    Ok((
        batch_id,
        Some(HandoffSnapshot {
            order_id,
            status: o.status,
            code: o.handoff_code,
            attempts: o.handoff_attempts,
            batch,
            left_at_door: o.left_at_door,
            point: o
                .pickup_point_id
                .map(|_| AtPointHandoff { keeper: o.keeper_user_id, dropped: o.at_point_at.is_some() }),
        }),
    ))
}
