//! Loading many generated rows at once (the full-size market's month of history,
//! `demo::scale`): one transaction, under the seed lock, each table's rows a thousand at a time
//! as one JSON parameter, so that a million rows take seconds rather than a million round trips.
//! (Bound one value a parameter in multi-row statements, sqlx's binding made the full-size
//! market's seeding 27-140 s on SQLite instead of about 12.)
//!
//! A `Plan` says which tables it gives explicit ids to (their largest id is read in the
//! transaction before it starts), whether it still has anything to do, and hands out its rows a
//! chunk at a time, so a month of orders never sits in memory at once.

use super::SEED_LOCK;
use crate::store::db::{args, Arg, Db};
use crate::store::StoreResult;
use serde::Deserialize;
use std::collections::BTreeMap;

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

    /// The statement that writes a chunk of these rows, bound as one JSON parameter: on SQLite
    /// an array of arrays, each row's values read by position in the row (`value->>0`); on
    /// PostgreSQL an array of objects, each read as a record of the table's own row type. Table
    /// and column names are the program's own.
    fn statement(&self, postgres: bool) -> String {
        let columns = self.columns.join(", ");
        if postgres {
            format!(
                "INSERT INTO {table} ({columns}) SELECT {columns} \
                 FROM jsonb_populate_recordset(NULL::{table}, CAST($1 AS JSONB))",
                table = self.table
            )
        } else {
            let fields: Vec<String> = (0..self.columns.len()).map(|i| format!("value->>{i}")).collect();
            format!("INSERT INTO {} ({columns}) SELECT {} FROM json_each($1)", self.table, fields.join(", "))
        }
    }

    /// The rows as JSON parameters, `per_statement` at a time, written straight to text.
    fn chunks(&self, per_statement: usize, postgres: bool) -> impl Iterator<Item = Arg> + '_ {
        self.rows.chunks(per_statement.max(1)).map(move |chunk| {
            let mut out = String::with_capacity(chunk.len() * 64 * self.columns.len());
            out.push('[');
            for (r, row) in chunk.iter().enumerate() {
                if r > 0 {
                    out.push(',');
                }
                out.push(if postgres { '{' } else { '[' });
                for (c, value) in row.iter().enumerate() {
                    if c > 0 {
                        out.push(',');
                    }
                    if postgres {
                        push_json_str(&mut out, self.columns[c]);
                        out.push(':');
                    }
                    push_json(&mut out, value);
                }
                out.push(if postgres { '}' } else { ']' });
            }
            out.push(']');
            Arg::Text(out)
        })
    }
}

