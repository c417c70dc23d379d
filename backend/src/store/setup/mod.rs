//! The market's set-up, as staff make it on its first day and after: the area it serves (its
//! buildings), and the audit record of every change to the set-up (who, when, before, after).
//! The rules are `domain::area`'s.

use crate::domain::area::{decide_building_change, decide_new_building, BuildingState};
use crate::domain::Refusal;
use crate::store::db::{args, Db, Tx};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::api::{AuditEntry, Building, NewBuilding, UpdateBuilding};

/// Buildings are added one at a time across server processes: a number is the market's once.
const AREA_LOCK: i64 = 74460003;

/// The newest audit entries read at most, before paging.
const AUDIT_READ: i64 = 2_000;

const BUILDING_SELECT: &str = "SELECT b.id, b.community, b.number AS building, b.units, b.closed, \
     (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households FROM buildings b";

#[derive(Deserialize)]
struct BuildingRow {
    id: i64,
    community: String,
    building: String,
    units: i64,
    closed: bool,
    households: i64,
}

impl From<BuildingRow> for Building {
    fn from(r: BuildingRow) -> Self {
        Building {
            id: r.id,
            community: r.community,
            building: r.building,
            units: r.units,
            closed: r.closed,
            households: r.households,
        }
    }
}

impl BuildingRow {
    fn state(&self) -> BuildingState {
        BuildingState {
            community: self.community.clone(),
            building: self.building.clone(),
            units: self.units,
            closed: self.closed,
        }
    }
}

pub struct Setup {
    db: Db,
}

impl Setup {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Every building the market serves, by compound and number.
    pub async fn buildings(&self) -> StoreResult<Vec<Building>> {
        let rows: Vec<BuildingRow> = self.db.all(&format!("{BUILDING_SELECT} ORDER BY b.community, b.id"), &[]).await?;
        Ok(rows.into_iter().map(Building::from).collect())
    }

    /// A new building (`domain::area::decide_new_building`), recorded in the audit.
    pub async fn add_building(
        &self,
        new: &NewBuilding,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Building, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(AREA_LOCK).await?;
        let taken: Option<i64> =
            tx.opt("SELECT id FROM buildings WHERE number = $1 LIMIT 1", &args![new.building.trim()]).await?;
        let made = match decide_new_building(new, taken.is_some()) {
            Ok(made) => made,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // Floors are kept for the seeded demo's flats; a real building's are not asked for.
        let id: i64 = tx
            .one(
                "INSERT INTO buildings (community, number, units, floors, closed) VALUES ($1, $2, $3, 1, $4) \
                 RETURNING id",
                &args![made.community.as_str(), made.building.as_str(), made.units, made.closed],
            )
            .await?;
        let entry =
            Audit { at: now, actor: Some(by), subject: "building", subject_id: id.to_string(), action: "create" };
        record(&mut tx, entry, None, Some(&made)).await?;
        let row: BuildingRow = tx.one(&format!("{BUILDING_SELECT} WHERE b.id = $1"), &args![id]).await?;
        tx.commit().await?;
        Ok(Ok(row.into()))
    }

    /// A building's units, or closed / open (`domain::area::decide_building_change`), recorded
    /// in the audit when anything changed. None: no such building.
    pub async fn change_building(
        &self,
        id: i64,
        change: &UpdateBuilding,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Building, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT id FROM buildings WHERE id = $1");
        if tx.opt::<i64>(&sql, &args![id]).await?.is_none() {
            return Ok(None);
        }
        let row: BuildingRow = tx.one(&format!("{BUILDING_SELECT} WHERE b.id = $1"), &args![id]).await?;
        let before = row.state();
        let after = match decide_building_change(&before, change) {
            Ok(after) => after,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if after != before {
            tx.exec(
                "UPDATE buildings SET units = $2, closed = $3 WHERE id = $1",
                &args![id, after.units, after.closed],
            )
            .await?;
            let entry =
                Audit { at: now, actor: Some(by), subject: "building", subject_id: id.to_string(), action: "update" };
            record(&mut tx, entry, Some(&before), Some(&after)).await?;
        }
        let row: BuildingRow = tx.one(&format!("{BUILDING_SELECT} WHERE b.id = $1"), &args![id]).await?;
        tx.commit().await?;
        Ok(Some(Ok(row.into())))
    }

    /// The newest changes to the set-up first (of one kind of subject if given).
    pub async fn audit(&self, subject: Option<&str>) -> StoreResult<Vec<AuditEntry>> {
        #[derive(Deserialize)]
        struct Row {
            id: i64,
            at: DateTime<Utc>,
            actor: Option<String>,
            subject: String,
            subject_id: String,
            action: String,
            before: Option<String>,
            after: Option<String>,
        }
        let select = "SELECT a.id, a.at, u.phone AS actor, a.subject, a.subject_id, a.action, a.before, a.after \
                      FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id";
        let rows: Vec<Row> = match subject {
            Some(subject) => {
                let sql = format!("{select} WHERE a.subject = $1 ORDER BY a.id DESC LIMIT $2");
                self.db.all(&sql, &args![subject, AUDIT_READ]).await?
            }
            None => self.db.all(&format!("{select} ORDER BY a.id DESC LIMIT $1"), &args![AUDIT_READ]).await?,
        };
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: crate::domain::time::to_api(r.at),
                actor: r.actor,
                subject: r.subject,
                subject_id: r.subject_id,
                action: r.action,
                before: json(r.before),
                after: json(r.after),
            })
            .collect())
    }
}

/// What an audit entry says was done, by whom and when.
pub(crate) struct Audit<'a> {
    pub at: DateTime<Utc>,
    /// None: the server's own command line.
    pub actor: Option<i64>,
    pub subject: &'a str,
    pub subject_id: String,
    pub action: &'a str,
}

/// Writes one audit entry in the change's own transaction: a change and its record commit
/// together or not at all.
pub(crate) async fn record<B: Serialize>(
    tx: &mut Tx,
    entry: Audit<'_>,
    before: Option<&B>,
    after: Option<&B>,
) -> StoreResult<()> {
    let text = |v: Option<&B>| v.and_then(|v| serde_json::to_string(v).ok());
    tx.exec(
        "INSERT INTO audit_log (at, actor_id, subject, subject_id, action, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &args![entry.at, entry.actor, entry.subject, entry.subject_id, entry.action, text(before), text(after)],
    )
    .await?;
    Ok(())
}
