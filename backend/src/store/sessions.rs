//! Who is behind a token, remembered by the process on the embedded database so that an
//! authenticated request does not ask SQLite every time: each such question crosses to sqlx's
//! SQLite thread and back, and at a rush that was a third of a checkout's cost (BENCHMARKS.md:
//! 4.5–5.2k → 7.1–7.5k checkouts/s).
//!
//! On SQLite one process owns the database (`SqliteStore::open` locks the data directory), so
//! every change to what is remembered comes through this process's store, which forgets it
//! after its commit and before its caller answers: a logout is refused from its 204 on, a new
//! home or a household's new flags are seen by the next request. A remembered answer is never
//! used after `TTL` all the same (a person editing the file by hand).
//!
//! On PostgreSQL it is off: several processes share the database, and a logout in one must be
//! refused by the others at once (docs/contract.md). Telling them by LISTEN/NOTIFY was tried; it leaves a
//! window of a notice's delivery and gained only 12% there (BENCHMARKS.md). There the lookups
//! are batched instead (postgres_sessions.rs).
//!
//! A lookup that raced a change (it read the database before the commit and finished after the
//! change was forgotten) is not remembered: every change moves the epoch on, and an answer is
//! only kept if the epoch its lookup started in is still the current one.

use super::UserRecord;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

pub struct Sessions {
    on: bool,
    remembered: Mutex<Remembered>,
    epoch: AtomicU64,
}

/// A lookup the database must answer; hand it back to `keep` with the answer.
pub struct Lookup {
    epoch: u64,
}

impl Sessions {
    pub fn on() -> Self {
        Self { on: true, remembered: Mutex::default(), epoch: AtomicU64::new(0) }
    }

    /// Remembers nothing: every lookup goes to the database.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> UserRecord {
        UserRecord { id, phone: None, display_name: None, roles: vec![], vendor_id: None, household: None }
    }

    fn remember(s: &Sessions, id: i64, jti: &str) {
        let Err(lookup) = s.get(id, jti) else { panic!("nothing is remembered before it is kept") };
        s.keep(lookup, jti, &user(id));
    }

    #[test]
    fn remembers_until_forgotten() {
        let s = Sessions::on();
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
        let s = Sessions::on();
        let Err(lookup) = s.get(1, "a") else { panic!("nothing is remembered yet") };
        s.forget_token("a");
        s.keep(lookup, "a", &user(1));
        assert!(s.get(1, "a").is_err());
    }

    #[test]
    fn off_remembers_nothing() {
        let s = Sessions::off();
        remember(&s, 1, "a");
        assert!(s.get(1, "a").is_err());
    }
}
