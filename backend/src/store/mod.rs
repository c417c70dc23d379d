//! The store keeps the market's rows; the domain decides. Every change the market makes is the
//! same three steps: load (and on PostgreSQL lock) the rows a rule needs, call the rule in
//! `crate::domain`, write what it returned, in one transaction.
//!
//! One module per area of the market, each a struct whose methods are plain functions over the
//! one database layer (`db.rs`: bound parameters, rows read by column name):
//!
//! | area | module | reached as |
//! |---|---|---|
//! | accounts and households | `accounts/` | `store.accounts()`, `store.households()` |
//! | the catalogue, stock and prices | `catalogue/` | `store.catalogue()`, `store.prices()` |
//! | cart, slots, checkout and orders | `checkout/` | `store.cart()`, `store.slots()`, `store.orders()` |
//! | group-buys | `group_buys/` | `store.group_buys()` |
//! | stalls and delivery | `delivery/` | `store.stalls()`, `store.batches()` |
//! | money: payments, refunds, donations | `money/` | `store.payments()`, `store.donations()` |
//! | notices to residents | `notices.rs` | `store.notices()` |
//! | the demo market and bulk loading | `seed/` | `store.seed()`, `store.bulk()` |
//! | the market's set-up: its area, the audit record | `setup/` | `store.setup()` |
//! | standing orders (常购) | `standing.rs` | `store.standing()` |
//! | the operator's reads: schema version, the books, backups | `ops.rs` | `ops::Ops`, `store.schema_version()` |
//!
//! Beside them: `db.rs` and `row.rs` (the database layer), `queue.rs` (the batch queue that
//! checkouts, group-buy joins and PostgreSQL's token lookups wait in), `migrations.rs`.
//!
//! The one database is SQLite (embedded, one server process per file) or PostgreSQL (shared by
//! several server processes). Lock order on PostgreSQL, everywhere: group-buys, batches, orders,
//! slots, products, the donation pool, each by id.

pub mod accounts;
pub mod catalogue;
pub mod checkout;
pub mod db;
pub mod delivery;
pub mod gate;
pub mod group_buys;
pub mod markets;
mod migrations;
pub mod money;
pub mod notices;
pub mod ops;
pub mod points;
pub mod producers;
mod queue;
mod row;
pub mod seed;
pub mod setup;
pub mod standing;
pub mod supply;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::{path::Path, sync::Arc, time::Duration};

