//! Group-buys on either database, written once over `sql.rs`: the store loads (and on
//! PostgreSQL locks, in the global order group-buys -> slots -> products, each by id) what a
//! rule in `domain::group_buy` needs, lets it decide, and writes what it decided.
//!
//! Joins go through a queue: the joins waiting in this process are decided together in one
//! transaction with one commit (2,000 households of a building pressing "join" at once is the
//! normal case). On PostgreSQL several processes do the same; the group-buy's row lock orders
//! their batches.

use super::batch::{deliver, gather, jobs_of, submit, Queue, Waiting};
use super::sessions::Sessions;
use super::sql::{args, id_list, values as values_of, Pool, Row, Tx};
use super::{SlotRecord, StoreError, StoreResult};
use crate::domain::checkout::{new_handoff_code, ProductRow, SlotRow};
use crate::domain::group_buy::{
    decide_close, decide_joins, decide_open, share_total, CloseSnapshot, Ending, GroupBuyState, HouseholdState,
    ItemState, JoinChanges, JoinJob, JoinOutcome, JoinSnapshot, OpenPlan, OpenRequest, OpenSnapshot, Refusal, Runner,
    ShareAt, ShareState,
};
use crate::domain::order::OrderRecord;
use crate::domain::slots::NeedFlags;
use crate::domain::time::to_api;
use chrono::{DateTime, Utc};
use shared::api::{Address, Household};
use shared::group_buy::{GroupBuy, GroupBuyItem, GroupBuyStatus, OnShortfall, Share, ShareLine, SharePayment};
use shared::{Fen, Role};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::mpsc;

/// At most this many joins share one commit.
const MAX_BATCH: usize = 256;

pub struct GroupBuys {
    pub(super) pool: Pool,
    joins: mpsc::Sender<Waiting<JoinJob, JoinOutcome>>,
    sessions: Arc<Sessions>,
}

/// Who is looking at a group-buy: what they may see of it.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user_id: i64,
    pub household_id: Option<i64>,
    pub runner: Runner,
    /// Volunteers see every open group-buy, to place shares for households without a phone.
    pub volunteer: bool,
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

fn stopped() -> StoreError {
    StoreError::Broken("the group-buy join queue has stopped".into())
}

fn broken(e: impl std::fmt::Display) -> StoreError {
    StoreError::Broken(e.to_string())
}

impl GroupBuys {
    pub fn start(pool: Pool, sessions: Arc<Sessions>) -> Self {
        let (joins, queue) = mpsc::channel(8192);
        tokio::spawn(run(pool.clone(), queue));
        Self { pool, joins, sessions }
    }

    // ---------- leaders ----------

    /// The buildings (ids) the user leads.
    pub async fn leads(&self, user_id: i64) -> StoreResult<BTreeSet<i64>> {
        let rows =
            self.pool.rows("SELECT building_id FROM leader_buildings WHERE user_id = $1", &args![user_id]).await?;
        rows.iter().map(|r| r.get::<i64>(0).map_err(Into::into)).collect()
    }

    /// The building numbers the user leads, in number order.
    pub async fn led_buildings(&self, user_id: i64) -> StoreResult<Vec<String>> {
        let rows = self
            .pool
            .rows(
                "SELECT b.number FROM leader_buildings l JOIN buildings b ON b.id = l.building_id \
                 WHERE l.user_id = $1 ORDER BY b.number",
                &args![user_id],
            )
            .await?;
        rows.iter().map(|r| r.get::<String>(0).map_err(Into::into)).collect()
    }

