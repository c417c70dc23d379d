//! Who is behind a token.
//!
//! On SQLite it is remembered by the process on the embedded database so that an
//! authenticated request does not ask SQLite every time: each such question crosses to sqlx's
//! SQLite thread and back, and at a rush that was a third of a checkout's cost (BENCHMARKS.md:
//! 4.5–5.2k → 7.1–7.5k checkouts/s).
//!
//! On SQLite one process owns the database (`Store::sqlite` locks the data directory), so
//! every change to what is remembered comes through this process's store, which forgets it
//! after its commit and before its caller answers: a logout is refused from its 204 on, a new
//! home or a household's new flags are seen by the next request. A remembered answer is never
//! used after `TTL` all the same (a person editing the file by hand).
//!
//! On PostgreSQL it is off: several processes share the database, and a logout in one must be
//! refused by the others at once (docs/contract.md). Telling them by LISTEN/NOTIFY was tried; it leaves a
//! window of a notice's delivery and gained only 12% there (BENCHMARKS.md). There every
//! authenticated request asks, and the answer is the database's own at that moment; what changes
//! is how they ask: the lookups waiting in this process go to the database together, one query
//! for all of them, while the next ones gather. A lookup is still made after its request
//! arrived, so it sees every logout committed before then. In a rush every checkout asked on its
//! own, and those single lookups were a fifth to a third of the work on the two cores
//! (BENCHMARKS.md, issue 8): 1,572–1,867/s with them and 1,960–2,273/s without them.
//!
//! A lookup that raced a change (it read the database before the commit and finished after the
//! change was forgotten) is not remembered: every change moves the epoch on, and an answer is
//! only kept if the epoch its lookup started in is still the current one.

use super::{UserRecord, UserRow, USER_SELECT};
use crate::store::db::{args, Arg, Db};
use crate::store::queue::gather;
use crate::store::{broken, StoreResult};
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The longest a remembered answer is used.
const TTL: Duration = Duration::from_secs(60);
/// Past this many remembered tokens, everything is forgotten at once (60,000 residents with a
/// phone or two each fit easily).
const MAX_TOKENS: usize = 200_000;

#[derive(Default)]
struct Remembered {
    /// token id → its user, for tokens that were not revoked when looked up
    tokens: HashMap<String, (i64, Instant)>,
    users: HashMap<i64, (UserRecord, Instant)>,
}

/// Who is behind which token: remembered (SQLite) or asked together (PostgreSQL).
pub enum Sessions {
    Remembered(Cache),
    Asked(Lookups),
}

impl Sessions {
    /// SQLite: one process owns the database and remembers.
    pub fn remembered() -> Self {
        Sessions::Remembered(Cache::on())
    }

    /// PostgreSQL: every lookup asks the database, together with the others waiting.
    pub fn asked(pool: PgPool) -> Self {
        Sessions::Asked(Lookups::start(pool))
    }

    /// The user behind this token, unless it was ended (or the user is unknown).
    pub async fn user(&self, db: &Db, id: i64, jti: &str) -> StoreResult<Option<UserRecord>> {
        let cache = match self {
            Sessions::Asked(lookups) => return lookups.get(id, jti).await,
            Sessions::Remembered(cache) => cache,
        };
        let lookup = match cache.get(id, jti) {
            Ok(user) => return Ok(Some(user)),
            Err(lookup) => lookup,
        };
        let row: Option<UserRow> = db
            .opt(
                &format!(
                    "{USER_SELECT} WHERE u.id = $1 AND u.erased_at IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM revoked_tokens t WHERE t.jti = $2)"
                ),
                &args![id, jti],
            )
            .await?;
        let user: Option<UserRecord> = row.map(Into::into);
        if let Some(user) = &user {
            cache.keep(lookup, jti, user);
        }
        Ok(user)
    }

    fn cache(&self) -> Option<&Cache> {
        match self {
            Sessions::Remembered(cache) => Some(cache),
            Sessions::Asked(_) => None,
        }
    }

