//! The embedded database: one SQLite file in WAL mode with durable commits.
//!
//! One writer connection and a pool of readers: SQLite allows one writer at a time, and a
//! single writer never meets "database is locked" (see docs/database-facts.md).

use super::common::{
    impl_store, sms_retention_cutoff, BoxItemRow, CategoryRow, ProductRow, UserRow, VendorRow, PRODUCT_SELECT,
};
#[allow(clippy::wildcard_imports)]
use super::shopping::*;
use super::{
    like_pattern, Answer, CancelOutcome, CartLineRecord, CheckoutJob, NewSlot, OrderOwner, Seed, SlotChange,
    SlotChangeOutcome, SlotRecord, SmsCodeRecord, SmsIssue, SmsIssueOutcome, StoreError, StoreResult, UserRecord,
};
use crate::domain::order::{CancelDecision, EndingSnapshot, GiveBack};
use chrono::{DateTime, Utc};
use shared::api::{Address, Category, Household, Order, OrderSummary, Product, ProductDetail, ProductQuery, Vendor};
use shared::order::OrderStatus;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite as Db;
use std::{path::Path, sync::Arc, time::Duration};

pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    /// Checkouts: a thread of their own, many to one durable commit.
    engine: super::sqlite_checkout::CheckoutEngine,
    /// Who is behind which token: every change comes through this process, which forgets it.
    sessions: Arc<super::sessions::Sessions>,
    group_buys: super::group_buys::GroupBuys,
    stalls: super::stalls::Stalls,
    payments: super::payments::Payments,
    prices: super::prices::Prices,
    notices: super::notices::Notices,
    accounts: super::accounts::Accounts,
    donations: super::donations::Donations,
    bulk: super::bulk::Bulk,
    batches: super::batches::Batches,
    /// Held while the store is open: one process per database file.
    owner: std::sync::Mutex<Option<std::fs::File>>,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        // One process owns the file: its session cache (sessions.rs) assumes that every change
        // comes through it, and a second process would only queue for SQLite's one writer.
        // Several processes need PostgreSQL.
        let owner = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_extension("lock"))
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        if owner.try_lock().is_err() {
            return Err(StoreError::Broken(format!(
                "another server process is using {}; run one process per SQLite database \
                 (several processes share a PostgreSQL database: set DATABASE_URL)",
                path.display()
            )));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a power cut, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        migrator().run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        let sessions = Arc::new(super::sessions::Sessions::on());
        let engine = super::sqlite_checkout::CheckoutEngine::start(path, sessions.clone())?;
        let pool = super::sql::Pool::Sqlite { reader: readers.clone(), writer: writer.clone() };
        let group_buys = super::group_buys::GroupBuys::start(pool.clone(), sessions.clone());
        let stalls = super::stalls::Stalls::new(pool.clone());
        let batches = super::batches::Batches::new(pool.clone());
        let payments = super::payments::Payments::new(pool.clone());
        let prices = super::prices::Prices::new(pool.clone());
        let notices = super::notices::Notices::new(pool.clone());
        let donations = super::donations::Donations::new(pool.clone());
        let bulk = super::bulk::Bulk::new(pool.clone());
        let accounts = super::accounts::Accounts::new(pool, sessions.clone());
        Ok(Self {
            writer,
            readers,
            engine,
            sessions,
            group_buys,
            stalls,
            batches,
            payments,
            prices,
            notices,
            accounts,
            donations,
            bulk,
            owner: std::sync::Mutex::new(Some(owner)),
        })
    }

    /// Every read goes here, even right after a write: in WAL mode each statement starts a
    /// fresh read that sees every committed write, so the one writer connection is kept for writing.
    fn reader(&self) -> &SqlitePool {
        &self.readers
    }

    fn sessions(&self) -> &super::sessions::Sessions {
        &self.sessions
    }

    /// None: one process per SQLite file, so `sessions` remembers exactly.
    fn session_lookups(&self) -> Option<&super::postgres_sessions::SessionLookups> {
        None
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// IMMEDIATE: the write lock is taken at BEGIN, so a transaction never meets the checkout
    /// engine's commits between its reads and its writes (SQLITE_BUSY_SNAPSHOT); it waits instead.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    async fn close_now(&self) {
        self.writer.close().await;
        self.readers.close().await;
        if let Ok(mut owner) = self.owner.lock() {
            owner.take();
        }
    }
}

fn migrator() -> sqlx::migrate::Migrator {
    super::migrations::migrator(super::migrations::SQLITE)
}

impl_store!(
    SqliteStore,
    kind = "sqlite",
    roles_agg = "group_concat(r.role, ',')",
    sms_lock = "SELECT 1",
    seed_lock = "SELECT 1",
    lock = "",
    lock_products = ""
);
