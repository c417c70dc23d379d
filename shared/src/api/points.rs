//! Satellite pickup points (自提点): points in residential compounds where residents collect
//! their orders instead of at the door; the market drops each point's orders of a slot in one
//! batch, and the point's keeper hands each over by its code or QR (核销).

use super::*;

/// What happens to an order nobody collected by the point's closing time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Uncollected {
    /// Kept at the point one more day (the resident is told), then returned.
    #[default]
    KeepDay,
    /// Returned to the market's stock at once, its money refunded.
    Return,
}

impl Uncollected {
    pub fn as_str(self) -> &'static str {
        match self {
            Uncollected::KeepDay => "keep_day",
            Uncollected::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "keep_day" => Some(Uncollected::KeepDay),
            "return" => Some(Uncollected::Return),
            _ => None,
        }
    }
}

/// `POST /admin/pickup-points` and `PUT /admin/pickup-points/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewPickupPoint {
    /// e.g. `阳光花园自提点`.
    pub name: String,
    /// Where it is, e.g. `阳光花园3号楼架空层`.
    pub address: String,
    /// Opening hours, Shanghai time, `HH:MM`.
    pub opens: String,
    pub closes: String,
    /// Orders it takes per delivery slot.
    pub capacity: i64,
    /// The keeper's phone (an account of this market); none: staff hand over.
    #[serde(default)]
    pub keeper_phone: Option<String>,
    #[serde(default)]
    pub uncollected: Uncollected,
    /// `PUT` only: false closes the point to new orders (orders already there stay).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A pickup point as residents choose it (`GET /pickup-points`) and staff keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PickupPoint {
    pub id: i64,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub name: String,
    pub address: String,
    pub opens: String,
    pub closes: String,
    pub capacity: i64,
    pub uncollected: Uncollected,
    pub active: bool,
    /// With `?slot_id=`: the places it has left in that slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    /// Staff only: the keeper's phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeper_phone: Option<String>,
}

/// `GET /pickup-points?slot_id=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PointQuery {
    /// The market whose list this is (default: the caller's when logged in, else the first).
    #[serde(default)]
    pub market_id: Option<MarketId>,
    #[serde(default)]
    pub slot_id: Option<i64>,
}

/// Where an order is collected, on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PointPlace {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub opens: String,
    pub closes: String,
}

/// One order at (or on its way to) a keeper's point (`GET /keeper/orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PointOrder {
    pub order_id: OrderId,
    pub point_id: i64,
    pub point: String,
    pub status: crate::order::OrderStatus,
    pub slot_starts_at: String,
    /// Dropped at the point: since when; none while it is on its way.
    #[serde(default)]
    pub at_point_at: Option<String>,
    /// Collected by then, else kept a day or returned.
    #[serde(default)]
    pub collect_by: Option<String>,
    /// The resident's phone, masked.
    #[serde(default)]
    pub phone: Option<String>,
    /// How many items (all lines' quantities less shortages).
    pub items: i64,
}
