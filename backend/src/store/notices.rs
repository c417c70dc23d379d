//! Notices on either database, over `sql.rs`: made from the order timeline (a cursor read past
//! by one process at a time, each notice once by its `dedupe`), kept for the storefront, and
//! handed to the sender; a resident's acceptances of subscribe messages, one send each.

use super::sql::{args, Pool, Row};
use super::StoreResult;
use crate::domain::notices::{kind_for_step, words};
use crate::domain::time::to_api;
use chrono::{DateTime, Utc};
use shared::order::OrderStatus;

pub struct Notices {
    pool: Pool,
}

/// A notice as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRecord {
    pub id: i64,
    pub user_id: i64,
    pub order_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub wechat: String,
    /// The resident's WeChat openid, if they have one (for sending).
    pub openid: Option<String>,
}

const NOTICE: &str =
    "SELECT n.id, n.user_id, n.order_id, n.kind, n.title, n.body, n.created_at, n.wechat, u.wechat_openid \
     FROM notices n JOIN users u ON u.id = n.user_id WHERE ";

fn notice(r: &Row) -> sqlx::Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        order_id: r.get(2)?,
        kind: r.get(3)?,
        title: r.get(4)?,
        body: r.get(5)?,
        created_at: to_api(r.get(6)?),
        wechat: r.get(7)?,
        openid: r.get(8)?,
    })
}

/// Writes a notice once (by `dedupe`), in the caller's transaction.
pub(super) const NOTICE_INSERT: &str =
    "INSERT INTO notices (user_id, order_id, kind, dedupe, title, body, created_at, wechat) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (dedupe) DO NOTHING";

impl Notices {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Reads the order timeline past the cursor (steps at least `settle` old, so that one
    /// committed late on PostgreSQL is not passed over) and makes the notices its steps give.
    /// The cursor row is locked: several processes make each notice once.
    pub async fn collect(&self, now: DateTime<Utc>, settle: chrono::Duration) -> StoreResult<usize> {
        let mut tx = self.pool.begin().await?;
        tx.exec("INSERT INTO notice_cursor (id, last_event) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", &args![])
            .await?;
        let sql = format!("SELECT last_event FROM notice_cursor WHERE id = 1{}", tx.lock());
        let after: i64 = match tx.row(&sql, &args![]).await? {
            Some(r) => r.get(0)?,
            None => 0,
        };
        let steps = tx
            .rows(
                "SELECT e.id, e.order_id, e.status, o.user_id, e.at FROM order_events e JOIN orders o ON o.id = e.order_id \
                 WHERE e.id > $1 AND e.at <= $2 ORDER BY e.id LIMIT 500",
                &args![after, now - settle],
            )
            .await?;
        let mut last = after;
        let mut made = 0;
        for s in &steps {
            let (id, order_id, status, user_id): (i64, i64, String, i64) = (s.get(0)?, s.get(1)?, s.get(2)?, s.get(3)?);
            let at: DateTime<Utc> = s.get(4)?;
            last = last.max(id);
            let Some(kind) = OrderStatus::parse(&status).and_then(kind_for_step) else { continue };
            let (title, body) = words(kind, order_id, None);
            made += tx
                .exec(
                    NOTICE_INSERT,
                    &args![user_id, order_id, kind, format!("order:{order_id}:{kind}"), title, body, at],
                )
                .await? as usize;
        }
        tx.exec("UPDATE notice_cursor SET last_event = $1 WHERE id = 1", &args![last]).await?;
        tx.commit().await?;
        Ok(made)
    }

    /// A resident's notices, newest first.
    pub async fn for_user(&self, user_id: i64, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows = self
            .pool
            .rows(&format!("{NOTICE}n.user_id = $1 ORDER BY n.id DESC LIMIT $2"), &args![user_id, limit])
            .await?;
        rows.iter().map(notice).collect::<sqlx::Result<_>>().map_err(Into::into)
    }

    /// Notices not yet handed to WeChat, oldest first.
    pub async fn pending(&self, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows =
            self.pool.rows(&format!("{NOTICE}n.wechat = 'pending' ORDER BY n.id LIMIT $1"), &args![limit]).await?;
        rows.iter().map(notice).collect::<sqlx::Result<_>>().map_err(Into::into)
    }

    /// Takes a pending notice for sending: true if this caller has it and the resident had an
    /// acceptance of its kind left (one is used up); otherwise it is marked `skipped` (shown in
    /// the storefront only). Whoever takes it sends it; nobody sends it twice.
    pub async fn take(&self, n: &NoticeRecord, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let used = tx
            .exec(
                "UPDATE notice_subscriptions SET remaining = remaining - 1 WHERE user_id = $1 AND kind = $2 AND remaining > 0",
                &args![n.user_id, n.kind.clone()],
            )
            .await?;
        let send = used == 1 && n.openid.is_some();
        if used == 1 && !send {
            // No WeChat to send to: the acceptance is not spent.
            tx.exec(
                "UPDATE notice_subscriptions SET remaining = remaining + 1 WHERE user_id = $1 AND kind = $2",
                &args![n.user_id, n.kind.clone()],
            )
            .await?;
        }
        let status = if send { "sent" } else { "skipped" };
        let taken = tx
            .exec(
                "UPDATE notices SET wechat = $2, sent_at = $3 WHERE id = $1 AND wechat = 'pending'",
                &args![n.id, status, now],
            )
            .await?;
        if taken == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(send)
    }

    /// A send that failed: kept as `failed` (the storefront still shows it).
    pub async fn failed(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        tx.exec("UPDATE notices SET wechat = 'failed' WHERE id = $1", &args![id]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The resident accepted subscribe messages of these kinds once more (wx.requestSubscribeMessage).
    pub async fn subscribe(&self, user_id: i64, kinds: &[&str]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for kind in kinds {
            tx.exec(
                "INSERT INTO notice_subscriptions (user_id, kind, remaining) VALUES ($1, $2, 1) \
                 ON CONFLICT (user_id, kind) DO UPDATE SET remaining = notice_subscriptions.remaining + 1",
                &args![user_id, *kind],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