/// A value as JSON (times in the form sqlx writes for SQLite, which PostgreSQL reads into a
/// timestamptz; booleans as JSON's, which SQLite reads as 1 and 0).
fn push_json(out: &mut String, value: &Arg) {
    use std::fmt::Write as _;
    match value {
        Arg::Int(v) | Arg::OptInt(Some(v)) => {
            let _ = write!(out, "{v}");
        }
        Arg::Text(v) | Arg::OptText(Some(v)) => push_json_str(out, v),
        Arg::Bool(v) | Arg::OptBool(Some(v)) => out.push_str(if *v { "true" } else { "false" }),
        Arg::Time(v) | Arg::OptTime(Some(v)) => {
            push_json_str(out, &v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
        }
        Arg::OptInt(None) | Arg::OptText(None) | Arg::OptBool(None) | Arg::OptTime(None) => out.push_str("null"),
    }
}

fn push_json_str(out: &mut String, text: &str) {
    out.push_str(&serde_json::Value::from(text).to_string());
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
    db: Db,
}

/// Rows per statement: large enough that the per-statement cost disappears.
const PER_STATEMENT: usize = 1000;

impl Bulk {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Runs the plan in one transaction: the number of rows written, or `None` when the plan
    /// had nothing to do.
    pub async fn load(&self, plan: &mut dyn Plan) -> StoreResult<Option<u64>> {
        let mut tx = self.db.begin().await?;
        // The same lock as the demo's seed: several servers starting at once load it once.
        tx.advisory_lock(SEED_LOCK).await?;
        let mut max_ids = BTreeMap::new();
        for table in plan.keyed() {
            let max: i64 = tx.one(&format!("SELECT COALESCE(MAX(id), 0) AS id FROM {table}"), &args![]).await?;
            max_ids.insert(*table, max);
        }
        if !plan.start(&max_ids) {
            return Ok(None);
        }
        let mut written = 0u64;
        let postgres = tx.postgres();
        while let Some(chunk) = plan.next_rows() {
            for rows in &chunk {
                let sql = rows.statement(postgres);
                for batch in rows.chunks(PER_STATEMENT, postgres) {
                    tx.exec(&sql, &[batch]).await?;
                }
                written += rows.rows.len() as u64;
            }
        }
        for sql in plan.finish() {
            tx.exec(sql, &args![]).await?;
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
        // A million new rows: let the planner know before the first resident asks. On
        // PostgreSQL only the market's own tables (its schema): a bare ANALYZE would read every
        // table of every schema in a database the market may share (and under the test suite's
        // hundred schemas it ran PostgreSQL out of lock memory).
        if self.db.postgres() {
            let tables: Vec<String> = self
                .db
                .all("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename", &args![])
                .await?;
            for table in tables {
                self.db.exec(&format!("ANALYZE \"{}\"", table.replace('"', "\"\"")), &args![]).await?;
            }
        } else {
            self.db.exec("ANALYZE", &args![]).await?;
        }
        Ok(Some(written))
    }

    /// What a history plan needs of the market already seeded: its products, its buildings,
    /// the homes already on record and the ids of the volunteers.
    pub async fn market(&self) -> StoreResult<SeededMarket> {
        #[derive(Deserialize)]
        struct Building {
            id: i64,
            number: String,
            units: i64,
            floors: i64,
        }
        #[derive(Deserialize)]
        struct Home {
            building_id: i64,
            unit: String,
            room: String,
        }
        let products = self
            .db
            .all("SELECT id, vendor_id, name, unit, price_fen, is_box FROM products ORDER BY id", &args![])
            .await?;
        let buildings: Vec<Building> =
            self.db.all("SELECT id, number, units, floors FROM buildings ORDER BY id", &args![]).await?;
        let households: Vec<Home> = self.db.all("SELECT building_id, unit, room FROM households", &args![]).await?;
        let volunteers =
            self.db.all("SELECT user_id FROM user_roles WHERE role = 'volunteer' ORDER BY user_id", &args![]).await?;
        Ok(SeededMarket {
            products,
            buildings: buildings.into_iter().map(|b| (b.id, b.number, b.units, b.floors)).collect(),
            households: households.into_iter().map(|h| (h.building_id, h.unit, h.room)).collect(),
            volunteers,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    fn rows_go_as_one_json_parameter_a_chunk() {
        let mut rows = Rows::new("t", &["a", "b", "c", "d", "e"]);
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").expect("time").to_utc();
        rows.push(args![1, "王's \"q\"", true, at, None::<i64>]);
        rows.push(args![2, "b", false, at, Some(3)]);
        rows.push(args![3, "c", false, at, Some(4)]);
        let text = |a: &Arg| match a {
            Arg::Text(t) => serde_json::from_str::<serde_json::Value>(t).expect("json"),
            other => panic!("{other:?}"),
        };
        let sqlite: Vec<Arg> = rows.chunks(2, false).collect();
        assert_eq!(sqlite.len(), 2);
        assert_eq!(
            text(&sqlite[0]),
            serde_json::json!([
                [1, "王's \"q\"", true, "2026-12-01T08:00:00+00:00", null],
                [2, "b", false, "2026-12-01T08:00:00+00:00", 3]
            ])
        );
        let postgres: Vec<Arg> = rows.chunks(2, true).collect();
        assert_eq!(
            text(&postgres[1]),
            serde_json::json!([{ "a": 3, "b": "c", "c": false, "d": "2026-12-01T08:00:00+00:00", "e": 4 }])
        );
        assert_eq!(
            rows.statement(false),
            "INSERT INTO t (a, b, c, d, e) SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each($1)"
        );
        assert!(rows.statement(true).contains("jsonb_populate_recordset(NULL::t, CAST($1 AS JSONB))"));
    }
}