pub use accounts::{Accounts, Households, UserRecord};
pub use catalogue::{prices::Prices, Catalogue};
pub use checkout::{Cart, Orders, Slots};
pub use db::Db;
pub use delivery::{batches::Batches, stalls::Stalls};
pub use gate::Gates;
pub use group_buys::GroupBuys;
pub use markets::Markets;
pub use money::{donations::Donations, payments::Payments};
pub use notices::Notices;
pub use points::Points;
pub use producers::Producers;
pub use seed::{bulk::Bulk, Seeder};
pub use setup::Setup;
pub use standing::Standing;
pub use supply::Supply;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Something that must not happen did (a stopped engine, data that breaks the schema's
    /// promises, another process on the same SQLite file): the request fails, the cause is logged.
    #[error("{0}")]
    Broken(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(sqlx::Error::Migrate(Box::new(e)))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

pub(crate) fn broken(e: impl std::fmt::Display) -> StoreError {
    StoreError::Broken(e.to_string())
}

/// A database error a retry may cure: PostgreSQL's deadlock or serialization failure between
/// two processes' batches.
pub(crate) fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

/// The market's data: one per server process, shared by every request.
pub struct Store {
    db: Db,
    accounts: Accounts,
    households: Households,
    catalogue: Catalogue,
    prices: Prices,
    cart: Cart,
    slots: Slots,
    orders: Orders,
    group_buys: GroupBuys,
    stalls: Stalls,
    batches: Batches,
    payments: Payments,
    donations: Donations,
    notices: Notices,
    seeder: Seeder,
    bulk: Bulk,
    setup: Setup,
    standing: Standing,
    supply: Supply,
    producers: Producers,
    gates: Gates,
    points: Points,
    markets: Markets,
    /// SQLite: held while the store is open, so one process owns the file.
    owner: std::sync::Mutex<Option<std::fs::File>>,
}

pub type DynStore = Arc<Store>;

/// Opens the configured database and brings its schema up to date.
pub async fn connect(config: &crate::config::Config) -> StoreResult<DynStore> {
    match &config.database_url {
        Some(url) => Ok(Arc::new(Store::postgres(url).await?)),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            Ok(Arc::new(Store::sqlite(&config.data_dir.join("fuxiansheng.db")).await?))
        }
    }
}

impl Store {
    /// The embedded database: one SQLite file in WAL mode with durable commits, one writer
    /// connection and a pool of readers (SQLite allows one writer at a time, and a single writer
    /// never meets "database is locked": docs/database-facts.md), and the checkout engine's own
    /// connection.
    pub async fn sqlite(path: &Path) -> StoreResult<Self> {
        // One process owns the file: its session cache (accounts/sessions.rs) assumes that every
        // change comes through it, and a second process would only queue for SQLite's one
        // writer. Several processes need PostgreSQL.
        let owner = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_extension("lock"))
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        // A restart on the same file waits a moment for the old process (or the old server in
        // this process, whose last jobs still hold the store) to let go; then it is refused.
        let mut locked = owner.try_lock().is_ok();
        for _ in 0..50 {
            if locked {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            locked = owner.try_lock().is_ok();
        }
        if !locked {
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
        migrations::migrator(migrations::SQLITE).run(&writer).await?;
        // Without statistics SQLite's planner guesses: it walked a stall's whole history of
        // parts to find one slot's. 0x10002: analyse every table whose statistics are missing
        // or stale, now (cheap when they are fresh); the hourly housekeeping does it again.
        sqlx::query("PRAGMA optimize=0x10002").execute(&writer).await?;
        // Every read goes to a reader, even right after a write: in WAL mode each statement
        // starts a fresh read that sees every committed write.
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await?;
        let db = Db::Sqlite { reader, writer };
        let mut store = Self::over(db, accounts::Sessions::remembered(), |sessions| {
            checkout::engine::Engine::sqlite(options, sessions)
        });
        store.owner = std::sync::Mutex::new(Some(owner));
        Ok(store)
    }

    /// PostgreSQL, shared by several server processes. Anything that must happen once across
    /// all of them (migrations, seeding, rate-limit checks) takes an advisory lock.
    pub async fn postgres(url: &str) -> StoreResult<Self> {
        // More connections are not faster on two cores (docs/database-facts.md): 8 is the
        // measured best. No ping before each use: it doubled the round trips of every request
        // (authenticated reads went from 1.7k to 2.8k/s without it); a broken connection fails
        // one query and is dropped by the pool.
        //
        // Index reads priced as what they are here, reads from memory (`random_page_cost` 1.1,
        // the usual setting for SSDs; PostgreSQL's default 4 prices spinning disks): with 4 the
        // planner read a stall's whole history of parts to find one slot's, 15 ms instead of
        // 2.6 ms at full size, and 85 stall consoles refreshing made that a morning's p99.
        let options = PgConnectOptions::from_str(url)?.options([("random_page_cost", "1.1")]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        migrations::migrator(migrations::POSTGRES).run(&pool).await?;
        let options = pool.connect_options().as_ref().clone();
        let sessions = accounts::Sessions::asked(pool.clone());
        Ok(Self::over(Db::Postgres(pool), sessions, |sessions| checkout::engine::Engine::postgres(options, sessions)))
    }

    fn over(
        db: Db,
        sessions: accounts::Sessions,
        engine: impl FnOnce(Arc<accounts::Sessions>) -> checkout::engine::Engine,
    ) -> Self {
        let sessions = Arc::new(sessions);
        Self {
            accounts: Accounts::new(db.clone(), sessions.clone()),
            households: Households::new(db.clone(), sessions.clone()),
            catalogue: Catalogue::new(db.clone()),
            prices: Prices::new(db.clone()),
            cart: Cart::new(db.clone()),
            slots: Slots::new(db.clone()),
            orders: Orders::new(db.clone(), engine(sessions.clone())),
            group_buys: GroupBuys::start(db.clone()),
            stalls: Stalls::new(db.clone()),
            batches: Batches::new(db.clone()),
            payments: Payments::new(db.clone()),
            donations: Donations::new(db.clone()),
            notices: Notices::new(db.clone()),
            seeder: Seeder::new(db.clone(), sessions.clone()),
            bulk: Bulk::new(db.clone()),
            setup: Setup::new(db.clone()),
            standing: Standing::new(db.clone()),
            supply: Supply::new(db.clone()),
            producers: Producers::new(db.clone(), sessions.clone()),
            gates: Gates::new(db.clone()),
            points: Points::new(db.clone()),
            markets: Markets::new(db.clone()),
            db,
            owner: std::sync::Mutex::new(None),
        }
    }

    /// Which database this is, for logs and the start-up line.
    pub fn kind(&self) -> &'static str {
        if self.db.postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Users, login codes, tokens, roles, phone binding.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }
    /// Households: homes, staff's search, flags.
    pub fn households(&self) -> &Households {
        &self.households
    }
    /// Categories, stalls and products as residents browse them.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
    /// Stock, prices and the emergency price cap.
    pub fn prices(&self) -> &Prices {
        &self.prices
    }
    pub fn cart(&self) -> &Cart {
        &self.cart
    }
    /// Delivery and pickup slots.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }
    /// Checkout, a resident's orders, cancelling and expiring.
    pub fn orders(&self) -> &Orders {
        &self.orders
    }
    pub fn group_buys(&self) -> &GroupBuys {
        &self.group_buys
    }
    /// A stall's console: its parts of orders, confirming and packing.
    pub fn stalls(&self) -> &Stalls {
        &self.stalls
    }
    /// Delivery batches and hand-offs.
    pub fn batches(&self) -> &Batches {
        &self.batches
    }
    /// Standing orders (常购) and the job's tries.
    pub fn standing(&self) -> &Standing {
        &self.standing
    }

    /// Lots, their certificates and tests, holds and traces.
    pub fn supply(&self) -> &Supply {
        &self.supply
    }

    pub fn producers(&self) -> &Producers {
        &self.producers
    }

    pub fn gates(&self) -> &Gates {
        &self.gates
    }

    pub fn points(&self) -> &Points {
        &self.points
    }

    pub fn markets(&self) -> &Markets {
        &self.markets
    }
    /// WeChat Pay's payments and refunds.
    pub fn payments(&self) -> &Payments {
        &self.payments
    }
    /// The donation pool: gifts, allocations, money back, the ledger.
    pub fn donations(&self) -> &Donations {
        &self.donations
    }
    pub fn notices(&self) -> &Notices {
        &self.notices
    }
    /// The demo market.
    pub fn seed(&self) -> &Seeder {
        &self.seeder
    }
    /// Loading generated rows by the hundred thousand: the full-size market's history.
    pub fn bulk(&self) -> &Bulk {
        &self.bulk
    }
    /// The market's set-up: the area it serves, the audit record of changes to it.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The newest migration applied, and the one this binary brings the database up to.
    pub async fn schema_version(&self) -> StoreResult<(Option<i64>, i64)> {
        Ok((ops::schema_version(&self.db).await?, migrations::latest(self.db.postgres())))
    }

    /// Keeps the query planner's statistics fresh as the market's tables grow: on SQLite,
    /// `PRAGMA optimize` (analyses the tables whose statistics are out of date; SQLite's advice
    /// for long-lived connections, hourly); PostgreSQL's autovacuum does this by itself.
    pub async fn optimize(&self) -> StoreResult<()> {
        if !self.db.postgres() {
            self.db.exec("PRAGMA optimize", &[]).await?;
        }
        Ok(())
    }

    /// Lets go of the database when the server stops (on SQLite, another process may open it
    /// from then on). Anything asked afterwards fails.
    pub async fn close(&self) {
        self.orders.stop().await;
        self.db.close().await;
        if let Ok(mut owner) = self.owner.lock() {
            owner.take();
        }
    }
}

/// A stored phone as workers may see it (`139****0001`); None if there is none.
pub(crate) fn masked_phone(phone: Option<String>) -> Option<String> {
    phone.and_then(|p| shared::Phone::parse(&p).ok()).map(|p| p.masked())
}

/// Escapes `%`, `_` and `\` so user text is matched literally by `LIKE ... ESCAPE '\'`.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    out.push_str(&like_escaped(text));
    out.push('%');
    out
}

/// `text` with `%`, `_` and `\` escaped for `LIKE ... ESCAPE '\'`.
pub(crate) fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
