//! The deployment's markets: the list residents choose from, opening a new one with its first
//! staff member (`domain::markets`), and which ids exist (remembered once seen: a market is
//! never deleted).

use super::accounts::Accounts;
use super::db::{args, Db};
use super::setup::{record, Audit};
use super::StoreResult;
use crate::domain::markets::decide_new_market;
use crate::domain::Refusal;
use chrono::{DateTime, Utc};
use shared::api::{Market, NewMarket};
use shared::group_buy::SetRoles;
use shared::MarketId;
use std::collections::HashSet;
use std::sync::Mutex;

pub struct Markets {
    db: Db,
    known: Mutex<HashSet<MarketId>>,
}

#[derive(serde::Deserialize)]
struct MarketRow {
    id: MarketId,
    name: String,
}

impl Markets {
    pub fn new(db: Db) -> Self {
        Self { db, known: Mutex::new(HashSet::from([MarketId::FIRST])) }
    }

    /// Every market, in the order they were opened.
    pub async fn all(&self) -> StoreResult<Vec<Market>> {
        let rows: Vec<MarketRow> = self.db.all("SELECT id, name FROM markets ORDER BY id", &[]).await?;
        Ok(rows.into_iter().map(|r| Market { id: r.id, name: r.name }).collect())
    }

    /// Whether the market exists (asked once per id and process, then remembered).
    pub async fn exists(&self, id: MarketId) -> StoreResult<bool> {
        if self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&id) {
            return Ok(true);
        }
        let found: Option<MarketId> = self.db.opt("SELECT id FROM markets WHERE id = $1", &args![id]).await?;
        if found.is_some() {
            self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id);
        }
        Ok(found.is_some())
    }

    /// Opens a market (`domain::markets::decide_new_market`, asked by staff of `by_market`) and
    /// makes `staff_phone` its staff (`Accounts::set_roles`, which refuses an account tied to
    /// another market). Both or neither: a refused staff member closes nothing that was opened.
    pub async fn open(
        &self,
        accounts: &Accounts,
        new: &NewMarket,
        by: i64,
        by_market: MarketId,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Market, Refusal>> {
        let mut tx = self.db.begin().await?;
        let taken: Option<i64> = tx.opt("SELECT id FROM markets WHERE name = $1", &args![new.name.trim()]).await?;
        let name = match decide_new_market(&new.name, by_market, taken.is_some()) {
            Ok(name) => name,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let id: MarketId = tx
            .one("INSERT INTO markets (name, created_at) VALUES ($1, $2) RETURNING id", &args![name.as_str(), now])
            .await?;
        let entry = Audit { at: now, actor: Some(by), subject: "market", subject_id: id.to_string(), action: "create" };
        record(&mut tx, entry, None, Some(&serde_json::json!({ "name": name }))).await?;
        super::money::donations::open_pool(&mut tx, id).await?;
        let staff = SetRoles { roles: vec!["staff".into()], buildings: Vec::new(), stall_id: None };
        let ended = match accounts.set_roles_in(&mut tx, id, &new.staff_phone, &staff, Some(by), now).await? {
            Ok((_, ended)) => ended,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.commit().await?;
        accounts.forget_users(&ended);
        Ok(Ok(Market { id, name }))
    }
}
