//! Loading many generated rows at once (the seed-scale market's month of history, `demo::scale`):
//! one transaction, under the seed lock, in multi-row statements of literal values, so that a
//! million rows take seconds rather than a million round trips. The rows are data made by the
//! program, never by a user: nothing a request carries is ever written through here.
//!
//! A `Plan` says which tables it gives explicit ids to (their largest id is read in the
//! transaction before it starts), whether it still has anything to do, and hands out its rows a
//! chunk at a time, so a month of orders never sits in memory at once.

use super::sql::{args, Arg, Pool, Tx};
use super::StoreResult;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A value of a generated row as SQL both databases read the same way: times as sqlx writes
/// them for SQLite (RFC 3339, which PostgreSQL reads into a timestamptz), booleans as TRUE/FALSE.
fn write_literal(value: &Arg, out: &mut String) {
    let text = |out: &mut String, v: &str| {
        out.push('\'');
        out.push_str(&v.replace('\'', "''"));
        out.push('\'');
    };
    let time = |out: &mut String, v: &DateTime<Utc>| {
        out.push('\'');
        out.push_str(&v.to_rfc3339_opts(SecondsFormat::AutoSi, false));
        out.push('\'');
    };
    match value {
        Arg::Int(v) | Arg::OptInt(Some(v)) => {
            let _ = write!(out, "{v}");
        }
        Arg::Text(v) | Arg::OptText(Some(v)) => text(out, v),
        Arg::Bool(v) => out.push_str(if *v { "TRUE" } else { "FALSE" }),
        Arg::Time(v) | Arg::OptTime(Some(v)) => time(out, v),
        Arg::OptInt(None) | Arg::OptText(None) | Arg::OptTime(None) => out.push_str("NULL"),
    }
}

/// Rows for one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Arg>>,
}

impl Rows {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Rows { table, columns, rows: Vec::new() }
    }

    /// A row: `args![...]`, one value per column.
    pub fn push(&mut self, row: impl Into<Vec<Arg>>) {
        let row = row.into();
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.rows.push(row);
    }

    /// `INSERT INTO t (..) VALUES (..), (..)` for these rows, `per_statement` at a time.
    fn statements(&self, per_statement: usize) -> Vec<String> {
        self.rows
            .chunks(per_statement.max(1))
            .map(|chunk| {
                let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.table, self.columns.join(", "));
                for (i, row) in chunk.iter().enumerate() {
                    sql.push_str(if i == 0 { "(" } else { ", (" });
                    for (j, value) in row.iter().enumerate() {
                        if j > 0 {
                            sql.push_str(", ");
                        }
                        write_literal(value, &mut sql);
                    }
                    sql.push(')');
                }
                sql
            })
            .collect()
    }
}

