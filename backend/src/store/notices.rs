//! Notices: made from the order timeline (a cursor read past
//! by one process at a time, each notice once by its `dedupe`), kept for the storefront, and
//! handed to the sender; a resident's acceptances of subscribe messages, one send each.

use super::db::{args, Db};
use super::StoreResult;
use crate::domain::notices::{channel, kind_for_step, step_words, Channel};
use crate::domain::time::to_api;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::order::OrderStatus;

pub struct Notices {
    db: Db,
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
    /// Their phone, and whether they asked for notices by SMS.
    pub phone: Option<String>,
    pub sms_notices: bool,
}

const NOTICE: &str =
    "SELECT n.id, n.user_id, n.order_id, n.kind, n.title, n.body, n.created_at, n.wechat, u.wechat_openid AS openid, \
     u.phone, u.sms_notices FROM notices n JOIN users u ON u.id = n.user_id WHERE ";

#[derive(Deserialize)]
struct NoticeRow {
    id: i64,
    user_id: i64,
    order_id: Option<i64>,
    kind: String,
    title: String,
    body: String,
    created_at: DateTime<Utc>,
    wechat: String,
    openid: Option<String>,
    phone: Option<String>,
    sms_notices: bool,
}

impl From<NoticeRow> for NoticeRecord {
    fn from(r: NoticeRow) -> Self {
        NoticeRecord {
            id: r.id,
            user_id: r.user_id,
            order_id: r.order_id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            created_at: to_api(r.created_at),
            wechat: r.wechat,
            openid: r.openid,
            phone: r.phone,
            sms_notices: r.sms_notices,
        }
    }
}

/// Writes a notice once (by `dedupe`), in the caller's transaction.
pub(crate) const NOTICE_INSERT: &str =
    "INSERT INTO notices (user_id, order_id, kind, dedupe, title, body, created_at, wechat) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (dedupe) DO NOTHING";

/// The order timeline's steps read into notices in one transaction (SQLite's one writer is
/// held for it: a few hundred inserts, tens of milliseconds).
pub const COLLECT_STEPS: usize = 300;

