//! Group-buys for quarantined buildings (团购 by building): what they are, the states they pass
//! through, and the bodies of `/api/v1/group-buys`. Server and storefront share these.

use crate::domain::Fen;
use crate::ids::{GroupBuyId, HouseholdId, OrderId, ProductId, SlotId};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBuyStatus {
    /// Households may join, change or leave until the deadline.
    Open,
    /// Closed and going ahead: every share became an order in the drop's slot.
    Confirmed,
    /// Closed without enough households (and `on_shortfall` was `cancel`): no orders, stock back.
    Failed,
    /// Called off before it closed: no orders, stock back.
    Cancelled,
}

impl GroupBuyStatus {
    pub const ALL: [GroupBuyStatus; 4] =
        [GroupBuyStatus::Open, GroupBuyStatus::Confirmed, GroupBuyStatus::Failed, GroupBuyStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBuyStatus::Open => "open",
            GroupBuyStatus::Confirmed => "confirmed",
            GroupBuyStatus::Failed => "failed",
            GroupBuyStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What happens when the deadline comes before the minimum number of households.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnShortfall {
    /// The shares become orders anyway.
    Proceed,
    /// The group-buy fails: no orders, nothing charged.
    Cancel,
}

impl OnShortfall {
    pub fn as_str(self) -> &'static str {
        match self {
            OnShortfall::Proceed => "proceed",
            OnShortfall::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [OnShortfall::Proceed, OnShortfall::Cancel].into_iter().find(|x| x.as_str() == s)
    }
}

/// Whether a share was paid (the payments issue brings paying a share), and a failed
/// group-buy's paid shares waiting for their refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SharePayment {
    Unpaid,
    Paid,
    RefundDue,
}

impl SharePayment {
    pub fn as_str(self) -> &'static str {
        match self {
            SharePayment::Unpaid => "unpaid",
            SharePayment::Paid => "paid",
            SharePayment::RefundDue => "refund_due",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [SharePayment::Unpaid, SharePayment::Paid, SharePayment::RefundDue].into_iter().find(|x| x.as_str() == s)
    }
}

/// `POST /group-buys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenGroupBuy {
    pub title: String,
    /// Building numbers, e.g. `["5", "6"]`.
    pub buildings: Vec<String>,
    pub items: Vec<OpenGroupBuyItem>,
    /// 成团: households needed to go ahead.
    pub min_households: i64,
    /// RFC 3339: joining ends, and the server closes it.
    pub deadline: String,
    /// The delivery slot of the building drop.
    pub slot_id: SlotId,
    pub on_shortfall: OnShortfall,
    /// RFC 3339: joining opens for everyone (default: now plus the head start).
    #[serde(default)]
    pub opens_at: Option<String>,
    /// Minutes earlier that quarantined, hardship and elderly households may join (default 0).
    #[serde(default)]
    pub priority_head_start_minutes: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenGroupBuyItem {
    pub product_id: ProductId,
    /// The group price per unit.
    pub price_fen: i64,
    /// The stock set aside for the group-buy.
    pub max_quantity: i64,
    pub per_household_limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupBuy {
    pub id: GroupBuyId,
    /// The market it belongs to (its slot's). The storefront never reads it (every answer is
    /// already of the caller's market), so its bundles do not carry the code to.
    #[cfg_attr(target_arch = "wasm32", serde(skip))]
    pub market_id: crate::MarketId,
    pub title: String,
    pub status: GroupBuyStatus,
    pub buildings: Vec<String>,
    pub items: Vec<GroupBuyItem>,
    pub min_households: i64,
    pub joined_households: i64,
    pub opens_at: String,
    pub priority_opens_at: String,
    pub deadline: String,
    pub slot_id: SlotId,
    pub slot_starts_at: String,
    pub slot_ends_at: String,
    pub on_shortfall: OnShortfall,
    pub created_at: String,
    #[serde(default)]
    pub closed_at: Option<String>,
    /// Why it ended as it did, in words a resident understands.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The caller's household's share, if they joined (residents).
    #[serde(default)]
    pub my_share: Option<Share>,
    /// The caller may close it and see its shares (its leader, staff).
    #[serde(default)]
    pub manage: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupBuyItem {
    pub product_id: ProductId,
    pub vendor_id: i64,
    pub name: String,
    pub unit: String,
    pub price_fen: Fen,
    /// The everyday price, to show what the group saves.
    pub regular_price_fen: Fen,
    pub max_quantity: i64,
    pub per_household_limit: i64,
    pub joined_quantity: i64,
    /// The product's photo, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::api::Photo>,
}

/// `PUT /group-buys/{id}/share` and `.../shares/{household_id}`: the whole new share; a
/// product left out is not in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    pub items: Vec<ShareRequestLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareRequestLine {
    pub product_id: ProductId,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Share {
    pub group_buy_id: GroupBuyId,
    pub household_id: HouseholdId,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub items: Vec<ShareLine>,
    pub total_fen: Fen,
    /// 代下单: who placed it for a household without a phone.
    #[serde(default)]
    pub placed_by: Option<String>,
    pub payment: SharePayment,
    /// The refund number of a paid share of a failed group-buy.
    #[serde(default)]
    pub refund_no: Option<String>,
    /// The order it became when the group-buy was confirmed.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShareLine {
    pub product_id: ProductId,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub price_fen: Fen,
    pub line_total_fen: Fen,
}

/// `PUT /admin/users/{phone}/roles`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetRoles {
    pub roles: Vec<String>,
    /// The buildings a leader runs group-buys for (required with `leader`), or a volunteer serves.
    #[serde(default)]
    pub buildings: Vec<String>,
    /// With `vendor`: the stall they hold (its previous holder loses it). Required for a new
    /// stall holder; left out, a holder keeps their stall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_id: Option<i64>,
}

/// The share of `total` an item adds to a progress bar, in whole percent (0..=100).
pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 100;
    }
    (part.max(0).saturating_mul(100) / whole).min(100)
}
