//! Delivery and pickup slots: staff open and adjust them (as `domain::slots::decide_change`
//! allows), residents choose one; places are taken by checkouts and group-buy joins.

use crate::domain::checkout::SlotRow;
use crate::domain::slots::{decide_change, SlotChange, SlotState};
use crate::domain::Refusal;
use crate::store::db::{args, Db, Tx};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::order::SlotKind;
use shared::{MarketId, SlotId};

/// A delivery or pickup slot as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct SlotRecord {
    pub id: SlotId,
    pub market_id: MarketId,
    pub kind: SlotKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cutoff_at: DateTime<Utc>,
    pub capacity: i64,
    pub booked: i64,
    pub priority_capacity: i64,
    pub priority_booked: i64,
    pub priority_release_at: Option<DateTime<Utc>>,
    pub closed: bool,
    pub household_limit: i64,
}

impl SlotRecord {
    /// The slot as the domain's rules see it.
    pub fn into_row(self) -> SlotRow {
        SlotRow {
            id: self.id,
            market_id: self.market_id,
            kind: self.kind,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            state: SlotState {
                capacity: self.capacity,
                booked: self.booked,
                priority_capacity: self.priority_capacity,
                priority_booked: self.priority_booked,
                priority_release_at: self.priority_release_at,
                cutoff_at: self.cutoff_at,
                closed: self.closed,
                household_limit: self.household_limit,
            },
        }
    }

    fn from_row(r: SlotRow) -> Self {
        let s = r.state;
        SlotRecord {
            id: r.id,
            market_id: r.market_id,
            kind: r.kind,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            cutoff_at: s.cutoff_at,
            capacity: s.capacity,
            booked: s.booked,
            priority_capacity: s.priority_capacity,
            priority_booked: s.priority_booked,
            priority_release_at: s.priority_release_at,
            closed: s.closed,
            household_limit: s.household_limit,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSlot {
    pub kind: SlotKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cutoff_at: DateTime<Utc>,
    pub capacity: i64,
    pub priority_capacity: i64,
    pub priority_release_at: Option<DateTime<Utc>>,
    pub household_limit: i64,
}

pub(crate) const SLOT_COLUMNS: &str = "id, market_id, kind, starts_at, ends_at, cutoff_at, capacity, booked, \
     priority_capacity, priority_booked, priority_release_at, closed, household_limit";

/// The slot as it is, locked on PostgreSQL when `lock` (its places are about to change).
pub(crate) async fn slot_in(tx: &mut Tx, id: i64, lock: bool) -> StoreResult<Option<SlotRow>> {
    let sql = format!("SELECT {SLOT_COLUMNS} FROM slots WHERE id = $1");
    let sql = if lock { tx.locked(&sql) } else { sql };
    let slot: Option<SlotRecord> = tx.opt(&sql, &args![id]).await?;
    Ok(slot.map(SlotRecord::into_row))
}

/// Writes a slot's places as a rule left them.
pub(crate) async fn write_places(tx: &mut Tx, slot_id: SlotId, booked: i64, priority_booked: i64) -> StoreResult<()> {
    tx.exec(
        "UPDATE slots SET booked = $2, priority_booked = $3 WHERE id = $1",
        &args![slot_id, booked, priority_booked],
    )
    .await?;
    Ok(())
}

pub struct Slots {
    db: Db,
}

impl Slots {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A new slot of `market`.
    pub async fn create(&self, market: MarketId, slot: &NewSlot, now: DateTime<Utc>) -> StoreResult<SlotRecord> {
        let mut tx = self.db.begin().await?;
        let created = tx
            .one(
                &format!(
                    "INSERT INTO slots (kind, starts_at, ends_at, cutoff_at, capacity, priority_capacity, \
                     priority_release_at, created_at, household_limit, market_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     RETURNING {SLOT_COLUMNS}"
                ),
                &args![
                    slot.kind.as_str(),
                    slot.starts_at,
                    slot.ends_at,
                    slot.cutoff_at,
                    slot.capacity,
                    slot.priority_capacity,
                    slot.priority_release_at,
                    now,
                    slot.household_limit,
                    market
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes a slot of `market` as `domain::slots::decide_change` allows over the slot as
    /// locked. None: no such slot there; Some(Err): refused, nothing changed.
    pub async fn change(
        &self,
        market: MarketId,
        id: i64,
        change: &SlotChange,
    ) -> StoreResult<Option<Result<SlotRecord, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let Some(slot) = slot_in(&mut tx, id, true).await?.filter(|s| s.market_id == market) else { return Ok(None) };
        let changed = match decide_change(&slot, change) {
            Ok(changed) => changed,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        let s = &changed.state;
        tx.exec(
            "UPDATE slots SET capacity = $2, priority_capacity = $3, priority_release_at = $4, cutoff_at = $5, \
             closed = $6, household_limit = $7 WHERE id = $1",
            &args![
                id,
                s.capacity,
                s.priority_capacity,
                s.priority_release_at,
                s.cutoff_at,
                s.closed,
                s.household_limit
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Ok(SlotRecord::from_row(changed))))
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<SlotRecord>> {
        Ok(self.db.opt(&format!("SELECT {SLOT_COLUMNS} FROM slots WHERE id = $1"), &args![id]).await?)
    }

    /// `market`'s slots (None: every market's) starting in [from, to), earliest first.
    pub async fn between(
        &self,
        market: Option<MarketId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<SlotRecord>> {
        let order = "ORDER BY starts_at, kind, id LIMIT 500";
        Ok(match market {
            Some(market) => {
                let sql = format!(
                    "SELECT {SLOT_COLUMNS} FROM slots WHERE market_id = $3 AND starts_at >= $1 AND starts_at < $2 {order}"
                );
                self.db.all(&sql, &args![from, to, market]).await?
            }
            None => {
                let sql = format!("SELECT {SLOT_COLUMNS} FROM slots WHERE starts_at >= $1 AND starts_at < $2 {order}");
                self.db.all(&sql, &args![from, to]).await?
            }
        })
    }
}
