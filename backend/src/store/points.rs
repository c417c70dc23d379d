//! Satellite pickup points (自提点): the points staff set up, the orders a keeper has at theirs,
//! and the market's clock for orders nobody collected. The rules are `domain::points`'s.

use super::checkout::orders::return_uncollected;
use super::db::{args, Db};
use super::setup::{record, Audit};
use super::{masked_phone, StoreResult};
use crate::domain::points::{decide_uncollected, AtPoint, CheckedPoint, UncollectedStep};
use crate::domain::time::to_api;
use crate::domain::Refusal;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use shared::api::{PickupPoint, PointOrder, Uncollected};
use shared::order::OrderStatus;
use shared::ErrorCode;

pub struct Points {
    db: Db,
}

const POINT_SELECT: &str =
    "SELECT p.id, p.market_id, p.name, p.address, p.opens, p.closes, p.capacity, p.uncollected, p.active, \
     u.phone AS keeper_phone FROM pickup_points p LEFT JOIN users u ON u.id = p.keeper_user_id";

#[derive(Deserialize)]
struct PointRecord {
    id: i64,
    market_id: shared::MarketId,
    name: String,
    address: String,
    opens: String,
    closes: String,
    capacity: i64,
    uncollected: String,
    active: bool,
    keeper_phone: Option<String>,
}

impl PointRecord {
    fn shown(self, staff: bool) -> PickupPoint {
        PickupPoint {
            id: self.id,
            market_id: self.market_id,
            name: self.name,
            address: self.address,
            opens: self.opens,
            closes: self.closes,
            capacity: self.capacity,
            uncollected: Uncollected::parse(&self.uncollected).unwrap_or_default(),
            active: self.active,
            remaining: None,
            keeper_phone: if staff { self.keeper_phone } else { None },
        }
    }
}

/// What the market's clock did with an order nobody collected: (order, its resident, the
/// point's name, the step).
pub type UncollectedDone = (i64, i64, String, UncollectedStep);

