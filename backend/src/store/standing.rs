//! Standing orders (常购): kept per resident with their items; the job's reads of the ones due
//! and its record of each try. What is valid, when to try and what a try's answer changes are
//! `domain::standing`'s; the order itself is the checkout engine's.

use super::db::{args, Arg, Db, Tx};
use super::notices::NOTICE_INSERT;
use super::StoreResult;
use crate::domain::slots::NeedFlags;
use crate::domain::standing::{decide_new, decide_patch, Due, Facts, Outcome, Plan, ProductFacts};
use crate::domain::Refusal;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use shared::api::{
    SlotWindow, StandingItem, StandingLine, StandingOrder, StandingOrderPatch, StandingOrderRequest, StandingPayment,
    StandingRun,
};
use shared::order::SlotKind;
use shared::{Fen, OrderId, ProductId};
use std::collections::HashMap;

pub struct Standing {
    db: Db,
}

const COLUMNS: &str = "s.id, s.user_id, s.every_days, s.slot_kind, s.slot_window, s.payment, s.next_on, s.paused, \
     s.attempt, s.tried_at, s.last_on, s.last_outcome, s.last_message, s.last_order_id, s.created_at";

#[derive(Debug, Clone, Deserialize)]
struct Row {
    id: i64,
    user_id: i64,
    every_days: i64,
    slot_kind: SlotKind,
    slot_window: SlotWindow,
    payment: StandingPayment,
    next_on: String,
    paused: bool,
    attempt: i64,
    tried_at: Option<DateTime<Utc>>,
    last_on: Option<String>,
    last_outcome: Option<String>,
    last_message: Option<String>,
    last_order_id: Option<OrderId>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize)]
struct ItemRow {
    standing_order_id: i64,
    product_id: ProductId,
    quantity: i64,
    name: String,
    unit: String,
    price_fen: Fen,
    active: bool,
    photo: Option<String>,
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
}

fn text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A standing order due for a try, with what the try needs.
#[derive(Debug, Clone)]
pub struct DueOrder {
    pub due: Due,
    pub user_id: i64,
    pub payment: StandingPayment,
    /// (product, quantity), in product order.
    pub lines: Vec<(ProductId, i64)>,
    /// The market of the resident's home, whose slots it is placed in.
    pub market_id: shared::MarketId,
}

