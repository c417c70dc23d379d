//! Many markets, one deployment: each market runs its own buildings, stalls, slots, group-buys,
//! pickup points and gates; residents belong to the market of their address.

use super::*;

/// A market of this deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Market {
    pub id: MarketId,
    pub name: String,
}

/// `POST /api/v1/admin/markets` (the first market's staff): a new market and the phone of its
/// first staff member (an account is made if new; one tied to another market is refused).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMarket {
    pub name: String,
    pub staff_phone: String,
}

/// The market a public figure is of (default: the caller's market when logged in, else the
/// first market).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MarketQuery {
    #[serde(default)]
    pub market_id: Option<MarketId>,
}

/// The market a public list is of (default: the caller's market when logged in, else the
/// first market).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MarketPageQuery {
    #[serde(default)]
    pub market_id: Option<MarketId>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}
