//! The market's set-up, as staff make it on its first day and after: the area it serves (its
//! buildings), the catalogue's categories, stalls and new products, and the audit record of
//! every change to the set-up (who, when, before, after). The rules are `domain::area`'s and
//! `domain::setup`'s.

use crate::domain::area::{decide_building_change, decide_new_building, BuildingState};
use crate::domain::setup::{
    decide_category_change, decide_new_category, decide_new_stall, decide_stall_change, CatalogueFacts, CategoryState,
    StallState,
};
use crate::domain::Refusal;
use crate::store::db::{args, Db, Tx};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::api::{
    AuditEntry, Building, Category, NewBuilding, NewCategory, NewStall, UpdateBuilding, UpdateCategory, UpdateStall,
    Vendor,
};
use shared::MarketId;

mod products;

pub(crate) use products::{record_stock, StockReason};

/// The set-up changes one at a time across server processes: a building number, a category
/// name, a stall number is the market's once.
const SETUP_LOCK: i64 = 74460003;

/// The newest audit entries read at most, before paging.
const AUDIT_READ: i64 = 2_000;

const BUILDING_SELECT: &str = "SELECT b.id, b.market_id, b.community, b.number AS building, b.units, b.closed, \
     (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households FROM buildings b";

#[derive(Deserialize)]
struct BuildingRow {
    id: i64,
    market_id: MarketId,
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
            market_id: r.market_id,
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

    /// Every building `market` serves, by compound and number.
    pub async fn buildings(&self, market: MarketId) -> StoreResult<Vec<Building>> {
        let rows: Vec<BuildingRow> = self
            .db
            .all(&format!("{BUILDING_SELECT} WHERE b.market_id = $1 ORDER BY b.community, b.id"), &args![market])
            .await?;
        Ok(rows.into_iter().map(Building::from).collect())
    }

    /// Whether the building with this number is closed (its deliveries go to the gate).
    pub async fn closed(&self, building: &str) -> StoreResult<bool> {
        let closed: Option<bool> =
            self.db.opt("SELECT closed FROM buildings WHERE number = $1 ORDER BY id LIMIT 1", &args![building]).await?;
        Ok(closed.unwrap_or(false))
    }

    /// A list of buildings (`domain::area::plan_buildings`) over those on record; applied (each
    /// in the audit) only when `apply` and no row is an error.
    pub async fn import_buildings(
        &self,
        market: MarketId,
        lines: &[crate::domain::area::BuildingLine],
        apply: bool,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::domain::area::BuildingsPlan> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let rows: Vec<BuildingRow> =
            tx.all(&format!("{BUILDING_SELECT} WHERE b.market_id = $1 ORDER BY b.id"), &args![market]).await?;
        let on_record: Vec<BuildingState> = rows.iter().map(BuildingRow::state).collect();
        let plan = crate::domain::area::plan_buildings(lines, &on_record);
        if !apply || plan.rows.iter().any(|r| r.action == shared::api::ImportAction::Error) {
            return Ok(plan);
        }
        for made in &plan.create {
            let id: i64 = tx
                .one(
                    "INSERT INTO buildings (community, number, units, floors, closed, market_id) \
                     VALUES ($1, $2, $3, 1, $4, $5) RETURNING id",
                    &args![made.community.as_str(), made.building.as_str(), made.units, made.closed, market],
                )
                .await?;
            let entry =
                Audit { at: now, actor: Some(by), subject: "building", subject_id: id.to_string(), action: "create" };
            record(&mut tx, entry, None, Some(made)).await?;
        }
        for (before, after) in &plan.update {
            let Some(id) =
                rows.iter().find(|r| r.community == before.community && r.building == before.building).map(|r| r.id)
            else {
                continue;
            };
            tx.exec(
                "UPDATE buildings SET units = $2, closed = $3 WHERE id = $1",
                &args![id, after.units, after.closed],
            )
            .await?;
            let entry =
                Audit { at: now, actor: Some(by), subject: "building", subject_id: id.to_string(), action: "update" };
            record(&mut tx, entry, Some(before), Some(after)).await?;
        }
        tx.commit().await?;
        Ok(plan)
    }

