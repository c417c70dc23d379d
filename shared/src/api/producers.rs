//! Producers (产销对接): farms, cooperatives and wholesalers offer goods by delivery day; stalls
//! order from the offers; each producer has one purchase order per day, kept up to date until
//! its cut-off; staff see residents' demand beside stock and what is on order.

use super::*;

/// `POST /admin/producers`: staff add a producer and the phone that speaks for it (that account
/// gets the `producer` role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewProducer {
    /// e.g. `寿光市洛城街道蔬菜专业合作社`.
    pub name: String,
    /// Where its goods grow, e.g. `山东寿光`.
    pub origin: String,
    /// A phone the stalls and staff can call.
    pub contact: String,
    /// Orders for a day close at this hour (0–23, Shanghai) of the day before; 20 when left out.
    #[serde(default)]
    pub cutoff_hour: Option<i64>,
    /// The phone of the account that publishes its offers.
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Producer {
    pub id: i64,
    pub name: String,
    pub origin: String,
    pub contact: String,
    pub cutoff_hour: i64,
    /// The phone of the account that speaks for it.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `POST /producer/offers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewOffer {
    /// e.g. `大白菜`.
    pub product: String,
    /// What can be delivered on each of the days, in `unit`.
    pub quantity: i64,
    /// e.g. `斤`: a stall orders it for one of its goods sold by the same unit.
    pub unit: String,
    /// Per unit.
    pub price_fen: i64,
    /// The producer's origin when left out.
    #[serde(default)]
    pub origin: Option<String>,
    /// The delivery days, `YYYY-MM-DD` (Shanghai).
    pub days: Vec<String>,
}

/// One delivery day of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OfferDay {
    pub day: String,
    /// What the stalls ordered of it, and what is left.
    pub ordered: i64,
    pub left: i64,
    /// Orders for the day change until then (RFC 3339).
    pub cutoff_at: String,
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Offer {
    pub id: i64,
    pub producer_id: i64,
    pub producer_name: String,
    pub product: String,
    pub quantity: i64,
    pub unit: String,
    pub price_fen: Fen,
    pub origin: String,
    /// Withdrawn by the producer: nothing more can be ordered of it.
    #[serde(default)]
    pub withdrawn: bool,
    pub days: Vec<OfferDay>,
}

/// `POST /vendor/purchase-orders`: what the stall wants of offers on a day. A quantity sets the
/// stall's line (0 takes it away); offers not named are left as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseRequest {
    pub day: String,
    pub lines: Vec<PurchaseAsk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseAsk {
    pub offer_id: i64,
    pub quantity: i64,
    /// Which of the stall's goods it is for; when left out, the stall's good of the offer's name.
    #[serde(default)]
    pub product_id: Option<ProductId>,
}

/// A stall's line on a producer's purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseLine {
    pub offer_id: i64,
    pub day: String,
    pub producer_id: i64,
    pub producer_name: String,
    /// The offer's product and unit.
    pub product: String,
    pub unit: String,
    pub price_fen: Fen,
    pub quantity: i64,
    /// The stall's good it is for.
    pub product_id: ProductId,
    pub product_name: String,
    pub vendor_id: i64,
    pub stall_no: String,
    pub vendor_name: String,
    pub cutoff_at: String,
    pub open: bool,
}

/// A producer's purchase order for a day: every stall's lines of its offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PurchaseOrder {
    pub producer_id: i64,
    pub producer_name: String,
    pub day: String,
    pub cutoff_at: String,
    /// Before the cut-off the stalls may still change it.
    pub open: bool,
    pub total_fen: Fen,
    pub lines: Vec<PurchaseLine>,
}

/// `GET /admin/supply?day=`: a product's demand on the day beside its stock and what is on order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SupplyPlanRow {
    pub product_id: ProductId,
    pub product_name: String,
    pub unit: String,
    pub vendor_id: i64,
    pub stall_no: String,
    pub vendor_name: String,
    /// In orders for the day's slots (not cancelled), and in group-buy shares not yet orders.
    pub ordered: i64,
    pub group_buy: i64,
    /// For sale now (what is ordered is set aside already).
    pub stock: i64,
    /// Ordered from producers for delivery that day.
    pub on_order: i64,
    /// The stock and what is on order would not cover another day like this one.
    pub short: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SupplyPlan {
    pub day: String,
    pub items: Vec<SupplyPlanRow>,
}
