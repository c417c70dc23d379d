//! Erasing a resident on request, as `domain::accounts::decide_erase` allows: in one
//! transaction the person goes (phone, WeChat login, name, home and requests, cart, notices,
//! register entries, login codes, Idempotency-Keys, roles), their orders stay for the accounts
//! without the door's unit and room, their notes and their payer id, and the erasure is recorded.

use super::Accounts;
use crate::domain::accounts::{decide_erase, EraseFacts};
use crate::domain::Refusal;
use crate::store::db::args;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::Role;

/// A person erased: who they were (their id, which their orders keep) and how many orders stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub user_id: i64,
    pub orders_kept: i64,
    /// The photos at the door of their orders, forgotten: the caller deletes the pictures.
    pub door_photos: Vec<String>,
}

impl Accounts {
    /// Erases the person with `phone`, as staff member `by`. None: nobody has that phone; Err:
    /// refused, nothing changed.
    pub async fn erase(
        &self,
        phone: &str,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<Erased, Refusal>>> {
        #[derive(Deserialize)]
        struct Person {
            id: i64,
        }
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let mut tx = self.db.begin().await?;
        let sql = tx.locked("SELECT id FROM users WHERE phone = $1 AND erased_at IS NULL");
        let Some(person) = tx.opt::<Person>(&sql, &args![phone]).await? else { return Ok(None) };
        let id = person.id;
        let roles: Vec<String> = tx.all("SELECT role FROM user_roles WHERE user_id = $1", &args![id]).await?;
        let open: Count = tx
            .one(
                "SELECT COUNT(*) AS n FROM orders WHERE user_id = $1 \
                 AND status NOT IN ('delivered', 'cancelled', 'expired')",
                &args![id],
            )
            .await?;
        let facts = EraseFacts {
            other_roles: roles.iter().filter_map(|r| Role::parse(r)).filter(|r| *r != Role::Resident).collect(),
            open_orders: open.n,
            is_self: id == by,
        };
        if let Err(refusal) = decide_erase(&facts) {
            return Ok(Some(Err(refusal)));
        }
        let kept: Count = tx.one("SELECT COUNT(*) AS n FROM orders WHERE user_id = $1", &args![id]).await?;
        let door_photos: Vec<String> =
            tx.all("SELECT door_photo FROM orders WHERE user_id = $1 AND door_photo IS NOT NULL", &args![id]).await?;
        tx.exec(
            "UPDATE orders SET unit = NULL, room = NULL, note = NULL, door_photo = NULL WHERE user_id = $1",
            &args![id],
        )
        .await?;
        tx.exec(
            "UPDATE payments SET payer_openid = '' WHERE order_id IN (SELECT id FROM orders WHERE user_id = $1)",
            &args![id],
        )
        .await?;
        for sql in [
            "DELETE FROM cart_items WHERE user_id = $1",
            "DELETE FROM notices WHERE user_id = $1",
            "DELETE FROM notice_subscriptions WHERE user_id = $1",
            "DELETE FROM idempotency_keys WHERE user_id = $1",
            "DELETE FROM leader_buildings WHERE user_id = $1",
            "DELETE FROM gate_visits WHERE user_id = $1",
            "DELETE FROM user_roles WHERE user_id = $1",
            // What they bought every week is theirs; the standing orders end, their orders stay.
            "DELETE FROM standing_order_items WHERE standing_order_id IN \
             (SELECT id FROM standing_orders WHERE user_id = $1)",
            "UPDATE standing_orders SET paused = TRUE, last_message = NULL WHERE user_id = $1",
        ] {
            tx.exec(sql, &args![id]).await?;
        }
        tx.exec("UPDATE standing_orders SET ended_at = COALESCE(ended_at, $2) WHERE user_id = $1", &args![id, now])
            .await?;
        tx.exec("DELETE FROM household_register WHERE phone = $1", &args![phone]).await?;
        tx.exec("DELETE FROM sms_codes WHERE phone = $1", &args![phone]).await?;
        tx.exec(
            "UPDATE users SET phone = NULL, wechat_openid = $2, wechat_session_key = NULL, display_name = NULL, \
             household_id = NULL, pending_household_id = NULL, pending_since = NULL, erased_at = $3 WHERE id = $1",
            &args![id, format!("erased:{id}"), now],
        )
        .await?;
        tx.exec(
            "INSERT INTO erasures (user_id, erased_by, erased_at, orders_kept) VALUES ($1, $2, $3, $4)",
            &args![id, by, now, kept.n],
        )
        .await?;
        tx.commit().await?;
        self.sessions.forget_user(id);
        Ok(Some(Ok(Erased { user_id: id, orders_kept: kept.n, door_photos })))
    }
}