impl Notices {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Reads the order timeline past the cursor (steps at least `settle` old, so that one
    /// committed late on PostgreSQL is not passed over) and makes the notices its steps give.
    /// The cursor row is locked: several processes make each notice once. Returns how many
    /// steps were read (at most `COLLECT_STEPS`: more may be waiting when that many were).
    pub async fn collect(&self, now: DateTime<Utc>, settle: chrono::Duration) -> StoreResult<usize> {
        #[derive(Deserialize)]
        struct Step {
            id: i64,
            order_id: i64,
            status: String,
            user_id: i64,
            at: DateTime<Utc>,
            to_point: bool,
        }
        let mut tx = self.db.begin().await?;
        tx.exec("INSERT INTO notice_cursor (id, last_event) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", &args![])
            .await?;
        let sql = tx.locked("SELECT last_event FROM notice_cursor WHERE id = 1");
        let after: i64 = tx.opt(&sql, &args![]).await?.unwrap_or(0);
        let steps: Vec<Step> = tx
            .all(
                "SELECT e.id, e.order_id, e.status, o.user_id, e.at, o.pickup_point_id IS NOT NULL AS to_point \
                 FROM order_events e JOIN orders o ON o.id = e.order_id \
                 WHERE e.id > $1 AND e.at <= $2 ORDER BY e.id LIMIT $3",
                &args![after, now - settle, COLLECT_STEPS as i64],
            )
            .await?;
        let read = steps.len();
        let mut last = after;
        for Step { id, order_id, status, user_id, at, to_point } in steps {
            last = last.max(id);
            let Some(kind) = OrderStatus::parse(&status).and_then(kind_for_step) else { continue };
            let (title, body) = step_words(kind, order_id, to_point);
            tx.exec(
                NOTICE_INSERT,
                &args![user_id, order_id, kind, format!("order:{order_id}:{kind}"), title, body, at],
            )
            .await?;
        }
        tx.exec("UPDATE notice_cursor SET last_event = $1 WHERE id = 1", &args![last]).await?;
        tx.commit().await?;
        Ok(read)
    }

    /// A resident's notices, newest first.
    pub async fn for_user(&self, user_id: i64, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows: Vec<NoticeRow> =
            self.db.all(&format!("{NOTICE}n.user_id = $1 ORDER BY n.id DESC LIMIT $2"), &args![user_id, limit]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Notices not yet handed to WeChat, oldest first.
    pub async fn pending(&self, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows: Vec<NoticeRow> =
            self.db.all(&format!("{NOTICE}n.wechat = 'pending' ORDER BY n.id LIMIT $1"), &args![limit]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Takes a pending notice for sending, and says how it goes (`domain::notices::channel`):
    /// by WeChat when the resident had an acceptance of its kind left (one is used up) and a
    /// WeChat to send to; else by SMS when they asked for it; else the storefront only
    /// (`skipped`). None: another caller took it. Whoever takes it sends it; nobody twice.
    pub async fn take(&self, n: &NoticeRecord, now: DateTime<Utc>) -> StoreResult<Option<Channel>> {
        let mut tx = self.db.begin().await?;
        let used = tx
            .exec(
                "UPDATE notice_subscriptions SET remaining = remaining - 1 WHERE user_id = $1 AND kind = $2 AND remaining > 0",
                &args![n.user_id, n.kind.as_str()],
            )
            .await?;
        let how = channel(used == 1, n.openid.is_some(), n.sms_notices, n.phone.is_some());
        if used == 1 && how != Channel::WeChat {
            // No WeChat to send to: the acceptance is not spent.
            tx.exec(
                "UPDATE notice_subscriptions SET remaining = remaining + 1 WHERE user_id = $1 AND kind = $2",
                &args![n.user_id, n.kind.as_str()],
            )
            .await?;
        }
        let status = if how == Channel::WeChat { "sent" } else { "skipped" };
        let taken = tx
            .exec(
                "UPDATE notices SET wechat = $2, sent_at = $3, by_sms = $4 WHERE id = $1 AND wechat = 'pending'",
                &args![n.id, status, now, how == Channel::Sms],
            )
            .await?;
        if taken == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(how))
    }

    /// Tells a resident something once (by `dedupe`), shown in the storefront and sent as any
    /// notice is.
    pub async fn tell(
        &self,
        user_id: i64,
        order_id: Option<i64>,
        kind: &str,
        dedupe: &str,
        (title, body): (&str, &str),
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.db.exec(NOTICE_INSERT, &args![user_id, order_id, kind, dedupe, title, body, now]).await?;
        Ok(())
    }

    /// Whether a resident asked for their notices by SMS.
    pub async fn sms_chosen(&self, user_id: i64) -> StoreResult<bool> {
        Ok(self.db.opt("SELECT sms_notices FROM users WHERE id = $1", &args![user_id]).await?.unwrap_or(false))
    }

    /// A resident asks for their notices by SMS, or no longer (false: they have no phone to
    /// send to, and nothing changed).
    pub async fn choose_sms(&self, user_id: i64, on: bool) -> StoreResult<bool> {
        let changed = self
            .db
            .exec(
                "UPDATE users SET sms_notices = $2 WHERE id = $1 AND (phone IS NOT NULL OR NOT $2)",
                &args![user_id, on],
            )
            .await?;
        Ok(changed == 1)
    }

    /// A send that failed: kept as `failed` (the storefront still shows it).
    pub async fn failed(&self, id: i64) -> StoreResult<()> {
        self.db.exec("UPDATE notices SET wechat = 'failed' WHERE id = $1", &args![id]).await?;
        Ok(())
    }

    /// The resident accepted subscribe messages of these kinds once more (wx.requestSubscribeMessage).
    pub async fn subscribe(&self, user_id: i64, kinds: &[&str]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
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
