//! Group-buys: the store loads (and on PostgreSQL locks, in the global order group-buys ->
//! slots -> products, each by id) what a rule in `domain::group_buy` needs, lets it decide, and
//! writes what it decided. Joins wait in a queue and are decided in batches (`joins.rs`); shares
//! paid ahead are in `share_payments.rs`.

mod joins;
pub mod share_payments;

use super::catalogue::prices::{cap_in, price_snapshot};
use super::catalogue::product_locked;
use super::checkout::orders::write_orders;
use super::checkout::slots::{slot_in, write_places};
use super::db::{args, Arg, Db, Tx};
use super::notices::NOTICE_INSERT;
use super::queue::{submit, Waiting};
use super::{broken, StoreResult};
use crate::domain::checkout::new_handoff_code;
use crate::domain::group_buy::{
    decide_close, decide_open, sight, CloseSnapshot, Ending, GroupBuyState, ItemState, JoinJob, JoinOutcome, OpenPlan,
    OpenRequest, Refusal, Runner, ShareAt, ShareState, Viewer,
};
use crate::domain::time::to_api;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::api::Address;
use shared::group_buy::{GroupBuy, GroupBuyItem, GroupBuyStatus, OnShortfall, Share, ShareLine, SharePayment};
use shared::Fen;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::mpsc;

pub struct GroupBuys {
    db: Db,
    joins: mpsc::Sender<Waiting<JoinJob, JoinOutcome>>,
}

/// The end of a close or a call-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// It ended now.
    Now,
    /// It had ended before: nothing changed.
    Already,
    NotFound,
}

impl GroupBuys {
    /// Starts the join queue's task (`joins.rs`).
    pub fn start(db: Db) -> Self {
        let joins = joins::start(db.clone());
        Self { db, joins }
    }

    // ---------- opening ----------

