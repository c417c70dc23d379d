//! Delivery and pickup slots, and flagging a household.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Slot {
    pub id: SlotId,
    /// The market it belongs to. The storefront never reads it (every answer is already of the
    /// caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: MarketId,
    pub kind: crate::order::SlotKind,
    /// RFC 3339, +08:00
    pub starts_at: String,
    pub ends_at: String,
    /// Orders close at this moment.
    pub cutoff_at: String,
    /// Orders the slot can take.
    pub capacity: i64,
    /// Places left for anyone (the priority reserve not counted while it is held).
    pub remaining: i64,
    pub booked: i64,
    /// Places held for priority households (quarantined, hardship, elderly) ...
    pub priority_capacity: i64,
    /// ... until this moment, after which they open to all.
    pub priority_release_at: Option<String>,
    /// Places left for a priority household.
    pub priority_remaining: i64,
    /// Closed by staff or past its cut-off.
    pub closed: bool,
    /// Open orders one household may have in this slot (1 unless staff raised it).
    pub household_limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct SlotQuery {
    /// The market whose list this is (default: the caller's when logged in, else the first).
    #[serde(default)]
    pub market_id: Option<MarketId>,
    /// A day in Asia/Shanghai, `YYYY-MM-DD`; without it, the slots still open from today on.
    pub date: Option<String>,
    /// Items per page (1 to 500, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSlot {
    pub kind: crate::order::SlotKind,
    pub starts_at: String,
    pub ends_at: String,
    pub cutoff_at: String,
    pub capacity: i64,
    #[serde(default)]
    pub priority_capacity: i64,
    #[serde(default)]
    pub priority_release_at: Option<String>,
    /// Open orders one household may have in this slot (1 to 20, default 1).
    #[serde(default)]
    pub household_limit: Option<i64>,
}

/// Staff flag a household; only the flags given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagHousehold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardship: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elderly: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSlot {
    pub capacity: Option<i64>,
    pub priority_capacity: Option<i64>,
    pub priority_release_at: Option<String>,
    pub cutoff_at: Option<String>,
    pub closed: Option<bool>,
    /// Open orders one household may have in this slot (1 to 20).
    pub household_limit: Option<i64>,
}
