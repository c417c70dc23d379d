//! The roles staff give: exactly these roles, with the buildings a leader or volunteer has and
//! the stall a holder keeps (`domain::accounts::decide_roles`), each change in the audit; and
//! finding accounts by phone and role.

use super::{Accounts, UserRecord, UserRow, USER_SELECT};
use crate::domain::accounts::{decide_roles, RoleFacts, RolesState};
use crate::domain::Refusal;
use crate::store::db::{args, Tx};
use crate::store::setup::{record, Audit};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use shared::group_buy::SetRoles;
use shared::Role;

impl Accounts {
    /// Gives the account of `phone` (made if new) exactly the roles asked, as `by` (None: the
    /// server itself, the demo's set-up). A stall given to them leaves its previous holder.
    /// Ok: the account's id; Err: refused, nothing changed.
    pub async fn set_roles(
        &self,
        phone: &str,
        asked: &SetRoles,
        by: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO users (phone, created_at) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING",
            &args![phone, now],
        )
        .await?;
        let sql = tx.locked("SELECT id FROM users WHERE phone = $1");
        let user: i64 = tx.one(&sql, &args![phone]).await?;
        let mut known_buildings = Vec::new();
        for number in &asked.buildings {
            let number = number.trim();
            let found: Option<String> =
                tx.opt("SELECT number FROM buildings WHERE number = $1 LIMIT 1", &args![number]).await?;
            known_buildings.extend(found);
        }
        let stall_exists = match asked.stall_id {
            Some(id) => tx.opt::<i64>(&tx.locked("SELECT id FROM vendors WHERE id = $1"), &args![id]).await?.is_some(),
            None => false,
        };
        let before = roles_state(&mut tx, user).await?;
        let speaks: Option<i64> = tx.opt("SELECT id FROM producers WHERE owner_user_id = $1", &args![user]).await?;
        let facts =
            RoleFacts { now: before.clone(), known_buildings, stall_exists, speaks_for_producer: speaks.is_some() };
        let after = match decide_roles(asked, &facts) {
            Ok(after) => after,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if after == before {
            tx.commit().await?;
            return Ok(Ok(user));
        }
        tx.exec("DELETE FROM user_roles WHERE user_id = $1", &args![user]).await?;
        for role in &after.roles {
            tx.exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", &args![user, role.as_str()]).await?;
        }
        tx.exec("DELETE FROM leader_buildings WHERE user_id = $1", &args![user]).await?;
        for number in &after.buildings {
            tx.exec(
                "INSERT INTO leader_buildings (user_id, building_id) \
                 SELECT $1, MIN(id) FROM buildings WHERE number = $2",
                &args![user, number.as_str()],
            )
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
        record(&mut tx, entry, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        for id in ended {
            self.sessions.forget_user(id);
        }
        Ok(Ok(user))
    }

    /// Accounts whose phone starts with `phone` (all when empty) holding `role` (any when None),
    /// `limit` at a time in the order they were made, after the account `after`.
    pub async fn search(
        &self,
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
                     AND ($3 = '' OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $3)) \
                     ORDER BY u.id LIMIT $4"
                ),
                &args![after.unwrap_or(0), pattern, role.map_or("", |r| r.as_str()), limit + 1],
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
    let buildings: Vec<String> = tx
        .all(
            "SELECT b.number FROM leader_buildings l JOIN buildings b ON b.id = l.building_id \
             WHERE l.user_id = $1 ORDER BY b.number",
            &args![user],
        )
        .await?;
    let stall_id: Option<i64> =
        tx.opt("SELECT id FROM vendors WHERE owner_user_id = $1 ORDER BY id LIMIT 1", &args![user]).await?;
    Ok(RolesState { roles, buildings, stall_id })
}