    /// Opens a group-buy: checked by `decide_open` against the rows, the stock set aside, all in
    /// one transaction. Err: refused, nothing made.
    pub async fn open(&self, request: &OpenRequest, runner: &Runner, by: i64) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.db.begin().await?;
        let mut snapshot = crate::domain::group_buy::OpenSnapshot::default();
        for named in &request.buildings {
            let named = named.trim();
            match super::accounts::building_id(&mut tx, runner.market, named).await? {
                Ok(Some(id)) => {
                    snapshot.buildings.insert(named.to_owned(), id);
                }
                Ok(None) => {}
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        snapshot.slot = slot_in(&mut tx, request.slot_id, false).await?;
        let products: BTreeSet<i64> = request.items.iter().map(|i| i.0).collect();
        for id in products {
            if let Some(p) = product_locked(&mut tx, id).await? {
                snapshot.products.insert(id, p);
            }
            if let Some(prices) = price_snapshot(&mut tx, id, request.now).await? {
                snapshot.prices.insert(id, prices);
            }
        }
        snapshot.cap = cap_in(&mut tx, runner.market).await?;
        let plan = match decide_open(&snapshot, request, runner) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id = insert_group_buy(&mut tx, &plan, by, request.now).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    // ---------- joining ----------

    /// Joins waiting in the queue now.
    pub fn waiting(&self) -> usize {
        crate::store::queue::depth(&self.joins)
    }

    /// These joins, decided in this order in one batch with whatever else is waiting.
    pub async fn join(&self, jobs: Vec<JoinJob>) -> StoreResult<Vec<JoinOutcome>> {
        submit(&self.joins, jobs, || broken("the group-buy join queue has stopped")).await
    }

    // ---------- closing ----------

    /// Open group-buys whose deadline has passed.
    pub async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        Ok(self
            .db
            .all(
                "SELECT id FROM group_buys WHERE status = 'open' AND deadline <= $1 ORDER BY deadline, id LIMIT 100",
                &args![now],
            )
            .await?)
    }

    /// Ends a group-buy as `decide_close` decides, once: the group-buy's row is locked first, so
    /// two processes closing it at once wait for each other and the second finds it ended.
    pub async fn close(&self, id: i64, ending: Ending, by: Option<i64>, now: DateTime<Utc>) -> StoreResult<Closed> {
        let mut tx = self.db.begin().await?;
        let Some(group_buy) = state_in(&mut tx, id).await? else { return Ok(Closed::NotFound) };
        if group_buy.status != GroupBuyStatus::Open {
            return Ok(Closed::Already);
        }
        let slot = slot_in(&mut tx, group_buy.slot_id, true)
            .await?
            .ok_or_else(|| broken(format!("group-buy {id}'s slot is gone")))?;
        let mut products = BTreeMap::new();
        for product in group_buy.items.keys() {
            if let Some(p) = product_locked(&mut tx, *product).await? {
                products.insert(*product, p);
            }
        }
        let shares = shares_at(&mut tx, id).await?;
        let order_ids = next_order_ids(&mut tx, shares.len()).await?;
        let handoff_codes = shares.iter().map(|_| new_handoff_code()).collect();
        let snapshot = CloseSnapshot { group_buy, slot, products, shares, order_ids, handoff_codes };
        let Some(decision) = decide_close(&snapshot, ending, now).map_err(broken)? else {
            return Ok(Closed::Already);
        };
        tx.exec(
            "UPDATE group_buys SET status = $2, closed_at = $3, closed_by = $4, outcome = $5 WHERE id = $1",
            &args![id, decision.status.as_str(), now, by, decision.outcome.as_str()],
        )
        .await?;
        let orders: Vec<_> = decision.orders.iter().map(|(_, o)| o.clone()).collect();
        write_orders(&mut tx, &orders, |_| by).await?;
        for (household, order) in &decision.orders {
            tx.exec(
                "UPDATE group_buy_shares SET order_id = $3 WHERE group_buy_id = $1 AND household_id = $2",
                &args![id, *household, order.id],
            )
            .await?;
            if order.status == shared::order::OrderStatus::Paid {
                // The share's payment becomes the order's: a later cancel or shortage refunds it.
                tx.exec(share_payments::SHARE_PAYMENT_TO_ORDER, &args![id, *household, order.id]).await?;
            }
        }
        for (product, stock) in &decision.stock {
            tx.exec("UPDATE products SET stock = $2 WHERE id = $1", &args![*product, *stock]).await?;
        }
        if let Some((booked, priority_booked)) = decision.slot {
            write_places(&mut tx, snapshot.slot.id, booked, priority_booked).await?;
        }
        // Each household is told how it ended (in the same transaction: told once, never of
        // an end that did not happen).
        let made: Vec<(i64, i64)> = decision.orders.iter().map(|(_, o)| (o.user_id, o.id.get())).collect();
        let users: Vec<i64> = snapshot.shares.iter().map(|s| s.share.user_id).collect();
        for (user, order, title, body) in crate::domain::notices::group_buy_ended(id, &made, &users) {
            tx.exec(
                NOTICE_INSERT,
                &args![user, order, "group_buy_closed", format!("group_buy:{id}:{user}"), title, body, now],
            )
            .await?;
        }
        for (household, refund_no) in &decision.refunds {
            tx.exec(
                "UPDATE group_buy_shares SET payment_status = 'refund_due', refund_no = $3 \
                 WHERE group_buy_id = $1 AND household_id = $2",
                &args![id, *household, refund_no.as_str()],
            )
            .await?;
            tx.exec(share_payments::SHARE_REFUND_INSERT, &args![id, *household, refund_no.as_str(), now]).await?;
        }
        tx.commit().await?;
        Ok(Closed::Now)
    }

    // ---------- reading ----------

    /// The group-buy as this viewer may see it (`domain::group_buy::sight`); None: not there,
    /// or not theirs to see.
    pub async fn group_buy(&self, id: i64, viewer: &Viewer) -> StoreResult<Option<GroupBuy>> {
        let Some(g) = self.db.opt::<GroupBuyRow>(&format!("{GROUP_BUY} WHERE g.id = $1"), &args![id]).await? else {
            return Ok(None);
        };
        let building_ids: Vec<i64> =
            self.db.all("SELECT building_id FROM group_buy_buildings WHERE group_buy_id = $1", &args![id]).await?;
        let sql = super::accounts::labels_sql(&self.db.list(1));
        let buildings: Vec<super::accounts::LabelRow> = self.db.all(&sql, &[Arg::json(&building_ids)]).await?;
        let household_building: Option<i64> = match viewer.household_id {
            Some(h) => self.db.opt("SELECT building_id FROM households WHERE id = $1", &args![h]).await?,
            None => None,
        };
        let Some(sight) = sight(viewer, g.market_id, &building_ids, household_building, g.status) else {
            return Ok(None);
        };
        let items: Vec<ItemRow> = self.db.all(ITEMS, &args![id]).await?;
        let items = items
            .into_iter()
            .map(|i| GroupBuyItem {
                product_id: shared::ProductId(i.item.product_id),
                vendor_id: i.vendor_id,
                name: i.item.name,
                unit: i.item.unit,
                price_fen: i.item.price_fen,
                regular_price_fen: i.regular_price_fen,
                max_quantity: i.item.max_quantity,
                per_household_limit: i.item.per_household_limit,
                joined_quantity: i.item.joined_quantity,
                photo: i.photo.as_deref().map(crate::photos::urls),
            })
            .collect();
        let my_share = match (viewer.household_id, sight.lives_there) {
            (Some(h), true) => self.shares(id, Some(h)).await?.pop(),
            _ => None,
        };
        Ok(Some(GroupBuy {
            market_id: g.market_id,
            id: shared::GroupBuyId(id),
            title: g.title,
            status: g.status,
            buildings: buildings.into_iter().map(|b| b.label().1).collect(),
            items,
            min_households: g.min_households,
            joined_households: g.joined_households,
            opens_at: to_api(g.opens_at),
            priority_opens_at: to_api(g.priority_opens_at),
            deadline: to_api(g.deadline),
            slot_id: shared::SlotId(g.slot_id),
            on_shortfall: g.on_shortfall,
            created_at: to_api(g.created_at),
            closed_at: g.closed_at.map(to_api),
            outcome: g.outcome,
            slot_starts_at: to_api(g.slot_starts_at),
            slot_ends_at: to_api(g.slot_ends_at),
            my_share,
            manage: sight.manage,
        }))
    }

    /// The group-buys this viewer sees, newest first: those of their building, those they run,
    /// and for volunteers every open one. Only ended ones of the last 30 days.
    pub async fn list(&self, viewer: &Viewer) -> StoreResult<Vec<GroupBuy>> {
        // The candidates, narrowed in SQL; `group_buy` then decides each by the rule.
        let ids: Vec<i64> = self
            .db
            .all(
                "SELECT g.id FROM group_buys g WHERE g.market_id = $6 AND (g.status = 'open' OR g.created_at > $1) AND ($2 \
                 OR ($3 AND g.status = 'open') \
                 OR EXISTS (SELECT 1 FROM group_buy_buildings gb JOIN households h ON h.building_id = gb.building_id \
                            WHERE gb.group_buy_id = g.id AND h.id = $4) \
                 OR EXISTS (SELECT 1 FROM group_buy_buildings gb JOIN leader_buildings l ON l.building_id = gb.building_id \
                            WHERE gb.group_buy_id = g.id AND l.user_id = $5)) \
                 ORDER BY g.id DESC LIMIT 200",
                &args![
                    Utc::now() - chrono::Duration::days(30),
                    viewer.runner.staff,
                    viewer.volunteer,
                    viewer.household_id,
                    viewer.user_id,
                    viewer.runner.market
                ],
            )
            .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(gb) = self.group_buy(id, viewer).await? {
                out.push(gb);
            }
        }
        Ok(out)
    }

