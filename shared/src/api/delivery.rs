//! Delivery batches, hand-offs, contact traces and residents' reports.

use super::*;

/// A slot's orders for one building (or one group-buy's drop), carried by one volunteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Batch {
    pub id: BatchId,
    /// The market it belongs to (its slot's). The storefront never reads it (every answer is
    /// already of the caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub slot_id: SlotId,
    pub slot_starts_at: String,
    /// The building's number, or a group-buy drop's buildings (`3、5`).
    pub building: String,
    /// The building's community (小区); empty for a group-buy's or a pickup point's drop.
    #[serde(default)]
    pub community: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<GroupBuyId>,
    /// A pickup point's drop (`building` is then the point's name): dropped there as a whole
    /// (`POST /batches/{id}/drop`), its keeper hands each order over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_point_id: Option<i64>,
    /// How many orders it holds.
    pub orders: i64,
    pub status: crate::order::BatchStatus,
    /// The volunteer who claimed it (masked phone).
    #[serde(default)]
    pub volunteer: Option<String>,
    /// Since when it has been there (made, for an open one; claimed, for a claimed one).
    pub since: String,
    /// Packed and unclaimed for longer than the market allows (`FXS_LATE_BATCH_MINUTES`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    /// The building is closed (a quarantined compound): its orders are handed over at the
    /// compound's gate, not at the doors.
    #[serde(default)]
    pub to_gate: bool,
    /// The households, by building, unit and room: only for its volunteer and staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Vec<Stop>>,
}

/// One household on a batch's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Stop {
    pub order_id: OrderId,
    pub building: String,
    /// The building's community (小区); empty at a pickup point.
    #[serde(default)]
    pub community: String,
    pub unit: String,
    pub room: String,
    /// e.g. `139****0001`.
    pub phone: Option<String>,
    pub note: Option<String>,
    pub status: crate::order::OrderStatus,
    pub items: Vec<StopItem>,
    /// Wrong hand-off codes typed so far.
    pub handoff_attempts: i64,
    /// Delivered by leaving it at the door (nobody home).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left_at_door: bool,
    /// Left at the door with a photo of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub door_photo: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StopItem {
    pub name: String,
    pub unit: String,
    /// What comes: the quantity less any shortage.
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct BatchesQuery {
    pub slot_id: SlotId,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /batches/slots`: for each delivery slot from two hours ago to two days ahead, how many
/// batches wait ready for a volunteer and how many the caller has claimed or carries, so the
/// volunteers' page opens on the slot with work and marks the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SlotWork {
    pub slot_id: SlotId,
    pub ready: i64,
    pub mine: i64,
}

/// `GET /me/volunteer-hours`: a volunteer's rounds (claim to the last door), all told, and the
/// latest ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VolunteerHours {
    pub rounds: i64,
    pub minutes: i64,
    /// The latest 20 rounds, newest first.
    pub recent: Vec<VolunteerRound>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VolunteerRound {
    pub batch_id: BatchId,
    pub building: String,
    pub claimed_at: String,
    pub done_at: String,
    pub minutes: i64,
}

/// `GET /admin/volunteer-hours.csv`: the rounds done in a time range (RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct HoursQuery {
    pub from: String,
    pub to: String,
}

/// `POST /orders/{id}/handoff`: the code the resident shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    pub code: String,
}

/// A hand-off at a door, for a contact trace (staff): who delivered, when, to which household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Contact {
    pub order_id: OrderId,
    pub at: String,
    /// The volunteer's full phone: an investigation must reach them.
    pub volunteer_phone: Option<String>,
    pub building: String,
    /// The building's community (小区).
    #[serde(default)]
    pub community: String,
    pub unit: String,
    pub room: String,
    pub left_at_door: bool,
    pub slot_id: SlotId,
}

/// `GET /admin/contacts`: a time range (RFC 3339) and a volunteer's phone and/or a building.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub from: String,
    pub to: String,
    pub volunteer: Option<String>,
    pub building: Option<String>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `POST /orders/{id}/left-at-door`: nobody home; what the resident is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeftAtDoor {
    pub note: String,
}

/// `POST /orders/{id}/problem`: what went wrong with a delivered order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportProblem {
    pub text: String,
}

/// A resident's report, as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    pub id: i64,
    pub order_id: OrderId,
    pub text: String,
    pub created_at: String,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    /// The resident's phone, masked.
    pub phone: Option<String>,
    /// Who delivered it (masked phone).
    pub delivered_by: Option<String>,
}