    /// Gives the user at `phone` (made if new) exactly these roles and, for a leader, these
    /// buildings. Err: a building that does not exist (nothing changed). Ok: the user's id.
    pub async fn set_roles(
        &self,
        phone: &str,
        roles: &[Role],
        buildings: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, String>> {
        let mut tx = self.pool.begin().await?;
        let mut building_ids = BTreeSet::new();
        for number in buildings {
            match tx
                .row("SELECT id FROM buildings WHERE number = $1 ORDER BY id LIMIT 1", &args![number.trim()])
                .await?
            {
                Some(r) => building_ids.insert(r.get::<i64>(0)?),
                None => return Ok(Err(number.trim().to_owned())),
            };
        }
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now],
        )
        .await?;
        let user: i64 = tx
            .row("SELECT id FROM users WHERE phone = $1", &args![phone])
            .await?
            .ok_or_else(|| broken("the user just made is not there"))?
            .get(0)?;
        tx.exec("DELETE FROM user_roles WHERE user_id = $1", &args![user]).await?;
        for role in roles {
            tx.exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", &args![user, role.as_str()]).await?;
        }
        tx.exec("DELETE FROM leader_buildings WHERE user_id = $1", &args![user]).await?;
        if roles.contains(&Role::Leader) {
            for b in &building_ids {
                tx.exec("INSERT INTO leader_buildings (user_id, building_id) VALUES ($1, $2)", &args![user, *b])
                    .await?;
            }
        }
        tx.commit().await?;
        self.sessions.forget_user(user);
        Ok(Ok(user))
    }

    // ---------- households for shares placed on their behalf ----------

    /// The household at this address, put on record if new. None: no such building.
    pub async fn household_at(&self, address: &Address) -> StoreResult<Option<Household>> {
        let mut tx = self.pool.begin().await?;
        let Some(b) = tx
            .row("SELECT id FROM buildings WHERE number = $1 ORDER BY id LIMIT 1", &args![address.building.trim()])
            .await?
        else {
            return Ok(None);
        };
        let building: i64 = b.get(0)?;
        let (unit, room) = (address.unit.trim(), address.room.trim());
        tx.exec(
            "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
             ON CONFLICT (building_id, unit, room) DO NOTHING",
            &args![building, unit, room],
        )
        .await?;
        let row = tx
            .row(
                &format!("{HOUSEHOLD} WHERE h.building_id = $1 AND h.unit = $2 AND h.room = $3"),
                &args![building, unit, room],
            )
            .await?
            .ok_or_else(|| broken("the household just made is not there"))?;
        tx.commit().await?;
        Ok(Some(household(&row)?))
    }

    pub async fn household(&self, id: i64) -> StoreResult<Option<Household>> {
        match self.pool.row(&format!("{HOUSEHOLD} WHERE h.id = $1"), &args![id]).await? {
            Some(r) => Ok(Some(household(&r)?)),
            None => Ok(None),
        }
    }

    /// A resident with an account in the household, if any (the first to have one).
    pub async fn household_resident(&self, household_id: i64) -> StoreResult<Option<i64>> {
        match self.pool.row("SELECT MIN(id) FROM users WHERE household_id = $1", &args![household_id]).await? {
            Some(r) => Ok(r.get::<Option<i64>>(0)?),
            None => Ok(None),
        }
    }

    // ---------- opening ----------

    /// Opens a group-buy: checked by `decide_open` against the rows, the stock set aside, all in
    /// one transaction. Err: refused, nothing made.
    pub async fn open(&self, request: &OpenRequest, runner: &Runner, by: i64) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.pool.begin().await?;
        let mut snapshot = OpenSnapshot::default();
        for number in &request.buildings {
            let number = number.trim();
            if let Some(r) =
                tx.row("SELECT id FROM buildings WHERE number = $1 ORDER BY id LIMIT 1", &args![number]).await?
            {
                snapshot.buildings.insert(number.to_owned(), r.get(0)?);
            }
        }
        snapshot.slot = slot_row(&mut tx, request.slot_id, false).await?;
        let products: BTreeSet<i64> = request.items.iter().map(|i| i.0).collect();
        for id in products {
            if let Some(p) = product_row(&mut tx, id).await? {
                snapshot.products.insert(id, p);
            }
        }
        let plan = match decide_open(&snapshot, request, runner) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id = insert_group_buy(&mut tx, &plan, by, request.now).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    // ---------- joining ----------

    /// These joins, decided in this order in one batch with whatever else is waiting.
    pub async fn join(&self, jobs: Vec<JoinJob>) -> StoreResult<Vec<JoinOutcome>> {
        submit(&self.joins, jobs, stopped).await
    }

    // ---------- closing ----------

    /// Open group-buys whose deadline has passed.
    pub async fn due(&self, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        let rows = self
            .pool
            .rows(
                "SELECT id FROM group_buys WHERE status = 'open' AND deadline <= $1 ORDER BY deadline, id LIMIT 100",
                &args![now],
            )
            .await?;
        rows.iter().map(|r| r.get::<i64>(0).map_err(Into::into)).collect()
    }

    /// Ends a group-buy as `decide_close` decides, once: the group-buy's row is locked first, so
    /// two processes closing it at once wait for each other and the second finds it ended.
    pub async fn close(&self, id: i64, ending: Ending, by: Option<i64>, now: DateTime<Utc>) -> StoreResult<Closed> {
        let mut tx = self.pool.begin().await?;
        let Some(group_buy) = group_buy_state(&mut tx, id).await? else { return Ok(Closed::NotFound) };
        if group_buy.status != GroupBuyStatus::Open {
            return Ok(Closed::Already);
        }
        let slot = slot_row(&mut tx, group_buy.slot_id, true)
            .await?
            .ok_or_else(|| broken(format!("group-buy {id}'s slot is gone")))?;
        let mut products = BTreeMap::new();
        for product in group_buy.items.keys() {
            if let Some(p) = product_row(&mut tx, *product).await? {
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
        for (household, order) in &decision.orders {
            insert_order(&mut tx, order, by).await?;
            tx.exec(
                "UPDATE group_buy_shares SET order_id = $3 WHERE group_buy_id = $1 AND household_id = $2",
                &args![id, *household, order.id],
            )
            .await?;
            if order.status == shared::order::OrderStatus::Paid {
                // The share's payment becomes the order's: a later cancel or shortage refunds it.
                tx.exec(super::share_payments::SHARE_PAYMENT_TO_ORDER, &args![id, *household, order.id]).await?;
            }
        }
        for (product, stock) in &decision.stock {
            tx.exec("UPDATE products SET stock = $2 WHERE id = $1", &args![*product, *stock]).await?;
        }
        if let Some((booked, priority_booked)) = decision.slot {
            tx.exec(
                "UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1",
                &args![snapshot.slot.id, booked, priority_booked],
            )
            .await?;
        }
        // Each household is told how it ended (in the same transaction: told once, never of
        // an end that did not happen).
        let made: Vec<(i64, i64)> = decision.orders.iter().map(|(_, o)| (o.user_id, o.id)).collect();
        let users: Vec<i64> = snapshot.shares.iter().map(|s| s.share.user_id).collect();
        for (user, order, title, body) in crate::domain::notices::group_buy_ended(id, &made, &users) {
            tx.exec(
                super::notices::NOTICE_INSERT,
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
            tx.exec(super::share_payments::SHARE_REFUND_INSERT, &args![id, *household, refund_no.as_str(), now])
                .await?;
        }
        tx.commit().await?;
        Ok(Closed::Now)
    }

    // ---------- reading ----------

    /// The buildings (ids) of a group-buy; None: no such group-buy.
    pub async fn buildings_of(&self, id: i64) -> StoreResult<Option<Vec<i64>>> {
        if self.pool.row("SELECT 1 FROM group_buys WHERE id = $1", &args![id]).await?.is_none() {
            return Ok(None);
        }
        let rows = self
            .pool
            .rows(
                "SELECT building_id FROM group_buy_buildings WHERE group_buy_id = $1 ORDER BY building_id",
                &args![id],
            )
            .await?;
        Ok(Some(rows.iter().map(|r| r.get::<i64>(0)).collect::<Result<_, _>>()?))
    }

    /// The group-buy as this viewer may see it; None: not there, or not theirs to see.
    pub async fn group_buy(&self, id: i64, viewer: &Viewer) -> StoreResult<Option<GroupBuy>> {
        let Some(r) = self.pool.row(&format!("{GROUP_BUY} WHERE g.id = $1"), &args![id]).await? else {
            return Ok(None);
        };
        let buildings = self
            .pool
            .rows(
                "SELECT gb.building_id, b.number FROM group_buy_buildings gb JOIN buildings b ON b.id = gb.building_id \
                 WHERE gb.group_buy_id = $1 ORDER BY b.number",
                &args![id],
            )
            .await?;
        let building_ids: Vec<i64> = buildings.iter().map(|b| b.get(0)).collect::<Result<_, _>>()?;
        let numbers: Vec<String> = buildings.iter().map(|b| b.get(1)).collect::<Result<_, _>>()?;
        let household_building = match viewer.household_id {
            Some(h) => self.pool.row("SELECT building_id FROM households WHERE id = $1", &args![h]).await?,
            None => None,
        };
        let household_building: Option<i64> = household_building.map(|r| r.get(0)).transpose()?;
        let lives_there = household_building.is_some_and(|b| building_ids.contains(&b));
        let manage = viewer.runner.runs(&building_ids);
        let status = GroupBuyStatus::parse(&r.get::<String>(1)?).unwrap_or(GroupBuyStatus::Cancelled);
        if !(lives_there || manage || (viewer.volunteer && status == GroupBuyStatus::Open)) {
            return Ok(None);
        }
        let items = self.pool.rows(ITEMS, &args![id]).await?;
        let items: Vec<GroupBuyItem> = items
            .iter()
            .map(|r| {
                let (i, vendor_id, regular) = item_row(r)?;
                Ok(GroupBuyItem {
                    product_id: i.product_id,
                    vendor_id,
                    name: i.name,
                    unit: i.unit,
                    price_fen: i.price_fen,
                    regular_price_fen: regular,
                    max_quantity: i.max_quantity,
                    per_household_limit: i.per_household_limit,
                    joined_quantity: i.joined_quantity,
                })
            })
            .collect::<sqlx::Result<_>>()?;
        let my_share = match (viewer.household_id, lives_there) {
            (Some(h), true) => self.shares(id, Some(h)).await?.pop(),
            _ => None,
        };
        Ok(Some(GroupBuy {
            id,
            title: r.get(0)?,
            status,
            buildings: numbers,
            items,
            min_households: r.get(2)?,
            joined_households: r.get(3)?,
            opens_at: to_api(r.get(4)?),
            priority_opens_at: to_api(r.get(5)?),
            deadline: to_api(r.get(6)?),
            slot_id: r.get(7)?,
            on_shortfall: OnShortfall::parse(&r.get::<String>(8)?).unwrap_or(OnShortfall::Cancel),
            created_at: to_api(r.get(9)?),
            closed_at: r.get::<Option<DateTime<Utc>>>(10)?.map(to_api),
            outcome: r.get(11)?,
            slot_starts_at: to_api(r.get(12)?),
            slot_ends_at: to_api(r.get(13)?),
            my_share,
            manage,
        }))
    }

    /// The group-buys this viewer sees, newest first: those of their building, those they run,
    /// and for volunteers every open one. Only ended ones of the last 30 days.
    pub async fn list(&self, viewer: &Viewer) -> StoreResult<Vec<GroupBuy>> {
        // The candidates, narrowed in SQL; `group_buy` then decides each exactly.
        let rows = self
            .pool
            .rows(
                "SELECT g.id FROM group_buys g WHERE (g.status = 'open' OR g.created_at > $1) AND ($2 \
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
                    viewer.user_id
                ],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(gb) = self.group_buy(r.get(0)?, viewer).await? {
                out.push(gb);
            }
        }
        Ok(out)
    }

    /// Its shares, by building, unit and room (or one household's).
    pub async fn shares(&self, id: i64, household: Option<i64>) -> StoreResult<Vec<Share>> {
        let rows = self
            .pool
            .rows(
                "SELECT s.household_id, b.number, h.unit, h.room, s.total_fen, s.placed_by_label, s.payment_status, \
                 s.refund_no, s.order_id, s.updated_at FROM group_buy_shares s \
                 JOIN households h ON h.id = s.household_id JOIN buildings b ON b.id = h.building_id \
                 WHERE s.group_buy_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR s.household_id = $2) \
                 ORDER BY b.number, h.unit, h.room, s.household_id",
                &args![id, household],
            )
            .await?;
        let lines = self
            .pool
            .rows(
                "SELECT l.household_id, l.product_id, p.name, p.unit, l.quantity, i.price_fen \
                 FROM group_buy_share_lines l JOIN group_buy_items i ON i.group_buy_id = l.group_buy_id \
                 AND i.product_id = l.product_id JOIN products p ON p.id = l.product_id \
                 WHERE l.group_buy_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR l.household_id = $2) \
                 ORDER BY l.household_id, l.product_id",
                &args![id, household],
            )
            .await?;
        let mut by_household: BTreeMap<i64, Vec<ShareLine>> = BTreeMap::new();
        for l in &lines {
            let price = Fen::stored(l.get(5)?);
            let quantity: i64 = l.get(4)?;
            by_household.entry(l.get(0)?).or_default().push(ShareLine {
                product_id: l.get(1)?,
                name: l.get(2)?,
                unit: l.get(3)?,
                quantity,
                price_fen: price,
                line_total_fen: price.times(quantity),
            });
        }
        rows.iter()
            .map(|r| {
                let household_id: i64 = r.get(0)?;
                Ok(Share {
                    group_buy_id: id,
                    household_id,
                    building: r.get(1)?,
                    unit: r.get(2)?,
                    room: r.get(3)?,
                    items: by_household.remove(&household_id).unwrap_or_default(),
                    total_fen: Fen::stored(r.get(4)?),
                    placed_by: r.get(5)?,
                    payment: SharePayment::parse(&r.get::<String>(6)?).unwrap_or(SharePayment::Unpaid),
                    refund_no: r.get(7)?,
                    order_id: r.get(8)?,
                    updated_at: to_api(r.get(9)?),
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}

const HOUSEHOLD: &str = "SELECT h.id, b.community, b.number, h.unit, h.room, h.quarantined, h.hardship, h.elderly \
     FROM households h JOIN buildings b ON b.id = h.building_id";

fn household(r: &Row) -> sqlx::Result<Household> {
    Ok(Household {
        id: r.get(0)?,
        community: r.get(1)?,
        building: r.get(2)?,
        unit: r.get(3)?,
        room: r.get(4)?,
        quarantined: r.get(5)?,
        hardship: r.get(6)?,
        elderly: r.get(7)?,
    })
}

const GROUP_BUY: &str = "SELECT g.title, g.status, g.min_households, g.joined_households, g.opens_at, \
     g.priority_opens_at, g.deadline, g.slot_id, g.on_shortfall, g.created_at, g.closed_at, g.outcome, \
     s.starts_at, s.ends_at FROM group_buys g JOIN slots s ON s.id = g.slot_id";

const ITEMS: &str = "SELECT i.product_id, p.name, p.unit, i.price_fen, i.max_quantity, i.per_household_limit, \
     i.joined_quantity, p.vendor_id, p.price_fen FROM group_buy_items i JOIN products p ON p.id = i.product_id \
     WHERE i.group_buy_id = $1 ORDER BY i.product_id";

/// A row of `ITEMS`: the item as its rules see it, its stall, its everyday price.
fn item_row(r: &Row) -> sqlx::Result<(ItemState, i64, Fen)> {
    let item = ItemState {
        product_id: r.get(0)?,
        name: r.get(1)?,
        unit: r.get(2)?,
        price_fen: Fen::stored(r.get(3)?),
        max_quantity: r.get(4)?,
        per_household_limit: r.get(5)?,
        joined_quantity: r.get(6)?,
    };
    Ok((item, r.get(7)?, Fen::stored(r.get(8)?)))
}

/// The group-buy as its rules see it, locked on PostgreSQL.
async fn group_buy_state(tx: &mut Tx, id: i64) -> StoreResult<Option<GroupBuyState>> {
    let sql = format!(
        "SELECT status, min_households, joined_households, opens_at, priority_opens_at, deadline, slot_id, \
         on_shortfall FROM group_buys WHERE id = $1{}",
        tx.lock()
    );
    let Some(r) = tx.row(&sql, &args![id]).await? else { return Ok(None) };
    let buildings = tx.rows("SELECT building_id FROM group_buy_buildings WHERE group_buy_id = $1", &args![id]).await?;
    let items = tx.rows(ITEMS, &args![id]).await?;
    let items = items.iter().map(|r| item_row(r).map(|(i, _, _)| (i.product_id, i))).collect::<sqlx::Result<_>>()?;
    Ok(Some(GroupBuyState {
        id,
        status: GroupBuyStatus::parse(&r.get::<String>(0)?).unwrap_or(GroupBuyStatus::Cancelled),
        min_households: r.get(1)?,
        joined_households: r.get(2)?,
        opens_at: r.get(3)?,
        priority_opens_at: r.get(4)?,
        deadline: r.get(5)?,
        slot_id: r.get(6)?,
        on_shortfall: OnShortfall::parse(&r.get::<String>(7)?).unwrap_or(OnShortfall::Cancel),
        building_ids: buildings.iter().map(|b| b.get(0)).collect::<Result<_, _>>()?,
        items,
    }))
}

async fn slot_row(tx: &mut Tx, id: i64, lock: bool) -> StoreResult<Option<SlotRow>> {
    let sql = format!(
        "SELECT id, kind, starts_at, ends_at, cutoff_at, capacity, booked, priority_capacity, priority_booked, \
         priority_release_at, closed FROM slots WHERE id = $1{}",
        if lock { tx.lock() } else { "" }
    );
    let Some(r) = tx.row(&sql, &args![id]).await? else { return Ok(None) };
    Ok(Some(
        SlotRecord {
            id: r.get(0)?,
            kind: r.get(1)?,
            starts_at: r.get(2)?,
            ends_at: r.get(3)?,
            cutoff_at: r.get(4)?,
            capacity: r.get(5)?,
            booked: r.get(6)?,
            priority_capacity: r.get(7)?,
            priority_booked: r.get(8)?,
            priority_release_at: r.get(9)?,
            closed: r.get(10)?,
        }
        .into_row(),
    ))
}

/// A product as it is, locked on PostgreSQL (stock is set aside or given back).
async fn product_row(tx: &mut Tx, id: i64) -> StoreResult<Option<ProductRow>> {
    let sql = format!("{}{}", super::PRODUCT_ROW_SELECT, if tx.postgres() { " FOR NO KEY UPDATE OF p" } else { "" });
    let Some(r) = tx.row(&sql, &args![id]).await? else { return Ok(None) };
    Ok(Some(ProductRow {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        vendor_name: r.get(2)?,
        name: r.get(3)?,
        unit: r.get(4)?,
        price_fen: Fen::stored(r.get(5)?),
        stock: r.get(6)?,
        per_order_limit: r.get(7)?,
        active: r.get(8)?,
    }))
}

async fn insert_group_buy(tx: &mut Tx, plan: &OpenPlan, by: i64, now: DateTime<Utc>) -> StoreResult<i64> {
    let id: i64 = tx
        .row(
            "INSERT INTO group_buys (title, status, min_households, opens_at, priority_opens_at, deadline, slot_id, \
             on_shortfall, created_by, created_at) VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
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
        .await?
        .ok_or_else(|| broken("the new group-buy has no id"))?
        .get(0)?;
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

/// Every share of a group-buy with its lines and its household's address, by building, unit
/// and room.
async fn shares_at(tx: &mut Tx, id: i64) -> StoreResult<Vec<ShareAt>> {
    let rows = tx
        .rows(
            "SELECT s.household_id, b.number, h.unit, h.room, s.user_id, s.placed_by, s.placed_by_label, \
             s.priority_booking, s.payment_status, s.joined_at, s.updated_at FROM group_buy_shares s \
             JOIN households h ON h.id = s.household_id JOIN buildings b ON b.id = h.building_id \
             WHERE s.group_buy_id = $1 ORDER BY b.number, h.unit, h.room, s.household_id",
            &args![id],
        )
        .await?;
    let lines = tx
        .rows(
            "SELECT household_id, product_id, quantity FROM group_buy_share_lines WHERE group_buy_id = $1",
            &args![id],
        )
        .await?;
    let mut by_household: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
    for l in &lines {
        by_household.entry(l.get(0)?).or_default().insert(l.get(1)?, l.get(2)?);
    }
    rows.iter()
        .map(|r| {
            let household_id: i64 = r.get(0)?;
            Ok(ShareAt {
                household_id,
                address: Address { building: r.get(1)?, unit: r.get(2)?, room: r.get(3)? },
                share: share_state(r, 4, by_household.remove(&household_id).unwrap_or_default())?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(Into::into)
}

/// A share from its columns user_id, placed_by, placed_by_label, priority_booking,
/// payment_status, joined_at, updated_at, starting at `first`.
fn share_state(r: &Row, first: usize, lines: BTreeMap<i64, i64>) -> sqlx::Result<ShareState> {
    Ok(ShareState {
        lines,
        user_id: r.get(first)?,
        placed_by: r.get(first + 1)?,
        placed_by_label: r.get(first + 2)?,
        priority_booking: r.get(first + 3)?,
        payment: SharePayment::parse(&r.get::<String>(first + 4)?).unwrap_or(SharePayment::Unpaid),
        joined_at: r.get(first + 5)?,
        updated_at: r.get(first + 6)?,
    })
}

/// Ids for `n` new orders. SQLite: this transaction holds the one write lock, so the ids after
/// the largest are free until it commits (the checkout engine takes its ids the same way).
async fn next_order_ids(tx: &mut Tx, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if tx.postgres() {
        let rows = tx
            .rows(
                "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, $1)",
                &args![n as i64],
            )
            .await?;
        return rows.iter().map(|r| r.get::<i64>(0).map_err(Into::into)).collect();
    }
    let last: i64 = tx
        .row("SELECT COALESCE(MAX(id), 0) FROM orders", &[])
        .await?
        .ok_or_else(|| broken("no answer to MAX(id)"))?
        .get(0)?;
    Ok((1..=n as i64).map(|k| last + k).collect())
}

/// Writes an order the domain made, with its lines, stall parts and first event.
async fn insert_order(tx: &mut Tx, o: &OrderRecord, by: Option<i64>) -> StoreResult<()> {
    let address = o.address.as_ref();
    let origin = o.group_buy.as_ref();
    tx.exec(
        super::ORDER_INSERT,
        &args![
            o.id,
            o.user_id,
            o.slot_id,
            o.status.as_str(),
            o.payment.as_str(),
            o.total_fen.get(),
            address.map(|a| a.building.as_str()),
            address.map(|a| a.unit.as_str()),
            address.map(|a| a.room.as_str()),
            o.note.clone(),
            o.handoff_code.as_str(),
            o.priority_booking,
            o.created_at,
            o.expires_at,
            origin.map(|g| g.group_buy_id),
            origin.map(|g| g.household_id),
            origin.and_then(|g| g.placed_by.clone())
        ],
    )
    .await?;
    for l in &o.lines {
        tx.exec(
            super::LINE_INSERT,
            &args![o.id, l.product_id, l.vendor_id, l.name.as_str(), l.unit.as_str(), l.quantity, l.price_fen.get()],
        )
        .await?;
    }
    for p in &o.parts {
        tx.exec(super::PART_INSERT, &args![o.id, p.vendor_id, p.status.as_str(), p.subtotal_fen.get(), o.created_at])
            .await?;
    }
    for (status, at) in &o.timeline {
        tx.exec(super::EVENT_INSERT, &args![o.id, status.as_str(), *at, by]).await?;
    }
    Ok(())
}

// ---------- the join queue ----------

async fn run(pool: Pool, mut queue: Queue<JoinJob, JoinOutcome>) {
    while let Some(first) = queue.recv().await {
        let batch = gather(first, &mut queue, MAX_BATCH, |w| w.jobs.len());
        match commit_joins(&pool, &jobs_of(&batch)).await {
            Ok(outcomes) => deliver(batch, outcomes),
            Err(e) => {
                // Nothing of a failed batch was kept (one transaction): each caller's joins are
                // tried again on their own, so one that cannot be written fails nobody else.
                if batch.len() > 1 {
                    tracing::warn!(error = %e, size = batch.len(), "join batch failed; retrying one by one");
                }
                for w in batch {
                    let mut result = commit_joins(&pool, &w.jobs).await;
                    if matches!(&result, Err(e) if retryable(e)) {
                        result = commit_joins(&pool, &w.jobs).await;
                    }
                    let _ = w.reply.send(result);
                }
            }
        }
    }
}

fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// Load (and lock), decide, write, commit: one transaction for the batch.
async fn commit_joins(pool: &Pool, jobs: &[JoinJob]) -> StoreResult<Vec<JoinOutcome>> {
    let mut tx = pool.begin().await?;
    let snapshot = load_joins(&mut tx, jobs).await?;
    let (outcomes, changes) = decide_joins(&snapshot, jobs);
    write_joins(&mut tx, &snapshot, &changes).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// What the joins need: their group-buys (locked, in id order), the slots of those (locked,
/// in id order), the households and their shares. Households and shares are read with one
/// statement each for the whole batch: the batch holds the group-buy's lock meanwhile.
async fn load_joins(tx: &mut Tx, jobs: &[JoinJob]) -> StoreResult<JoinSnapshot> {
    let mut s = JoinSnapshot::default();
    for id in jobs.iter().map(|j| j.group_buy_id).collect::<BTreeSet<_>>() {
        if let Some(gb) = group_buy_state(tx, id).await? {
            s.group_buys.insert(id, gb);
        }
    }
    for slot in s.group_buys.values().map(|g| g.slot_id).collect::<BTreeSet<_>>() {
        if let Some(row) = slot_row(tx, slot, true).await? {
            s.slots.insert(slot, row.state);
        }
    }
    let households = id_list(jobs.iter().map(|j| j.household_id).collect::<BTreeSet<_>>());
    let sql =
        format!("SELECT id, building_id, quarantined, hardship, elderly FROM households WHERE id IN {}", tx.ids(1));
    for r in tx.rows(&sql, &args![households.as_str()]).await? {
        let flags = NeedFlags { quarantined: r.get(2)?, hardship: r.get(3)?, elderly: r.get(4)? };
        s.households.insert(r.get(0)?, HouseholdState { building_id: r.get(1)?, flags });
    }
    for &gb in s.group_buys.keys() {
        let asked = id_list(jobs.iter().filter(|j| j.group_buy_id == gb).map(|j| j.household_id));
        let sql = format!(
            "SELECT household_id, product_id, quantity FROM group_buy_share_lines \
             WHERE group_buy_id = $1 AND household_id IN {}",
            tx.ids(2)
        );
        let mut lines: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
        for l in tx.rows(&sql, &args![gb, asked.as_str()]).await? {
            lines.entry(l.get(0)?).or_default().insert(l.get(1)?, l.get(2)?);
        }
        let sql = format!(
            "SELECT household_id, user_id, placed_by, placed_by_label, priority_booking, payment_status, joined_at, \
             updated_at FROM group_buy_shares WHERE group_buy_id = $1 AND household_id IN {}",
            tx.ids(2)
        );
        for r in tx.rows(&sql, &args![gb, asked.as_str()]).await? {
            let household: i64 = r.get(0)?;
            s.shares.insert((gb, household), share_state(&r, 1, lines.remove(&household).unwrap_or_default())?);
        }
    }
    Ok(s)
}

/// Rows per multi-row INSERT: well under either database's limit on bound values.
const ROWS_PER_INSERT: usize = 200;

async fn write_joins(tx: &mut Tx, s: &JoinSnapshot, ch: &JoinChanges) -> StoreResult<()> {
    for (&(gb, product), joined) in &ch.items {
        tx.exec(
            "UPDATE group_buy_items SET joined_quantity = $3 WHERE group_buy_id = $1 AND product_id = $2",
            &args![gb, product, *joined],
        )
        .await?;
    }
    for (&gb, households) in &ch.households {
        tx.exec("UPDATE group_buys SET joined_households = $2 WHERE id = $1", &args![gb, *households]).await?;
    }
    for (&slot, &(booked, priority_booked)) in &ch.slots {
        tx.exec(
            "UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1",
            &args![slot, booked, priority_booked],
        )
        .await?;
    }
    for &gb in ch.shares.keys().map(|(gb, _)| gb).collect::<BTreeSet<_>>() {
        let changed: Vec<(i64, Option<&ShareState>)> =
            ch.shares.iter().filter(|((g, _), _)| *g == gb).map(|((_, h), share)| (*h, share.as_ref())).collect();
        // Every changed share's lines go, then the shares that went, then the rest are written anew.
        let all = id_list(changed.iter().map(|(h, _)| *h));
        let gone = id_list(changed.iter().filter(|(_, share)| share.is_none()).map(|(h, _)| *h));
        let sql =
            format!("DELETE FROM group_buy_share_lines WHERE group_buy_id = $1 AND household_id IN {}", tx.ids(2));
        tx.exec(&sql, &args![gb, all.as_str()]).await?;
        let sql = format!("DELETE FROM group_buy_shares WHERE group_buy_id = $1 AND household_id IN {}", tx.ids(2));
        tx.exec(&sql, &args![gb, gone.as_str()]).await?;
        let kept: Vec<(i64, &ShareState)> = changed.iter().filter_map(|(h, share)| share.map(|sh| (*h, sh))).collect();
        let group_buy = s.group_buys.get(&gb);
        for chunk in kept.chunks(ROWS_PER_INSERT / 4) {
            let mut values = Vec::with_capacity(chunk.len() * 10);
            for (household, share) in chunk {
                let total = group_buy.map(|g| share_total(g, &share.lines)).unwrap_or_default();
                values.extend(args![
                    gb,
                    *household,
                    share.user_id,
                    share.placed_by,
                    share.placed_by_label.clone(),
                    total.get(),
                    share.priority_booking,
                    share.payment.as_str(),
                    share.joined_at,
                    share.updated_at
                ]);
            }
            let sql = format!(
                "INSERT INTO group_buy_shares (group_buy_id, household_id, user_id, placed_by, placed_by_label, \
                 total_fen, priority_booking, payment_status, joined_at, updated_at) VALUES {} \
                 ON CONFLICT (group_buy_id, household_id) DO UPDATE SET placed_by = excluded.placed_by, \
                 placed_by_label = excluded.placed_by_label, total_fen = excluded.total_fen, \
                 updated_at = excluded.updated_at",
                values_of(chunk.len(), 10)
            );
            tx.exec(&sql, &values).await?;
        }
        let lines: Vec<(i64, i64, i64)> =
            kept.iter().flat_map(|(h, share)| share.lines.iter().map(move |(p, q)| (*h, *p, *q))).collect();
        for chunk in lines.chunks(ROWS_PER_INSERT) {
            let mut values = Vec::with_capacity(chunk.len() * 4);
            for &(household, product, quantity) in chunk {
                values.extend(args![gb, household, product, quantity]);
            }
            let sql = format!(
                "INSERT INTO group_buy_share_lines (group_buy_id, household_id, product_id, quantity) VALUES {}",
                values_of(chunk.len(), 4)
            );
            tx.exec(&sql, &values).await?;
        }
    }
    Ok(())
}
