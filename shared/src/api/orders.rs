//! Checkout and orders.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Building number, e.g. `3`.
    pub building: String,
    pub unit: String,
    pub room: String,
    /// The community (小区) the building is in, e.g. `七里山小区`: needed only when two
    /// communities of the market both have a building of that number. Answers always carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
}

/// A building as a list names it (a leader's or volunteer's buildings, a group-buy's): its
/// number (`3`), or its community and number (`七里山小区 3`) when several communities of the
/// market have that number. (community named, number).
pub fn building_ref(text: &str) -> (Option<&str>, &str) {
    let text = text.trim();
    match text.rsplit_once(char::is_whitespace) {
        Some((community, number)) if !community.trim().is_empty() => (Some(community.trim()), number),
        _ => (None, text),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub slot_id: SlotId,
    /// Needed for delivery slots; ignored for pickup.
    #[serde(default)]
    pub address: Option<Address>,
    pub payment: crate::order::Payment,
    #[serde(default)]
    pub note: Option<String>,
    /// Collect at this pickup point (a delivery slot) instead of at the door.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderLine {
    pub product_id: ProductId,
    pub vendor_id: i64,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    /// What is paid for: the price times what comes (the quantity less any shortage).
    pub line_total_fen: Fen,
    /// How much of it the stall could not supply (it does not come and is not paid for).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub short_quantity: i64,
    /// The product's photo (one order's page only), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Photo>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderPart {
    pub vendor_id: i64,
    pub vendor_name: String,
    pub status: String,
    pub subtotal_fen: Fen,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderEvent {
    pub status: crate::order::OrderStatus,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Order {
    pub id: OrderId,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_id: SlotId,
    pub slot_kind: crate::order::SlotKind,
    pub slot_starts_at: String,
    pub slot_ends_at: String,
    pub payment: crate::order::Payment,
    pub address: Option<Address>,
    pub note: Option<String>,
    pub created_at: String,
    /// When an unpaid order expires.
    pub expires_at: Option<String>,
    /// Six digits the resident tells the volunteer at the door; only the resident sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_code: Option<String>,
    /// The hand-off code as a QR code (an SVG document, `shared::order::handoff_qr_text`), with
    /// the code, on the one order's page while it is on its way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_qr: Option<String>,
    /// Its building is closed (a quarantined compound; one order's page only): it is handed
    /// over at the compound's gate, not at the door.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub to_gate: bool,
    /// Money owed back or paid back (one order's page only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    pub items: Vec<OrderLine>,
    /// One part per stall.
    pub parts: Vec<OrderPart>,
    /// What happened, oldest first.
    pub timeline: Vec<OrderEvent>,
    /// The group-buy whose share this order is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<GroupBuyId>,
    /// 代下单: who placed it on the household's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<String>,
    /// Nobody was home: the volunteer left it at the door, with this note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at_door: Option<String>,
    /// Left at the door with a photo of it (`GET /orders/{id}/door-photo`): for the household,
    /// the volunteer and staff.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub door_photo: bool,
    /// Paid by the donation pool (爱心捐助): the household pays nothing (who gave is not told).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paid_by_donations: bool,
    /// The standing order (常购) that placed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing_order_id: Option<i64>,
    /// Collected at this pickup point, not at the door.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<PointPlace>,
    /// At the point since then, to be collected by `collect_by`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_point_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderSummary {
    pub id: OrderId,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_id: SlotId,
    pub slot_starts_at: String,
    pub item_count: i64,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<GroupBuyId>,
}