    /// Its shares, by building, unit and room (or one household's).
    pub async fn shares(&self, id: i64, household: Option<i64>) -> StoreResult<Vec<Share>> {
        #[derive(Deserialize)]
        struct ShareRow {
            household_id: i64,
            building: String,
            unit: String,
            room: String,
            total_fen: Fen,
            placed_by_label: Option<String>,
            payment_status: SharePayment,
            refund_no: Option<String>,
            order_id: Option<i64>,
            updated_at: DateTime<Utc>,
        }
        #[derive(Deserialize)]
        struct LineRow {
            household_id: i64,
            product_id: i64,
            name: String,
            unit: String,
            quantity: i64,
            price_fen: Fen,
        }
        let rows: Vec<ShareRow> = self
            .db
            .all(
                "SELECT s.household_id, b.number AS building, h.unit, h.room, s.total_fen, s.placed_by_label, \
                 s.payment_status, s.refund_no, s.order_id, s.updated_at FROM group_buy_shares s \
                 JOIN households h ON h.id = s.household_id JOIN buildings b ON b.id = h.building_id \
                 WHERE s.group_buy_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR s.household_id = $2) \
                 ORDER BY b.number, h.unit, h.room, s.household_id",
                &args![id, household],
            )
            .await?;
        let lines: Vec<LineRow> = self
            .db
            .all(
                "SELECT l.household_id, l.product_id, p.name, p.unit, l.quantity, i.price_fen \
                 FROM group_buy_share_lines l JOIN group_buy_items i ON i.group_buy_id = l.group_buy_id \
                 AND i.product_id = l.product_id JOIN products p ON p.id = l.product_id \
                 WHERE l.group_buy_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR l.household_id = $2) \
                 ORDER BY l.household_id, l.product_id",
                &args![id, household],
            )
            .await?;
        let mut by_household: BTreeMap<i64, Vec<ShareLine>> = BTreeMap::new();
        for l in lines {
            by_household.entry(l.household_id).or_default().push(ShareLine {
                product_id: shared::ProductId(l.product_id),
                name: l.name,
                unit: l.unit,
                quantity: l.quantity,
                price_fen: l.price_fen,
                line_total_fen: l.price_fen.times(l.quantity),
            });
        }
        Ok(rows
            .into_iter()
            .map(|r| Share {
                group_buy_id: shared::GroupBuyId(id),
                household_id: shared::HouseholdId(r.household_id),
                building: r.building,
                unit: r.unit,
                room: r.room,
                items: by_household.remove(&r.household_id).unwrap_or_default(),
                total_fen: r.total_fen,
                placed_by: r.placed_by_label,
                payment: r.payment_status,
                refund_no: r.refund_no,
                order_id: r.order_id.map(shared::OrderId),
                updated_at: to_api(r.updated_at),
            })
            .collect())
    }
}