impl Standing {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// What deciding a resident's standing order needs: their home, whether the pool may pay
    /// for them, the products named, how many they keep besides `except`.
    async fn facts(
        tx: &mut Tx,
        user_id: i64,
        products: &[ProductId],
        except: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Facts> {
        #[derive(Deserialize)]
        struct Product {
            id: ProductId,
            name: String,
            active: bool,
            per_order_limit: Option<i64>,
        }
        #[derive(Deserialize)]
        struct Kept {
            n: i64,
        }
        let flags: Option<NeedFlags> = tx
            .opt(
                "SELECT h.quarantined, h.hardship, h.elderly FROM users u JOIN households h ON h.id = u.household_id \
                 WHERE u.id = $1",
                &args![user_id],
            )
            .await?;
        let ids: Vec<i64> = products.iter().map(|p| p.get()).collect();
        let sql = format!("SELECT id, name, active, per_order_limit FROM products WHERE id IN {}", tx.list(1));
        let found: Vec<Product> = tx.all(&sql, &[Arg::json(&ids)]).await?;
        let kept: Kept = tx
            .one(
                "SELECT COUNT(*) AS n FROM standing_orders WHERE user_id = $1 AND ended_at IS NULL AND id <> $2",
                &args![user_id, except.unwrap_or(0)],
            )
            .await?;
        Ok(Facts {
            today: day(&crate::domain::time::shanghai_date(now)),
            has_home: flags.is_some(),
            pool_allowed: flags.is_some_and(|f| crate::domain::donations::helped(f.quarantined, f.hardship)),
            products: found
                .into_iter()
                .map(|p| (p.id, ProductFacts { name: p.name, active: p.active, per_order_limit: p.per_order_limit }))
                .collect(),
            kept: kept.n as usize,
        })
    }

    /// A new standing order, as `decide_new` allows.
    pub async fn create(
        &self,
        user_id: i64,
        req: &StandingOrderRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<StandingOrder, Refusal>> {
        let mut tx = self.db.begin().await?;
        // The resident's row is locked: two creations at once count each other.
        let sql = tx.locked("SELECT id FROM users WHERE id = $1");
        let _: Option<i64> = tx.opt(&sql, &args![user_id]).await?;
        let named: Vec<ProductId> = req.items.iter().map(|i| i.product_id).collect();
        let facts = Self::facts(&mut tx, user_id, &named, None, now).await?;
        let plan = match decide_new(req, &facts) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id: i64 = tx
            .one(
                "INSERT INTO standing_orders (user_id, every_days, slot_kind, slot_window, payment, next_on, paused, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                &args![
                    user_id,
                    plan.every_days,
                    plan.slot_kind.as_str(),
                    plan.window.as_str(),
                    plan.payment.as_str(),
                    text(plan.next_on),
                    plan.paused,
                    now
                ],
            )
            .await?;
        write_items(&mut tx, id, &plan.items).await?;
        tx.commit().await?;
        Ok(Ok(self.get(user_id, id).await?.ok_or_else(|| super::broken("a new standing order is gone"))?))
    }

    /// A resident's standing orders that have not ended, oldest first.
    pub async fn list(&self, user_id: i64) -> StoreResult<Vec<StandingOrder>> {
        let rows: Vec<Row> = self
            .db
            .all(
                &format!(
                    "SELECT {COLUMNS} FROM standing_orders s WHERE s.user_id = $1 AND s.ended_at IS NULL ORDER BY s.id"
                ),
                &args![user_id],
            )
            .await?;
        self.views(rows).await
    }

    /// One of the resident's standing orders (none: not theirs, or ended).
    pub async fn get(&self, user_id: i64, id: i64) -> StoreResult<Option<StandingOrder>> {
        let rows: Vec<Row> = self
            .db
            .all(
                &format!(
                    "SELECT {COLUMNS} FROM standing_orders s WHERE s.id = $1 AND s.user_id = $2 AND s.ended_at IS NULL"
                ),
                &args![id, user_id],
            )
            .await?;
        Ok(self.views(rows).await?.pop())
    }

    async fn views(&self, rows: Vec<Row>) -> StoreResult<Vec<StandingOrder>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let sql = format!(
            "SELECT i.standing_order_id, i.product_id, i.quantity, p.name, p.unit, p.price_fen, p.active, p.photo \
             FROM standing_order_items i JOIN products p ON p.id = i.product_id \
             WHERE i.standing_order_id IN {} ORDER BY i.standing_order_id, i.product_id",
            self.db.list(1)
        );
        let items: Vec<ItemRow> = self.db.all(&sql, &[Arg::json(&ids)]).await?;
        let mut by_order: HashMap<i64, Vec<StandingLine>> = HashMap::new();
        for i in items {
            by_order.entry(i.standing_order_id).or_default().push(StandingLine {
                product_id: i.product_id,
                name: i.name,
                unit: i.unit,
                quantity: i.quantity,
                price_fen: i.price_fen,
                on_sale: i.active,
                photo: i.photo.as_deref().map(crate::photos::urls),
            });
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let items = by_order.remove(&r.id).unwrap_or_default();
                let total_fen = items.iter().filter(|l| l.on_sale).map(|l| l.price_fen.times(l.quantity)).sum();
                StandingOrder {
                    id: r.id,
                    items,
                    every_days: r.every_days,
                    slot_kind: r.slot_kind,
                    window: r.slot_window,
                    payment: r.payment,
                    next_on: r.next_on,
                    paused: r.paused,
                    last: match (r.last_on, r.last_outcome) {
                        (Some(on), Some(outcome)) => {
                            Some(StandingRun { on, outcome, order_id: r.last_order_id, message: r.last_message })
                        }
                        _ => None,
                    },
                    total_fen,
                    created_at: crate::domain::time::to_api(r.created_at),
                }
            })
            .collect())
    }

    /// Changes one of the resident's standing orders as `decide_patch` allows (none: not
    /// theirs, or ended). A change of day, slot or items starts the day's tries afresh.
    pub async fn change(
        &self,
        user_id: i64,
        id: i64,
        patch: &StandingOrderPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<StandingOrder, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked(&format!(
            "SELECT {COLUMNS} FROM standing_orders s WHERE s.id = $1 AND s.user_id = $2 AND s.ended_at IS NULL"
        ));
        let Some(row) = tx.opt::<Row>(&sql, &args![id, user_id]).await? else { return Ok(None) };
        let items: Vec<StandingItem> = tx
            .all(
                "SELECT product_id, quantity FROM standing_order_items WHERE standing_order_id = $1 ORDER BY product_id",
                &args![id],
            )
            .await?;
        let current = Plan {
            items,
            every_days: row.every_days,
            slot_kind: row.slot_kind,
            window: row.slot_window,
            payment: row.payment,
            next_on: day(&row.next_on),
            paused: row.paused,
        };
        let mut named: Vec<ProductId> = current.items.iter().map(|i| i.product_id).collect();
        named.extend(patch.items.iter().flatten().map(|i| i.product_id));
        let facts = Self::facts(&mut tx, user_id, &named, Some(id), now).await?;
        let plan = match decide_patch(&current, patch, &facts) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        tx.exec(
            "UPDATE standing_orders SET every_days = $2, slot_kind = $3, slot_window = $4, payment = $5, next_on = $6, \
             paused = $7, tried_at = NULL, updated_at = $8 WHERE id = $1",
            &args![
                id,
                plan.every_days,
                plan.slot_kind.as_str(),
                plan.window.as_str(),
                plan.payment.as_str(),
                text(plan.next_on),
                plan.paused,
                now
            ],
        )
        .await?;
        if patch.items.is_some() {
            tx.exec("DELETE FROM standing_order_items WHERE standing_order_id = $1", &args![id]).await?;
            write_items(&mut tx, id, &plan.items).await?;
        }
        tx.commit().await?;
        Ok(self.get(user_id, id).await?.map(Ok))
    }

    /// Ends one of the resident's standing orders (false: not theirs, or ended already). Its
    /// orders stay as they are.
    pub async fn end(&self, user_id: i64, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let ended = self
            .db
            .exec(
                "UPDATE standing_orders SET ended_at = $3, updated_at = $3 WHERE id = $1 AND user_id = $2 \
                 AND ended_at IS NULL",
                &args![id, user_id, now],
            )
            .await?;
        Ok(ended == 1)
    }

    /// Standing orders whose next day is `until` or earlier, not paused or ended, with what a
    /// try needs; at most `limit`, earliest day first.
    pub async fn due(&self, until: NaiveDate, limit: i64) -> StoreResult<Vec<DueOrder>> {
        #[derive(Deserialize)]
        struct Line {
            standing_order_id: i64,
            product_id: ProductId,
            quantity: i64,
        }
        #[derive(Deserialize)]
        struct Flags {
            user_id: i64,
            quarantined: bool,
            hardship: bool,
            elderly: bool,
            market_id: shared::MarketId,
        }
        let paused = if self.db.postgres() { "NOT s.paused" } else { "s.paused = 0" };
        let rows: Vec<Row> = self
            .db
            .all(
                &format!(
                    "SELECT {COLUMNS} FROM standing_orders s WHERE s.next_on <= $1 AND s.ended_at IS NULL AND {paused} \
                     ORDER BY s.next_on, s.id LIMIT $2"
                ),
                &args![text(until), limit],
            )
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let sql = format!(
            "SELECT standing_order_id, product_id, quantity FROM standing_order_items \
             WHERE standing_order_id IN {} ORDER BY standing_order_id, product_id",
            self.db.list(1)
        );
        let mut lines: HashMap<i64, Vec<(ProductId, i64)>> = HashMap::new();
        for l in self.db.all::<Line>(&sql, &[Arg::json(&ids)]).await? {
            lines.entry(l.standing_order_id).or_default().push((l.product_id, l.quantity));
        }
        let users: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
        let sql = format!(
            "SELECT u.id AS user_id, h.quarantined, h.hardship, h.elderly, b.market_id FROM users u \
             JOIN households h ON h.id = u.household_id JOIN buildings b ON b.id = h.building_id WHERE u.id IN {}",
            self.db.list(1)
        );
        let flags: HashMap<i64, (NeedFlags, shared::MarketId)> = self
            .db
            .all::<Flags>(&sql, &[Arg::json(&users)])
            .await?
            .into_iter()
            .map(|f| {
                let flags = NeedFlags { quarantined: f.quarantined, hardship: f.hardship, elderly: f.elderly };
                (f.user_id, (flags, f.market_id))
            })
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| {
                let priority = flags.get(&r.user_id).is_some_and(|(f, _)| f.is_priority());
                let market_id = flags.get(&r.user_id).map(|(_, m)| *m).unwrap_or_default();
                DueOrder {
                    due: Due {
                        id: r.id,
                        slot_kind: r.slot_kind,
                        window: r.slot_window,
                        next_on: day(&r.next_on),
                        every_days: r.every_days,
                        attempt: r.attempt,
                        tried_at: r.tried_at,
                        priority,
                    },
                    user_id: r.user_id,
                    payment: r.payment,
                    lines: lines.remove(&r.id).unwrap_or_default(),
                    market_id,
                }
            })
            .collect())
    }

    /// Takes the next try of `due` for this process: true when no other process (or an earlier
    /// pass) has taken it since `due` was read. A try taken and then cut short (a crash) is
    /// made again after the retry interval.
    pub async fn claim(&self, due: &Due, now: DateTime<Utc>) -> StoreResult<bool> {
        let same = if self.db.postgres() { "IS NOT DISTINCT FROM" } else { "IS" };
        let taken = self
            .db
            .exec(
                &format!(
                    "UPDATE standing_orders SET tried_at = $4 WHERE id = $1 AND next_on = $2 AND attempt = $3 \
                     AND tried_at {same} $5 AND ended_at IS NULL"
                ),
                &args![due.id, text(due.next_on), due.attempt, now, due.tried_at],
            )
            .await?;
        Ok(taken == 1)
    }

    /// Writes what a try (or a miss) did, if the standing order is still as the try found it
    /// (same day and attempt: another process, or the household, may have got there first):
    /// the standing order moved on, the order it placed named, the household told. False when
    /// nothing was written.
    pub async fn record(&self, user_id: i64, due: &Due, outcome: &Outcome, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let moved = tx
            .exec(
                "UPDATE standing_orders SET next_on = $3, attempt = $4, tried_at = $5, last_on = $6, last_outcome = $7, \
                 last_order_id = $8, last_message = $9, updated_at = $10 \
                 WHERE id = $1 AND next_on = $2 AND attempt = $11 AND ended_at IS NULL",
                &args![
                    due.id,
                    text(due.next_on),
                    text(outcome.next_on),
                    outcome.attempt,
                    outcome.tried_at,
                    text(outcome.last_on),
                    outcome.last_outcome,
                    outcome.last_order.map(|o| o.get()),
                    outcome.last_message.clone(),
                    now,
                    due.attempt
                ],
            )
            .await?;
        if moved == 0 {
            return Ok(false);
        }
        if let Some(order) = outcome.last_order {
            tx.exec("UPDATE orders SET standing_order_id = $1 WHERE id = $2", &args![due.id, order.get()]).await?;
        }
        if let Some((kind, title, body)) = &outcome.notice {
            let dedupe = format!("standing:{}:{}:{kind}", due.id, text(due.next_on));
            tx.exec(
                NOTICE_INSERT,
                &args![user_id, outcome.last_order.map(|o| o.get()), *kind, dedupe, title.clone(), body.clone(), now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

async fn write_items(tx: &mut Tx, id: i64, items: &[StandingItem]) -> StoreResult<()> {
    for item in items {
        tx.exec(
            "INSERT INTO standing_order_items (standing_order_id, product_id, quantity) VALUES ($1, $2, $3)",
            &args![id, item.product_id.get(), item.quantity],
        )
        .await?;
    }
    Ok(())
}