    /// A new building (`domain::area::decide_new_building`), recorded in the audit.
    pub async fn add_building(
        &self,
        market: MarketId,
        new: &NewBuilding,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Building, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let taken: Option<i64> = tx
            .opt(
                "SELECT id FROM buildings WHERE market_id = $2 AND number = $1 AND community = $3",
                &args![new.building.trim(), market, new.community.trim()],
            )
            .await?;
        let made = match decide_new_building(new, taken.is_some()) {
            Ok(made) => made,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // Floors are kept for the seeded demo's flats; a real building's are not asked for.
        let id: i64 = tx
            .one(
                "INSERT INTO buildings (community, number, units, floors, closed, market_id) \
                 VALUES ($1, $2, $3, 1, $4, $5) RETURNING id",
                &args![made.community.as_str(), made.building.as_str(), made.units, made.closed, market],
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
        market: MarketId,
        id: i64,
        change: &UpdateBuilding,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Building, Refusal>>> {
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT id FROM buildings WHERE id = $1 AND market_id = $2");
        if tx.opt::<i64>(&sql, &args![id, market]).await?.is_none() {
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

    /// A new category of goods (`domain::setup::decide_new_category`), recorded in the audit.
    pub async fn add_category(
        &self,
        new: &NewCategory,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Category, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let facts = catalogue_facts(&mut tx, None).await?;
        let made = match decide_new_category(new, &facts) {
            Ok(made) => made,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.exec(
            "INSERT INTO categories (id, name_zh, name_en, icon, sort) VALUES ($1, $2, $3, $4, $5)",
            &args![made.id.as_str(), made.name.as_str(), made.name_en.as_str(), made.icon.as_str(), made.sort],
        )
        .await?;
        let entry =
            Audit { at: now, actor: Some(by), subject: "category", subject_id: made.id.clone(), action: "create" };
        record(&mut tx, entry, None, Some(&made)).await?;
        tx.commit().await?;
        Ok(Ok(category_view(made, 0)))
    }

    /// A category's names, place or emoji changed (its products follow its place in the list),
    /// recorded in the audit. None: no such category.
    pub async fn change_category(
        &self,
        id: &str,
        change: &UpdateCategory,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Category, Refusal>>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let facts = catalogue_facts(&mut tx, None).await?;
        let Some(before) = facts.categories.iter().find(|c| c.id == id).cloned() else { return Ok(None) };
        let on_sale: i64 =
            tx.one("SELECT COUNT(*) AS n FROM products WHERE category_id = $1 AND active", &args![id]).await?;
        let after = match decide_category_change(&before, change, &facts, on_sale) {
            Ok(after) => after,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if after != before {
            tx.exec(
                "UPDATE categories SET name_zh = $2, name_en = $3, icon = $4, sort = $5, retired = $6 WHERE id = $1",
                &args![id, after.name.as_str(), after.name_en.as_str(), after.icon.as_str(), after.sort, after.retired],
            )
            .await?;
            if after.sort != before.sort {
                tx.exec("UPDATE products SET category_sort = $2 WHERE category_id = $1", &args![id, after.sort])
                    .await?;
            }
            let action = match (before.retired, after.retired) {
                (false, true) => "retire",
                (true, false) => "restore",
                _ => "update",
            };
            let entry = Audit { at: now, actor: Some(by), subject: "category", subject_id: id.to_owned(), action };
            record(&mut tx, entry, Some(&before), Some(&after)).await?;
        }
        tx.commit().await?;
        Ok(Some(Ok(category_view(after, on_sale))))
    }

    /// A new stall (`domain::setup::decide_new_stall`), recorded in the audit.
    pub async fn add_stall(
        &self,
        market: MarketId,
        new: &NewStall,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Vendor, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let facts = catalogue_facts(&mut tx, Some(market)).await?;
        let made = match decide_new_stall(new, &facts) {
            Ok(made) => made,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id: i64 = tx
            .one(
                "INSERT INTO vendors (name, stall_no, category_id, description, market_id) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
                &args![made.name.as_str(), made.stall_no.as_str(), made.category.as_str(), made.description.as_str(), market],
            )
            .await?;
        let entry = Audit { at: now, actor: Some(by), subject: "stall", subject_id: id.to_string(), action: "create" };
        record(&mut tx, entry, None, Some(&made)).await?;
        tx.commit().await?;
        Ok(Ok(stall_view(id, market, made, 0)))
    }

    /// A stall's name, category or description changed, recorded in the audit. None: no such
    /// stall.
    /// `market`: the staff's market, whose stalls only they change (None: the holder's own).
    pub async fn change_stall(
        &self,
        market: Option<MarketId>,
        id: i64,
        change: &UpdateStall,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Vendor, Refusal>>> {
        #[derive(Deserialize)]
        struct Row {
            market_id: MarketId,
            name: String,
            stall_no: String,
            category_id: String,
            description: String,
            is_open: bool,
            closed_on: Option<String>,
        }
        let mut tx = self.db.begin().await?;
        tx.advisory_lock(SETUP_LOCK).await?;
        let sql = tx.locked(
            "SELECT market_id, name, stall_no, category_id, description, is_open, closed_on FROM vendors \
             WHERE id = $1 AND market_id = COALESCE($2, market_id)",
        );
        let Some(row) = tx.opt::<Row>(&sql, &args![id, market.map(MarketId::get)]).await? else { return Ok(None) };
        let market = row.market_id;
        let before = StallState {
            name: row.name,
            stall_no: row.stall_no,
            category: row.category_id,
            description: row.description,
            open: row.is_open,
            closed_on: row.closed_on,
        };
        let facts = catalogue_facts(&mut tx, None).await?;
        let after = match decide_stall_change(&before, change, &facts) {
            Ok(after) => after,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if after != before {
            tx.exec(
                "UPDATE vendors SET name = $2, category_id = $3, description = $4, is_open = $5, closed_on = $6 \
                 WHERE id = $1",
                &args![
                    id,
                    after.name.as_str(),
                    after.category.as_str(),
                    after.description.as_str(),
                    after.open,
                    after.closed_on.clone()
                ],
            )
            .await?;
            let entry =
                Audit { at: now, actor: Some(by), subject: "stall", subject_id: id.to_string(), action: "update" };
            record(&mut tx, entry, Some(&before), Some(&after)).await?;
        }
        let products: i64 =
            tx.one("SELECT COUNT(*) AS n FROM products WHERE vendor_id = $1 AND active", &args![id]).await?;
        tx.commit().await?;
        Ok(Some(Ok(stall_view(id, market, after, products))))
    }

    /// The newest changes to the set-up first (of one kind of subject if given).
    pub async fn audit(&self, market: MarketId, subject: Option<&str>) -> StoreResult<Vec<AuditEntry>> {
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
                let sql = format!("{select} WHERE a.market_id = $3 AND a.subject = $1 ORDER BY a.id DESC LIMIT $2");
                self.db.all(&sql, &args![subject, AUDIT_READ, market]).await?
            }
            None => {
                let sql = format!("{select} WHERE a.market_id = $2 ORDER BY a.id DESC LIMIT $1");
                self.db.all(&sql, &args![AUDIT_READ, market]).await?
            }
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

/// The catalogue's categories and, with `stalls_of`, that market's stall numbers (a stall number
/// is a market's own), for the set-up's rules.
async fn catalogue_facts(tx: &mut Tx, stalls_of: Option<MarketId>) -> StoreResult<CatalogueFacts> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        name: String,
        name_en: String,
        sort: i64,
        icon: String,
        retired: bool,
    }
    let categories: Vec<Row> = tx
        .all("SELECT id, name_zh AS name, name_en, sort, icon, retired FROM categories ORDER BY sort, id", &[])
        .await?;
    let stall_numbers: Vec<String> = match stalls_of {
        Some(market) => tx.all("SELECT stall_no FROM vendors WHERE market_id = $1 ORDER BY id", &args![market]).await?,
        None => Vec::new(),
    };
    Ok(CatalogueFacts {
        categories: categories
            .into_iter()
            .map(|r| CategoryState {
                id: r.id,
                name: r.name,
                name_en: r.name_en,
                sort: r.sort,
                icon: r.icon,
                retired: r.retired,
            })
            .collect(),
        stall_numbers,
    })
}

fn category_view(c: CategoryState, product_count: i64) -> Category {
    Category { id: c.id, name_zh: c.name, name_en: c.name_en, icon: c.icon, product_count }
}

fn stall_view(id: i64, market_id: MarketId, s: StallState, product_count: i64) -> Vendor {
    Vendor {
        id,
        market_id,
        name: s.name,
        stall_no: s.stall_no,
        category: s.category,
        description: s.description,
        product_count,
        open: s.open,
        closed_on: s.closed_on,
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
        "INSERT INTO audit_log (at, actor_id, subject, subject_id, action, before, after, market_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((SELECT COALESCE((SELECT b.market_id FROM households h \
         JOIN buildings b ON b.id = h.building_id WHERE h.id = u.household_id), u.market_id) \
         FROM users u WHERE u.id = $2), 1))",
        &args![entry.at, entry.actor, entry.subject, entry.subject_id, entry.action, text(before), text(after)],
    )
    .await?;
    Ok(())
}
