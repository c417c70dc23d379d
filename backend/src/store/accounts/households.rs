//! Households: the flats the market delivers to, a resident's home, staff's search and the
//! flags (quarantined, hardship, elderly) that give priority.

use super::sessions::Sessions;
use crate::store::db::{args, Db, Tx};
use crate::store::{like_escaped, StoreResult};
use serde::Deserialize;
use shared::api::{Address, Household};
use std::sync::Arc;

/// Which households staff look for: a building's number, a unit, the start of a room number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdFilter {
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
}

/// A household with its building, as the API shows it.
pub(crate) const HOUSEHOLD_SELECT: &str = "SELECT h.id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly FROM households h JOIN buildings b ON b.id = h.building_id";

#[derive(Deserialize)]
pub(crate) struct HouseholdRow {
    id: shared::HouseholdId,
    community: String,
    building: String,
    unit: String,
    room: String,
    quarantined: bool,
    hardship: bool,
    elderly: bool,
}

impl From<HouseholdRow> for Household {
    fn from(r: HouseholdRow) -> Self {
        Household {
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

pub struct Households {
    db: Db,
    sessions: Arc<Sessions>,
}

impl Households {
    pub fn new(db: Db, sessions: Arc<Sessions>) -> Self {
        Self { db, sessions }
    }

    /// Makes the household at this address (made if new) the user's home. None: no such building.
    pub async fn set_home(&self, user_id: i64, address: &Address) -> StoreResult<Option<Household>> {
        let mut tx = self.db.begin().await?;
        let Some(household) = at_address(&mut tx, address).await? else { return Ok(None) };
        tx.exec("UPDATE users SET household_id = $2 WHERE id = $1", &args![user_id, household.id]).await?;
        tx.commit().await?;
        self.sessions.forget_user(user_id);
        Ok(Some(household))
    }

    /// The household at this address, put on record if new (a share placed for a household
    /// without a phone). None: no such building.
    pub async fn at(&self, address: &Address) -> StoreResult<Option<Household>> {
        let mut tx = self.db.begin().await?;
        let household = at_address(&mut tx, address).await?;
        tx.commit().await?;
        Ok(household)
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<Household>> {
        let row: Option<HouseholdRow> = self.db.opt(&format!("{HOUSEHOLD_SELECT} WHERE h.id = $1"), &args![id]).await?;
        Ok(row.map(Into::into))
    }

    /// A resident with an account in the household, if any (the first to have one).
    pub async fn resident(&self, household_id: i64) -> StoreResult<Option<i64>> {
        Ok(self.db.one("SELECT MIN(id) AS id FROM users WHERE household_id = $1", &args![household_id]).await?)
    }

    /// Households matching `filter` in the order of buildings, units, rooms: at most `limit` after
    /// the household `after`, and the id to go on from when there are more. Keyset paging on
    /// (building, unit, room, id): a page costs the same however deep.
    pub async fn search(
        &self,
        filter: &HouseholdFilter,
        limit: i64,
        after: Option<i64>,
    ) -> StoreResult<(Vec<Household>, Option<i64>)> {
        let room = filter.room.as_deref().map(|r| format!("{}%", like_escaped(r)));
        let rows: Vec<HouseholdRow> = self
            .db
            .all(
                &format!(
                    "{HOUSEHOLD_SELECT} WHERE (CAST($1 AS TEXT) IS NULL OR b.number = $1) \
                     AND (CAST($2 AS TEXT) IS NULL OR h.unit = $2) \
                     AND (CAST($3 AS TEXT) IS NULL OR h.room LIKE $3 ESCAPE '\\') \
                     AND (CAST($4 AS BIGINT) IS NULL OR (h.building_id, h.unit, h.room, h.id) > \
                          (SELECT k.building_id, k.unit, k.room, k.id FROM households k WHERE k.id = $4)) \
                     ORDER BY h.building_id, h.unit, h.room, h.id LIMIT $5"
                ),
                &args![filter.building.as_deref(), filter.unit.as_deref(), room, after, limit + 1],
            )
            .await?;
        let more = rows.len() as i64 > limit;
        let shown: Vec<Household> = rows.into_iter().take(limit as usize).map(Into::into).collect();
        let next = if more { shown.last().map(|h| h.id.get()) } else { None };
        Ok((shown, next))
    }

    /// Sets the flags given (None: unchanged). None: no such household.
    pub async fn flag(
        &self,
        id: i64,
        quarantined: Option<bool>,
        hardship: Option<bool>,
        elderly: Option<bool>,
    ) -> StoreResult<Option<Household>> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .exec(
                "UPDATE households SET quarantined = COALESCE($2, quarantined), hardship = COALESCE($3, hardship), \
                 elderly = COALESCE($4, elderly) WHERE id = $1",
                &args![id, quarantined, hardship, elderly],
            )
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        let row: HouseholdRow = tx.one(&format!("{HOUSEHOLD_SELECT} WHERE h.id = $1"), &args![id]).await?;
        tx.commit().await?;
        // Everyone living there.
        self.sessions.forget_all();
        Ok(Some(row.into()))
    }
}

/// The household at an address (trimmed), put on record if new; None: no such building.
async fn at_address(tx: &mut Tx, address: &Address) -> StoreResult<Option<Household>> {
    let Some(building) = super::building_id(tx, address.building.trim()).await? else { return Ok(None) };
    let (unit, room) = (address.unit.trim(), address.room.trim());
    tx.exec(
        "INSERT INTO households (building_id, unit, room) VALUES ($1, $2, $3) \
         ON CONFLICT (building_id, unit, room) DO NOTHING",
        &args![building, unit, room],
    )
    .await?;
    let row: HouseholdRow = tx
        .one(
            &format!("{HOUSEHOLD_SELECT} WHERE h.building_id = $1 AND h.unit = $2 AND h.room = $3"),
            &args![building, unit, room],
        )
        .await?;
    Ok(Some(row.into()))
}
