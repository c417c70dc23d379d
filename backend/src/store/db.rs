//! The one way the store reaches a database: a `Db` to read from or begin on, a `Tx` to run
//! statements in, `Arg`s bound to `$1`, `$2`, ... and rows read by column name into any type
//! that derives `serde::Deserialize` (`row.rs`). Both drivers read `$n` placeholders, so most
//! statements are one text for both databases; where the two must differ (a lock clause, a JSON
//! batch, a sequence), the store says so at the statement with `postgres()`, `locked()` or two
//! texts side by side.
//!
//! Every value is bound, never written into SQL text: a batch goes as one JSON parameter
//! (`Arg::json`, read with `json_each` / `jsonb_array_elements`).
//!
//! Why not `sqlx::Any`: it cannot carry chrono's times; and code generic over `sqlx::Database`
//! needs a bound for every type it binds (sqlx issues #1674, #3150).

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::sqlite::{Sqlite, SqlitePool};

pub use super::row::Row;

/// Where statements go: SQLite's readers and its one writer, or PostgreSQL's pool.
#[derive(Clone)]
pub enum Db {
    Sqlite { reader: SqlitePool, writer: SqlitePool },
    Postgres(PgPool),
}

/// A write transaction on either database.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A value bound to a `$n`.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
    OptBool(Option<bool>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

/// Rows per multi-row INSERT: well under either database's limit on bound values.
pub const ROWS_PER_INSERT: usize = 200;

/// `($1, $2), ($3, $4)`: the placeholders of a multi-row `VALUES` for `rows` rows of `columns`.
pub fn values(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
        format!("({})", cells.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

impl Arg {
    /// Any serializable value as one JSON text parameter: a batch of rows or ids for one
    /// statement (`json_each($n)` on SQLite, `jsonb_array_elements(CAST($n AS JSONB))` on
    /// PostgreSQL; `Db::list` and `Tx::list` write those).
    pub fn json(value: &impl serde::Serialize) -> Arg {
        Arg::Text(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }
}

macro_rules! arg_from {
    ($($ty:ty => |$v:ident| $make:expr),* $(,)?) => {$(
        impl From<$ty> for Arg {
            fn from($v: $ty) -> Self {
                $make
            }
        }
    )*};
}

arg_from! {
    i64 => |v| Arg::Int(v),
    Option<i64> => |v| Arg::OptInt(v),
    &str => |v| Arg::Text(v.to_owned()),
    String => |v| Arg::Text(v),
    &String => |v| Arg::Text(v.clone()),
    Option<String> => |v| Arg::OptText(v),
    Option<&str> => |v| Arg::OptText(v.map(str::to_owned)),
    &Option<String> => |v| Arg::OptText(v.clone()),
    bool => |v| Arg::Bool(v),
    Option<bool> => |v| Arg::OptBool(v),
    DateTime<Utc> => |v| Arg::Time(v),
    Option<DateTime<Utc>> => |v| Arg::OptTime(v),
    shared::Fen => |v| Arg::Int(v.get()),
    Option<shared::Fen> => |v| Arg::OptInt(v.map(shared::Fen::get)),
    shared::OrderId => |v| Arg::Int(v.get()),
    Option<shared::OrderId> => |v| Arg::OptInt(v.map(shared::OrderId::get)),
    shared::PartId => |v| Arg::Int(v.get()),
    shared::ProductId => |v| Arg::Int(v.get()),
    Option<shared::ProductId> => |v| Arg::OptInt(v.map(shared::ProductId::get)),
    shared::SlotId => |v| Arg::Int(v.get()),
    Option<shared::SlotId> => |v| Arg::OptInt(v.map(shared::SlotId::get)),
    shared::HouseholdId => |v| Arg::Int(v.get()),
    shared::MarketId => |v| Arg::Int(v.get()),
    Option<shared::HouseholdId> => |v| Arg::OptInt(v.map(shared::HouseholdId::get)),
    shared::BatchId => |v| Arg::Int(v.get()),
    shared::GroupBuyId => |v| Arg::Int(v.get()),
    Option<shared::GroupBuyId> => |v| Arg::OptInt(v.map(shared::GroupBuyId::get)),
}

/// `args![a, b, c]`: the values for `$1`, `$2`, `$3`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::store::db::Arg::from($v)),*] };
}
pub(crate) use args;

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::OptInt(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Bool(v) => q.bind(*v),
                Arg::OptBool(v) => q.bind(*v),
                Arg::Time(v) => q.bind(*v),
                Arg::OptTime(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// The set of values in the JSON array bound to `$n` (`[3, 5, 8]`), for `id IN ...`: one
/// statement for a whole batch, the same meaning on both databases.
fn list_in(postgres: bool, n: usize) -> String {
    if postgres {
        format!("(SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST(${n} AS JSONB)))")
    } else {
        format!("(SELECT value FROM json_each(${n}))")
    }
}

/// PostgreSQL's clause that locks the rows a write reads; nothing on SQLite, whose one writer
/// holds the only write lock for the whole transaction.
fn locked_in(postgres: bool, sql: &str, clause: &str) -> String {
    if postgres {
        format!("{sql} {clause}")
    } else {
        sql.to_owned()
    }
}

impl Db {
    async fn rows(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<Row>> {
        match self {
            Db::Sqlite { reader, .. } => {
                Ok(bind_all!(sqlx::query(sql), args).fetch_all(reader).await?.into_iter().map(Row::Sqlite).collect())
            }
            Db::Postgres(pool) => {
                Ok(bind_all!(sqlx::query(sql), args).fetch_all(pool).await?.into_iter().map(Row::Postgres).collect())
            }
        }
    }

    /// Every row, each read by column name, outside any transaction (SQLite: a reader
    /// connection, which sees every commit).
    pub async fn all<T: DeserializeOwned>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<T>> {
        self.rows(sql, args).await?.iter().map(Row::read).collect()
    }

    /// The first row, if any.
    pub async fn opt<T: DeserializeOwned>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<T>> {
        self.rows(sql, args).await?.first().map(Row::read).transpose()
    }

    /// The first row; none is an error.
    pub async fn one<T: DeserializeOwned>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<T> {
        self.opt(sql, args).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// One statement in a write transaction of its own; the rows it changed.
    pub async fn exec(&self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        let mut tx = self.begin().await?;
        let changed = tx.exec(sql, args).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// A write transaction. SQLite takes its write lock at once (BEGIN IMMEDIATE), so nothing
    /// read in it changes before it commits, and it never meets SQLITE_BUSY_SNAPSHOT.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        match self {
            Db::Sqlite { writer, .. } => Ok(Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)),
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// A read-only transaction that sees the database as at one moment (SQLite: a reader's
    /// deferred transaction; PostgreSQL: REPEATABLE READ), for reads that must agree.
    pub async fn snapshot(&self) -> sqlx::Result<Tx> {
        match self {
            Db::Sqlite { reader, .. } => Ok(Tx::Sqlite(reader.begin().await?)),
            Db::Postgres(pool) => {
                Ok(Tx::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?))
            }
        }
    }

    /// One statement that writes nothing in this database, on a reader (SQLite's `VACUUM INTO`).
    pub async fn exec_read(&self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        match self {
            Db::Sqlite { reader, .. } => Ok(bind_all!(sqlx::query(sql), args).execute(reader).await?.rows_affected()),
            Db::Postgres(pool) => Ok(bind_all!(sqlx::query(sql), args).execute(pool).await?.rows_affected()),
        }
    }

    pub fn postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// As `Tx::list`, for a read outside a transaction.
    pub fn list(&self, n: usize) -> String {
        list_in(self.postgres(), n)
    }

    /// Lets go of the database (anything asked afterwards fails).
    pub async fn close(&self) {
        match self {
            Db::Sqlite { reader, writer } => {
                writer.close().await;
                reader.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    async fn rows(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<Row>> {
        match self {
            Tx::Sqlite(tx) => {
                Ok(bind_all!(sqlx::query(sql), args).fetch_all(&mut **tx).await?.into_iter().map(Row::Sqlite).collect())
            }
            Tx::Postgres(tx) => Ok(bind_all!(sqlx::query(sql), args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect()),
        }
    }

    /// Every row, each read by column name.
    pub async fn all<T: DeserializeOwned>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<T>> {
        self.rows(sql, args).await?.iter().map(Row::read).collect()
    }

    /// The first row, if any.
    pub async fn opt<T: DeserializeOwned>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<T>> {
        self.rows(sql, args).await?.first().map(Row::read).transpose()
    }

    /// The first row; none is an error.
    pub async fn one<T: DeserializeOwned>(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<T> {
        self.opt(sql, args).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn exec(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        match self {
            Tx::Sqlite(tx) => Ok(bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected()),
            Tx::Postgres(tx) => Ok(bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected()),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub fn postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    /// The set of values in the JSON array bound to `$n` (`Arg::json(&ids)`), for `id IN ...`.
    pub fn list(&self, n: usize) -> String {
        list_in(self.postgres(), n)
    }

    /// `sql` with PostgreSQL's `FOR NO KEY UPDATE`: the rows it reads stay as read until the
    /// commit (SQLite's one writer already holds the only write lock).
    pub fn locked(&self, sql: &str) -> String {
        locked_in(self.postgres(), sql, "FOR NO KEY UPDATE")
    }

    /// As `locked`, for the rows of one table of a join (`"p"`: the products).
    pub fn locked_of(&self, sql: &str, table: &str) -> String {
        locked_in(self.postgres(), sql, &format!("FOR NO KEY UPDATE OF {table}"))
    }

    /// On PostgreSQL, waits for the transaction-wide advisory lock `key`, so that something that
    /// must happen once across server processes does (SQLite: the one writer already is).
    pub async fn advisory_lock(&mut self, key: i64) -> sqlx::Result<()> {
        if self.postgres() {
            self.exec("SELECT pg_advisory_xact_lock($1)", &[Arg::Int(key)]).await?;
        }
        Ok(())
    }
}
