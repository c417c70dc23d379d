//! Binding a phone to a WeChat account, as
//! `domain::accounts::decide_bind` decides: the phone set, or the WeChat account folded into the
//! phone account that has it, in one transaction: every row of the WeChat account moves (orders,
//! cart, shares, notices, ...), its WeChat login goes to the phone account, and it is gone.

use super::Accounts;
use crate::domain::accounts::{decide_bind, Account, BindPlan};
use crate::domain::Refusal;
use crate::store::db::{args, Tx};
use crate::store::StoreResult;
use serde::Deserialize;

/// Rows that name a user and simply follow them when two accounts become one.
const FOLLOW: &[(&str, &str)] = &[
    ("orders", "user_id"),
    ("orders", "delivered_by"),
    ("order_events", "by_user"),
    ("order_problems", "user_id"),
    ("group_buy_shares", "user_id"),
    ("group_buy_shares", "placed_by"),
    ("group_buys", "created_by"),
    ("group_buys", "closed_by"),
    ("batches", "volunteer_id"),
    ("price_history", "changed_by"),
    ("market_price_caps", "updated_by"),
    ("notices", "user_id"),
];

impl Accounts {
    /// Binds `phone` to the WeChat account `user_id`: the id of the account the resident is
    /// now (theirs, or the phone account they were folded into). Err: refused, nothing changed.
    pub async fn bind_phone(&self, user_id: i64, phone: &str) -> StoreResult<Result<i64, Refusal>> {
        let mut tx = self.db.begin().await?;
        let sql =
            tx.locked("SELECT id, phone, wechat_openid AS openid FROM users WHERE id = $1 OR phone = $2 ORDER BY id");
        let accounts: Vec<Account> = tx.all(&sql, &args![user_id, phone]).await?;
        let Some(caller) = accounts.iter().find(|a| a.id == user_id) else {
            return Ok(Err(Refusal::new(shared::ErrorCode::NotFound, "no such account")));
        };
        let holder = accounts.iter().find(|a| a.phone.as_deref() == Some(phone));
        let plan = match decide_bind(caller, phone, holder) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let now_user = match plan {
            BindPlan::AlreadyBound => user_id,
            BindPlan::SetPhone => {
                tx.exec("UPDATE users SET phone = $2 WHERE id = $1", &args![user_id, phone]).await?;
                user_id
            }
            BindPlan::MergeInto(into) => {
                merge(&mut tx, user_id, into).await?;
                into
            }
        };
        tx.commit().await?;
        self.sessions.forget_user(user_id);
        self.sessions.forget_user(now_user);
        Ok(Ok(now_user))
    }
}

/// Folds account `from` into `into`: its rows follow, its cart joins (the other's lines kept
/// where both have a product), its acceptances add up, its roles and buildings join, its home is
/// taken if `into` has none; then its WeChat login moves and it is deleted.
async fn merge(tx: &mut Tx, from: i64, into: i64) -> StoreResult<()> {
    for (table, column) in FOLLOW {
        tx.exec(&format!("UPDATE {table} SET {column} = $2 WHERE {column} = $1"), &args![from, into]).await?;
    }
    tx.exec(
        "UPDATE cart_items SET user_id = $2 WHERE user_id = $1 \
         AND product_id NOT IN (SELECT product_id FROM cart_items WHERE user_id = $2)",
        &args![from, into],
    )
    .await?;
    tx.exec(
        "INSERT INTO notice_subscriptions (user_id, kind, remaining) SELECT $2, kind, remaining \
         FROM notice_subscriptions WHERE user_id = $1 \
         ON CONFLICT (user_id, kind) DO UPDATE SET remaining = notice_subscriptions.remaining + excluded.remaining",
        &args![from, into],
    )
    .await?;
    for table in [
        "user_roles (user_id, role) SELECT $2, role FROM user_roles",
        "leader_buildings (user_id, building_id) SELECT $2, building_id FROM leader_buildings",
    ] {
        tx.exec(&format!("INSERT INTO {table} WHERE user_id = $1 ON CONFLICT DO NOTHING"), &args![from, into]).await?;
    }
    tx.exec(
        "UPDATE users SET household_id = COALESCE(household_id, (SELECT household_id FROM users WHERE id = $1)) WHERE id = $2",
        &args![from, into],
    )
    .await?;
    #[derive(Deserialize, Default)]
    struct Login {
        wechat_openid: Option<String>,
        wechat_session_key: Option<String>,
    }
    let login: Login = tx
        .opt("SELECT wechat_openid, wechat_session_key FROM users WHERE id = $1", &args![from])
        .await?
        .unwrap_or_default();
    // Retried checkouts of the old login are not retried any more; their orders stay.
    for table in ["cart_items", "notice_subscriptions", "user_roles", "leader_buildings", "idempotency_keys"] {
        tx.exec(&format!("DELETE FROM {table} WHERE user_id = $1"), &args![from]).await?;
    }
    tx.exec("DELETE FROM users WHERE id = $1", &args![from]).await?;
    tx.exec(
        "UPDATE users SET wechat_openid = $2, wechat_session_key = $3 WHERE id = $1",
        &args![into, login.wechat_openid, login.wechat_session_key],
    )
    .await?;
    Ok(())
}
