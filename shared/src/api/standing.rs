//! Standing orders (常购): a box or a list every N days in a chosen slot window, placed by the
//! server through the same checkout as every order.

use super::*;

/// When in the day a standing order's slot starts (Shanghai): before noon, before 17:00, later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlotWindow {
    Morning,
    Afternoon,
    Evening,
}

impl SlotWindow {
    pub const ALL: [SlotWindow; 3] = [SlotWindow::Morning, SlotWindow::Afternoon, SlotWindow::Evening];

    pub fn as_str(self) -> &'static str {
        match self {
            SlotWindow::Morning => "morning",
            SlotWindow::Afternoon => "afternoon",
            SlotWindow::Evening => "evening",
        }
    }

    /// The window a slot starting at `hour` (0–23, Shanghai) is in.
    pub fn of_hour(hour: u32) -> Self {
        match hour {
            0..=11 => SlotWindow::Morning,
            12..=16 => SlotWindow::Afternoon,
            _ => SlotWindow::Evening,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SlotWindow::Morning => "上午",
            SlotWindow::Afternoon => "下午",
            SlotWindow::Evening => "晚上",
        }
    }
}

/// How a standing order's orders are paid: at the door, or from the donation pool (爱心捐助)
/// for a household staff flagged quarantined or in hardship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StandingPayment {
    OnDelivery,
    Pool,
}

impl StandingPayment {
    pub fn as_str(self) -> &'static str {
        match self {
            StandingPayment::OnDelivery => "on_delivery",
            StandingPayment::Pool => "pool",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StandingItem {
    pub product_id: ProductId,
    pub quantity: i64,
}

/// `POST /api/v1/me/standing-orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StandingOrderRequest {
    pub items: Vec<StandingItem>,
    pub every_days: i64,
    pub slot_kind: crate::order::SlotKind,
    pub window: SlotWindow,
    pub payment: StandingPayment,
    /// The day of the first order (YYYY-MM-DD, Shanghai); without it, tomorrow.
    #[serde(default)]
    pub first_on: Option<String>,
}

/// `PATCH /api/v1/me/standing-orders/{id}`: what is given changes. `skip_next` moves the next
/// order on by `every_days` (and cancels it if it is already placed and can still be cancelled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StandingOrderPatch {
    #[serde(default)]
    pub items: Option<Vec<StandingItem>>,
    #[serde(default)]
    pub every_days: Option<i64>,
    #[serde(default)]
    pub slot_kind: Option<crate::order::SlotKind>,
    #[serde(default)]
    pub window: Option<SlotWindow>,
    #[serde(default)]
    pub payment: Option<StandingPayment>,
    /// The day of the next order (YYYY-MM-DD, Shanghai).
    #[serde(default)]
    pub next_on: Option<String>,
    #[serde(default)]
    pub paused: Option<bool>,
    #[serde(default)]
    pub skip_next: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StandingLine {
    pub product_id: ProductId,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    /// Its price now (the order is priced when it is placed).
    pub price_fen: Fen,
    /// Still on sale.
    pub on_sale: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Photo>,
}

/// What happened to a standing order's last try: `placed` (an order), `refused` (will be tried
/// again until the window's cut-off), `missed` (no order that day), `skipped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StandingRun {
    /// The day it was for (YYYY-MM-DD).
    pub on: String,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Why not, when it was not placed (中文 (English)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StandingOrder {
    pub id: i64,
    pub items: Vec<StandingLine>,
    pub every_days: i64,
    pub slot_kind: crate::order::SlotKind,
    pub window: SlotWindow,
    pub payment: StandingPayment,
    /// The day of the next order (YYYY-MM-DD, Shanghai).
    pub next_on: String,
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<StandingRun>,
    /// What the items cost at today's prices.
    pub total_fen: Fen,
    pub created_at: String,
}
