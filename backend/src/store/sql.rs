//! One way to run a statement on either database, so that store code is written once as plain
//! functions over the same SQL text (`$1`, `$2`, ... both drivers read) instead of inside a
//! macro: a `Pool` to read from or begin on, a `Tx` to run statements in, `Arg`s to bind and
//! `Row`s to read. The few statements that differ (a lock clause) ask `Tx::postgres()`.
//!
//! Why not `sqlx::Any`: it cannot carry chrono's times; and code generic over `sqlx::Database`
//! needs a bound for every type it binds (sqlx issues #1674, #3150).

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqlitePool, SqliteRow};
use sqlx::{Decode, Row as _, Type};

/// Where statements go: SQLite's readers and its one writer, or PostgreSQL's pool.
#[derive(Clone)]
pub enum Pool {
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
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::OptTime(v)
    }
}

/// `args![a, b, c]`: the values for `$1`, `$2`, `$3`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::store::sql::Arg::from($v)),*] };
}
pub(crate) use args;

/// The JSON array of these ids, for `Tx::ids`.
pub fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// `($1, $2), ($3, $4)`: the placeholders of a multi-row `VALUES` for `rows` rows of `columns`.
pub fn values(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
        format!("({})", cells.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// A row of either database, read by column position.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A type both drivers read.
pub trait Column: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}
impl<T> Column for T where T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}

impl Row {
    pub fn get<T: Column>(&self, index: usize) -> sqlx::Result<T> {
        match self {
            Row::Sqlite(r) => r.try_get(index),
            Row::Postgres(r) => r.try_get(index),
        }
    }
}

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
                Arg::Time(v) => q.bind(*v),
                Arg::OptTime(v) => q.bind(*v),
            };
        }
        q
    }};
}

impl Pool {
    /// Reads outside any transaction (SQLite: a reader connection).
    pub async fn rows(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<Row>> {
        match self {
            Pool::Sqlite { reader, .. } => {
                Ok(bind_all!(sqlx::query(sql), args).fetch_all(reader).await?.into_iter().map(Row::Sqlite).collect())
            }
            Pool::Postgres(pool) => {
                Ok(bind_all!(sqlx::query(sql), args).fetch_all(pool).await?.into_iter().map(Row::Postgres).collect())
            }
        }
    }

    pub async fn row(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<Row>> {
        Ok(self.rows(sql, args).await?.into_iter().next())
    }

    /// The first column of every row read (a list of ids or numbers to act on).
    pub async fn first_column<T: Column>(&self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<T>> {
        self.rows(sql, args).await?.iter().map(|r| r.get(0)).collect()
    }

    /// One statement in a write transaction of its own; the rows it changed.
    pub async fn write(&self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        let mut tx = self.begin().await?;
        let changed = tx.exec(sql, args).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// A write transaction. SQLite takes its write lock at once (BEGIN IMMEDIATE), so nothing
    /// read in it changes before it commits.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        match self {
            Pool::Sqlite { writer, .. } => Ok(Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    pub fn postgres(&self) -> bool {
        matches!(self, Pool::Postgres(_))
    }

    /// As `Tx::ids`, for a read outside a transaction.
    pub fn ids(&self, n: usize) -> String {
        ids_in(self.postgres(), n)
    }
}

fn ids_in(postgres: bool, n: usize) -> String {
    if postgres {
        format!("(SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST(${n} AS JSONB)))")
    } else {
        format!("(SELECT value FROM json_each(${n}))")
    }
}

impl Tx {
    pub async fn rows(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Vec<Row>> {
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

    pub async fn row(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<Option<Row>> {
        Ok(self.rows(sql, args).await?.into_iter().next())
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn exec(&mut self, sql: &str, args: &[Arg]) -> sqlx::Result<u64> {
        match self {
            Tx::Sqlite(tx) => Ok(bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected()),
            Tx::Postgres(tx) => Ok(bind_all!(sqlx::query(sql), args).execute(&mut **tx).await?.rows_affected()),
        }
    }

    /// Runs SQL text with no parameters as it is, unprepared (bulk loading: each text is used once).
    pub async fn batch(&mut self, sql: &str) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
            Tx::Postgres(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
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

    /// The set of ids in the JSON array bound to `$n` (e.g. `[3, 5, 8]`), for `id IN ...`: one
    /// statement for a whole batch instead of one per id, the same text's meaning on both.
    pub fn ids(&self, n: usize) -> String {
        ids_in(self.postgres(), n)
    }

    /// The clause that locks the rows a write reads: PostgreSQL's `FOR UPDATE`; nothing on
    /// SQLite, whose one writer already holds the only write lock.
    pub fn lock(&self) -> &'static str {
        if self.postgres() {
            " FOR UPDATE"
        } else {
            ""
        }
    }
}
