//! The one error shape of the API: `{"error": {"code": "...", "message": "..."}}`.

use serde::{Deserialize, Serialize};

/// Machine-readable error codes. Clients switch on these; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // 400
    InvalidJson,
    InvalidPhone,
    InvalidQuery,
    InvalidField,
    /// An upload that is not a JPEG, PNG or WebP picture (or a broken one).
    InvalidImage,
    /// A lot taken in without its certificate (承诺达标合格证), or with one missing a part.
    CertificateRequired,
    // 401
    Unauthorized,
    InvalidToken,
    InvalidCode,
    CodeExpired,
    CodeUsed,
    InvalidWechatCode,
    WechatCodeUsed,
    // 403
    Forbidden,
    WechatUserBlocked,
    NotEligible,
    // 404 / 405 / 413
    NotFound,
    PayloadTooLarge,
    // 409 / 422 / 429
    CartEmpty,
    SlotFull,
    SlotClosed,
    OutOfStock,
    OverLimit,
    IdempotencyKeyInUse,
    NotCancellable,
    CapacityBelowBooked,
    IdempotencyKeyMismatch,
    TooManyRequests,
    GroupFull,
    GroupClosed,
    NotOpenYet,
    WrongState,
    AlreadyClaimed,
    WrongCode,
    HandoffLocked,
    /// Paying with WeChat needs a WeChat login (the payer's openid).
    WechatRequired,
    /// The emergency price cap (稳物价) refuses this rise.
    PriceCapped,
    /// The donation pool holds less than the order costs.
    PoolShort,
    /// The household already has an open order in this slot (staff may raise the slot's limit).
    HouseholdSlotTaken,
    /// Something with that name or number is on record already (a building, a category, ...).
    AlreadyExists,
    /// A stall in the cart is closed, or rests on the slot's day.
    StallClosed,
    // 5xx
    SmsUnavailable,
    WechatUnavailable,
    /// WeChat Pay is not set up or did not answer.
    PayUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidField => "invalid_field",
            Self::InvalidImage => "invalid_image",
            Self::CertificateRequired => "certificate_required",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCode => "invalid_code",
            Self::CodeExpired => "code_expired",
            Self::CodeUsed => "code_used",
            Self::InvalidWechatCode => "invalid_wechat_code",
            Self::WechatCodeUsed => "wechat_code_used",
            Self::Forbidden => "forbidden",
            Self::WechatUserBlocked => "wechat_user_blocked",
            Self::NotEligible => "not_eligible",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::CartEmpty => "cart_empty",
            Self::SlotFull => "slot_full",
            Self::SlotClosed => "slot_closed",
            Self::OutOfStock => "out_of_stock",
            Self::OverLimit => "over_limit",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::NotCancellable => "not_cancellable",
            Self::CapacityBelowBooked => "capacity_below_booked",
            Self::IdempotencyKeyMismatch => "idempotency_key_mismatch",
            Self::TooManyRequests => "too_many_requests",
            Self::GroupFull => "group_full",
            Self::GroupClosed => "group_closed",
            Self::NotOpenYet => "not_open_yet",
            Self::WrongState => "wrong_state",
            Self::AlreadyClaimed => "already_claimed",
            Self::WrongCode => "wrong_code",
            Self::HandoffLocked => "handoff_locked",
            Self::WechatRequired => "wechat_required",
            Self::PriceCapped => "price_capped",
            Self::PoolShort => "pool_short",
            Self::HouseholdSlotTaken => "household_slot_taken",
            Self::AlreadyExists => "already_exists",
            Self::StallClosed => "stall_closed",
            Self::SmsUnavailable => "sms_unavailable",
            Self::WechatUnavailable => "wechat_unavailable",
            Self::PayUnavailable => "pay_unavailable",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidJson
            | Self::InvalidPhone
            | Self::InvalidQuery
            | Self::InvalidField
            | Self::InvalidImage
            | Self::CertificateRequired => 400,
            Self::Unauthorized
            | Self::InvalidToken
            | Self::InvalidCode
            | Self::CodeExpired
            | Self::CodeUsed
            | Self::InvalidWechatCode
            | Self::WechatCodeUsed => 401,
            Self::Forbidden | Self::WechatUserBlocked | Self::NotEligible => 403,
            Self::NotFound => 404,
            Self::CartEmpty
            | Self::SlotFull
            | Self::SlotClosed
            | Self::OutOfStock
            | Self::OverLimit
            | Self::IdempotencyKeyInUse
            | Self::NotCancellable
            | Self::CapacityBelowBooked
            | Self::GroupFull
            | Self::GroupClosed
            | Self::NotOpenYet
            | Self::WrongState
            | Self::AlreadyClaimed
            | Self::WrongCode
            | Self::HandoffLocked
            | Self::WechatRequired
            | Self::PriceCapped
            | Self::PoolShort
            | Self::HouseholdSlotTaken
            | Self::AlreadyExists
            | Self::StallClosed => 409,
            Self::PayloadTooLarge => 413,
            Self::IdempotencyKeyMismatch => 422,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::SmsUnavailable | Self::WechatUnavailable | Self::PayUnavailable => 503,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invalid_phone`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { error: ErrorDetail { code: code.as_str().to_owned(), message: message.into() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_matches_as_str() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::IdempotencyKeyMismatch,
            ErrorCode::WechatUserBlocked,
            ErrorCode::TooManyRequests,
            ErrorCode::IdempotencyKeyInUse,
            ErrorCode::SlotFull,
        ] {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
