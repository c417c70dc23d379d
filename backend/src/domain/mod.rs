//! Pure market rules, no I/O: slot capacity and the priority reserve, checkout validation and
//! its refusals, times at the edges in Asia/Shanghai.

pub mod accounts;
pub mod checkout;
pub mod delivery;
pub mod donations;
pub mod group_buy;
pub mod notices;
pub mod order;
pub mod payment;
pub mod prices;
pub mod slots;
pub mod stall;
pub mod time;

/// A refusal decided by a rule: the error code it answers with (and so its HTTP status) and
/// words a resident understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: shared::ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: shared::ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// 400 naming the field: `field: why`.
    pub fn field(field: &str, why: &str) -> Self {
        Self::new(shared::ErrorCode::InvalidField, format!("{field}: {why}"))
    }
}
