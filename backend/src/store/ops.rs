//! The operator's reach into the database, beside a running server: the schema's version (for
//! `/readyz` and `migrate`), the market's books read in one consistent snapshot (`check`, the
//! rule in `domain::books`), and SQLite's online backup. Everything here only reads, so it opens
//! the SQLite file without the server's lock and never applies migrations.

use super::db::{args, Db, Tx};
use super::{StoreError, StoreResult};
use crate::domain::books::{
    Books, HeldBooks, ItemBooks, MarketBooks, OfferDayBooks, OrderCount, PaymentBooks, PoolBooks, SlotBooks, StockBooks,
};
use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The SQLite file of a data folder.
pub fn sqlite_file(data_dir: &Path) -> PathBuf {
    data_dir.join("fuxiansheng.db")
}

/// A read-only way into the configured database.
pub struct Ops {
    db: Db,
}

impl Ops {
    /// Opens the configured database to read: SQLite read-only (the server may be running),
    /// PostgreSQL with two connections.
    pub async fn open(config: &crate::config::Config) -> StoreResult<Self> {
        let db = match &config.database_url {
            Some(url) => Db::Postgres(PgPoolOptions::new().max_connections(2).connect(url).await?),
            None => {
                let file = sqlite_file(&config.data_dir);
                if !file.exists() {
                    return Err(StoreError::Broken(format!("no market database at {}", file.display())));
                }
                let options =
                    SqliteConnectOptions::new().filename(&file).read_only(true).busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
                Db::Sqlite { reader: pool.clone(), writer: pool }
            }
        };
        Ok(Self { db })
    }

