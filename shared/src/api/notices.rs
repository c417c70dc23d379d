//! Notices to residents, subscribe-message acceptances, refunds not yet back.

use super::*;

/// Something the resident is told about their order (also sent to WeChat when they accepted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Notice {
    pub id: i64,
    pub order_id: Option<OrderId>,
    /// `confirmed`, `out_for_delivery`, `delivered`, `refund`
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
}

/// `POST /me/subscriptions`: the kinds the resident just accepted in `wx.requestSubscribeMessage`
/// (each acceptance allows one message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    pub kinds: Vec<String>,
}

/// `GET`/`PUT /api/v1/me/sms-notices`: notices also by SMS when WeChat cannot bring them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SmsNotices {
    pub on: bool,
}

/// A refund not yet back with the resident, for staff (`GET /admin/refunds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OpenRefund {
    pub out_refund_no: String,
    /// None for a paid group-buy share that never became an order (`group_buy_id` says which).
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_buy_id: Option<GroupBuyId>,
    pub amount_fen: Fen,
    pub reason: String,
    /// `due`, `requested` or `failed` (WeChat Pay refused it: staff must see to it).
    pub status: String,
}
