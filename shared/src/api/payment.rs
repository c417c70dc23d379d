//! WeChat Pay: the parameters for `wx.requestPayment`, refunds.

use super::*;

/// `POST /orders/{id}/pay`: what the mini-program hands to `wx.requestPayment` (the field names
/// are the mini-program API's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestPayment {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=...`
    pub package: String,
    /// `RSA`
    pub sign_type: String,
    pub pay_sign: String,
}

/// Money going back to the resident for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Refund {
    pub amount_fen: Fen,
    /// `late_payment`, `second_payment`, `shortage`, `group_buy_failed`, `cancelled`
    pub reason: String,
    /// `due` (recorded), `requested` (WeChat Pay accepted it), `succeeded`, `failed`
    pub status: String,
}

/// `POST /demo/wechat-pay` (demo mode): the phone pays; `notify: false` plays a notification
/// lost on the way (the server must find the payment by asking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemoPayment {
    #[serde(flatten)]
    pub request: RequestPayment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}