const GROUP_BUY: &str = "SELECT g.market_id, g.title, g.status, g.min_households, g.joined_households, g.opens_at, \
     g.priority_opens_at, g.deadline, g.slot_id, g.on_shortfall, g.created_at, g.closed_at, g.outcome, \
     s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at FROM group_buys g JOIN slots s ON s.id = g.slot_id";

#[derive(Deserialize)]
struct GroupBuyRow {
    market_id: shared::MarketId,
    title: String,
    status: GroupBuyStatus,
    min_households: i64,
    joined_households: i64,
    opens_at: DateTime<Utc>,
    priority_opens_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    slot_id: i64,
    on_shortfall: OnShortfall,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    slot_starts_at: DateTime<Utc>,
    slot_ends_at: DateTime<Utc>,
}

const ITEMS: &str = "SELECT i.product_id, p.name, p.unit, i.price_fen, i.max_quantity, i.per_household_limit, \
     i.joined_quantity, p.vendor_id, p.price_fen AS regular_price_fen, p.photo FROM group_buy_items i \
     JOIN products p ON p.id = i.product_id WHERE i.group_buy_id = $1 ORDER BY i.product_id";

/// A row of `ITEMS`: the item as its rules see it, its stall, its everyday price.
#[derive(Deserialize)]
struct ItemRow {
    #[serde(flatten)]
    item: ItemState,
    vendor_id: i64,
    regular_price_fen: Fen,
    /// The product's photo, when it has one.
    photo: Option<String>,
}

/// The group-buy as its rules see it, locked on PostgreSQL.
pub(super) async fn state_in(tx: &mut Tx, id: i64) -> StoreResult<Option<GroupBuyState>> {
    #[derive(Deserialize)]
    struct StateRow {
        status: GroupBuyStatus,
        min_households: i64,
        joined_households: i64,
        opens_at: DateTime<Utc>,
        priority_opens_at: DateTime<Utc>,
        deadline: DateTime<Utc>,
        slot_id: i64,
        on_shortfall: OnShortfall,
    }
    let sql = tx.locked(
        "SELECT status, min_households, joined_households, opens_at, priority_opens_at, deadline, slot_id, \
         on_shortfall FROM group_buys WHERE id = $1",
    );
    let Some(g) = tx.opt::<StateRow>(&sql, &args![id]).await? else { return Ok(None) };
    let building_ids: Vec<i64> =
        tx.all("SELECT building_id FROM group_buy_buildings WHERE group_buy_id = $1", &args![id]).await?;
    let items: Vec<ItemRow> = tx.all(ITEMS, &args![id]).await?;
    Ok(Some(GroupBuyState {
        id,
        status: g.status,
        min_households: g.min_households,
        joined_households: g.joined_households,
        opens_at: g.opens_at,
        priority_opens_at: g.priority_opens_at,
        deadline: g.deadline,
        slot_id: g.slot_id,
        on_shortfall: g.on_shortfall,
        building_ids,
        items: items.into_iter().map(|i| (i.item.product_id, i.item)).collect(),
    }))
}

