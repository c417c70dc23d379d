//! Prices, each market's: the emergency cap as its staff set it, the price board and the record
//! of every price change of its stalls (who, when; the previous entry is the old price) for the
//! regulator. A product's price
//! changes through `store::setup` (`domain::setup::decide_product_change`, which asks
//! `domain::prices::decide_price`), reading the day's opening price and the cap from here.

use crate::domain::prices::{Cap, PriceSnapshot};
use crate::store::db::{args, Db, Tx};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::MarketId;

pub struct Prices {
    db: Db,
}

/// The cap as staff set it last (off when never set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct CapSetting {
    pub enabled: bool,
    pub max_daily_rise_percent: i64,
}

impl Prices {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A market's cap.
    pub async fn cap(&self, market: MarketId) -> StoreResult<CapSetting> {
        let cap = self.db.opt(CAP_SELECT, &args![market]).await?;
        Ok(cap.unwrap_or(CapSetting { enabled: false, max_daily_rise_percent: 10 }))
    }

    pub async fn set_cap(&self, market: MarketId, cap: CapSetting, by: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.exec(
            "INSERT INTO market_price_caps (market_id, enabled, max_daily_rise_percent, updated_by, updated_at) \
             VALUES ($5, $1, $2, $3, $4) ON CONFLICT (market_id) \
             DO UPDATE SET enabled = $1, max_daily_rise_percent = $2, updated_by = $3, updated_at = $4",
            &args![cap.enabled, cap.max_daily_rise_percent, by, now, market],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

const CAP_SELECT: &str = "SELECT enabled, max_daily_rise_percent FROM market_price_caps WHERE market_id = $1";

/// One product on the price board.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChangeRow {
    #[serde(rename = "changed_at")]
    pub at: DateTime<Utc>,
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub vendor_name: String,
    pub old_fen: Option<i64>,
    pub new_fen: i64,
    #[serde(rename = "changed_by")]
    pub by: Option<String>,
    /// A group-buy's price (the old price is then the product's own at the time), with its title.
    pub group_buy_id: Option<i64>,
    pub group_buy_title: Option<String>,
}

impl Prices {
    /// Every product on sale in the market with today's price and its price when the day began.
    pub async fn board(&self, market: MarketId, now: DateTime<Utc>) -> StoreResult<Vec<BoardRow>> {
        let start = crate::domain::time::shanghai_today_start(now);
        Ok(self
            .db
            .all(
                "SELECT p.id AS product_id, p.name, p.unit, v.name AS vendor_name, p.price_fen, \
                 COALESCE((SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id AND h.changed_at < $1 \
                  ORDER BY h.changed_at DESC, h.id DESC LIMIT 1), \
                  (SELECT h.price_fen FROM price_history h WHERE h.product_id = p.id ORDER BY h.changed_at, h.id LIMIT 1)) \
                 AS day_open_fen, p.price_ceiling_fen AS ceiling_fen \
                 FROM products p JOIN vendors v ON v.id = p.vendor_id WHERE p.active AND v.market_id = $2 \
                 ORDER BY p.category_id, p.id",
                &args![start, market],
            )
            .await?)
    }

    /// Every price set in [from, to) at the market's stalls, oldest first, with the price before
    /// it and who set it: the products' own prices, and each group-buy's prices as it opened
    /// (against the product's own price then).
    pub async fn changes(
        &self,
        market: MarketId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ChangeRow>> {
        Ok(self
            .db
            .all(
                "SELECT * FROM (\
                 SELECT h.changed_at, p.id AS product_id, p.name, p.unit, v.name AS vendor_name, \
                 (SELECT b.price_fen FROM price_history b WHERE b.product_id = h.product_id \
                  AND (b.changed_at < h.changed_at OR (b.changed_at = h.changed_at AND b.id < h.id)) \
                  ORDER BY b.changed_at DESC, b.id DESC LIMIT 1) AS old_fen, h.price_fen AS new_fen, \
                 COALESCE(u.display_name, u.phone) AS changed_by, CAST(NULL AS BIGINT) AS group_buy_id, \
                 CAST(NULL AS TEXT) AS group_buy_title, h.id AS seq \
                 FROM price_history h JOIN products p ON p.id = h.product_id \
                 JOIN vendors v ON v.id = p.vendor_id LEFT JOIN users u ON u.id = h.changed_by \
                 WHERE h.changed_at >= $1 AND h.changed_at < $2 AND v.market_id = $3 \
                 UNION ALL \
                 SELECT g.created_at AS changed_at, p.id AS product_id, p.name, p.unit, v.name AS vendor_name, \
                 (SELECT b.price_fen FROM price_history b WHERE b.product_id = i.product_id \
                  AND b.changed_at <= g.created_at ORDER BY b.changed_at DESC, b.id DESC LIMIT 1) AS old_fen, \
                 i.price_fen AS new_fen, COALESCE(u.display_name, u.phone) AS changed_by, g.id AS group_buy_id, \
                 g.title AS group_buy_title, i.product_id AS seq \
                 FROM group_buy_items i JOIN group_buys g ON g.id = i.group_buy_id JOIN products p ON p.id = i.product_id \
                 JOIN vendors v ON v.id = p.vendor_id LEFT JOIN users u ON u.id = g.created_by \
                 WHERE g.created_at >= $1 AND g.created_at < $2 AND v.market_id = $3\
                 ) r ORDER BY changed_at, COALESCE(group_buy_id, 0), seq LIMIT 100000",
                &args![from, to, market],
            )
            .await?)
    }
}

/// The market's emergency cap, when its staff have switched it on.
pub(crate) async fn cap_in(tx: &mut Tx, market: MarketId) -> StoreResult<Option<Cap>> {
    let cap: Option<CapSetting> = tx.opt(CAP_SELECT, &args![market]).await?;
    Ok(cap.filter(|c| c.enabled).map(|c| Cap { max_daily_rise_percent: c.max_daily_rise_percent }))
}

/// A product's prices as the price rules read them (the caller has locked the product where it
/// must): its price, its price when the day began, its ceiling. None: no such product.
pub(crate) async fn price_snapshot(tx: &mut Tx, id: i64, now: DateTime<Utc>) -> StoreResult<Option<PriceSnapshot>> {
    #[derive(Deserialize)]
    struct Priced {
        price_fen: i64,
        price_ceiling_fen: Option<i64>,
    }
    let Some(p) =
        tx.opt::<Priced>("SELECT price_fen, price_ceiling_fen FROM products WHERE id = $1", &args![id]).await?
    else {
        return Ok(None);
    };
    let day_open = day_open(tx, id, p.price_fen, now).await?;
    Ok(Some(PriceSnapshot { current: p.price_fen, day_open, ceiling: p.price_ceiling_fen }))
}

/// A product's price when today began (Shanghai): the last set before; else the first ever; else now's.
async fn day_open(tx: &mut Tx, id: i64, current: i64, now: DateTime<Utc>) -> StoreResult<i64> {
    let start = crate::domain::time::shanghai_today_start(now);
    let before: Option<i64> = tx
        .opt(
            "SELECT price_fen FROM price_history WHERE product_id = $1 AND changed_at < $2 \
             ORDER BY changed_at DESC, id DESC LIMIT 1",
            &args![id, start],
        )
        .await?;
    if let Some(price) = before {
        return Ok(price);
    }
    let first: Option<i64> = tx
        .opt("SELECT price_fen FROM price_history WHERE product_id = $1 ORDER BY changed_at, id LIMIT 1", &args![id])
        .await?;
    Ok(first.unwrap_or(current))
}