impl Points {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The keeper's account (made if new, then of the point's market), by phone.
    async fn keeper(
        tx: &mut super::db::Tx,
        market: shared::MarketId,
        phone: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let Some(phone) = phone else { return Ok(None) };
        tx.exec(
            "INSERT INTO users (phone, created_at, market_id) VALUES ($1, $2, $3) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now, market],
        )
        .await?;
        Ok(Some(tx.one("SELECT id FROM users WHERE phone = $1", &args![phone]).await?))
    }

    /// Staff set up a point (`id` none) or change one. Ok(None): no such point; a name another
    /// point of the market has: refused.
    pub async fn save(
        &self,
        market: shared::MarketId,
        id: Option<i64>,
        p: &CheckedPoint,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Option<PickupPoint>, Refusal>> {
        let mut tx = self.db.begin().await?;
        let taken: Option<i64> = tx
            .opt("SELECT id FROM pickup_points WHERE name = $1 AND market_id = $2", &args![p.name.as_str(), market])
            .await?;
        if taken.is_some_and(|t| Some(t) != id) {
            return Ok(Err(Refusal::new(
                ErrorCode::WrongState,
                format!("已有“{}” (a pickup point of this name exists)", p.name),
            )));
        }
        let keeper = Self::keeper(&mut tx, market, p.keeper_phone.as_deref(), now).await?;
        let fields = args![
            p.name.as_str(),
            p.address.as_str(),
            p.opens.as_str(),
            p.closes.as_str(),
            p.capacity,
            keeper,
            p.uncollected.as_str(),
            p.active
        ];
        let mut values = fields.to_vec();
        let (saved, action): (Option<i64>, &str) = match id {
            None => {
                values.push(now.into());
                values.push(market.into());
                let sql = "INSERT INTO pickup_points (name, address, opens, closes, capacity, keeper_user_id, \
                           uncollected, active, created_at, market_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                           RETURNING id";
                (Some(tx.one(sql, &values).await?), "add")
            }
            Some(id) => {
                values.push(id.into());
                values.push(market.into());
                let sql = "UPDATE pickup_points SET name = $1, address = $2, opens = $3, closes = $4, capacity = $5, \
                           keeper_user_id = $6, uncollected = $7, active = $8 WHERE id = $9 AND market_id = $10 \
                           RETURNING id";
                (tx.opt(sql, &values).await?, "change")
            }
        };
        let Some(id) = saved else { return Ok(Ok(None)) };
        let entry = Audit { at: now, actor: Some(by), subject: "pickup_point", subject_id: id.to_string(), action };
        let after = serde_json::json!({ "name": p.name, "capacity": p.capacity, "active": p.active });
        record(&mut tx, entry, None, Some(&after)).await?;
        let point: PointRecord = tx.one(&format!("{POINT_SELECT} WHERE p.id = $1"), &args![id]).await?;
        tx.commit().await?;
        Ok(Ok(Some(point.shown(true))))
    }

    /// The points: every one for staff (with keepers' phones), the open ones for residents;
    /// with a slot, the places each has left in it.
    pub async fn all(&self, market: shared::MarketId, staff: bool, slot: Option<i64>) -> StoreResult<Vec<PickupPoint>> {
        #[derive(Deserialize)]
        struct Taken {
            pickup_point_id: i64,
            n: i64,
        }
        let rows: Vec<PointRecord> = self
            .db
            .all(
                &format!(
                    "{POINT_SELECT} WHERE p.market_id = $3 AND (CAST($1 AS BOOLEAN) OR p.active = $2) \
                     ORDER BY p.id LIMIT 500"
                ),
                &args![staff, true, market],
            )
            .await?;
        let taken: Vec<Taken> = match slot {
            Some(slot) => {
                self.db
                    .all(
                        "SELECT pickup_point_id, COUNT(*) AS n FROM orders WHERE slot_id = $1 \
                         AND pickup_point_id IS NOT NULL AND status NOT IN ('cancelled', 'expired') \
                         GROUP BY pickup_point_id",
                        &args![slot],
                    )
                    .await?
            }
            None => Vec::new(),
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let used = taken.iter().find(|t| t.pickup_point_id == r.id).map_or(0, |t| t.n);
                let capacity = r.capacity;
                let mut p = r.shown(staff);
                p.remaining = slot.map(|_| (capacity - used).max(0));
                p
            })
            .collect())
    }

    /// The orders at (or on their way to) the points `user` keeps, from two days back on:
    /// waiting at the point first, then by slot.
    pub async fn keeper_orders(&self, user: i64, now: DateTime<Utc>) -> StoreResult<Vec<PointOrder>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            pickup_point_id: i64,
            name: String,
            status: OrderStatus,
            starts_at: DateTime<Utc>,
            at_point_at: Option<DateTime<Utc>>,
            collect_by: Option<DateTime<Utc>>,
            phone: Option<String>,
            items: i64,
        }
        let rows: Vec<Row> = self
            .db
            .all(
                "SELECT o.id, o.pickup_point_id, p.name, o.status, s.starts_at, o.at_point_at, o.collect_by, u.phone, \
                 CAST((SELECT COALESCE(SUM(l.quantity - l.short_quantity), 0) FROM order_lines l \
                       WHERE l.order_id = o.id) AS BIGINT) AS items \
                 FROM pickup_points p JOIN orders o ON o.pickup_point_id = p.id JOIN slots s ON s.id = o.slot_id \
                 JOIN users u ON u.id = o.user_id \
                 WHERE p.keeper_user_id = $1 AND s.starts_at >= $2 \
                 AND o.status IN ('placed', 'paid', 'confirmed', 'packed', 'out_for_delivery', 'delivered') \
                 ORDER BY CASE WHEN o.at_point_at IS NOT NULL AND o.status = 'out_for_delivery' THEN 0 ELSE 1 END, \
                 s.starts_at, o.id LIMIT 1000",
                &args![user, now - Duration::days(2)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PointOrder {
                order_id: shared::OrderId(r.id),
                point_id: r.pickup_point_id,
                point: r.name,
                status: r.status,
                slot_starts_at: to_api(r.starts_at),
                at_point_at: r.at_point_at.map(to_api),
                collect_by: r.collect_by.map(to_api),
                phone: masked_phone(r.phone),
                items: r.items,
            })
            .collect())
    }

    /// Whether `user` keeps any point.
    pub async fn keeps(&self, user: i64) -> StoreResult<bool> {
        let any: Option<i64> =
            self.db.opt("SELECT id FROM pickup_points WHERE keeper_user_id = $1 LIMIT 1", &args![user]).await?;
        Ok(any.is_some())
    }

    /// Orders waiting at a point past their time: each kept a day or returned, as its point is
    /// set (`domain::points::decide_uncollected`), each in its own transaction.
    pub async fn sweep_uncollected(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<UncollectedDone>> {
        #[derive(Deserialize)]
        struct Due {
            id: i64,
        }
        #[derive(Deserialize)]
        struct Waiting {
            user_id: i64,
            status: OrderStatus,
            collect_by: DateTime<Utc>,
            uncollected_at: Option<DateTime<Utc>>,
            uncollected: String,
            name: String,
        }
        let due: Vec<Due> = self
            .db
            .all(
                "SELECT id FROM orders WHERE at_point_at IS NOT NULL AND status = 'out_for_delivery' \
                 AND collect_by <= $1 ORDER BY collect_by, id LIMIT $2",
                &args![now, limit],
            )
            .await?;
        let mut done = Vec::new();
        for d in due {
            let mut tx = self.db.begin().await?;
            let sql = tx.locked_of(
                "SELECT o.user_id, o.status, o.collect_by, o.uncollected_at, p.uncollected, p.name FROM orders o \
                 JOIN pickup_points p ON p.id = o.pickup_point_id WHERE o.id = $1",
                "o",
            );
            let Some(w) = tx.opt::<Waiting>(&sql, &args![d.id]).await? else { continue };
            let at = AtPoint {
                status: w.status,
                collect_by: w.collect_by,
                kept: w.uncollected_at.is_some(),
                rule: Uncollected::parse(&w.uncollected).unwrap_or_default(),
            };
            let Some(step) = decide_uncollected(&at, now) else { continue };
            match step {
                UncollectedStep::KeepUntil(until) => {
                    tx.exec(
                        "UPDATE orders SET collect_by = $2, uncollected_at = $3 WHERE id = $1",
                        &args![d.id, until, now],
                    )
                    .await?;
                }
                UncollectedStep::Return => {
                    tx.exec("UPDATE orders SET uncollected_at = $2 WHERE id = $1", &args![d.id, now]).await?;
                    if !return_uncollected(&mut tx, d.id, now).await? {
                        continue;
                    }
                }
            }
            tx.commit().await?;
            done.push((d.id, w.user_id, w.name, step));
        }
        Ok(done)
    }
}
