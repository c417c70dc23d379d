//! A resident's cart.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CartItem {
    pub product_id: ProductId,
    pub vendor_id: i64,
    pub vendor_name: String,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    /// Today's price; checkout charges this.
    pub price_fen: Fen,
    pub line_total_fen: Fen,
    pub stock: i64,
    pub per_order_limit: Option<i64>,
    /// False when the stall has less than `quantity` left (or stopped selling it).
    pub available: bool,
    /// The price when the line was added, if it has changed since.
    pub price_was_fen: Option<Fen>,
    /// Its photo, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Photo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Cart {
    pub items: Vec<CartItem>,
    pub total_fen: Fen,
    /// True when some line cannot be bought as it is (sold out, over stock or limit).
    pub has_problems: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetCartQuantity {
    /// 0 removes the line.
    pub quantity: i64,
}
