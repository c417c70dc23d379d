//! Stable prices (稳物价): the cap, the price board, the record for the regulator.

use super::*;

/// The emergency price cap: while on, no product rises more than `max_daily_rise_percent` above
/// its price at the start of the day, nor above its own ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceCap {
    pub enabled: bool,
    /// 0 to 100.
    pub max_daily_rise_percent: i64,
}

/// The public price board: today's prices, the cap, and each product's move since the morning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriceBoard {
    pub cap: PriceCap,
    pub items: Vec<PriceBoardItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriceBoardItem {
    pub product_id: ProductId,
    pub name: String,
    pub unit: String,
    pub vendor_name: String,
    pub price_fen: Fen,
    /// Its price when the day began (its first price if it was first priced today).
    pub day_open_fen: Option<Fen>,
    /// The most it may cost while the cap is on, if staff set it.
    pub ceiling_fen: Option<Fen>,
}

/// `GET /admin/prices.csv`: Shanghai days, both included (`YYYY-MM-DD`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PriceRecordQuery {
    pub from: String,
    pub to: String,
}