/// What a loader hands out, chunk by chunk.
pub trait Plan: Send {
    /// Tables the plan gives explicit ids to; their largest ids come to `start`.
    fn keyed(&self) -> &'static [&'static str];
    /// Called in the transaction with the largest id of each keyed table (0 when empty): false
    /// when there is nothing to do (the rows are there already).
    fn start(&mut self, max_ids: &BTreeMap<&'static str, i64>) -> bool;
    /// The next rows to write, in an order that respects references; `None` at the end.
    fn next_rows(&mut self) -> Option<Vec<Rows>>;
    /// Statements to run after the last rows (e.g. cursors moved past the history).
    fn finish(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// The bulk loader over either database.
pub struct Bulk {
    pool: Pool,
}

/// Rows per statement: well inside both databases' statement limits, large enough that the
/// per-statement cost disappears.
const PER_STATEMENT: usize = 500;

impl Bulk {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Runs the plan in one transaction: the number of rows written, or `None` when the plan
    /// had nothing to do.
    pub async fn load(&self, plan: &mut dyn Plan) -> StoreResult<Option<u64>> {
        let mut tx = self.pool.begin().await?;
        if tx.postgres() {
            // The same lock as the demo's seed: several servers starting at once load it once.
            tx.exec("SELECT pg_advisory_xact_lock(74460001)", &args![]).await?;
        }
        let mut max_ids = BTreeMap::new();
        for table in plan.keyed() {
            let row = tx.row(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"), &args![]).await?;
            max_ids.insert(*table, row.map(|r| r.get::<i64>(0)).transpose()?.unwrap_or(0));
        }
        if !plan.start(&max_ids) {
            return Ok(None);
        }
        let mut written = 0u64;
        while let Some(chunk) = plan.next_rows() {
            for rows in &chunk {
                for sql in rows.statements(PER_STATEMENT) {
                    run(&mut tx, &sql).await?;
                }
                written += rows.rows.len() as u64;
            }
        }
        for sql in plan.finish() {
            run(&mut tx, sql).await?;
        }
        if tx.postgres() {
            // Ids given explicitly do not move PostgreSQL's identity sequences: move them on.
            for table in plan.keyed() {
                let sql =
                    format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
                tx.exec(&sql, &args![]).await?;
            }
        }
        tx.commit().await?;
        if self.pool.postgres() {
            // A million new rows: let the planner know before the first resident asks.
            self.pool.write("ANALYZE", &args![]).await?;
        }
        Ok(Some(written))
    }

    /// What a history plan needs of the market already seeded: products as
    /// (id, vendor_id, name, unit, price_fen, is_box), buildings as (id, number, units, floors),
    /// and the ids of the volunteers.
    pub async fn market(&self) -> StoreResult<SeededMarket> {
        let products = self
            .pool
            .rows("SELECT id, vendor_id, name, unit, price_fen, is_box FROM products ORDER BY id", &args![])
            .await?
            .iter()
            .map(|r| {
                Ok(SeededProduct {
                    id: r.get(0)?,
                    vendor_id: r.get(1)?,
                    name: r.get(2)?,
                    unit: r.get(3)?,
                    price_fen: r.get(4)?,
                    is_box: r.get(5)?,
                })
            })
            .collect::<sqlx::Result<Vec<_>>>()?;
        let buildings = self
            .pool
            .rows("SELECT id, number, units, floors FROM buildings ORDER BY id", &args![])
            .await?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .collect::<sqlx::Result<Vec<_>>>()?;
        let households = self
            .pool
            .rows("SELECT building_id, unit, room FROM households", &args![])
            .await?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<sqlx::Result<Vec<_>>>()?;
        let volunteers = self
            .pool
            .first_column("SELECT user_id FROM user_roles WHERE role = 'volunteer' ORDER BY user_id", &args![])
            .await?;
        Ok(SeededMarket { products, buildings, households, volunteers })
    }
}

async fn run(tx: &mut Tx, sql: &str) -> sqlx::Result<()> {
    tx.batch(sql).await
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeededProduct {
    pub id: i64,
    pub vendor_id: i64,
    pub name: String,
    pub unit: String,
    pub price_fen: i64,
    pub is_box: bool,
}

/// The market as seeded, for a history plan to build on.
#[derive(Debug, Clone, Default)]
pub struct SeededMarket {
    pub products: Vec<SeededProduct>,
    /// (id, number, units, floors)
    pub buildings: Vec<(i64, String, i64, i64)>,
    /// (building_id, unit, room) of the homes already on record.
    pub households: Vec<(i64, String, String)>,
    pub volunteers: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_literal_statements_both_databases_read() {
        let mut rows = Rows::new("t", &["a", "b", "c", "d", "e"]);
        let at = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").expect("time").with_timezone(&Utc);
        rows.push(args![1, "王's", true, at, None::<i64>]);
        rows.push(args![2, "b", false, at, Some(3)]);
        rows.push(args![3, "c", false, at, Some(4)]);
        let sql = rows.statements(2);
        assert_eq!(sql.len(), 2);
        assert_eq!(
            sql[0],
            "INSERT INTO t (a, b, c, d, e) VALUES (1, '王''s', TRUE, '2026-12-01T08:00:00+00:00', NULL), \
             (2, 'b', FALSE, '2026-12-01T08:00:00+00:00', 3)"
        );
        assert_eq!(sql[1], "INSERT INTO t (a, b, c, d, e) VALUES (3, 'c', FALSE, '2026-12-01T08:00:00+00:00', 4)");
    }
}
