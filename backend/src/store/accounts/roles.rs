//! The roles staff give: exactly these roles, with the buildings a leader or volunteer has and
//! the stall a holder keeps (`domain::accounts::decide_roles`), each change in the audit; and
//! finding accounts by phone and role.

use super::{Accounts, UserRecord, UserRow, USER_SELECT};
use crate::domain::accounts::{decide_roles, RoleFacts, RolesState};
use crate::domain::markets::{roles_refusal, AccountTie};
use crate::domain::Refusal;
use crate::store::db::{args, Tx};
use crate::store::setup::{record, Audit};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use shared::group_buy::SetRoles;
use shared::{MarketId, Role};
use std::collections::BTreeMap;

/// The market an account belongs to, and whether a role or a home ties it there.
#[derive(serde::Deserialize)]
struct Tie {
    market: MarketId,
    tied: bool,
}

impl Accounts {
    /// Gives the account of `phone` (made if new) exactly the roles asked in `market`, as `by`
    /// (None: the server itself, the demo's set-up). A stall given to them leaves its previous
    /// holder. Ok: the account's id; Err: refused, nothing changed.
    pub async fn set_roles(
        &self,
        market: MarketId,
        phone: &str,
        asked: &SetRoles,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.db.begin().await?;
        let (user, ended) = match self.set_roles_in(&mut tx, market, phone, asked, by, now).await? {
            Ok(done) => done,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.commit().await?;
        self.forget_users(&ended);
        Ok(Ok(user))
    }

    /// After a commit that changed these accounts' roles.
    pub(crate) fn forget_users(&self, ids: &[i64]) {
        for id in ids {
            self.sessions.forget_user(*id);
        }
    }

    /// `set_roles` inside `tx` (`domain::accounts::decide_roles` over the account as it is, the
    /// buildings and stall asked for looked up in `market`; `domain::markets::roles_refusal` for
    /// an account tied to another market). Ok: the account's id and the accounts whose
    /// remembered roles the commit must forget.
    pub(crate) async fn set_roles_in(
        &self,
        tx: &mut Tx,
        market: MarketId,
        phone: &str,
        asked: &SetRoles,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(i64, Vec<i64>), Refusal>> {
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now],
        )
        .await?;
        let sql = tx.locked("SELECT id FROM users WHERE phone = $1");
        let user: i64 = tx.one(&sql, &args![phone]).await?;
        let tie: Tie = tx
            .one(
                "SELECT COALESCE(b.market_id, u.market_id) AS market, \
                 (u.household_id IS NOT NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id \
                 AND r.role <> 'resident')) AS tied \
                 FROM users u LEFT JOIN households h ON h.id = u.household_id \
                 LEFT JOIN buildings b ON b.id = h.building_id WHERE u.id = $1",
                &args![user],
            )
            .await?;
        if let Some(refusal) = roles_refusal(market, AccountTie { market: tie.market, tied: tie.tied }) {
            return Ok(Err(refusal));
        }
        // Each building asked for as the market names it (`3`, or `七里山小区 3` where two
        // communities have a building 3); one not on record stays as asked, to be refused.
        let mut ids: Vec<Option<i64>> = Vec::with_capacity(asked.buildings.len());
        for named in &asked.buildings {
            match super::building_id(tx, market, named).await? {
                Ok(id) => ids.push(id),
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        let found: Vec<i64> = ids.iter().flatten().copied().collect();
        let labels: BTreeMap<i64, String> = super::building_labels(tx, &found).await?.into_iter().collect();
        // label -> building, to record the buildings decided on.
        let by_label: BTreeMap<String, i64> = labels.iter().map(|(id, label)| (label.clone(), *id)).collect();
        let known_buildings: Vec<String> = labels.values().cloned().collect();
        let mut asked = asked.clone();
        for (named, id) in asked.buildings.iter_mut().zip(&ids) {
            if let Some(label) = id.and_then(|id| labels.get(&id)) {
                *named = label.clone();
            }
        }
        let asked = &asked;
        let stall_exists = match asked.stall_id {
            Some(id) => tx
                .opt::<i64>(&tx.locked("SELECT id FROM vendors WHERE id = $1 AND market_id = $2"), &args![id, market])
                .await?
                .is_some(),
            None => false,
        };
        let before = roles_state(tx, user).await?;
        let speaks: Option<i64> = tx.opt("SELECT id FROM producers WHERE owner_user_id = $1", &args![user]).await?;
        let facts =
            RoleFacts { now: before.clone(), known_buildings, stall_exists, speaks_for_producer: speaks.is_some() };
        let after = match decide_roles(asked, &facts) {
            Ok(after) => after,
            Err(refusal) => return Ok(Err(refusal)),
        };
        tx.exec("UPDATE users SET market_id = $2 WHERE id = $1", &args![user, market]).await?;
        if after == before {
            return Ok(Ok((user, vec![user])));
        }
        tx.exec("DELETE FROM user_roles WHERE user_id = $1", &args![user]).await?;
        for role in &after.roles {
            tx.exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", &args![user, role.as_str()]).await?;
        }
        tx.exec("DELETE FROM leader_buildings WHERE user_id = $1", &args![user]).await?;
        for building in after.buildings.iter().filter_map(|label| by_label.get(label)) {
            tx.exec("INSERT INTO leader_buildings (user_id, building_id) VALUES ($1, $2)", &args![user, *building])
                .await?;
        }
        let mut ended = vec![user];
        if after.stall_id != before.stall_id {
            if let Some(stall) = after.stall_id {
                let previous: Option<i64> =
                    tx.opt("SELECT owner_user_id FROM vendors WHERE id = $1", &args![stall]).await?.flatten();
                ended.extend(previous.filter(|p| *p != user));
            }
            tx.exec("UPDATE vendors SET owner_user_id = NULL WHERE owner_user_id = $1", &args![user]).await?;
            if let Some(stall) = after.stall_id {
                tx.exec("UPDATE vendors SET owner_user_id = $2 WHERE id = $1", &args![stall, user]).await?;
            }
        }
        let entry = Audit { at: now, actor: by, subject: "user", subject_id: user.to_string(), action: "roles" };
        record(tx, entry, Some(&before), Some(&after)).await?;
        Ok(Ok((user, ended)))
    }

    /// The market of the account of `phone` (its home's, else its own); None: nobody has it.
    pub async fn market_of_phone(&self, phone: &str) -> StoreResult<Option<MarketId>> {
        Ok(self
            .db
            .opt(
                "SELECT COALESCE(b.market_id, u.market_id) AS market_id FROM users u \
                 LEFT JOIN households h ON h.id = u.household_id LEFT JOIN buildings b ON b.id = h.building_id \
                 WHERE u.phone = $1 AND u.erased_at IS NULL",
                &args![phone],
            )
            .await?)
    }

    /// Accounts of `market` whose phone starts with `phone` (all when empty) holding `role` (any when None),
    /// `limit` at a time in the order they were made, after the account `after`.
    pub async fn search(
        &self,
        market: MarketId,
        phone: &str,
        role: Option<Role>,
        limit: i64,
        after: Option<i64>,
    ) -> StoreResult<(Vec<UserRecord>, Option<i64>)> {
        let pattern = format!("{}%", phone.replace(['%', '_', '\\'], ""));
        let rows: Vec<UserRow> = self
            .db
            .all(
                &format!(
                    "{USER_SELECT} WHERE u.id > $1 AND u.erased_at IS NULL AND COALESCE(u.phone, '') LIKE $2 \
                     AND COALESCE(b.market_id, u.market_id) = $5 \
                     AND ($3 = '' OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $3)) \
                     ORDER BY u.id LIMIT $4"
                ),
                &args![after.unwrap_or(0), pattern, role.map_or("", |r| r.as_str()), limit + 1, market],
            )
            .await?;
        let mut users: Vec<UserRecord> = rows.into_iter().map(UserRecord::from).collect();
        let next = if users.len() as i64 > limit {
            users.truncate(limit as usize);
            users.last().map(|u| u.id)
        } else {
            None
        };
        Ok((users, next))
    }
}

/// The roles, buildings and stall of account `user` as they are.
async fn roles_state(tx: &mut Tx, user: i64) -> StoreResult<RolesState> {
    let names: Vec<String> =
        tx.all("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role", &args![user]).await?;
    let mut roles: Vec<Role> = names.iter().filter_map(|r| Role::parse(r)).collect();
    roles.sort();
    let ids: Vec<i64> = tx.all("SELECT building_id FROM leader_buildings WHERE user_id = $1", &args![user]).await?;
    let mut buildings: Vec<String> =
        super::building_labels(tx, &ids).await?.into_iter().map(|(_, label)| label).collect();
    buildings.sort();
    let stall_id: Option<i64> =
        tx.opt("SELECT id FROM vendors WHERE owner_user_id = $1 ORDER BY id LIMIT 1", &args![user]).await?;
    Ok(RolesState { roles, buildings, stall_id })
}
