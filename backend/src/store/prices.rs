//! Stock and prices on either database, written once over `sql.rs`: a change of a product's
//! stock and/or price (staff or its stall), decided by `domain::prices::decide_price` over the
//! product as locked, the day's opening price and the emergency cap; every real price change
//! kept in the price-stability record (who, when; the previous entry is the old price).

use super::sql::{args, Pool, Tx};
use super::StoreResult;
use crate::domain::prices::{decide_price, Cap, PriceSnapshot};
use crate::domain::Refusal;
use chrono::{DateTime, Utc};

pub struct Prices {
    pool: Pool,
}

/// The cap as staff set it last (off when never set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapSetting {
    pub enabled: bool,
    pub max_daily_rise_percent: i64,
}

impl Prices {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    pub async fn cap(&self) -> StoreResult<CapSetting> {
        let row = self.pool.row("SELECT enabled, max_daily_rise_percent FROM price_cap WHERE id = 1", &args![]).await?;
        Ok(match row {
            Some(r) => CapSetting { enabled: r.get(0)?, max_daily_rise_percent: r.get(1)? },
            None => CapSetting { enabled: false, max_daily_rise_percent: 10 },
        })
    }

    pub async fn set_cap(&self, cap: CapSetting, by: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        tx.exec(
            "INSERT INTO price_cap (id, enabled, max_daily_rise_percent, updated_by, updated_at) VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET enabled = $1, max_daily_rise_percent = $2, updated_by = $3, updated_at = $4",
            &args![cap.enabled, cap.max_daily_rise_percent, by, now],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes stock and/or price and/or the ceiling (`Some(None)` clears it). None: no such
    /// product; Some(Err): the cap refuses the price, nothing changed.
    pub async fn change(
        &self,
        id: i64,
        stock: Option<i64>,
        price: Option<i64>,
        ceiling: Option<Option<i64>>,
        by: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Result<(), Refusal>>> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT price_fen, price_ceiling_fen FROM products WHERE id = $1 AND active{}", tx.lock());
        let Some(row) = tx.row(&sql, &args![id]).await? else { return Ok(None) };
        let (current, old_ceiling): (i64, Option<i64>) = (row.get(0)?, row.get(1)?);
        if let Some(new_price) = price {
            let snapshot = PriceSnapshot {
                current,
                day_open: day_open(&mut tx, id, current, now).await?,
                ceiling: ceiling.unwrap_or(old_ceiling),
            };
            let cap = tx.row("SELECT enabled, max_daily_rise_percent FROM price_cap WHERE id = 1", &args![]).await?;
            let cap = match cap {
                Some(r) if r.get::<bool>(0)? => Some(Cap { max_daily_rise_percent: r.get(1)? }),
                _ => None,
            };
            if let Err(refusal) = decide_price(&snapshot, new_price, cap.as_ref()) {
                return Ok(Some(Err(refusal)));
            }
        }
        tx.exec(
            "UPDATE products SET stock = COALESCE($2, stock), price_fen = COALESCE($3, price_fen), \
             price_ceiling_fen = CASE WHEN $4 THEN $5 ELSE price_ceiling_fen END, updated_at = $6 WHERE id = $1",
            &args![id, stock, price, ceiling.is_some(), ceiling.flatten(), now],
        )
        .await?;
        if let Some(new_price) = price.filter(|p| *p != current) {
            tx.exec(
                "INSERT INTO price_history (product_id, price_fen, changed_at, changed_by) VALUES ($1, $2, $3, $4)",
                &args![id, new_price, now, by],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Ok(())))
    }
}

/// One product on the price board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardRow {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub vendor_name: String,
    pub price_fen: i64,
    /// Its price when the day began (the last before today, else its first; None: never priced).
    pub day_open_fen: Option<i64>,
    pub ceiling_fen: Option<i64>,
}

/// One price change for the regulator: the old price is the one before it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub at: DateTime<Utc>,
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub vendor_name: String,
    pub old_fen: Option<i64>,
    pub new_fen: i64,
    pub by: Option<String>,
}

impl Prices {
    /// Every product on sale with today's price and its price when the day began.
    pub async fn board(&self, now: DateTime<Utc>) -> StoreResult<Vec<BoardRow>> {
        let start = crate::domain::time::shanghai_today_start(now);
        let rows = self
            .pool
            .rows(
                "SELECT p.id, p.name, p.unit, v.name, p.price_fen, \
                 COALESCE((SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id AND h.changed_at < $1 \
                  ORDER BY h.changed_at DESC, h.id DESC LIMIT 1), \
                  (SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id ORDER BY h.changed_at, h.id LIMIT 1)), \
                 p.price_ceiling_fen \
                 FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE p.active ORDER BY p.category_id, p.id",
                &args![start],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(BoardRow {
                    product_id: r.get(0)?,
                    name: r.get(1)?,
                    unit: r.get(2)?,
                    vendor_name: r.get(3)?,
                    price_fen: r.get(4)?,
                    day_open_fen: r.get(5)?,
                    ceiling_fen: r.get(6)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    /// Every price change in [from, to), oldest first, with the price before it and who set it.
    pub async fn changes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<ChangeRow>> {
        let rows = self
            .pool
            .rows(
                "SELECT h.changed_at, p.id, p.name, p.unit, v.name, \
                 (SELECT b.price_fen FROM price_history b WHERE b.product_id = h.product_id \
                  AND (b.changed_at < h.changed_at OR (b.changed_at = h.changed_at AND b.id < h.id)) \
                  ORDER BY b.changed_at DESC, b.id DESC LIMIT 1), h.price_fen, \
                 COALESCE(u.display_name, u.phone) FROM price_history h JOIN products p ON p.id = h.product_id \
                 JOIN vendors v ON v.id = p.vendor_id LEFT JOIN users u ON u.id = h.changed_by \
                 WHERE h.changed_at >= $1 AND h.changed_at < $2 ORDER BY h.changed_at, h.id LIMIT 100000",
                &args![from, to],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ChangeRow {
                    at: r.get(0)?,
                    product_id: r.get(1)?,
                    name: r.get(2)?,
                    unit: r.get(3)?,
                    vendor_name: r.get(4)?,
                    old_fen: r.get(5)?,
                    new_fen: r.get(6)?,
                    by: r.get(7)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}

/// A product's price when today began (Shanghai): the last set before; else the first ever; else now's.
async fn day_open(tx: &mut Tx, id: i64, current: i64, now: DateTime<Utc>) -> StoreResult<i64> {
    let start = crate::domain::time::shanghai_today_start(now);
    let before = tx
        .row(
            "SELECT price_fen FROM price_history WHERE product_id = $1 AND changed_at < $2 \
             ORDER BY changed_at DESC, id DESC LIMIT 1",
            &args![id, start],
        )
        .await?;
    if let Some(r) = before {
        return Ok(r.get(0)?);
    }
    let first = tx
        .row("SELECT price_fen FROM price_history WHERE product_id = $1 ORDER BY changed_at, id LIMIT 1", &args![id])
        .await?;
    Ok(first.map(|r| r.get(0)).transpose()?.unwrap_or(current))
}
