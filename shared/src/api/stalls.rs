//! A stall's console: its parts of orders, confirming and packing.

use super::*;

/// A stall's part of an order, as the stall sees it: what to supply and where it goes, never
/// the resident's full phone or the hand-off code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VendorPart {
    /// The part's id, for `/vendor/orders/{id}/confirm` and `/packed`.
    pub id: PartId,
    pub order_id: OrderId,
    pub order_status: crate::order::OrderStatus,
    /// `pending`, `confirmed` or `packed`.
    pub status: String,
    pub slot_id: SlotId,
    pub slot_starts_at: String,
    pub building: Option<String>,
    /// The building's community (小区), for the label on the bag.
    #[serde(default)]
    pub community: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// e.g. `139****0001`.
    pub phone: Option<String>,
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<GroupBuyId>,
    /// Collected at this pickup point (its name), not at the door.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point: Option<String>,
    pub items: Vec<VendorLine>,
    pub subtotal_fen: Fen,
}

/// One message of a stall's live feed (`GET /vendor/events`, server-sent events named
/// `order`): an order with a part at the stall was placed or took a step. The console reloads
/// what it shows; the message says enough to pick the slot it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StallEvent {
    /// The step's place in the order timeline (also the event's SSE `id`).
    pub id: i64,
    pub order_id: OrderId,
    /// The stall's part of the order.
    pub part_id: PartId,
    pub slot_id: SlotId,
    /// The order's status after the step.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VendorLine {
    pub product_id: ProductId,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    /// What the stall said it cannot supply.
    pub short_quantity: i64,
    /// The line was packed from a lot staff have since stopped (a recall): why. The stall takes
    /// it back out of the bag before it goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled: Option<String>,
}

/// `POST /vendor/orders/{id}/confirm`: what of its lines the stall cannot supply (none: all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmPart {
    #[serde(default)]
    pub shortages: Vec<Shortage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Shortage {
    pub product_id: ProductId,
    /// How much will not come.
    pub quantity: i64,
}

/// `GET /vendor/orders`: the slot to show (all open orders when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct VendorOrdersQuery {
    pub slot_id: Option<SlotId>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}