async fn insert_group_buy(tx: &mut Tx, plan: &OpenPlan, by: i64, now: DateTime<Utc>) -> StoreResult<i64> {
    let id: i64 = tx
        .one(
            "INSERT INTO group_buys (title, status, min_households, opens_at, priority_opens_at, deadline, slot_id, \
             on_shortfall, created_by, created_at, market_id) \
             VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, (SELECT market_id FROM slots WHERE id = $6)) RETURNING id",
            &args![
                plan.title.as_str(),
                plan.min_households,
                plan.opens_at,
                plan.priority_opens_at,
                plan.deadline,
                plan.slot_id,
                plan.on_shortfall.as_str(),
                by,
                now
            ],
        )
        .await?;
    for b in &plan.building_ids {
        tx.exec("INSERT INTO group_buy_buildings (group_buy_id, building_id) VALUES ($1, $2)", &args![id, *b]).await?;
    }
    for &(product, price, max, limit) in &plan.items {
        tx.exec(
            "INSERT INTO group_buy_items (group_buy_id, product_id, price_fen, max_quantity, per_household_limit) \
             VALUES ($1, $2, $3, $4, $5)",
            &args![id, product, price, max, limit],
        )
        .await?;
    }
    for &(product, stock) in &plan.stock {
        tx.exec("UPDATE products SET stock = $2 WHERE id = $1", &args![product, stock]).await?;
    }
    Ok(id)
}

/// A share's row as the rules see it (without its lines).
#[derive(Deserialize)]
pub(super) struct ShareRow {
    pub household_id: i64,
    pub user_id: i64,
    pub placed_by: Option<i64>,
    pub placed_by_label: Option<String>,
    pub priority_booking: bool,
    pub payment_status: SharePayment,
    pub joined_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ShareRow {
    pub(super) fn with_lines(self, lines: BTreeMap<i64, i64>) -> ShareState {
        ShareState {
            lines,
            user_id: self.user_id,
            placed_by: self.placed_by,
            placed_by_label: self.placed_by_label,
            priority_booking: self.priority_booking,
            payment: self.payment_status,
            joined_at: self.joined_at,
            updated_at: self.updated_at,
        }
    }
}

/// A line of a share.
#[derive(Deserialize)]
pub(super) struct ShareLineRow {
    pub household_id: i64,
    pub product_id: i64,
    pub quantity: i64,
}

/// Every share of a group-buy with its lines and its household's address, by building, unit
/// and room.
async fn shares_at(tx: &mut Tx, id: i64) -> StoreResult<Vec<ShareAt>> {
    // (Each field named: a flattened struct is read through `deserialize_any`, which cannot tell
    // SQLite's booleans from its integers.)
    #[derive(Deserialize)]
    struct Row {
        household_id: i64,
        community: String,
        building: String,
        unit: String,
        room: String,
        user_id: i64,
        placed_by: Option<i64>,
        placed_by_label: Option<String>,
        priority_booking: bool,
        payment_status: SharePayment,
        joined_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = tx
        .all(
            "SELECT s.household_id, b.community, b.number AS building, h.unit, h.room, s.user_id, s.placed_by, \
             s.placed_by_label, \
             s.priority_booking, s.payment_status, s.joined_at, s.updated_at FROM group_buy_shares s \
             JOIN households h ON h.id = s.household_id JOIN buildings b ON b.id = h.building_id \
             WHERE s.group_buy_id = $1 ORDER BY b.number, h.unit, h.room, s.household_id",
            &args![id],
        )
        .await?;
    let lines: Vec<ShareLineRow> = tx
        .all("SELECT household_id, product_id, quantity FROM group_buy_share_lines WHERE group_buy_id = $1", &args![id])
        .await?;
    let mut by_household: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    for l in lines {
        by_household.entry(l.household_id).or_default().insert(l.product_id, l.quantity);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let share = ShareRow {
                household_id: r.household_id,
                user_id: r.user_id,
                placed_by: r.placed_by,
                placed_by_label: r.placed_by_label,
                priority_booking: r.priority_booking,
                payment_status: r.payment_status,
                joined_at: r.joined_at,
                updated_at: r.updated_at,
            };
            ShareAt {
                household_id: r.household_id,
                address: Address { building: r.building, unit: r.unit, room: r.room, community: Some(r.community) },
                share: share.with_lines(by_household.remove(&r.household_id).unwrap_or_default()),
            }
        })
        .collect())
}

/// Ids for `n` new orders. SQLite: this transaction holds the one write lock, so the ids after
/// the largest are free until it commits (the checkout engine takes its ids the same way).
async fn next_order_ids(tx: &mut Tx, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if tx.postgres() {
        return Ok(tx
            .all(
                "SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id FROM generate_series(1, $1)",
                &args![n as i64],
            )
            .await?);
    }
    let last: i64 = tx.one("SELECT COALESCE(MAX(id), 0) AS id FROM orders", &args![]).await?;
    Ok((1..=n as i64).map(|k| last + k).collect())
}