    /// The newest migration applied (None: none yet).
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        schema_version(&self.db).await
    }

    /// The migration this binary brings its database up to.
    pub fn expected_version(&self) -> i64 {
        super::migrations::latest(self.db.postgres())
    }

    /// The market's books, read in one snapshot.
    pub async fn books(&self) -> StoreResult<Books> {
        let mut tx = self.db.snapshot().await?;
        let books = books(&mut tx).await?;
        tx.commit().await?;
        Ok(books)
    }

    /// SQLite: a consistent copy of the database written to `to` while the server runs
    /// (`VACUUM INTO`: one read transaction, so it is the database as at one moment, compacted).
    /// PostgreSQL is backed up with its own tools (README, "Operating it").
    pub async fn backup(&self, to: &Path) -> StoreResult<()> {
        if self.db.postgres() {
            return Err(StoreError::Broken(
                "PostgreSQL is backed up with pg_dump (and WAL archiving): README, \"Operating it\"".into(),
            ));
        }
        let to = to.to_str().ok_or_else(|| StoreError::Broken("the backup's path must be UTF-8".into()))?;
        self.db.exec_read("VACUUM INTO $1", &args![to.to_owned()]).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

#[derive(Deserialize)]
struct Version {
    version: Option<i64>,
}

/// The newest migration applied, if the migrations' table is there.
pub(crate) async fn schema_version(db: &Db) -> StoreResult<Option<i64>> {
    let row: Option<Version> =
        db.opt("SELECT MAX(version) AS version FROM _sqlx_migrations WHERE success", &args![]).await?;
    Ok(row.and_then(|r| r.version))
}

async fn books(tx: &mut Tx) -> StoreResult<Books> {
    let slots: Vec<SlotBooks> = tx.all("SELECT id, booked, priority_booked FROM slots ORDER BY id", &args![]).await?;
    let orders: Vec<OrderCount> = tx
        .all(
            "SELECT slot_id, status, priority_booking, COUNT(*) AS n FROM orders \
             GROUP BY slot_id, status, priority_booking",
            &args![],
        )
        .await?;
    let items: Vec<ItemBooks> = tx
        .all(
            "SELECT i.group_buy_id, i.product_id, i.max_quantity, i.joined_quantity, \
             CAST(COALESCE((SELECT SUM(l.quantity) FROM group_buy_share_lines l \
                       WHERE l.group_buy_id = i.group_buy_id AND l.product_id = i.product_id), 0) AS BIGINT) AS shares_quantity \
             FROM group_buy_items i ORDER BY i.group_buy_id, i.product_id",
            &args![],
        )
        .await?;
    let stock: Vec<StockBooks> = tx
        .all(
            "SELECT p.id, p.stock, CAST(COALESCE((SELECT SUM(c.change) FROM stock_changes c \
             WHERE c.product_id = p.id), 0) AS BIGINT) AS stocked FROM products p ORDER BY p.id",
            &args![],
        )
        .await?;
    let in_orders: Vec<HeldBooks> = tx
        .all(
            "SELECT l.product_id, o.status, CAST(SUM(l.quantity) AS BIGINT) AS quantity \
             FROM order_lines l JOIN orders o ON o.id = l.order_id GROUP BY l.product_id, o.status",
            &args![],
        )
        .await?;
    let set_aside: Vec<HeldBooks> = tx
        .all(
            "SELECT i.product_id, g.status, CAST(SUM(i.max_quantity) AS BIGINT) AS quantity \
             FROM group_buy_items i JOIN group_buys g ON g.id = i.group_buy_id GROUP BY i.product_id, g.status",
            &args![],
        )
        .await?;
    let pools: Vec<PoolBooks> = tx
        .all(
            "SELECT p.market_id, p.balance_fen, \
             CAST(COALESCE((SELECT SUM(l.amount_fen) FROM pool_ledger l WHERE l.market_id = p.market_id), 0) AS BIGINT) \
             AS ledger_sum_fen, \
             (SELECT l.balance_fen FROM pool_ledger l WHERE l.market_id = p.market_id ORDER BY l.id DESC LIMIT 1) \
             AS last_balance_fen, \
             CAST(COALESCE((SELECT SUM(d.remaining_fen) FROM donations d \
                       WHERE d.market_id = p.market_id AND d.status = 'received'), 0) AS BIGINT) AS gifts_left_fen \
             FROM market_pools p ORDER BY p.market_id",
            &args![],
        )
        .await?;
    let payments: Vec<PaymentBooks> = tx
        .all(
            "SELECT p.order_id, p.amount_fen, o.total_fen AS order_total_fen, o.status AS order_status, \
             p.paid_at IS NOT NULL AS paid, \
             CAST(COALESCE((SELECT SUM(r.amount_fen) FROM refunds r \
                       WHERE r.out_trade_no = p.out_trade_no AND r.status <> 'failed'), 0) AS BIGINT) AS refunded_fen \
             FROM payments p JOIN orders o ON o.id = p.order_id ORDER BY p.order_id",
            &args![],
        )
        .await?;
    let offer_days: Vec<OfferDayBooks> = tx
        .all(
            "SELECT d.offer_id, d.day, o.quantity, d.ordered, \
             CAST(COALESCE((SELECT SUM(l.quantity) FROM purchase_lines l \
                       WHERE l.offer_id = d.offer_id AND l.day = d.day), 0) AS BIGINT) AS lines_quantity \
             FROM offer_days d JOIN offers o ON o.id = d.offer_id ORDER BY d.offer_id, d.day",
            &args![],
        )
        .await?;
    // Each kind of tie between a thing and its root, counted by the two markets (a handful of
    // rows: `domain::books::check` says which may not be).
    let markets: Vec<MarketBooks> = tx
        .all(
            "SELECT kind, thing_market, root_market, COUNT(*) AS n, MIN(example) AS example FROM (\
             SELECT 'order_line' AS kind, v.market_id AS thing_market, s.market_id AS root_market, o.id AS example \
               FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN slots s ON s.id = o.slot_id \
               JOIN vendors v ON v.id = l.vendor_id \
             UNION ALL SELECT 'group_buy_item', v.market_id, g.market_id, g.id FROM group_buy_items i \
               JOIN group_buys g ON g.id = i.group_buy_id JOIN products p ON p.id = i.product_id \
               JOIN vendors v ON v.id = p.vendor_id \
             UNION ALL SELECT 'group_buy_slot', s.market_id, g.market_id, g.id FROM group_buys g \
               JOIN slots s ON s.id = g.slot_id \
             UNION ALL SELECT 'pickup', p.market_id, s.market_id, o.id FROM orders o \
               JOIN pickup_points p ON p.id = o.pickup_point_id JOIN slots s ON s.id = o.slot_id \
             UNION ALL SELECT 'gift_use', d.market_id, s.market_id, o.id FROM gift_uses u \
               JOIN donations d ON d.id = u.donation_id JOIN orders o ON o.id = u.order_id \
               JOIN slots s ON s.id = o.slot_id\
             ) t GROUP BY kind, thing_market, root_market ORDER BY kind, thing_market, root_market",
            &args![],
        )
        .await?;
    Ok(Books { markets, slots, orders, items, stock, in_orders, set_aside, pools, payments, offer_days })
}

#[derive(Deserialize)]
struct Integrity {
    integrity_check: String,
}

/// Puts the SQLite backup `file` in place of the data folder's database, once it is checked
/// whole (`integrity_check`) and of this binary's schema or older; the server must be stopped
/// (its lock is taken for the time of the change). The database it replaces (with its
/// write-ahead log) is kept beside it, named after `now`; its path is returned.
pub async fn restore(data_dir: &Path, file: &Path, now: chrono::DateTime<chrono::Utc>) -> StoreResult<Option<PathBuf>> {
    let broken = |what: String| StoreError::Broken(what);
    let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
    if !file.is_file() {
        return Err(broken(format!("no backup at {}", file.display())));
    }
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let backup = Db::Sqlite { reader: pool.clone(), writer: pool };
    let checked: Result<Option<i64>, StoreError> = async {
        let integrity: Integrity = backup.one("PRAGMA integrity_check", &args![]).await?;
        if integrity.integrity_check != "ok" {
            return Err(broken(format!("{} is damaged: {}", file.display(), integrity.integrity_check)));
        }
        schema_version(&backup).await
    }
    .await;
    backup.close().await;
    let version = match checked {
        Ok(Some(v)) => v,
        Ok(None) => return Err(broken(format!("{} holds no market", file.display()))),
        Err(StoreError::Database(e)) => {
            return Err(broken(format!("{} is not a market's SQLite database: {e}", file.display())))
        }
        Err(e) => return Err(e),
    };
    let latest = super::migrations::latest(false);
    if version > latest {
        return Err(broken(format!(
            "{} was written by a newer version (migration {version}; this one knows {latest})",
            file.display()
        )));
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let target = sqlite_file(data_dir);
    let owner = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.with_extension("lock"))
        .map_err(io)?;
    if owner.try_lock().is_err() {
        return Err(broken(format!("a server is using {}: stop it first", target.display())));
    }
    let incoming = target.with_extension("db.restoring");
    std::fs::copy(file, &incoming).map_err(io)?;
    std::fs::File::open(&incoming).and_then(|f| f.sync_all()).map_err(io)?;
    let kept = if target.exists() {
        let kept = target.with_extension(format!("db.before-restore-{}", now.format("%Y%m%dT%H%M%S")));
        std::fs::rename(&target, &kept).map_err(io)?;
        for side in ["-wal", "-shm"] {
            let (from, to) = (side_file(&target, side), side_file(&kept, side));
            if from.exists() {
                std::fs::rename(from, to).map_err(io)?;
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, &target).map_err(io)?;
    std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(io)?;
    drop(owner);
    Ok(kept)
}

/// SQLite's file beside `db` (`-wal`, `-shm`).
fn side_file(db: &Path, side: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(side);
    PathBuf::from(name)
}
