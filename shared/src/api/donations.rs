//! The donation pool (爱心捐助): gifts, allocations, the ledger.

use super::*;

/// A resident's gift (`POST /donations`): money (`amount_fen`), or `boxes` of the 菜盒子
/// `product_id` at its price now. Paid with WeChat Pay (`POST /donations/{id}/pay`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GiveRequest {
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub boxes: Option<i64>,
    #[serde(default)]
    pub product_id: Option<ProductId>,
}

/// A gift received outside WeChat Pay (an organisation's transfer, or boxes it paid the market
/// for), recorded by staff (`POST /admin/donations`): in the pool at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordGift {
    pub donor_name: String,
    #[serde(default)]
    pub amount_fen: Option<i64>,
    #[serde(default)]
    pub boxes: Option<i64>,
    #[serde(default)]
    pub product_id: Option<ProductId>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A gift, as its giver sees it: what it became.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Gift {
    pub id: i64,
    /// `pending_payment` (not paid yet) or `received` (in the pool).
    pub status: String,
    pub amount_fen: Fen,
    /// 菜盒子 given (0 for money).
    pub boxes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Staff-recorded gifts: the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor_name: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    /// Spent on households' orders so far.
    pub spent_fen: Fen,
    /// Households' orders (boxes of food) this gift paid for, wholly or in part.
    pub boxes_delivered: i64,
}

/// The pool at a glance (public: no household is named).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolSummary {
    pub balance_fen: Fen,
    /// Everything received, ever.
    pub received_fen: Fen,
    pub gifts: i64,
    /// Orders the pool paid (not counting those cancelled) and the households they went to.
    pub orders_paid: i64,
    pub households_helped: i64,
}

/// An order of a quarantined or hardship household waiting to be paid, for staff to pay from
/// the pool (`GET /admin/donations/needs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolNeed {
    pub order_id: OrderId,
    pub status: crate::order::OrderStatus,
    pub total_fen: Fen,
    pub slot_starts_at: String,
    pub household_id: HouseholdId,
    /// 3号楼 2单元 301
    pub address: String,
    pub quarantined: bool,
    pub hardship: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AllocateRequest {
    pub order_id: OrderId,
}

/// `POST /api/v1/admin/households/{id}/gift-box`: staff send one 菜盒子, paid by the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GiftBox {
    pub product_id: ProductId,
    pub slot_id: SlotId,
}

/// An order paid by the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Allocated {
    pub order_id: OrderId,
    pub amount_fen: Fen,
    /// The pool after it.
    pub balance_fen: Fen,
}

/// One move of the pool: a gift in, an allocation out, money back from a pool-paid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LedgerEntry {
    pub id: i64,
    pub at: String,
    /// `gift`, `allocation` or `return`.
    pub kind: String,
    /// In (+) or out (-), fen.
    pub amount_fen: i64,
    /// The pool after it.
    pub balance_fen: Fen,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donation_id: Option<i64>,
    /// Who gave (an organisation, or a resident's masked phone): staff only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub donor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The household an allocation or return belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// Staff who allocated or recorded it (masked phone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ledger {
    pub balance_fen: Fen,
    pub entries: Vec<LedgerEntry>,
}

/// `GET /admin/donations/ledger` (and `.csv`): Shanghai days, both included (`YYYY-MM-DD`);
/// the last 31 days when left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}