    /// After a token is ended.
    pub fn forget_token(&self, jti: &str) {
        if let Some(c) = self.cache() {
            c.forget_token(jti);
        }
    }

    /// After a user, their roles or their home changed.
    pub fn forget_user(&self, user_id: i64) {
        if let Some(c) = self.cache() {
            c.forget_user(user_id);
        }
    }

    /// After a change that may touch many users (a household's flags, the demo seed).
    pub fn forget_all(&self) {
        if let Some(c) = self.cache() {
            c.forget_all();
        }
    }
}

/// The SQLite process's memory of tokens and users.
pub struct Cache {
    on: bool,
    remembered: Mutex<Remembered>,
    epoch: AtomicU64,
}

/// A lookup the database must answer; hand it back to `keep` with the answer.
pub struct Lookup {
    epoch: u64,
}

impl Cache {
    pub fn on() -> Self {
        Self { on: true, remembered: Mutex::default(), epoch: AtomicU64::new(0) }
    }

    /// Remembers nothing: every lookup goes to the database.
    #[cfg(test)]
    pub fn off() -> Self {
        Self { on: false, ..Self::on() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.remembered.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The remembered user behind this token, or a `Lookup` to finish with `keep`.
    pub fn get(&self, user_id: i64, jti: &str) -> Result<UserRecord, Lookup> {
        let epoch = self.epoch.load(Ordering::Acquire);
        if self.on {
            let r = self.lock();
            let fresh = |at: &Instant| at.elapsed() < TTL;
            if let (Some((id, token_at)), Some((user, user_at))) = (r.tokens.get(jti), r.users.get(&user_id)) {
                if *id == user_id && fresh(token_at) && fresh(user_at) {
                    return Ok(user.clone());
                }
            }
        }
        Err(Lookup { epoch })
    }

    /// Remembers what the database said, unless something changed while it was asked.
    pub fn keep(&self, lookup: Lookup, jti: &str, user: &UserRecord) {
        if !self.on {
            return;
        }
        let mut r = self.lock();
        if self.epoch.load(Ordering::Acquire) != lookup.epoch {
            return;
        }
        if r.tokens.len() >= MAX_TOKENS {
            r.tokens.clear();
            r.users.clear();
        }
        let now = Instant::now();
        r.tokens.insert(jti.to_owned(), (user.id, now));
        r.users.insert(user.id, (user.clone(), now));
    }

    fn forget(&self, change: impl FnOnce(&mut Remembered)) {
        let mut r = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        change(&mut r);
    }

    /// After a token is revoked.
    pub fn forget_token(&self, jti: &str) {
        self.forget(|r| {
            r.tokens.remove(jti);
        });
    }

    /// After a user, their roles or their home changed.
    pub fn forget_user(&self, user_id: i64) {
        self.forget(|r| {
            r.users.remove(&user_id);
        });
    }

    /// After a change that may touch many users (a household's flags, the demo seed).
    pub fn forget_all(&self) {
        self.forget(|r| {
            r.tokens.clear();
            r.users.clear();
        });
    }
}

// ---------- PostgreSQL: lookups asked together ----------

/// At most this many lookups share one query.
const MAX_LOOKUPS: usize = 256;

/// The users behind the (user id, token id) pairs in `$1` whose token was not ended, each row
/// with the token id it answers; the other columns are those of `USER_SELECT`.
const LOOKUP: &str = "SELECT q.jti AS lookup_jti, u.id, u.phone, u.display_name, \
     COALESCE(b.market_id, u.market_id) AS market_id, \
     (SELECT string_agg(r.role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
     (SELECT v.id FROM vendors v WHERE v.owner_user_id = u.id) AS vendor_id, \
     h.id AS household_id, b.community, b.number AS building, h.unit, h.room, \
     h.quarantined, h.hardship, h.elderly, \
     ph.id AS pending_id, pb.community AS pending_community, pb.number AS pending_building, \
     ph.unit AS pending_unit, ph.room AS pending_room \
     FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS q(id BIGINT, jti TEXT) \
     JOIN users u ON u.id = q.id \
     LEFT JOIN households h ON h.id = u.household_id \
     LEFT JOIN buildings b ON b.id = h.building_id \
     LEFT JOIN households ph ON ph.id = u.pending_household_id \
     LEFT JOIN buildings pb ON pb.id = ph.building_id \
     WHERE u.erased_at IS NULL AND NOT EXISTS (SELECT 1 FROM revoked_tokens t WHERE t.jti = q.jti)";

#[derive(Deserialize)]
struct Found {
    lookup_jti: String,
    #[serde(flatten)]
    user: UserRow,
}

struct Asking {
    user_id: i64,
    jti: String,
    reply: oneshot::Sender<StoreResult<Option<UserRecord>>>,
}

/// The task that answers this process's lookups on PostgreSQL.
pub struct Lookups {
    queue: mpsc::Sender<Asking>,
}

impl Lookups {
    /// Starts the task that answers lookups; it ends when this is dropped.
    fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(8192);
        tokio::spawn(answer(Db::Postgres(pool), waiting));
        Self { queue }
    }

    async fn get(&self, user_id: i64, jti: &str) -> StoreResult<Option<UserRecord>> {
        let stopped = || broken("the session lookups have stopped");
        let (reply, answer) = oneshot::channel();
        self.queue.send(Asking { user_id, jti: jti.to_owned(), reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn answer(db: Db, mut waiting: mpsc::Receiver<Asking>) {
    while let Some(first) = waiting.recv().await {
        let batch = gather(first, &mut waiting, MAX_LOOKUPS, |_| 1);
        let asked: Vec<serde_json::Value> =
            batch.iter().map(|l| serde_json::json!({ "id": l.user_id, "jti": l.jti })).collect();
        match db.all::<Found>(LOOKUP, &[Arg::json(&asked)]).await {
            Ok(rows) => {
                let found: HashMap<(i64, String), UserRecord> = rows
                    .into_iter()
                    .map(|f| {
                        let user: UserRecord = f.user.into();
                        ((user.id, f.lookup_jti), user)
                    })
                    .collect();
                for l in batch {
                    // One phone often asks several times at once (a double tap, a storm of retries).
                    let _ = l.reply.send(Ok(found.get(&(l.user_id, l.jti)).cloned()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "session lookup failed");
                for l in batch {
                    let _ = l.reply.send(Err(broken(format!("session lookup failed: {e}"))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> UserRecord {
        UserRecord {
            id,
            phone: None,
            display_name: None,
            roles: vec![],
            vendor_id: None,
            household: None,
            pending: None,
            market_id: shared::MarketId::FIRST,
        }
    }

    fn remember(s: &Cache, id: i64, jti: &str) {
        let Err(lookup) = s.get(id, jti) else { panic!("nothing is remembered before it is kept") };
        s.keep(lookup, jti, &user(id));
    }

    #[test]
    fn remembers_until_forgotten() {
        let s = Cache::on();
        remember(&s, 1, "a");
        assert!(s.get(1, "a").is_ok());
        assert!(s.get(2, "a").is_err(), "a token is only its own user's");
        s.forget_token("a");
        assert!(s.get(1, "a").is_err());
        remember(&s, 1, "b");
        s.forget_user(1);
        assert!(s.get(1, "b").is_err());
        remember(&s, 1, "b");
        s.forget_all();
        assert!(s.get(1, "b").is_err());
    }

    #[test]
    fn a_lookup_that_raced_a_change_is_not_kept() {
        let s = Cache::on();
        let Err(lookup) = s.get(1, "a") else { panic!("nothing is remembered yet") };
        s.forget_token("a");
        s.keep(lookup, "a", &user(1));
        assert!(s.get(1, "a").is_err());
    }

    #[test]
    fn off_remembers_nothing() {
        let s = Cache::off();
        remember(&s, 1, "a");
        assert!(s.get(1, "a").is_err());
    }
}
