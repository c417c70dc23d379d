//! Who is behind a token, on PostgreSQL: every authenticated request asks, and the answer must
//! be the database's own at that moment (a logout in any process is refused from its 204 on), so
//! nothing is remembered between requests. What changes is how they ask: the lookups waiting in
//! this process go to the database together, one query for all of them, while the next ones
//! gather. A lookup is still made after its request arrived, so it sees every logout committed
//! before then.
//!
//! Why: in a rush every checkout asked on its own, and those single lookups were a fifth to a
//! third of the work on the two cores (BENCHMARKS.md, issue 8): the same scene did 1,572–1,867/s
//! with them and 1,960–2,273/s without them.

use super::batch::gather;
use super::common::UserRow;
use super::{StoreError, StoreResult, UserRecord};
use sqlx::{FromRow, PgPool, Row};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

/// At most this many lookups share one query.
const MAX_BATCH: usize = 256;

/// The users behind the given (user id, token id) pairs whose token is not revoked, each row
/// with the token id it answers; the columns are those of `USER_SELECT` (common.rs) for `UserRow`.
const LOOKUP: &str = "SELECT q.jti AS lookup_jti, u.id, u.phone, u.display_name, \
     (SELECT string_agg(r.role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
     (SELECT v.id FROM vendors v WHERE v.owner_user_id = u.id) AS vendor_id, \
     h.id AS household_id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly \
     FROM unnest($1::bigint[], $2::text[]) AS q(id, jti) \
     JOIN users u ON u.id = q.id \
     LEFT JOIN households h ON h.id = u.household_id \
     LEFT JOIN buildings b ON b.id = h.building_id \
     WHERE NOT EXISTS (SELECT 1 FROM revoked_tokens t WHERE t.jti = q.jti)";

struct Lookup {
    user_id: i64,
    jti: String,
    reply: oneshot::Sender<StoreResult<Option<UserRecord>>>,
}

pub struct SessionLookups {
    queue: mpsc::Sender<Lookup>,
}

fn stopped() -> StoreError {
    StoreError::Broken("the session lookups have stopped".into())
}

impl SessionLookups {
    /// Starts the task that answers lookups; it ends when this is dropped.
    pub fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(8192);
        tokio::spawn(run(pool, waiting));
        Self { queue }
    }

    /// The user behind this token, unless it was revoked (or the user is unknown).
    pub async fn get(&self, user_id: i64, jti: &str) -> StoreResult<Option<UserRecord>> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Lookup { user_id, jti: jti.to_owned(), reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: PgPool, mut waiting: mpsc::Receiver<Lookup>) {
    while let Some(first) = waiting.recv().await {
        let batch = gather(first, &mut waiting, MAX_BATCH, |_| 1);
        match look_up(&pool, &batch).await {
            Ok(found) => {
                for l in batch {
                    // One phone often asks several times at once (a double tap, a storm of retries).
                    let _ = l.reply.send(Ok(found.get(&(l.user_id, l.jti)).cloned()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "session lookup failed");
                for l in batch {
                    let _ = l.reply.send(Err(StoreError::Broken(format!("session lookup failed: {e}"))));
                }
            }
        }
    }
}

async fn look_up(pool: &PgPool, batch: &[Lookup]) -> Result<HashMap<(i64, String), UserRecord>, sqlx::Error> {
    let rows = sqlx::query(LOOKUP)
        .bind(batch.iter().map(|l| l.user_id).collect::<Vec<i64>>())
        .bind(batch.iter().map(|l| l.jti.clone()).collect::<Vec<String>>())
        .fetch_all(pool)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let jti: String = row.try_get("lookup_jti")?;
        let user: UserRecord = UserRow::from_row(&row)?.into();
        found.insert((user.id, jti), user);
    }
    Ok(found)
}
